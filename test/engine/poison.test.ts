/**
 * Bytes PostgreSQL text cannot hold (NUL, invalid UTF-8, binary, a gzip body of zeros), in bodies and
 * headers, from real receivers: stored safely and flagged, while another application's deliveries
 * keep being recorded. And the last line of defence: a row the database refuses is split out of its
 * group commit and written without the refused parts, once, while the rest of the group lands.
 */
import net from 'node:net';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishMany } from '../../src/engine/publish.js';
import { claimFromLanes } from '../../src/store/lanes.js';
import { persistResults } from '../../src/delivery/persist.js';
import { afterAttempt, attemptRecord } from '../../src/delivery/next-state.js';
import { DEFAULT_AUTO_DISABLE } from '../../src/core/endpoint-health.js';
import type { Logger } from '../../src/logger.js';
import { silentLogger } from '../../src/logger.js';
import type { Receiver } from '../support/receiver.js';
import { useHeraldWithReceiver, type TestHerald } from '../support/herald.js';

const fx = useHeraldWithReceiver();
let t: TestHerald;
let rx: Receiver;
let raw: net.Server;
let rawUrl: string;
beforeAll(async () => {
  ({ t, rx } = fx);
  // Writes its answer byte for byte, so header values can carry bytes a normal server would refuse.
  raw = net.createServer((socket) => {
    socket.once('data', () => {
      socket.end(Buffer.concat([Buffer.from('HTTP/1.1 500 Oops\r\nx-binary: '), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from('\r\ncontent-length: 4\r\nconnection: close\r\n\r\n'), Buffer.from([0, 1, 2, 3])]));
    });
  });
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
  rawUrl = `http://127.0.0.1:${(raw.address() as net.AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => raw.close(r));
});

const events = (appId: string, n: number) =>
  publishMany(t.herald.pool, appId, Array.from({ length: n }, (_, i) => ({ eventType: 'order.paid', payload: { i } })), { now: t.clock.now() });

describe('poison bytes from receivers', () => {
  it('stores NUL, invalid UTF-8, binary and gzip-of-zeros bodies flagged, while a healthy application is recorded', async () => {
    const bodies: Record<string, Buffer> = {
      '/nul': Buffer.from('error\u0000\u0000detail'),
      '/invalid': Buffer.from([0x61, 0xc3, 0x28, 0xa0, 0xa1, 0xed, 0xa0, 0x80]),
      '/binary': Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)),
    };
    rx.respondWith((req) => {
      if (req.path === '/zeros') return { status: 500, headers: { 'content-encoding': 'gzip' }, body: zlib.gzipSync(Buffer.alloc(200_000)) };
      const body = bodies[req.path];
      return body ? { status: 500, body } : { status: 200 };
    });
    const bad = await t.makeApp('poison');
    const good = await t.makeApp('healthy');
    for (const path of [...Object.keys(bodies), '/zeros']) await t.makeEndpoint(bad.id, { url: `${rx.url}${path}` });
    await t.makeEndpoint(bad.id, { url: `${rawUrl}/headers` });
    await t.makeEndpoint(good.id, { url: `${rx.url}/healthy` });
    await events(bad.id, 2);
    await events(good.id, 50);

    await t.herald.createWorker().drain();

    const healthy = await t.herald.pool.query(`select state, count(*)::int as n from delivery where app_id = $1 group by state`, [good.id]);
    expect(healthy.rows).toEqual([{ state: 'succeeded', n: 50 }]);
    const { rows } = await t.herald.pool.query(
      `select url, response_status, response_body, response_headers::text as headers, response_lossy, error_message
       from attempt where app_id = $1 order by url`,
      [bad.id],
    );
    expect(rows).toHaveLength(10); // 5 endpoints x 2 messages, every attempt recorded
    for (const r of rows) {
      expect(r.response_body ?? '').not.toContain('\u0000');
      if (!r.url.endsWith('/headers')) expect(r).toMatchObject({ response_status: 500, response_lossy: true });
    }
    expect(rows.find((r) => r.url.endsWith('/nul')).response_body).toBe('error\uFFFD\uFFFDdetail');
    expect(rows.find((r) => r.url.endsWith('/zeros')).response_body).toMatch(/^\uFFFD+$/);
    // Latin-1 bytes in a header value are kept as the characters they are; the NUL body is flagged.
    const hdr = rows.find((r) => r.url.endsWith('/headers'));
    expect(hdr).toMatchObject({ response_status: 500, response_lossy: true });
    expect(JSON.parse(hdr.headers)['x-binary']).toBe('\u00ff\u00fe\u0080');
  });
});

describe('a row the database refuses', () => {
  it('is split out of its group, written without the refused parts, logged once, and the rest lands', async () => {
    rx.respondWith({ status: 200 });
    const app = await t.makeApp('refused');
    await t.makeEndpoint(app.id, { url: `${rx.url}/refused` });
    await events(app.id, 5);
    const now = t.clock.now();
    const claimed = await claimFromLanes(
      t.herald.pool,
      { defaultMaxInFlight: 16, maxInFlightBound: 256, breakerFailures: 5 },
      { owner: 'test', limit: 10, now, leaseUntil: new Date(now.getTime() + 30_000) },
    );
    expect(claimed).toHaveLength(5);
    const batch = claimed.map((d, i) => {
      // Row 2 carries a NUL that bypassed every sanitiser: PostgreSQL refuses it (22P05 / 22021).
      const result = { ok: true as const, status: 200, headers: { 'x-row': String(i) }, body: i === 2 ? 'bad\u0000body' : 'ok', bodyTruncated: false, bodyLossy: false, durationMs: 5 };
      const outcome = { kind: 'delivered' as const, status: 200 };
      return afterAttempt(d, outcome, attemptRecord(d, { headers: { 'webhook-id': d.msgId }, startedAt: now }, result, outcome), now);
    });
    const logged: unknown[] = [];
    const log = { ...silentLogger, error: (...args: unknown[]) => logged.push(args) } as unknown as Logger;
    await persistResults(t.herald.pool, batch, {
      now,
      autoDisable: DEFAULT_AUTO_DISABLE,
      breaker: { failures: 5, backoffMs: 5000, backoffMaxMs: 300_000 },
      log,
    });

    const { rows } = await t.herald.pool.query(
      `select d.state, a.response_body, a.response_lossy, a.request_headers::text as req
       from delivery d join attempt a on a.delivery_id = d.id where d.app_id = $1 order by d.id`,
      [app.id],
    );
    expect(rows.map((r) => r.state)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(rows.map((r) => r.response_body)).toEqual(['ok', 'ok', null, 'ok', 'ok']);
    expect(rows[2]).toMatchObject({ response_lossy: true, req: '{}' });
    expect(logged).toHaveLength(1);
  });
});
