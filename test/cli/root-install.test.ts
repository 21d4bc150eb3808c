/**
 * A newcomer on a fresh VM: root, Herald installed in a directory nobody else may enter (/root, here a
 * 0700 temporary directory), `herald serve` with the embedded database (issue 13 item 8). The project is
 * laid out there as `npm install` would (node_modules hard-linked from this checkout, so PostgreSQL's
 * binaries really are under the 0700 directory), and the real CLI is started from it twice: it must
 * answer, and find its data and its secret key again after the restart.
 */
import { cp, lstat, mkdtemp, readdir, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { readPostmasterPid } from '../../src/store/embedded/cluster.js';
import { isAlive, waitForExit } from '../../src/store/embedded/processes.js';
import { RELOCATION_ROOT } from '../../src/store/embedded/relocate.js';
import { freePort } from './cli-process.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const isRoot = process.getuid?.() === 0;
const ROOT_ONLY = isRoot ? '' : ' [skipped: not running as root; the case is root in a directory the PostgreSQL user cannot enter]';
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const undo of cleanups.splice(0).reverse()) await undo();
});


/** The project as installed in `dir`: sources and config copied, node_modules hard-linked (a copy
 * where links cannot be made). */
async function install(dir: string): Promise<void> {
  for (const f of ['src', 'package.json', 'tsconfig.json']) await cp(join(REPO, f), join(dir, f), { recursive: true });
  await promisify(execFile)('cp', ['-al', join(REPO, 'node_modules'), join(dir, 'node_modules')]).catch(() =>
    promisify(execFile)('cp', ['-a', join(REPO, 'node_modules'), join(dir, 'node_modules')]),
  );
}

/** `herald serve` from `cwd`, as `npm start` would run it there; resolves once it listens. */
async function serve(cwd: string, port: number): Promise<{ child: ChildProcess; output: () => string; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', String(port)], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_OPTIONS: '', HERALD_ADMIN_TOKEN: TOKEN, HERALD_ALLOW_HTTP: 'true', HERALD_ALLOWED_NETWORKS: '127.0.0.0/8' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<number | null>((done) => child.once('close', done));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  await new Promise<void>((done, fail) => {
    const check = () => (/Herald listening/.test(out) ? done() : undefined);
    child.stdout!.on('data', check);
    void exited.then((code) => fail(new Error(`herald serve exited (${code}) before listening:\n${out}`)));
  });
  return {
    child,
    output: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

const TOKEN = 'op_root_install_0123456789abcdef0123';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

describe.skipIf(!isRoot)(`herald serve as root from a 0700 directory, embedded database${ROOT_ONLY}`, () => {
  it('answers, says where PostgreSQL keeps its files, and keeps its data and secret key across a restart', async () => {
    const home = await mkdtemp(join(tmpdir(), 'herald-root-home-'));
    cleanups.push(() => rm(home, { recursive: true, force: true }));
    expect((await stat(home)).mode & 0o777).toBe(0o700);
    const project = join(home, 'herald');
    await install(project);
    const dataDir = join(project, '.herald');
    cleanups.push(async () => {
      // The relocated cluster goes too (the shared copy of the binaries stays: other Heralds use it).
      const target = await readlink(join(dataDir, 'pg')).catch(() => null);
      if (!target?.startsWith(`${RELOCATION_ROOT}/`)) return;
      const pm = await readPostmasterPid(target);
      if (pm && (await isAlive(pm.pid))) {
        process.kill(pm.pid, 'SIGQUIT');
        await waitForExit(pm.pid, 30_000);
      }
      await rm(dirname(target), { recursive: true, force: true });
    });

    const port = await freePort();
    const url = `http://127.0.0.1:${port}/api/v1`;
    const first = await serve(project, port);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const app = await (await fetch(`${url}/app`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'Kept' }) })).json();
    const ep = await (
      await fetch(`${url}/app/${app.id}/endpoint`, { method: 'POST', headers: auth, body: JSON.stringify({ url: 'http://127.0.0.1:9/hook' }) })
    ).json();
    const read = await fetch(`${url}/app/${app.id}/endpoint/${ep.id}/secret`, { headers: auth });
    const secret = (await read.json()).key as string;
    expect([read.status, ep.id, secret], first.output()).toEqual([200, expect.stringMatching(/^ep_/), expect.stringMatching(/^whsec_/)]);
    expect(await first.stop()).toBe(0);

    // Where: a log line names the cluster, and <dataDir>/pg links to it; the binaries run from a copy.
    const target = await readlink(join(dataDir, 'pg'));
    expect(target.startsWith(`${RELOCATION_ROOT}/`)).toBe(true);
    expect(first.output()).toContain(`the cluster of ${dataDir} is kept in ${target}, and ${join(dataDir, 'pg')} links to it`);
    expect(first.output()).toMatch(new RegExp(`which cannot enter ${home}: using the copy of its binaries in ${RELOCATION_ROOT}/postgres-`));
    // The secret key stays in the data directory, root's alone.
    expect(await readdir(dataDir)).toEqual(expect.arrayContaining(['secret.key', 'pg.log', 'pg']));
    expect((await lstat(join(dataDir, 'secret.key'))).mode & 0o777).toBe(0o600);

    const second = await serve(project, port);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect(second.output()).toContain(`the PostgreSQL cluster of ${dataDir} is ${target}`);
    expect(second.output()).not.toContain('initialising');
    const apps = await (await fetch(`${url}/app`, { headers: auth })).json();
    expect(apps.data.map((a: { id: string }) => a.id)).toContain(app.id);
    // Decrypting the stored secret needs the same key file as before.
    expect((await (await fetch(`${url}/app/${app.id}/endpoint/${ep.id}/secret`, { headers: auth })).json()).key).toBe(secret);
    expect(await second.stop()).toBe(0);
  });
});
