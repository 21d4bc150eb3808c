import { describe, it, expect } from 'vitest';
import { HeraldError } from './errors.js';
import {
  DEFAULT_RETRY_POLICY,
  MAX_ATTEMPTS,
  MAX_DELAY_MS,
  nextAttemptDelay,
  parseHttpDate,
  parseRetryAfter,
  validateRetryPolicy,
  type RetryPolicy,
} from './retry-policy.js';

const NOW = new Date('2024-05-01T12:00:00.000Z');
const mid = () => 0.5; // no jitter
const low = () => 0; // -jitter
const high = () => 0.999999; // just under +jitter

describe('DEFAULT_RETRY_POLICY', () => {
  it('is the Svix schedule: 8 attempts, 20 % jitter, Retry-After capped at 24 h', () => {
    expect(DEFAULT_RETRY_POLICY.schedule).toEqual([0, 5, 300, 1800, 7200, 18000, 36000, 36000].map((s) => s * 1000));
    expect(DEFAULT_RETRY_POLICY.jitter).toBe(0.2);
    expect(DEFAULT_RETRY_POLICY.retryAfterMaxMs).toBe(86_400_000);
  });

  it('cannot be mutated by accident', () => {
    expect(Object.isFrozen(DEFAULT_RETRY_POLICY)).toBe(true);
    expect(Object.isFrozen(DEFAULT_RETRY_POLICY.schedule)).toBe(true);
    expect(() => DEFAULT_RETRY_POLICY.schedule.push(1)).toThrow();
  });

  it('passes its own validation', () => {
    expect(validateRetryPolicy(DEFAULT_RETRY_POLICY)).toEqual(DEFAULT_RETRY_POLICY);
  });
});

describe('nextAttemptDelay', () => {
  it('follows the schedule exactly when random() = 0.5', () => {
    const delays = Array.from({ length: 8 }, (_, i) => nextAttemptDelay(DEFAULT_RETRY_POLICY, i, mid));
    expect(delays).toEqual(DEFAULT_RETRY_POLICY.schedule);
  });

  it('returns null once the schedule is used up', () => {
    expect(nextAttemptDelay(DEFAULT_RETRY_POLICY, 8, mid)).toBeNull();
    expect(nextAttemptDelay(DEFAULT_RETRY_POLICY, 100, mid)).toBeNull();
    expect(nextAttemptDelay({ schedule: [0], jitter: 0, retryAfterMaxMs: 0 }, 1, mid)).toBeNull();
  });

  it('keeps a 0 delay at 0 whatever the jitter', () => {
    expect(nextAttemptDelay(DEFAULT_RETRY_POLICY, 0, low)).toBe(0);
    expect(nextAttemptDelay(DEFAULT_RETRY_POLICY, 0, high)).toBe(0);
  });

  it('spreads delays by ±jitter', () => {
    expect(nextAttemptDelay(DEFAULT_RETRY_POLICY, 1, low)).toBe(4_000);
    expect(nextAttemptDelay(DEFAULT_RETRY_POLICY, 1, high)).toBe(6_000);
    expect(nextAttemptDelay(DEFAULT_RETRY_POLICY, 2, low)).toBe(240_000);
    expect(nextAttemptDelay(DEFAULT_RETRY_POLICY, 2, () => 0.75)).toBe(330_000);
  });

  it('stays inside the jitter band for many random draws', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return (seed - 1) / 2147483646;
    };
    const seen = new Set<number>();
    for (let i = 0; i < 2_000; i++) {
      const d = nextAttemptDelay(DEFAULT_RETRY_POLICY, 3, random)!;
      expect(d).toBeGreaterThanOrEqual(1_440_000);
      expect(d).toBeLessThanOrEqual(2_160_000);
      expect(Number.isInteger(d)).toBe(true);
      seen.add(Math.floor((d - 1_440_000) / 72_000));
    }
    expect(seen.size).toBe(10); // every tenth of the band is hit: the spread is uniform-ish, not clumped
  });

  it('applies no jitter when jitter is 0', () => {
    const p: RetryPolicy = { schedule: [0, 1_000], jitter: 0, retryAfterMaxMs: 0 };
    expect(nextAttemptDelay(p, 1, low)).toBe(1_000);
    expect(nextAttemptDelay(p, 1, high)).toBe(1_000);
  });

  it('rejects negative or fractional attempt counts', () => {
    expect(() => nextAttemptDelay(DEFAULT_RETRY_POLICY, -1, mid)).toThrow(HeraldError);
    expect(() => nextAttemptDelay(DEFAULT_RETRY_POLICY, 1.5, mid)).toThrow(HeraldError);
  });

  it('does not consume randomness for a zero delay or an exhausted schedule', () => {
    let calls = 0;
    const counting = () => {
      calls++;
      return 0.5;
    };
    nextAttemptDelay(DEFAULT_RETRY_POLICY, 0, counting);
    nextAttemptDelay(DEFAULT_RETRY_POLICY, 8, counting);
    expect(calls).toBe(0);
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter('  30 ', NOW)).toBe(30_000);
    expect(parseRetryAfter('+5', NOW)).toBe(5_000);
  });

  it('accepts fractional seconds, rounding up', () => {
    expect(parseRetryAfter('1.5', NOW)).toBe(1_500);
    expect(parseRetryAfter('0.0001', NOW)).toBe(1);
  });

  it('turns negative values into 0', () => {
    expect(parseRetryAfter('-10', NOW)).toBe(0);
  });

  it('keeps absurdly large values finite', () => {
    expect(parseRetryAfter('9'.repeat(400), NOW)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('reads an IMF-fixdate relative to now', () => {
    expect(parseRetryAfter('Wed, 01 May 2024 12:01:00 GMT', NOW)).toBe(60_000);
    expect(parseRetryAfter('Thu, 02 May 2024 12:00:00 GMT', NOW)).toBe(86_400_000);
  });

  it('reads the obsolete RFC 850 and asctime formats', () => {
    expect(parseRetryAfter('Wednesday, 01-May-24 12:00:30 GMT', NOW)).toBe(30_000);
    expect(parseRetryAfter('Wed May  1 12:00:10 2024', NOW)).toBe(10_000);
    expect(parseRetryAfter('Wed May 11 12:00:00 2024', NOW)).toBe(10 * 86_400_000);
  });

  it('gives 0 for dates in the past', () => {
    expect(parseRetryAfter('Wed, 01 May 2024 11:59:59 GMT', NOW)).toBe(0);
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', NOW)).toBe(0);
  });

  it.each([
    undefined,
    '',
    'soon',
    '10s',
    '1e3',
    '0x10',
    '5 5',
    '2024-05-01T12:01:00Z',
    'Wed, 31 Feb 2024 12:00:00 GMT',
    'Wed, 01 Foo 2024 12:00:00 GMT',
    'Wed, 01 May 2024 25:00:00 GMT',
    'Wed, 01 May 2024 12:00:00 PST',
    '1',
  ])('gives null for %j (except plain numbers)', (value) => {
    const result = parseRetryAfter(value, NOW);
    if (value === '1') expect(result).toBe(1_000);
    else expect(result).toBeNull();
  });
});

describe('parseHttpDate', () => {
  it('parses the RFC 9110 example in all three formats to the same instant', () => {
    const expected = Date.UTC(1994, 10, 6, 8, 49, 37);
    const now = new Date('2024-01-01T00:00:00Z');
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT', now)).toBe(expected);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', now)).toBe(expected);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994', now)).toBe(expected);
  });

  it('maps two-digit years no more than 50 years ahead', () => {
    const now = new Date('2024-01-01T00:00:00Z');
    expect(new Date(parseHttpDate('Monday, 01-Jan-74 00:00:00 GMT', now)!).getUTCFullYear()).toBe(2074);
    expect(new Date(parseHttpDate('Monday, 01-Jan-75 00:00:00 GMT', now)!).getUTCFullYear()).toBe(1975);
  });

  it('treats a leap second as :59 and is lenient about case', () => {
    expect(parseHttpDate('Sat, 31 Dec 2016 23:59:60 GMT', NOW)).toBe(Date.UTC(2016, 11, 31, 23, 59, 59));
    expect(parseHttpDate('sun, 06 nov 1994 08:49:37 gmt', NOW)).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
  });

  it('rejects impossible dates', () => {
    expect(parseHttpDate('Thu, 29 Feb 2023 00:00:00 GMT', NOW)).toBeNull();
    expect(parseHttpDate('Thu, 29 Feb 2024 00:00:00 GMT', NOW)).toBe(Date.UTC(2024, 1, 29));
    expect(parseHttpDate('Thu, 00 Feb 2024 00:00:00 GMT', NOW)).toBeNull();
    expect(parseHttpDate('Thu, 01 Feb 2024 00:60:00 GMT', NOW)).toBeNull();
    expect(parseHttpDate('Thu, 01 Feb 2024 00:00:61 GMT', NOW)).toBeNull();
  });
});

describe('validateRetryPolicy', () => {
  const valid = { schedule: [0, 1_000, 60_000], jitter: 0.1, retryAfterMaxMs: 3_600_000 };

  it('returns a clean copy of a valid policy', () => {
    const input = { ...valid, schedule: [...valid.schedule] };
    const result = validateRetryPolicy(input);
    expect(result).toEqual(valid);
    expect(result.schedule).not.toBe(input.schedule);
    input.schedule.push(5);
    expect(result.schedule).toHaveLength(3);
  });

  it('accepts the boundaries', () => {
    expect(() => validateRetryPolicy({ schedule: [0], jitter: 0, retryAfterMaxMs: 0 })).not.toThrow();
    expect(() =>
      validateRetryPolicy({ schedule: Array(MAX_ATTEMPTS).fill(MAX_DELAY_MS), jitter: 0.999, retryAfterMaxMs: 1 }),
    ).not.toThrow();
  });

  function problems(p: unknown): { path: string; message: string }[] {
    try {
      validateRetryPolicy(p);
    } catch (e) {
      expect(e).toBeInstanceOf(HeraldError);
      expect((e as HeraldError).code).toBe('validation');
      expect((e as HeraldError).detail).toMatch(/^invalid retry policy: /);
      return (e as HeraldError).fields ?? [];
    }
    throw new Error('expected validation to fail');
  }

  it.each([null, undefined, 5, 'fast', [0, 1000]])('rejects a non-object %j', (p) => {
    expect(() => validateRetryPolicy(p)).toThrow(/must be an object/);
  });

  it.each([
    ['an empty schedule', { schedule: [] }, 'schedule'],
    ['a schedule that is not an array', { schedule: '0,5' }, 'schedule'],
    ['too many attempts', { schedule: Array(MAX_ATTEMPTS + 1).fill(0) }, 'schedule'],
    ['a negative delay', { schedule: [0, -1] }, 'schedule[1]'],
    ['a fractional delay', { schedule: [0.5] }, 'schedule[0]'],
    ['a non-numeric delay', { schedule: [0, '5'] }, 'schedule[1]'],
    ['a NaN delay', { schedule: [Number.NaN] }, 'schedule[0]'],
    ['an infinite delay', { schedule: [Number.POSITIVE_INFINITY] }, 'schedule[0]'],
    ['a delay above 30 days', { schedule: [MAX_DELAY_MS + 1] }, 'schedule[0]'],
    ['jitter of 1', { jitter: 1 }, 'jitter'],
    ['negative jitter', { jitter: -0.1 }, 'jitter'],
    ['NaN jitter', { jitter: Number.NaN }, 'jitter'],
    ['missing jitter', { jitter: undefined }, 'jitter'],
    ['negative retryAfterMaxMs', { retryAfterMaxMs: -1 }, 'retryAfterMaxMs'],
    ['fractional retryAfterMaxMs', { retryAfterMaxMs: 1.5 }, 'retryAfterMaxMs'],
    ['an unknown field (typo)', { jiter: 0.2 }, 'jiter'],
  ])('rejects %s', (_name, patch, path) => {
    const fields = problems({ ...valid, ...patch });
    expect(fields.map((f) => f.path)).toEqual([path]);
    expect(fields[0]!.message.length).toBeGreaterThan(10);
  });

  it('reports every problem at once', () => {
    const fields = problems({ schedule: [0, -5, 'x'], jitter: 2, extra: true });
    expect(fields.map((f) => f.path)).toEqual(['extra', 'schedule[1]', 'schedule[2]', 'jitter', 'retryAfterMaxMs']);
  });
});
