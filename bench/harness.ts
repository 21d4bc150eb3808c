/**
 * What every benchmark scenario shares: the receiver process, sizes, Herald's settings and Herald
 * opened in process the way `herald serve` opens it, percentiles, and the bare undici limit.
 * Databases are in databases.ts, Herald as a child process in herald-process.ts.
 */
import { type ChildProcess } from 'node:child_process';
import { Pool } from 'undici';
import { loadConfig } from '../src/config.js';
import { openHerald, type Herald } from '../src/engine/herald.js';
import { generateSecret, parseSecret, signatureHeader } from '../src/core/signing.js';
import { createLogger } from '../src/logger.js';
import { defaultDatabase, openDatabase, type DatabaseKind } from './databases.js';
import type { Report } from './report.js';

/** Epoch milliseconds with sub-millisecond precision; the receiver uses the same clock. */
export const now = () => performance.timeOrigin + performance.now();

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** What a scenario is given by the runner. */
export interface BenchContext {
  /** The receiver process. */
  rx: ChildProcess;
  /** Base URL of the receiver's main server, e.g. http://127.0.0.1:40123. */
  url: string;
  /** The bare undici limit measured at the start of this run, requests/s. */
  bare: number;
  /** `--quick`: smaller sizes and shorter phases, slow parts skipped. */
  quick: boolean;
  /** Where every figure goes. */
  report: Report;
}

/** A size: the full run's, the --quick run's, or the one set by a BENCH_* variable. */
export function size(ctx: { quick: boolean }, variable: string, full: number, quick: number): number {
  const set = process.env[variable];
  if (set !== undefined && set !== '') {
    const n = Number(set);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${variable} must be a positive number (got "${set}")`);
    return n;
  }
  return ctx.quick ? quick : full;
}

/** Receiver counters (see receiver.ts). */
export interface ReceiverCounts {
  /** Healthy requests, answered 200 at once. */
  count: number;
  /** Requests to hanging paths and ports, never answered. */
  hung: number;
  /** Requests answered 500. */
  failed: number;
  /** Requests answered 200 after a delay. */
  slow: number;
  /** Arrival of the first and the last healthy request since the last reset, epoch ms (0: none yet). */
  first: number;
  last: number;
}

/** Sends one command to a child and resolves with its answer (one command at a time). */
export function ask<T>(child: ChildProcess, cmd: string, extra: Record<string, unknown> = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`child process exited (${code}) before answering ${cmd}`));
    child.once('exit', onExit);
    child.once('message', (m) => {
      child.off('exit', onExit);
      resolve(m as T);
    });
    child.send({ cmd, ...extra });
  });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Waits until the receiver's counter `key` reaches n; answers whether it did within timeoutMs. */
export async function reachCount(rx: ChildProcess, n: number, timeoutMs: number, key: keyof ReceiverCounts = 'count'): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const counts = await ask<ReceiverCounts>(rx, 'count');
    if (counts[key] >= n) return true;
    if (Date.now() > until) return false;
    await sleep(20);
  }
}

/** The machine's limit: the same signed requests, sent by a bare undici loop. */
export async function bareLimit(url: string, n: number, concurrency = 256): Promise<number> {
  const key = parseSecret(generateSecret());
  const pool = new Pool(url, { connections: 16, pipelining: 1 });
  let next = 0;
  const start = now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
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

/** Settings every scenario uses: plain HTTP to loopback receivers, a short poll, quiet logs. */
export const BENCH_SETTINGS = {
  HERALD_ALLOW_HTTP: 'true',
  HERALD_ALLOWED_NETWORKS: '127.0.0.0/8',
  HERALD_POLL_INTERVAL: '200ms',
  HERALD_LOG_LEVEL: 'warn',
} as const;

/** Where the bench puts each Herald: not taken from the bench's environment. */
const PLACEMENT = new Set(['HERALD_DATA_DIR', 'HERALD_PORT', 'HERALD_HOST']);

/**
 * Herald settings from the bench's own environment: they win over the bench's, so any setting can be
 * measured; the data directory, port and host stay the bench's, since every scenario needs its own.
 */
export function heraldSettingsFromEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('HERALD_') && !PLACEMENT.has(e[0]) && e[1] !== undefined),
  );
}

/**
 * Opens a database and Herald on it in this process, with an explicit secret key so that a worker
 * in another process (memory scenario) can open the same endpoint secrets. `env` is what that
 * process needs.
 */
export async function openBenchHerald(
  scenario: string,
  settings: Record<string, string> = {},
  kind: DatabaseKind = defaultDatabase(),
): Promise<{ herald: Herald; env: Record<string, string>; close: () => Promise<void> }> {
  const db = await openDatabase(scenario, kind);
  const env: Record<string, string> = {
    ...db.env,
    ...BENCH_SETTINGS,
    ...settings,
    ...heraldSettingsFromEnv(),
  };
  let herald: Herald;
  try {
    herald = await openHerald({ config: loadConfig(env), log: createLogger('warn') });
  } catch (e) {
    await db.cleanup();
    throw e;
  }
  return {
    herald,
    env: { ...env, DATABASE_URL: herald.databaseUrl },
    close: async () => {
      await herald.close();
      await db.cleanup();
    },
  };
}
