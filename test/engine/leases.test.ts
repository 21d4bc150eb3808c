import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { publish, publishMany } from '../../src/engine/publish.js';
import { recordOutcomes } from '../../src/store/deliveries.js';
import { claimFromLanes } from '../../src/store/lanes.js';
import { reapDeadWorkers } from '../../src/store/worker-sessions.js';
import { DEFAULT_LEASE_MS } from '../../src/delivery/worker.js';
import type { Receiver } from '../support/receiver.js';
import { useHeraldWithReceiver, type TestHerald } from '../support/herald.js';

const fx = useHeraldWithReceiver();
let t: TestHerald;
let rx: Receiver;
beforeAll(() => {
  ({ t, rx } = fx);
});
const children = new Set<ChildProcess>();
afterEach(() => {
  // A failed assertion must not leave a worker process running against later tests.
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
});

describe('leases', () => {
  it('delivers what a worker killed with SIGKILL mid-flight had claimed, once its lease expires', async () => {
    const app = await t.makeApp();
    await t.makeEndpoint(app.id, { url: `${rx.url}/kill` });
    let hang = true;
    rx.respondWith(async () => {
      while (hang) await new Promise((r) => setTimeout(r, 20));
      return { status: 200 };
    });
    const msg = await publish(t.herald.pool, app.id, { eventType: 'order.paid', payload: { n: 1 } }, { now: t.clock.now() });

    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/worker-child.ts'], {
      env: { ...process.env, ...configEnv() },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.add(child);
    await rx.waitFor(1, 20_000); // the child claimed and is waiting for the response
    child.kill('SIGKILL');
    await once(child, 'exit');
    hang = false;

    const worker = t.herald.createWorker();
    expect(await worker.drain()).toBe(0); // still leased by the dead worker
    t.clock.set(new Date(Date.now() + DEFAULT_LEASE_MS + 1_000));
    expect(await worker.drain()).toBe(1);
    const { rows } = await t.herald.pool.query(`select state, attempts_made from delivery where msg_id = $1`, [msg.id]);
    expect(rows[0]).toEqual({ state: 'succeeded', attempts_made: 1 });
    expect(rx.requests.map((r) => r.headers['webhook-id'])).toEqual([msg.id, msg.id]);
  });

  it('takes over at once, not when its lease runs out, what a worker killed with SIGKILL had in flight', async () => {
    const app = await t.makeApp();
    await t.makeEndpoint(app.id, { url: `${rx.url}/liveness` });
    rx.requests.length = 0;
    // The child worker runs on the real clock; this one stands still at its start, so the child's
    // 30-second lease cannot run out for the in-process worker during the test.
    t.clock.set(new Date());
    let hang = true;
    rx.respondWith(async () => {
      while (hang) await new Promise((r) => setTimeout(r, 20));
      return { status: 200 };
    });
    const msg = await publish(t.herald.pool, app.id, { eventType: 'order.paid', payload: { n: 2 } }, { now: t.clock.now() });
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/worker-child.ts'], {
      env: { ...process.env, ...configEnv() },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.add(child);
    await rx.waitFor(1, 20_000);
    const leased = await t.herald.pool.query(`select lease_owner, next_attempt_at from delivery where msg_id = $1`, [msg.id]);
    const owner = leased.rows[0].lease_owner as string;
    const registered = await t.herald.pool.query(`select owner from worker_session where owner = $1`, [owner]);
    expect(registered.rows).toHaveLength(1);

    // While the child lives, a worker looking for dead ones leaves its lease alone.
    const worker = t.herald.createWorker({ liveness: { intervalMs: 50, graceMs: 0 } });
    await worker.start();
    const seen = await t.herald.pool.query(`select owner from worker_session`);
    expect(seen.rows.map((r) => r.owner)).toContain(owner);
    await new Promise((r) => setTimeout(r, 300)); // several looks (every 50 ms)
    const still = await t.herald.pool.query(`select lease_owner, next_attempt_at from delivery where msg_id = $1`, [msg.id]);
    expect(still.rows[0]).toEqual(leased.rows[0]);

    child.kill('SIGKILL');
    await once(child, 'exit');
    hang = false;
    // The clock stands still: the 30-second lease never runs out in this test. The delivery is
    // attempted again because the dead worker's session is gone.
    await rx.waitFor(2, 20_000);
    await worker.stop();
    const { rows } = await t.herald.pool.query(`select state from delivery where msg_id = $1`, [msg.id]);
    expect(rows[0]).toEqual({ state: 'succeeded' });
    const gone = await t.herald.pool.query(`select owner from worker_session where owner = $1`, [owner]);
    expect(gone.rows).toHaveLength(0);
    // A worker that stops on purpose unregisters too.
    const left = await t.herald.pool.query(`select count(*)::int as n from worker_session`);
    expect(left.rows[0].n).toBe(0);
  });

  it('after a database restart, judges registrations made before it only once the grace has passed', async () => {
    const pool = t.herald.pool;
    // Two registrations whose sessions are gone: one made before the server started (its worker may
    // still be reconnecting after the restart), one made since (its worker is dead for sure).
    await pool.query(`insert into worker_session (owner, registered_at) values
      ('before-start', pg_postmaster_start_time() - interval '1 minute'), ('since-start', now())`);
    const app = await t.makeApp();
    await t.makeEndpoint(app.id, { url: `${rx.url}/restart-grace` });
    const msg = await publish(pool, app.id, { eventType: 'x', payload: {} }, { now: t.clock.now() });
    const future = new Date(t.clock.now().getTime() + 3_600_000);
    await pool.query(`update delivery set state = 'sending', lease_owner = 'before-start', next_attempt_at = $2 where msg_id = $1`, [msg.id, future]);

    const upSince = Number((await pool.query(`select extract(epoch from now() - pg_postmaster_start_time()) * 1000 as ms`)).rows[0].ms);
    const first = await reapDeadWorkers(pool, t.clock.now(), upSince + 3_600_000);
    expect(first).toEqual({ owners: ['since-start'], leases: 0 });
    const kept = await pool.query(`select next_attempt_at from delivery where msg_id = $1`, [msg.id]);
    expect(kept.rows[0].next_attempt_at).toEqual(future);

    const second = await reapDeadWorkers(pool, t.clock.now(), 0);
    expect(second).toEqual({ owners: ['before-start'], leases: 1 });
    const due = await pool.query(`select next_attempt_at from delivery where msg_id = $1`, [msg.id]);
    expect(due.rows[0].next_attempt_at).toEqual(t.clock.now());
  });

  it('delivers every acknowledged message when a worker is killed with SIGKILL mid-load', async () => {
    const app = await t.makeApp();
    await t.makeEndpoint(app.id, { url: `${rx.url}/load` });
    let served = 0;
    rx.respondWith(async () => {
      served++;
      await new Promise((r) => setTimeout(r, 50)); // a receiver that takes a moment, so work is in flight
      return { status: 200 };
    });
    const msgs = await publishMany(
      t.herald.pool,
      app.id,
      Array.from({ length: 300 }, (_, i) => ({ eventType: 'order.paid', payload: { i } })),
      { now: new Date() }, // the child worker runs on the real clock
    );
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/worker-child.ts'], {
      env: { ...process.env, ...configEnv() },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.add(child);
    const deadline = Date.now() + 20_000;
    while (served < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(served).toBeGreaterThanOrEqual(50);
    child.kill('SIGKILL');
    await once(child, 'exit');
    const done = await t.herald.pool.query(`select count(*)::int as n from delivery where app_id = $1 and state = 'succeeded'`, [app.id]);
    expect(done.rows[0].n).toBeLessThan(300); // the kill really interrupted work

    // The dead worker's leases expire; a new worker takes over what it had claimed and not finished.
    t.clock.set(new Date(Date.now() + DEFAULT_LEASE_MS + 1_000));
    await t.herald.createWorker().drain();
    const { rows } = await t.herald.pool.query(`select state, count(*)::int as n from delivery where app_id = $1 group by state`, [app.id]);
    expect(rows).toEqual([{ state: 'succeeded', n: 300 }]);
    const arrived = new Set(rx.requests.filter((r) => r.path === '/load').map((r) => String(r.headers['webhook-id'])));
    expect(msgs.every((m) => arrived.has(m.id))).toBe(true);
  });

  it('refuses the write of a worker whose lease was taken over', async () => {
    const app = await t.makeApp();
    await t.makeEndpoint(app.id, { url: `${rx.url}/stale` });
    rx.respondWith({ status: 200 });
    const msg = await publish(t.herald.pool, app.id, { eventType: 'x', payload: {} }, { now: t.clock.now() });
    const now = t.clock.now();
    const lanes = { defaultMaxInFlight: 16, maxInFlightBound: 256, breakerFailures: 5 };
    const [stale] = await claimFromLanes(t.herald.pool, lanes, { owner: 'slow', limit: 10, now, leaseUntil: new Date(now.getTime() + 1000) });
    expect(stale!.msgId).toBe(msg.id);

    t.clock.advance(2_000);
    expect(await t.herald.createWorker().drain()).toBe(1); // the newer worker delivers it

    const written = await recordOutcomes(
      t.herald.pool,
      [{ id: stale!.id, leaseVersion: stale!.leaseVersion, state: 'failed', nextAttemptAt: now, attemptsMade: 1, runAttempts: 1, lastStatus: 500, lastError: 'late', attempt: null }],
      now,
    );
    expect(written.size).toBe(0);
    const { rows } = await t.herald.pool.query(`select state, last_error from delivery where msg_id = $1`, [msg.id]);
    expect(rows[0]).toEqual({ state: 'succeeded', last_error: null });
  });

  it('lets two workers share the queue without delivering anything twice', async () => {
    const app = await t.makeApp();
    await t.makeEndpoint(app.id, { url: `${rx.url}/shared` });
    rx.respondWith({ status: 200 });
    rx.requests.length = 0;
    for (let i = 0; i < 40; i++) await publish(t.herald.pool, app.id, { eventType: 'x', payload: { i } }, { now: t.clock.now() });
    const [a, b] = [t.herald.createWorker({ batchSize: 5 }), t.herald.createWorker({ batchSize: 5 })];
    const [na, nb] = await Promise.all([a.drain(), b.drain()]);
    expect(na + nb).toBe(40);
    const bodies = rx.requests.filter((r) => r.path === '/shared').map((r) => r.body.toString());
    expect(new Set(bodies).size).toBe(40);
    expect(bodies).toHaveLength(40);
  });
});

function configEnv(): Record<string, string> {
  const c = t.herald.config;
  return {
    DATABASE_URL: t.db.url,
    HERALD_SECRET_KEY: c.HERALD_SECRET_KEY!,
    HERALD_ALLOW_HTTP: 'true',
    HERALD_ALLOWED_NETWORKS: '127.0.0.0/8',
    HERALD_POLL_INTERVAL: '50ms',
  };
}
