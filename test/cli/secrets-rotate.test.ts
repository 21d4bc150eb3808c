/**
 * `herald secrets rotate-key` end to end: secrets of every kind sealed under OLD (signing secrets, one
 * still valid from a rotation, custom header values, a stored idempotent response, and a header value
 * an earlier version stored in clear), an interrupted run, the command finishing it with NEW,OLD, a
 * run that cannot open a value, and then a Herald with NEW alone that still signs with both secrets,
 * sends the custom headers, reveals the secret and replays the idempotent response.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { Api } from '../../src/api/context.js';
import { loadConfig } from '../../src/config.js';
import { openHerald, type Herald } from '../../src/engine/herald.js';
import { rotateSealedValues } from '../../src/engine/reseal.js';
import { loadSecretBox } from '../../src/engine/secret-keys.js';
import { silentLogger } from '../../src/logger.js';
import { verifyWebhook } from '../../src/sdk/verify.js';
import { countNotUnder } from '../../src/store/sealed-values.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { runCli } from './cli-process.js';

const OLD = randomBytes(32).toString('base64');
const NEW = randomBytes(32).toString('base64');
const ADMIN = `admin_${randomBytes(24).toString('hex')}`;
const kid = (k: string) => createHash('sha256').update(Buffer.from(k, 'base64')).digest('hex').slice(0, 8);
const ENDPOINTS = 4;

let db: TestDatabase;
let rx: Receiver;

/** A Herald (API and worker) on the shared database with these keys. */
async function open(keys: string): Promise<{ herald: Herald; app: Api; call: (method: string, url: string, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number; body: any; headers: Record<string, unknown> }> }> {
  const config = loadConfig({
    DATABASE_URL: db.url,
    HERALD_SECRET_KEY: keys,
    HERALD_ADMIN_TOKEN: ADMIN,
    HERALD_ALLOW_HTTP: 'true',
    HERALD_ALLOWED_NETWORKS: '127.0.0.0/8',
    HERALD_POLL_INTERVAL: '20ms',
    HERALD_LOG_LEVEL: 'silent',
  });
  const herald = await openHerald({ config, log: silentLogger, skipMigrations: true });
  const app = await buildApp({ herald, options: {} });
  await app.ready();
  const call = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${ADMIN}`, ...headers }, payload: body === undefined ? undefined : (body as object) });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined, headers: res.headers };
  };
  return { herald, app, call };
}

async function sealedKeyIds(): Promise<string[]> {
  const { rows } = await db.pool.query<{ kid: string }>(
    `select split_part(sealed, '.', 2) as kid from endpoint_secret
     union all select split_part(h.value->>'sealed', '.', 2) from endpoint e, jsonb_each(e.headers) h where jsonb_typeof(h.value) = 'object'
     union all select split_part(response, '.', 2) from idempotency_key where response is not null`,
  );
  return rows.map((r) => r.kid);
}

let appId: string;
let endpointId: string;
let firstSecret: string;
let createBody: string;

beforeAll(async () => {
  db = await createTestDatabase();
  rx = await startReceiver();
  const h = await open(OLD);
  appId = (await h.call('POST', '/api/v1/app', { name: 'Acme' })).body.id;
  for (let i = 0; i < ENDPOINTS; i++) {
    const created = await h.call('POST', `/api/v1/app/${appId}/endpoint`, { url: `${rx.url}/ep${i}`, headers: { authorization: `Bearer rx-token-${i}`, 'x-tenant': 'blue' } });
    expect(created.status).toBe(201);
    if (i === 0) ({ id: endpointId, secret: firstSecret } = created.body);
  }
  // A rotation with a grace period: two secrets sign, both sealed under OLD; its 204 is stored sealed.
  const rotated = await h.call('POST', `/api/v1/app/${appId}/endpoint/${endpointId}/secret/rotate`, {}, { 'idempotency-key': 'rotate-1' });
  expect(rotated.status).toBe(204);
  // An idempotent create whose stored answer holds a secret.
  const idem = await h.call('POST', `/api/v1/app/${appId}/endpoint`, { url: `${rx.url}/idem` }, { 'idempotency-key': 'create-1' });
  createBody = JSON.stringify(idem.body);
  // A header value stored in clear by an earlier version.
  await db.pool.query(`update endpoint set headers = headers || '{"x-legacy": "legacy-credential"}' where id = $1`, [endpointId]);
  await h.app.close();
  await h.herald.close();
  expect(new Set(await sealedKeyIds())).toEqual(new Set([kid(OLD)]));
});

afterAll(async () => {
  await rx?.close();
  await db?.drop();
});

describe('herald secrets rotate-key', { timeout: 60_000 }, () => {
  it('stops between batches when interrupted, leaving what it did done and the rest for the next run', async () => {
    const box = await loadSecretBox({ secretKey: `${NEW},${OLD}`, databaseUrl: db.url, dataDir: '/nonexistent', log: silentLogger });
    const stop = new AbortController();
    const done = await rotateSealedValues(db.pool, box, { batchSize: 1, signal: stop.signal, onProgress: () => stop.abort() });
    expect(done).toEqual({ 'endpoint secrets': 1, 'custom headers': 0, 'idempotent responses': 0 });
    const ids = await sealedKeyIds();
    expect(ids.filter((k) => k === kid(NEW))).toHaveLength(1);
    expect((await countNotUnder(db.pool, kid(NEW))).secrets).toBe(ENDPOINTS + 2 - 1);
  });

  it('refuses, naming the key it needs, when a value was sealed under a key it does not have', async () => {
    const res = await runCli(['secrets', 'rotate-key'], { env: { DATABASE_URL: db.url, HERALD_SECRET_KEY: NEW, HERALD_LOG_LEVEL: 'warn' } });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(new RegExp(`error: the signing secret \\(row \\d+\\) of endpoint ep_\\w+ cannot be opened: secret was encrypted with key ${kid(OLD)} which is not configured`));
    expect(res.stderr).toContain('add the key it was sealed with to HERALD_SECRET_KEY');
    expect(res.stderr + res.stdout).not.toContain(NEW);
    // Nothing changed.
    expect((await countNotUnder(db.pool, kid(NEW))).secrets).toBe(ENDPOINTS + 2 - 1);
  });

  it('re-seals everything under the first key, with progress, and says the old key can go', async () => {
    const res = await runCli(['secrets', 'rotate-key', '--batch-size', '2'], { env: { DATABASE_URL: db.url, HERALD_SECRET_KEY: `${NEW},${OLD}`, HERALD_LOG_LEVEL: 'warn' } });
    expect(res.stderr).toContain(`re-sealing stored secrets under key ${kid(NEW)}`);
    expect(res.stderr).toMatch(/endpoint secrets: 2 re-sealed\n/);
    expect(res.stderr).toMatch(/custom headers: \d+ re-sealed\n/);
    expect(res.stdout).toMatch(/the other keys can be removed from HERALD_SECRET_KEY/);
    expect(res.code).toBe(0);
    expect(new Set(await sealedKeyIds())).toEqual(new Set([kid(NEW)]));
    const { rows } = await db.pool.query<{ headers: string }>('select headers::text from endpoint');
    expect(rows.map((r) => r.headers).join()).not.toMatch(/rx-token|legacy-credential/);
    // Run again: nothing left to do.
    const again = await runCli(['secrets', 'rotate-key'], { env: { DATABASE_URL: db.url, HERALD_SECRET_KEY: `${NEW},${OLD}`, HERALD_LOG_LEVEL: 'warn' } });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^re-sealed 0 endpoint secrets, 0 endpoints' custom headers, 0 idempotent responses/);
  });

  it('leaves a Herald with the new key alone signing, sending custom headers and replaying stored answers', async () => {
    const h = await open(NEW);
    try {
      const worker = h.herald.createWorker();
      await worker.start();
      const secret = (await h.call('GET', `/api/v1/app/${appId}/endpoint/${endpointId}/secret`)).body.key as string;
      expect(secret).not.toBe(firstSecret);
      const msg = await h.call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'order.paid', payload: { n: 1 } });
      expect(msg.status).toBe(202);
      const got = await rx.waitFor(ENDPOINTS + 1);
      const first = got.find((r) => r.path === '/ep0')!;
      expect(first.headers.authorization).toBe('Bearer rx-token-0');
      expect(first.headers['x-tenant']).toBe('blue');
      expect(first.headers['x-legacy']).toBe('legacy-credential');
      // Two signatures during the rotation's grace period: one per secret, each verifies alone.
      expect(String(first.headers['webhook-signature']).split(' ')).toHaveLength(2);
      for (const s of [firstSecret, secret]) expect(verifyWebhook({ secrets: s, headers: first.headers, body: first.body }).ok).toBe(true);
      expect(got.find((r) => r.path === '/ep3')!.headers.authorization).toBe('Bearer rx-token-3');
      const replay = await h.call('POST', `/api/v1/app/${appId}/endpoint`, { url: `${rx.url}/idem` }, { 'idempotency-key': 'create-1' });
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(JSON.stringify(replay.body)).toBe(createBody);
      await worker.stop();
    } finally {
      await h.app.close();
      await h.herald.close();
    }
  });
});
