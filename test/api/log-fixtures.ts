/**
 * Fixtures for the delivery-log API tests: a running Herald (real server, real worker with a
 * 0, 1 s, 2 s retry schedule), a real receiver, factories with overrides, an HTTP caller, and a
 * bounded wait for things the worker does in the background (never a fixed sleep).
 */
import { createApplication } from '../../src/engine/applications.js';
import { createEndpoint } from '../../src/engine/endpoints.js';
import type { EndpointInput } from '../../src/store/endpoints.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** A parsed HTTP answer. */
export interface Answer {
  /** HTTP status. */
  status: number;
  /** JSON body (or text when the body is not JSON). */
  body: any;
  /** Response headers. */
  headers: Headers;
}

export interface LogFixture {
  /** The running Herald. */
  server: TestServer;
  /** The test receiver. */
  rx: Receiver;
  /** Calls the API with the operator token (or `token`). */
  call(method: string, path: string, body?: unknown, token?: string | null): Promise<Answer>;
  /** Creates an application. */
  makeApp(name?: string): Promise<{ id: string }>;
  /** Creates an endpoint on the receiver at `path` (default: a unique one). */
  makeEndpoint(appId: string, input?: Partial<EndpointInput> & { path?: string }): Promise<{ id: string; path: string }>;
  /** Closes receiver and server. */
  close(): Promise<void>;
}

let endpointCounter = 0;

export async function startLogFixture(env: Record<string, string> = {}, opts: { worker?: boolean } = {}): Promise<LogFixture> {
  const server = await startTestServer(env, opts);
  const rx = await startReceiver();
  const { herald } = server;
  return {
    server,
    rx,
    async call(method, path, body, token = server.adminToken) {
      const headers: Record<string, string> = {};
      if (token !== null) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${server.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // Not JSON (the CSV export): keep the text.
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async makeApp(name = 'Acme') {
      return createApplication(herald.pool, { name }, herald.clock.now());
    },
    async makeEndpoint(appId, input = {}) {
      const path = input.path ?? `/ep${++endpointCounter}`;
      const { endpoint } = await createEndpoint(
        herald.pool,
        herald.secretBox,
        appId,
        { ...input, url: input.url ?? `${rx.url}${path}` },
        { now: herald.clock.now(), policy: herald.urlPolicy },
      );
      return { id: endpoint.id, path };
    },
    async close() {
      await rx.close();
      await server.close();
    },
  };
}

/**
 * Polls `check` until it returns a value that is not undefined/false, or fails after `timeoutMs`
 * with the last value seen: for results the worker writes in the background.
 */
export async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    last = v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
