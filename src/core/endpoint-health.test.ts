import { describe, it, expect } from 'vitest';
import {
  applyAttempt,
  applyAttempts,
  DEFAULT_AUTO_DISABLE,
  formatDuration,
  HEALTHY,
  shouldAutoDisable,
  type EndpointHealth,
} from './endpoint-health.js';

const T0 = new Date('2024-05-01T12:00:00.000Z');
const MIN = 60_000;
const after = (ms: number) => new Date(T0.getTime() + ms);

/** Fails `n` times, one every `everyMs`, starting at T0. */
function failures(n: number, everyMs: number, from: EndpointHealth = HEALTHY): EndpointHealth {
  let h = from;
  for (let i = 0; i < n; i++) h = applyAttempt(h, false, after(i * everyMs));
  return h;
}

describe('applyAttempt', () => {
  it('starts a streak on the first failure', () => {
    expect(applyAttempt(HEALTHY, false, T0)).toEqual({ consecutiveFailures: 1, firstFailureAt: T0 });
  });

  it('counts further failures and keeps the streak start', () => {
    const h = failures(3, MIN);
    expect(h).toEqual({ consecutiveFailures: 3, firstFailureAt: T0 });
  });

  it('resets on success', () => {
    expect(applyAttempt(failures(5, MIN), true, after(10 * MIN))).toEqual({ consecutiveFailures: 0, firstFailureAt: null });
    expect(applyAttempt(HEALTHY, true, T0)).toEqual(HEALTHY);
  });

  it('keeps the earliest failure when attempts are reported out of order', () => {
    const late = applyAttempt(HEALTHY, false, after(10 * MIN));
    const early = applyAttempt(late, false, after(2 * MIN));
    expect(early).toEqual({ consecutiveFailures: 2, firstFailureAt: after(2 * MIN) });
  });

  it('does not mutate its input', () => {
    const h = failures(2, MIN);
    const copy = structuredClone(h);
    applyAttempt(h, false, after(5 * MIN));
    applyAttempt(h, true, after(5 * MIN));
    expect(h).toEqual(copy);
    expect(HEALTHY).toEqual({ consecutiveFailures: 0, firstFailureAt: null });
  });
});

describe('applyAttempts', () => {
  it('folds a batch in order', () => {
    const h = applyAttempts(HEALTHY, [
      { succeeded: false, at: T0 },
      { succeeded: true, at: after(MIN) },
      { succeeded: false, at: after(2 * MIN) },
      { succeeded: false, at: after(3 * MIN) },
    ]);
    expect(h).toEqual({ consecutiveFailures: 2, firstFailureAt: after(2 * MIN) });
    expect(applyAttempts(h, [])).toBe(h);
  });
});

describe('shouldAutoDisable', () => {
  it('defaults to 10 failures over at least an hour', () => {
    expect(DEFAULT_AUTO_DISABLE).toEqual({ failuresInARow: 10, minFailingMs: 3_600_000 });
  });

  it('keeps a healthy endpoint', () => {
    expect(shouldAutoDisable(HEALTHY, T0)).toEqual({ disable: false });
  });

  it('needs both the count and the duration', () => {
    // 10 failures within 9 minutes: a burst, not a dead endpoint.
    const burst = failures(10, MIN);
    expect(shouldAutoDisable(burst, after(9 * MIN))).toEqual({ disable: false });
    // 9 failures over two hours: not enough in a row yet.
    const slow = failures(9, 15 * MIN);
    expect(shouldAutoDisable(slow, after(120 * MIN))).toEqual({ disable: false });
    // Both reached.
    expect(shouldAutoDisable(failures(10, 15 * MIN), after(135 * MIN)).disable).toBe(true);
  });

  it('disables exactly at the thresholds, not a moment before', () => {
    const h = failures(10, MIN);
    expect(shouldAutoDisable(h, after(60 * MIN - 1)).disable).toBe(false);
    expect(shouldAutoDisable(h, after(60 * MIN)).disable).toBe(true);
  });

  it('advances with a fake clock: a burst becomes a disable once the hour has passed', () => {
    const h = failures(12, 10_000);
    let now = after(2 * MIN);
    expect(shouldAutoDisable(h, now).disable).toBe(false);
    now = after(65 * MIN);
    const verdict = shouldAutoDisable(h, now, DEFAULT_AUTO_DISABLE, 'the receiver failed with 503');
    expect(verdict).toEqual({
      disable: true,
      reason:
        '12 delivery attempts in a row failed over 1 h 5 min; last error: the receiver failed with 503. Fix the receiver, then re-enable the endpoint and recover the failed messages',
    });
  });

  it('omits the last error when none is known', () => {
    const verdict = shouldAutoDisable(failures(10, MIN), after(2 * 60 * MIN));
    expect(verdict.disable).toBe(true);
    if (verdict.disable) expect(verdict.reason).toMatch(/^10 delivery attempts in a row failed over 2 h\. Fix the receiver/);
    const empty = shouldAutoDisable(failures(10, MIN), after(2 * 60 * MIN), DEFAULT_AUTO_DISABLE, '');
    if (empty.disable) expect(empty.reason).not.toContain('last error');
  });

  it('honours custom settings', () => {
    const settings = { failuresInARow: 3, minFailingMs: 0 };
    expect(shouldAutoDisable(failures(2, 0), T0, settings).disable).toBe(false);
    expect(shouldAutoDisable(failures(3, 0), T0, settings).disable).toBe(true);
  });

  it('never disables a healthy endpoint even with zero thresholds', () => {
    expect(shouldAutoDisable(HEALTHY, T0, { failuresInARow: 0, minFailingMs: 0 })).toEqual({ disable: false });
  });

  it('does not disable when the clock is behind the streak start', () => {
    expect(shouldAutoDisable(failures(10, MIN), after(-MIN)).disable).toBe(false);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0 ms'],
    [999, '999 ms'],
    [1_000, '1 s'],
    [59_000, '59 s'],
    [60_000, '1 min'],
    [61_000, '1 min 1 s'],
    [45 * MIN, '45 min'],
    [60 * MIN, '1 h'],
    [65 * MIN, '1 h 5 min'],
    [65 * MIN + 59_000, '1 h 5 min'],
    [24 * 60 * MIN, '1 d'],
    [51 * 60 * MIN, '2 d 3 h'],
    [24 * 60 * MIN + 5 * MIN, '1 d'],
    [-5, '0 ms'],
    [1_500.7, '1 s'],
  ])('formats %d ms as %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
