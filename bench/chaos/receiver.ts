/**
 * The chaos run's webhook receivers: one HTTP server whose paths `/ep/<n>` are the endpoints. Each
 * request is answered in a way drawn at random (seeded, so a run can be repeated): most get a 200 at
 * once, the rest a 5xx, no answer at all (Herald's deadline ends it), a connection reset after the
 * request was read, a 200 whose body drips in slowly but within the deadline, or one whose body drips
 * for longer than the deadline.
 *
 * What counts as delivered is what a receiver's code decides: it answered with a 2xx status. Herald
 * takes the status as the receiver's verdict even when the rest of the body does not arrive within
 * the deadline (src/core/outcome.ts, `classify`), so a 200 whose body drips past the deadline is
 * delivered on both sides. Deliveries are keyed by endpoint and `webhook-id` (the message id), so a
 * message that reached one endpoint twice is a duplicate there.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** How a request is answered. */
export type Mode = 'ok' | 'error' | 'hang' | 'reset' | 'slow-ok' | 'slow-timeout';

/** The share of requests answered in each failing way; the rest get a 200 at once. */
export interface FailureShares {
  /** 500 or 503. */
  error: number;
  /** Never answered. */
  hang: number;
  /** Connection reset once the request is read. */
  reset: number;
  /** 200 with a body dripped over a fraction of the deadline (succeeds, slowly). */
  slowOk: number;
  /** 200 with a body dripped for longer than the deadline (Herald cuts it and keeps the 200: not a failure). */
  slowTimeout: number;
}

/** The default mix: `failShare` of requests fail (5xx, no answer, reset); slow answers come on top. */
export function defaultShares(failShare = 0.35): FailureShares {
  return { error: failShare * 0.4, hang: failShare * 0.25, reset: failShare * 0.35, slowOk: 0.08, slowTimeout: 0.05 };
}

/** A small seeded generator (mulberry32): the same seed gives the same sequence of answers. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Options of {@link startChaosReceiver}. */
export interface ChaosReceiverOptions {
  /** Failure mix. */
  shares: FailureShares;
  /** Herald's per-attempt deadline, ms: slow bodies are timed against it. */
  deadlineMs: number;
  /** Seed of the answer sequence. */
  seed: number;
}

/** A running chaos receiver. */
export interface ChaosReceiver {
  /** Base URL, e.g. http://127.0.0.1:40123; endpoint n is `${url}/ep/${n}`. */
  url: string;
  /** Requests received, by mode. */
  modes: Record<Mode, number>;
  /** 2xx answers, by `${endpoint}|${msgId}`. */
  delivered: Map<string, number>;
  /** Requests that arrived after each moment: for "was it attempted again" questions. */
  requests: number;
  /** Closes the server and every connection (hanging ones included). */
  close(): Promise<void>;
}

export const deliveryKey = (endpoint: number, msgId: string) => `${endpoint}|${msgId}`;

export async function startChaosReceiver(opts: ChaosReceiverOptions): Promise<ChaosReceiver> {
  const random = seededRandom(opts.seed);
  const modes: Record<Mode, number> = { ok: 0, error: 0, hang: 0, reset: 0, 'slow-ok': 0, 'slow-timeout': 0 };
  const delivered = new Map<string, number>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const state = { requests: 0 };

  const pick = (): Mode => {
    const s = opts.shares;
    let r = random();
    for (const [mode, share] of [['error', s.error], ['hang', s.hang], ['reset', s.reset], ['slow-ok', s.slowOk], ['slow-timeout', s.slowTimeout]] as const) {
      if (r < share) return mode;
      r -= share;
    }
    return 'ok';
  };

  /** Writes `chunks` pieces of body every `everyMs`, then ends; stops if the client went away. */
  const drip = (res: http.ServerResponse, chunks: number, everyMs: number) => {
    let sent = 0;
    const tick = () => {
      if (res.destroyed) return;
      if (sent++ < chunks) {
        res.write('.');
        const t = setTimeout(() => (timers.delete(t), tick()), everyMs);
        timers.add(t);
      } else res.end();
    };
    tick();
  };

  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      state.requests++;
      const endpoint = Number(/^\/ep\/(\d+)/.exec(req.url ?? '')?.[1] ?? -1);
      const msgId = String(req.headers['webhook-id'] ?? '');
      const mode = pick();
      modes[mode]++;
      const ok = () => {
        const k = deliveryKey(endpoint, msgId);
        delivered.set(k, (delivered.get(k) ?? 0) + 1);
      };
      switch (mode) {
        case 'ok':
          ok();
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
          break;
        case 'error':
          res.writeHead(random() < 0.5 ? 500 : 503, { 'content-type': 'text/plain' }).end('chaos');
          break;
        case 'hang':
          break; // Herald's deadline ends it; close() destroys the socket otherwise
        case 'reset':
          req.socket.resetAndDestroy();
          break;
        case 'slow-ok':
          ok();
          res.writeHead(200, { 'content-type': 'text/plain' });
          drip(res, 5, Math.floor(opts.deadlineMs / 20)); // a quarter of the deadline in all
          break;
        case 'slow-timeout':
          ok();
          res.writeHead(200, { 'content-type': 'text/plain' });
          drip(res, 20, Math.floor(opts.deadlineMs / 4)); // five deadlines in all
          break;
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    modes,
    delivered,
    get requests() {
      return state.requests;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
