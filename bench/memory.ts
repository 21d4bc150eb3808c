/**
 * Scenario `memory`: the resident set of a worker process (bench/worker-process.ts, a child of its own,
 * read from /proc/<pid>/status) when
 *  (a) one 1 MiB message fans out to 600 slow endpoints (each answers after 5 s, each on a port, so an
 *      origin, of its own): is the payload held once, or once per request in flight?
 *  (b) 1,000,000 deliveries are pending (10,000 messages × 100 slow endpoints) while the worker runs
 *      for 20 s: does anything in the worker grow with the backlog?
 * Target for both: a peak below 300 MB. `--quick` shrinks both (50 endpoints answering after 1 s;
 * 5,000 pending for 2 s); the BENCH_MEMORY_* and BENCH_PENDING* variables set each size.
 * Peaks are the kernel's own high-water mark (VmHWM, reset through clear_refs before each phase), so a
 * spike between two samples is not missed; the 10 ms samples of VmRSS back it up where that reset is
 * not permitted.
 */
import { fork, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import { createApplication } from '../src/engine/applications.js';
import { createEndpoint } from '../src/engine/endpoints.js';
import type { Herald } from '../src/engine/herald.js';
import { publishMany } from '../src/engine/publish.js';
import { onCleanup, trackChild } from './cleanup.js';
import { defaultDatabase, type DatabaseKind } from './databases.js';
import { ask, now, openBenchHerald, reachCount, size, sleep, type BenchContext, type ReceiverCounts } from './harness.js';
import { memoryOf, MIB, watchPeak } from './proc-stats.js';
import { fmt } from './report.js';

const PENDING_ENDPOINTS = 100;
/** Messages per publish call while filling the backlog (× 100 endpoints = delivery rows per statement). */
const FILL_BATCH = 200;
const SECTION = 'memory';
/** The memory target: a worker's peak resident set below 300 MB. */
const TARGET_MB = 300;

/** The scenario's sizes: the full run's, or --quick's (50 endpoints answering after 1 s; 5,000 pending for 2 s). */
function sizes(ctx: BenchContext) {
  return {
    fanout: size(ctx, 'BENCH_MEMORY_FANOUT', 600, 50),
    slowMs: size(ctx, 'BENCH_MEMORY_SLOW_MS', 5_000, 1_000),
    pending: size(ctx, 'BENCH_PENDING', 1_000_000, 5_000),
    pendingSeconds: size(ctx, 'BENCH_PENDING_SECONDS', 20, 2),
  };
}

const mib = (bytes: number) => `${(bytes / MIB).toFixed(0)} MiB`;

/** A worker process opened on the scenario's database (not started yet). */
async function workerProcess(env: Record<string, string>): Promise<{ child: ChildProcess; pid: number; stop(): Promise<void> }> {
  // From source (tsx) the child is a .ts file; once built it is .js. fork() inherits the loader flags.
  const child = fork(new URL(import.meta.url.endsWith('.ts') ? './worker-process.ts' : './worker-process.js', import.meta.url), { stdio: 'inherit' });
  trackChild(child);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = onCleanup(`stop worker process ${child.pid}`, async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.connected) child.send({ cmd: 'stop' });
    else child.kill('SIGTERM');
    // Slow requests in flight finish first; past that, this process started it and ends it.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  });
  try {
    await ask(child, 'open', { env });
  } catch (e) {
    await stop();
    throw e;
  }
  return { child, pid: child.pid!, stop };
}

/** The figure of one phase's peak worker RSS, against the 300 MB target. */
function peakFigure(ctx: BenchContext, kind: DatabaseKind, key: string, label: string, before: number, peak: number, note: string, details: Record<string, number>): void {
  ctx.report.add({
    key: `memory.${key}.${kind}`,
    section: SECTION,
    label,
    database: kind,
    value: peak / 1e6,
    unit: 'MB',
    target: { op: '<', value: TARGET_MB },
    note: `worker RSS ${fmt(before / 1e6)} MB before; ${note}`,
    details: { beforeBytes: before, peakBytes: peak, ...details },
  });
}

async function endpointsOn(herald: Herald, appId: string, ports: number[], name: string): Promise<void> {
  for (const [i, port] of ports.entries()) {
    await createEndpoint(herald.pool, herald.secretBox, appId, { url: `http://127.0.0.1:${port}/${name}/e${i}` }, { now: new Date(), policy: herald.urlPolicy });
  }
}

/** (a) One 1 MiB message to slow endpoints, one per port. */
async function bigFanOut(ctx: BenchContext, kind: DatabaseKind, herald: Herald, env: Record<string, string>, publisher: pg.Pool, ports: number[]): Promise<void> {
  const app = await createApplication(herald.pool, { name: 'memory-fanout' }, new Date());
  await endpointsOn(herald, app.id, ports, 'fanout');
  const worker = await workerProcess(env);
  try {
    await ask(worker.child, 'start');
    await sleep(1_000);
    const before = memoryOf(worker.pid).rss;
    await ask(ctx.rx, 'reset');
    const peak = watchPeak(worker.pid);
    const t = now();
    const empty = JSON.stringify({ t, blob: '' }).length;
    const payload = { t, blob: 'x'.repeat(MIB - empty) }; // exactly 1 MiB of JSON
    const start = now();
    await publishMany(publisher, app.id, [{ eventType: 'order.paid', payload }]);
    const done = await reachCount(ctx.rx, ports.length, 120_000, 'slow');
    const seconds = (now() - start) / 1000;
    const top = peak.stop();
    const { slow } = await ask<ReceiverCounts>(ctx.rx, 'count');
    console.log(
      `  1 MiB × ${ports.length} slow endpoints : worker RSS before ${mib(before)}, peak ${mib(top)} (+${mib(top - before)}); ` +
        `${slow}/${ports.length} answered in ${seconds.toFixed(1)} s${done ? '' : ' (gave up waiting at 120 s)'}`,
    );
    const answered = `${slow} of ${ports.length} answered in ${fmt(seconds, 1)} s${done ? '' : ' (gave up waiting at 120 s)'}`;
    peakFigure(ctx, kind, 'fanout', `memory (a): one 1 MiB message to ${ports.length} slow endpoints, worker peak RSS`, before, top, answered, { endpoints: ports.length, answered: slow, seconds });
  } finally {
    await worker.stop();
  }
}

/** Fills the backlog with `pending` deliveries (no worker running), as fast as publishMany goes. */
async function fillBacklog(publisher: pg.Pool, appId: string, pending: number): Promise<number> {
  const messages = Math.ceil(pending / PENDING_ENDPOINTS);
  const start = now();
  for (let sent = 0; sent < messages; sent += FILL_BATCH) {
    const batch = Array.from({ length: Math.min(FILL_BATCH, messages - sent) }, (_, i) => ({
      eventType: 'order.paid',
      payload: { i: sent + i, orderId: `ord_${sent + i}`, total: 4900, currency: 'EUR' },
    }));
    await publishMany(publisher, appId, batch);
  }
  return (now() - start) / 1000;
}

/** (b) A large backlog of pending deliveries while a worker runs. */
async function bigBacklog(ctx: BenchContext, kind: DatabaseKind, herald: Herald, env: Record<string, string>, publisher: pg.Pool, ports: number[]): Promise<void> {
  const { pending, pendingSeconds } = sizes(ctx);
  const messages = Math.ceil(pending / PENDING_ENDPOINTS);
  const app = await createApplication(herald.pool, { name: 'memory-backlog' }, new Date());
  await endpointsOn(herald, app.id, ports.slice(0, PENDING_ENDPOINTS), 'backlog');
  const setup = await fillBacklog(publisher, app.id, pending);
  const worker = await workerProcess(env);
  try {
    await sleep(1_000);
    const before = memoryOf(worker.pid).rss;
    await ask(ctx.rx, 'reset');
    const peak = watchPeak(worker.pid);
    await ask(worker.child, 'start');
    await sleep(pendingSeconds * 1000);
    const top = peak.stop();
    const { slow } = await ask<ReceiverCounts>(ctx.rx, 'count');
    console.log(`  ${messages * PENDING_ENDPOINTS} pending deliveries   : ${messages} messages × ${PENDING_ENDPOINTS} slow endpoints, set up in ${setup.toFixed(0)} s`);
    console.log(
      `                              worker RSS before start ${mib(before)}, peak ${mib(top)} (+${mib(top - before)}) over ${pendingSeconds} s running; ${slow} answered meanwhile`,
    );
    peakFigure(
      ctx,
      kind,
      'backlog',
      `memory (b): ${fmt(messages * PENDING_ENDPOINTS)} pending deliveries, worker peak RSS over ${pendingSeconds} s`,
      before,
      top,
      `backlog set up in ${fmt(setup)} s; ${slow} answered meanwhile`,
      { pending: messages * PENDING_ENDPOINTS, setupSeconds: setup, seconds: pendingSeconds, answered: slow },
    );
  } finally {
    await worker.stop();
  }
}

export async function runMemory(ctx: BenchContext): Promise<void> {
  const kind = defaultDatabase();
  const { fanout, slowMs } = sizes(ctx);
  const { herald, env, close } = await openBenchHerald('memory', {}, kind);
  const publisher = new pg.Pool({ connectionString: herald.databaseUrl, max: 4 });
  try {
    console.log(
      `[memory] worker in a process of its own, concurrency ${herald.config.HERALD_WORKER_CONCURRENCY}; slow endpoints answer after ${slowMs} ms, each on its own port`,
    );
    const { ports } = await ask<{ ports: number[] }>(ctx.rx, 'listen', { kind: 'slow', delayMs: slowMs, n: Math.max(fanout, PENDING_ENDPOINTS) });
    await bigFanOut(ctx, kind, herald, env, publisher, ports.slice(0, fanout));
    await bigBacklog(ctx, kind, herald, env, publisher, ports);
  } finally {
    await publisher.end();
    await close();
  }
}
