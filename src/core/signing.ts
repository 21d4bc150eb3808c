/**
 * Standard Webhooks signatures (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">`, keyed with the
 * base64-decoded part of a `whsec_` secret. Several space-separated signatures allow secret rotation.
 * Verification also reads the `svix-*` header names so receivers written for Svix keep working.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { HeraldError } from './errors.js';

/** Prefix of every signing secret, from the spec ("whsec_" + base64). */
export const SECRET_PREFIX = 'whsec_';
/** Spec: secrets SHOULD be between 24 and 64 bytes; shorter keys weaken the HMAC, longer ones are rejected by other libraries. */
export const MIN_SECRET_BYTES = 24;
/** See MIN_SECRET_BYTES. */
export const MAX_SECRET_BYTES = 64;
/** Spec's recommended replay window: 5 minutes either side of the receiver's clock. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** The three Standard Webhooks header names, lower-case as Node presents incoming headers. */
export const SIGNATURE_HEADERS = {
  /** Unique message id; receivers use it to de-duplicate. */
  id: 'webhook-id',
  /** Integer Unix seconds when the attempt was signed; bounds replays. */
  timestamp: 'webhook-timestamp',
  /** Space-separated `v1,<base64>` signatures, one per active secret. */
  signature: 'webhook-signature',
} as const;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A new secret: `whsec_` + base64 of `bytes` random bytes (24 by default, like Svix). */
export function generateSecret(bytes = MIN_SECRET_BYTES, random: (n: number) => Uint8Array = randomBytes): string {
  if (!Number.isInteger(bytes) || bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES) {
    throw new HeraldError(
      'validation',
      `a signing secret must be ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes long; got ${bytes}`,
    );
  }
  const key = random(bytes);
  if (key.length !== bytes) {
    throw new HeraldError('internal', `randomness source returned ${key.length} bytes; expected ${bytes}`);
  }
  return SECRET_PREFIX + Buffer.from(key).toString('base64');
}

/**
 * The HMAC key inside a secret. Accepts `whsec_<base64>` and, like the Svix API, bare base64. Rejects
 * anything that is not canonical standard base64 of 24..64 bytes. Messages never echo the secret.
 */
export function parseSecret(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const expect = `a signing secret must be "${SECRET_PREFIX}" followed by standard base64 of ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} random bytes`;
  // Node's base64 decoder silently skips invalid characters, so validate the text and round-trip it.
  if (encoded.length === 0 || encoded.length % 4 !== 0 || !BASE64.test(encoded)) {
    throw new HeraldError('validation', `${expect}; the value given is not valid base64`);
  }
  const key = Buffer.from(encoded, 'base64');
  if (key.toString('base64') !== encoded) {
    throw new HeraldError('validation', `${expect}; the value given is not canonical base64`);
  }
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
    throw new HeraldError('validation', `${expect}; the value given decodes to ${key.length} bytes`);
  }
  return key;
}

function assertTimestamp(timestampSeconds: number): void {
  // A fractional timestamp would be signed as "1.5" and fail every receiver's integer parse.
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new HeraldError('internal', `signature timestamp must be integer Unix seconds; got ${timestampSeconds}`);
  }
}

/** Raw HMAC bytes over `{id}.{timestamp}.{body}`; the body is hashed byte for byte, never re-encoded. */
function hmac(secretKey: Buffer, msgId: string, timestampSeconds: number, body: Buffer | string): Buffer {
  return createHmac('sha256', secretKey)
    .update(`${msgId}.${timestampSeconds}.`, 'utf8')
    .update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body)
    .digest();
}

/** One `v1,<base64>` signature. */
export function signPayload(secretKey: Buffer, msgId: string, timestampSeconds: number, body: Buffer | string): string {
  assertTimestamp(timestampSeconds);
  return `v1,${hmac(secretKey, msgId, timestampSeconds, body).toString('base64')}`;
}

/** The `webhook-signature` value: one signature per key, so receivers holding either secret accept during rotation. */
export function signatureHeader(
  secretKeys: Buffer[],
  msgId: string,
  timestampSeconds: number,
  body: Buffer | string,
): string {
  if (secretKeys.length === 0) throw new HeraldError('internal', 'cannot sign a delivery without a secret');
  return secretKeys.map((k) => signPayload(k, msgId, timestampSeconds, body)).join(' ');
}

/** All three headers for one attempt, ready to merge into the outgoing request. */
export function webhookHeaders(
  secretKeys: Buffer[],
  msgId: string,
  timestampSeconds: number,
  body: Buffer | string,
): Record<string, string> {
  return {
    [SIGNATURE_HEADERS.id]: msgId,
    [SIGNATURE_HEADERS.timestamp]: String(timestampSeconds),
    [SIGNATURE_HEADERS.signature]: signatureHeader(secretKeys, msgId, timestampSeconds, body),
  };
}

/** Why verification failed; stable strings a receiver can branch on. */
export type VerifyFailureReason =
  | 'missing_headers'
  | 'bad_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'no_matching_signature'
  | 'bad_secret';

/** Result of verifySignature: never throws, so receivers can log `detail` and answer 401. */
export type VerifyResult =
  | { ok: true; msgId: string; timestamp: number }
  | { ok: false; reason: VerifyFailureReason; detail: string };

/** Inputs to verifySignature. */
export interface VerifyOptions {
  /** Every secret currently valid for the endpoint (`whsec_...`); more than one during rotation. */
  secrets: string[];
  /** Incoming request headers; names are matched case-insensitively. */
  headers: Record<string, string | string[] | undefined>;
  /** The raw request body exactly as received. */
  body: Buffer | string;
  /** The receiver's clock, in Unix seconds. */
  nowSeconds: number;
  /** Allowed clock difference either way; defaults to 300 s as the spec recommends. */
  toleranceSeconds?: number;
}

/** Reads a header case-insensitively; `join` combines repeated headers (only meaningful for signatures). */
function readHeader(headers: VerifyOptions['headers'], names: string[], join: boolean): string | undefined {
  const lower = new Map<string, string | string[] | undefined>();
  for (const [k, v] of Object.entries(headers)) if (!lower.has(k.toLowerCase())) lower.set(k.toLowerCase(), v);
  for (const name of names) {
    const v = lower.get(name);
    const text = Array.isArray(v) ? (join ? v.join(' ') : v[0]) : v;
    if (text !== undefined && text.trim() !== '') return text.trim();
  }
  return undefined;
}

const clip = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}…` : s);

/** Checks a delivery's headers and raw body against the endpoint's secrets, with replay protection. */
export function verifySignature(opts: VerifyOptions): VerifyResult {
  const tolerance = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (opts.secrets.length === 0) {
    return { ok: false, reason: 'bad_secret', detail: 'no secret was given to verify with; pass the endpoint secret (whsec_...)' };
  }
  const keys: Buffer[] = [];
  for (const [i, secret] of opts.secrets.entries()) {
    try {
      keys.push(parseSecret(secret));
    } catch (e) {
      const why = e instanceof HeraldError ? e.detail : String(e);
      return { ok: false, reason: 'bad_secret', detail: `secret #${i + 1} is unusable: ${why}` };
    }
  }

  const msgId = readHeader(opts.headers, ['webhook-id', 'svix-id'], false);
  const rawTimestamp = readHeader(opts.headers, ['webhook-timestamp', 'svix-timestamp'], false);
  const rawSignatures = readHeader(opts.headers, ['webhook-signature', 'svix-signature'], true);
  const missing = [
    msgId === undefined && 'webhook-id',
    rawTimestamp === undefined && 'webhook-timestamp',
    rawSignatures === undefined && 'webhook-signature',
  ].filter((x): x is string => x !== false);
  if (msgId === undefined || rawTimestamp === undefined || rawSignatures === undefined) {
    return {
      ok: false,
      reason: 'missing_headers',
      detail: `missing header(s) ${missing.join(', ')}: the request was not sent by Herald, or a proxy stripped them`,
    };
  }

  if (!/^\d{1,15}$/.test(rawTimestamp)) {
    return {
      ok: false,
      reason: 'bad_timestamp',
      detail: `webhook-timestamp must be integer Unix seconds; got "${clip(rawTimestamp)}"`,
    };
  }
  const timestamp = Number(rawTimestamp);
  const skew = `check that the receiver's clock is synchronised (NTP) and the request is not a replay`;
  if (opts.nowSeconds - timestamp > tolerance) {
    return {
      ok: false,
      reason: 'timestamp_too_old',
      detail: `the message was signed ${opts.nowSeconds - timestamp} s ago, more than the ${tolerance} s allowed: ${skew}`,
    };
  }
  if (timestamp - opts.nowSeconds > tolerance) {
    return {
      ok: false,
      reason: 'timestamp_too_new',
      detail: `the message is signed ${timestamp - opts.nowSeconds} s in the future, more than the ${tolerance} s allowed: ${skew}`,
    };
  }

  // Tolerate "v1,a, v1,b" (repeated headers joined by a proxy with ", ").
  const offered = rawSignatures
    .split(/\s+/)
    .map((s) => s.replace(/,$/, ''))
    .filter((s) => s.startsWith('v1,'))
    .map((s) => s.slice('v1,'.length));
  const body = typeof opts.body === 'string' ? Buffer.from(opts.body, 'utf8') : opts.body;
  for (const key of keys) {
    const expected = Buffer.from(hmac(key, msgId, timestamp, body).toString('base64'), 'utf8');
    for (const sig of offered) {
      const given = Buffer.from(sig, 'utf8');
      // Lengths are public (44 characters for SHA-256); only the content needs a constant-time compare.
      if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true, msgId, timestamp };
    }
  }
  return {
    ok: false,
    reason: 'no_matching_signature',
    detail:
      offered.length === 0
        ? 'webhook-signature holds no v1 signature; this verifier only understands "v1,<base64>" (HMAC-SHA256)'
        : "the signature did not match any secret: check the secret is the endpoint's current one and that the body is the raw bytes, not re-serialised JSON",
  };
}
