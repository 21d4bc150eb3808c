/**
 * Background tasks: an endpoint's recover, replay-missing and bulk replay, and the usage counts over
 * applications, answer 202 with a task at once (Svix's shape) and run here, a batch at a time, in whichever Herald process holds the task's
 * lease. Each batch's changes and the task's new cursor and progress commit in one transaction, so:
 * - a task whose process died (or was stopped) is taken over once its lease expires, by the same
 *   process after a restart or by any other, and resumes after its last committed batch: nothing is
 *   queued twice and nothing is skipped;
 * - with several Herald processes, exactly one runs a task at a time (the lease is taken with SKIP
 *   LOCKED, and a batch commits only while its process still holds the lease);
 * - a task that keeps dying with its process is ended as failed after {@link MAX_RUNS} starts, with
 *   the reason in `data.error`, rather than taking every process down with it.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Clock } from '../core/clock.js';
import { newOrderedId } from '../core/ids.js';
import type { Logger } from '../logger.js';
import {
  claimBackgroundTask,
  endBackgroundTask,
  getBackgroundTask,
  insertBackgroundTask,
  releaseBackgroundTask,
  saveTaskProgress,
  type BackgroundTaskRow,
  type BackgroundTaskType,
} from '../store/background-tasks.js';
import { inTransaction, isDataError, type Queryable } from '../store/pool.js';
import { appEventTypesBatch, appUsageBatch, type AppEventTypes, type AppUsage } from '../store/app-stats.js';
import {
  bulkReplayBatch,
  probeEndpointNow,
  recoverBatch,
  replayMissingBatch,
  type BatchCursor,
  type BatchResult,
  type BatchWindow,
  type BulkReplayFilter,
} from '../store/replay.js';

/** How long a process holds a task without progress before another may take it over. */
const LEASE_MS = 30_000;
/** How often a runner looks for tasks nobody holds (new ones also wake it at once). */
const POLL_MS = 5_000;
/** Rows one batch looks at: one short transaction each. */
const BATCH_SIZE = 500;
/** Starts after which a task that never finishes is ended as failed. */
export const MAX_RUNS = 5;

/** Parameters of an endpoint task, as stored. */
export interface EndpointTaskParams {
  /** Start of the window (ISO 8601). */
  since: string;
  /** End of the window (ISO 8601), fixed when the task is created. */
  until: string;
  /** Bulk replay's filters. */
  filter?: BulkReplayFilter;
}

/** Result and progress of a task (Svix BackgroundTaskOut.data). */
export interface EndpointTaskData {
  /** Messages queued again (or for the first time, by replay-missing) so far. */
  messagesSent: number;
  /** Recover: the failed deliveries found when the task was created. */
  count?: number;
  /** Why a failed task failed. */
  error?: string;
  [key: string]: unknown;
}

/** Parameters of the usage count over applications, as stored. */
export interface UsageTaskParams {
  /** Start of the window (ISO 8601). */
  since: string;
  /** End of the window (ISO 8601). */
  until: string;
  /** Only these applications (ids), or every one. */
  appIds: string[] | null;
}

/** What one batch did: where the next starts (null: done), and the task's data after it. */
interface Step {
  next: Record<string, unknown> | null;
  data: Record<string, unknown>;
}

/** An endpoint task's batch: its queued messages are added to `messagesSent`. */
function endpointStep(batch: (db: Queryable, t: BackgroundTaskRow, w: BatchWindow) => Promise<BatchResult>) {
  return async (db: Queryable, t: BackgroundTaskRow, cursor: Record<string, unknown> | null, now: Date, limit: number): Promise<Step> => {
    const p = t.params as unknown as EndpointTaskParams;
    const window = { since: new Date(p.since), until: new Date(p.until), after: cursor as BatchCursor | null, limit, now };
    const r = await batch(db, t, window);
    const data = { messagesSent: 0, ...t.data } as EndpointTaskData;
    return { next: r.next as Record<string, unknown> | null, data: { ...data, messagesSent: data.messagesSent + r.queued } };
  };
}

/** One batch of each task type; `t.data` is the data after the previous batch. */
const STEPS: Record<BackgroundTaskType, (db: Queryable, t: BackgroundTaskRow, cursor: Record<string, unknown> | null, now: Date, limit: number) => Promise<Step>> = {
  'endpoint.recover': endpointStep((db, t, w) => recoverBatch(db, t.appId!, t.endpointId!, w)),
  'endpoint.replay': endpointStep((db, t, w) => replayMissingBatch(db, t.appId!, t.endpointId!, w)),
  'endpoint.bulk-replay': endpointStep((db, t, w) => bulkReplayBatch(db, t.appId!, t.endpointId!, w, (t.params as unknown as EndpointTaskParams).filter!)),
  'application.stats': async (db, t, cursor, _now, limit) => {
    const p = t.params as unknown as UsageTaskParams;
    const rows = await appUsageBatch(db, { since: new Date(p.since), until: new Date(p.until), afterId: (cursor?.appId as string) ?? null, limit, appIds: p.appIds });
    const appStats = [...((t.data.appStats as AppUsage[]) ?? []), ...rows];
    return { next: rows.length < limit ? null : { appId: rows.at(-1)!.appId }, data: { ...t.data, appStats } };
  },
  'event-type.aggregate': async (db, t, cursor, _now, limit) => {
    const rows = await appEventTypesBatch(db, { afterId: (cursor?.appId as string) ?? null, limit });
    const eventTypes = [...((t.data.event_types as AppEventTypes[]) ?? []), ...rows];
    return { next: rows.length < limit ? null : { appId: rows.at(-1)!.appId }, data: { ...t.data, event_types: eventTypes } };
  },
};

/** A task to create, by type. */
export type NewTask =
  | { appId: string; endpointId: string; task: 'endpoint.recover' | 'endpoint.replay' | 'endpoint.bulk-replay'; params: EndpointTaskParams; data?: Partial<EndpointTaskData> }
  | { appId: null; endpointId: null; task: 'application.stats'; params: UsageTaskParams; data?: Record<string, unknown> }
  | { appId: null; endpointId: null; task: 'event-type.aggregate'; params: Record<string, never>; data?: Record<string, unknown> };

/** Thrown inside a batch's transaction when another process took the task over: the batch rolls back. */
class LeaseLost extends Error {}

/** Settings of a {@link BackgroundTaskRunner}. */
export interface RunnerOptions {
  /** Database pool. */
  pool: pg.Pool;
  /** Time source (fake in tests). */
  clock: Clock;
  /** Where failures are reported. */
  log: Logger;
  /** Lease length (tests shorten it). */
  leaseMs?: number;
  /** Interval between looks for orphaned tasks. */
  pollMs?: number;
  /** Rows per batch. */
  batchSize?: number;
}

/** Creates and runs background tasks; one per Herald process, started by the API server. */
export class BackgroundTaskRunner {
  /** This process's lease owner name. */
  readonly owner = `runner_${randomUUID()}`;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly batchSize: number;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | null = null;
  /** Tasks started by {@link launch}, beside the drain loop. */
  private readonly started = new Set<Promise<void>>();
  private again = false;
  private stopped = true;

  constructor(private readonly opts: RunnerOptions) {
    this.leaseMs = opts.leaseMs ?? LEASE_MS;
    this.pollMs = opts.pollMs ?? POLL_MS;
    this.batchSize = opts.batchSize ?? BATCH_SIZE;
  }

  /** Starts looking for work: at once (tasks left by a process that died), then every pollMs. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.pollMs);
    this.wake();
  }

  /**
   * Stops taking tasks; the task being run stops after its current batch and its lease is given back,
   * so another process (or this one after a restart) resumes it at once.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all([this.draining, ...this.started]);
  }

  /**
   * Stores a running task, free for any runner to take (a runner's next look for work does). The API
   * uses {@link launch} instead, which runs the task here at once.
   */
  async create(db: Queryable, t: NewTask): Promise<BackgroundTaskRow> {
    return this.insert(db, t, null);
  }

  /**
   * Creates a task leased to this runner, runs it here and resolves once its first batch has committed
   * (or it ended), with the task as it then is: what the API answers with. A small task is finished
   * before the request that started it is answered, and a client reading the endpoint's stats right
   * after sees the first deliveries queued; the rest runs on in the background. A stopped runner only
   * stores the task, for another process to take.
   */
  async launch(db: Queryable, t: NewTask): Promise<BackgroundTaskRow> {
    if (this.stopped) return this.create(db, t);
    const now = this.opts.clock.now();
    const task = await this.insert(db, t, { owner: this.owner, until: new Date(now.getTime() + this.leaseMs) });
    await new Promise<void>((firstBatch) => {
      const running = this.run(task, firstBatch)
        .catch((e: unknown) => this.opts.log.warn({ task: task.id, error: (e as Error).message }, 'background task interrupted; another run resumes it'))
        .finally(() => {
          firstBatch();
          this.started.delete(running);
        });
      this.started.add(running);
    });
    return (await getBackgroundTask(db, null, task.id)) ?? task;
  }

  private async insert(db: Queryable, t: NewTask, lease: { owner: string; until: Date } | null): Promise<BackgroundTaskRow> {
    const now = this.opts.clock.now();
    return insertBackgroundTask(db, {
      id: newOrderedId('qtask', now.getTime()),
      appId: t.appId,
      endpointId: t.endpointId,
      task: t.task,
      params: t.params as unknown as Record<string, unknown>,
      data: t.task === 'application.stats' ? { appStats: [], ...t.data } : t.task === 'event-type.aggregate' ? { event_types: [], ...t.data } : { messagesSent: 0, ...t.data },
      now,
      lease,
    });
  }

  /** Looks for work now (a task was just created, or the poll interval passed). */
  wake(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drain().finally(() => {
      this.draining = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Runs tasks one after another until none is free. */
  private async drain(): Promise<void> {
    try {
      while (!this.stopped) {
        const task = await claimBackgroundTask(this.opts.pool, this.owner, this.opts.clock.now(), this.leaseMs);
        if (!task) return;
        await this.run(task);
      }
    } catch (e) {
      // The database is unreachable: the next poll tries again, and leases taken meanwhile expire.
      this.opts.log.warn({ error: (e as Error).message }, 'background tasks: could not look for work');
    }
  }

  /** Runs one claimed task to its end, or until this runner stops or loses the lease. */
  private async run(task: BackgroundTaskRow, onFirstBatch?: () => void): Promise<void> {
    const { pool, clock, log } = this.opts;
    let data = task.data;
    if (task.runs > MAX_RUNS) {
      const error = `stopped after ${MAX_RUNS} starts: the Herald process running it ended each time before it finished`;
      await endBackgroundTask(pool, task.id, this.owner, 'failed', { ...data, error }, clock.now());
      return;
    }
    let cursor = task.cursor;
    try {
      if (cursor === null && task.appId && task.endpointId) await probeEndpointNow(pool, task.appId, task.endpointId, clock.now());
      for (;;) {
        if (this.stopped) {
          await releaseBackgroundTask(pool, task.id, this.owner);
          return;
        }
        const now = clock.now();
        const step = await inTransaction(pool, async (client) => {
          const r = await STEPS[task.task](client, { ...task, data }, cursor, now, this.batchSize);
          if (!(await saveTaskProgress(client, task.id, this.owner, { data: r.data, cursor: r.next, now, leaseMs: this.leaseMs }))) {
            throw new LeaseLost();
          }
          return r;
        });
        data = step.data;
        cursor = step.next;
        if (cursor === null) {
          await endBackgroundTask(pool, task.id, this.owner, 'finished', data, clock.now());
          return;
        }
        onFirstBatch?.();
      }
    } catch (e) {
      if (e instanceof LeaseLost) return;
      if (!isDataError(e)) throw e;
      // Refused for its data: running it again cannot help, so it ends here with the reason.
      log.warn({ task: task.id, error: (e as Error).message }, 'background task failed');
      await endBackgroundTask(pool, task.id, this.owner, 'failed', { ...data, error: (e as Error).message }, clock.now());
    }
  }
}
