/**
 * What the worker writes for a delivery once it is decided: pure mappings from a claimed delivery and
 * a decision to the row change and the attempt record (persist.ts writes them).
 */
import { newOrderedId } from '../core/ids.js';
import type { Outcome, SendResult } from '../core/outcome.js';
import type { AttemptRecord, ClaimedDelivery, DeliveryUpdate } from '../store/deliveries.js';
import type { FinishedDelivery } from './persist.js';

/** The delivery-log row of one attempt. */
export function attemptRecord(
  d: ClaimedDelivery,
  sent: { headers: Record<string, string>; startedAt: Date },
  result: SendResult,
  outcome: Outcome,
): AttemptRecord {
  return {
    id: newOrderedId('atmpt', sent.startedAt.getTime()),
    attemptNumber: d.attemptsMade + 1,
    trigger: d.nextTrigger,
    url: d.url,
    requestHeaders: sent.headers,
    responseStatus: result.status ?? null,
    responseHeaders: result.headers ?? null,
    responseBody: result.body ?? null,
    responseTruncated: result.ok ? result.bodyTruncated : false,
    responseLossy: result.bodyLossy ?? false,
    durationMs: Math.round(result.durationMs),
    errorStage: result.ok ? null : result.stage,
    errorMessage: outcome.kind === 'delivered' ? null : outcome.reason,
    succeeded: outcome.kind === 'delivered',
    createdAt: sent.startedAt,
  };
}

/** The delivery after an attempt: succeeded, pending until the retry time, or failed. */
export function afterAttempt(d: ClaimedDelivery, outcome: Outcome, attempt: AttemptRecord, now: Date): FinishedDelivery {
  const base = {
    id: d.id,
    leaseVersion: d.leaseVersion,
    attemptsMade: d.attemptsMade + 1,
    runAttempts: d.runAttempts + 1,
    lastStatus: attempt.responseStatus,
    attempt,
  };
  let update: DeliveryUpdate;
  switch (outcome.kind) {
    case 'delivered':
      update = { ...base, state: 'succeeded', nextAttemptAt: now, lastError: null };
      break;
    case 'retry':
      // A strictly ordered lane waits on the lane (hold_until), and the delivery keeps its place in
      // publish order, so no later message can overtake it.
      update = { ...base, state: 'pending', nextAttemptAt: d.strict ? d.createdAt : outcome.at, lastError: outcome.reason };
      break;
    case 'failed':
    case 'disable-endpoint':
      update = { ...base, state: 'failed', nextAttemptAt: now, lastError: outcome.reason };
      break;
  }
  const laneHold = d.strict ? (outcome.kind === 'retry' ? outcome.at : null) : undefined;
  return { delivery: d, outcome, update, laneHold };
}

/**
 * The delivery finished without an attempt: skipped (its endpoint was disabled meanwhile) or failed
 * because Herald could not even build the request (no valid secret, a secret that does not open).
 */
export function withoutAttempt(d: ClaimedDelivery, state: 'skipped' | 'failed', reason: string, now: Date): FinishedDelivery {
  return {
    delivery: d,
    outcome: state === 'failed' ? { kind: 'failed', reason } : null,
    update: {
      id: d.id,
      leaseVersion: d.leaseVersion,
      state,
      nextAttemptAt: now,
      attemptsMade: d.attemptsMade,
      runAttempts: d.runAttempts,
      lastStatus: null,
      lastError: reason,
      attempt: null,
    },
  };
}
