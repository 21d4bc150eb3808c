/**
 * What the framework adapters share: their options, the verified delivery they hand to the handler,
 * and the one step that turns headers plus raw bytes into either.
 */
import { STATUS_OF, verifyWebhook, WebhookVerificationError, type WebhookFailureReason, type WebhookVerifyOptions } from './verify.js';

/**
 * Default body limit: Herald's payload limit defaults to 1 MiB (HERALD_MAX_PAYLOAD_BYTES), and an
 * envelope adds a little; raise it together with Herald's.
 */
export const DEFAULT_MAX_BODY_BYTES = 2 * 1_048_576;

/** Options of every adapter: how to verify, plus how much body to read. */
export interface AdapterOptions extends WebhookVerifyOptions {
  /** Largest body read, in bytes (default 2 MiB); a larger one is answered 413 unread. */
  maxBodyBytes?: number;
}

/** A delivery whose signature and timestamp verified. */
export interface VerifiedDelivery<T = unknown> {
  /** The `webhook-id` (the message id: deduplicate on it); null under an hmac-sha256 profile. */
  msgId: string | null;
  /** The signed Unix timestamp; null under an hmac-sha256 profile without a timestamp header. */
  timestamp: number | null;
  /** The body exactly as received: what was verified. */
  rawBody: Buffer;
  /** The body parsed as JSON. */
  payload: T;
}

/** An adapter's verdict: the delivery, or why not with the status to answer. */
export type AdapterResult<T = unknown> =
  | ({ ok: true } & VerifiedDelivery<T>)
  | { ok: false; reason: WebhookFailureReason; detail: string; status: number; bodyAltered?: true };

/** A failure value from a reason. */
export function failure(reason: WebhookFailureReason, detail: string, bodyAltered?: boolean): Extract<AdapterResult, { ok: false }> {
  return { ok: false, reason, detail, status: STATUS_OF[reason], ...(bodyAltered ? { bodyAltered: true as const } : {}) };
}

/** The error an `…OrThrow` adapter raises for a failure value. */
export function toError(f: Extract<AdapterResult, { ok: false }>): WebhookVerificationError {
  return new WebhookVerificationError(f.reason, f.detail, { bodyAltered: f.bodyAltered === true });
}

/** The body limit of `options`, checked (a programming error throws TypeError). */
export function bodyLimitOf(options: AdapterOptions): number {
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new TypeError(`herald/verify: maxBodyBytes must be a positive integer; got ${String(limit)}`);
  return limit;
}

/** The sentence for a body over the limit. */
export function tooLarge(limit: number): Extract<AdapterResult, { ok: false }> {
  return failure('body_too_large', `the body is larger than maxBodyBytes (${limit} bytes); raise maxBodyBytes if Herald's HERALD_MAX_PAYLOAD_BYTES is larger`);
}

/** Verifies raw bytes received with `headers`, then parses them as JSON. */
export function verifyDelivery<T = unknown>(headers: Record<string, string | string[] | undefined>, rawBody: Buffer, options: AdapterOptions): AdapterResult<T> {
  const result = verifyWebhook({ ...options, headers, body: rawBody });
  if (!result.ok) return failure(result.reason, result.detail, result.bodyAltered);
  let payload: T;
  try {
    payload = JSON.parse(rawBody.toString('utf8')) as T;
  } catch (e) {
    return failure('invalid_json', `the signature is valid but the body is not JSON (${(e as Error).message})`);
  }
  return { ok: true, msgId: result.msgId, timestamp: result.timestamp, rawBody, payload };
}
