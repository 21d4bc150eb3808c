/**
 * Integration tests of the embedded PostgreSQL: each test starts real postmasters in its own temporary
 * data directory, and afterEach stops everything it started (servers, child Herald processes, leftover
 * postmasters) before removing the directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres, type EmbeddedPostgresOptions } from './embedded-postgres.js';
import { readPostmasterPid } from './embedded/cluster.js';
import { isAlive, run, waitForExit } from './embedded/processes.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const modulePath = fileURLToPath(new URL('./embedded-postgres.ts', import.meta.url));
const isRoot = process.getuid?.() === 0;

/** Undo steps of the running test, run last-in first-out by afterEach. */
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const undo of cleanups.splice(0).reverse()) await undo();
});

type Logged = { level: string; msg: string };

async function tempDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-ep-'));
  cleanups.push(async () => {
    await killLeftoverPostmaster(join(dir, 'pg'));
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** A test that failed midway may leave a postmaster: stop it before its directory goes. */
async function killLeftoverPostmaster(pgDir: string): Promise<void> {
  const pm = await readPostmasterPid(pgDir);
  if (!pm || !(await isAlive(pm.pid))) return;
  process.kill(pm.pid, 'SIGQUIT');
  await waitForExit(pm.pid, 30_000);
}

async function start(dataDir: string, extra: Partial<EmbeddedPostgresOptions> = {}): Promise<{ pg: EmbeddedPostgres; logs: Logged[] }> {
  const logs: Logged[] = [];
  const server = await startEmbeddedPostgres({ dataDir, log: (level, msg) => logs.push({ level, msg }), ...extra });
  cleanups.push(() => server.stop());
  return { pg: server, logs };
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

/** Another Herald: a Node process that starts the embedded PostgreSQL on `dataDir`, prints its URL as
 * JSON, and stops it when its stdin closes. */
const CHILD_SCRIPT = `
const { startEmbeddedPostgres } = await import(process.argv[1]);
try {
  const pg = await startEmbeddedPostgres({ dataDir: process.argv[2], log: () => {} });
  process.stdout.write(JSON.stringify({ url: pg.url }) + '\\n');
  process.stdin.on('end', () => pg.stop().then(() => process.exit(0)));
  process.stdin.resume();
} catch (e) {
  process.stdout.write(JSON.stringify({ error: String(e) }) + '\\n');
  process.exit(1);
}
`;

async function startChildHerald(dataDir: string): Promise<{ child: ChildProcess; url: string; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD_SCRIPT, modulePath, dataDir], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise((done) => child.once('exit', done));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const lines = createInterface({ input: child.stdout! });
  const line = await new Promise<string | undefined>((done) => {
    lines.once('line', done);
    child.once('exit', () => done(undefined));
  });
  lines.close();
  const reply = JSON.parse(line ?? '{"error":"child exited before answering"}') as { url?: string; error?: string };
  if (!reply.url) throw new Error(`child Herald failed: ${reply.error}`);
  return { child, url: reply.url, exited };
}

/** A pid that is certainly dead: a process that has already exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((done) => child.once('exit', done));
  return child.pid!;
}

describe('startEmbeddedPostgres', () => {
  it('initialises a cluster on first start and returns a working URL to database herald', async () => {
    const dir = await tempDataDir();
    const { pg: server, logs } = await start(dir);
    expect(server.url).toBe(`postgres://herald@127.0.0.1:${server.port}/herald`);
    expect(await query(server.url, 'select 1 as one')).toEqual([{ one: 1 }]);
    const [settings] = await query<Record<string, string>>(
      server.url,
      `select current_database() as db, current_setting('listen_addresses') as listen,
              current_setting('unix_socket_directories') as sockets,
              (select pg_encoding_to_char(encoding) from pg_database where datname = 'herald') as encoding`,
    );
    expect(settings).toEqual({ db: 'herald', listen: '127.0.0.1', sockets: `"${join(dir, 'pg')}"`, encoding: 'UTF8' });
    await stat(join(dir, 'pg', `.s.PGSQL.${server.port}`)); // the unix socket lives in the data dir
    expect(logs.some((l) => l.msg.includes('initialising'))).toBe(true);
    expect(await readdir(dir)).toEqual(expect.arrayContaining(['pg', 'pg.log', 'herald.lock']));
  });

  it('reuses the existing cluster on the next start: data survives', async () => {
    const dir = await tempDataDir();
    const first = await start(dir);
    await query(first.pg.url, 'create table kept (v text); insert into kept values ($$still here$$)');
    await first.pg.stop();
    const second = await start(dir);
    expect(second.logs.some((l) => l.msg.includes('initialising'))).toBe(false);
    expect(await query(second.pg.url, 'select v from kept')).toEqual([{ v: 'still here' }]);
  });

  it.runIf(isRoot)('as root, runs PostgreSQL as a dedicated non-root OS user that owns the cluster', async () => {
    const dir = await tempDataDir();
    const { pg: server } = await start(dir);
    const pm = await readPostmasterPid(join(dir, 'pg'));
    const status = await readFile(`/proc/${pm!.pid}/status`, 'utf8');
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    expect(uid).not.toBe(0);
    expect((await stat(join(dir, 'pg'))).uid).toBe(uid);
    const postgresUser = await run('getent', ['passwd', 'postgres'], null);
    const expectedUser = postgresUser.code === 0 ? 'postgres' : 'herald-pg';
    expect((await run('id', ['-un', String(uid)], null)).output.trim()).toBe(expectedUser);
    expect(await query(server.url, 'select 1 as one')).toEqual([{ one: 1 }]);
  });

  // As root with a data directory the PostgreSQL user cannot reach: ./embedded/relocate.test.ts.

  it('recovers from a Herald killed with kill -9: the orphaned postmaster is shut down and data is intact', async () => {
    const dir = await tempDataDir();
    const other = await startChildHerald(dir);
    await query(other.url, 'create table survivor (v int); insert into survivor values (42)');
    const orphan = await readPostmasterPid(join(dir, 'pg'));
    other.child.kill('SIGKILL');
    await other.exited;
    expect(await isAlive(orphan!.pid)).toBe(true); // PostgreSQL outlived the killed Herald

    const { pg: server, logs } = await start(dir);
    expect(await query(server.url, 'select v from survivor')).toEqual([{ v: 42 }]);
    expect(logs).toContainEqual({ level: 'warn', msg: expect.stringContaining(`pid ${orphan!.pid}) was left running`) });
    expect(await isAlive(orphan!.pid)).toBe(false);
  });

  it('starts when postmaster.pid is stale: its pid is dead', async () => {
    const dir = await tempDataDir();
    await (await start(dir)).pg.stop();
    await writeFile(join(dir, 'pg', 'postmaster.pid'), `${await deadPid()}\n${join(dir, 'pg')}\n`);
    const { pg: server } = await start(dir);
    expect(await query(server.url, 'select 1 as one')).toEqual([{ one: 1 }]);
  });

  it('starts when postmaster.pid is stale: its pid now belongs to an unrelated process, which is left alone', async () => {
    const dir = await tempDataDir();
    await (await start(dir)).pg.stop();
    const unrelated = spawn('sleep', ['600']);
    cleanups.push(async () => unrelated.kill('SIGKILL'));
    await writeFile(join(dir, 'pg', 'postmaster.pid'), `${unrelated.pid}\n${join(dir, 'pg')}\n`);
    const { pg: server } = await start(dir);
    expect(await query(server.url, 'select 1 as one')).toEqual([{ one: 1 }]);
    expect(await isAlive(unrelated.pid!)).toBe(true);
  });

  it('refuses a second Herald process on the same data directory, and leaves the first one working', async () => {
    const dir = await tempDataDir();
    const other = await startChildHerald(dir);
    await expect(start(dir)).rejects.toThrow(
      `data directory ${dir} is in use by Herald pid ${other.child.pid}; stop it or use another HERALD_DATA_DIR`,
    );
    expect(await query(other.url, 'select 1 as one')).toEqual([{ one: 1 }]);
    other.child.stdin!.end(); // the other Herald stops cleanly and releases the lock
    await other.exited;
    const { pg: server } = await start(dir);
    expect(await query(server.url, 'select 1 as one')).toEqual([{ one: 1 }]);
  });

  it('refuses a second start in the same process', async () => {
    const dir = await tempDataDir();
    await start(dir);
    await expect(start(dir)).rejects.toMatchObject({ code: 'data_dir_in_use', message: expect.stringContaining(`pid ${process.pid} (this process)`) });
  });

  it('takes over a lock left by a dead process, or one that cannot be read', async () => {
    const dir = await tempDataDir();
    await writeFile(join(dir, 'herald.lock'), JSON.stringify({ pid: await deadPid(), startTime: null }));
    await (await start(dir)).pg.stop();
    await writeFile(join(dir, 'herald.lock'), 'garbage');
    await (await start(dir)).pg.stop();
  });

  it('uses a free port and warns when the preferred one is taken', async () => {
    const dir = await tempDataDir();
    const blocker: Server = createServer();
    await new Promise<void>((done) => blocker.listen({ port: 0, host: '127.0.0.1' }, done));
    cleanups.push(() => new Promise((done) => blocker.close(done)));
    const taken = (blocker.address() as AddressInfo).port;

    const { pg: server, logs } = await start(dir, { port: taken });
    expect(server.port).not.toBe(taken);
    expect(server.url).toContain(`@127.0.0.1:${server.port}/`);
    expect(logs).toContainEqual({ level: 'warn', msg: expect.stringContaining(`port ${taken} is in use`) });
    expect(await query(server.url, 'select 1 as one')).toEqual([{ one: 1 }]);
  });

  it('stop() shuts the server down, releases the lock, and is harmless to repeat', async () => {
    const dir = await tempDataDir();
    const { pg: server } = await start(dir);
    const pm = await readPostmasterPid(join(dir, 'pg'));
    await Promise.all([server.stop(), server.stop()]);
    await server.stop();
    expect(await isAlive(pm!.pid)).toBe(false);
    const left = await readdir(dir);
    expect(left).not.toContain('herald.lock');
    expect(await readdir(join(dir, 'pg'))).not.toContain('postmaster.pid');
  });

  it("reports a failed start with the tail of PostgreSQL's log, and releases the lock", async () => {
    const dir = await tempDataDir();
    await (await start(dir)).pg.stop();
    await appendFile(join(dir, 'pg', 'postgresql.conf'), '\nthis is = not = valid\n');
    const err = await start(dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'start_failed' });
    expect(String(err)).toContain(`Last lines of ${join(dir, 'pg.log')}`);
    expect(String(err)).toContain('syntax error');
    expect(await readdir(dir)).not.toContain('herald.lock');
  });

  it('removes a temporary directory left by an interrupted initdb, and refuses an incomplete cluster', async () => {
    const dir = await tempDataDir();
    await mkdir(join(dir, 'pg.init-abc123', 'base'), { recursive: true });
    await writeFile(join(dir, 'pg.init-abc123', 'PG_VERSION'), '18\n');
    await (await start(dir)).pg.stop();
    expect(await readdir(dir)).not.toContain('pg.init-abc123');

    const broken = await tempDataDir();
    await mkdir(join(broken, 'pg', 'base'), { recursive: true });
    await expect(start(broken)).rejects.toMatchObject({
      code: 'cluster',
      message: expect.stringContaining('is not a complete PostgreSQL cluster (no PG_VERSION)'),
    });
  });

  it('refuses a cluster made by another PostgreSQL major version', async () => {
    const dir = await tempDataDir();
    await (await start(dir)).pg.stop();
    await writeFile(join(dir, 'pg', 'PG_VERSION'), '17\n');
    await expect(start(dir)).rejects.toMatchObject({
      code: 'cluster',
      message: expect.stringContaining('was created by PostgreSQL 17 but the bundled binaries are PostgreSQL 18'),
    });
  });
});
