import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type ApiHarness } from '../support/api.js';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api.close();
});

const schema = { '1': { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } };
const names = (res: { body: { data: { name: string }[] } }) => res.body.data.map((e) => e.name);

describe('event types', () => {
  it('creates an event type with a JSON schema and answers in Svix EventTypeOut shape', async () => {
    const res = await api.call('POST', '/api/v1/event-type', {
      body: { name: 'order.paid', description: 'An order was paid', schemas: schema, groupName: 'order', featureFlags: ['beta'] },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'order.paid',
      description: 'An order was paid',
      archived: false,
      deprecated: false,
      schemas: schema,
      groupName: 'order',
      featureFlags: ['beta'],
    });
    expect((await api.call('GET', '/api/v1/event-type/order.paid')).body.schemas).toEqual(schema);
  });

  it('refuses a duplicate name with 409', async () => {
    await api.call('POST', '/api/v1/event-type', { body: { name: 'dup.type', description: '' } });
    const again = await api.call('POST', '/api/v1/event-type', { body: { name: 'dup.type', description: 'x' } });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('conflict');
  });

  it('lists by name, without schemas unless with_content, and hides archived types unless asked', async () => {
    const fresh = await startApi();
    try {
      for (const name of ['b.two', 'a.one', 'c.three']) {
        await fresh.call('POST', '/api/v1/event-type', { body: { name, description: name, schemas: schema } });
      }
      const list = await fresh.call('GET', '/api/v1/event-type');
      expect(names(list)).toEqual(['a.one', 'b.two', 'c.three']);
      expect(list.body.data[0].schemas).toBeNull();
      const full = await fresh.call('GET', '/api/v1/event-type?with_content=true');
      expect(full.body.data[0].schemas).toEqual(schema);
      const page = await fresh.call('GET', '/api/v1/event-type?limit=2');
      expect(page.body).toMatchObject({ done: false, iterator: 'b.two' });
      expect(names(await fresh.call('GET', '/api/v1/event-type?limit=2&iterator=b.two'))).toEqual(['c.three']);

      expect((await fresh.call('DELETE', '/api/v1/event-type/b.two')).status).toBe(204);
      expect(names(await fresh.call('GET', '/api/v1/event-type'))).toEqual(['a.one', 'c.three']);
      const withArchived = await fresh.call('GET', '/api/v1/event-type?include_archived=true');
      expect(names(withArchived)).toEqual(['a.one', 'b.two', 'c.three']);
      expect(withArchived.body.data[1].archived).toBe(true);
      // An archived type can still be read, and creating it again brings it back.
      expect((await fresh.call('GET', '/api/v1/event-type/b.two')).body.archived).toBe(true);
      const back = await fresh.call('POST', '/api/v1/event-type', { body: { name: 'b.two', description: 'back' } });
      expect(back.status).toBe(201);
      expect(back.body).toMatchObject({ archived: false, description: 'back' });
    } finally {
      await fresh.close();
    }
  });

  it('expunge=true deletes for good', async () => {
    await api.call('POST', '/api/v1/event-type', { body: { name: 'gone.for.good', description: '' } });
    expect((await api.call('DELETE', '/api/v1/event-type/gone.for.good?expunge=true')).status).toBe(204);
    expect((await api.call('GET', '/api/v1/event-type/gone.for.good')).status).toBe(404);
    expect((await api.call('DELETE', '/api/v1/event-type/gone.for.good')).status).toBe(404);
  });

  it('PUT replaces or creates; PATCH changes only what is given', async () => {
    const created = await api.call('PUT', '/api/v1/event-type/put.type', { body: { description: 'made by put', schemas: schema } });
    expect(created.status).toBe(201);
    const replaced = await api.call('PUT', '/api/v1/event-type/put.type', { body: { description: 'replaced' } });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ description: 'replaced', schemas: null });
    const patched = await api.call('PATCH', '/api/v1/event-type/put.type', { body: { deprecated: true } });
    expect(patched.body).toMatchObject({ description: 'replaced', deprecated: true });
    expect((await api.call('PATCH', '/api/v1/event-type/no.such', { body: { deprecated: true } })).status).toBe(404);
  });

  it('refuses names outside the documented pattern: spaces, unicode, slashes, too long', async () => {
    for (const name of ['has space', 'ünïcödé', 'a/b', 'x'.repeat(257), '', 'order.*']) {
      const res = await api.call('POST', '/api/v1/event-type', { body: { name, description: '' } });
      expect({ name, status: res.status }).toEqual({ name, status: 422 });
      expect(res.body.detail[0].loc).toEqual(['body', 'name']);
    }
    // Dots, dashes and underscores are fine.
    expect((await api.call('POST', '/api/v1/event-type', { body: { name: 'a-b_c.d.e', description: '' } })).status).toBe(201);
    // In a path too.
    expect((await api.call('GET', '/api/v1/event-type/has%20space')).status).toBe(422);
  });

  it('bounds and sanitises schemas', async () => {
    const big = { '1': { description: 'x'.repeat(70_000) } };
    expect((await api.call('POST', '/api/v1/event-type', { body: { name: 'big.schema', description: '', schemas: big } })).status).toBe(422);
    const nul = await api.call('POST', '/api/v1/event-type', { body: { name: 'nul.schema', description: '', schemas: { '1': { title: 'a\u0000b' } } } });
    expect(nul.status).toBe(422);
    expect((await api.call('POST', '/api/v1/event-type', { body: { name: 'arr.schema', description: '', schemas: [1, 2] } })).status).toBe(422);
  });
});
