/**
 * Herald inside a platform's own process. The platform's `pg` must parse as it did before Herald was
 * imported and opened: Herald sets its int8 parser on its own connections only, never globally, so a
 * platform's bigint ids keep arriving as exact strings. And Herald's library calls must work the same on
 * the platform's connections, where int8 comes back as a string, as on Herald's own pool.
 */
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Receiver } from '../support/receiver.js';
import { useHeraldWithReceiver, type TestHerald } from '../support/herald.js';

const BIG = '9007199254740993'; // 2^53 + 1: a JavaScript number cannot hold it

const fx = useHeraldWithReceiver();
let t: TestHerald;
let rx: Receiver;
/** The platform's own pool, configured the way an application configures pg: not at all. */
let platform: pg.Pool;
beforeAll(() => {
  ({ t, rx } = fx);
  platform = new pg.Pool({ connectionString: t.db.url, max: 2 });
  platform.on('error', () => undefined); // a connection still closing when the fixture forces the database's drop
});
afterAll(async () => {
  await platform?.end();
});

describe("the caller's pg", () => {
  it('still parses int8 as an exact string after Herald is imported and opened', async () => {
    const herald = await import('../../src/index.js');
    expect(typeof herald.publish).toBe('function');
    const { rows } = await platform.query(`select $1::int8 as big, count(*) as n from (values (1), (2)) v(x)`, [BIG]);
    expect(rows[0]).toEqual({ big: BIG, n: '2' });
    // A client made without any pool sees pg's defaults too.
    const client = new pg.Client({ connectionString: t.db.url });
    await client.connect();
    try {
      expect((await client.query(`select $1::int8 as big`, [BIG])).rows[0].big).toBe(BIG);
    } finally {
      await client.end();
    }
  });

  it("reads int8 as a number on Herald's own connections", async () => {
    const { rows } = await t.herald.pool.query(`select 42::int8 as n`);
    expect(rows[0].n).toBe(42);
  });
});

describe("Herald's library on the caller's connections", () => {
  it("creates an endpoint, rotates and reveals its secret, and publishes inside the caller's transaction; the worker delivers it", async () => {
    const { createApplication, createEndpoint, publish, publishEach, revealEndpointSecret, rotateEndpointSecret } = await import('../../src/index.js');
    const now = t.clock.now();
    const app = await createApplication(platform, { name: 'Platform' }, now);
    const { endpoint, secret: first } = await createEndpoint(platform, t.herald.secretBox, app.id, { url: `${rx.url}/orders` }, {
      now,
      policy: t.herald.urlPolicy,
    });
    const secret = await rotateEndpointSecret(platform, t.herald.secretBox, app.id, endpoint.id, { now, graceMs: 0 });
    expect(secret).not.toBe(first);
    expect(await revealEndpointSecret(platform, t.herald.secretBox, app.id, endpoint.id, now)).toBe(secret);

    const client = await platform.connect();
    let published: Awaited<ReturnType<typeof publish>>;
    try {
      await client.query('begin');
      await client.query('create temporary table orders (id bigint primary key, paid boolean) on commit drop');
      const order = await client.query(`insert into orders values ($1, true) returning id`, [BIG]);
      const orderId: unknown = order.rows[0].id;
      expect(orderId).toBe(BIG);
      published = await publish(client, app.id, { eventType: 'order.paid', payload: { orderId }, eventId: `order-${BIG}-paid` }, { now });
      expect(published).toMatchObject({ deliveries: 1, duplicate: false });
      const again = await publish(client, app.id, { eventType: 'order.paid', payload: { orderId }, eventId: `order-${BIG}-paid` }, { now });
      expect(again).toMatchObject({ id: published.id, deliveries: 0, duplicate: true });
      const batch = await publishEach(client, app.id, [
        { eventType: 'order.shipped', payload: { orderId } },
        { eventType: 'order.paid', payload: { orderId }, eventId: `order-${BIG}-paid` },
      ], { now });
      expect(batch.map((o) => (o.ok ? [o.message.deliveries, o.message.duplicate] : o.error.code))).toEqual([[1, false], [0, true]]);
      await client.query('commit');
    } finally {
      client.release();
    }

    expect(await t.herald.createWorker().drain()).toBe(2);
    const paid = rx.requests.find((r) => r.headers['webhook-id'] === published.id);
    expect(paid, 'the message published in the caller transaction was delivered').toBeDefined();
    expect(paid!.body.toString()).toBe(`{"orderId":"${BIG}"}`);
    new Webhook(secret).verify(paid!.body.toString(), paid!.headers as Record<string, string>);
  });
});
