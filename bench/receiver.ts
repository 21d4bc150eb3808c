/**
 * The benchmark's receivers, in their own process so their CPU is not the sender's. Talks to the
 * parent over IPC, one request and one answer at a time.
 *
 * The main server (its port is sent at start) answers by path:
 *   /hang/…        reads the request and never answers (the sender's deadline ends it)
 *   /fail/…        500
 *   /slow/<ms>/…   200 after <ms> milliseconds, body discarded
 *   anything else  200 at once, and records publish-to-arrival latency from the `t` field (epoch ms,
 *                  sub-ms precision) that the benchmark puts in each payload
 * `listen` opens more servers, each on its own port, where every request hangs or is slow: distinct
 * ports are distinct origins, so they do not share the sender's per-origin connection pool.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a server (or a path on the main server) does with a request. */
type Behaviour = { kind: 'ok' } | { kind: 'fail' } | { kind: 'hang' } | { kind: 'slow'; delayMs: number };

/** Messages from the parent. */
type Command =
  | { cmd: 'reset' | 'count' | 'stats' | 'exit' }
  | { cmd: 'listen'; kind: 'hang' | 'slow'; delayMs?: number; n: number };

const now = () => performance.timeOrigin + performance.now();
let latencies: number[] = [];
/** Healthy requests answered 200 at once. */
let count = 0;
/** Requests that hung, answered 500, and answered slowly (counted when answered). */
let hung = 0;
let failed = 0;
let slow = 0;
/** Arrival time of the first and the last healthy request since the last reset, epoch ms (0: none). */
let first = 0;
let last = 0;
const servers: Server[] = [];

function byPath(url: string | undefined): Behaviour {
  const path = url ?? '/';
  if (path.startsWith('/hang/')) return { kind: 'hang' };
  if (path.startsWith('/fail/')) return { kind: 'fail' };
  const m = /^\/slow\/(\d+)\//.exec(path);
  if (m) return { kind: 'slow', delayMs: Number(m[1]) };
  return { kind: 'ok' };
}

function handle(b: Behaviour, req: IncomingMessage, res: ServerResponse): void {
  if (b.kind !== 'ok') {
    req.resume(); // read and discard: a 1 MiB body must not be kept here
    req.on('end', () => {
      if (b.kind === 'hang') hung++;
      else if (b.kind === 'fail') {
        failed++;
        res.writeHead(500, { 'content-length': '0' });
        res.end();
      } else {
        setTimeout(() => {
          slow++;
          res.writeHead(200, { 'content-length': '0' });
          res.end();
        }, b.delayMs);
      }
    });
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    count++;
    const arrived = now();
    if (first === 0) first = arrived;
    last = arrived;
    const body = Buffer.concat(chunks).toString();
    const m = /"t":([\d.]+)/.exec(body);
    if (m) latencies.push(arrived - Number(m[1]));
    res.writeHead(200, { 'content-length': '0' });
    res.end();
  });
}

function listen(route: (req: IncomingMessage) => Behaviour): Promise<number> {
  const server = createServer((req, res) => handle(route(req), req, res));
  server.keepAliveTimeout = 60_000;
  server.requestTimeout = 0; // a hanging request ends when the sender gives up, not before
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

async function onCommand(msg: Command): Promise<void> {
  if (msg.cmd === 'reset') {
    latencies = [];
    count = hung = failed = slow = first = last = 0;
    process.send!({ ok: true });
  } else if (msg.cmd === 'count') {
    process.send!({ count, hung, failed, slow, first, last });
  } else if (msg.cmd === 'stats') {
    process.send!({ count, hung, failed, slow, first, last, latencies });
  } else if (msg.cmd === 'listen') {
    const b: Behaviour = msg.kind === 'hang' ? { kind: 'hang' } : { kind: 'slow', delayMs: msg.delayMs ?? 5_000 };
    const ports: number[] = [];
    for (let i = 0; i < msg.n; i++) ports.push(await listen(() => b));
    process.send!({ ports });
  } else if (msg.cmd === 'exit') {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    process.exit(0);
  }
}

const port = await listen((req) => byPath(req.url));
process.send!({ port });
process.on('message', (msg: Command) => void onCommand(msg));
