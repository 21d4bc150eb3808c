/**
 * For receivers: verify a Herald delivery against the raw request body, under the endpoint's
 * signature profile (Standard Webhooks by default; see src/core/signature-profile.ts).
 *
 * ```ts
 * import { verifyWebhook } from 'herald/verify';
 * const result = verifyWebhook({ secrets: webhookSecret, headers: req.headers, body: rawBody });
 * if (!result.ok) return res.status(401).send(result.detail);
 * ```
 *
 * The adapters (`herald/verify/express`, `/fastify`, `/fetch`, `/node`) read the raw body for you.
 * Comparison is constant-time (the core compares with `timingSafeEqual`, or verifies Ed25519).
 */
import {
  ED25519_PUBLIC_PREFIX,
  ED25519_SECRET_PREFIX,
  ed25519PublicKeyOf,
  parseEd25519PublicKey,
  profileProblems,
  signingKeyOf,
  STANDARD_PROFILE,
  verifyWithProfile,
  type ProfileVerifyFailure,
  type SignatureProfile,
} from '../core/signature-profile.js';
import { DEFAULT_TOLERANCE_SECONDS, type VerifyResult } from '../core/signing.js';

export type { SignatureProfile, VerifyResult };
export { DEFAULT_TOLERANCE_SECONDS };

/** An hmac-sha256 profile: the platform names the header and what is signed. */
export type HmacProfile = Extract<SignatureProfile, { scheme: 'hmac-sha256' }>;

/** How a receiver verifies: the same shape for {@link verifyWebhook} and every adapter. */
export interface WebhookVerifyOptions<P extends SignatureProfile = SignatureProfile> {
  /** The endpoint's signature profile, as in its `signature` field; default `{ scheme: 'standard' }`. */
  profile?: P;
  /** The endpoint's secret(s) for `standard` and `hmac-sha256`; pass two during a rotation. */
  secrets?: string | readonly string[];
  /** The endpoint's Ed25519 public key(s), `whpk_…`, for `ed25519` (Herald publishes them). */
  publicKeys?: string | readonly string[];
  /** Largest accepted clock difference in seconds, either way (default 300). */
  toleranceSeconds?: number;
  /** The receiver's clock in Unix seconds; default the current time (set it to re-check a capture). */
  nowSeconds?: number;
}

/** What {@link verifyWebhook} needs: the options plus the request. */
export interface VerifyWebhookInput<P extends SignatureProfile = SignatureProfile> extends WebhookVerifyOptions<P> {
  /** Request headers (any casing; arrays allowed). */
  headers: Record<string, string | string[] | undefined>;
  /** The raw body bytes, before any JSON parsing. */
  body: Buffer | Uint8Array | string;
}

/**
 * Why verification failed; stable strings to branch on:
 * - `missing_headers`: a signature or timestamp header is absent (not from Herald, or a proxy stripped it);
 * - `bad_timestamp`: the timestamp header is not integer Unix seconds;
 * - `timestamp_too_old` / `timestamp_too_new`: outside the tolerance (a replay, or a clock off);
 * - `no_matching_signature`: wrong secret, or the body was altered (`bodyAltered` says which when it can tell);
 * - `bad_secret`: a secret or public key given to verify with is unusable for this profile.
 */
export type VerifyFailureReason = ProfileVerifyFailure;

/** A failed verification. */
export interface WebhookVerifyFailure {
  /** Always false. */
  ok: false;
  /** Which check failed. */
  reason: VerifyFailureReason;
  /** One sentence saying what to check or change. */
  detail: string;
  /** True when the body's compact JSON form verifies: the secret is right, the body was re-serialised. */
  bodyAltered?: true;
}

/** A verified delivery: HMAC-only profiles have no message id, and a timestamp only with a timestamp header. */
export type WebhookVerifySuccess<P extends SignatureProfile = SignatureProfile> = P extends HmacProfile
  ? { ok: true; msgId: null; timestamp: number | null }
  : { ok: true; msgId: string; timestamp: number };

/** Result of {@link verifyWebhook}: never throws for a bad request or secret. */
export type WebhookVerifyResult<P extends SignatureProfile = SignatureProfile> = WebhookVerifySuccess<P> | WebhookVerifyFailure;

/** Any failure a receiver can meet, including those of the adapters while reading the body. */
export type WebhookFailureReason =
  | VerifyFailureReason
  /** The body is larger than `maxBodyBytes`. */
  | 'body_too_large'
  /** The signature is valid but the body is not JSON (the adapters parse it). */
  | 'invalid_json'
  /** Something read the body before the adapter (a JSON body parser): the raw bytes are gone. */
  | 'raw_body_unavailable';

/**
 * The HTTP status an adapter answers with. Herald retries 5xx and does not retry other 4xx, so a
 * receiver-side misconfiguration (unusable secret, body parser in the way) answers 500: once fixed, the
 * retries get through. A request that fails verification answers 401 (not retried: forged or replayed).
 */
export const STATUS_OF: Readonly<Record<WebhookFailureReason, number>> = Object.freeze({
  missing_headers: 401,
  bad_timestamp: 401,
  timestamp_too_old: 401,
  timestamp_too_new: 401,
  no_matching_signature: 401,
  bad_secret: 500,
  body_too_large: 413,
  invalid_json: 400,
  raw_body_unavailable: 500,
});

/** Thrown by the `…OrThrow` variants. */
export class WebhookVerificationError extends Error {
  /** Which check failed. */
  readonly reason: WebhookFailureReason;
  /** What to check or change, one sentence. */
  readonly detail: string;
  /** The HTTP status to answer with ({@link STATUS_OF}). */
  readonly status: number;
  /** Set when the secret is right but the body was re-serialised. */
  readonly bodyAltered: boolean;

  constructor(reason: WebhookFailureReason, detail: string, opts: { bodyAltered?: boolean; cause?: unknown } = {}) {
    super(`webhook verification failed (${reason}): ${detail}`, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'WebhookVerificationError';
    this.reason = reason;
    this.detail = detail;
    this.status = STATUS_OF[reason];
    this.bodyAltered = opts.bodyAltered === true;
  }
}

const list = (v: string | readonly string[] | undefined): string[] => (v === undefined ? [] : typeof v === 'string' ? [v] : [...v]);

/**
 * Checks the profile and tolerance (a programming error: throws TypeError) and picks what to verify
 * with for the profile. Returns the verifiers, or the bad_secret sentence.
 */
export function resolveVerifiers(options: WebhookVerifyOptions): { profile: SignatureProfile; verifiers: string[] } | { profile: SignatureProfile; problem: string } {
  const profile = options.profile ?? STANDARD_PROFILE;
  const problems = profileProblems(profile);
  if (problems.length > 0) {
    throw new TypeError(`herald/verify: invalid profile: ${problems.map((p) => `${p.path || 'profile'} ${p.message}`).join('; ')}`);
  }
  const tolerance = options.toleranceSeconds;
  if (tolerance !== undefined && (!Number.isFinite(tolerance) || tolerance < 0)) {
    throw new TypeError(`herald/verify: toleranceSeconds must be a number of seconds >= 0; got ${String(tolerance)}`);
  }
  const secrets = list(options.secrets);
  const publicKeys = list(options.publicKeys);
  if (profile.scheme === 'ed25519') {
    const verifiers = publicKeys.length > 0 ? publicKeys : secrets;
    const signing = verifiers.find((k) => k.startsWith(ED25519_SECRET_PREFIX));
    if (signing !== undefined) {
      let pub = `${ED25519_PUBLIC_PREFIX}…`;
      try {
        pub = ed25519PublicKeyOf(signing);
      } catch {
        // malformed as well; the generic hint is enough
      }
      return { profile, problem: `a ${ED25519_SECRET_PREFIX} key is the signing key and must stay with Herald; verify with its public key instead: publicKeys: ['${pub}']` };
    }
    if (verifiers.length === 0) return { profile, problem: 'the ed25519 profile verifies with public keys: pass publicKeys (whpk_…), as GET /api/v1/public/endpoint/{endpoint_id}/keys lists them' };
    return { profile, verifiers };
  }
  if (publicKeys.length > 0) return { profile, problem: `publicKeys are for the ed25519 profile; the ${profile.scheme} profile verifies with the endpoint's secrets: pass secrets` };
  if (secrets.length === 0) return { profile, problem: "no secret was given to verify with: pass the endpoint's secret (secrets)" };
  const pub = secrets.findIndex((s) => s.startsWith(ED25519_PUBLIC_PREFIX));
  if (pub !== -1) return { profile, problem: `secret #${pub + 1} is an Ed25519 public key (whpk_…): pass it as publicKeys with profile { scheme: 'ed25519' }` };
  return { profile, verifiers: secrets };
}

/**
 * Like {@link resolveVerifiers}, but also tries every secret under the profile and throws a
 * {@link WebhookVerificationError} (`bad_secret`) for an unusable one: the adapters call it when they are
 * created, so a misconfigured receiver stops at start instead of failing every delivery.
 */
export function assertVerifyOptions(options: WebhookVerifyOptions): void {
  const r = resolveVerifiers(options);
  if ('problem' in r) throw new WebhookVerificationError('bad_secret', r.problem);
  for (const [i, v] of r.verifiers.entries()) {
    try {
      if (r.profile.scheme === 'ed25519') parseEd25519PublicKey(v);
      else signingKeyOf(r.profile, v);
    } catch (e) {
      throw new WebhookVerificationError('bad_secret', `${r.profile.scheme === 'ed25519' ? 'public key' : 'secret'} #${i + 1} is unusable: ${(e as Error).message}`, { cause: e });
    }
  }
}

/** Bodies larger than this are not re-serialised to tell an altered body from a wrong secret. */
const MAX_REPARSE_BYTES = 256 * 1024;

const REPARSED =
  'the body was changed after it arrived: its compact JSON form verifies, the bytes given do not. A JSON body parser or a logger re-serialised it; verify the raw request bytes (the herald/verify adapters read them for you)';

/** Verifies signature and timestamp; `ok: false` carries a reason and a sentence saying what to check. */
export function verifyWebhook<P extends SignatureProfile = { scheme: 'standard' }>(input: VerifyWebhookInput<P>): WebhookVerifyResult<P> {
  const r = resolveVerifiers(input);
  if ('problem' in r) return { ok: false, reason: 'bad_secret', detail: r.problem };
  const body = typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : Buffer.isBuffer(input.body) ? input.body : Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength);
  const base = {
    profile: r.profile,
    secrets: r.verifiers,
    headers: input.headers,
    nowSeconds: input.nowSeconds ?? Math.floor(Date.now() / 1000),
    toleranceSeconds: input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS,
  };
  const result = verifyWithProfile({ ...base, body });
  if (result.ok) return result as WebhookVerifySuccess<P>;
  if (result.reason === 'no_matching_signature' && body.length <= MAX_REPARSE_BYTES) {
    const compact = compactJson(body);
    if (compact !== null && verifyWithProfile({ ...base, body: compact }).ok) {
      return { ok: false, reason: 'no_matching_signature', detail: REPARSED, bodyAltered: true };
    }
  }
  return result;
}

/** The compact JSON serialisation of `body` when it is JSON and differs from it; else null. */
function compactJson(body: Buffer): Buffer | null {
  const first = body.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
  if (first !== 0x7b && first !== 0x5b) return null; // '{' or '['
  try {
    const compact = Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8'))), 'utf8');
    return compact.equals(body) ? null : compact;
  } catch {
    return null;
  }
}

/** Like {@link verifyWebhook}, but returns the verified id and timestamp or throws a {@link WebhookVerificationError}. */
export function verifyWebhookOrThrow<P extends SignatureProfile = { scheme: 'standard' }>(input: VerifyWebhookInput<P>): WebhookVerifySuccess<P> {
  const result = verifyWebhook(input);
  if (result.ok) return result as WebhookVerifySuccess<P>;
  const failure = result as WebhookVerifyFailure;
  throw new WebhookVerificationError(failure.reason, failure.detail, { bodyAltered: failure.bodyAltered === true });
}
