import { createServer } from 'node:http';
import type net from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import type { SendResult } from '../core/outcome.js';
import { client, lookupTo, post, rawServer, receiver, serve, turn } from './http-client-fixtures.js';
import type { HttpClient } from './http-client.js';

describe('lanes: one connection pool per endpoint', () => {
  const send = (http: HttpClient, url: string, lane: { key: string; connections: number }, timeoutMs = 20_000) => http.send({ ...post(url, timeoutMs), lane });
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
