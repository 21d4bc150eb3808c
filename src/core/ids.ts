/**
 * Prefixed, time-sortable ids: `msg_01HZX3...`. The body is a ULID (https://github.com/ulid/spec):
 * 48-bit millisecond timestamp then 80 random bits, in Crockford base32, so ids sort by creation time as
 * plain strings. That lets PostgreSQL's btree on `id` double as a time index (cursor pagination and
 * "before/after date" filters become id range scans) and keeps inserts at the right edge of the index.
 * The prefix tells a human (and `isId`) what kind of object an id names, as in Svix and Stripe.
 */
import { randomBytes } from 'node:crypto';
import { HeraldError } from './errors.js';

/** Every kind of object that gets a Herald id. */
export type IdPrefix = 'app' | 'ep' | 'msg' | 'atmpt' | 'dlv' | 'key' | 'evt_type' | 'opev' | 'qtask';

/** All prefixes, to validate untrusted input against. */
export const ID_PREFIXES: readonly IdPrefix[] = ['app', 'ep', 'msg', 'atmpt', 'dlv', 'key', 'evt_type', 'opev', 'qtask'];

/** Source of random bytes; injectable so tests are deterministic. */
export type RandomBytes = (n: number) => Uint8Array;

/** Crockford base32: no I, L, O, U, so ids survive being read aloud or retyped; ASCII order = value order. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;
const RANDOM_BYTES = 10;
/** Length of the part after `<prefix>_`. */
export const ID_BODY_LENGTH = TIME_CHARS + RANDOM_CHARS;
/** Largest timestamp 48 bits can hold (year 10889). */
export const MAX_ID_TIME_MS = 2 ** 48 - 1;

const BODY_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

function encodeTime(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_ID_TIME_MS) {
    throw new HeraldError('internal', `id timestamp must be an integer number of ms in [0, 2^48); got ${ms}`);
  }
  let out = '';
  let rest = ms;
  // 48 bits exceed JavaScript's 32-bit bitwise operators, so use arithmetic.
  for (let i = 0; i < TIME_CHARS; i++) {
    out = ALPHABET[rest % 32]! + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

function encodeRandom(bytes: Uint8Array): string {
  if (bytes.length !== RANDOM_BYTES) {
    throw new HeraldError('internal', `id randomness source returned ${bytes.length} bytes; expected ${RANDOM_BYTES}`);
  }
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >> bits) & 31]!;
    }
    buffer &= (1 << bits) - 1;
  }
  return out; // 80 bits = exactly 16 characters, nothing left over
}

/**
 * A new id for `prefix`, created at `nowMs`. Two ids made in the same millisecond are ordered randomly;
 * use `createMonotonicIdGenerator` where the order within a millisecond matters.
 */
export function newId(prefix: IdPrefix, nowMs: number = Date.now(), random: RandomBytes = randomBytes): string {
  return `${prefix}_${encodeTime(nowMs)}${encodeRandom(random(RANDOM_BYTES))}`;
}

/** The smallest possible id of `prefix` at `ms`: `id >= idLowerBound(p, t)` selects ids created at or after t. */
export function idLowerBound(prefix: IdPrefix, ms: number): string {
  return `${prefix}_${encodeTime(ms)}${'0'.repeat(RANDOM_CHARS)}`;
}

/** Splits `<prefix>_<body>` at the last underscore (prefixes such as `evt_type` contain one). */
function bodyOf(id: string): string | null {
  const cut = id.lastIndexOf('_');
  if (cut <= 0) return null;
  const body = id.slice(cut + 1);
  return BODY_PATTERN.test(body) ? body : null;
}

/** True when `value` is a well-formed id with exactly this prefix. */
export function isId(prefix: IdPrefix, value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length === prefix.length + 1 + ID_BODY_LENGTH &&
    value.startsWith(`${prefix}_`) &&
    BODY_PATTERN.test(value.slice(prefix.length + 1))
  );
}

/** When the id was created (millisecond precision). Throws HeraldError('validation') for a malformed id. */
export function idTimestamp(id: string): Date {
  const body = bodyOf(id);
  if (body === null) {
    throw new HeraldError(
      'validation',
      `"${id.slice(0, 64)}" is not a Herald id: expected <prefix>_ followed by ${ID_BODY_LENGTH} Crockford base32 characters`,
    );
  }
  let ms = 0;
  for (let i = 0; i < TIME_CHARS; i++) ms = ms * 32 + ALPHABET.indexOf(body[i]!);
  return new Date(ms);
}

/** Generates ids of any prefix that increase strictly, even within one millisecond or if the clock steps back. */
export type MonotonicIdGenerator = (prefix: IdPrefix, nowMs?: number) => string;

/**
 * Returns a generator whose ids increase strictly across calls (ULID spec, "monotonicity"): within the
 * same millisecond, or when the clock goes backwards, it reuses the last timestamp and adds one to the
 * random part. Use it where publish order must survive sorting by id (per-endpoint ordered delivery).
 */
export function createMonotonicIdGenerator(random: RandomBytes = randomBytes): MonotonicIdGenerator {
  let lastMs = -1;
  let lastRandom = new Uint8Array(RANDOM_BYTES);
  return (prefix, nowMs = Date.now()) => {
    if (nowMs > lastMs) {
      lastMs = nowMs;
      lastRandom = Uint8Array.from(random(RANDOM_BYTES));
      return `${prefix}_${encodeTime(lastMs)}${encodeRandom(lastRandom)}`;
    }
    const next = Uint8Array.from(lastRandom);
    let i = RANDOM_BYTES - 1;
    while (i >= 0 && next[i] === 0xff) next[i--] = 0;
    if (i < 0) {
      // 2^80 ids in one millisecond cannot happen with real randomness; move to the next millisecond.
      lastMs += 1;
      lastRandom = Uint8Array.from(random(RANDOM_BYTES));
    } else {
      next[i] = next[i]! + 1;
      lastRandom = next;
    }
    return `${prefix}_${encodeTime(lastMs)}${encodeRandom(lastRandom)}`;
  };
}

/**
 * This process's generator for ids whose order matters (messages, attempts): ids made here sort in
 * the order they were made, even within one millisecond or under a fake clock.
 */
export const newOrderedId: MonotonicIdGenerator = createMonotonicIdGenerator();
