/**
 * `<dataDir>/herald.lock`: one Herald process per data directory. PostgreSQL's own postmaster.pid already
 * stops two postmasters sharing a cluster; this lock is what lets a starting Herald tell "another Herald is
 * using this directory" (refuse, with a clear message) from "a postmaster left by a Herald that was killed"
 * (safe to shut down), without ever touching a server another live Herald depends on.
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EmbeddedPostgresError } from './errors.js';
import { isAlive, processStartTime } from './processes.js';

/** Contents of the lock file. */
interface LockOwner {
  /** Pid of the Herald process holding the lock. */
  pid: number;
  /** Its start time from /proc (null elsewhere), so a reused pid is not mistaken for the owner. */
  startTime: string | null;
}

/** A held data directory lock. */
export interface DataDirLock {
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): Promise<void>;
}

/** Lock files this process holds, so a second start in the same process is refused too. */
const heldHere = new Set<string>();

async function readOwner(path: string): Promise<{ raw: string; owner: LockOwner | null } | null> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const v = JSON.parse(raw) as Partial<LockOwner>;
    if (typeof v.pid !== 'number' || !Number.isInteger(v.pid) || v.pid <= 0) return { raw, owner: null };
    return { raw, owner: { pid: v.pid, startTime: typeof v.startTime === 'string' ? v.startTime : null } };
  } catch {
    return { raw, owner: null }; // unreadable: nobody can prove they own it, so it is stale
  }
}

/** Is the recorded owner a live process other than a previous incarnation of this pid? */
async function ownerIsLive(path: string, owner: LockOwner): Promise<boolean> {
  if (owner.pid === process.pid) return heldHere.has(path);
  if (!(await isAlive(owner.pid))) return false;
  const startTime = await processStartTime(owner.pid);
  return owner.startTime === null || startTime === null || startTime === owner.startTime;
}

/**
 * Takes `<dataDir>/herald.lock` or throws `data_dir_in_use`. The file is written in full to a private
 * name and then hard-linked into place: link() fails if the name exists (like O_EXCL) and nobody can ever
 * read a half-written lock. A stale lock (owner dead, or its pid reused) is moved aside under a unique
 * name and checked to be the very file judged stale before it is deleted, so two processes taking over
 * the same stale lock cannot delete each other's fresh one.
 */
export async function acquireDataDirLock(dataDir: string): Promise<DataDirLock> {
  const path = join(dataDir, 'herald.lock');
  const me: LockOwner = { pid: process.pid, startTime: await processStartTime(process.pid) };
  const mine = JSON.stringify(me) + '\n';
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, mine, { mode: 0o644 });
  try {
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        await link(tmp, path);
        heldHere.add(path);
        return { release: () => releaseLock(path, mine) };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const current = await readOwner(path);
      if (!current) continue; // released in between: try again
      if (current.owner && (await ownerIsLive(path, current.owner))) {
        const who = current.owner.pid === process.pid ? `${process.pid} (this process)` : current.owner.pid;
        throw new EmbeddedPostgresError(
          'data_dir_in_use',
          `data directory ${dataDir} is in use by Herald pid ${who}; stop it or use another HERALD_DATA_DIR`,
        );
      }
      await takeOverStale(path, current.raw);
    }
    throw new EmbeddedPostgresError('data_dir_in_use', `could not take ${path}: it keeps changing; is another Herald starting?`);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function takeOverStale(path: string, staleRaw: string): Promise<void> {
  const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else moved it first
    throw e;
  }
  const moved = await readFile(aside, 'utf8').catch(() => null);
  if (moved !== staleRaw) {
    // Between our read and the rename a new owner replaced the stale lock: put theirs back (link never
    // overwrites) and let the caller's loop report them.
    await link(aside, path).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}

async function releaseLock(path: string, mine: string): Promise<void> {
  if (!heldHere.has(path)) return;
  heldHere.delete(path);
  const current = await readFile(path, 'utf8').catch(() => null);
  if (current === mine) await unlink(path).catch(() => undefined);
}
