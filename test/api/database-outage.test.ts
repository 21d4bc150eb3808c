/**
 * The API while its PostgreSQL goes away and comes back (issue 13): every request that failed because
 * the database did not answer gets 503 with Retry-After (never 500), whether it was in flight when the
 * server stopped or arrived while it was down; and a publish with an Idempotency-Key whose first
 * attempt died with the database is stored once when retried, not refused with 409. The file runs its
 * own embedded PostgreSQL (it stops it), whatever DATABASE_URL says.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { Api } from '../../src/api/context.js';
import { loadConfig } from '../../src/config.js';
import { openHerald, type Herald } from '../../src/engine/herald.js';
import { silentLogger } from '../../src/logger.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/store/embedded-postgres.js';
import { FakeClock } from '../support/fake-clock.js';

const admin = `admin_${randomBytes(24).toString('hex')}`;
let dataDir: string;
let server: EmbeddedPostgres | undefined;
let port: number;
let herald: Herald;
let app: Api;
let appId: string;

const quiet = () => undefined;

async function startServer(): Promise<void> {
  server = await startEmbeddedPostgres({ dataDir, port: port ?? 0, log: quiet });
  if (port !== undefined && server.port !== port) throw new Error(`PostgreSQL came back on port ${server.port}, not ${port}`);
  port = server.port;
}

async function stopServer(): Promise<void> {
  await server?.stop();
  server = undefined;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'herald-outage-'));
  await startServer();
  // blockMessageTable holds its lock in a prepared transaction, which PostgreSQL allows only when
  // max_prepared_transactions is above 0; the setting takes effect at the next start.
  await sql(`alter system set max_prepared_transactions = 4`);
  await stopServer();
  await startServer();
  const config = loadConfig({
    DATABASE_URL: server!.url,
    HERALD_SECRET_KEY: randomBytes(32).toString('base64'),
    HERALD_ADMIN_TOKEN: admin,
    HERALD_LOG_LEVEL: 'silent',
  });
  herald = await openHerald({ config, log: silentLogger, clock: new FakeClock(Date.now()) });
  app = await buildApp({ herald, options: {} });
  await app.ready();
  appId = (await call('POST', '/api/v1/app', { name: 'Outage' })).body.id;
});

afterAll(async () => {
  await app?.close();
  await herald?.close();
  await stopServer();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await app.inject({
    method: method as 'GET',
    url,
    headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    payload: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined, headers: res.headers };
}

async function sql(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: server!.url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

const LOCK_GID = 'herald-outage-lock';

/**
 * Holds an exclusive lock on the message table until the server stops, so requests that reach it
 * block there: they are in flight, past their first statements, when the database goes away.
 * Resolves once `waiters` other sessions are waiting for that lock.
 *
 * The lock belongs to a prepared transaction, not to a session: a fast shutdown ends every session in
 * an order of PostgreSQL's choosing, and a session-held lock released first would let a waiter run its
 * query and answer 200 before its own session ended. A prepared transaction keeps the lock through the
 * shutdown, so every waiter fails; {@link releaseMessageTable} rolls it back after the restart.
 */
async function blockMessageTable(waiters: number, start: () => Promise<unknown>[]): Promise<Promise<unknown>[]> {
  const locker = new pg.Client({ connectionString: server!.url });
  await locker.connect();
  try {
    await locker.query('begin');
    await locker.query('lock table message in access exclusive mode');
    await locker.query(`prepare transaction '${LOCK_GID}'`);
    const inFlight = start();
    for (;;) {
      const { rows } = await locker.query<{ n: number }>(
        `select count(distinct pid)::int as n from pg_locks where relation = 'message'::regclass and not granted`,
      );
      if (rows[0]!.n >= waiters) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    return inFlight;
  } finally {
    await locker.end();
  }
}

async function releaseMessageTable(): Promise<void> {
  await sql(`rollback prepared '${LOCK_GID}'`);
}

function expectUnavailable(res: { status: number; body: any; headers: Record<string, unknown> }, what: string): void {
  expect({ what, status: res.status, code: res.body?.code }).toEqual({ what, status: 503, code: 'unavailable' });
  expect(res.headers['retry-after'], what).toBe('1');
}

describe('the API during a PostgreSQL outage', () => {
  it('answers 503 with Retry-After, not 500, to requests in flight when the server stops and to those made while it is down', async () => {
    const msg = (await call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'order.paid', payload: { n: 0 } })).body;
    expect(msg.id).toMatch(/^msg_/);

    const inFlight = await blockMessageTable(3, () => [
      call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'order.paid', payload: { n: 1 } }),
      call('GET', `/api/v1/app/${appId}/msg`),
      call('GET', `/api/v1/app/${appId}/msg/${msg.id}`),
    ]);
    await stopServer();
    const [publish, list, get] = (await Promise.all(inFlight)) as Awaited<ReturnType<typeof call>>[];
    expectUnavailable(publish!, 'publish in flight');
    expectUnavailable(list!, 'list in flight');
    expectUnavailable(get!, 'get in flight');

    const down = {
      publish: await call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'order.paid', payload: { n: 2 } }),
      batch: await call('POST', `/api/v1/app/${appId}/msg/batch`, { messages: [{ eventType: 'order.paid', payload: { n: 3 } }] }),
      list: await call('GET', `/api/v1/app/${appId}/msg`),
      getMessage: await call('GET', `/api/v1/app/${appId}/msg/${msg.id}`),
      getApp: await call('GET', `/api/v1/app/${appId}`),
      listApps: await call('GET', '/api/v1/app'),
      createEndpoint: await call('POST', `/api/v1/app/${appId}/endpoint`, { url: 'https://hooks.example.com/in' }),
    };
    for (const [what, res] of Object.entries(down)) expectUnavailable(res, `${what} while down`);

    await startServer();
    await releaseMessageTable();
    const after = await call('GET', `/api/v1/app/${appId}/msg/${msg.id}`);
    expect(after.status).toBe(200);
    // The publish that was in flight was rolled back with its transaction: only the first message exists.
    const listed = await call('GET', `/api/v1/app/${appId}/msg`);
    expect(listed.body.data.map((m: { payload: { n: number } }) => m.payload.n)).toEqual([0]);
  });

  it('stores a publish whose Idempotency-Key claim outlived the failed first attempt once, when it is retried after the database is back', async () => {
    const body = { eventType: 'invoice.sent', payload: { invoice: 'in_1' } };
    const headers = { 'idempotency-key': 'outage-publish-1' };
    const [first] = await blockMessageTable(1, () => [call('POST', `/api/v1/app/${appId}/msg`, body, headers)]);
    await stopServer();
    // The first attempt fails with the database, and so does its attempt to release the key.
    expectUnavailable((await first) as Awaited<ReturnType<typeof call>>, 'first attempt');
    expectUnavailable(await call('POST', `/api/v1/app/${appId}/msg`, body, headers), 'retry while down');

    await startServer();
    await releaseMessageTable();
    const retry = await call('POST', `/api/v1/app/${appId}/msg`, body, headers);
    expect(retry.status).toBe(202);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    const replay = await call('POST', `/api/v1/app/${appId}/msg`, body, headers);
    expect(replay.status).toBe(202);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.id).toBe(retry.body.id);
    const { rows } = await herald.pool.query(`select count(*)::int as n from message where event_type = 'invoice.sent'`);
    expect(rows[0].n).toBe(1);
  });
});
