/**
 * Signature profiles: how a delivery is signed, so a platform that moves onto Herald keeps the
 * contract its customers' receivers already verify (changing it would break every receiver they
 * have). Pure: keys in, headers out; the same functions verify (src/sdk/verify.ts).
 *
 * - `standard`: Standard Webhooks, `webhook-id` / `webhook-timestamp` / `webhook-signature: v1,<base64>`,
 *   one signature per valid secret (receivers holding the old or the new secret both verify).
 * - `hmac-sha256`: HMAC-SHA256 of the raw body, or of `{timestamp}.{body}`, keyed with the secret's
 *   UTF-8 bytes or the bytes it encodes in hex, in hex or base64, in a header the platform names.
 *   Such receivers compare the header with ONE digest, so exactly one signature is sent: during a
 *   rotation's grace period it is made with the oldest secret still valid (receivers that have not
 *   switched keep verifying), and with the new one once the grace period ends. A receiver should
 *   accept both secrets around that moment.
 * - `ed25519`: Standard Webhooks `v1a,<base64 Ed25519 signature of "{id}.{timestamp}.{body}">`,
 *   one per valid key; receivers verify with the public key (`whpk_…`), which Herald publishes.
 */
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import type { FieldError } from './errors.js';
import { generateSecret, parseSecret, SIGNATURE_HEADERS, signatureHeader } from './signing.js';

/** A profile, as stored on applications and endpoints and accepted by the receiver library. */
export type SignatureProfile =
  | { scheme: 'standard' }
  | { scheme: 'ed25519' }
  | {
      scheme: 'hmac-sha256';
      /** Header carrying the digest, e.g. X-Comps-Signature. */
      header: string;
      /** Header carrying the attempt's Unix timestamp in seconds; null = none. */
      timestampHeader?: string | null;
      /** What is signed: the raw body, or `{timestamp}.{raw body}`. */
      content: 'body' | 'timestamp.body';
      /** Digest encoding. */
      encoding: 'hex' | 'base64';
      /** The key: the secret string's UTF-8 bytes, or the bytes it encodes in hex. */
      key: 'utf8' | 'hex';
    };

/** Today's behaviour, and the default. */
export const STANDARD_PROFILE: SignatureProfile = Object.freeze({ scheme: 'standard' });

/** Prefixes of Ed25519 keys, as the Standard Webhooks specification names them. */
export const ED25519_SECRET_PREFIX = 'whsk_';
export const ED25519_PUBLIC_PREFIX = 'whpk_';

/**
 * Headers a profile may not name: Herald sets them itself, HTTP owns them, or a profile's own
 * header would overwrite them.
 */
export const RESERVED_HEADERS = new Set([
  'host', 'content-length', 'content-type', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive',
  'upgrade', 'te', 'trailer', 'expect', 'proxy-authorization', 'authorization', 'cookie',
  SIGNATURE_HEADERS.id, SIGNATURE_HEADERS.timestamp, SIGNATURE_HEADERS.signature,
]);

/** An RFC 9110 token: what a header name may contain. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/;

/** Checks a header name a platform chose; returns the problem, or null. */
export function headerNameProblem(name: unknown, also: string[] = []): string | null {
  if (typeof name !== 'string' || !HEADER_NAME.test(name)) return 'must be a header name of 1-64 letters, digits or !#$%&\'*+-.^_`|~';
  const lower = name.toLowerCase();
  if (lower === 'user-agent') return 'User-Agent is not a header name to choose: set its value with deliveryHeaders.userAgent';
  if (RESERVED_HEADERS.has(lower) || /^(webhook-|svix-|proxy-)/.test(lower)) return `${name} is set by Herald or by HTTP itself; choose another name`;
  if (also.map((a) => a.toLowerCase()).includes(lower)) return `${name} is already used by this profile`;
  return null;
}

/** Validates a profile; returns field errors (paths relative to the profile object), none when valid. */
export function profileProblems(p: unknown): FieldError[] {
  if (p === null || typeof p !== 'object') return [{ path: '', message: 'must be an object with a scheme' }];
  const o = p as Record<string, unknown>;
  if (o.scheme === 'standard' || o.scheme === 'ed25519') {
    const extra = Object.keys(o).filter((k) => k !== 'scheme');
    return extra.map((k) => ({ path: k, message: `not used by the ${o.scheme} scheme, which always uses the webhook-* headers` }));
  }
  if (o.scheme !== 'hmac-sha256') return [{ path: 'scheme', message: 'must be standard, hmac-sha256 or ed25519' }];
  const errors: FieldError[] = [];
  const h = headerNameProblem(o.header);
  if (h) errors.push({ path: 'header', message: h });
  if (o.timestampHeader !== undefined && o.timestampHeader !== null) {
    const t = headerNameProblem(o.timestampHeader, typeof o.header === 'string' ? [o.header] : []);
    if (t) errors.push({ path: 'timestampHeader', message: t });
  }
  if (o.content !== 'body' && o.content !== 'timestamp.body') errors.push({ path: 'content', message: 'must be body or timestamp.body' });
  if (o.content === 'timestamp.body' && !o.timestampHeader) {
    errors.push({ path: 'timestampHeader', message: 'is required when content is timestamp.body: the receiver needs the timestamp that was signed' });
  }
  if (o.encoding !== 'hex' && o.encoding !== 'base64') errors.push({ path: 'encoding', message: 'must be hex or base64' });
  if (o.key !== 'utf8' && o.key !== 'hex') errors.push({ path: 'key', message: 'must be utf8 or hex' });
  const known = new Set(['scheme', 'header', 'timestampHeader', 'content', 'encoding', 'key']);
  for (const k of Object.keys(o)) if (!known.has(k)) errors.push({ path: k, message: 'is not a field of a signature profile' });
  return errors;
}

/** A key ready to sign with: HMAC bytes, or an Ed25519 private key. */
export type SigningKey = { kind: 'hmac'; bytes: Buffer } | { kind: 'ed25519'; key: KeyObject };

/** A new secret in the form the profile's receivers use (hex for `key: "hex"`, an Ed25519 pair for ed25519). */
export function generateProfileSecret(p: SignatureProfile, random?: (n: number) => Uint8Array): { secret: string; publicKey: string | null } {
  if (p.scheme === 'ed25519') {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    return { secret: ed25519Secret(privateKey), publicKey: ed25519Public(publicKey) };
  }
  if (p.scheme === 'hmac-sha256' && p.key === 'hex') {
    return { secret: Buffer.from((random ?? randomBytes)(32)).toString('hex'), publicKey: null };
  }
  return { secret: generateSecret(undefined, random), publicKey: null };
}

function ed25519Secret(k: KeyObject): string {
  const jwk = k.export({ format: 'jwk' });
  return `${ED25519_SECRET_PREFIX}${Buffer.from(jwk.d!, 'base64url').toString('base64')}`;
}

function ed25519Public(k: KeyObject): string {
  const jwk = k.export({ format: 'jwk' });
  return `${ED25519_PUBLIC_PREFIX}${Buffer.from(jwk.x!, 'base64url').toString('base64')}`;
}

/** PKCS#8 DER header of an Ed25519 private key; the 32-byte seed follows it (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The Ed25519 private key of a `whsk_` secret (the 32-byte seed, or the 64-byte seed + public key). */
function ed25519PrivateKey(secret: string): KeyObject {
  const raw = Buffer.from(secret.slice(ED25519_SECRET_PREFIX.length), 'base64');
  if (!secret.startsWith(ED25519_SECRET_PREFIX) || (raw.length !== 32 && raw.length !== 64)) {
    throw new Error(`an ed25519 secret is ${ED25519_SECRET_PREFIX} followed by the base64 of a 32-byte key`);
  }
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, raw.subarray(0, 32)]), format: 'der', type: 'pkcs8' });
}

/** The `whpk_` public key of an Ed25519 secret. */
export function ed25519PublicKeyOf(secret: string): string {
  return ed25519Public(createPublicKey(ed25519PrivateKey(secret)));
}

/** An Ed25519 public key from `whpk_…` (what receivers hold). */
export function parseEd25519PublicKey(publicKey: string): KeyObject {
  const raw = Buffer.from(publicKey.slice(ED25519_PUBLIC_PREFIX.length), 'base64');
  if (!publicKey.startsWith(ED25519_PUBLIC_PREFIX) || raw.length !== 32) {
    throw new Error(`an ed25519 public key is ${ED25519_PUBLIC_PREFIX} followed by the base64 of 32 bytes`);
  }
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/**
 * The signing key of a secret under a profile; throws with a sentence saying why the secret does not
 * fit (an ed25519 profile with an HMAC secret, a hex key that is not hex...).
 */
export function signingKeyOf(p: SignatureProfile, secret: string): SigningKey {
  if (p.scheme === 'ed25519') return { kind: 'ed25519', key: ed25519PrivateKey(secret) };
  if (p.scheme === 'standard') return { kind: 'hmac', bytes: parseSecret(secret) };
  if (p.key === 'hex') {
    if (!/^([0-9a-fA-F]{2}){16,}$/.test(secret)) throw new Error('this profile keys HMAC with the hex-decoded secret, but the secret is not an even-length hex string of at least 32 characters');
    return { kind: 'hmac', bytes: Buffer.from(secret, 'hex') };
  }
  if (secret.length < 16) throw new Error('the secret is shorter than 16 characters');
  return { kind: 'hmac', bytes: Buffer.from(secret, 'utf8') };
}

/** The message an hmac-sha256 profile signs. */
export function signedContent(p: Extract<SignatureProfile, { scheme: 'hmac-sha256' }>, timestamp: number, body: Buffer): Buffer {
  return p.content === 'body' ? body : Buffer.concat([Buffer.from(`${timestamp}.`), body]);
}

function hmacDigest(p: Extract<SignatureProfile, { scheme: 'hmac-sha256' }>, key: Buffer, timestamp: number, body: Buffer): string {
  return createHmac('sha256', key).update(signedContent(p, timestamp, body)).digest(p.encoding);
}

/** The Standard Webhooks message `{id}.{timestamp}.{body}` that v1 and v1a sign. */
function standardContent(msgId: string, timestamp: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${msgId}.${timestamp}.`), body]);
}

/**
 * The signature headers of one attempt. `keys` are the valid keys, newest first. `msgId` is the
 * Standard Webhooks id (the message id), `timestamp` the attempt's Unix seconds.
 */
export function signatureHeaders(p: SignatureProfile, keys: SigningKey[], msgId: string, timestamp: number, body: Buffer): Record<string, string> {
  if (keys.length === 0) throw new Error('no valid signing key');
  // A fractional timestamp would be sent as "1.5" and fail every receiver's integer parse.
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new Error(`signature timestamp must be integer Unix seconds; got ${timestamp}`);
  if (p.scheme === 'standard') {
    const hmacKeys = keys.map((k) => (k.kind === 'hmac' ? k.bytes : unusable(p)));
    return {
      [SIGNATURE_HEADERS.id]: msgId,
      [SIGNATURE_HEADERS.timestamp]: String(timestamp),
      [SIGNATURE_HEADERS.signature]: signatureHeader(hmacKeys, msgId, timestamp, body),
    };
  }
  if (p.scheme === 'ed25519') {
    const content = standardContent(msgId, timestamp, body);
    const sigs = keys.map((k) => `v1a,${sign(null, content, k.kind === 'ed25519' ? k.key : unusable(p)).toString('base64')}`);
    return {
      [SIGNATURE_HEADERS.id]: msgId,
      [SIGNATURE_HEADERS.timestamp]: String(timestamp),
      [SIGNATURE_HEADERS.signature]: sigs.join(' '),
    };
  }
  const oldest = keys[keys.length - 1]!;
  const headers: Record<string, string> = { [p.header]: hmacDigest(p, oldest.kind === 'hmac' ? oldest.bytes : unusable(p), timestamp, body) };
  if (p.timestampHeader) headers[p.timestampHeader] = String(timestamp);
  return headers;
}

function unusable(p: SignatureProfile): never {
  throw new Error(`the secret does not fit the ${p.scheme} scheme; rotate the secret after changing the scheme`);
}

/** Why verification failed; stable strings a receiver can branch on. */
export type ProfileVerifyFailure = 'missing_headers' | 'bad_timestamp' | 'timestamp_too_old' | 'timestamp_too_new' | 'no_matching_signature' | 'bad_secret';

/** Result of {@link verifyWithProfile}: never throws. */
export type ProfileVerifyResult =
  | { ok: true; timestamp: number | null; msgId: string | null }
  | { ok: false; reason: ProfileVerifyFailure; detail: string };

/** What a receiver verifies with. */
export interface ProfileVerifyInput {
  /** The endpoint's profile (default standard). */
  profile?: SignatureProfile;
  /** Secrets (HMAC profiles) or `whpk_` public keys (ed25519); more than one during a rotation. */
  secrets: string[];
  /** Request headers, any casing; arrays allowed. */
  headers: Record<string, string | string[] | undefined>;
  /** The raw body, exactly as received. */
  body: Buffer | string;
  /** Receiver's clock in Unix seconds. */
  nowSeconds: number;
  /** Largest clock difference accepted, either way (default 300 s). */
  toleranceSeconds?: number;
}

function header(headers: ProfileVerifyInput['headers'], name: string, join = false): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== lower) continue;
    const text = Array.isArray(v) ? (join ? v.join(' ') : v[0]) : v;
    if (text !== undefined && text.trim() !== '') return text.trim();
  }
  return undefined;
}

/** Checks the timestamp against the receiver's clock; null when it is acceptable. */
function timestampProblem(raw: string, name: string, now: number, tolerance: number): ProfileVerifyResult | null {
  if (!/^\d{1,15}$/.test(raw)) return { ok: false, reason: 'bad_timestamp', detail: `${name} must be integer Unix seconds; got "${raw.slice(0, 40)}"` };
  const ts = Number(raw);
  const skew = "check that the receiver's clock is synchronised (NTP) and the request is not a replay";
  if (now - ts > tolerance) return { ok: false, reason: 'timestamp_too_old', detail: `the request was signed ${now - ts} s ago, more than the ${tolerance} s allowed: ${skew}` };
  if (ts - now > tolerance) return { ok: false, reason: 'timestamp_too_new', detail: `the request is signed ${ts - now} s in the future, more than the ${tolerance} s allowed: ${skew}` };
  return null;
}

const MISMATCH =
  "the signature did not match any secret: check that the secret is the endpoint's current one (and, for a hex key, that you decode it from hex) and that the body is the raw bytes received, not re-serialised JSON";

/** Verifies a delivery under any profile; the same code Herald's receiver library exports. */
export function verifyWithProfile(input: ProfileVerifyInput): ProfileVerifyResult {
  const p = input.profile ?? STANDARD_PROFILE;
  const tolerance = input.toleranceSeconds ?? 300;
  const body = typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : input.body;
  if (input.secrets.length === 0) return { ok: false, reason: 'bad_secret', detail: 'no secret or public key was given to verify with' };

  if (p.scheme === 'hmac-sha256') {
    const sig = header(input.headers, p.header);
    const rawTs = p.timestampHeader ? header(input.headers, p.timestampHeader) : undefined;
    const missing = [sig === undefined && p.header, p.timestampHeader && rawTs === undefined && p.timestampHeader].filter(Boolean);
    if (missing.length > 0) return { ok: false, reason: 'missing_headers', detail: `missing header(s) ${missing.join(', ')}: not sent by Herald with this profile, or a proxy stripped them` };
    let ts: number | null = null;
    if (rawTs !== undefined) {
      const bad = timestampProblem(rawTs, p.timestampHeader!, input.nowSeconds, tolerance);
      if (bad) return bad;
      ts = Number(rawTs);
    }
    if (p.content === 'timestamp.body' && ts === null) return { ok: false, reason: 'missing_headers', detail: 'this profile signs the timestamp, but no timestamp header is configured' };
    const given = Buffer.from(sig!, 'utf8');
    let unusableSecret: string | null = null;
    for (const [i, secret] of input.secrets.entries()) {
      let key: SigningKey;
      try {
        key = signingKeyOf(p, secret);
      } catch (e) {
        unusableSecret ??= `secret #${i + 1} is unusable: ${(e as Error).message}`;
        continue; // another secret (a rotation's other half) may still match
      }
      const expected = Buffer.from(hmacDigest(p, (key as { bytes: Buffer }).bytes, ts ?? 0, body), 'utf8');
      if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true, timestamp: ts, msgId: null };
    }
    if (unusableSecret) return { ok: false, reason: 'bad_secret', detail: unusableSecret };
    return { ok: false, reason: 'no_matching_signature', detail: MISMATCH };
  }

  const msgId = header(input.headers, SIGNATURE_HEADERS.id) ?? header(input.headers, 'svix-id');
  const rawTs = header(input.headers, SIGNATURE_HEADERS.timestamp) ?? header(input.headers, 'svix-timestamp');
  const rawSig = header(input.headers, SIGNATURE_HEADERS.signature, true) ?? header(input.headers, 'svix-signature', true);
  if (msgId === undefined || rawTs === undefined || rawSig === undefined) {
    const missing = [msgId === undefined && 'webhook-id', rawTs === undefined && 'webhook-timestamp', rawSig === undefined && 'webhook-signature'].filter(Boolean);
    return { ok: false, reason: 'missing_headers', detail: `missing header(s) ${missing.join(', ')}: the request was not sent by Herald, or a proxy stripped them` };
  }
  const bad = timestampProblem(rawTs, 'webhook-timestamp', input.nowSeconds, tolerance);
  if (bad) return bad;
  const ts = Number(rawTs);
  const content = standardContent(msgId, ts, body);
  const version = p.scheme === 'ed25519' ? 'v1a,' : 'v1,';
  const offered = rawSig.split(/\s+/).map((s) => s.replace(/,$/, '')).filter((s) => s.startsWith(version)).map((s) => s.slice(version.length));
  if (offered.length === 0) return { ok: false, reason: 'no_matching_signature', detail: `webhook-signature holds no ${version} signature; is the profile right (${p.scheme})?` };
  let unusableKey: string | null = null;
  for (const [i, secret] of input.secrets.entries()) {
    try {
      if (p.scheme === 'ed25519') {
        const key = parseEd25519PublicKey(secret);
        if (offered.some((s) => verify(null, content, key, Buffer.from(s, 'base64')))) return { ok: true, timestamp: ts, msgId };
      } else {
        const expected = Buffer.from(createHmac('sha256', parseSecret(secret)).update(content).digest('base64'));
        if (offered.some((s) => Buffer.byteLength(s) === expected.length && timingSafeEqual(Buffer.from(s), expected))) return { ok: true, timestamp: ts, msgId };
      }
    } catch (e) {
      unusableKey ??= `${p.scheme === 'ed25519' ? 'public key' : 'secret'} #${i + 1} is unusable: ${(e as Error).message}`;
    }
  }
  if (unusableKey) return { ok: false, reason: 'bad_secret', detail: unusableKey };
  return {
    ok: false,
    reason: 'no_matching_signature',
    detail: p.scheme === 'ed25519'
      ? "the signature did not match any public key: check you use the endpoint's current public key (GET /api/v1/public/endpoint/{endpoint_id}/keys) and that the body is the raw bytes received, not re-serialised JSON"
      : MISMATCH,
  };
}
