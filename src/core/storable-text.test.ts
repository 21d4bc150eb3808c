import { describe, expect, it } from 'vitest';
import { incompleteUtf8Tail, storableString, storableText } from './storable-text.js';

const bytes = (...b: number[]) => Buffer.from(b);
const R = '\uFFFD';
/** What PostgreSQL refuses in text/jsonb: NUL, or a surrogate that is not half of a pair. */
const unstorable = (s: string) => /\0|\p{Cs}/u.test(s) || Buffer.from(s, 'utf8').toString('utf8') !== s;

describe('storableText', () => {
  it('keeps valid UTF-8 exactly, including 4-byte characters and U+FFFD that was really sent', () => {
    for (const s of ['', 'plain ascii', 'héllo wörld', '日本語', 'emoji 😀👍🏽 and 𝄞', `sent ${R} on purpose`, '\x01\x1f\x7f controls']) {
      expect(storableText(Buffer.from(s, 'utf8'))).toEqual({ text: s, lossy: false });
    }
  });

  it('replaces NUL bytes', () => {
    expect(storableText(bytes(0x61, 0x00, 0x62, 0x00))).toEqual({ text: `a${R}b${R}`, lossy: true });
    expect(storableText(Buffer.alloc(3))).toEqual({ text: R.repeat(3), lossy: true });
  });

  it('replaces invalid UTF-8: stray continuation bytes, bytes never used, a truncated character', () => {
    expect(storableText(bytes(0x61, 0xff, 0xfe, 0x62))).toEqual({ text: `a${R}${R}b`, lossy: true });
    expect(storableText(bytes(0x80, 0x61))).toEqual({ text: `${R}a`, lossy: true });
    expect(storableText(bytes(0x61, 0xe6, 0x97))).toEqual({ text: `a${R}`, lossy: true }); // '日' missing its last byte
    expect(storableText(bytes(0xf5, 0x80, 0x80, 0x80)).lossy).toBe(true); // beyond U+10FFFF
  });

  it('replaces overlong encodings and UTF-8-encoded surrogates instead of decoding them', () => {
    const overlongSlash = storableText(bytes(0xc0, 0xaf)); // '/' in two bytes: a classic path-traversal trick
    expect(overlongSlash).toEqual({ text: `${R}${R}`, lossy: true });
    expect(storableText(bytes(0xc0, 0x80)).text).not.toContain('\0'); // overlong NUL (modified UTF-8)
    expect(storableText(bytes(0xe0, 0x80, 0xaf)).lossy).toBe(true);
    expect(storableText(bytes(0xf0, 0x80, 0x80, 0xaf)).lossy).toBe(true);
    const surrogate = storableText(bytes(0xed, 0xa0, 0x80)); // U+D800 as CESU-8
    expect(surrogate.lossy).toBe(true);
    expect(unstorable(surrogate.text)).toBe(false);
  });

  it('turns binary garbage into storable text', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed & 0xff);
    const garbage = Buffer.from(Array.from({ length: 4096 }, random));
    const res = storableText(garbage);
    expect(res.lossy).toBe(true);
    expect(unstorable(res.text)).toBe(false);
  });

  it('returns an empty string for no bytes', () => {
    expect(storableText(Buffer.alloc(0))).toEqual({ text: '', lossy: false });
  });
});

describe('storableString', () => {
  it('keeps well-formed strings, including surrogate pairs', () => {
    for (const s of ['', 'x-answer', 'latin1 \xe9\xff\x80', '\x01\x1f controls', 'pair 😀 \uD83D\uDE00']) {
      expect(storableString(s)).toEqual({ text: s, lossy: false });
    }
  });

  it('replaces NUL and lone surrogates (high, low, reversed pair) but not pairs', () => {
    expect(storableString('a\0b')).toEqual({ text: `a${R}b`, lossy: true });
    expect(storableString('\uD800')).toEqual({ text: R, lossy: true });
    expect(storableString('x\uDC00y')).toEqual({ text: `x${R}y`, lossy: true });
    expect(storableString('\uDE00\uD83D')).toEqual({ text: `${R}${R}`, lossy: true });
    expect(storableString('\uD83D\uDE00\uD83D')).toEqual({ text: `😀${R}`, lossy: true });
  });

  it('gives the same answer on repeated calls (the shared pattern keeps no state between them)', () => {
    expect(storableString('a\0').lossy).toBe(true);
    expect(storableString('a\0').lossy).toBe(true);
    expect(storableString('ok').lossy).toBe(false);
  });
});

describe('incompleteUtf8Tail', () => {
  it('counts the start of a character cut off at the end', () => {
    const emoji = Buffer.from('a😀', 'utf8'); // 61 f0 9f 98 80
    expect(incompleteUtf8Tail(emoji)).toBe(0);
    expect(incompleteUtf8Tail(emoji.subarray(0, 4))).toBe(3);
    expect(incompleteUtf8Tail(emoji.subarray(0, 3))).toBe(2);
    expect(incompleteUtf8Tail(emoji.subarray(0, 2))).toBe(1);
    expect(incompleteUtf8Tail(Buffer.from('é', 'utf8').subarray(0, 1))).toBe(1);
    expect(incompleteUtf8Tail(Buffer.from('ab日', 'utf8').subarray(0, 4))).toBe(2);
  });

  it('does not count bytes that are invalid however the body continued', () => {
    expect(incompleteUtf8Tail(Buffer.alloc(0))).toBe(0);
    expect(incompleteUtf8Tail(bytes(0x61, 0x80))).toBe(0); // continuation byte without a lead
    expect(incompleteUtf8Tail(bytes(0x61, 0xc0))).toBe(0); // overlong lead
    expect(incompleteUtf8Tail(bytes(0x61, 0xff))).toBe(0);
    expect(incompleteUtf8Tail(bytes(0xe0, 0x80))).toBe(0); // overlong 3-byte form
    expect(incompleteUtf8Tail(bytes(0xed, 0xa0))).toBe(0); // surrogate
    expect(incompleteUtf8Tail(bytes(0xf4, 0x90))).toBe(0); // beyond U+10FFFF
    expect(incompleteUtf8Tail(bytes(0x80, 0x80, 0x80))).toBe(0);
  });
});
