/**
 * What every benchmark scenario shares: the receiver process, the database each scenario gets to
 * itself, Herald opened the way `herald serve` opens it, percentiles, and the bare undici limit.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Pool } from 'undici';
import { loadConfig } from '../src/config.js';
import { openHerald, type Herald } from '../src/engine/herald.js';
import { generateSecret, parseSecret, signatureHeader } from '../src/core/signing.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/store/embedded-postgres.js';
import { locateBinaries } from '../src/store/embedded/binaries.js';
import { readPostmasterPid } from '../src/store/embedded/cluster.js';
import { createLogger } from '../src/logger.js';
import { onCleanup } from './cleanup.js';
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
  /** Names of the scenarios selected for this run (some size themselves by it). */
  selected: string[];
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

/** Waits until the receiver's counter `key` reaches n; throws after timeoutMs. */
export async function waitForCount(rx: ChildProcess, n: number, timeoutMs: number, key: keyof ReceiverCounts = 'count'): Promise<void> {
  if (!(await reachCount(rx, n, timeoutMs, key))) {
    const got = (await ask<ReceiverCounts>(rx, 'count'))[key];
    throw new Error(`only ${got}/${n} deliveries arrived within ${timeoutMs} ms`);
  }
}

/** Like waitForCount, but answers whether the count was reached instead of throwing. */
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

/**
 * Where a scenario's database lives: a fresh database on the machine's PostgreSQL (DATABASE_URL's
 * server), or Herald's embedded PostgreSQL in a temporary data directory.
 */
export type DatabaseKind = 'machine' | 'embedded';

/** The database every scenario uses unless it asks: the machine's when DATABASE_URL is set. */
export const defaultDatabase = (): DatabaseKind => (process.env.DATABASE_URL ? 'machine' : 'embedded');

/** A database of a scenario's own, and what Herald needs to use it. */
export interface BenchDatabase {
  kind: DatabaseKind;
  /** DATABASE_URL, or HERALD_DATA_DIR for an embedded PostgreSQL that Herald starts itself; and HERALD_SECRET_KEY. */
  env: Record<string, string>;
  /** Drops the database (or stops a postmaster left running and removes the data directory). Idempotent. */
  cleanup: () => Promise<void>;
}

/** Prefix of every database the bench creates on the machine's server; the bench's pid follows it. */
const DB_PREFIX = 'herald_bench_';
let databases = 0;

/**
 * A fresh database. `machine` creates one on DATABASE_URL's server. `embedded` gives a temporary
 * HERALD_DATA_DIR, so Herald starts its own embedded PostgreSQL there as a user's would; with
 * `url: true` the bench starts that PostgreSQL itself and gives its DATABASE_URL, for scenarios
 * where several Herald processes share it.
 */
export async function openDatabase(scenario = '', kind: DatabaseKind = defaultDatabase(), opts: { url?: boolean } = {}): Promise<BenchDatabase> {
  const secret = { HERALD_SECRET_KEY: randomBytes(32).toString('base64') };
  if (kind === 'machine') {
    const server = process.env.DATABASE_URL;
    if (!server) throw new Error('the machine PostgreSQL needs DATABASE_URL');
    const name = `${DB_PREFIX}${process.pid}_${databases++}${scenario ? `_${scenario.replace(/\W/g, '_')}` : ''}`;
    await adminQuery(server, `create database ${name}`);
    const u = new URL(server);
    u.pathname = `/${name}`;
    const cleanup = onCleanup(`drop database ${name}`, async () => void (await adminQuery(server, `drop database if exists ${name} with (force)`)));
    return { kind, env: { DATABASE_URL: u.toString(), ...secret }, cleanup };
  }
  const dir = await mkdtemp(join(tmpdir(), 'herald-bench-'));
  let embedded: EmbeddedPostgres | undefined;
  const cleanup = onCleanup(`remove ${dir}`, async () => {
    await embedded?.stop();
    await stopLeftoverPostmaster(join(dir, 'pg'));
    await rm(dir, { recursive: true, force: true });
  });
  if (!opts.url) return { kind, env: { HERALD_DATA_DIR: dir, ...secret }, cleanup };
  try {
    embedded = await startEmbeddedPostgres({ dataDir: dir, log: (level, msg) => level !== 'info' && console.error(`embedded PostgreSQL: ${msg}`) });
  } catch (e) {
    await cleanup();
    throw e;
  }
  return { kind, env: { DATABASE_URL: embedded.url, ...secret }, cleanup };
}

async function adminQuery(server: string, sql: string): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: server });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

/**
 * A postmaster that a killed Herald left behind in a data directory the bench created (the embedded
 * PostgreSQL runs in a session of its own, so it outlives a SIGKILL of Herald): fast shutdown, then
 * an immediate one.
 */
async function stopLeftoverPostmaster(pgDir: string): Promise<void> {
  const pm = await readPostmasterPid(pgDir);
  if (!pm) return;
  for (const [sig, waitMs] of [['SIGINT', 10_000], ['SIGQUIT', 5_000], ['SIGKILL', 1_000]] as const) {
    try {
      process.kill(pm.pid, sig);
    } catch {
      return; // gone
    }
    const until = Date.now() + waitMs;
    while (Date.now() < until) {
      try {
        process.kill(pm.pid, 0);
      } catch {
        return;
      }
      await sleep(50);
    }
  }
}

/**
 * Drops `herald_bench_<pid>_…` databases of bench runs that no longer exist (killed with SIGKILL,
 * so their own cleanup never ran); a run still going keeps its databases.
 */
export async function dropStaleDatabases(): Promise<string[]> {
  const server = process.env.DATABASE_URL;
  if (!server) return [];
  const { rows } = await adminQuery(server, `select datname from pg_database where datname like '${DB_PREFIX}%'`);
  const dropped: string[] = [];
  for (const { datname } of rows as { datname: string }[]) {
    const pid = Number(/^herald_bench_(\d+)_/.exec(datname)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || existsSync(`/proc/${pid}`)) continue;
    await adminQuery(server, `drop database if exists ${datname} with (force)`);
    dropped.push(datname);
  }
  return dropped;
}

/** The server version of the machine's PostgreSQL (e.g. "15.20"), or of the embedded binaries. */
export async function postgresVersion(kind: DatabaseKind): Promise<string> {
  if (kind === 'machine') {
    const { rows } = await adminQuery(process.env.DATABASE_URL!, 'show server_version');
    return String((rows[0] as { server_version: string }).server_version);
  }
  const { postgres } = await locateBinaries();
  const out = await new Promise<string>((resolve, reject) =>
    execFile(postgres, ['--version'], (e, stdout) => (e ? reject(e) : resolve(stdout))),
  );
  return /(\d+(?:\.\d+)*)/.exec(out)?.[1] ?? out.trim();
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
