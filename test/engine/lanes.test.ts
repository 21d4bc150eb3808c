/**
 * The endpoint-aware claim (src/store/lanes.ts) on a fake clock: fair shares over applications and
 * lanes, in-flight caps, the circuit breaker, strict ordering, per-endpoint policy, and pause holds.
 * Claims are driven directly or through `drain()`, so every assertion is about counts, order and state.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { publish, publishMany } from '../../src/engine/publish.js';
import { claimFromLanes, type ClaimSettings } from '../../src/store/lanes.js';
import { releaseLeases } from '../../src/store/deliveries.js';
import { updateEndpoint, getEndpoint } from '../../src/store/endpoints.js';
import { breakerState } from '../../src/core/breaker.js';
import { createHttpClient } from '../../src/delivery/http-client.js';
import { parseCidrList } from '../../src/delivery/address-policy.js';
import type { Receiver } from '../support/receiver.js';
import { useHeraldWithReceiver, type TestHerald } from '../support/herald.js';

const fx = useHeraldWithReceiver({ HERALD_BREAKER_FAILURES: '5', HERALD_BREAKER_BACKOFF: '5s' });
let t: TestHerald;
let rx: Receiver;
beforeAll(() => {
  ({ t, rx } = fx);
});
beforeEach(async () => {
  rx.requests.length = 0;
  rx.respondWith({ status: 200 });
  // each test starts with an empty queue, so claims only see its own deliveries
  await t.herald.pool.query(`update delivery set state = 'skipped' where state in ('pending', 'sending')`);
});

const settings: ClaimSettings = { defaultMaxInFlight: 16, maxInFlightBound: 256, breakerFailures: 5 };
const claim = (limit: number, owner = 'test') => {
  const now = t.clock.now();
  // slots: a worker's default concurrency, so the application share is not what bounds these claims
  return claimFromLanes(t.herald.pool, settings, { owner, limit, now, leaseUntil: new Date(now.getTime() + 30_000), slots: 512 });
};
const events = (appId: string, n: number, type = 'order.paid') =>
  publishMany(t.herald.pool, appId, Array.from({ length: n }, (_, i) => ({ eventType: type, payload: { i } })), { now: t.clock.now() });
const setEndpoint = (id: string, sql: string, values: unknown[] = []) =>
  t.herald.pool.query(`update endpoint set ${sql} where id = $1`, [id, ...values]);
const countBy = <T>(items: T[], key: (x: T) => string) => {
  const m = new Map<string, number>();
  for (const x of items) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
};

describe('fair claims', () => {
  it('lets a worker with a single slot claim (the share kept for newcomers is an eighth, rounded down)', async () => {
    const app = await t.makeApp('one slot');
    await t.makeEndpoint(app.id, { url: `${rx.url}/one` });
    await events(app.id, 3);
    const now = t.clock.now();
    for (const slots of [1, 2, 7]) {
      const got = await claimFromLanes(t.herald.pool, settings, { owner: `w${slots}`, limit: slots, now, leaseUntil: new Date(now.getTime() + 30_000), slots });
      expect(got.length).toBe(Math.min(slots, 3));
      await t.herald.pool.query(`update delivery set state = 'pending', lease_owner = null, next_attempt_at = created_at where id = any($1)`, [got.map((d) => d.id)]);
    }
  });

  it('gives an application with one endpoint its share next to one with fifty endpoints and a backlog', async () => {
    const big = await t.makeApp('big');
    const small = await t.makeApp('small');
    for (let i = 0; i < 50; i++) await t.makeEndpoint(big.id, { url: `${rx.url}/big/${i}` });
    const lone = await t.makeEndpoint(small.id, { url: `${rx.url}/small` });
    await events(big.id, 20); // 1,000 deliveries, published first
    await events(small.id, 10);

    const first = await claim(40);
    const perApp = countBy(first, (d) => d.appId);
    // Half the batch is the small application's (all 10 it has), not 40/1010 of it.
    expect(perApp.get(small.id)).toBe(10);
    expect(perApp.get(big.id)).toBe(30);
    // The big application's share is spread over its lanes, one row each, not piled on its oldest endpoint.
    expect(Math.max(...countBy(first.filter((d) => d.appId === big.id), (d) => d.endpointId).values())).toBe(1);
    expect(first.filter((d) => d.endpointId === lone.id)).toHaveLength(10);
  });

  it('caps one endpoint with a 1,000-message backlog at its in-flight limit and serves the others', async () => {
    const a = await t.makeApp('backlog');
    const b = await t.makeApp('quiet');
    const hot = await t.makeEndpoint(a.id, { url: `${rx.url}/hot` });
    await t.makeEndpoint(b.id, { url: `${rx.url}/quiet` });
    for (let i = 0; i < 10; i++) await events(a.id, 100);
    await events(b.id, 5);

    const got = await claim(200);
    expect(got.filter((d) => d.endpointId === hot.id)).toHaveLength(16); // HERALD_ENDPOINT_MAX_IN_FLIGHT
    expect(got.filter((d) => d.appId === b.id)).toHaveLength(5);
    // While those 16 are in flight the lane takes nothing more, however many rows are due.
    expect((await claim(200)).filter((d) => d.endpointId === hot.id)).toHaveLength(0);
    await setEndpoint(hot.id, 'max_in_flight = 20');
    expect(await claim(200)).toHaveLength(4);
  });

  it('two claimers at once take different rows and never exceed a lane cap together', async () => {
    const app = await t.makeApp('racing');
    const eps = [];
    for (let i = 0; i < 6; i++) eps.push(await t.makeEndpoint(app.id, { url: `${rx.url}/race/${i}` }));
    await events(app.id, 30);
    const [x, y] = await Promise.all([claim(100, 'w1'), claim(100, 'w2')]);
    const ids = [...x, ...y].map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const n of countBy([...x, ...y], (d) => d.endpointId).values()) expect(n).toBeLessThanOrEqual(16);
    expect(ids.length).toBe(6 * 16);
  });

  it("keeps a worker's slots shared: one application's many endpoints never take them all", async () => {
    const big = await t.makeApp('many-endpoints');
    const late = await t.makeApp('late');
    for (let i = 0; i < 60; i++) await t.makeEndpoint(big.id, { url: `${rx.url}/many/${i}` });
    await t.makeEndpoint(late.id, { url: `${rx.url}/late` });
    await events(big.id, 10); // 600 due, on 60 lanes whose caps would allow all of them
    const now = t.clock.now();
    const leaseUntil = new Date(now.getTime() + 30_000);
    const worker = { owner: 'w', now, leaseUntil, slots: 80 };
    // Alone, it gets all but the eighth kept for newcomers: 70 of 80 slots.
    const first = await claimFromLanes(t.herald.pool, settings, { ...worker, limit: 80 });
    expect(first).toHaveLength(70);
    // The late application finds the free slots; the big one, already over its half, gets none.
    await events(late.id, 20);
    const second = await claimFromLanes(t.herald.pool, settings, { ...worker, limit: 10, heldByApp: new Map([[big.id, 70]]) });
    expect(second.map((d) => d.appId)).toEqual(Array(10).fill(late.id));
  });

  it('serves the least recently claimed lanes first across successive claims', async () => {
    const app = await t.makeApp('rounds');
    for (let i = 0; i < 4; i++) await t.makeEndpoint(app.id, { url: `${rx.url}/round/${i}` });
    await events(app.id, 3);
    const seen: string[][] = [];
    for (let i = 0; i < 4; i++) {
      const got = await claim(2); // share = 1 per lane, 2 lanes per claim
      seen.push(got.map((d) => d.endpointId).sort());
      await releaseLeases(t.herald.pool, got, t.clock.now());
    }
    // Claims 1 and 2 cover all four lanes between them, then the rotation repeats.
    expect(new Set([...seen[0]!, ...seen[1]!]).size).toBe(4);
    expect(seen[2]).toEqual(seen[0]);
  });
});

describe('circuit breaker', () => {
  it('opens after repeated failures without burning queued attempts, probes once, and closes on success', async () => {
    rx.respondWith({ status: 500 });
    const app = await t.makeApp('breaker');
    const ep = await t.makeEndpoint(app.id, { url: `${rx.url}/breaker` });
    await setEndpoint(ep.id, 'max_in_flight = 2, retry_delays = $2', [[3600]]);
    const msgs = await events(app.id, 20);
    const worker = t.herald.createWorker();
    await worker.drain();
    // Two at a time until five had failed: then the breaker opened and nothing else was attempted.
    expect(rx.requests).toHaveLength(6);
    const lane = async () => {
      const e = await getEndpoint(t.herald.pool, app.id, ep.id);
      const { rows } = await t.herald.pool.query('select breaker_until as "breakerUntil" from endpoint_lane where endpoint_id = $1', [ep.id]);
      return breakerState({ failures: 5, backoffMs: 5000, backoffMaxMs: 300_000 }, { consecutiveFailures: e!.consecutiveFailures, breakerUntil: rows[0].breakerUntil }, t.clock.now());
    };
    expect(await lane()).toBe('open');
    const untouched = await t.herald.pool.query(
      `select count(*)::int as n from delivery where endpoint_id = $1 and state = 'pending' and attempts_made = 0`,
      [ep.id],
    );
    expect(untouched.rows[0].n).toBe(14);
    expect(await worker.drain()).toBe(0);

    t.clock.advance(5_000);
    expect(await lane()).toBe('half-open');
    rx.respondOnce({ status: 500 }); // the probe fails: open again, for longer
    expect(await worker.drain()).toBe(1);
    t.clock.advance(5_000);
    expect(await lane()).toBe('open'); // 10 s this time
    t.clock.advance(5_000);
    rx.respondWith({ status: 200 });
    await worker.drain(); // a probe succeeds, the breaker closes and the other 12 flow
    expect(await lane()).toBe('closed');
    const { rows } = await t.herald.pool.query(`select state, count(*)::int as n from delivery where endpoint_id = $1 group by state`, [ep.id]);
    // 13 never-attempted deliveries went after the successful probe; the 7 that failed wait for their retry.
    expect(Object.fromEntries(rows.map((r) => [r.state, r.n]))).toEqual({ succeeded: 13, pending: 7 });
    expect(rx.requests).toHaveLength(6 + 1 + 13);
    expect(new Set(rx.requests.map((r) => r.headers['webhook-id'])).size).toBe(20);
    expect(msgs).toHaveLength(20);
  });
});

describe('strict ordering', () => {
  it('sends one at a time in publish order; a failing message holds back only its own endpoint', async () => {
    const app = await t.makeApp('ordered');
    const strict = await t.makeEndpoint(app.id, { url: `${rx.url}/strict` });
    await t.makeEndpoint(app.id, { url: `${rx.url}/parallel` });
    await setEndpoint(strict.id, `ordering = 'strict'`);
    const msgs = await events(app.id, 5);
    let strictCalls = 0;
    rx.respondWith((req) => {
      if (req.path !== '/strict') return { status: 200 };
      strictCalls += 1;
      return { status: req.headers['webhook-id'] === msgs[1]!.id && strictCalls <= 3 ? 503 : 200 };
    });
    const worker = t.herald.createWorker();
    await worker.drain();
    const order = () => rx.requests.filter((r) => r.path === '/strict').map((r) => msgs.findIndex((m) => m.id === r.headers['webhook-id']));
    expect(order()).toEqual([0, 1]); // message 1 failed: 2, 3, 4 wait behind it
    expect(rx.requests.filter((r) => r.path === '/parallel')).toHaveLength(5); // the other endpoint is not held

    t.clock.advance(5_000);
    await worker.drain();
    expect(order()).toEqual([0, 1, 1]);
    t.clock.advance(300_000);
    await worker.drain();
    expect(order()).toEqual([0, 1, 1, 1, 2, 3, 4]);
  });

  it('moves on after a message fails permanently', async () => {
    const app = await t.makeApp('ordered-permanent');
    const strict = await t.makeEndpoint(app.id, { url: `${rx.url}/strict-perm` });
    await setEndpoint(strict.id, `ordering = 'strict'`);
    const msgs = await events(app.id, 3);
    rx.respondWith((req) => ({ status: req.headers['webhook-id'] === msgs[0]!.id ? 400 : 200 }));
    await t.herald.createWorker().drain();
    expect(rx.requests.map((r) => msgs.findIndex((m) => m.id === r.headers['webhook-id']))).toEqual([0, 1, 2]);
  });
});

describe('policy per endpoint and per application', () => {
  it('uses the endpoint schedule over the application one over the default, and the endpoint timeout', async () => {
    rx.respondWith((req) => (req.path === '/slowish' ? { status: 200, delayMs: 1_500 } : { status: 500 }));
    const app = await t.makeApp('policy');
    await t.herald.pool.query('update application set retry_delays = $2 where id = $1', [app.id, [120]]);
    const own = await t.makeEndpoint(app.id, { url: `${rx.url}/own-schedule` });
    const inherits = await t.makeEndpoint(app.id, { url: `${rx.url}/app-schedule` });
    const slow = await t.makeEndpoint(app.id, { url: `${rx.url}/slowish` });
    await setEndpoint(own.id, 'retry_delays = $2', [[60, 600]]);
    await setEndpoint(slow.id, 'timeout_ms = 1000');
    const msg = await publish(t.herald.pool, app.id, { eventType: 'order.paid', payload: {} }, { now: t.clock.now() });
    const worker = t.herald.createWorker();
    await worker.drain();
    const next = async (endpointId: string) => {
      const { rows } = await t.herald.pool.query('select state, next_attempt_at, attempts_made from delivery where msg_id = $1 and endpoint_id = $2', [msg.id, endpointId]);
      return rows[0];
    };
    const start = t.clock.now().getTime();
    expect(new Date((await next(own.id)).next_attempt_at).getTime()).toBe(start + 60_000);
    expect(new Date((await next(inherits.id)).next_attempt_at).getTime()).toBe(start + 120_000);
    const timedOut = await t.herald.pool.query('select error_stage from attempt where endpoint_id = $1', [slow.id]);
    expect(timedOut.rows).toEqual([{ error_stage: 'timeout' }]); // 1 s deadline; the test Herald's default is 3 s

    t.clock.advance(60_000);
    await worker.drain();
    t.clock.advance(600_000);
    await worker.drain();
    expect(await next(own.id)).toMatchObject({ state: 'failed', attempts_made: 3 });
    expect(await next(inherits.id)).toMatchObject({ state: 'failed', attempts_made: 2 }); // [0, 120 s]
  });
});

describe('pause', () => {
  it('holds deliveries while paused and sends them in order when resumed', async () => {
    const app = await t.makeApp('paused');
    const ep = await t.makeEndpoint(app.id, { url: `${rx.url}/paused`, disabled: true });
    const msgs = await events(app.id, 5);
    expect(msgs.every((m) => m.deliveries === 1)).toBe(true);
    const worker = t.herald.createWorker();
    expect(await worker.drain()).toBe(0);
    const held = await t.herald.pool.query(`select count(*)::int as n from delivery where endpoint_id = $1 and state = 'pending'`, [ep.id]);
    expect(held.rows[0].n).toBe(5);

    const row = await getEndpoint(t.herald.pool, app.id, ep.id);
    await updateEndpoint(t.herald.pool, app.id, ep.id, { url: row!.url, disabled: false }, t.clock.now());
    await setEndpoint(ep.id, `ordering = 'strict'`);
    expect(await worker.drain()).toBe(5);
    expect(rx.requests.map((r) => r.headers['webhook-id'])).toEqual(msgs.map((m) => m.id));
  });
});

describe('payloads', () => {
  it('holds one copy of a message body however many endpoints it goes to', async () => {
    const app = await t.makeApp('fan-out');
    for (let i = 0; i < 20; i++) await t.makeEndpoint(app.id, { url: `${rx.url}/copy/${i}` });
    await publish(t.herald.pool, app.id, { eventType: 'order.paid', payload: { big: 'x'.repeat(100_000) } }, { now: t.clock.now() });
    const bodies: (Buffer | string)[] = [];
    const http = createHttpClient({ allowHttp: true, allowedNetworks: parseCidrList(t.herald.config.HERALD_ALLOWED_NETWORKS) });
    const recording = { ...http, send: (req: Parameters<typeof http.send>[0]) => (bodies.push(req.body), http.send(req)) };
    try {
      expect(await t.herald.createWorker({ http: recording }).drain()).toBe(20);
    } finally {
      await http.close();
    }
    expect(bodies).toHaveLength(20);
    expect(bodies.every((b) => b === bodies[0])).toBe(true); // the same Buffer, not 20 copies
  });

  it('come with the claim once per message, with each endpoint\'s valid secrets, and not at all when held', async () => {
    const app = await t.makeApp('claim carries');
    const eps = [];
    for (let i = 0; i < 3; i++) eps.push(await t.makeEndpoint(app.id, { url: `${rx.url}/carry/${i}` }));
    const sent = await publish(t.herald.pool, app.id, { eventType: 'order.paid', payload: { n: 1 } }, { now: t.clock.now() });
    const now = t.clock.now();
    const rows = await claimFromLanes(t.herald.pool, settings, { owner: 'carrier', limit: 10, now, leaseUntil: new Date(now.getTime() + 30_000), slots: 512 });
    expect(rows).toHaveLength(3);
    const withBody = rows.filter((r) => r.payload !== null);
    expect(withBody).toHaveLength(1);
    expect(withBody[0]!.payload!.toString()).toBe('{"n":1}');
    const { rows: secrets } = await t.herald.pool.query<{ endpoint_id: string; sealed: string }>(
      'select endpoint_id, sealed from endpoint_secret where endpoint_id = any($1)', [eps.map((e) => e.id)]);
    for (const r of rows) expect(r.secrets).toEqual(secrets.filter((s) => s.endpoint_id === r.endpointId).map((s) => s.sealed));

    // A claimer that already holds the body gets the rows without it.
    await releaseLeases(t.herald.pool, rows, now);
    const again = await claimFromLanes(t.herald.pool, settings, {
      owner: 'carrier', limit: 10, now, leaseUntil: new Date(now.getTime() + 30_000), slots: 512, heldPayloads: [sent.id],
    });
    expect(again).toHaveLength(3);
    expect(again.every((r) => r.payload === null)).toBe(true);
  });
});

describe('results', () => {
  it('restart the failure count of an endpoint when a batch of successes is written', async () => {
    const app = await t.makeApp('recovering');
    const ep = await t.makeEndpoint(app.id, { url: `${rx.url}/recovering` });
    await setEndpoint(ep.id, `consecutive_failures = 3, first_failure_at = $2`, [t.clock.now()]);
    await events(app.id, 4);
    expect(await t.herald.createWorker().drain()).toBe(4);
    const row = await getEndpoint(t.herald.pool, app.id, ep.id);
    expect(row!.consecutiveFailures).toBe(0);
    expect(row!.firstFailureAt).toBeNull();
  });
});
