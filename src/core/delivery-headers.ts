/**
 * Delivery header names a platform keeps from its existing contract: a header carrying the event
 * type, one carrying a delivery id, and the User-Agent value (e.g. `X-Acme-Event-Type`,
 * `X-Acme-Delivery-Id`, `Acme-Webhooks/1.0`). Set per application (default for its endpoints) and
 * per endpoint (override); all optional.
 */
import { createHash } from 'node:crypto';
import type { FieldError } from './errors.js';
import { headerNameProblem } from './signature-profile.js';

/** Names and value; null or absent = not sent (User-Agent: Herald's own). */
export interface DeliveryHeaders {
  /** Header that carries the event type. */
  eventType?: string | null;
  /** Header that carries the delivery id (stable across retries, unique per endpoint). */
  deliveryId?: string | null;
  /** The User-Agent value. */
  userAgent?: string | null;
}

/** Visible ASCII and spaces: what a User-Agent value may hold (RFC 9110 product tokens and comments). */
const USER_AGENT = /^[\x20-\x7e]{1,256}$/;

/** Problems with delivery headers; `taken` are header names the signature profile already uses. */
export function deliveryHeadersProblems(h: unknown, taken: string[] = []): FieldError[] {
  if (h === null || typeof h !== 'object' || Array.isArray(h)) return [{ path: '', message: 'must be an object' }];
  const o = h as Record<string, unknown>;
  const errors: FieldError[] = [];
  const used = [...taken];
  for (const key of ['eventType', 'deliveryId'] as const) {
    const v = o[key];
    if (v === undefined || v === null) continue;
    const problem = headerNameProblem(v, used);
    if (problem) errors.push({ path: key, message: problem });
    else used.push(v as string);
  }
  if (o.userAgent !== undefined && o.userAgent !== null && (typeof o.userAgent !== 'string' || !USER_AGENT.test(o.userAgent) || o.userAgent.trim() === '')) {
    errors.push({ path: 'userAgent', message: 'must be 1-256 visible ASCII characters, e.g. Acme-Webhooks/1.0' });
  }
  for (const k of Object.keys(o)) if (!['eventType', 'deliveryId', 'userAgent'].includes(k)) errors.push({ path: k, message: 'is not a delivery header setting (eventType, deliveryId, userAgent)' });
  return errors;
}

/**
 * The delivery id of a message to an endpoint: the same on every retry and resend, different for
 * every endpoint, derived (not stored) so it survives anything that recreates the delivery row.
 */
export function deliveryId(msgId: string, endpointId: string): string {
  return `dlv_${createHash('sha256').update(`${msgId}:${endpointId}`).digest('base64url').slice(0, 22)}`;
}
