/**
 * End to end with the official `svix` npm client, unchanged, pointed at a running Herald (real HTTP,
 * worker on): applications, event types, endpoints, a message delivered to a local receiver and
 * verified with svix's Webhook class and with standardwebhooks, and secret rotation.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Svix, Webhook as SvixWebhook } from 'svix';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { startTestServer, type TestServer } from '../support/server.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

let server: TestServer;
let svix: Svix;
let rx: Receiver;
beforeAll(async () => {
  server = await startTestServer();
  svix = new Svix(server.adminToken, { serverUrl: server.url });
});
afterAll(async () => {
  await server.close();
});
afterEach(async () => {
  await rx?.close();
});

/** The headers of a received request as the verifiers want them. */
const headersOf = (h: Record<string, string | string[] | undefined>) =>
  Object.fromEntries(Object.entries(h).filter(([, v]) => typeof v === 'string')) as Record<string, string>;

describe('the official svix client against Herald', () => {
  it('manages applications, event types and endpoints', async () => {
    const app = await svix.application.create({ name: 'Svix client app', uid: 'svix-crud', metadata: { plan: 'pro' } });
    expect(app.id).toMatch(/^app_/);
    expect(app.createdAt).toBeInstanceOf(Date);
    expect((await svix.application.get('svix-crud')).id).toBe(app.id);
    expect((await svix.application.getOrCreate({ name: 'ignored', uid: 'svix-crud' })).id).toBe(app.id);
    expect((await svix.application.update(app.id, { name: 'Renamed', uid: 'svix-crud' })).name).toBe('Renamed');
    expect((await svix.application.patch('svix-crud', { metadata: { plan: 'free' } })).metadata).toEqual({ plan: 'free' });
    const apps = await svix.application.list({ limit: 250 });
    expect(apps.data.some((a) => a.id === app.id)).toBe(true);

    await svix.eventType.create({ name: 'crud.happened', description: 'Something', schemas: { '1': { type: 'object' } } });
    expect((await svix.eventType.get('crud.happened')).schemas).toEqual({ '1': { type: 'object' } });
    expect((await svix.eventType.update('crud.happened', { description: 'Changed' })).description).toBe('Changed');
    expect((await svix.eventType.patch('crud.happened', { deprecated: true })).deprecated).toBe(true);
    expect((await svix.eventType.list({ withContent: true })).data.map((e) => e.name)).toContain('crud.happened');

    const ep = await svix.endpoint.create('svix-crud', {
      url: 'https://hooks.example.com/crud',
      filterTypes: ['crud.happened'],
      uid: 'crud-ep',
      headers: { 'X-Custom': '1' },
      rateLimit: 10,
    });
    expect(ep).toMatchObject({ uid: 'crud-ep', filterTypes: ['crud.happened'], rateLimit: 10, version: 1 });
    expect((await svix.endpoint.get('svix-crud', 'crud-ep')).id).toBe(ep.id);
    expect((await svix.endpoint.list('svix-crud')).data.map((e) => e.id)).toEqual([ep.id]);
    expect((await svix.endpoint.update('svix-crud', ep.id, { url: 'https://hooks.example.com/v2', uid: 'crud-ep' })).url).toBe(
      'https://hooks.example.com/v2',
    );
    expect((await svix.endpoint.patch('svix-crud', 'crud-ep', { disabled: true })).disabled).toBe(true);
    expect(await svix.endpoint.getHeaders('svix-crud', ep.id)).toEqual({ headers: { 'x-custom': '1' }, sensitive: [] });
    await svix.endpoint.updateHeaders('svix-crud', ep.id, { headers: { 'X-Other': '2' } });
    await svix.endpoint.patchHeaders('svix-crud', ep.id, { headers: { 'X-Third': '3' } });
    expect((await svix.endpoint.getHeaders('svix-crud', ep.id)).headers).toEqual({ 'x-other': '2', 'x-third': '3' });

    const portal = await svix.authentication.appPortalAccess('svix-crud', { readOnly: true });
    expect(portal.url).toContain('#token=');
    const asPortal = new Svix(portal.token, { serverUrl: server.url });
    expect((await asPortal.endpoint.list('svix-crud')).data).toHaveLength(1);
    await expect(asPortal.endpoint.delete('svix-crud', ep.id)).rejects.toMatchObject({ code: 403 });

    await svix.endpoint.delete('svix-crud', ep.id);
    await svix.eventType.delete('crud.happened');
    await svix.application.delete(app.id);
    await expect(svix.application.get(app.id)).rejects.toMatchObject({ code: 404 });
  });

  it('delivers a message that both verifiers accept, and signs with both secrets after a rotation', async () => {
    rx = await startReceiver();
    const app = await svix.application.create({ name: 'Delivery', uid: 'svix-delivery' });
    await svix.eventType.create({ name: 'invoice.paid', description: 'An invoice was paid' });
    const ep = await svix.endpoint.create(app.id, { url: `${rx.url}/webhook`, filterTypes: ['invoice.paid'] });
    const { key: oldSecret } = await svix.endpoint.getSecret(app.id, ep.id);
    expect(oldSecret).toMatch(/^whsec_/);

    const msg = await svix.message.create('svix-delivery', { eventType: 'invoice.paid', payload: { invoice: 'inv_1', amount: 4200 } });
    const [first] = await rx.waitFor(1, 10_000);
    const body = first!.body.toString('utf8');
    const headers = headersOf(first!.headers);
    expect(headers['webhook-id']).toBe(msg.id);
    expect(JSON.parse(body)).toEqual({ invoice: 'inv_1', amount: 4200 });
    expect(new SvixWebhook(oldSecret).verify(body, headers)).toEqual({ invoice: 'inv_1', amount: 4200 });
    expect(new StandardWebhook(oldSecret).verify(body, headers)).toEqual({ invoice: 'inv_1', amount: 4200 });
    expect(() => new SvixWebhook(`whsec_${Buffer.alloc(24, 1).toString('base64')}`).verify(body, headers)).toThrow();

    await svix.endpoint.rotateSecret(app.id, ep.id);
    const { key: newSecret } = await svix.endpoint.getSecret(app.id, ep.id);
    expect(newSecret).not.toBe(oldSecret);
    await svix.message.create(app.id, { eventType: 'invoice.paid', payload: { invoice: 'inv_2' } });
    const second = (await rx.waitFor(2, 10_000))[1]!;
    const body2 = second.body.toString('utf8');
    const headers2 = headersOf(second.headers);
    expect(headers2['webhook-signature']!.split(' ')).toHaveLength(2);
    for (const secret of [oldSecret, newSecret]) {
      expect(new SvixWebhook(secret).verify(body2, headers2)).toEqual({ invoice: 'inv_2' });
      expect(new StandardWebhook(secret).verify(body2, headers2)).toEqual({ invoice: 'inv_2' });
    }

    // Rotating with a grace of 0 drops the old secret at once.
    await svix.endpoint.rotateSecret(app.id, ep.id, { gracePeriodSeconds: 0 });
    const { key: third } = await svix.endpoint.getSecret(app.id, ep.id);
    await svix.message.create(app.id, { eventType: 'invoice.paid', payload: { invoice: 'inv_3' } });
    const last = (await rx.waitFor(3, 10_000))[2]!;
    const headers3 = headersOf(last.headers);
    expect(headers3['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(() => new StandardWebhook(newSecret).verify(last.body.toString('utf8'), headers3)).toThrow();
    expect(new StandardWebhook(third).verify(last.body.toString('utf8'), headers3)).toEqual({ invoice: 'inv_3' });
  });

  it('surfaces Herald errors as svix ApiExceptions with Svix status codes', async () => {
    await expect(svix.application.create({ name: '' })).rejects.toMatchObject({ code: 422 });
    await expect(new Svix('hk_000000000000_' + 'A'.repeat(43), { serverUrl: server.url }).application.list()).rejects.toMatchObject({ code: 401 });
    await svix.application.create({ name: 'dup', uid: 'svix-dup' });
    await expect(svix.application.create({ name: 'dup', uid: 'svix-dup' })).rejects.toMatchObject({ code: 409 });
    await expect(svix.health.get()).resolves.toBeUndefined();
  });
});
