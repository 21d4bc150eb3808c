/**
 * The databases of a bench run: each scenario gets fresh ones, on the machine's PostgreSQL
 * (DATABASE_URL's server) or Herald's embedded PostgreSQL, and every one is dropped or removed when
 * the scenario ends, or when the run is interrupted (cleanup.ts).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/store/embedded-postgres.js';
import { locateBinaries } from '../src/store/embedded/binaries.js';
import { readPostmasterPid } from '../src/store/embedded/cluster.js';
import { onCleanup } from './cleanup.js';

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
