/**
 * Flushes debounce windows whose quiet period or cap has passed (docs/debounce.md): runs where the
 * delivery worker runs, on a timer woken at the earliest due window. Each pass is one transaction:
 * claim due windows (`for update skip locked`), consolidate each (pure, src/core/debounce.ts), publish
 * the consolidated messages through the normal insert (fan-out, filters, channels, signing, retries),
 * record the states sent and delete the windows. A process killed mid-pass rolls all of it back, and
 * the windows flush on the next pass, here or in another process: never lost, never sent twice.
 */
import type pg from 'pg';
import type { Clock } from '../core/clock.js';
import { consolidate } from '../core/debounce.js';
import type { Logger } from '../logger.js';
import { claimDueWindows, nextWindowDue, recordFlush, type FlushedWindow } from '../store/debounce.js';
import { getPublishTargets, insertMessages, type NewMessage } from '../store/messages.js';
import { inTransaction } from '../store/pool.js';
import { consolidatedMessage } from './publish.js';

/** Settings of a {@link DebounceFlusher}. */
export interface DebounceFlusherOptions {
  /** Pool the passes run on. */
  pool: pg.Pool;
  /** Time source: windows are due by it (a fake clock in tests). */
  clock: Clock;
  /** Where failed passes are reported. */
  log: Logger;
  /** Most windows one transaction flushes (default 100). */
  batchSize?: number;
  /**
   * Longest sleep between passes in real milliseconds (default 1,000): a window opened meanwhile,
   * by this process or another, is flushed at most this late.
   */
  maxSleepMs?: number;
  /** Called after each pass that sent something: consolidated messages stored, deliveries created (metrics). */
  onPublished?: (messages: number, deliveries: number) => void;
}

/** What one {@link DebounceFlusher.flushDue} did. */
export interface FlushResult {
  /** Windows closed. */
  windows: number;
  /** Consolidated messages published (windows in which something changed). */
  messages: number;
}

export class DebounceFlusher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;

  constructor(private readonly opts: DebounceFlusherOptions) {}

  /** Starts flushing on a timer. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops the timer and waits for a pass under way to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Flushes every window due now, a batch per transaction, until none is left. */
  async flushDue(): Promise<FlushResult> {
    const total: FlushResult = { windows: 0, messages: 0 };
    for (;;) {
      const r = await this.flushBatch();
      total.windows += r.windows;
      total.messages += r.messages;
      if (r.messages > 0) this.opts.onPublished?.(r.messages, r.deliveries);
      if (r.windows < (this.opts.batchSize ?? 100)) return total;
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.pass().finally(() => (this.running = null));
    }, delayMs);
  }

  /** One timed pass: flush what is due, then sleep until the earliest window is (at most maxSleepMs). */
  private async pass(): Promise<void> {
    const maxSleep = this.opts.maxSleepMs ?? 1_000;
    let delay = maxSleep;
    try {
      await this.flushDue();
      const due = await nextWindowDue(this.opts.pool);
      // A window still due now is held by another flusher (or a publish merging into it): not a reason to spin.
      if (due) delay = Math.min(maxSleep, Math.max(due.getTime() - this.opts.clock.now().getTime(), 0) || maxSleep);
    } catch (e) {
      this.opts.log.error({ err: e }, 'debounce windows could not be flushed; trying again');
    }
    this.schedule(delay);
  }

  /** One transaction: claim, consolidate, publish, record. */
  private async flushBatch(): Promise<FlushResult & { deliveries: number }> {
    const { pool, clock } = this.opts;
    return inTransaction(pool, async (client) => {
      const now = clock.now();
      const windows = await claimDueWindows(client, now, this.opts.batchSize ?? 100);
      if (windows.length === 0) return { windows: 0, messages: 0, deliveries: 0 };
      const plans = windows.map((w) => ({ w, c: consolidate(w, new Map(Object.entries(w.lastSent)), now) }));
      const sending = plans.filter((p) => p.c.payload !== null);
      const rows = new Map<(typeof plans)[number], NewMessage>();
      if (sending.length > 0) {
        const targets = await getPublishTargets(client, [...new Set(sending.map((p) => p.w.appId))], [...new Set(sending.map((p) => p.w.eventType))]);
        for (const p of sending) {
          const target = targets.get(p.w.appId);
          // The window's row is locked, so its application (whose deletion cascades to it) still exists.
          if (!target) throw new Error(`application ${p.w.appId} of a debounce window was not found`);
          rows.set(p, consolidatedMessage(target, p.w.eventType, { ...p.c.payload! }, p.w.channels, p.w.msgIds, now));
        }
      }
      const results = rows.size > 0 ? await insertMessages(client, [...rows.values()]) : [];
      const flushed: FlushedWindow[] = plans.map((p) => ({
        appId: p.w.appId,
        eventType: p.w.eventType,
        group: p.w.group,
        msgIds: p.w.msgIds,
        consolidatedInto: rows.get(p)?.id ?? null,
        sent: p.c.sent,
      }));
      await recordFlush(client, flushed, now);
      const deliveries = results.reduce((n, r) => n + (r.inserted ? r.deliveries : 0), 0);
      return { windows: windows.length, messages: rows.size, deliveries };
    });
  }
}
