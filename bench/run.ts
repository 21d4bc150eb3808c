/**
 * `npm run bench`: Herald's delivery throughput and latency, each beside this machine's own limit
 * measured in the same run (a bare undici loop sending the same signed requests to the same receiver).
 *
 *  1. bare limit  — undici Pool, HMAC-signed POSTs, no database
 *  2. throughput  — publish a large batch (library publish, batches of 1000), worker delivers it;
 *                   durable deliveries/s from first publish to last arrival, SQL statements per 100
 *  3. latency     — publish at a steady 2,000 messages/s; publish-to-arrival p50/p99
 *
 * Uses DATABASE_URL (a fresh database is created on that server) or the embedded PostgreSQL.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Pool } from 'undici';
import { loadConfig } from '../src/config.js';
import { openHerald, type Herald } from '../src/engine/herald.js';
import { createApplication } from '../src/engine/applications.js';
import { createEndpoint } from '../src/engine/endpoints.js';
import { publishMany } from '../src/engine/publish.js';
import { generateSecret, parseSecret, signatureHeader } from '../src/core/signing.js';
import { createLogger } from '../src/logger.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 4);
const RATE = Number(process.env.BENCH_RATE ?? 2_000);
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 5);
const CONCURRENCY = 256;

const now = () => performance.timeOrigin + performance.now();

function ask<T>(child: ChildProcess, cmd: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as T));
    child.send({ cmd });
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function waitForCount(rx: ChildProcess, n: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { count } = await ask<{ count: number }>(rx, 'count');
    if (count >= n) return;
    if (Date.now() > until) throw new Error(`only ${count}/${n} deliveries arrived within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The machine's limit: the same signed requests, sent by a bare undici loop. */
async function bareLimit(url: string, n: number): Promise<number> {
  const key = parseSecret(generateSecret());
  const pool = new Pool(url, { connections: 16, pipelining: 1 });
  let next = 0;
  const start = now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        const i = next++;
        const body = JSON.stringify({ t: now(), i, orderId: `ord_${i}`, total: 4900 });
        const ts = Math.floor(Date.now() / 1000);
        const res = await pool.request({
          path: '/bare',
          method: 'POST',
          body,
          headers: {
            'content-type': 'application/json',
            'webhook-id': `msg_${i}`,
            'webhook-timestamp': String(ts),
            'webhook-signature': signatureHeader([key], `msg_${i}`, ts, body),
          },
        });
        await res.body.dump();
      }
    }),
  );
  const seconds = (now() - start) / 1000;
  await pool.close();
  return n / seconds;
}

async function openDatabase(): Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }> {
  const server = process.env.DATABASE_URL;
  if (server) {
    const name = `herald_bench_${process.pid}`;
    const admin = new pg.Client({ connectionString: server });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const u = new URL(server);
    u.pathname = `/${name}`;
    return {
      env: { DATABASE_URL: u.toString(), HERALD_SECRET_KEY: randomBytes(32).toString('base64') },
      cleanup: async () => {
        const c = new pg.Client({ connectionString: server });
        await c.connect();
        await c.query(`drop database if exists ${name} with (force)`);
        await c.end();
      },
    };
  }
  const dir = await mkdtemp(join(tmpdir(), 'herald-bench-'));
  return { env: { HERALD_DATA_DIR: dir }, cleanup: () => rm(dir, { recursive: true, force: true }) };
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

async function main(): Promise<void> {
  // From source (tsx) the receiver is a .ts file; once built it is .js. fork() inherits the loader flags.
  const rx = fork(new URL(import.meta.url.endsWith('.ts') ? './receiver.ts' : './receiver.js', import.meta.url), { stdio: 'inherit' });
  const { port } = await new Promise<{ port: number }>((r) => rx.once('message', (m) => r(m as { port: number })));
  const url = `http://127.0.0.1:${port}`;
  const db = await openDatabase();
  let herald: Herald | undefined;
  let publisher: pg.Pool | undefined;
  try {
    console.log(`Herald benchmark — ${cpus().length} CPUs, ${MESSAGES} messages × ${ENDPOINTS} endpoints, ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded'} PostgreSQL`);
    await bareLimit(url, 5_000); // warm-up
    const bare = await bareLimit(url, MESSAGES * ENDPOINTS);
    console.log(`bare undici limit      : ${bare.toFixed(0)} signed requests/s`);
    await ask(rx, 'reset');

    const config = loadConfig({
      ...db.env,
      HERALD_ALLOW_HTTP: 'true',
      HERALD_ALLOWED_NETWORKS: '127.0.0.0/8',
      HERALD_POLL_INTERVAL: '200ms',
      HERALD_LOG_LEVEL: 'warn',
    });
    herald = await openHerald({ config, log: createLogger('warn') });
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
      await throughput(phase, bare, rx, publisher!, app.id, statements);
    }
    await new Promise((r) => setTimeout(r, 500));
    await ask(rx, 'reset');

    // Latency at a steady rate, one endpoint subscribed to the event type.
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
      void publishMany(publisher!, latencyApp.id, batch);
    }
    const expected = ticks * perTick;
    await waitForCount(rx, expected, 120_000);
    const { latencies } = await ask<{ latencies: number[] }>(rx, 'stats');
    latencies.sort((a, b) => a - b);
    const achieved = expected / ((now() - t0) / 1000);
    console.log(
      `latency at ${RATE}/s     : p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms (${expected} messages, ${achieved.toFixed(0)}/s achieved)`,
    );
  } finally {
    await publisher?.end();
    await herald?.close();
    await db.cleanup();
    rx.send({ cmd: 'exit' });
  }
}

await main();
