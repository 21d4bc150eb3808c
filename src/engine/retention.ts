/**
 * The retention purge (docs/retention.md): a background loop, beside the delivery worker, that keeps
 * the database from growing without bound.
 *
 * Policy, per pass:
 * 1. Payloads whose message asked for a shorter retention (payloadRetentionPeriod / Hours) are
 *    replaced by `{}` and marked purged; the message and its log stay until step 2.
 * 2. A message older than its application's retention period (`retentionPeriod`, else
 *    HERALD_RETENTION_PERIOD) is deleted with its deliveries and attempts (response bodies with them),
 *    attempts first, then deliveries, then the message. So are debounced entities' last-sent states.
 * 3. Expired tokens (a day after expiry; revoked portal tokens a day after, revoked keys after the
 *    retention period), idempotency keys past their 24 h window, operational events and finished
 *    background tasks older than HERALD_RETENTION_PERIOD, rotated-out secrets a day after they
 *    stopped signing, alert windows of deleted endpoints.
 * Never purged: a message any of whose deliveries is pending or being sent (still retrying, held by
 * a paused endpoint, queued again by a person) keeps its payload and its rows until a later pass
 * finds it finished. Messages still in an open debounce window stay too.
 *
 * Cheap at any table size: every statement walks an index and touches at most `batchSize` rows, each
 * transaction is a few such statements, and the loop pauses between batches. One pass at a time
 * across every Herald process: a pass runs only while it holds a session advisory lock on the
 * purger's own connection (as the alert sender does), so the purge never takes a connection from the
 * delivery pool, and a process that dies lets go of the lock with its connection.
 */
import type pg from 'pg';
import type { Clock } from '../core/clock.js';
import type { Herald } from './herald.js';
import type { Logger } from '../logger.js';
import { IDEMPOTENCY_WINDOW_MS } from '../api/idempotency.js';
import { createPool } from '../store/pool.js';
import { withSessionLock } from '../store/session-lock.js';
import { PeriodicPass } from './periodic-pass.js';
import {
  appRetentionPage,
  deleteBareMessages,
  deleteLogRowsOf,
  deleteOldEntityStates,
  lockExpiredMessages,
  lockExpiredPayloads,
  purgePayloads,
  type AppRetention,
  type MessageCursor,
} from '../store/retention.js';
import { SWEEPS, type SweepTimes } from '../store/retention-sweeps.js';

/** Fixed key of the purge's advisory lock ("HrldPurg" in ASCII). */
export const RETENTION_LOCK_KEY = '5220354096178229863';
/** Rows one statement touches at most. */
export const BATCH_SIZE = 500;
/** Applications whose due check is one statement. */
const APP_PAGE = 100;
/** Pause between batches: the purge yields to delivery, which shares the database. */
export const PAUSE_MS = 10;
/** How long an expired credential or rotated-out secret is kept after it stopped working. */
export const GRACE_MS = 86_400_000;

/** Settings of a {@link RetentionPurger}. */
export interface RetentionOptions {
  /** Database to purge; the purger opens one connection of its own on it. */
  databaseUrl: string;
  /** Time source (fake in tests: what is old follows it). */
  clock: Clock;
  /** Where passes and failures are reported. */
  log: Logger;
  /** HERALD_RETENTION_PERIOD in milliseconds. */
  retentionMs: number;
  /** Interval between passes (HERALD_RETENTION_INTERVAL). */
  intervalMs: number;
  /** Rows per statement (tests make it small). */
  batchSize?: number;
  /** Pause between batches in real milliseconds. */
  pauseMs?: number;
}

/** What one pass did. */
export interface PurgeResult {
  /** false when another process held the lock (nothing was done). */
  ran: boolean;
  /** Payloads purged early (their message's own retention). */
  payloads: number;
  /** Messages deleted with their log. */
  messages: number;
  /** Deliveries deleted. */
  deliveries: number;
  /** Attempts deleted. */
  attempts: number;
  /** Transactions the delivery log took (payload purges and message deletions), each bounded by the batch size. */
  batches: number;
  /** Rows deleted by each other sweep, by name ("expired tokens", "debounce entity states", …). */
  swept: Record<string, number>;
}

/** Purges what retention no longer keeps; one per process (where the delivery worker runs), any number per database. */
export class RetentionPurger {
  private readonly db: pg.Pool;
  private readonly batchSize: number;
  private readonly pauseMs: number;
  private readonly loop: PeriodicPass;

  constructor(private readonly opts: RetentionOptions) {
    this.db = createPool({ url: opts.databaseUrl, max: 1, applicationName: 'herald-retention' }, (e) =>
      opts.log.warn({ error: e.message }, 'retention purge: idle database connection lost; it reconnects'));
    this.batchSize = opts.batchSize ?? BATCH_SIZE;
    this.pauseMs = opts.pauseMs ?? PAUSE_MS;
    this.loop = new PeriodicPass(
      () => this.pass(),
      () => opts.intervalMs,
      (e) => opts.log.warn({ error: e instanceof Error ? e.message : String(e) }, 'retention purge pass failed; the next one goes on'),
    );
  }

  /** Starts passes: one at once, then one every intervalMs after the previous one ended. */
  start(): void {
    this.loop.start();
  }

  /** Stops after the batch in progress and closes the purger's connection; a stopped purger does not start again. */
  stop(): Promise<void> {
    return this.loop.stop(() => this.db.end());
  }

  /** One pass under the lock; a pass that finds the lock taken does nothing (`ran: false`). */
  async pass(): Promise<PurgeResult> {
    const result: PurgeResult = { ran: false, payloads: 0, messages: 0, deliveries: 0, attempts: 0, batches: 0, swept: {} };
    result.ran = await withSessionLock(this.db, RETENTION_LOCK_KEY, (client) => this.locked(client, result));
    const total = result.payloads + result.messages + Object.values(result.swept).reduce((a, b) => a + b, 0);
    if (total > 0) this.opts.log.info({ ...result, ran: undefined }, 'retention purge pass');
    return result;
  }

  private async locked(db: pg.PoolClient, result: PurgeResult): Promise<void> {
    const now = this.opts.clock.now();
    await this.purgePayloads(db, now, result);
    let after: string | null = null;
    while (!this.loop.stopping) {
      const apps = await appRetentionPage(db, after, this.opts.retentionMs, now, APP_PAGE);
      if (apps.length === 0) break;
      after = apps.at(-1)!.id;
      await this.repeat(result, 'debounce entity states', () => deleteOldEntityStates(db, apps, now, this.batchSize));
      for (const app of apps) if (app.due && !this.loop.stopping) await this.purgeLog(db, app, now, result);
      if (apps.length < APP_PAGE) break;
    }
    const t = now.getTime();
    const times: SweepTimes = {
      now,
      logCutoff: new Date(t - this.opts.retentionMs),
      graceCutoff: new Date(t - GRACE_MS),
      idempotencyCutoff: new Date(t - IDEMPOTENCY_WINDOW_MS),
    };
    for (const sweep of SWEEPS) await this.repeat(result, sweep.name, () => sweep.run(db, times, this.batchSize));
  }

  /** Runs a one-statement sweep until it comes back short, pausing between batches. */
  private async repeat(result: PurgeResult, name: string, batch: () => Promise<number>): Promise<void> {
    for (;;) {
      if (this.loop.stopping) return;
      const n = await batch();
      if (n > 0) result.swept[name] = (result.swept[name] ?? 0) + n;
      if (n < this.batchSize) return;
      await this.pause();
    }
  }

  /** Step 1: payloads past their message's own retention, a batch per transaction. */
  private async purgePayloads(db: pg.PoolClient, now: Date, result: PurgeResult): Promise<void> {
    let cursor: MessageCursor | null = null;
    while (!this.loop.stopping) {
      const rows = await inTx(db, async () => {
        const found = await lockExpiredPayloads(db, now, cursor, this.batchSize);
        if (found.length > 0) result.payloads += await purgePayloads(db, found.map((r) => r.id), now);
        return found;
      });
      if (rows.length === 0) return;
      result.batches++;
      cursor = { at: rows.at(-1)!.expiresAt, id: rows.at(-1)!.id };
      if (rows.length < this.batchSize) return;
      await this.pause();
    }
  }

  /**
   * Step 2 for one application: its messages older than its retention, a batch per transaction.
   * A batch deletes the batch's attempts, then its deliveries, then the messages left without any;
   * when attempts or deliveries fill a statement, the transaction commits and the next one takes the
   * same messages again, so every statement stays within the batch size whatever the fan-out.
   */
  private async purgeLog(db: pg.PoolClient, app: AppRetention, now: Date, result: PurgeResult): Promise<void> {
    const before = new Date(now.getTime() - app.retentionMs);
    const n = this.batchSize;
    let cursor: MessageCursor | null = null;
    while (!this.loop.stopping) {
      const step = await inTx(db, async () => {
        const rows = await lockExpiredMessages(db, app.id, before, cursor, n);
        if (rows.length === 0) return null;
        const ids = rows.map((r) => r.id);
        const attempts = await deleteLogRowsOf(db, 'attempt', app.id, ids, n);
        const deliveries = attempts < n ? await deleteLogRowsOf(db, 'delivery', app.id, ids, n) : 0;
        const done = attempts < n && deliveries < n;
        const messages = done ? await deleteBareMessages(db, app.id, ids) : 0;
        return { rows, attempts, deliveries, messages, done };
      });
      if (!step) return;
      result.batches++;
      result.attempts += step.attempts;
      result.deliveries += step.deliveries;
      result.messages += step.messages;
      if (step.done) {
        const last = step.rows.at(-1)!;
        cursor = { at: last.createdAt, id: last.id };
        if (step.rows.length < n) return;
      }
      await this.pause();
    }
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, this.pauseMs));
  }
}

/**
 * The purge of a running Herald with its settings (HERALD_RETENTION_PERIOD, HERALD_RETENTION_INTERVAL),
 * not started: `start()` it where a delivery worker runs, and `stop()` it before closing the Herald.
 */
export function createRetentionPurger(
  herald: Pick<Herald, 'databaseUrl' | 'clock' | 'log' | 'config'>,
  overrides: Partial<Pick<RetentionOptions, 'batchSize' | 'pauseMs' | 'intervalMs' | 'retentionMs'>> = {},
): RetentionPurger {
  return new RetentionPurger({
    databaseUrl: herald.databaseUrl,
    clock: herald.clock,
    log: herald.log,
    retentionMs: herald.config.HERALD_RETENTION_PERIOD,
    intervalMs: herald.config.HERALD_RETENTION_INTERVAL,
    ...overrides,
  });
}

/** Runs `fn` in a transaction on the purger's own connection. */
async function inTx<T>(db: pg.PoolClient, fn: () => Promise<T>): Promise<T> {
  await db.query('begin');
  try {
    const r = await fn();
    await db.query('commit');
    return r;
  } catch (e) {
    await db.query('rollback').catch(() => undefined);
    throw e;
  }
}
