/**
 * Scenario `throughput`: Herald as a library, the way a platform embeds it: `publishMany` in batches
 * of 1,000 from the platform's own pg pool while one in-process worker delivers.
 *
 *  - durable deliveries/s from the first publish to the last arrival, with 4 endpoints per message
 *    [target ≥ 15,000], then 1 and 50; each on a fresh database and again in steady state (after
 *    ANALYZE); with SQL statements per 100 deliveries (Herald's pool) and CPU per delivery;
 *  - publish-to-arrival latency at a steady 2,000 messages/s published in 10 ms outbox flushes;
 *  - what payload filters cost the publish path, 50 endpoints with and without (./payload-filters.ts).
 */
import { type ChildProcess } from 'node:child_process';
import pg from 'pg';
import type { Herald } from '../src/engine/herald.js';
import { createApplication } from '../src/engine/applications.js';
import { createEndpoint } from '../src/engine/endpoints.js';
import { publishMany } from '../src/engine/publish.js';
import { defaultDatabase, type DatabaseKind } from './databases.js';
import { payloadFilterFigures } from './payload-filters.js';
import { ask, now, openBenchHerald, percentile, reachCount, size, sleep, type BenchContext, type ReceiverCounts } from './harness.js';
import { startCpuWindow } from './proc-stats.js';
import { addResourceFigures, fmt } from './report.js';

const SECTION = 'library';
/** The library target: durable deliveries/s with 4 endpoints per message. */
const TARGET = 15_000;
const PUBLISH_BATCH = 1_000;

/** Messages of the 4-endpoint run (BENCH_MESSAGES); the 1- and 50-endpoint runs send as many deliveries. */
export function libraryMessages(ctx: BenchContext, endpoints: number): number {
  const four = size(ctx, 'BENCH_MESSAGES', 20_000, 1_500);
  return Math.max(1, Math.round((four * 4) / Math.max(endpoints, 2)));
}

/** Counts statements sent on every pooled connection. */
function countStatements(pool: pg.Pool): { read(): number } {
  let n = 0;
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...a: unknown[]) => unknown;
    (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...args: unknown[]) => {
      n++;
      return query(...args);
    };
  });
  return { read: () => n };
}

/** What one library phase is run with. */
interface Phase {
  kind: DatabaseKind;
  endpoints: number;
  messages: number;
  name: 'fresh database' | 'steady state';
  rx: ChildProcess;
  publisher: pg.Pool;
  appId: string;
  statements: { read(): number };
}

/** Publishes the phase's messages in batches of 1,000 while the worker delivers; adds its figures. */
async function phase(ctx: BenchContext, p: Phase): Promise<void> {
  const total = p.messages * p.endpoints;
  await ask(p.rx, 'reset');
  const before = p.statements.read();
  const cpu = startCpuWindow();
  const start = now();
  for (let sent = 0; sent < p.messages; sent += PUBLISH_BATCH) {
    const batch = Array.from({ length: Math.min(PUBLISH_BATCH, p.messages - sent) }, (_, i) => ({
      eventType: 'order.paid',
      payload: { t: now(), i: sent + i, orderId: `ord_${sent + i}`, total: 4900 },
    }));
    await publishMany(p.publisher, p.appId, batch);
  }
  const published = now();
  const timeoutMs = ctx.quick ? 60_000 : 300_000;
  const complete = await reachCount(p.rx, total, timeoutMs);
  const used = cpu.stop();
  const counts = await ask<ReceiverCounts>(p.rx, 'count');
  const arrived = Math.min(counts.count, total);
  const seconds = ((counts.last || now()) - start) / 1000;
  const base = {
    key: `library.${p.endpoints}.${p.name === 'fresh database' ? 'fresh' : 'steady'}.${p.kind}`,
    section: SECTION,
    label: `library, ${p.endpoints} endpoint${p.endpoints === 1 ? '' : 's'} per message, ${p.name}`,
    database: p.kind,
  };
  ctx.report.add({
    ...base,
    value: arrived / seconds,
    unit: 'deliveries/s',
    rate: true,
    ...(p.endpoints === 4 ? { target: { op: '>=' as const, value: TARGET } } : {}),
    note: [
      `publishMany ${fmt(p.messages / ((published - start) / 1000))} messages/s`,
      complete ? '' : `only ${arrived} of ${total} deliveries arrived within ${timeoutMs / 1000} s`,
    ].filter(Boolean).join('; '),
    details: { messages: p.messages, endpoints: p.endpoints, deliveries: arrived, expected: total, seconds, publishSeconds: (published - start) / 1000 },
  });
  addResourceFigures(ctx.report, base, {
    deliveries: arrived,
    statements: p.statements.read() - before,
    cpu: used,
    heraldIs: "the bench process: Herald's worker and publishMany",
    peakRss: null,
  });
}

/** Latency at a steady rate, one endpoint subscribed to the event type. */
async function latency(ctx: BenchContext, kind: DatabaseKind, herald: Herald, publisher: pg.Pool): Promise<void> {
  const rate = size(ctx, 'BENCH_RATE', 2_000, 2_000);
  const rateSeconds = size(ctx, 'BENCH_RATE_SECONDS', 5, 2);
  const latencyApp = await createApplication(herald.pool, { name: 'latency' }, new Date());
  await createEndpoint(herald.pool, herald.secretBox, latencyApp.id, { url: `${ctx.url}/latency` }, { now: new Date(), policy: herald.urlPolicy });
  await sleep(500);
  await ask(ctx.rx, 'reset');
  const tickMs = 10;
  // Publishes run without awaiting each other so a slow commit does not lower the offered rate.
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
  const ticks = (rateSeconds * 1000) / tickMs;
  const t0 = now();
  for (let k = 0; k < ticks; k++) {
    const wait = t0 + k * tickMs - now();
    if (wait > 0) await sleep(wait);
    const batch = Array.from({ length: perTick }, (_, i) => ({ eventType: 'order.paid', payload: { t: now(), k, i } }));
    // The platform flushes its outbox every tick: one publish call per tick carries that tick's messages.
    void publishMany(publisher, latencyApp.id, batch);
  }
  const expected = ticks * perTick;
  await reachCount(ctx.rx, expected, 120_000);
  const { latencies } = await ask<{ latencies: number[] }>(ctx.rx, 'stats');
  const missing = Math.max(0, expected - latencies.length);
  const all = latencies.sort((a, b) => a - b).concat(Array<number>(missing).fill(Infinity));
  const achieved = latencies.length / ((now() - t0) / 1000);
  const [p50, p99, max] = [percentile(all, 50), percentile(all, 99), all.at(-1)!];
  ctx.report.add({
    key: `library.latency.${kind}`,
    section: SECTION,
    label: `library, publish-to-arrival at ${fmt(rate)} messages/s in 10 ms outbox flushes, 1 endpoint`,
    database: kind,
    value: p99,
    unit: 'ms',
    text: `p50 ${fmt(p50, 1)} / p99 ${fmt(p99, 1)} / max ${fmt(max, 1)} ms`,
    ...(missing > 0 ? { note: `${missing} of ${expected} not arrived within 120 s (counted as ∞)` } : {}),
    details: { rate, seconds: rateSeconds, messages: expected, p50, p99, max, missing, achieved },
  });
}

/**
 * The library figures with `endpoints` per message on a fresh database of `kind`: a fresh-database
 * phase and a steady-state phase, then (with `withLatency`) the latency line.
 */
export async function libraryFigures(ctx: BenchContext, kind: DatabaseKind, endpoints: number, withLatency: boolean): Promise<void> {
  const { herald, close } = await openBenchHerald(`library${endpoints}`, {}, kind);
  let publisher: pg.Pool | undefined;
  try {
    await ask(ctx.rx, 'reset');
    const statements = countStatements(herald.pool);
    const app = await createApplication(herald.pool, { name: 'bench' }, new Date());
    for (let i = 0; i < endpoints; i++) {
      await createEndpoint(herald.pool, herald.secretBox, app.id, { url: `${ctx.url}/ep${i}` }, { now: new Date(), policy: herald.urlPolicy });
    }
    await herald.createWorker().start();
    // The platform publishes from its own process with its own connections, not Herald's pool.
    publisher = new pg.Pool({ connectionString: herald.databaseUrl, max: 16 });
    const messages = libraryMessages(ctx, endpoints);
    // Everything published up front, as after an outage or a burst. Twice: on a fresh database, whose
    // queue has no planner statistics yet, and in steady state, once statistics exist (autovacuum
    // collects them on its own within a minute; the bench runs ANALYZE to not wait).
    for (const name of ['fresh database', 'steady state'] as const) {
      if (name === 'steady state') await herald.pool.query('analyze delivery; analyze message; analyze attempt');
      await phase(ctx, { kind, endpoints, messages, name, rx: ctx.rx, publisher, appId: app.id, statements });
    }
    if (withLatency) await latency(ctx, kind, herald, publisher);
  } finally {
    await publisher?.end();
    await close();
  }
}

export async function runThroughput(ctx: BenchContext): Promise<void> {
  const kind = defaultDatabase();
  console.log(`[throughput] Herald as a library: publishMany in batches of ${PUBLISH_BATCH}, one worker in process`);
  await libraryFigures(ctx, kind, 4, true);
  await payloadFilterFigures(ctx, kind);
  for (const endpoints of [1, 50]) {
    if (ctx.quick) ctx.report.skip(SECTION, `library.${endpoints}.skipped`, `library, ${endpoints} endpoint${endpoints === 1 ? '' : 's'} per message`, kind, '--quick');
    else await libraryFigures(ctx, kind, endpoints, false);
  }
}
