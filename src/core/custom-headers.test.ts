import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CustomHeaderCache, customHeaderProblems, headerProblem, openHeaders, sealHeaders, validateCustomHeaders, type CustomHeaderLimits } from './custom-headers.js';
import { HeraldError } from './errors.js';
import { keyFromBytes, SecretBox } from './secret-box.js';

/** undici's own request builder: what actually refuses a header when Herald sends (lib/core/request.js). */
const UndiciRequest = createRequire(import.meta.url)('undici/lib/core/request.js') as new (origin: string, opts: object, handler: object) => unknown;

/** A handler with every callback undici checks for; never called, since nothing is dispatched. */
const HANDLER = { onConnect() {}, onHeaders() {}, onData() {}, onComplete() {}, onError() {} };

function undiciAccepts(name: string, value: string): boolean {
  try {
    new UndiciRequest('http://receiver.example', { path: '/', method: 'POST', headers: { [name]: value } }, HANDLER);
    return true;
  } catch {
    return false;
  }
}

const NO_LIMITS: CustomHeaderLimits = { maxHeaders: Infinity, maxNameLength: Infinity, maxValueLength: Infinity, maxTotalBytes: Infinity };
const box = () => new SecretBox(keyFromBytes(randomBytes(32)));

describe('custom header rules agree with undici', () => {
  // Every character of the first two Unicode blocks beyond ASCII, and some far beyond.
  const chars = [...Array.from({ length: 0x200 }, (_, i) => String.fromCharCode(i)), '€', '😀', '\u2028', '\ufeff', '\ud800'];

  it('accepts a value exactly when undici sends it', () => {
    for (const ch of chars) {
      const value = `a${ch}b`;
      expect({ ch: ch.codePointAt(0), ok: headerProblem('x-test', value, NO_LIMITS) === null }).toEqual({ ch: ch.codePointAt(0), ok: undiciAccepts('x-test', value) });
    }
  });

  it('accepts a name exactly when undici does, apart from the names Herald reserves', () => {
    for (const ch of chars) {
      const name = `x${ch}y`;
      const ours = headerProblem(name, 'v', NO_LIMITS) === null;
      expect({ ch: ch.codePointAt(0), ok: ours }).toEqual({ ch: ch.codePointAt(0), ok: undiciAccepts(name, 'v') });
    }
  });

  it('reserves every name undici refuses or treats specially, and Herald\'s own', () => {
    for (const name of ['transfer-encoding', 'Keep-Alive', 'upgrade', 'expect', 'connection', 'host', 'content-length', 'content-type', 'content-encoding', 'webhook-signature', 'svix-id', 'user-agent', 'proxy-authorization']) {
      expect(headerProblem(name, 'x', NO_LIMITS)).toMatch(/set by Herald or by HTTP itself/);
    }
  });

  it('says what is wrong with a value without printing it', () => {
    expect(headerProblem('authorization', 'Bearer s3cret\r\nx-injected: 1')).toBe(
      'header "authorization" contains a line break (CR at position 14), which would split the request; give the value on one line',
    );
    expect(headerProblem('authorization', 'Bearer s3cret\u0001')).toMatch(/control character U\+0001 \(at position 14\)/);
    expect(headerProblem('x-price', '10 €')).toMatch(/"€" \(U\+20AC, at position 4\).*ASCII and Latin-1/);
    expect(headerProblem('authorization', 'Bearer s3cret\u0000')).not.toContain('s3cret');
  });
});

describe('custom header limits', () => {
  const limits: CustomHeaderLimits = { maxHeaders: 2, maxNameLength: 8, maxValueLength: 10, maxTotalBytes: 40 };

  it('names the setting of each limit', () => {
    expect(customHeaderProblems({ a: '1', b: '2', c: '3' }, limits)).toEqual([{ path: 'headers', message: expect.stringContaining('at most 2 per endpoint (HERALD_MAX_CUSTOM_HEADERS)') }]);
    expect(customHeaderProblems({ 'x-too-long': '1' }, limits)).toEqual([{ path: 'headers.x-too-long', message: expect.stringContaining('HERALD_MAX_CUSTOM_HEADER_NAME') }]);
    expect(customHeaderProblems({ a: '12345678901' }, limits)).toEqual([{ path: 'headers.a', message: expect.stringContaining('at most 10 (HERALD_MAX_CUSTOM_HEADER_VALUE)') }]);
    // 2 lines of 4 + 8 + 10 = 22 bytes each.
    expect(customHeaderProblems({ 'x-aaaaaa': '1234567890', 'x-bbbbbb': '1234567890' }, limits)).toEqual([
      { path: 'headers', message: expect.stringContaining('44 bytes; at most 40 in all (HERALD_MAX_CUSTOM_HEADER_BYTES)') },
    ]);
    expect(customHeaderProblems({ 'x-a': '1234567890', 'x-b': '1' }, limits)).toEqual([]);
  });

  it('lower-cases names, the last spelling winning', () => {
    expect(validateCustomHeaders({ 'X-Tenant': 'a', 'x-tenant': 'b' })).toEqual({ 'x-tenant': 'b' });
    expect(() => validateCustomHeaders({ 'bad name': 'x' })).toThrow(HeraldError);
  });
});

describe('sealed header values', () => {
  it('open only on their endpoint, under their name', () => {
    const b = box();
    const sealed = sealHeaders(b, 'ep_1', { authorization: 'Bearer s3cret', 'x-tenant': 'blue' });
    expect(JSON.stringify(sealed)).not.toContain('s3cret');
    expect(openHeaders(b, 'ep_1', sealed)).toEqual({ authorization: 'Bearer s3cret', 'x-tenant': 'blue' });
    expect(() => openHeaders(b, 'ep_2', sealed)).toThrow(/failed authentication/);
    expect(() => openHeaders(b, 'ep_1', { 'x-other': sealed.authorization! })).toThrow(/failed authentication/);
    // A plain value (a row from before sealing) is taken as it is.
    expect(openHeaders(b, 'ep_1', { 'x-old': 'plain' })).toEqual({ 'x-old': 'plain' });
  });

  it('are opened once per endpoint until the stored values change', () => {
    const b = box();
    let opens = 0;
    const counting = Object.create(b, { open: { value: (s: string, aad?: string) => (opens++, b.open(s, aad)) } }) as SecretBox;
    const cache = new CustomHeaderCache(counting);
    const stored = sealHeaders(b, 'ep_1', { authorization: 'Bearer 1' });
    // The worker gets a fresh object from every claim: equal content must hit.
    expect(cache.headersOf('ep_1', JSON.parse(JSON.stringify(stored)))).toEqual({ authorization: 'Bearer 1' });
    expect(cache.headersOf('ep_1', JSON.parse(JSON.stringify(stored)))).toEqual({ authorization: 'Bearer 1' });
    expect(opens).toBe(1);
    const changed = sealHeaders(b, 'ep_1', { authorization: 'Bearer 2' });
    expect(cache.headersOf('ep_1', changed)).toEqual({ authorization: 'Bearer 2' });
    expect(opens).toBe(2);
    // Renaming a plain value is a change too.
    expect(cache.headersOf('ep_2', { 'x-a': 'v' })).toEqual({ 'x-a': 'v' });
    expect(cache.headersOf('ep_2', { 'x-b': 'v' })).toEqual({ 'x-b': 'v' });
  });

  it('refuses, saying which header and how to fix it, a stored value undici would refuse', () => {
    const cache = new CustomHeaderCache(box());
    expect(() => cache.headersOf('ep_1', { 'x-price': '10 €' })).toThrow(/custom header "x-price" contains "€".*PUT or PATCH …\/endpoint\/ep_1\/headers/);
  });
});
