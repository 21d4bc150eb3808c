/**
 * The only writer of delivery outcomes. One transaction per group commit: outcomes and attempts,
 * endpoint failure counters, circuit breakers, strict-ordering holds, automatic disabling,
 * operational events. Decisions were made before (decideOutcome, shouldAutoDisable); this file only
 * acts on them.
 *
 * One bad row never blocks the others: a group that PostgreSQL refuses for a data error is split in
 * halves until the bad row is alone; that row is then written without the parts that could not be
 * stored, with a message saying so, and the failure is logged once for that row.
 */
import type pg from 'pg';
import type { Outcome } from '../core/outcome.js';
import { shouldAutoDisable, type AutoDisableSettings } from '../core/endpoint-health.js';
import type { BreakerSettings } from '../core/breaker.js';
import {
  applyHealthDeltas,
  recordOutcomes,
  type ClaimedDelivery,
  type DeliveryUpdate,
  type EndpointHealthDelta,
} from '../store/deliveries.js';
import { lockLanes, setLaneHolds, updateBreakers } from '../store/lanes.js';
import { disableEndpoints } from '../store/endpoints.js';
import type { OperationalEventType } from '../core/operational.js';
import { recordOperationalEvents, type OperationalEventInput } from '../store/operational-events.js';
import { inTransaction, isDataError } from '../store/pool.js';
import type { Logger } from '../logger.js';
import type { HeraldMetrics } from '../metrics/registry.js';

/** What persisting reports to: the results each committed group wrote. */
export type ResultMetrics = Pick<HeraldMetrics, 'recordResults'>;

/** A delivery whose attempt is over and whose next state is decided. */
export interface FinishedDelivery {
  /** What was claimed. */
  delivery: ClaimedDelivery;
  /** The decision (null when skipped without an attempt). */
  outcome: Outcome | null;
  /** The row change to write. */
  update: DeliveryUpdate;
  /** Strictly ordered lanes: hold the lane until then (a retry), or release it (null). */
  laneHold?: Date | null;
}

/** What persisting needs besides the batch. */
export interface PersistContext {
  /** Time of the write. */
  now: Date;
  /** Auto-disable thresholds. */
  autoDisable: AutoDisableSettings;
  /** Breaker thresholds. */
  breaker: BreakerSettings;
  /** Logger. */
  log: Logger;
  /** Counts the results once their group has committed. */
  metrics?: ResultMetrics;
  /**
   * Failed attempts in a row of one delivery after which `message.attempt.failing` is raised, and past
   * which a success raises `message.attempt.recovered` (HERALD_ALERT_FAILING_AFTER); 0 = never.
   */
  failingAfter?: number;
}

/**
 * Writes a batch. A data error (a value PostgreSQL refuses) splits the batch until the row is found;
 * any other error (the database is away) is thrown so the caller keeps the batch and tries again.
 */
export async function persistResults(pool: pg.Pool, batch: FinishedDelivery[], ctx: PersistContext): Promise<void> {
  if (batch.length === 0) return;
  try {
    await writeGroup(pool, batch, ctx);
  } catch (e) {
    if (!isDataError(e)) throw e;
    if (batch.length > 1) {
      const half = Math.ceil(batch.length / 2);
      await persistResults(pool, batch.slice(0, half), ctx);
      await persistResults(pool, batch.slice(half), ctx);
      return;
    }
    await writeUnstorable(pool, batch[0]!, e, ctx);
  }
}

/**
 * The last resort for one row PostgreSQL refused: keep the decision (a delivered message stays
 * delivered; nothing is sent twice because of how its answer looked), drop what the receiver sent,
 * and say why in words that are themselves always storable. If even that is refused, the delivery
 * is written without its attempt row.
 */
async function writeUnstorable(pool: pg.Pool, f: FinishedDelivery, err: unknown, ctx: PersistContext): Promise<void> {
  const code = String((err as { code?: unknown }).code);
  const note = `Herald could not store this attempt's response (PostgreSQL error ${code}); the response was dropped from the log`;
  ctx.log.error({ deliveryId: f.delivery.id, endpointId: f.delivery.endpointId, code }, 'delivery result refused by the database; stored without the response');
  const a = f.update.attempt;
  const stripped: FinishedDelivery = {
    ...f,
    update: {
      ...f.update,
      lastError: f.update.lastError === null ? null : note,
      attempt: a && {
        ...a,
        requestHeaders: {},
        responseHeaders: null,
        responseBody: null,
        responseLossy: true,
        errorMessage: a.errorMessage === null ? null : note,
      },
    },
  };
  try {
    await writeGroup(pool, [stripped], ctx);
  } catch (e) {
    if (!isDataError(e)) throw e;
    await writeGroup(pool, [{ ...stripped, update: { ...stripped.update, attempt: null, lastError: note } }], ctx);
  }
}

async function writeGroup(pool: pg.Pool, batch: FinishedDelivery[], ctx: PersistContext): Promise<void> {
  if (batch.every((f) => isPlainSuccess(f, ctx.failingAfter ?? 0))) {
    // The common case, every request answered 2xx: nothing but rows and failure counts change.
    const written = await recordOutcomes(pool, batch.map((f) => f.update), ctx.now, { resetHealth: true });
    ctx.metrics?.recordResults(writtenOf(batch, written, ctx.log));
    return;
  }
  const { disabled, mine } = await inTransaction(pool, async (client) => {
    // Lanes first, as claims do (lane, then its deliveries): a claim holding a lane while it waits for
    // a delivery row this write holds would otherwise deadlock with it.
    await lockLanes(client, laneEndpoints(batch));
    const written = await recordOutcomes(client, batch.map((f) => f.update), ctx.now);
    const mine = writtenOf(batch, written, ctx.log);
    const failedNow = new Set(mine.filter((f) => f.update.attempt && !f.update.attempt.succeeded).map((f) => f.delivery.endpointId));
    const health = await applyHealthDeltas(client, healthDeltas(mine));
    await updateBreakers(client, {
      open: ctx.breaker.failures > 0
        ? health.filter((h) => !h.disabled && failedNow.has(h.id) && h.consecutiveFailures >= ctx.breaker.failures).map((h) => h.id)
        : [],
      now: ctx.now,
      backoffMs: ctx.breaker.backoffMs,
      backoffMaxMs: ctx.breaker.backoffMaxMs,
    });
    await setLaneHolds(client, laneHolds(mine));

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

    const failSince = new Map(health.map((h) => [h.id, h.firstFailureAt]));
    await recordOperationalEvents(
      client,
      [
        ...messageEvents(mine, ctx.failingAfter ?? 0),
        ...disabled.map((d): OperationalEventInput => ({
          type: 'endpoint.disabled',
          appId: d.appId,
          endpointId: d.id,
          notify: true,
          data: { failSince: failSince.get(d.id) ?? null, trigger: 'automatic', reason: d.reason },
        })),
      ],
      ctx.now,
    );
    return { disabled, mine };
  });
  ctx.metrics?.recordResults(mine);
  for (const d of disabled) ctx.log.warn({ endpointId: d.id, appId: d.appId, reason: d.reason }, 'endpoint disabled');
}

/** The results whose rows were written; the others' leases were taken over by another worker. */
function writtenOf(batch: FinishedDelivery[], written: Set<number>, log: Logger): FinishedDelivery[] {
  const mine = batch.filter((f) => written.has(f.delivery.id));
  if (mine.length < batch.length) log.warn({ count: batch.length - mine.length }, 'lease taken over by another worker; newer result kept');
  return mine;
}

/**
 * A result that changes nothing but its own rows and its endpoint's failure count: a 2xx answer
 * (or a delivery skipped without an attempt) with no strict-ordering hold and nothing to disable.
 */
function isPlainSuccess(f: FinishedDelivery, failingAfter: number): boolean {
  if (f.laneHold !== undefined || f.outcome?.kind === 'disable-endpoint') return false;
  const a = f.update.attempt;
  if (!a) return f.update.state === 'skipped';
  return a.succeeded && f.update.state === 'succeeded' && !recovers(f, failingAfter);
}

/** A success after at least `failingAfter` failed attempts: the failing alert it follows is answered. */
function recovers(f: FinishedDelivery, failingAfter: number): boolean {
  return failingAfter > 0 && f.update.attempt?.succeeded === true && f.update.attemptsMade - 1 >= failingAfter;
}

/**
 * The message events of written results: failed for good (exhausted), failing (the attempt that makes
 * `failingAfter` failures in the current run, once, and only while retries remain), and recovered.
 */
export function messageEvents(mine: FinishedDelivery[], failingAfter: number): OperationalEventInput[] {
  const events: OperationalEventInput[] = [];
  for (const f of mine) {
    const a = f.update.attempt;
    const type: OperationalEventType | null =
      f.update.state === 'failed'
        ? 'message.attempt.exhausted'
        : failingAfter > 0 && a && !a.succeeded && f.update.state === 'pending' && f.update.runAttempts === failingAfter
          ? 'message.attempt.failing'
          : recovers(f, failingAfter)
            ? 'message.attempt.recovered'
            : null;
    if (!type) continue;
    events.push({
      type,
      appId: f.delivery.appId,
      endpointId: f.delivery.endpointId,
      msgId: f.delivery.msgId,
      notify: true,
      data: {
        lastAttempt: a ? { id: a.id, responseStatusCode: a.responseStatus ?? 0, timestamp: a.createdAt } : null,
        lastError: type === 'message.attempt.recovered' ? null : f.update.lastError,
        attempts: f.update.attemptsMade,
      },
    });
  }
  return events;
}

/** Lanes this write may change: strictly ordered ones (holds) and ones with a failure (breaker). */
function laneEndpoints(batch: FinishedDelivery[]): string[] {
  const ids = new Set<string>();
  for (const f of batch) {
    if (f.laneHold !== undefined || (f.update.attempt && !f.update.attempt.succeeded)) ids.add(f.delivery.endpointId);
  }
  return [...ids];
}

/** The last hold decision per strictly ordered lane in the batch. */
function laneHolds(batch: FinishedDelivery[]): { endpointId: string; holdUntil: Date | null }[] {
  const holds = new Map<string, Date | null>();
  for (const f of batch) if (f.laneHold !== undefined) holds.set(f.delivery.endpointId, f.laneHold);
  return [...holds].map(([endpointId, holdUntil]) => ({ endpointId, holdUntil }));
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
