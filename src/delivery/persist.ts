/**
 * The only writer of delivery outcomes. One transaction per group commit: outcomes and attempts,
 * endpoint failure counters, automatic disabling, operational events. Decisions were made before
 * (decideOutcome, shouldAutoDisable); this file only acts on them.
 */
import type pg from 'pg';
import type { Outcome } from '../core/outcome.js';
import { shouldAutoDisable, type AutoDisableSettings } from '../core/endpoint-health.js';
import {
  applyHealthDeltas,
  insertOperationalEvents,
  recordOutcomes,
  type ClaimedDelivery,
  type DeliveryUpdate,
  type EndpointHealthDelta,
} from '../store/deliveries.js';
import { disableEndpoints } from '../store/endpoints.js';
import type { Logger } from '../logger.js';

/** A delivery whose attempt is over and whose next state is decided. */
export interface FinishedDelivery {
  /** What was claimed. */
  delivery: ClaimedDelivery;
  /** The decision (null when skipped without an attempt). */
  outcome: Outcome | null;
  /** The row change to write. */
  update: DeliveryUpdate;
}

/** Operational event types, as Svix names its operational webhooks. */
export const OPERATIONAL_EVENT = {
  exhausted: 'message.attempt.exhausted',
  disabled: 'endpoint.disabled',
} as const;

export async function persistResults(
  pool: pg.Pool,
  batch: FinishedDelivery[],
  ctx: { now: Date; autoDisable: AutoDisableSettings; log: Logger },
): Promise<void> {
  if (batch.length === 0) return;
  const client = await pool.connect();
  try {
    await client.query('begin');
    const written = await recordOutcomes(client, batch.map((f) => f.update), ctx.now);
    const mine = batch.filter((f) => written.has(f.delivery.id));
    if (mine.length < batch.length) {
      ctx.log.warn({ count: batch.length - mine.length }, 'lease taken over by another worker; newer result kept');
    }
    const health = await applyHealthDeltas(client, healthDeltas(mine));

    const disables = new Map<string, string>();
    for (const f of mine) {
      if (f.outcome?.kind === 'disable-endpoint') disables.set(f.delivery.endpointId, f.outcome.reason);
    }
    for (const h of health) {
      if (h.disabled || disables.has(h.id)) continue;
      const verdict = shouldAutoDisable(h, ctx.now, ctx.autoDisable, h.lastError ?? 'unknown error');
      if (verdict.disable) disables.set(h.id, verdict.reason);
    }
    const disabled = await disableEndpoints(
      client,
      [...disables].map(([endpointId, reason]) => ({ endpointId, reason })),
      'auto',
      ctx.now,
    );

    await insertOperationalEvents(
      client,
      [
        ...mine
          .filter((f) => f.update.state === 'failed')
          .map((f) => ({
            appId: f.delivery.appId,
            type: OPERATIONAL_EVENT.exhausted,
            data: {
              msgId: f.delivery.msgId,
              endpointId: f.delivery.endpointId,
              attempts: f.update.attemptsMade,
              reason: f.update.lastError,
            },
          })),
        ...disabled.map((d) => ({
          appId: d.appId,
          type: OPERATIONAL_EVENT.disabled,
          data: { endpointId: d.id, reason: d.reason },
        })),
      ],
      ctx.now,
    );
    await client.query('commit');
    for (const d of disabled) ctx.log.warn({ endpointId: d.id, appId: d.appId, reason: d.reason }, 'endpoint disabled');
  } catch (e) {
    await client.query('rollback').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

/**
 * Summarises attempts per endpoint in the order they finished: a success restarts the count, so
 * only failures after the batch's last success add to the endpoint's run.
 */
export function healthDeltas(batch: FinishedDelivery[]): EndpointHealthDelta[] {
  const byEndpoint = new Map<string, EndpointHealthDelta>();
  for (const f of batch) {
    const a = f.update.attempt;
    if (!a) continue;
    let d = byEndpoint.get(f.delivery.endpointId);
    if (!d) {
      d = { endpointId: f.delivery.endpointId, reset: false, failures: 0, firstFailureAt: null, lastError: null };
      byEndpoint.set(d.endpointId, d);
    }
    if (a.succeeded) {
      d.reset = true;
      d.failures = 0;
      d.firstFailureAt = null;
    } else {
      d.failures += 1;
      d.firstFailureAt ??= a.createdAt;
      d.lastError = a.errorMessage;
    }
  }
  return [...byEndpoint.values()];
}
