/**
 * A real HTTP(S) webhook receiver for tests (the Svix `TestReceiver` idea): listens on 127.0.0.1, port 0,
 * records every request, and answers the way the test tells it to.
 *
 * ```ts
 * const rx = await startReceiver();
 * rx.respondWith({ status: 503, headers: { 'retry-after': '5' } }); // default answer from now on
 * rx.respondOnce({ status: 500 });                                  // next request only (queued, FIFO)
 * rx.respondWith((req, res) => { res.socket?.destroy(); });         // full control: drip, reset, hang...
 * await rx.waitFor(3);                                              // three requests have arrived
 * expect(rx.requests[0]!.headers['webhook-id']).toBe(msgId);
 * await rx.close();                                                 // in afterEach: closes every socket
 * ```
 * Requests are recorded (body fully read) before the handler runs, so `requests` and `waitFor` also count
 * requests whose handler then hangs or resets the connection.
 */
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the receiver saw it. */
export interface ReceivedRequest {
  /** HTTP method, e.g. `POST`. */
  method: string;
  /** Path and query string, e.g. `/hook?x=1`. */
  path: string;
  /** Request headers as node:http parsed them (names lower-cased). */
  headers: http.IncomingHttpHeaders;
  /** The raw request body, exactly as received. */
  body: Buffer;
  /** When the full body had arrived. */
  receivedAt: Date;
}

/** A canned answer. */
export interface ResponseSpec {
  /** Status code to send. */
  status: number;
  /** Response headers. */
  headers?: Record<string, string | string[]>;
  /** Response body; empty when omitted. */
  body?: string | Buffer;
  /** Wait this long before answering (the answer is skipped if the client went away meanwhile). */
  delayMs?: number;
}

/**
 * Full control over the answer: write to `res` yourself (stream, drip, destroy the socket, never answer),
 * or return a ResponseSpec to have it sent for you.
 */
export type ResponseHandler = (req: ReceivedRequest, res: http.ServerResponse) => void | ResponseSpec | Promise<void | ResponseSpec>;

/** What to answer: a canned response or a handler. */
export type Responder = ResponseSpec | ResponseHandler;

/** Options for {@link startReceiver}. */
export interface ReceiverOptions {
  /** Serve HTTPS with this PEM key and certificate instead of plain HTTP. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** The initial default answer; `200` with an empty body when omitted. */
  respondWith?: Responder;
}

/** A running receiver. */
export interface Receiver {
  /** Base URL, e.g. `http://127.0.0.1:43123` (no trailing slash); append any path. */
  url: string;
  /** The port it listens on. */
  port: number;
  /** Every request received so far, in arrival order. */
  requests: ReceivedRequest[];
  /** TCP connections accepted so far (cumulative; shows whether a client reused keep-alive connections). */
  readonly connections: number;
  /** Sets the default answer for all following requests (after any queued `respondOnce` answers). */
  respondWith(responder: Responder): void;
  /** Queues an answer for exactly one upcoming request; queued answers are used first, in order. */
  respondOnce(responder: Responder): void;
  /** Resolves with `requests` once at least `n` requests have arrived; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /** Stops listening and destroys every open connection (including ones with a hanging handler). */
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1 on a free port. Close it in `afterEach`. */
export async function startReceiver(options: ReceiverOptions = {}): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const queue: Responder[] = [];
  let fallback: Responder = options.respondWith ?? { status: 200 };
  let connections = 0;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const waiters = new Set<() => void>();

  const onRequest = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return; // the client went away mid-body: nothing to record or answer
    }
    const received: ReceivedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks),
      receivedAt: new Date(),
    };
    requests.push(received);
    for (const wake of waiters) wake();
    const responder = queue.shift() ?? fallback;
    try {
      const spec = typeof responder === 'function' ? await responder(received, res) : responder;
      if (spec) await send(res, spec);
    } catch (e) {
      // A throwing handler is a test bug; answer 500 so the failure is visible instead of a hang.
      if (!res.headersSent) res.writeHead(500).end(String(e));
    }
  };

  const send = async (res: http.ServerResponse, spec: ResponseSpec) => {
    if (spec.delayMs) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => (timers.delete(t), resolve()), spec.delayMs);
        timers.add(t);
      });
    }
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(spec.status, spec.headers);
    res.end(spec.body ?? '');
  };

  const server = options.tls ? https.createServer({ ...options.tls }, onRequest) : http.createServer(onRequest);
  // TLS servers count the TCP connection before the handshake, which is what keep-alive tests want.
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // Hostile-client tests produce client errors; answering them is node:http's job, logging them is noise.
  server.on('clientError', (_err, socket) => socket.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    requests,
    get connections() {
      return connections;
    },
    respondWith(responder) {
      fallback = responder;
    },
    respondOnce(responder) {
      queue.push(responder);
    },
    waitFor(n, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (requests.length < n) return;
          cleanup();
          resolve(requests);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`receiver got ${requests.length} of ${n} expected requests within ${timeoutMs} ms`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
