/**
 * Logs an operator can use (issue 13): a real Herald on a real port with its log captured, in both
 * formats. Every 5xx has one error line with the request id its body quotes and the cause; every
 * request has one access line; no token, secret, header value or query string reaches a line.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildApp } from '../../src/api/app.js';
import type { Api } from '../../src/api/context.js';
import { loadConfig } from '../../src/config.js';
import { systemClock } from '../../src/core/clock.js';
import { openHerald, type Herald } from '../../src/engine/herald.js';
import { createLogger, type LogFormat } from '../../src/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

/** A Herald serving HTTP whose every log line is kept. */
interface LoggedHerald {
  url: string;
  admin: string;
  herald: Herald;
  db: TestDatabase;
  /** Every line written, as text. */
  lines: string[];
  /** Calls the API (operator token unless `token` says otherwise). */
  call(method: string, path: string, opts?: { body?: unknown; token?: string | null; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

async function startLogged(format: LogFormat): Promise<LoggedHerald> {
  const db = await createTestDatabase();
  const admin = `admin_${randomBytes(24).toString('hex')}`;
  const lines: string[] = [];
  const log = createLogger('debug', { format, destination: { write: (s: string) => void lines.push(s) } });
  const config = loadConfig({
    DATABASE_URL: db.url,
    HERALD_SECRET_KEY: randomBytes(32).toString('base64'),
    HERALD_ADMIN_TOKEN: admin,
    HERALD_ALLOW_HTTP: 'true',
    HERALD_ALLOWED_NETWORKS: '127.0.0.0/8',
  });
  const herald = await openHerald({ config, log, clock: systemClock, skipMigrations: true });
  const app: Api = await buildApp({ herald, options: { publicUrl: 'http://127.0.0.1:9' } });
  // Test-only faults, on real routes of the real app: a handler that throws an error wrapping a
  // PostgreSQL one, and one whose answer does not match its response schema.
  app.get('/api/v1/test-fault/throws', { config: { permission: 'read' } }, async () => {
    const pgError = await herald.pool.query('select 1/0').catch((e: unknown) => e);
    throw new Error('could not compute the thing', { cause: pgError });
  });
  app.get(
    '/api/v1/test-fault/bad-answer',
    { config: { permission: 'read' }, schema: { response: { 200: z.object({ n: z.number() }) } } },
    async () => ({ n: 'not a number' }) as unknown as { n: number },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    url,
    admin,
    herald,
    db,
    lines,
    async call(method, path, opts = {}) {
      const token = opts.token === undefined ? admin : opts.token;
      const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...opts.headers };
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${url}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON
      }
      return { status: res.status, body, headers: res.headers };
    },
    async close() {
      await app.close();
      await herald.close().catch(() => undefined);
      await db.drop();
    },
  };
}

/** The JSON lines about one request. */
function linesOf(h: LoggedHerald, reqId: string): any[] {
  return h.lines.map((l) => JSON.parse(l)).filter((l) => l.reqId === reqId);
}

/**
 * Drives requests that carry every kind of secret: an API key, a portal token, an endpoint secret,
 * a custom header value, a cookie, a query string. Returns the secrets.
 */
async function exerciseSecrets(h: LoggedHerald): Promise<{ secrets: string[]; keyId: string; keyReqId: string }> {
  const app = (await h.call('POST', '/api/v1/app', { body: { name: 'Acme' } })).body;
  const key = await h.call('POST', '/api/v1/api-key', { body: { name: 'ci', permissions: ['read', 'create', 'update'], appId: null } });
  expect(key.status).toBe(201);
  const headerValue = `hdr-${randomBytes(12).toString('hex')}`;
  const endpointSecret = `whsec_${randomBytes(24).toString('base64')}`;
  const ep = await h.call('POST', `/api/v1/app/${app.id}/endpoint`, {
    token: key.body.key,
    body: { url: 'http://127.0.0.1:9/hook?token=urlsecret123', secret: endpointSecret, headers: { 'X-Api-Key': headerValue } },
  });
  expect(ep.status).toBe(201);
  const read = await h.call('GET', `/api/v1/app/${app.id}/endpoint/${ep.body.id}/secret`, { token: key.body.key });
  expect(read.body.key).toBe(endpointSecret);
  const portal = await h.call('POST', `/api/v1/auth/app-portal-access/${app.id}`, { body: {} });
  expect(portal.status).toBe(200);
  const cookie = `session=${randomBytes(8).toString('hex')}`;
  const querySecret = `q${randomBytes(8).toString('hex')}`;
  const list = await h.call('GET', `/api/v1/app/${app.id}/endpoint?limit=5&token=${querySecret}`, { token: portal.body.token, headers: { cookie } });
  expect(list.status).toBe(200);
  return {
    secrets: [h.admin, key.body.key, endpointSecret, headerValue, portal.body.token, cookie, querySecret, 'urlsecret123'],
    keyId: key.body.id,
    keyReqId: String(ep.headers.get('x-request-id')),
  };
}

describe('logs (json)', () => {
  let h: LoggedHerald;
  beforeAll(async () => {
    h = await startLogged('json');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('logs a 500 once at error with the request id its body quotes and the whole cause, and an access line', async () => {
    const res = await h.call('GET', '/api/v1/test-fault/throws');
    expect(res.status).toBe(500);
    const reqId = res.headers.get('x-request-id')!;
    expect(reqId).toMatch(/^req_[0-9a-z]{10}$/);
    expect(res.body.detail).toContain(reqId);
    // Nothing internal in the answer.
    expect(JSON.stringify(res.body)).not.toMatch(/division|22012|compute/);
    const lines = linesOf(h, reqId);
    const errors = lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ method: 'GET', route: '/api/v1/test-fault/throws', status: 500 });
    expect(errors[0].err).toMatchObject({ type: 'Error', message: 'could not compute the thing', cause: { message: 'division by zero', code: '22012' } });
    expect(errors[0].err.stack).toContain('could not compute the thing');
    expect(lines.filter((l) => l.level === 30)).toEqual([
      expect.objectContaining({ method: 'GET', route: '/api/v1/test-fault/throws', path: '/api/v1/test-fault/throws', status: 500, principal: 'admin', tokenId: 'admin' }),
    ]);
  });

  it('logs a real route failing in PostgreSQL, and an answer that does not match its schema, once each', async () => {
    await h.db.pool.query('alter table event_type rename to event_type_gone');
    let res;
    try {
      res = await h.call('GET', '/api/v1/event-type');
    } finally {
      await h.db.pool.query('alter table event_type_gone rename to event_type');
    }
    expect(res.status).toBe(500);
    const broken = linesOf(h, res.headers.get('x-request-id')!).filter((l) => l.level === 50);
    expect(broken).toEqual([expect.objectContaining({ route: '/api/v1/event-type', err: expect.objectContaining({ code: '42P01' }) })]);

    const bad = await h.call('GET', '/api/v1/test-fault/bad-answer');
    expect(bad.status).toBe(500);
    const badLines = linesOf(h, bad.headers.get('x-request-id')!);
    expect(badLines.filter((l) => l.level === 50)).toHaveLength(1);
    expect(badLines.filter((l) => l.level === 30)).toHaveLength(1);
  });

  it('writes one access line per request with route, path, status, duration, size and token id; 4xx are not errors', async () => {
    const { keyId, keyReqId } = await exerciseSecrets(h);
    const [created] = linesOf(h, keyReqId);
    expect(created).toMatchObject({ level: 30, method: 'POST', route: '/api/v1/app/:app_id/endpoint', status: 201, principal: 'api_key', tokenId: keyId });
    expect(created.ms).toEqual(expect.any(Number));
    expect(created.bytes).toBeGreaterThan(0);
    expect(created.msg).toMatch(/^POST \/api\/v1\/app\/app_\w+\/endpoint 201 [\d.]+ms$/);

    const missing = await h.call('GET', '/api/v1/app/app_00000000000000000000000000');
    expect(missing.status).toBe(404);
    expect(linesOf(h, missing.headers.get('x-request-id')!)).toEqual([expect.objectContaining({ level: 30, status: 404, route: '/api/v1/app/:app_id' })]);
    const unauthorized = await h.call('GET', '/api/v1/app', { token: 'hk_wrong_token_value' });
    expect(unauthorized.status).toBe(401);
    expect(linesOf(h, unauthorized.headers.get('x-request-id')!)).toEqual([expect.objectContaining({ level: 30, status: 401 })]);
    const nowhere = await h.call('GET', '/no/such/page');
    expect(linesOf(h, nowhere.headers.get('x-request-id')!)).toEqual([expect.objectContaining({ level: 30, status: 404, route: null, path: '/no/such/page' })]);
  });

  it('logs successful health checks and scrapes at debug', async () => {
    for (const path of ['/api/v1/health', '/api/v1/health/ping', '/metrics']) {
      const res = await h.call('GET', path, { token: null });
      expect(res.status).toBeLessThan(300);
      expect(linesOf(h, res.headers.get('x-request-id')!)).toEqual([expect.objectContaining({ level: 20, status: res.status })]);
    }
  });

  it('never writes a token, secret, header value or query string', async () => {
    const { secrets } = await exerciseSecrets(h);
    const all = h.lines.join('');
    expect(h.lines.length).toBeGreaterThan(10);
    for (const s of secrets) expect(all).not.toContain(s);
    expect(all).not.toMatch(/authorization|Bearer/i);
  });

  it('logs a 503 with its cause when the database is gone (closed pool), and a failing health check', async () => {
    await h.herald.pool.end();
    const res = await h.call('GET', '/api/v1/app');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    const reqId = res.headers.get('x-request-id')!;
    expect(res.body).toMatchObject({ code: 'unavailable' });
    expect(res.body.detail).toContain(reqId);
    const errors = linesOf(h, reqId).filter((l) => l.level === 50);
    expect(errors).toEqual([expect.objectContaining({ status: 503, err: expect.objectContaining({ message: expect.stringContaining('Cannot use a pool after calling end') }) })]);
    const health = await h.call('GET', '/api/v1/health', { token: null });
    expect(health.status).toBe(503);
    const healthLines = linesOf(h, health.headers.get('x-request-id')!);
    expect(healthLines.map((l) => l.level).sort()).toEqual([30, 50]);
  });
});

describe('logs (pretty)', () => {
  let h: LoggedHerald;
  beforeAll(async () => {
    h = await startLogged('pretty');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('writes readable lines with the request id, one per request, and redacts the same', async () => {
    const { secrets } = await exerciseSecrets(h);
    const res = await h.call('GET', '/api/v1/test-fault/throws');
    const reqId = res.headers.get('x-request-id')!;
    const all = h.lines.join('');
    for (const s of secrets) expect(all).not.toContain(s);
    expect(all).not.toMatch(/Bearer/);
    const about = h.lines.filter((l) => l.includes(reqId));
    expect(about.some((l) => /ERROR: unhandled error/.test(l) && l.includes('division by zero'))).toBe(true);
    expect(about.filter((l) => l.includes(`INFO: GET /api/v1/test-fault/throws 500`))).toHaveLength(1);
    // Not JSON: a person reads it.
    expect(() => JSON.parse(h.lines[0]!)).toThrow();
  });
});
