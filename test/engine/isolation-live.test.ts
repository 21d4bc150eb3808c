/**
 * Endpoint isolation with a running worker: real receivers, real HTTP deadlines, caps set in SQL.
 * Every test asserts counts, order and states, never durations; waits poll with a generous bound.
 *
 * Each test names the part of the old design it would fail on. The old design: one shared undici
 * Agent with 16 connections per origin, claims of the globally oldest N due rows, no in-flight caps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { publishMany, type PublishedMessage } from '../../src/engine/publish.js';
import { startGaugedReceiver, waitUntil, type GaugedReceiver } from '../support/gauged-receiver.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  // Receivers first: closing them ends hanging requests, so stopping the worker does not wait for
  // their deadlines. Then the Herald (its workers, HTTP clients and database).
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function herald(env: Record<string, string>): Promise<TestHerald> {
  const t = await startTestHerald(env);
  cleanups.push(() => t.close());
  return t;
}

async function receiver(...args: Parameters<typeof startGaugedReceiver>): Promise<GaugedReceiver> {
  const rx = await startGaugedReceiver(...args);
  cleanups.push(() => rx.close());
  return rx;
}

/** Sets an endpoint's in-flight cap directly (the API for it is not there yet). */
async function setMaxInFlight(t: TestHerald, endpointId: string, cap: number): Promise<void> {
  await t.herald.pool.query('update endpoint set max_in_flight = $2 where id = $1', [endpointId, cap]);
}

async function publishN(t: TestHerald, appId: string, n: number, tag: string): Promise<PublishedMessage[]> {
  const inputs = Array.from({ length: n }, (_, i) => ({ eventType: 'order.paid', payload: { tag, i } }));
  return publishMany(t.herald.pool, appId, inputs, { now: t.clock.now() });
}

/** In one snapshot: the healthy application's successes and the hanging one's recorded attempts. */
async function isolationSnapshot(t: TestHerald, healthyApp: string, hangingApp: string) {
  const { rows } = await t.herald.pool.query<{ healthySucceeded: number; hangingAttempts: number; hangingSending: number }>(
    `select
       (select count(*) from delivery where app_id = $1 and state = 'succeeded')::int as "healthySucceeded",
       (select count(*) from attempt where app_id = $2)::int as "hangingAttempts",
       (select count(*) from delivery where app_id = $2 and state = 'sending')::int as "hangingSending"`,
    [healthyApp, hangingApp],
  );
  return rows[0]!;
}

describe('endpoint isolation with a running worker', () => {
  it('delivers to a healthy host while another host hangs, and the hanging endpoints stay within their caps', async () => {
    // Old design: the worker's 10 slots all go to A's oldest rows, which hang for the full 3 s
    // deadline; B is not sent until they time out, so A's attempts are recorded before B's successes
    // (and the hanging receiver sees 10 open requests). Now A's lanes hold 8 (2 x cap 4), which is
    // also all A may hold while it is the only active application (an eighth of the slots, 2, is
    // kept for newcomers), so B finds slots free the moment it publishes. It also needs the worker to claim into a few free slots while
    // most are held: a worker that waits for a bigger batch does not send B until A's deadlines pass.
    const t = await herald({ HERALD_REQUEST_TIMEOUT: '3s' });
    const hanging = await receiver({ host: '127.0.0.2', answer: () => 'hang' });
    const healthy = await receiver();
    const a = await t.makeApp('A');
    for (const path of ['/a1', '/a2']) {
      const ep = await t.makeEndpoint(a.id, { url: `${hanging.url}${path}` });
      await setMaxInFlight(t, ep.id, 4);
    }
    const b = await t.makeApp('B');
    await t.makeEndpoint(b.id, { url: `${healthy.url}/b` });

    const worker = t.herald.createWorker({ concurrency: 10 });
    await worker.start();
    await publishN(t, a.id, 40, 'a');
    // Both of A's lanes are full: 8 of the worker's 10 slots are held by requests that will not end.
    await waitUntil(() => hanging.open() >= 8, "A's 8 hanging requests");
    const sent = await publishN(t, b.id, 20, 'b');

    // Until B is done, or until A's first attempt is recorded (then B lost: fail at once).
    const snap = await waitUntil(async () => {
      const s = await isolationSnapshot(t, b.id, a.id);
      return (s.healthySucceeded === 20 || s.hangingAttempts > 0) && s;
    }, "B's 20 successes");
    expect(snap).toEqual({ healthySucceeded: 20, hangingAttempts: 0, hangingSending: 8 });
    expect(hanging.open()).toBe(8); // still hanging: none of A's deadlines has passed
    expect(hanging.peakOpen()).toBeLessThanOrEqual(8);
    expect(hanging.peakOpen('/a1')).toBeLessThanOrEqual(4);
    expect(hanging.peakOpen('/a2')).toBeLessThanOrEqual(4);
    expect(healthy.requests.map((r) => r.webhookId).sort()).toEqual(sent.map((m) => m.id).sort());
  });

  it('delivers to a healthy path while another path of the same host and port hangs', async () => {
    // Old design: A's hanging requests take all 16 shared connections to this origin (caps or not),
    // so B's requests wait in the Agent's queue behind them until A's deadlines pass: A's attempts
    // are recorded first, and B's own deadlines, started at dispatch, run out in that queue too.
    // Concurrency 100: the 16 hanging requests fit with room for a full claim of B's (the nearly
    // full worker is the first test's case; this one is about connections).
    const t = await herald({ HERALD_REQUEST_TIMEOUT: '3s' });
    const rx = await receiver({ answer: (path) => (path.startsWith('/hang') ? 'hang' : { status: 200 }) });
    const a = await t.makeApp('A');
    for (const path of ['/hang-1', '/hang-2']) {
      const ep = await t.makeEndpoint(a.id, { url: `${rx.url}${path}` });
      await setMaxInFlight(t, ep.id, 8);
    }
    const b = await t.makeApp('B');
    await t.makeEndpoint(b.id, { url: `${rx.url}/ok` });

    const worker = t.herald.createWorker({ concurrency: 100 });
    await worker.start();
    await publishN(t, a.id, 40, 'a');
    await waitUntil(() => rx.open('/hang-1') + rx.open('/hang-2') >= 16, "A's 16 hanging requests");
    const sent = await publishN(t, b.id, 20, 'b');

    // Until B is done, or until A's first attempt is recorded (then B lost: fail at once).
    const snap = await waitUntil(async () => {
      const s = await isolationSnapshot(t, b.id, a.id);
      return (s.healthySucceeded === 20 || s.hangingAttempts > 0) && s;
    }, "B's 20 successes");
    expect(snap).toEqual({ healthySucceeded: 20, hangingAttempts: 0, hangingSending: 16 });
    expect(rx.open('/hang-1') + rx.open('/hang-2')).toBe(16);
    expect(rx.peakOpen('/hang-1')).toBeLessThanOrEqual(8);
    expect(rx.peakOpen('/hang-2')).toBeLessThanOrEqual(8);
    expect(rx.requests.filter((r) => r.path === '/ok').map((r) => r.webhookId).sort()).toEqual(sent.map((m) => m.id).sort());
  });

  it('delivers a backlog to a slow receiver within its deadline, each message once, on the first attempt', async () => {
    // 240 messages, not fewer: the old design claimed all of them at once and queued them on 16
    // connections, with each deadline started at dispatch. 240 / 16 = 15 rounds of 200 ms = 3 s, so
    // everything from round 10 on (about 90 requests) timed out at 2 s. (120 messages, 8 rounds =
    // 1.6 s, would have passed on the old design too.) Lanes claim no more than the cap, so every
    // request has a connection the moment it is sent.
    const t = await herald({ HERALD_REQUEST_TIMEOUT: '2s', HERALD_ENDPOINT_MAX_IN_FLIGHT: '16' });
    const rx = await receiver({ answer: () => ({ status: 200, delayMs: 200 }) });
    const app = await t.makeApp();
    await t.makeEndpoint(app.id, { url: `${rx.url}/backlog` });
    const worker = t.herald.createWorker(); // default concurrency (512) and cap (16)
    await worker.start();
    const sent = await publishN(t, app.id, 240, 'backlog');

    // Every delivery has had its first attempt (retries are not due: the test clock stands still).
    await waitUntil(async () => {
      const { rows } = await t.herald.pool.query(`select count(distinct delivery_id)::int as n from attempt where app_id = $1`, [app.id]);
      return rows[0].n === 240;
    }, 'a first attempt of all 240 deliveries');
    await waitUntil(async () => {
      const { rows } = await t.herald.pool.query(`select count(*)::int as n from delivery where app_id = $1 and state = 'sending'`, [app.id]);
      return rows[0].n === 0;
    }, 'every result written');

    const attempts = await t.herald.pool.query(
      `select count(*)::int as total,
         count(*) filter (where succeeded and attempt_number = 1)::int as "firstTimeSuccesses",
         count(*) filter (where error_stage = 'timeout')::int as timeouts
       from attempt where app_id = $1`,
      [app.id],
    );
    expect(attempts.rows[0]).toEqual({ total: 240, firstTimeSuccesses: 240, timeouts: 0 });
    const states = await t.herald.pool.query(`select state, attempts_made, count(*)::int as n from delivery where app_id = $1 group by 1, 2`, [app.id]);
    expect(states.rows).toEqual([{ state: 'succeeded', attempts_made: 1, n: 240 }]);
    const ids = rx.requests.map((r) => r.webhookId);
    expect(ids).toHaveLength(240);
    expect(new Set(ids).size).toBe(240);
    expect(new Set(ids)).toEqual(new Set(sent.map((m) => m.id)));
    expect(rx.peakOpen()).toBeLessThanOrEqual(16);
  });

  it("serves a small application's messages while a big application's earlier backlog is still queued", async () => {
    // Old design: claims took the globally oldest rows, so all 600 of A's deliveries (published first)
    // went before any of B's; when B's last delivery succeeded, nothing of A was left.
    const t = await herald({});
    const slow = await receiver({ answer: () => ({ status: 200, delayMs: 100 }) });
    const fast = await receiver();
    const a = await t.makeApp('A');
    for (let i = 0; i < 30; i++) await t.makeEndpoint(a.id, { url: `${slow.url}/a${i}` });
    const b = await t.makeApp('B');
    await t.makeEndpoint(b.id, { url: `${fast.url}/b` });

    const worker = t.herald.createWorker({ concurrency: 40 });
    await worker.start();
    // 20 messages x 30 endpoints = 600 deliveries for A, all older than B's.
    await publishN(t, a.id, 20, 'a');
    const sent = await publishN(t, b.id, 20, 'b');

    const snap = await waitUntil(async () => {
      const { rows } = await t.herald.pool.query<{ bSucceeded: number; aUnfinished: number }>(
        `select count(*) filter (where app_id = $1 and state = 'succeeded')::int as "bSucceeded",
           count(*) filter (where app_id = $2 and state <> 'succeeded')::int as "aUnfinished"
         from delivery where app_id in ($1, $2)`,
        [b.id, a.id],
      );
      return rows[0]!.bSucceeded === 20 && rows[0]!;
    }, "B's 20 successes");
    // Counted in the same snapshot as B's last success. B gets half of every claim while both
    // applications have work, so it is done within a claim or two of A's 40-per-round backlog: far
    // more than half of A's deliveries are still unfinished (the old design left none).
    expect(snap.aUnfinished).toBeGreaterThan(300);
    expect(fast.requests.map((r) => r.webhookId).sort()).toEqual(sent.map((m) => m.id).sort());

    // A is not starved either: its whole backlog is delivered, each delivery once.
    await waitUntil(async () => {
      const { rows } = await t.herald.pool.query(`select count(*)::int as n from delivery where app_id = $1 and state = 'succeeded'`, [a.id]);
      return rows[0].n === 600;
    }, "A's 600 successes");
    expect(slow.count()).toBe(600);
    expect(new Set(slow.requests.map((r) => `${r.path} ${r.webhookId}`)).size).toBe(600);
  });
});
