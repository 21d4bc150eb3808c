import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, publishEach, publishMany } from '../../src/engine/publish.js';
import { HeraldError } from '../../src/core/errors.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

let t: TestHerald;
beforeAll(async () => {
  t = await startTestHerald({ HERALD_MAX_PAYLOAD_BYTES: '1KiB' });
});
afterAll(async () => {
  await t.close();
});

const count = async (table: string, appId: string) =>
  Number((await t.herald.pool.query(`select count(*) from ${table} where app_id = $1`, [appId])).rows[0].count);

describe('transactional outbox', () => {
  it('stores nothing when the caller rolls back, and everything when it commits', async () => {
    const app = await t.makeApp();
    await t.makeEndpoint(app.id, { url: 'http://127.0.0.1:9/x' });
    const client = await t.herald.pool.connect();
    try {
      await client.query('begin');
      await client.query('create temporary table orders (id int) on commit drop');
      await publish(client, app.id, { eventType: 'order.paid', payload: { id: 1 } });
      await client.query('rollback');
      expect(await count('message', app.id)).toBe(0);
      expect(await count('delivery', app.id)).toBe(0);

      await client.query('begin');
      const msg = await publish(client, app.id, { eventType: 'order.paid', payload: { id: 2 } });
      // Not visible to anyone else until the caller commits.
      expect(await count('message', app.id)).toBe(0);
      await client.query('commit');
      expect(await count('message', app.id)).toBe(1);
      expect(await count('delivery', app.id)).toBe(1);
      expect(msg.deliveries).toBe(1);
    } finally {
      client.release();
    }
  });

  it('uses the caller\'s application uid as well as its id', async () => {
    const { createApplication } = await import('../../src/engine/applications.js');
    const app = await createApplication(t.herald.pool, { name: 'By uid', uid: 'customer-42' }, t.clock.now());
    const msg = await publish(t.herald.pool, 'customer-42', { eventType: 'x.y', payload: {} });
    expect(await count('message', app.id)).toBe(1);
    expect(msg.id).toMatch(/^msg_/);
  });
});

describe('idempotency', () => {
  it('returns the first message for a repeated eventId and creates nothing', async () => {
    const app = await t.makeApp();
    await t.makeEndpoint(app.id, { url: 'http://127.0.0.1:9/x' });
    const first = await publish(t.herald.pool, app.id, { eventType: 'order.paid', payload: { a: 1 }, eventId: 'evt_1' });
    const again = await publish(t.herald.pool, app.id, { eventType: 'order.paid', payload: { a: 1 }, eventId: 'evt_1' });
    expect(again).toMatchObject({ id: first.id, duplicate: true, deliveries: 0 });
    expect(await count('message', app.id)).toBe(1);
    expect(await count('delivery', app.id)).toBe(1);

    const batch = await publishMany(t.herald.pool, app.id, [
      { eventType: 'order.paid', payload: { b: 1 }, eventId: 'evt_2' },
      { eventType: 'order.paid', payload: { b: 1 }, eventId: 'evt_2' },
    ]);
    expect(batch[1]!.id).toBe(batch[0]!.id);
    expect(await count('message', app.id)).toBe(2);
  });

  it('refuses the same eventId with a different payload or type, with a clear conflict', async () => {
    const app = await t.makeApp();
    await publish(t.herald.pool, app.id, { eventType: 'order.paid', payload: { a: 1 }, eventId: 'evt_x' });
    const err = await publish(t.herald.pool, app.id, { eventType: 'order.paid', payload: { a: 2 }, eventId: 'evt_x' }).catch((e) => e);
    expect(err).toBeInstanceOf(HeraldError);
    expect(err.code).toBe('conflict');
    expect(err.detail).toMatch(/evt_x.*different payload/);
    const err2 = await publish(t.herald.pool, app.id, { eventType: 'order.refunded', payload: { a: 1 }, eventId: 'evt_x' }).catch((e) => e);
    expect(err2.detail).toMatch(/different event type/);
    expect(await count('message', app.id)).toBe(1);
  });

  it('scopes eventIds to their application', async () => {
    const a = await t.makeApp();
    const b = await t.makeApp();
    const ma = await publish(t.herald.pool, a.id, { eventType: 'x', payload: {}, eventId: 'shared' });
    const mb = await publish(t.herald.pool, b.id, { eventType: 'x', payload: {}, eventId: 'shared' });
    expect(mb.id).not.toBe(ma.id);
    expect(mb.duplicate).toBe(false);
  });
});

describe('payload validation writes nothing', () => {
  it.each([
    ['an array', [1, 2]],
    ['null', null],
    ['a string', 'hello'],
    ['a number', 42],
  ])('rejects %s as payload', async (_label, payload) => {
    const app = await t.makeApp();
    const err = await publish(t.herald.pool, app.id, { eventType: 'x', payload }).catch((e) => e);
    expect(err).toMatchObject({ code: 'validation' });
    expect(err.fields[0].path).toBe('payload');
    expect(await count('message', app.id)).toBe(0);
  });

  it('rejects a payload over the configured limit with its size and the limit', async () => {
    const app = await t.makeApp();
    const err = await publish(t.herald.pool, app.id, { eventType: 'x', payload: { big: 'x'.repeat(2000) } }, { maxPayloadBytes: 1024 }).catch((e) => e);
    expect(err).toMatchObject({ code: 'payload_too_large' });
    expect(err.detail).toMatch(/2\d{3} bytes; the limit is 1024/);
    expect(await count('message', app.id)).toBe(0);
  });

  it('rejects a bad event type or eventId, and a whole batch when one message is bad', async () => {
    const app = await t.makeApp();
    await expect(publish(t.herald.pool, app.id, { eventType: 'order paid', payload: {} })).rejects.toMatchObject({ code: 'validation' });
    await expect(publish(t.herald.pool, app.id, { eventType: 'x', payload: {}, eventId: 'has space' })).rejects.toMatchObject({ code: 'validation' });
    await expect(
      publishMany(t.herald.pool, app.id, [
        { eventType: 'ok', payload: {} },
        { eventType: 'ok', payload: [] },
      ]),
    ).rejects.toMatchObject({ code: 'validation', fields: [{ path: '[1].payload' }] });
    expect(await count('message', app.id)).toBe(0);
  });

  it('publishEach stores the good messages of a batch and refuses each bad one on its own', async () => {
    const app = await t.makeApp();
    await publish(t.herald.pool, app.id, { eventType: 'ok', payload: { v: 1 }, eventId: 'dup' });
    const out = await publishEach(t.herald.pool, app.id, [
      { eventType: 'ok', payload: { a: 1 } },
      { eventType: 'ok', payload: [] as unknown as object },
      { eventType: 'ok', payload: { v: 2 }, eventId: 'dup' },
      { eventType: 'ok', payload: { b: 2 } },
    ]);
    expect(out.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual(['ok', 'validation', 'conflict', 'ok']);
    expect(await count('message', app.id)).toBe(3);
  });

  it('reports an unknown application', async () => {
    await expect(publish(t.herald.pool, 'app_nope', { eventType: 'x', payload: {} })).rejects.toMatchObject({ code: 'not_found' });
  });
});
