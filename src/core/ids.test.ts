import { describe, it, expect } from 'vitest';
import { HeraldError } from './errors.js';
import {
  createMonotonicIdGenerator,
  ID_BODY_LENGTH,
  ID_PREFIXES,
  idLowerBound,
  idTimestamp,
  isId,
  MAX_ID_TIME_MS,
  newId,
  type IdPrefix,
} from './ids.js';

const fill = (byte: number) => (n: number) => new Uint8Array(n).fill(byte);
/** Deterministic bytes: a simple counter-based stream, different on every call. */
function seededBytes(seed = 1) {
  let state = seed;
  return (n: number) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      out[i] = state & 0xff;
    }
    return out;
  };
}

describe('newId', () => {
  it('encodes the timestamp like the ULID reference implementation', () => {
    // ulid(1469918176385) starts with "01ARYZ6S41" in the spec's README.
    expect(newId('msg', 1469918176385, fill(0))).toBe('msg_01ARYZ6S410000000000000000');
  });

  it('encodes 80 random bits as 16 Crockford characters, most significant first', () => {
    expect(newId('app', 0, fill(0xff))).toBe('app_0000000000ZZZZZZZZZZZZZZZZ');
    const bytes = new Uint8Array(10);
    bytes[9] = 1;
    expect(newId('app', 0, () => bytes)).toBe('app_00000000000000000000000001');
    const top = new Uint8Array(10);
    top[0] = 0x80;
    expect(newId('app', 0, () => top)).toBe('app_0000000000G000000000000000');
  });

  it('has the expected shape for every prefix', () => {
    for (const prefix of ID_PREFIXES) {
      const id = newId(prefix, 1_700_000_000_000);
      expect(id.startsWith(`${prefix}_`)).toBe(true);
      expect(id).toHaveLength(prefix.length + 1 + ID_BODY_LENGTH);
      expect(isId(prefix, id)).toBe(true);
    }
  });

  it('sorts by creation time as plain strings', () => {
    const random = seededBytes(7);
    const times = [0, 1, 31, 32, 1_000, 1_699_999_999_999, 1_700_000_000_000, 1_700_000_000_001, MAX_ID_TIME_MS];
    const ids = times.map((t) => newId('msg', t, random));
    expect([...ids].sort()).toEqual(ids);
    const shuffled = [...ids].reverse();
    expect(shuffled.sort()).toEqual(ids);
  });

  it('sorts by time regardless of randomness', () => {
    expect(newId('msg', 1000, fill(0xff)) < newId('msg', 1001, fill(0))).toBe(true);
  });

  it('uses real time and randomness by default', () => {
    const before = Date.now();
    const a = newId('ep');
    const after = Date.now();
    expect(idTimestamp(a).getTime()).toBeGreaterThanOrEqual(before);
    expect(idTimestamp(a).getTime()).toBeLessThanOrEqual(after);
    expect(newId('ep', before)).not.toBe(newId('ep', before));
  });

  it('rejects timestamps outside 48 bits and non-integers', () => {
    for (const bad of [-1, MAX_ID_TIME_MS + 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => newId('msg', bad, fill(0))).toThrow(HeraldError);
    }
    expect(newId('msg', MAX_ID_TIME_MS, fill(0))).toBe('msg_7ZZZZZZZZZ0000000000000000');
  });

  it('rejects a randomness source that returns the wrong number of bytes', () => {
    expect(() => newId('msg', 0, () => new Uint8Array(9))).toThrow(/returned 9 bytes; expected 10/);
  });
});

describe('idTimestamp', () => {
  it('round-trips the creation time', () => {
    const random = seededBytes(3);
    for (const t of [0, 1, 1_700_000_000_123, MAX_ID_TIME_MS]) {
      expect(idTimestamp(newId('atmpt', t, random)).getTime()).toBe(t);
    }
  });

  it('handles prefixes that contain an underscore', () => {
    const id = newId('evt_type', 1_700_000_000_000, fill(1));
    expect(idTimestamp(id).toISOString()).toBe('2023-11-14T22:13:20.000Z');
  });

  it('rejects malformed ids with a validation error', () => {
    for (const bad of [
      '',
      'msg',
      'msg_',
      '_01ARYZ6S410000000000000000',
      'msg_01ARYZ6S41000000000000000', // 25 chars
      'msg_01ARYZ6S4100000000000000000', // 27 chars
      'msg_01aryz6s410000000000000000', // lower case
      'msg_01ARYZ6S41000000000000000U', // U is not Crockford
      'msg_81ARYZ6S410000000000000000', // exceeds 48 bits
      '2KWPBgLlAfxdpx2AI54pPJ85f4W',
    ]) {
      expect(() => idTimestamp(bad), bad).toThrow(HeraldError);
    }
    try {
      idTimestamp('nope');
    } catch (e) {
      expect((e as HeraldError).code).toBe('validation');
      expect((e as HeraldError).detail).toContain('is not a Herald id');
    }
  });
});

describe('isId', () => {
  const id = newId('ep', 1_700_000_000_000, fill(9));

  it('accepts exactly its prefix', () => {
    expect(isId('ep', id)).toBe(true);
    expect(isId('app', id)).toBe(false);
    expect(isId('evt_type', newId('evt_type', 0, fill(0)))).toBe(true);
    // A `type` id must not pass as an `evt_type` id and vice versa.
    expect(isId('key', `evt_type_${id.slice(3)}`)).toBe(false);
  });

  it('rejects non-strings and malformed bodies', () => {
    const bad: unknown[] = [undefined, null, 42, {}, '', 'ep_', `${id}X`, id.slice(0, -1), id.toLowerCase(), ` ${id}`];
    for (const v of bad) expect(isId('ep', v)).toBe(false);
    expect(isId('ep', 'ep_0000000000000000000000000I')).toBe(false);
  });

  it('narrows unknown to string', () => {
    const v: unknown = id;
    if (isId('ep', v)) expect(v.length).toBe(29);
  });
});

describe('idLowerBound', () => {
  it('is <= every id created at or after that time and > ids created before', () => {
    const random = seededBytes(11);
    const t = 1_700_000_000_000;
    const bound = idLowerBound('msg', t);
    expect(bound).toBe(`msg_${newId('msg', t, fill(0)).slice(4)}`);
    for (let i = 0; i < 50; i++) {
      expect(newId('msg', t, random) >= bound).toBe(true);
      expect(newId('msg', t + 1 + i, random) >= bound).toBe(true);
      expect(newId('msg', t - 1 - i, random) < bound).toBe(true);
    }
    expect(isId('msg', bound)).toBe(true);
  });
});

describe('createMonotonicIdGenerator', () => {
  it('increases strictly within one millisecond', () => {
    const gen = createMonotonicIdGenerator(seededBytes(5));
    const ids = Array.from({ length: 1_000 }, () => gen('dlv', 1_700_000_000_000));
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(new Set(ids.map((id) => idTimestamp(id).getTime()))).toEqual(new Set([1_700_000_000_000]));
  });

  it('increments the random part by one, carrying across bytes', () => {
    const start = new Uint8Array(10).fill(0);
    start[9] = 0xff;
    start[8] = 0xff;
    const gen = createMonotonicIdGenerator(() => start);
    const a = gen('msg', 5);
    const b = gen('msg', 5);
    // 16 one-bits are 3 full characters (15 bits) plus one bit of the fourth from the end.
    expect(a).toBe('msg_0000000005' + '0'.repeat(12) + '1ZZZ');
    expect(b).toBe('msg_0000000005' + '0'.repeat(12) + '2000');
  });

  it('takes fresh randomness when time moves forward', () => {
    let calls = 0;
    const gen = createMonotonicIdGenerator((n) => {
      calls++;
      return new Uint8Array(n).fill(calls);
    });
    gen('msg', 1);
    gen('msg', 1);
    gen('msg', 2);
    expect(calls).toBe(2);
  });

  it('stays increasing when the clock steps back', () => {
    const gen = createMonotonicIdGenerator(seededBytes(2));
    const a = gen('msg', 2_000);
    const b = gen('msg', 1_000);
    expect(b > a).toBe(true);
    expect(idTimestamp(b).getTime()).toBe(2_000);
  });

  it('moves to the next millisecond when the random part overflows', () => {
    const gen = createMonotonicIdGenerator(fill(0xff));
    const a = gen('msg', 10);
    const b = gen('msg', 10);
    expect(b > a).toBe(true);
    expect(idTimestamp(b).getTime()).toBe(11);
    const c = gen('msg', 10);
    expect(c > b).toBe(true);
  });

  it('keeps each prefix increasing when prefixes are interleaved', () => {
    const gen = createMonotonicIdGenerator(seededBytes(4));
    const seq: IdPrefix[] = ['msg', 'dlv', 'msg', 'dlv', 'msg'];
    const ids = seq.map((p) => gen(p, 77));
    const msgs = ids.filter((id) => id.startsWith('msg_'));
    const dlvs = ids.filter((id) => id.startsWith('dlv_'));
    expect([...msgs].sort()).toEqual(msgs);
    expect([...dlvs].sort()).toEqual(dlvs);
    expect(new Set(ids).size).toBe(5);
  });

  it('uses the real clock by default', () => {
    const gen = createMonotonicIdGenerator();
    const before = Date.now();
    const id = gen('msg');
    expect(idTimestamp(id).getTime()).toBeGreaterThanOrEqual(before);
  });
});
