/**
 * Scenario `throughput`: Herald's delivery throughput and latency, each beside the bare undici limit.
 *
 *  - throughput — publish a large batch (library publish, batches of 1000), worker delivers it;
 *                 durable deliveries/s from first publish to last arrival, SQL statements per 100,
 *                 on a fresh database and again in steady state (after ANALYZE)
 *  - latency    — publish at a steady 2,000 messages/s; publish-to-arrival p50/p99
 */
import { type ChildProcess } from 'node:child_process';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { openHerald, type Herald } from '../src/engine/herald.js';
import { createApplication } from '../src/engine/applications.js';
import { createEndpoint } from '../src/engine/endpoints.js';
import { publishMany } from '../src/engine/publish.js';
import { createLogger } from '../src/logger.js';
import { ask, BENCH_SETTINGS, heraldSettingsFromEnv, now, openDatabase, percentile, waitForCount, type BenchContext } from './harness.js';

export const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);
export const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 4);
const RATE = Number(process.env.BENCH_RATE ?? 2_000);
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 5);

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

/** Publishes MESSAGES in batches of 1000 while the worker delivers; prints the figures. */
async function throughput(
  phase: string,
  bare: number,
  rx: ChildProcess,
  publisher: pg.Pool,
  appId: string,
  statements: { read(): number },
): Promise<void> {
  const total = MESSAGES * ENDPOINTS;
  const before = statements.read();
  const start = now();
  for (let sent = 0; sent < MESSAGES; sent += 1000) {
    const batch = Array.from({ length: Math.min(1000, MESSAGES - sent) }, (_, i) => ({
      eventType: 'order.paid',
      payload: { t: now(), i: sent + i, orderId: `ord_${sent + i}`, total: 4900 },
    }));
    await publishMany(publisher, appId, batch);
  }
  const published = now();
  await waitForCount(rx, total, 300_000);
  const seconds = (now() - start) / 1000;
  const used = statements.read() - before;
  console.log(`[${phase}]`);
  console.log(`  publish              : ${(MESSAGES / ((published - start) / 1000)).toFixed(0)} messages/s (batches of 1000)`);
  console.log(`  durable deliveries   : ${(total / seconds).toFixed(0)} deliveries/s end to end, publishing included (${((total / seconds / bare) * 100).toFixed(0)} % of the bare limit)`);
  console.log(`  worker statements    : ${((used / total) * 100).toFixed(1)} per 100 deliveries`);
}

/** Latency at a steady rate, one endpoint subscribed to the event type. */
async function latency(herald: Herald, rx: ChildProcess, url: string, publisher: pg.Pool): Promise<void> {
  const latencyApp = await createApplication(herald.pool, { name: 'latency' }, new Date());
  await createEndpoint(herald.pool, herald.secretBox, latencyApp.id, { url: `${url}/latency` }, { now: new Date(), policy: herald.urlPolicy });
  const tickMs = 10;
  // Publishes run without awaiting each other so a slow commit does not lower the offered rate.
  const perTick = Math.max(1, Math.round((RATE * tickMs) / 1000));
  const ticks = (RATE_SECONDS * 1000) / tickMs;
  const t0 = now();
  for (let k = 0; k < ticks; k++) {
    const due = t0 + k * tickMs;
    const wait = due - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const batch = Array.from({ length: perTick }, (_, i) => ({ eventType: 'order.paid', payload: { t: now(), k, i } }));
    // The platform flushes its outbox every tick: one publish call per tick carries that tick's messages.
    // (Single-message publishes top out near 1,000/s on a 2-core machine that also runs PostgreSQL,
    // the receiver and the worker: each is a round trip and a commit.)
    void publishMany(publisher, latencyApp.id, batch);
  }
  const expected = ticks * perTick;
  await waitForCount(rx, expected, 120_000);
  const { latencies } = await ask<{ latencies: number[] }>(rx, 'stats');
  latencies.sort((a, b) => a - b);
  const achieved = expected / ((now() - t0) / 1000);
  console.log(
    `latency at ${RATE}/s     : p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms (${expected} messages, ${achieved.toFixed(0)}/s achieved)`,
  );
}

export async function runThroughput({ rx, url, bare }: BenchContext): Promise<void> {
  const db = await openDatabase();
  let herald: Herald | undefined;
  let publisher: pg.Pool | undefined;
  try {
    await ask(rx, 'reset');
    herald = await openHerald({ config: loadConfig({ ...db.env, ...BENCH_SETTINGS, ...heraldSettingsFromEnv() }), log: createLogger('warn') });
    const statements = countStatements(herald.pool);
    const app = await createApplication(herald.pool, { name: 'bench' }, new Date());
    for (let i = 0; i < ENDPOINTS; i++) {
      await createEndpoint(herald.pool, herald.secretBox, app.id, { url: `${url}/ep${i}` }, { now: new Date(), policy: herald.urlPolicy });
    }
    const worker = herald.createWorker();
    await worker.start();
    // The platform publishes from its own process with its own connections, not Herald's pool.
    publisher = new pg.Pool({ connectionString: herald.databaseUrl, max: 16 });

    // Throughput: everything published up front, as after an outage or a burst. Twice: on a fresh
    // database, whose queue has no planner statistics yet, and in steady state, once statistics exist
    // (autovacuum collects them on its own within a minute; the bench runs ANALYZE to not wait).
    for (const phase of ['fresh database', 'steady state'] as const) {
      if (phase === 'steady state') await herald.pool.query('analyze delivery; analyze message; analyze attempt');
      await ask(rx, 'reset');
      await throughput(phase, bare, rx, publisher, app.id, statements);
    }
    await new Promise((r) => setTimeout(r, 500));
    await ask(rx, 'reset');
    await latency(herald, rx, url, publisher);
  } finally {
    await publisher?.end();
    await herald?.close();
    await db.cleanup();
  }
}
