import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanups, client, LOOPBACK, lookupTo, post, rawServer, receiver, serve } from './http-client-fixtures.js';
import { createHttpClient, type LookupFn } from './http-client.js';

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
    expect(!res.ok && res.message).toMatch(/^mixed\.herald\.test resolves to a non-public address .*HERALD_ALLOWED_NETWORKS/);
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
    expect(second).toMatchObject({ ok: false, stage: 'blocked', message: expect.stringContaining('rebind.herald.test resolves to a non-public address') });
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
    expect(!res.ok && res.message).toContain(`hooks.herald.test (a non-public address, port ${port})`); // see blocked-address.test.ts
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
