import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { publish, publishMany } from '../../src/engine/publish.js';
import { rotateEndpointSecret } from '../../src/engine/endpoints.js';
import { matchesChannels, matchesEventType } from '../../src/core/filters.js';
import { CHANNEL_MATCH_SQL, FILTER_MATCH_SQL } from '../../src/store/messages.js';
import type { Receiver } from '../support/receiver.js';
import { useHeraldWithReceiver, type TestHerald } from '../support/herald.js';

const fx = useHeraldWithReceiver();
let t: TestHerald;
let rx: Receiver;
beforeAll(() => {
  ({ t, rx } = fx);
});
afterEach(() => {
  rx.requests.length = 0;
  rx.respondWith({ status: 200 });
});

describe('fan-out and signing', () => {
  it('delivers to every enabled endpoint whose filter matches, signed per Standard Webhooks', async () => {
    const app = await t.makeApp();
    const all = await t.makeEndpoint(app.id, { url: `${rx.url}/all`, headers: { 'x-tenant': 'acme' } });
    const orders = await t.makeEndpoint(app.id, { url: `${rx.url}/orders`, filterTypes: ['order.*'] });
    await t.makeEndpoint(app.id, { url: `${rx.url}/users`, filterTypes: ['user.created'] });
    await t.makeEndpoint(app.id, { url: `${rx.url}/paused`, disabled: true });

    const msg = await publish(t.herald.pool, app.id, { eventType: 'order.paid', payload: { orderId: 'o_1', total: 4900 } }, { now: t.clock.now() });
    expect(msg.deliveries).toBe(3); // /all, /orders, and one held for the paused endpoint

    const worker = t.herald.createWorker();
    expect(await worker.drain()).toBe(2);
    expect(rx.requests.map((r) => r.path).sort()).toEqual(['/all', '/orders']);

    for (const r of rx.requests) {
      expect(r.headers['webhook-id']).toBe(msg.id);
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['user-agent']).toMatch(/^Herald-Webhooks\/\d+\.\d+\.\d+/);
      expect(r.body.toString()).toBe('{"orderId":"o_1","total":4900}');
      const secret = r.path === '/all' ? all.secret : orders.secret;
      // The official Standard Webhooks library is the judge of our signatures.
      const wh = new Webhook(secret);
      expect(wh.verify(r.body.toString(), r.headers as Record<string, string>)).toEqual({ orderId: 'o_1', total: 4900 });
      expect(() => new Webhook(all.secret === secret ? orders.secret : all.secret).verify(r.body.toString(), r.headers as Record<string, string>)).toThrow();
    }
    expect(rx.requests.find((r) => r.path === '/all')!.headers['x-tenant']).toBe('acme');
  });

  it('stores the payload as the exact bytes sent and batches a publish of many messages', async () => {
    const app = await t.makeApp();
    await t.makeEndpoint(app.id, { url: `${rx.url}/batch` });
    const msgs = await publishMany(
      t.herald.pool,
      app.id,
      Array.from({ length: 50 }, (_, i) => ({ eventType: 'order.paid', payload: { i, text: 'naïve ☃' } })),
      { now: t.clock.now() },
    );
    expect(msgs.every((m) => m.deliveries === 1)).toBe(true);
    await t.herald.createWorker().drain();
    expect(rx.requests).toHaveLength(50);
    const bodies = new Set(rx.requests.map((r) => r.body.toString('utf8')));
    expect(bodies.has('{"i":7,"text":"naïve ☃"}')).toBe(true);
  });

  it('signs with both secrets during a rotation grace period, and only the new one with grace 0', async () => {
    const app = await t.makeApp();
    const ep = await t.makeEndpoint(app.id, { url: `${rx.url}/rotate` });
    const newSecret = await rotateEndpointSecret(t.herald.pool, t.herald.secretBox, app.id, ep.id, { now: t.clock.now() });
    await publish(t.herald.pool, app.id, { eventType: 'a.b', payload: { n: 1 } }, { now: t.clock.now() });
    const worker = t.herald.createWorker();
    await worker.drain();
    const first = rx.requests.at(-1)!;
    expect(String(first.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const s of [ep.secret, newSecret]) new Webhook(s).verify(first.body.toString(), first.headers as Record<string, string>);

    const newest = await rotateEndpointSecret(t.herald.pool, t.herald.secretBox, app.id, ep.id, { now: t.clock.now(), graceMs: 0 });
    await publish(t.herald.pool, app.id, { eventType: 'a.b', payload: { n: 2 } }, { now: t.clock.now() });
    await worker.drain();
    const second = rx.requests.at(-1)!;
    expect(String(second.headers['webhook-signature']).split(' ')).toHaveLength(1);
    new Webhook(newest).verify(second.body.toString(), second.headers as Record<string, string>);
    expect(() => new Webhook(newSecret).verify(second.body.toString(), second.headers as Record<string, string>)).toThrow();
  });

  it('keeps no secret in clear in the database', async () => {
    const app = await t.makeApp();
    const ep = await t.makeEndpoint(app.id, { url: `${rx.url}/x` });
    const { rows } = await t.herald.pool.query(`select row_to_json(s)::text as row from endpoint_secret s where endpoint_id = $1`, [ep.id]);
    const base64Part = ep.secret.slice('whsec_'.length);
    expect(rows).toHaveLength(1);
    expect(rows[0].row).not.toContain(base64Part);
    expect(rows[0].row).not.toContain(Buffer.from(base64Part, 'base64').toString('hex'));
  });

  it('routes by channel: an endpoint with channels gets only messages sharing one, one without gets all', async () => {
    const app = await t.makeApp('channels');
    await t.makeEndpoint(app.id, { url: `${rx.url}/eu`, channels: ['eu'] });
    await t.makeEndpoint(app.id, { url: `${rx.url}/eu-us`, channels: ['eu', 'us'] });
    await t.makeEndpoint(app.id, { url: `${rx.url}/any` });
    const send = async (channels: string[] | undefined) => {
      rx.requests.length = 0;
      const msg = await publish(t.herald.pool, app.id, { eventType: 'order.paid', payload: { channels }, channels }, { now: t.clock.now() });
      await t.herald.createWorker().drain();
      return { deliveries: msg.deliveries, paths: rx.requests.map((r) => r.path).sort() };
    };
    expect(await send(['us'])).toEqual({ deliveries: 2, paths: ['/any', '/eu-us'] });
    expect(await send(['eu'])).toEqual({ deliveries: 3, paths: ['/any', '/eu', '/eu-us'] });
    expect(await send(['apac'])).toEqual({ deliveries: 1, paths: ['/any'] });
    expect(await send(undefined)).toEqual({ deliveries: 1, paths: ['/any'] });
    // publishMany follows the same rule
    const many = await publishMany(t.herald.pool, app.id, [{ eventType: 'order.paid', payload: {}, channels: ['us'] }, { eventType: 'order.paid', payload: {} }], { now: t.clock.now() });
    expect(many.map((m) => ('deliveries' in m ? m.deliveries : null))).toEqual([2, 1]);
  });

  it('matches channels in SQL exactly as the pure rule does', async () => {
    const sets = [null, [], ['eu'], ['eu', 'us'], ['apac']];
    for (const e of sets) {
      for (const m of sets) {
        const { rows } = await t.herald.pool.query<{ m: boolean }>(
          `select ${CHANNEL_MATCH_SQL('e', '$2::text[]')} as m from (select $1::text[] as channels) e`,
          [e, m],
        );
        expect([e, m, rows[0]!.m]).toEqual([e, m, matchesChannels(e, m)]);
      }
    }
  });

  it('matches filters in SQL exactly as the pure filter does', async () => {
    const filters = [null, [], ['*'], ['order.*'], ['order.paid'], ['order_x.*'], ['a.b.*', 'c'], ['order.']];
    const types = ['order.paid', 'order', 'orders.x', 'order.item.added', 'order_x.y', 'orderxx.y', 'a.b.c', 'c', 'a.b'];
    for (const f of filters) {
      for (const type of types) {
        const { rows } = await t.herald.pool.query<{ m: boolean }>(
          `select ${FILTER_MATCH_SQL('e', '$2::text')} as m from (select $1::text[] as filter_types) e`,
          [f, type],
        );
        expect([f, type, rows[0]!.m]).toEqual([f, type, matchesEventType(f, type)]);
      }
    }
  });
});
