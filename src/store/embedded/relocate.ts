/**
 * Herald run as root from a directory the PostgreSQL OS user cannot enter (a checkout under /root, a
 * 0700 temporary directory): the usual first run on a fresh VM, issue 13 item 8. PostgreSQL refuses to
 * run as root, and the user it runs as instead cannot reach the binaries in node_modules or the cluster
 * in the data directory, so Herald arranges places it can reach under RELOCATION_ROOT instead of
 * stopping, without loosening the permissions of the operator's own directories:
 * - binaries: a copy of the package's native tree (bin, lib, share, about 60 MB) in
 *   `RELOCATION_ROOT/postgres-<version>-<platform>-<arch>-<hash>`, owned by root and readable by all,
 *   made once and shared by every Herald on the machine. A copy rather than hard links: links keep the
 *   source's modes (a root umask of 077 makes them unreadable) and fail across file systems;
 * - cluster: `RELOCATION_ROOT/<data dir path>-XXXXXX/pg`, owned by the PostgreSQL user, and
 *   `<dataDir>/pg` a symlink to it. The link is what keeps it stable: every start (and a data directory
 *   moved elsewhere) finds the same data through it, and `ls -l` shows an operator where it is.
 * The secret key file, pg.log and herald.lock stay in the data directory: Herald (root) reads and writes
 * them itself, and the key stays out of reach of the user that owns the rows it decrypts.
 */
import { createHash } from 'node:crypto';
import { chmod, cp, lstat, mkdir, mkdtemp, readdir, readFile, readlink, realpath, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { arch, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { PostgresBinaries } from './binaries.js';
import { EmbeddedPostgresError } from './errors.js';
import { checkBinaries, ensureDataDirReachable, firstUnsearchable } from './os-user.js';
import type { RunAs } from './processes.js';

type Log = (level: 'info' | 'warn' | 'error', msg: string) => void;

/** Where relocated binaries and clusters live: the FHS place for a service's persistent state. */
export const RELOCATION_ROOT = '/var/lib/herald';

/** Longest data-directory slug in a relocated cluster's name, so the unix socket path stays under 107 bytes. */
const MAX_SLUG = 48;

/** Binaries the PostgreSQL user can run, and their major version. */
export interface UsableBinaries {
  /** Paths of the binaries to run: the bundled ones, or the relocated copy. */
  bins: PostgresBinaries;
  /** Major version reported by `postgres --version`. */
  major: number;
}

/**
 * The bundled binaries when `runAs` can run them; otherwise (root only) a copy under RELOCATION_ROOT
 * that it can. Any failure of the bundled ones as root is worth a copy: besides an unreachable parent
 * (/root is 0700), an install under umask 077 leaves files only root can read, which the copy's
 * normalised modes fix too.
 */
export async function usableBinaries(bins: PostgresBinaries, runAs: RunAs | null, log: Log, root = RELOCATION_ROOT): Promise<UsableBinaries> {
  let original: unknown;
  try {
    return { bins, major: await checkBinaries(bins.postgres, runAs) };
  } catch (e) {
    if (!runAs || !(e instanceof EmbeddedPostgresError)) throw e;
    original = e;
  }
  const blocked = await firstUnsearchable(dirname(bins.postgres), runAs);
  const why = blocked ? `cannot enter ${blocked}` : 'cannot run them where npm installed them';
  const copy = await copyOfBinaries(bins, root, log);
  try {
    const major = await checkBinaries(copy.postgres, runAs);
    log('info', `PostgreSQL runs as OS user ${runAs.name}, which ${why}: using the copy of its binaries in ${dirname(dirname(copy.postgres))}`);
    return { bins: copy, major };
  } catch (e) {
    throw new EmbeddedPostgresError('permissions', `${(original as Error).message}\nThe copy in ${dirname(dirname(copy.postgres))} does not run either: ${(e as Error).message}`, { cause: e });
  }
}

/** The relocated copy of the native tree holding `bins`, made (into a temporary name, then renamed) if absent. */
async function copyOfBinaries(bins: PostgresBinaries, root: string, log: Log): Promise<PostgresBinaries> {
  const native = dirname(dirname(bins.postgres));
  if (dirname(dirname(bins.initdb)) !== native) {
    throw new EmbeddedPostgresError('permissions', `cannot copy the PostgreSQL binaries: ${bins.postgres} and ${bins.initdb} are not in one tree`);
  }
  const version = await readFile(join(native, '..', 'package.json'), 'utf8')
    .then((t) => String((JSON.parse(t) as { version?: unknown }).version ?? 'unknown'))
    .catch(() => 'unknown');
  // Sizes in the name: two different builds published under one version never share a copy.
  const sizes = await Promise.all([bins.postgres, bins.initdb].map(async (p) => (await stat(p)).size));
  const hash = createHash('sha256').update(`${version}:${sizes.join(':')}`).digest('hex').slice(0, 8);
  const dir = join(root, `postgres-${slug(version)}-${platform()}-${arch()}-${hash}`);
  const relocated = { postgres: join(dir, 'bin', 'postgres'), initdb: join(dir, 'bin', 'initdb') };
  if (await stat(relocated.postgres).catch(() => null)) return relocated;

  await makeRoot(root);
  log('info', `copying the bundled PostgreSQL binaries from ${native} to ${dir} so that PostgreSQL can run them`);
  const tmp = await mkdtemp(`${dir}.tmp-`);
  try {
    await cp(native, tmp, { recursive: true, verbatimSymlinks: true });
    await openUp(tmp);
    await rename(tmp, dir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    // Another Herald finished the same copy first: use theirs.
    if (['EEXIST', 'ENOTEMPTY'].includes((e as NodeJS.ErrnoException).code ?? '')) return relocated;
    throw new EmbeddedPostgresError('permissions', `copying the PostgreSQL binaries to ${dir} failed: ${(e as Error).message}`, { cause: e });
  }
  return relocated;
}

/** Root-owned, readable by everyone: directories 0755, files a+r, and a+x where the owner may execute. */
async function openUp(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { recursive: true })) {
    const p = join(dir, entry);
    const st = await lstat(p);
    if (st.isSymbolicLink()) continue;
    if (st.isDirectory()) await chmod(p, 0o755);
    else await chmod(p, st.mode & 0o100 ? 0o755 : 0o644);
  }
}

/** RELOCATION_ROOT itself: made 0755 when absent, whatever the umask, so others can enter it. */
async function makeRoot(root: string): Promise<void> {
  if (await stat(root).catch(() => null)) return;
  try {
    await mkdir(root, { recursive: true, mode: 0o755 });
    await chmod(root, 0o755);
  } catch (e) {
    throw new EmbeddedPostgresError(
      'permissions',
      `PostgreSQL cannot reach Herald's files here, and creating ${root} to keep them where it can failed: ` +
        `${(e as Error).message}. Use a HERALD_DATA_DIR (and an install) every user can enter, run Herald as a non-root user, or set DATABASE_URL.`,
      { cause: e },
    );
  }
}

/** A path as a readable directory name: `/root/herald/.herald` becomes `root-herald-.herald`. */
function slug(path: string): string {
  const s = path.replace(/[^A-Za-z0-9._]+/g, '-').replace(/^-+|-+$/g, '');
  return s.slice(Math.max(0, s.length - MAX_SLUG)) || 'data';
}

/**
 * The cluster directory to use for `dataDir`: `<dataDir>/pg` as it always was when `runAs` can reach it
 * (null: not root), the target of `<dataDir>/pg` when that is a link, and otherwise (root, a parent of
 * the data directory unreachable, no cluster yet) a new relocated cluster directory, linked from it.
 */
export async function clusterDirectory(dataDir: string, runAs: RunAs | null, log: Log, root = RELOCATION_ROOT): Promise<string> {
  const link = join(dataDir, 'pg');
  const current = await lstat(link).catch(() => null);
  if (current?.isSymbolicLink()) return followLink(dataDir, link, runAs, log);
  if (!runAs) return link;
  const blocked = await firstUnsearchable(dirname(dataDir), runAs);
  if (!blocked) {
    await ensureDataDirReachable(dataDir, runAs, log);
    return link;
  }
  if (current) {
    throw new EmbeddedPostgresError(
      'permissions',
      `PostgreSQL runs as OS user ${runAs.name} (it refuses root), which cannot enter ${blocked}, a parent of the ` +
        `existing cluster ${link}. Move ${link} to a directory it can enter and put a symlink to it at ${link}, ` +
        `allow it in (chmod o+x ${blocked}), or use a HERALD_DATA_DIR outside ${blocked}.`,
    );
  }
  await makeRoot(root);
  const real = await realpath(dataDir);
  const parent = await mkdtemp(join(root, `${slug(real)}-`));
  // Root-owned and enter-only for others: the PostgreSQL user reaches its cluster but cannot change
  // what Herald (root) does here (initdb's temporary directory, the rename to pg).
  await chmod(parent, 0o711);
  await writeFile(join(parent, 'data-dir'), `${real}\n`, { mode: 0o644 });
  const target = join(parent, 'pg');
  const tmpLink = `${link}.link-${process.pid}`;
  await rm(tmpLink, { force: true });
  await symlink(target, tmpLink);
  await rename(tmpLink, link); // atomic: the link exists whole or not at all
  log('info', `PostgreSQL runs as OS user ${runAs.name} (it refuses root), which cannot enter ${blocked}: the cluster of ${dataDir} is kept in ${target}, and ${link} links to it`);
  return target;
}

/** The target of `<dataDir>/pg` as a link, checked to exist (its parent at least) and to be reachable. */
async function followLink(dataDir: string, link: string, runAs: RunAs | null, log: Log): Promise<string> {
  const target = resolve(dataDir, await readlink(link));
  if (!(await stat(dirname(target)).catch(() => null))) {
    throw new EmbeddedPostgresError(
      'cluster',
      `${link} links to ${target}, which is missing (was ${dirname(target)} deleted, or the data directory copied from ` +
        `another machine?). Restore it from a backup, or delete the link ${link} to start with a new, empty database.`,
    );
  }
  const blocked = runAs ? await firstUnsearchable(dirname(target), runAs) : null;
  if (runAs && blocked) {
    throw new EmbeddedPostgresError('permissions', `PostgreSQL runs as OS user ${runAs.name}, which cannot enter ${blocked}, a parent of its cluster ${target} (linked from ${link}). Allow it (chmod o+x ${blocked}).`);
  }
  log('info', `the PostgreSQL cluster of ${dataDir} is ${target} (${link} links to it)`);
  return target;
}

