/**
 * `POST /api/v1/event-type/import/openapi` through HTTP against a real PostgreSQL, and through the
 * official `svix` client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Svix } from 'svix';
import { startApi, type ApiHarness } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api.close();
});

const doc = (webhooks: Record<string, unknown>) => ({
  openapi: '3.1.0',
  info: { title: 'Shop', version: '1.0.0' },
  webhooks,
  components: { schemas: { Order: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } } },
});
const hook = (description: string, extra: Record<string, unknown> = {}) => ({
  post: { description, requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Order' } } } }, ...extra },
});
const importDoc = (body: Record<string, unknown>, token?: string) => api.call('POST', '/api/v1/event-type/import/openapi', { body, token });
const eventType = async (name: string) => (await api.call('GET', `/api/v1/event-type/${name}`)).body;

describe('event type import from OpenAPI', () => {
  it('creates, updates and (with replaceAll) archives event types; a dry run changes nothing', async () => {
    await api.call('POST', '/api/v1/event-type', { body: { name: 'order.legacy', description: 'Old' } });
    await api.call('POST', '/api/v1/event-type', {
      body: { name: 'order.paid', description: 'Before', envelope: { data: '{{payload}}' } },
    });

    const dry = await importDoc({ spec: doc({ 'order.paid': hook('Paid'), 'order.shipped': hook('Shipped', { deprecated: true }) }), dryRun: true, replaceAll: true });
    expect(dry.status).toBe(200);
    expect(dry.body.data.modified).toEqual(['order.paid', 'order.shipped', 'order.legacy']);
    expect(dry.body.data.to_modify.map((t: any) => t.name)).toEqual(['order.paid', 'order.shipped']);
    expect(dry.body.data.to_modify[1]).toMatchObject({ description: 'Shipped', deprecated: true, schemas: { '1': { type: 'object', required: ['id'] } } });
    expect((await eventType('order.paid')).description).toBe('Before');
    expect((await api.call('GET', '/api/v1/event-type/order.shipped')).status).toBe(404);

    const res = await importDoc({ spec: doc({ 'order.paid': hook('Paid'), 'order.shipped': hook('Shipped', { deprecated: true }) }), replaceAll: true });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { modified: ['order.paid', 'order.shipped', 'order.legacy'], to_modify: null } });
    const paid = await eventType('order.paid');
    expect(paid).toMatchObject({ description: 'Paid', archived: false, schemas: { '1': { type: 'object', properties: { id: { type: 'string' } } } } });
    // What the document says nothing about stays.
    expect(paid.envelope).toEqual({ data: '{{payload}}' });
    expect(await eventType('order.shipped')).toMatchObject({ description: 'Shipped', deprecated: true });
    expect((await eventType('order.legacy')).archived).toBe(true);

    // Nothing differs now: nothing is modified. An archived type named by the document comes back.
    const again = await importDoc({ specRaw: JSON.stringify(doc({ 'order.paid': hook('Paid'), 'order.legacy': hook('Back') })) });
    expect(again.body.data.modified).toEqual(['order.legacy']);
    expect(await eventType('order.legacy')).toMatchObject({ archived: false, description: 'Back' });
  });

  it('reads a YAML document', async () => {
    const yaml = [
      'openapi: 3.1.0',
      'info: { title: Shop, version: "1" }',
      'webhooks:',
      '  yaml.event:',
      '    post:',
      '      description: From YAML',
      '      requestBody:',
      '        content:',
      '          application/json:',
      '            schema: { type: object, properties: { id: { type: string } } }',
      '      responses: { "200": { description: ok } }',
    ].join('\n');
    const res = await importDoc({ specRaw: yaml });
    expect(res.status).toBe(200);
    expect(res.body.data.modified).toEqual(['yaml.event']);
    expect(await eventType('yaml.event')).toMatchObject({ description: 'From YAML', schemas: { '1': { type: 'object', properties: { id: { type: 'string' } } } } });
  });

  it('refuses neither or both documents, YAML text, bad webhooks, and callers without global create and update', async () => {
    expect((await importDoc({})).body.detail[0].loc).toEqual(['body', 'spec']);
    expect((await importDoc({ spec: doc({}), specRaw: '{}' })).status).toBe(422);
    const garbled = await importDoc({ specRaw: 'openapi: [3.1.0\nwebhooks: {' });
    expect(garbled.status).toBe(422);
    expect(garbled.body.detail[0]).toMatchObject({ loc: ['body', 'specRaw'] });
    expect(garbled.body.detail[0].msg).toMatch(/neither JSON nor YAML/);
    const bad = await importDoc({ spec: doc({ 'has space': hook('x') }) });
    expect(bad.status).toBe(422);
    expect(bad.body.detail[0].msg).toMatch(/has space/);
    expect((await importDoc({ spec: { openapi: '3.1.0', paths: {} } })).body.detail[0].msg).toMatch(/no webhooks/);
    const reader = await api.makeKey(['read', 'create']);
    expect((await importDoc({ spec: doc({ 'a.b': hook('x') }) }, reader)).status).toBe(403);
    const app = await api.makeApp();
    const scoped = await api.makeKey(['read', 'create', 'update'], app.id);
    expect((await importDoc({ spec: doc({ 'a.b': hook('x') }) }, scoped)).status).toBe(403);
    expect((await api.call('GET', '/api/v1/event-type/a.b')).status).toBe(404);
  });
});

describe('through the official svix client', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('imports event types with eventType.importOpenapi', async () => {
    const svix = new Svix(server.adminToken, { serverUrl: server.url });
    const out = await svix.eventType.importOpenapi({ spec: doc({ 'invoice.paid': hook('An invoice was paid') }) });
    expect(out.data.modified).toEqual(['invoice.paid']);
    expect((await svix.eventType.get('invoice.paid')).description).toBe('An invoice was paid');
  });
});
