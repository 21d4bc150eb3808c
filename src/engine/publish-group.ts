/**
 * Publish group commit: concurrent single-message publishes (API requests, CLI calls, `herald.publish`
 * in the library) are coalesced into one multi-row statement, the way a database groups commits.
 *
 * Each publish joins the queue and waits. A group starts as soon as a statement slot is free, taking
 * everything queued (up to `maxMessages`): while one group's statement runs, the next group forms,
 * so under load groups grow on their own and at low rates a publish waits for nothing (a group of
 * one, started on the next turn of the event loop, so requests parsed together still share one).
 * A group is one autocommitted statement: every publish is answered only after its own commit, and a
 * 202 still means stored.
 *
 * Per message, nothing changes: validation, the payload limit, idempotency (eventId) and the API's
 * scope checks give each message its own answer. A statement refused for a message's data (a
 * constraint, a value PostgreSQL cannot store) is retried in halves until the message that caused it
 * is alone, so one bad message never fails the others; any other failure (the database unreachable)
 * fails the whole group at once, without retrying it row by row.
 */
import type pg from 'pg';
import { HeraldError } from '../core/errors.js';
import type { Logger } from '../logger.js';
import { isDataError } from '../store/pool.js';
import type { PublishTarget } from '../store/messages.js';
import { forgetSchemaValidators } from './schemas.js';
import {
  prepareMessages,
  storePrepared,
  type Prepared,
  type PublishedMessage,
  type PublishInput,
  type PublishOutcome,
} from './publish.js';

/** Settings of a {@link PublishGroupCommit}. */
export interface PublishGroupOptions {
  /** The pool statements run on. */
  pool: pg.Pool;
  /** Most messages in one group (HERALD_PUBLISH_GROUP_MAX). */
  maxMessages: number;
  /** Groups whose statements may run at the same time. */
  maxConcurrent?: number;
  /** Payload bytes one statement carries at most; a larger group is written in several. */
  maxStatementBytes?: number;
  /** Publish time of a group. */
  now: () => Date;
  /** HERALD_MAX_PAYLOAD_BYTES. */
  maxPayloadBytes: number;
  /** HERALD_SCHEMA_ENFORCEMENT: check payloads against their event type's JSON Schema (default true). */
  enforceSchemas?: boolean;
  /** Called once per group: its size, the new messages stored, the deliveries they created (metrics). */
  onGroup?: (messages: number, stored: number, deliveries: number) => void;
  /** Where a failed group is reported. */
  log: Logger;
  /** How long a group reuses an application found by an earlier one (0 = look up every group). */
  targetTtlMs?: number;
}

/** One publish waiting for its group. */
interface Waiting {
  app: string;
  input: PublishInput;
  authorize?: (target: PublishTarget) => HeraldError | null;
  resolve: (m: PublishedMessage) => void;
  reject: (e: HeraldError) => void;
}

/**
 * Two statements at once by default: one being written while the next group forms keeps a 2-core
 * database busy without making groups small; more only adds lock and WAL contention.
 */
const DEFAULT_CONCURRENT = 2;
/** 8 MiB of payloads per statement: large messages still share a group, and no statement balloons. */
const DEFAULT_STATEMENT_BYTES = 8 * 1024 * 1024;
/**
 * A group reuses the applications (and envelopes) earlier groups found for one second, so a busy
 * publisher pays one statement per group, not two. Changes made through this node's API clear it at
 * once ({@link PublishGroupCommit.forgetTargets}); on other nodes they apply within that second.
 */
const DEFAULT_TARGET_TTL_MS = 1_000;

export class PublishGroupCommit {
  private readonly queue: Waiting[] = [];
  private running = 0;
  private scheduled = false;
  private closed = false;
  private readonly idle: (() => void)[] = [];
  private readonly targets = new TargetCache();

  constructor(private readonly opts: PublishGroupOptions) {}

  /** Forgets the applications, envelopes and compiled schemas groups reuse (after one of them changed). */
  forgetTargets(): void {
    this.targets.clear();
    forgetSchemaValidators();
  }

  /**
   * Publishes one message within the next group; resolves once it is committed, rejects with the
   * HeraldError of this message alone (422, 404, 409, 413, or the database's failure).
   * `authorize` runs once the application is found, before anything is written.
   */
  publish(app: string, input: PublishInput, authorize?: (target: PublishTarget) => HeraldError | null): Promise<PublishedMessage> {
    if (this.closed) return Promise.reject(new HeraldError('unavailable', 'Herald is shutting down; publish again in a moment'));
    return new Promise((resolve, reject) => {
      this.queue.push({ app, input, authorize, resolve, reject });
      this.schedule();
    });
  }

  /** Refuses new publishes and resolves once every queued one has been answered. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.running === 0 && this.queue.length === 0 && !this.scheduled) return;
    await new Promise<void>((r) => this.idle.push(r));
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0 || this.running >= (this.opts.maxConcurrent ?? DEFAULT_CONCURRENT)) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const group = this.queue.splice(0, this.opts.maxMessages);
      if (group.length === 0) return this.settleIdle();
      this.running++;
      void this.commit(group).finally(() => {
        this.running--;
        this.schedule();
        this.settleIdle();
      });
      this.schedule();
    });
  }

  private settleIdle(): void {
    if (this.running > 0 || this.queue.length > 0 || this.scheduled) return;
    for (const r of this.idle.splice(0)) r();
  }

  /** Prepares and stores one group, answering every publish in it. Never throws. */
  private async commit(group: Waiting[]): Promise<void> {
    const { pool, now, maxPayloadBytes } = this.opts;
    let outcomes: PublishOutcome[];
    try {
      const ttl = this.opts.targetTtlMs ?? DEFAULT_TARGET_TTL_MS;
      const { prepared, lookedUp } = await prepareMessages(
        pool,
        group.map((w) => ({ app: w.app, input: w.input, index: -1, authorize: w.authorize })),
        { now: now(), maxPayloadBytes, enforceSchemas: this.opts.enforceSchemas ?? true },
        ttl > 0 ? this.targets : undefined,
      );
      if (ttl > 0) this.targets.remember(lookedUp, ttl);
      outcomes = [];
      for (const chunk of this.chunks(prepared)) outcomes.push(...(await this.store(chunk)));
    } catch (e) {
      this.opts.log.error({ err: e, messages: group.length }, 'publish group could not be written');
      const error =
        e instanceof HeraldError
          ? e
          : new HeraldError(
              'unavailable',
              'the message could not be stored: the database did not answer; publish it again (with an eventId, a message that was stored after all is not sent twice)',
              { cause: e },
            );
      outcomes = group.map(() => ({ ok: false, error }));
    }
    let deliveries = 0;
    let stored = 0;
    for (const [i, o] of outcomes.entries()) {
      if (o.ok) {
        deliveries += o.message.deliveries;
        if (!o.message.duplicate) stored++;
        group[i]!.resolve(o.message);
      } else {
        group[i]!.reject(o.error);
      }
    }
    this.opts.onGroup?.(group.length, stored, deliveries);
  }

  /** The group split so that no statement carries more than maxStatementBytes of payloads. */
  private *chunks(prepared: Prepared[]): Generator<Prepared[]> {
    const limit = this.opts.maxStatementBytes ?? DEFAULT_STATEMENT_BYTES;
    let start = 0;
    let bytes = 0;
    for (const [i, p] of prepared.entries()) {
      const size = p.ok ? p.row.payload.length : 0;
      if (i > start && bytes + size > limit) {
        yield prepared.slice(start, i);
        start = i;
        bytes = 0;
      }
      bytes += size;
    }
    if (start < prepared.length) yield prepared.slice(start);
  }

  /** One statement; on a data error, the halves on their own, down to the message that caused it. */
  private async store(prepared: Prepared[]): Promise<PublishOutcome[]> {
    try {
      return await storePrepared(this.opts.pool, prepared);
    } catch (e) {
      const rows = prepared.filter((p) => p.ok).length;
      if (!isDataError(e)) throw e;
      // An application deleted since a group found it: look it up again next time.
      if ((e as { code?: string }).code === '23503') this.targets.clear();
      if (rows <= 1) return prepared.map((p) => (p.ok ? { ok: false, error: storeError(e) } : p));
      const half = Math.ceil(prepared.length / 2);
      return [...(await this.store(prepared.slice(0, half))), ...(await this.store(prepared.slice(half)))];
    }
  }
}

/**
 * Applications found by earlier groups, with the envelopes of the event types they were looked up
 * for. An entry answers only for event types it knows, so a new type costs one lookup.
 */
export class TargetCache {
  private readonly entries = new Map<string, { target: PublishTarget; types: Set<string>; until: number }>();

  /** The application `key` (id or uid) with envelopes for every type in `types`, if fresh. */
  get(key: string, types: Iterable<string>): PublishTarget | undefined {
    const e = this.entries.get(key);
    if (!e || e.until <= performance.now()) return undefined;
    for (const t of types) if (!e.types.has(t)) return undefined;
    return e.target;
  }

  /** Remembers what one lookup found (`types` = the event types it was asked for). */
  remember(found: { targets: Map<string, PublishTarget>; types: string[] } | null, ttlMs: number): void {
    if (!found) return;
    const until = performance.now() + ttlMs;
    if (this.entries.size > 10_000) this.entries.clear();
    for (const [key, target] of found.targets) this.entries.set(key, { target, types: new Set(found.types), until });
  }

  clear(): void {
    this.entries.clear();
  }
}

/** What a publisher is told when PostgreSQL refused its message's data. */
function storeError(e: unknown): HeraldError {
  const code = (e as { code?: string }).code;
  // 23503: the application was deleted between finding it and writing the message.
  if (code === '23503') return new HeraldError('not_found', 'the application was deleted while the message was being published', { cause: e });
  return new HeraldError('validation', `the message could not be stored: ${(e as Error).message}`, { cause: e });
}
