import { describe, expect, it } from 'vitest';
import { jsonDepth, MAX_JSON_DEPTH, parseJsonBody } from './json-body.js';

const parse = (s: string | Buffer) => parseJsonBody(typeof s === 'string' ? Buffer.from(s) : s);
const statusOf = (f: () => unknown) => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return (e as { statusCode?: number }).statusCode;
  }
};

describe('jsonDepth', () => {
  it('counts nesting outside strings only, escapes included', () => {
    expect(jsonDepth('{"a":[1,{"b":2}]}')).toBe(3);
    expect(jsonDepth('"[[[["')).toBe(0);
    expect(jsonDepth('{"a":"\\"[[[["}')).toBe(1);
    expect(jsonDepth('1')).toBe(0);
  });

  it('stops counting once past the limit', () => {
    expect(jsonDepth('['.repeat(1_000_000), 10)).toBe(11);
  });
});

describe('parseJsonBody', () => {
  it('parses JSON and treats an empty body as absent', () => {
    expect(parse('{"a":1}')).toEqual({ a: 1 });
    expect(parse('')).toBeUndefined();
  });

  it('accepts exactly the maximum depth and refuses one more', () => {
    expect(statusOf(() => parse('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH)))).toBe('ok');
    expect(statusOf(() => parse('['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1)))).toBe(400);
  });

  it.each([
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])],
    ['an encoded surrogate (CESU-8)', Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22])],
    ['a lone high surrogate escape', '"\\ud800"'],
    ['a lone low surrogate escape in a key', '{"\\udc00":1}'],
    ['a __proto__ key', '{"__proto__":{"x":1}}'],
    ['an escaped __proto__ key', '{"\\u005f_proto__":{"x":1}}'],
    ['constructor.prototype', '{"constructor":{"prototype":{}}}'],
    ['malformed JSON', '{"a":'],
  ])('refuses %s with 400', (_what, body) => {
    expect(statusOf(() => parse(body))).toBe(400);
  });

  it('accepts surrogate pairs, "constructor" as an ordinary key, and non-ASCII text', () => {
    expect(parse('"\\ud83d\\ude00"')).toBe('😀');
    expect(parse('{"constructor":"x"}')).toEqual({ constructor: 'x' });
    expect(parse('{"name":"Zoë 東京"}')).toEqual({ name: 'Zoë 東京' });
  });
});
