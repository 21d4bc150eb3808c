/**
 * Scenario `memory`: the resident set of a worker process (bench/worker-process.ts, a child of its own,
 * read from /proc/<pid>/status) when
 *  (a) one 1 MiB message fans out to 600 slow endpoints (each answers after 5 s, each on a port, so an
 *      origin, of its own): is the payload held once, or once per request in flight?
 *  (b) 1,000,000 deliveries are pending (10,000 messages × 100 slow endpoints) while the worker runs
 *      for 20 s: does anything in the worker grow with the backlog?
 * The default run of every scenario uses 100,000 pending deliveries for (b), to stay short;
 * `--only memory` uses 1,000,000; BENCH_PENDING sets it either way.
 * Peaks are the kernel's own high-water mark (VmHWM, reset through clear_refs before each phase), so a
 * spike between two samples is not missed; the 10 ms samples of VmRSS back it up where that reset is
 * not permitted.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { createApplication } from '../src/engine/applications.js';
import { createEndpoint } from '../src/engine/endpoints.js';
import type { Herald } from '../src/engine/herald.js';
import { publishMany } from '../src/engine/publish.js';
import { ask, now, openBenchHerald, reachCount, sleep, type BenchContext, type ReceiverCounts } from './harness.js';

const FANOUT = Number(process.env.BENCH_MEMORY_FANOUT ?? 600);
const SLOW_MS = Number(process.env.BENCH_MEMORY_SLOW_MS ?? 5_000);
const PENDING_ENDPOINTS = 100;
const PENDING_SECONDS = Number(process.env.BENCH_PENDING_SECONDS ?? 20);
/** Messages per publish call while filling the backlog (× 100 endpoints = delivery rows per statement). */
const FILL_BATCH = 200;
const MIB = 1_048_576;

/** Pending deliveries for (b): the full million when memory runs alone, a tenth in the default run. */
function pendingCount(selected: string[]): number {
  if (process.env.BENCH_PENDING) return Number(process.env.BENCH_PENDING);
  return selected.length === 1 && selected[0] === 'memory' ? 1_000_000 : 100_000;
}

/** VmRSS and VmHWM of a process, in bytes. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/** Samples VmRSS every 10 ms from now on, after resetting the kernel's high-water mark if allowed. */
function watchPeak(pid: number): { stop(): number } {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5'); // 5 = reset the peak resident set size
  } catch {
    // Not permitted here: the samples alone give the peak.
  }
  let max = memoryOf(pid).rss;
  const timer = setInterval(() => (max = Math.max(max, memoryOf(pid).rss)), 10);
  return {
    stop() {
      clearInterval(timer);
      const { rss, hwm } = memoryOf(pid);
      return Math.max(max, rss, Number.isFinite(hwm) ? hwm : 0);
    },
  };
}

const mib = (bytes: number) => `${(bytes / MIB).toFixed(0)} MiB`;

/** A worker process opened on the scenario's database (not started yet). */
async function workerProcess(env: Record<string, string>): Promise<{ child: ChildProcess; pid: number; stop(): Promise<void> }> {
  // From source (tsx) the child is a .ts file; once built it is .js. fork() inherits the loader flags.
  const child = fork(new URL(import.meta.url.endsWith('.ts') ? './worker-process.ts' : './worker-process.js', import.meta.url), { stdio: 'inherit' });
  await ask(child, 'open', { env });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    pid: child.pid!,
    async stop() {
      child.send({ cmd: 'stop' });
      // Slow requests in flight finish first; past that, this process started it and ends it.
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function endpointsOn(herald: Herald, appId: string, ports: number[], name: string): Promise<void> {
  for (const [i, port] of ports.entries()) {
    await createEndpoint(herald.pool, herald.secretBox, appId, { url: `http://127.0.0.1:${port}/${name}/e${i}` }, { now: new Date(), policy: herald.urlPolicy });
  }
}

/** (a) One 1 MiB message to FANOUT slow endpoints. */
async function bigFanOut(ctx: BenchContext, herald: Herald, env: Record<string, string>, publisher: pg.Pool, ports: number[]): Promise<void> {
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
async function bigBacklog(ctx: BenchContext, herald: Herald, env: Record<string, string>, publisher: pg.Pool, ports: number[]): Promise<void> {
  const pending = pendingCount(ctx.selected);
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
    await sleep(PENDING_SECONDS * 1000);
    const top = peak.stop();
    const { slow } = await ask<ReceiverCounts>(ctx.rx, 'count');
    const note = pending < 1_000_000 ? ' (full million: --only memory, or BENCH_PENDING=1000000)' : '';
    console.log(
      `  ${messages * PENDING_ENDPOINTS} pending deliveries   : ${messages} messages × ${PENDING_ENDPOINTS} slow endpoints, set up in ${setup.toFixed(0)} s${note}`,
    );
    console.log(
      `                              worker RSS before start ${mib(before)}, peak ${mib(top)} (+${mib(top - before)}) over ${PENDING_SECONDS} s running; ${slow} answered meanwhile`,
    );
  } finally {
    await worker.stop();
  }
}

export async function runMemory(ctx: BenchContext): Promise<void> {
  const { herald, env, close } = await openBenchHerald('memory');
  const publisher = new pg.Pool({ connectionString: herald.databaseUrl, max: 4 });
  try {
    console.log(
      `[memory] worker in a process of its own, concurrency ${herald.config.HERALD_WORKER_CONCURRENCY}; slow endpoints answer after ${SLOW_MS} ms, each on its own port`,
    );
    const { ports } = await ask<{ ports: number[] }>(ctx.rx, 'listen', { kind: 'slow', delayMs: SLOW_MS, n: Math.max(FANOUT, PENDING_ENDPOINTS) });
    await bigFanOut(ctx, herald, env, publisher, ports.slice(0, FANOUT));
    await bigBacklog(ctx, herald, env, publisher, ports);
  } finally {
    await publisher.end();
    await close();
  }
}
