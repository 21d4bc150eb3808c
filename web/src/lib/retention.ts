/**
 * Retention as the browser app shows it (docs/retention.md): an application's retention period in
 * days (empty = the server's HERALD_RETENTION_PERIOD, which the API does not publish), and messages
 * whose payload retention purged, which cannot be resent (the API answers 409 saying so).
 */
import { ApiError } from './api';

/** The API's bounds of `retentionPeriod`, in days. */
export const RETENTION_DAYS = { min: 1, max: 3_650 } as const;

/** What an application without a retention period of its own gets. */
export const SERVER_DEFAULT_RETENTION = "the server's default (HERALD_RETENTION_PERIOD: 90 days unless the operator set another)";

/** Why the retention field's text cannot be sent, or null (empty means the server default). */
export function retentionProblem(text: string): string | null {
  const t = text.trim();
  if (t === '') return null;
  if (!/^\d+$/.test(t)) return 'Whole days, e.g. 30; leave empty for the server default.';
  const n = Number(t);
  if (n < RETENTION_DAYS.min || n > RETENTION_DAYS.max) return `From ${RETENTION_DAYS.min} to ${RETENTION_DAYS.max} days.`;
  return null;
}

/** The field's text as the API's `retentionPeriod`: days, or null for the server default. Check retentionProblem first. */
export function retentionBody(text: string): number | null {
  const t = text.trim();
  return t === '' ? null : Number(t);
}

/** An application's retention period in words: "30 days", or "Server default" when it sets none. */
export function describeRetention(days: number | null | undefined): string {
  if (days == null) return 'Server default';
  return `${days} day${days === 1 ? '' : 's'}`;
}

/**
 * Whether an error is the API refusing to resend a message because retention purged its payload:
 * a 409 whose sentence says so (a 409 also answers a message being sent right now, or a disabled
 * endpoint, which may be retried later; a purged payload never comes back).
 */
export function isPurgedRefusal(error: unknown): boolean {
  return error instanceof ApiError && error.status === 409 && /payload purged/i.test(error.message);
}

/** What the delivery log says where a purged payload would be. */
export const PURGED_TITLE = 'Payload purged (retention)';

/** Why a purged message has no body and cannot be resent. */
export const PURGED_EXPLANATION =
  'This message asked Herald to keep its payload for a shorter time than its delivery log (payloadRetentionPeriod or payloadRetentionHours), and retention has deleted it. ' +
  'The attempts, their headers and the responses stay until the application’s retention period ends. A purged message cannot be resent: publish it again to send it.';
