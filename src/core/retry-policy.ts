/**
 * Retry policy as data (Svix, Outpost): an explicit schedule of delays rather than a formula, so the
 * operator can read exactly when attempts happen, plus jitter so that many deliveries failing at the same
 * moment (a receiver outage) do not all come back at the same moment.
 */
import { HeraldError, type FieldError } from './errors.js';

/** When to attempt a delivery and how much to spread attempts out. */
export interface RetryPolicy {
  /** Delay in ms before each attempt; schedule[0] precedes the first (0 = immediately); length = max attempts. */
  schedule: number[];
  /** Relative spread applied to each non-zero delay, uniformly in [-jitter, +jitter); 0.2 = ±20 %. */
  jitter: number;
  /** Upper bound for a receiver's Retry-After, so a hostile or buggy value cannot park a delivery forever. */
  retryAfterMaxMs: number;
}

const SECOND = 1_000;
const HOUR = 3_600 * SECOND;

/** Svix's schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (8 attempts over ~27.5 h). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  schedule: Object.freeze([0, 5, 300, 1_800, 7_200, 18_000, 36_000, 36_000].map((s) => s * SECOND)) as number[],
  jitter: 0.2,
  retryAfterMaxMs: 24 * HOUR,
});

/** More attempts than this is a misconfiguration, not a policy (Svix tops out well below it). */
export const MAX_ATTEMPTS = 100;
/** No single wait may exceed 30 days: by then the message would have outlived any sensible retention. */
export const MAX_DELAY_MS = 30 * 24 * HOUR;

/**
 * Delay in ms before attempt number `attemptsMade + 1`, jittered, or null when the schedule is used up.
 * A scheduled 0 stays 0 so first attempts are never postponed. `random` returns a number in [0, 1).
 */
export function nextAttemptDelay(policy: RetryPolicy, attemptsMade: number, random: () => number): number | null {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 0) {
    throw new HeraldError('internal', `attemptsMade must be a non-negative integer; got ${attemptsMade}`);
  }
  if (attemptsMade >= policy.schedule.length) return null;
  const base = policy.schedule[attemptsMade]!;
  if (base === 0) return 0;
  const factor = 1 + policy.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(base * factor));
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
// RFC 9110 §5.6.7: recipients must accept IMF-fixdate and the two obsolete formats.
const IMF_FIXDATE = /^[a-z]{3}, (\d{2}) ([a-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/i;
const RFC850_DATE = /^[a-z]{6,9}, (\d{2})-([a-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/i;
const ASCTIME_DATE = /^[a-z]{3} ([a-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/i;

function utc(year: number, monthName: string, day: number, h: number, m: number, s: number): number | null {
  const month = MONTHS.indexOf(monthName.toLowerCase());
  if (month < 0 || h > 23 || m > 59 || s > 60) return null;
  const t = Date.UTC(year, month, day, h, m, Math.min(s, 59)); // a leap second counts as :59
  // Date.UTC rolls Feb 31 over into March; reject instead of guessing.
  return new Date(t).getUTCDate() === day ? t : null;
}

/** Parses an HTTP-date in any of the three formats RFC 9110 requires recipients to accept. */
export function parseHttpDate(value: string, now: Date): number | null {
  let m = IMF_FIXDATE.exec(value);
  if (m) return utc(Number(m[3]), m[2]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  m = RFC850_DATE.exec(value);
  if (m) {
    // Two-digit year: RFC 9110 says a date more than 50 years in the future belongs to the previous century.
    let year = 2000 + Number(m[3]);
    if (year > now.getUTCFullYear() + 50) year -= 100;
    return utc(year, m[2]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  }
  m = ASCTIME_DATE.exec(value);
  if (m) return utc(Number(m[6]), m[1]!, Number(m[2]!.trim()), Number(m[3]), Number(m[4]), Number(m[5]));
  return null;
}

/**
 * A Retry-After value (RFC 9110 §10.2.3) as ms from `now`: delay-seconds or an HTTP-date. Past dates and
 * negative numbers give 0; unparseable values give null (the caller falls back to its own schedule).
 * Fractional seconds are accepted although the RFC only allows integers: some servers send them.
 */
export function parseRetryAfter(value: string | undefined, now: Date): number | null {
  if (value === undefined) return null;
  const text = value.trim();
  if (/^[+-]?\d+(\.\d+)?$/.test(text)) {
    const ms = Math.ceil(Number(text) * SECOND);
    return Math.min(Math.max(0, ms), Number.MAX_SAFE_INTEGER);
  }
  const at = parseHttpDate(text, now);
  return at === null ? null : Math.max(0, at - now.getTime());
}

/** Checks an untrusted policy (config file, API body) and returns a clean copy; lists every problem at once. */
export function validateRetryPolicy(p: unknown): RetryPolicy {
  const fields: FieldError[] = [];
  if (typeof p !== 'object' || p === null || Array.isArray(p)) {
    throw new HeraldError('validation', 'a retry policy must be an object with schedule, jitter and retryAfterMaxMs');
  }
  const input = p as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (key !== 'schedule' && key !== 'jitter' && key !== 'retryAfterMaxMs') {
      fields.push({ path: key, message: 'unknown field; allowed: schedule, jitter, retryAfterMaxMs' });
    }
  }
  const { schedule, jitter, retryAfterMaxMs } = input;
  if (!Array.isArray(schedule)) {
    fields.push({ path: 'schedule', message: 'must be an array of delays in milliseconds, e.g. [0, 5000, 300000]' });
  } else if (schedule.length === 0 || schedule.length > MAX_ATTEMPTS) {
    fields.push({ path: 'schedule', message: `must hold between 1 and ${MAX_ATTEMPTS} delays (one per attempt)` });
  } else {
    schedule.forEach((d, i) => {
      if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > MAX_DELAY_MS) {
        fields.push({ path: `schedule[${i}]`, message: `must be an integer number of ms from 0 to ${MAX_DELAY_MS} (30 days)` });
      }
    });
  }
  if (typeof jitter !== 'number' || !Number.isFinite(jitter) || jitter < 0 || jitter >= 1) {
    fields.push({ path: 'jitter', message: 'must be a number in [0, 1), e.g. 0.2 for ±20 %' });
  }
  if (typeof retryAfterMaxMs !== 'number' || !Number.isInteger(retryAfterMaxMs) || retryAfterMaxMs < 0) {
    fields.push({ path: 'retryAfterMaxMs', message: 'must be a non-negative integer number of ms' });
  }
  if (fields.length > 0) {
    const summary = fields.map((f) => `${f.path} ${f.message}`).join('; ');
    throw new HeraldError('validation', `invalid retry policy: ${summary}`, { fields });
  }
  return { schedule: [...(schedule as number[])], jitter: jitter as number, retryAfterMaxMs: retryAfterMaxMs as number };
}
