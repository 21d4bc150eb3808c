/**
 * A webhook receiver for isolation and throttling tests: listens on any loopback address (127.0.0.2 is
 * "another host" on Linux), answers per path (hang, or answer after a delay), and gauges how many
 * requests are open at once, per path and in all, so a test can assert that in-flight caps held.
 *
 * ```ts
 * const hang = await startGaugedReceiver({ host: '127.0.0.2', answer: () => 'hang' });
 * const slow = await startGaugedReceiver({ answer: (path) => (path === '/slow' ? { status: 200, delayMs: 200 } : { status: 200 }) });
 * expect(hang.peakOpen()).toBeLessThanOrEqual(8);
 * expect(new Set(slow.requests.map((r) => r.webhookId)).size).toBe(slow.requests.length);
 * await hang.close(); // destroys every socket, hanging ones included
 * ```
 * A request counts as open from the moment its head arrives until its response is finished or its
 * connection is closed (Herald's deadline closes it), so `open` is what the receiver holds right now.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** How to answer a request: never ('hang'), or with a status after an optional delay. */
export type GaugedAnswer = 'hang' | { status: number; delayMs?: number };

/** One request as the receiver saw it. */
export interface GaugedRequest {
  /** Path and query string. */
  path: string;
  /** The webhook-id header (the message id). */
  webhookId: string;
  /** Date.now() when the request head arrived. */
  arrivedAt: number;
}

/** Options of {@link startGaugedReceiver}. */
export interface GaugedReceiverOptions {
  /** Loopback address to listen on; default 127.0.0.1. */
  host?: string;
  /** Answer for a request to `path`; default 200 at once. */
  answer?: (path: string) => GaugedAnswer;
}

/** A running gauged receiver. */
export interface GaugedReceiver {
  /** Base URL, e.g. `http://127.0.0.2:43123`; append a path. */
  url: string;
  /** Every request so far, in arrival order. */
  requests: GaugedRequest[];
  /** Requests open now, to `path` or to any path. */
  open(path?: string): number;
  /** Most requests that were open at once, to `path` or in all. */
  peakOpen(path?: string): number;
  /** Requests received, to `path` or in all. */
  count(path?: string): number;
  /** Stops listening and destroys every connection, hanging ones included. */
  close(): Promise<void>;
}

/** Starts a gauged receiver on a free port. Close it after the test. */
export async function startGaugedReceiver(options: GaugedReceiverOptions = {}): Promise<GaugedReceiver> {
  const host = options.host ?? '127.0.0.1';
  const answer: (path: string) => GaugedAnswer = options.answer ?? (() => ({ status: 200 }));
  const requests: GaugedRequest[] = [];
  const openBy = new Map<string, number>();
  const peakBy = new Map<string, number>();
  let openAll = 0;
  let peakAll = 0;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const server = http.createServer((req, res) => {
    const path = req.url ?? '';
    requests.push({ path, webhookId: String(req.headers['webhook-id'] ?? ''), arrivedAt: Date.now() });
    openAll += 1;
    peakAll = Math.max(peakAll, openAll);
    const n = (openBy.get(path) ?? 0) + 1;
    openBy.set(path, n);
    peakBy.set(path, Math.max(peakBy.get(path) ?? 0, n));
    res.on('close', () => {
      openAll -= 1;
      openBy.set(path, (openBy.get(path) ?? 1) - 1);
    });
    req.resume(); // read and drop the body
    const a = answer(path);
    if (a === 'hang') return;
    const reply = () => {
      if (!res.destroyed && !res.writableEnded) res.writeHead(a.status).end();
    };
    req.on('end', () => {
      if (!a.delayMs) return reply();
      const t = setTimeout(() => (timers.delete(t), reply()), a.delayMs);
      timers.add(t);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${host}:${port}`,
    requests,
    open: (path) => (path === undefined ? openAll : (openBy.get(path) ?? 0)),
    peakOpen: (path) => (path === undefined ? peakAll : (peakBy.get(path) ?? 0)),
    count: (path) => (path === undefined ? requests.length : requests.filter((r) => r.path === path).length),
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/**
 * Polls `check` every 10 ms until it returns a value other than undefined or false, and returns that
 * value; throws naming `what` after `timeoutMs`. For waiting on a running worker without sleeping
 * a fixed time.
 */
export async function waitUntil<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
