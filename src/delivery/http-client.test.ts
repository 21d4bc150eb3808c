import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SendResult } from '../core/outcome.js';
import { startReceiver, type Receiver } from '../../test/support/receiver.js';
import { parseCidrList } from './address-policy.js';
import { createHttpClient, type HttpClient, type HttpClientOptions, type LookupFn } from './http-client.js';

const LOOPBACK = parseCidrList(['127.0.0.0/8']);
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function client(overrides: Partial<HttpClientOptions> = {}): HttpClient {
  const c = createHttpClient({ allowHttp: true, allowedNetworks: LOOPBACK, ...overrides });
  cleanups.push(() => c.close());
  return c;
}
async function receiver(options?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const r = await startReceiver(options);
  cleanups.push(() => r.close());
  return r;
}
/** Listens on 127.0.0.1:0 and registers cleanup that destroys every socket; returns the port. */
async function serve(server: net.Server): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return (server.address() as net.AddressInfo).port;
}
/** A raw TCP server for receivers that do not speak HTTP properly. */
const rawServer = (onSocket: (s: net.Socket) => void) => serve(net.createServer(onSocket));
const lookupTo = (...addresses: string[]): LookupFn => async () => addresses.map((address) => ({ address, family: net.isIP(address) as 4 | 6 }));
const post = (url: string, timeoutMs = 1_500) => ({ url, headers: { 'content-type': 'application/json' }, body: '{"a":1}', timeoutMs });

describe('sending', () => {
  it('delivers a POST and reuses one keep-alive connection', async () => {
    const rx = await receiver({ respondWith: { status: 200, headers: { 'X-Answer': 'yes' }, body: 'thanks' } });
    const http = client();
    for (let i = 0; i < 5; i++) {
      // undici waits one event-loop turn before reusing a socket (client-h1.js, for servers that close
      // despite keep-alive); back-to-back sends inside that turn would open a second connection.
      await new Promise((r) => setImmediate(r));
      const res = await http.send(post(`${rx.url}/hook?n=${i}`));
      expect(res).toMatchObject({ ok: true, status: 200, body: 'thanks', bodyTruncated: false });
      expect(res.ok && res.headers['x-answer']).toBe('yes');
    }
    expect(rx.requests).toHaveLength(5);
    expect(rx.requests[4]).toMatchObject({ method: 'POST', path: '/hook?n=4' });
    expect(rx.requests[0]!.body.toString()).toBe('{"a":1}');
    expect(rx.requests[0]!.headers['content-type']).toBe('application/json');
    expect(rx.connections).toBe(1);
  });

  it('reports any status as a response, and never follows redirects', async () => {
    const rx = await receiver();
    const http = client();
    rx.respondOnce({ status: 410, body: 'gone' });
    expect(await http.send(post(rx.url))).toMatchObject({ ok: true, status: 410, body: 'gone' });
    for (const status of [301, 302, 303, 307, 308]) {
      rx.respondOnce({ status, headers: { location: 'http://169.254.169.254/latest/meta-data/' } });
      const res = await http.send(post(`${rx.url}/start`));
      expect(res).toMatchObject({ ok: true, status });
      expect(res.ok && res.headers.location).toContain('169.254.169.254');
    }
    expect(rx.requests.map((r) => r.path)).toEqual(['/', '/start', '/start', '/start', '/start', '/start']);
  });

  it('skips 1xx interim responses', async () => {
    const rx = await receiver({
      respondWith: (_req, res) => {
        res.writeProcessing();
        return { status: 202, body: 'later' };
      },
    });
    expect(await client().send(post(rx.url))).toMatchObject({ ok: true, status: 202, body: 'later' });
  });

  it('decodes gzip, deflate and br bodies, and invalid UTF-8 as replacement characters', async () => {
    const rx = await receiver();
    const http = client();
    const text = 'héllo <script>x</script>';
    const encoders = { gzip: zlib.gzipSync, deflate: zlib.deflateSync, br: zlib.brotliCompressSync };
    for (const [encoding, encode] of Object.entries(encoders)) {
      rx.respondOnce({ status: 200, headers: { 'content-encoding': encoding }, body: encode(text) });
      expect(await http.send(post(rx.url))).toMatchObject({ ok: true, body: text, bodyTruncated: false });
    }
    rx.respondOnce({ status: 200, headers: { 'content-encoding': 'deflate, gzip' }, body: zlib.gzipSync(zlib.deflateSync(text)) });
    expect(await http.send(post(rx.url))).toMatchObject({ ok: true, body: text, bodyTruncated: false });
    rx.respondOnce({ status: 200, headers: { 'content-encoding': 'zstd' }, body: 'as sent' });
    expect(await http.send(post(rx.url))).toMatchObject({ ok: true, body: 'as sent' });
    rx.respondOnce({ status: 200, body: Buffer.from([0x61, 0xff, 0xfe, 0x62]) });
    expect(await http.send(post(rx.url))).toMatchObject({ ok: true, body: 'a\uFFFD\uFFFDb', bodyLossy: true });
  });

  it('keeps the status of a response whose body cannot be decoded', async () => {
    const corrupt = Buffer.concat([zlib.gzipSync('x'.repeat(50_000)).subarray(0, 200), Buffer.alloc(200, 0x41)]);
    const rx = await receiver({ respondWith: { status: 200, headers: { 'content-encoding': 'gzip' }, body: corrupt } });
    const res = await client().send(post(rx.url));
    expect(res).toMatchObject({ ok: true, status: 200, bodyTruncated: true });
    expect(res.ok && res.body).toMatch(/^x*$/);
  });

  it('refuses a host header and non-http schemes before connecting', async () => {
    const rx = await receiver();
    const http = client();
    expect(await http.send({ ...post(rx.url), headers: { Host: 'internal' } })).toMatchObject({ ok: false, stage: 'blocked' });
    expect(await http.send(post('file:///etc/passwd'))).toMatchObject({ ok: false, stage: 'blocked' });
    const injected = await http.send({ ...post(rx.url), headers: { 'x-a': 'b\r\nx-injected: 1' } });
    expect(injected).toMatchObject({ ok: false, stage: 'blocked', message: expect.stringContaining('refused to send') });
    expect(await createHttpClient({ allowHttp: false, allowedNetworks: LOOPBACK }).send(post(rx.url))).toMatchObject({
      ok: false,
      stage: 'blocked',
      message: expect.stringContaining('https://'),
    });
    expect(rx.requests).toHaveLength(0);
  });
});

describe('server-side request forgery', () => {
  it('blocks loopback unless the operator allowed it', async () => {
    const rx = await receiver();
    const res = await client({ allowedNetworks: [] }).send(post(rx.url));
    expect(res).toMatchObject({ ok: false, stage: 'blocked' });
    expect(!res.ok && res.message).toContain('HERALD_ALLOWED_NETWORKS');
    expect(rx.requests).toHaveLength(0);
  });

  it('connects to the address it checked, keeping the Host header', async () => {
    const rx = await receiver();
    let lookups = 0;
    const http = client({ lookup: async (name) => (lookups++, lookupTo('127.0.0.1')(name)) });
    expect(await http.send(post(`http://hooks.herald.test:${rx.port}/x`))).toMatchObject({ ok: true, status: 200 });
    expect(rx.requests[0]!.headers.host).toBe(`hooks.herald.test:${rx.port}`);
    expect(lookups).toBe(1);
  });

  it('blocks a name whose records include a private address', async () => {
    const rx = await receiver();
    const res = await client({ lookup: lookupTo('127.0.0.1', '10.0.0.8') }).send(post(`http://mixed.herald.test:${rx.port}/`));
    expect(res).toMatchObject({ ok: false, stage: 'blocked' });
    expect(!res.ok && res.message).toMatch(/^mixed\.herald\.test resolved to a refused address: 10\.0\.0\.8 is a private .*HERALD_ALLOWED_NETWORKS$/);
    expect(rx.requests).toHaveLength(0);
  });

  it('is not fooled by DNS rebinding: each connection uses the answer it checked', async () => {
    const rx = await receiver();
    const answers = ['127.0.0.1', '169.254.169.254'];
    let lookups = 0;
    const http = client({ lookup: async (name) => lookupTo(answers[Math.min(lookups++, 1)]!)(name) });
    rx.respondOnce({ status: 200, headers: { connection: 'close' } }); // the next send needs a new connection
    expect(await http.send(post(`http://rebind.herald.test:${rx.port}/`))).toMatchObject({ ok: true });
    const second = await http.send(post(`http://rebind.herald.test:${rx.port}/`));
    expect(second).toMatchObject({ ok: false, stage: 'blocked', message: expect.stringContaining('169.254.169.254') });
    expect(lookups).toBe(2);
    expect(rx.requests).toHaveLength(1);
  });
});

describe('hostile receivers', () => {
  it('times out a receiver that drips its body, keeping what arrived', async () => {
    const rx = await receiver({
      respondWith: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const t = setInterval(() => res.write('x'), 50);
        res.on('close', () => clearInterval(t));
      },
    });
    const res = await client().send(post(rx.url, 400));
    expect(res).toMatchObject({ ok: false, stage: 'timeout', status: 200, message: expect.stringContaining('body did not finish') });
    expect(!res.ok && res.body).toMatch(/^x*$/);
  });

  it('times out a 200 that arrives after the deadline', async () => {
    const rx = await receiver({ respondWith: { status: 200, delayMs: 1_000 } });
    const res = await client().send(post(rx.url, 300));
    expect(res).toMatchObject({ ok: false, stage: 'timeout', message: expect.stringContaining('no response headers') });
    expect(res.ok || res.status).toBeUndefined();
  });

  it('cuts an endless chunked body at the cap', async () => {
    const rx = await receiver({
      respondWith: (_req, res) => {
        res.writeHead(200);
        const pump = () => {
          while (!res.destroyed && res.write('y'.repeat(4096)));
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
      },
    });
    const res = await client({ maxResponseBytes: 10_000 }).send(post(rx.url, 5_000));
    expect(res).toMatchObject({ ok: true, status: 200, bodyTruncated: true });
    expect(res.ok && res.body).toBe('y'.repeat(10_000));
  });

  it('caps a gzip bomb after decompression', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(50 * 1024 * 1024), { level: 9 });
    const rx = await receiver({ respondWith: { status: 200, headers: { 'content-encoding': 'gzip' }, body: bomb } });
    const res = await client().send(post(rx.url, 5_000));
    expect(res).toMatchObject({ ok: true, status: 200, bodyTruncated: true, bodyLossy: true });
    expect(res.ok && res.body).toBe('\uFFFD'.repeat(64 * 1024)); // NUL cannot be stored in PostgreSQL text
  });

  it('refuses megabytes of response headers', async () => {
    const port = await rawServer((s) => {
      s.once('data', () => {
        s.write('HTTP/1.1 200 OK\r\n');
        for (let i = 0; i < 20_000; i++) s.write(`x-pad-${i}: ${'a'.repeat(100)}\r\n`);
        s.end('content-length: 0\r\n\r\n');
      });
    });
    const res = await client().send(post(`http://127.0.0.1:${port}/`));
    expect(res).toMatchObject({ ok: false, stage: 'response', message: expect.stringContaining('64 KiB limit') });
  });

  it('reports a connection reset after the request as a response failure', async () => {
    const rx = await receiver({ respondWith: (_req, res) => void res.socket?.resetAndDestroy() });
    const res = await client().send(post(rx.url));
    expect(res).toMatchObject({ ok: false, stage: 'response', message: expect.stringMatching(/ECONNRESET|UND_ERR_SOCKET/) });
    expect(await rx.waitFor(1)).toHaveLength(1);
  });

  it('reports a malformed response as a response failure', async () => {
    const port = await rawServer((s) => s.once('data', () => s.end('SMTP READY\r\n\r\n')));
    expect(await client().send(post(`http://127.0.0.1:${port}/`))).toMatchObject({ ok: false, stage: 'response', message: expect.stringContaining('not valid HTTP/1.1') });
  });
});

describe('bytes PostgreSQL text cannot hold', () => {
  /** Every string of a result, as the store would write it. */
  const strings = (r: SendResult) => [r.body ?? '', r.ok ? '' : r.message, ...Object.entries(r.headers ?? {}).flat()];
  /** PostgreSQL text/jsonb refuse NUL; a lone surrogate has no UTF-8 encoding at all. */
  const expectStorable = (r: SendResult) => {
    for (const s of strings(r)) expect(s).not.toMatch(/\0|\p{Cs}/u);
  };
  /** Deterministic bytes covering all 256 values. */
  const binary = (n: number) => {
    let seed = 7;
    return Buffer.from(Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed >> 8) & 0xff));
  };

  it('replaces NUL, invalid UTF-8 and binary in bodies, flagging them lossy', async () => {
    const rx = await receiver();
    const http = client();
    rx.respondOnce({ status: 500, body: Buffer.from('err\0\0or\0') });
    const nul = await http.send(post(rx.url));
    expect(nul).toMatchObject({ ok: true, status: 500, body: 'err\uFFFD\uFFFDor\uFFFD', bodyLossy: true, bodyTruncated: false });
    // stray byte, overlong '/', a UTF-8-encoded lone surrogate (CESU-8), a character missing its end
    rx.respondOnce({ status: 200, body: Buffer.from([0x61, 0xff, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x62, 0xe6, 0x97]) });
    const invalid = await http.send(post(rx.url));
    expect(invalid).toMatchObject({ ok: true, bodyLossy: true });
    expect(invalid.body).toMatch(/^a\uFFFD+b\uFFFD$/);
    rx.respondOnce({ status: 200, headers: { 'content-type': 'application/octet-stream' }, body: binary(16 * 1024) });
    const random = await http.send(post(rx.url));
    expect(random).toMatchObject({ ok: true, bodyLossy: true, bodyTruncated: false });
    for (const r of [nul, invalid, random]) expectStorable(r);
  });

  it('caps a gzip body that decompresses to 1 MiB of zeros, storably', async () => {
    const rx = await receiver({ respondWith: { status: 200, headers: { 'content-encoding': 'gzip' }, body: zlib.gzipSync(Buffer.alloc(1024 * 1024)) } });
    const res = await client().send(post(rx.url, 5_000));
    expect(res).toMatchObject({ ok: true, status: 200, bodyTruncated: true, bodyLossy: true });
    expect(res.body).toBe('\uFFFD'.repeat(64 * 1024));
    expectStorable(res);
  });

  it('keeps a plain UTF-8 body exactly, with bodyLossy false', async () => {
    const text = 'héllo 日本 😀👍🏽 \uFFFD as sent, \t tab';
    const rx = await receiver({ respondWith: { status: 200, headers: { 'x-note': 'plain' }, body: Buffer.from(text, 'utf8') } });
    expect(await client().send(post(rx.url))).toMatchObject({ ok: true, body: text, bodyLossy: false, headers: { 'x-note': 'plain' } });
  });

  it('does not count a character split by the size cap as lossy', async () => {
    const rx = await receiver();
    const http = client({ maxResponseBytes: 10 });
    rx.respondOnce({ status: 200, body: `a${'é'.repeat(7)}` }); // 15 bytes; byte 10 is the first half of an é
    expect(await http.send(post(rx.url))).toMatchObject({ ok: true, body: 'aéééé', bodyTruncated: true, bodyLossy: false });
    rx.respondOnce({ status: 200, body: 'abcdefgh😀😀' }); // the cap falls after two of the emoji's four bytes
    expect(await http.send(post(rx.url))).toMatchObject({ ok: true, body: 'abcdefgh', bodyTruncated: true, bodyLossy: false });
    rx.respondOnce({ status: 200, body: Buffer.from('abc\0defghijk') }); // a NUL before the cut still counts
    expect(await http.send(post(rx.url))).toMatchObject({ ok: true, body: 'abc\uFFFDdefghi', bodyTruncated: true, bodyLossy: true });
  });

  it('reports a partial body cut by the deadline storably, an unfinished character not counted as lossy', async () => {
    const rx = await receiver();
    const hangAfter = (bytes: number[]) => (_req: unknown, res: ServerResponse) => {
      res.writeHead(503);
      res.write(Buffer.from(bytes)); // then never ends
    };
    const http = client();
    rx.respondOnce(hangAfter([0x6f, 0x6b, 0xe2, 0x82])); // "ok" and two of the three bytes of "€"
    expect(await http.send(post(rx.url, 300))).toMatchObject({ ok: false, stage: 'timeout', status: 503, body: 'ok', bodyLossy: false });
    rx.respondOnce(hangAfter([0x00, 0x6f, 0x6b]));
    const nul = await http.send(post(rx.url, 300));
    expect(nul).toMatchObject({ ok: false, stage: 'timeout', status: 503, body: '\uFFFDok', bodyLossy: true });
    expectStorable(nul);
  });

  it('stores response header values with bytes 0x80-0xff, and refuses control bytes as invalid HTTP', async () => {
    // undici decodes header values as latin1: every byte is a storable character, nothing is replaced.
    // llhttp refuses NUL and other control bytes in a header value, so those answers are protocol errors.
    const answers: Buffer[] = [];
    const port = await rawServer((s) => s.once('data', () => s.end(answers.shift() ?? '')));
    const http = client();
    const respond = (value: number[]) =>
      answers.push(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nx-odd: <'), Buffer.from(value), Buffer.from('>\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok')]));
    respond([0x80, 0xa0, 0xff, 0xc3, 0xa9]);
    const high = await http.send(post(`http://127.0.0.1:${port}/`));
    expect(high).toMatchObject({ ok: true, body: 'ok', bodyLossy: false, headers: { 'x-odd': '<\x80\xa0\xff\xc3\xa9>' } });
    expectStorable(high);
    for (const control of [[0x00], [0x01, 0x1f], [0x7f]]) {
      respond(control);
      const res = await http.send(post(`http://127.0.0.1:${port}/`));
      expect(res).toMatchObject({ ok: false, stage: 'response', message: expect.stringContaining('not valid HTTP/1.1') });
      expectStorable(res);
    }
  });
});

describe('lanes: one connection pool per endpoint', () => {
  const send = (http: HttpClient, url: string, lane: { key: string; connections: number }, timeoutMs = 20_000) => http.send({ ...post(url, timeoutMs), lane });
  const turn = () => new Promise((r) => setImmediate(r)); // see the keep-alive test
  /**
   * An HTTP server that answers 200 and tracks its open and total connections. It keeps idle connections
   * for a minute (and says so in its Keep-Alive hint), so a connection that closes sooner was closed by
   * the client closing its pool.
   */
  async function countingServer() {
    const server = createServer((_req, res) => res.end('ok'));
    server.keepAliveTimeout = 60_000;
    const counts = { open: 0, total: 0 };
    server.on('connection', (s: net.Socket) => {
      counts.open++;
      counts.total++;
      s.on('close', () => counts.open--);
    });
    return { url: `http://127.0.0.1:${await serve(server)}`, counts };
  }

  it('keeps a healthy endpoint unaffected by a hanging one on the same host and port', async () => {
    const http = client({ connectionsPerOrigin: 1 }); // the shared pool would be full after one hang
    const rx = await receiver({ respondWith: (req) => (req.path.startsWith('/hang') ? undefined : { status: 200, body: 'ok' }) });
    const hangingLane = { key: 'ep_hanging', connections: 3 };
    const healthyLane = { key: 'ep_healthy', connections: 4 };
    const settled: number[] = [];
    for (let i = 0; i < hangingLane.connections; i++) void send(http, `${rx.url}/hang/${i}`, hangingLane).then(() => settled.push(i));
    await rx.waitFor(hangingLane.connections);
    const results: SendResult[] = [];
    for (let batch = 0; batch < 5; batch++) {
      // at most `connections` in flight per lane, as the worker guarantees
      const sends = Array.from({ length: healthyLane.connections }, (_, i) => send(http, `${rx.url}/ok/${batch}.${i}`, healthyLane));
      results.push(...(await Promise.all(sends)));
    }
    expect(results.map((r) => r.ok && r.status)).toEqual(Array(20).fill(200));
    expect(settled).toEqual([]); // the hanging lane's requests are all still waiting
    expect(rx.requests.filter((r) => r.path.startsWith('/hang'))).toHaveLength(3);
    expect(rx.requests.filter((r) => r.path.startsWith('/ok'))).toHaveLength(20);
    expect(http.stats()).toEqual({ lanePools: 2, overCap: 0 });
  });

  it('does not time out a backlog to a slow receiver that stays within the lane cap', async () => {
    const rx = await receiver({ respondWith: { status: 200, delayMs: 200 } });
    const http = client();
    const lane = { key: 'ep_slow', connections: 2 };
    const results: SendResult[] = [];
    for (let round = 0; round < 3; round++) {
      results.push(...(await Promise.all([send(http, `${rx.url}/${round}a`, lane, 2_000), send(http, `${rx.url}/${round}b`, lane, 2_000)])));
    }
    expect(results.map((r) => (r.ok ? r.status : r.stage))).toEqual(Array(6).fill(200));
    expect(rx.requests.map((r) => r.path).sort()).toEqual(['/0a', '/0b', '/1a', '/1b', '/2a', '/2b']); // no duplicates
    expect(rx.connections).toBe(2);
    expect(http.stats()).toEqual({ lanePools: 1, overCap: 0 });
  });

  it('keeps lanes apart on one origin, and requests without a lane on the shared pool', async () => {
    const rx = await receiver();
    const http = client();
    await send(http, `${rx.url}/a`, { key: 'a', connections: 1 });
    await turn();
    await send(http, `${rx.url}/b`, { key: 'b', connections: 1 });
    await turn();
    await http.send(post(`${rx.url}/shared`));
    await turn();
    await send(http, `${rx.url}/a`, { key: 'a', connections: 1 });
    expect(rx.connections).toBe(3); // a, b and shared each have their own; a's second request reused its own
    expect(http.stats()).toEqual({ lanePools: 2, overCap: 0 });
  });

  it('closes pools that stay idle', async () => {
    const { url, counts } = await countingServer();
    const http = client({ laneIdleMs: 20 });
    expect(await send(http, url, { key: 'ep', connections: 1 })).toMatchObject({ ok: true, status: 200 });
    expect(http.stats().lanePools).toBe(1);
    await vi.waitFor(() => expect(http.stats().lanePools).toBe(0), { timeout: 5_000, interval: 5 });
    await vi.waitFor(() => expect(counts.open).toBe(0), { timeout: 5_000, interval: 5 }); // its connection closed too
    expect(await send(http, url, { key: 'ep', connections: 1 })).toMatchObject({ ok: true, status: 200 });
    expect(counts.total).toBe(2);
  });

  it('bounds the number of pools, closing the least recently used idle one', async () => {
    const rx = await receiver();
    const http = client({ maxLanePools: 2 });
    for (const key of ['a', 'b', 'c']) {
      expect(await send(http, `${rx.url}/${key}`, { key, connections: 1 })).toMatchObject({ ok: true });
      await turn();
    }
    expect(http.stats().lanePools).toBe(2);
    expect(rx.connections).toBe(3);
    await send(http, `${rx.url}/a`, { key: 'a', connections: 1 }); // a was closed: a new pool, b goes
    await turn();
    expect(rx.connections).toBe(4);
    await send(http, `${rx.url}/c`, { key: 'c', connections: 1 }); // c kept its pool and connection
    expect(rx.connections).toBe(4);
    expect(http.stats()).toEqual({ lanePools: 2, overCap: 0 });
  });

  it('uses a new pool when the cap changes, closing the old one', async () => {
    const { url, counts } = await countingServer();
    const http = client();
    expect(await send(http, url, { key: 'ep', connections: 1 })).toMatchObject({ ok: true, status: 200 });
    const two = { key: 'ep', connections: 2 };
    const results = await Promise.all([send(http, url, two), send(http, url, two)]);
    expect(results).toMatchObject([{ ok: true, status: 200 }, { ok: true, status: 200 }]);
    expect(counts.total).toBe(3); // 1 for the old pool, 2 for the new one
    await vi.waitFor(() => expect(counts.open).toBe(2), { timeout: 5_000, interval: 5 }); // the old pool's closed
    expect(http.stats()).toEqual({ lanePools: 1, overCap: 0 });
  });

  it('counts requests beyond the lane cap, and still sends them', async () => {
    const rx = await receiver();
    const http = client();
    const lane = { key: 'ep', connections: 1 };
    const results = await Promise.all([send(http, rx.url, lane), send(http, rx.url, lane), send(http, rx.url, lane)]);
    expect(results.map((r) => r.ok && r.status)).toEqual([200, 200, 200]);
    expect(http.stats()).toEqual({ lanePools: 1, overCap: 2 });
    expect(await send(http, rx.url, { key: 'ep', connections: 0 })).toMatchObject({ ok: false, message: expect.stringContaining('positive integer') });
  });

  it('gives the next request a fresh connection when a connect hung past the deadline', async () => {
    let accepted = 0;
    const port = await rawServer(() => void accepted++); // accepts, never speaks TLS
    const http = client({ lookup: lookupTo('127.0.0.1') });
    const lane = { key: 'ep', connections: 1 };
    const url = `https://hang.herald.test:${port}/`;
    expect(await send(http, url, lane, 300)).toMatchObject({ ok: false, stage: 'timeout', message: expect.stringContaining('TLS handshake') });
    expect(http.stats().lanePools).toBe(0); // retired: its hanging connect would hold the next request
    expect(await send(http, url, lane, 300)).toMatchObject({ ok: false, stage: 'timeout', message: expect.stringContaining('TLS handshake') });
    expect(accepted).toBe(2); // the second request made its own connection instead of queueing
  });
});

describe('connection failures', () => {
  it('reports a refused connection', async () => {
    const port = await rawServer(() => undefined);
    await cleanups.pop()!(); // close it again: the port is now (almost certainly) free
    const res = await client().send(post(`http://127.0.0.1:${port}/`));
    expect(res).toMatchObject({ ok: false, stage: 'connect', message: `connection refused by 127.0.0.1:${port} (ECONNREFUSED)` });
  });

  it('reports DNS failures', async () => {
    const notFound: LookupFn = async (name) => {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    };
    const res = await client({ lookup: notFound }).send(post('https://nowhere.invalid/hook'));
    expect(res).toMatchObject({ ok: false, stage: 'dns', message: 'nowhere.invalid could not be resolved: no such host (ENOTFOUND)' });
    const empty = await client({ lookup: async () => [] }).send(post('https://empty.herald.test/hook'));
    expect(empty).toMatchObject({ ok: false, stage: 'dns' });
  });

  it('times out a DNS lookup that never answers', async () => {
    const res = await client({ lookup: () => new Promise(() => undefined) }).send(post('https://slow.herald.test/', 300));
    expect(res).toMatchObject({ ok: false, stage: 'timeout', message: expect.stringContaining('DNS lookup of slow.herald.test') });
  });
});

describe('TLS', () => {
  let dir: string;
  let key: string;
  let cert: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-subj', '/CN=hooks.herald.test', '-addext', 'subjectAltName=DNS:hooks.herald.test',
    ], { stdio: 'ignore' });
    key = readFileSync(join(dir, 'key.pem'), 'utf8');
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rejects a self-signed certificate, having sent the host name as SNI to the pinned address', async () => {
    const seen: string[] = [];
    const port = await serve(
      tls.createServer({ key, cert, SNICallback: (name, cb) => (seen.push(name), cb(null, tls.createSecureContext({ key, cert }))) }),
    );
    const res = await client({ lookup: lookupTo('127.0.0.1') }).send(post(`https://hooks.herald.test:${port}/`));
    expect(res).toMatchObject({ ok: false, stage: 'tls', message: expect.stringContaining('self-signed certificate') });
    expect(!res.ok && res.message).toContain(`hooks.herald.test (127.0.0.1:${port})`);
    expect(seen).toEqual(['hooks.herald.test']);
  });

  it('delivers over TLS to the pinned address when the certificate is trusted', async () => {
    const rx = await receiver({ tls: { key, cert }, respondWith: { status: 204 } });
    const http = client({ lookup: lookupTo('127.0.0.1'), extraCaCerts: [cert], allowHttp: false });
    expect(await http.send(post(`https://hooks.herald.test:${rx.port}/a`))).toMatchObject({ ok: true, status: 204 });
    await new Promise((r) => setImmediate(r)); // see the keep-alive test
    expect(await http.send(post(`https://hooks.herald.test:${rx.port}/b`))).toMatchObject({ ok: true, status: 204 });
    expect(rx.requests[0]!.headers.host).toBe(`hooks.herald.test:${rx.port}`);
    expect(rx.connections).toBe(1);
  });

  it('rejects a certificate for another host name', async () => {
    const rx = await receiver({ tls: { key, cert } });
    const http = client({ lookup: lookupTo('127.0.0.1'), extraCaCerts: [cert] });
    const res = await http.send(post(`https://other.herald.test:${rx.port}/`));
    expect(res).toMatchObject({ ok: false, stage: 'tls', message: expect.stringContaining('ERR_TLS_CERT_ALTNAME_INVALID') });
  });

  it('times out a handshake that never completes, saying so', async () => {
    const port = await rawServer(() => undefined); // accepts, never speaks TLS
    const res = await client({ lookup: lookupTo('127.0.0.1') }).send(post(`https://hang.herald.test:${port}/`, 400));
    expect(res).toMatchObject({ ok: false, stage: 'timeout', message: expect.stringContaining('TLS handshake with hang.herald.test') });
  });
});
