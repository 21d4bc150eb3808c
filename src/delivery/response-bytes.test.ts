import type { ServerResponse } from 'node:http';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { SendResult } from '../core/outcome.js';
import { client, post, rawServer, receiver } from './http-client-fixtures.js';

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
