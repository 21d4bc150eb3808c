/**
 * Background tasks against a real PostgreSQL: a task left by a process that died is resumed after its
 * last committed batch (nothing queued twice, nothing skipped), two runners never run one task twice,
 * and a task that keeps dying is ended as failed with the reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackgroundTaskRunner, MAX_RUNS } from '../../src/engine/background-tasks.js';
import { publishMany } from '../../src/engine/publish.js';
import { claimBackgroundTask, getBackgroundTask, saveTaskProgress } from '../../src/store/background-tasks.js';
import { recoverBatch } from '../../src/store/replay.js';
import { silentLogger } from '../../src/logger.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

let t: TestHerald;
beforeAll(async () => {
  t = await startTestHerald();
});
afterAll(async () => {
  await t.close();
});

/** An endpoint with `n` failed deliveries (no worker runs: the test decides every state). */
async function endpointWithFailures(n: number) {
  const app = await t.makeApp();
  const ep = await t.makeEndpoint(app.id, { url: 'http://127.0.0.1:9/never' });
  const inputs = Array.from({ length: n }, (_, i) => ({ eventType: 'order.paid', payload: { i } }));
  await publishMany(t.herald.pool, app.id, inputs, { now: t.clock.now() });
  await t.herald.pool.query(`update delivery set state = 'failed', last_error = 'test' where endpoint_id = $1`, [ep.id]);
  return { app, ep };
}

function runner(leaseMs = 1_000, pollMs = 50) {
  return new BackgroundTaskRunner({ pool: t.herald.pool, clock: t.clock, log: silentLogger, leaseMs, pollMs, batchSize: 2 });
}

/** The task once it is no longer running (bounded wait). */
async function ended(id: string) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const task = await getBackgroundTask(t.herald.pool, null, id);
    if (task && task.status !== 'running') return task;
    if (Date.now() > deadline) throw new Error(`task ${id} still running: ${JSON.stringify(task)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const pendingManual = async (endpointId: string) =>
  Number((await t.herald.pool.query(`select count(*) from delivery where endpoint_id = $1 and state = 'pending' and next_trigger = 'manual'`, [endpointId])).rows[0].count);

describe('background tasks', () => {
  it('resumes a task whose process died after its last committed batch', async () => {
    const { app, ep } = await endpointWithFailures(5);
    const since = new Date(t.clock.now().getTime() - 1_000);
    const until = new Date(t.clock.now().getTime() + 1);
    const idle = runner();
    const task = await idle.create(t.herald.pool, {
      appId: app.id,
      endpointId: ep.id,
      task: 'endpoint.recover',
      params: { since: since.toISOString(), until: until.toISOString() },
    });
    // A process takes the task, commits one batch of two, and dies holding the lease.
    const dead = await claimBackgroundTask(t.herald.pool, 'dead-process', t.clock.now(), 1_000, task.id);
    expect(dead?.runs).toBe(1);
    const first = await recoverBatch(t.herald.pool, app.id, ep.id, { since, until, after: null, limit: 2, now: t.clock.now() });
    expect(first.queued).toBe(2);
    await saveTaskProgress(t.herald.pool, task.id, 'dead-process', { data: { messagesSent: 2 }, cursor: { ...first.next! }, now: t.clock.now(), leaseMs: 1_000 });
    // Those two fail again: a second run from the start would send them once more.
    await t.herald.pool.query(`update delivery set state = 'failed' where endpoint_id = $1`, [ep.id]);

    const next = runner();
    next.start();
    try {
      // Until the lease expires nobody else takes it.
      await new Promise((r) => setTimeout(r, 150));
      expect((await getBackgroundTask(t.herald.pool, null, task.id))?.status).toBe('running');
      t.clock.advance(1_001);
      next.wake();
      const done = await ended(task.id);
      expect(done).toMatchObject({ status: 'finished', runs: 2, data: { messagesSent: 5 } });
      // The three after the cursor were queued; the two of the dead run were not queued again.
      expect(await pendingManual(ep.id)).toBe(3);
    } finally {
      await next.stop();
    }
  });

  it('launch runs the first batch before it returns, holding the task against other runners, and runs on to the end', async () => {
    const { app, ep } = await endpointWithFailures(5);
    const r = runner(60_000);
    const other = runner(60_000);
    r.start();
    other.start();
    try {
      const window = { since: new Date(t.clock.now().getTime() - 1_000).toISOString(), until: new Date(t.clock.now().getTime() + 1).toISOString() };
      const task = await r.launch(t.herald.pool, { appId: app.id, endpointId: ep.id, task: 'endpoint.recover', params: window });
      // Batches of two: the first is committed, so progress shows; more are to come.
      expect(task.data.messagesSent).toBeGreaterThanOrEqual(2);
      expect(await ended(task.id)).toMatchObject({ status: 'finished', runs: 1, data: { messagesSent: 5 } });
      expect(await pendingManual(ep.id)).toBe(5);
    } finally {
      await Promise.all([r.stop(), other.stop()]);
    }
  });

  it('runs each task once when two runners share the database', async () => {
    const eps = await Promise.all([1, 2, 3].map(() => endpointWithFailures(3)));
    const a = runner(60_000);
    const b = runner(60_000);
    const window = { since: new Date(t.clock.now().getTime() - 1_000).toISOString(), until: new Date(t.clock.now().getTime() + 1).toISOString() };
    const tasks = await Promise.all(eps.map(({ app, ep }) => a.create(t.herald.pool, { appId: app.id, endpointId: ep.id, task: 'endpoint.recover', params: window })));
    a.start();
    b.start();
    try {
      for (const task of tasks) expect(await ended(task.id)).toMatchObject({ status: 'finished', runs: 1, data: { messagesSent: 3 } });
      for (const { ep } of eps) expect(await pendingManual(ep.id)).toBe(3);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it(`ends a task as failed, with the reason, after ${MAX_RUNS} starts that never finished`, async () => {
    const { app, ep } = await endpointWithFailures(1);
    const r = runner();
    const window = { since: new Date(t.clock.now().getTime() - 1_000).toISOString(), until: new Date(t.clock.now().getTime() + 1).toISOString() };
    const task = await r.create(t.herald.pool, { appId: app.id, endpointId: ep.id, task: 'endpoint.recover', params: window });
    await t.herald.pool.query(`update background_task set runs = $2, lease_owner = 'dead', lease_until = $3 where id = $1`, [
      task.id,
      MAX_RUNS,
      new Date(t.clock.now().getTime() - 1),
    ]);
    r.start();
    try {
      const done = await ended(task.id);
      expect(done.status).toBe('failed');
      expect(String(done.data.error)).toMatch(/stopped after 5 starts/);
      expect(await pendingManual(ep.id)).toBe(0);
    } finally {
      await r.stop();
    }
  });

  it('gives the lease back when stopped mid-task, and another runner finishes it without sending anything twice', async () => {
    const { app, ep } = await endpointWithFailures(200);
    const r = runner(60_000);
    const window = { since: new Date(t.clock.now().getTime() - 1_000).toISOString(), until: new Date(t.clock.now().getTime() + 1).toISOString() };
    const task = await r.create(t.herald.pool, { appId: app.id, endpointId: ep.id, task: 'endpoint.recover', params: window });
    r.start();
    // Stop as soon as the first batch is in: the task is then finished or handed back, never left leased.
    const deadline = Date.now() + 10_000;
    while ((await getBackgroundTask(t.herald.pool, null, task.id))!.cursor === null && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
    await r.stop();
    const { rows } = await t.herald.pool.query(`select lease_owner from background_task where id = $1`, [task.id]);
    expect(rows[0].lease_owner).toBeNull();
    const other = runner(60_000);
    other.start();
    try {
      expect(await ended(task.id)).toMatchObject({ status: 'finished', data: { messagesSent: 200 } });
      expect(await pendingManual(ep.id)).toBe(200);
    } finally {
      await other.stop();
    }
  });
});
