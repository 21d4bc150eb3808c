/**
 * Route tests through Fastify's `inject`: buildApp over a test Herald (fresh database, fake clock),
 * an operator token, and helpers to make scoped API keys and portal tokens.
 *
 * ```ts
 * const api = await startApi();
 * const res = await api.call('POST', '/api/v1/app', { body: { name: 'Acme' } }); // as the operator
 * const key = await api.makeKey(['read'], appId);                               // a scoped API key
 * await api.call('GET', `/api/v1/app/${other}`, { token: key });                // -> 404
 * ```
 */
import { randomBytes } from 'node:crypto';
import { buildApp } from '../../src/api/app.js';
import type { Api } from '../../src/api/context.js';
import { startTestHerald, type TestHerald } from './herald.js';

/** A response, with the body parsed when it is JSON. */
export interface Reply {
  /** HTTP status. */
  status: number;
  /** Parsed JSON body (or the raw text). */
  body: any;
  /** Response headers. */
  headers: Record<string, string | string[] | number | undefined>;
}

/** Options of one call. */
export interface CallOptions {
  /** Bearer token; the operator token by default, null for none. */
  token?: string | null;
  /** JSON body (serialised) or a raw string/Buffer sent as is. */
  body?: unknown;
  /** Extra headers. */
  headers?: Record<string, string>;
}

export interface ApiHarness {
  /** The test Herald (clock, database). */
  t: TestHerald;
  /** The Fastify app. */
  app: Api;
  /** Operator token (HERALD_ADMIN_TOKEN). */
  admin: string;
  /** Sends a request through inject. */
  call(method: string, url: string, opts?: CallOptions): Promise<Reply>;
  /** Creates an API key through the API and returns the token. */
  makeKey(permissions: string[], appId?: string | null): Promise<string>;
  /** Creates an application through the API and returns it. */
  makeApp(body?: Record<string, unknown>): Promise<{ id: string; uid: string | null; name: string }>;
  close(): Promise<void>;
}

export async function startApi(env: Record<string, string> = {}): Promise<ApiHarness> {
  const admin = `admin_${randomBytes(24).toString('hex')}`;
  const t = await startTestHerald({ HERALD_ADMIN_TOKEN: admin, ...env });
  const app = await buildApp({ herald: t.herald, options: {} });
  await app.ready();
  const call = async (method: string, url: string, opts: CallOptions = {}): Promise<Reply> => {
    const token = opts.token === undefined ? admin : opts.token;
    const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...opts.headers };
    let payload: string | Buffer | undefined;
    if (opts.body !== undefined) {
      payload = typeof opts.body === 'string' || Buffer.isBuffer(opts.body) ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await app.inject({ method: method as 'GET', url, headers, payload });
    let body: unknown = res.body;
    try {
      body = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.statusCode, body, headers: res.headers };
  };
  let n = 0;
  return {
    t,
    app,
    admin,
    call,
    async makeKey(permissions, appId = null) {
      const res = await call('POST', '/api/v1/api-key', { body: { name: 'test key', permissions, appId } });
      if (res.status !== 201) throw new Error(`makeKey: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.key as string;
    },
    async makeApp(body = {}) {
      const res = await call('POST', '/api/v1/app', { body: { name: `App ${++n}`, ...body } });
      if (res.status !== 201) throw new Error(`makeApp: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async close() {
      await app.close();
      await t.close();
    },
  };
}
