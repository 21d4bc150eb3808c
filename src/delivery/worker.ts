/**
 * The delivery worker: claim -> send -> decide -> persist.
 *
 * It keeps up to `concurrency` requests in flight and never claims more than it can send at once, so
 * a claimed delivery goes out immediately (its deadline is never spent waiting in Herald). Claims are
 * fair over endpoint lanes and applications and respect each lane's cap, throttle and breaker
 * (store/lanes.ts); each lane's requests use connections of their own (http-client.ts). A payload is
 * held once per message however many of its deliveries are in flight. Claims are batched,
 * results are written in group commits (one flush writes every result that arrived while the
 * previous flush ran), and leases of everything in flight are renewed together, so the number of
 * SQL statements grows with batches, not with deliveries. It wakes on LISTEN/NOTIFY and polls as a
 * fallback, so several workers in several processes can share one database.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Clock } from '../core/clock.js';
import { decideOutcome } from '../core/outcome.js';
import type { AutoDisableSettings } from '../core/endpoint-health.js';
import type { BreakerSettings } from '../core/breaker.js';
import { resolvePolicy, type PolicyBounds, type PolicyDefaults } from '../core/delivery-policy.js';
import type { SecretBox } from '../core/secret-box.js';
import { releaseLeases, renewLeases, type ClaimedDelivery } from '../store/deliveries.js';
import { claimFromLanes, loadPayloads } from '../store/lanes.js';
import { DueListener } from './due-listener.js';
import { WorkerLiveness } from './liveness.js';
import { PayloadCache } from './payload-cache.js';

/** A claimed delivery with the sealed secrets that sign it (current first) and its message body. */
export interface Claim extends ClaimedDelivery {
  /** Sealed secrets valid now. */
  secrets: string[];
  /** Exact body, shared by every delivery of the message. */
  payload: Buffer;
}
import type { HttpClient } from './http-client.js';
import { buildSignedRequest, SecretKeyCache } from './build-request.js';
import { persistResults, type FinishedDelivery, type ResultMetrics } from './persist.js';
import { afterAttempt, attemptRecord, withoutAttempt } from './next-state.js';
import type { Logger } from '../logger.js';

/** Settings of a worker. */
export interface WorkerOptions {
  /** Database. */
  pool: pg.Pool;
  /** Guarded HTTP client. */
  http: HttpClient;
  /** Opens endpoint secrets. */
  secretBox: SecretBox;
  /** Time source (a fake one in tests). */
  clock: Clock;
  /** Operator defaults: retry schedule, per-attempt deadline, in-flight cap per endpoint. */
  defaults: PolicyDefaults;
  /** Bounds of application and endpoint overrides. */
  bounds: PolicyBounds;
  /** Auto-disable thresholds. */
  autoDisable: AutoDisableSettings;
  /** Circuit breaker thresholds. */
  breaker: BreakerSettings;
  /** Failed attempts of a delivery that raise message.attempt.failing (0 = never). */
  failingAfter?: number;
  /** Requests in flight at most. */
  concurrency: number;
  /** Most deliveries claimed by one statement. */
  batchSize?: number;
  /** Lease length; renewed every third of it while a request is in flight. */
  leaseMs?: number;
  /** How often this worker looks for dead workers, and the grace after a database restart (liveness.ts). */
  liveness?: { intervalMs?: number; graceMs?: number };
  /** Fallback poll when no notification arrives. */
  pollIntervalMs: number;
  /** Logger. */
  log: Logger;
  /** Where written results are counted (Herald's metrics); none = not counted. */
  metrics?: ResultMetrics;
  /** Randomness for jitter. */
  random?: () => number;
  /** Name in lease_owner, for debugging. */
  workerId?: string;
}

/**
 * How long the worker waits for more work before a claim or a partial write: a few milliseconds of
 * latency buy batches, which is what keeps statements per delivery low at moderate rates.
 */
const LINGER_MS = 4;
/** How long a worker with only a few free slots waits for more before claiming anyway. */
const SMALL_CLAIM_WAIT_MS = 20;
/** How long stop() keeps trying to write the last results. */
const FINAL_FLUSH_MS = 5_000;
/** Results that make a write go at once. */
const FLUSH_BATCH = 200;

/** How long a claimed delivery stays leased without renewal: a dead worker's rows are retried after this. */
export const DEFAULT_LEASE_MS = 30_000;

export class DeliveryWorker {
  private readonly id: string;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly random: () => number;
  private readonly keys: SecretKeyCache;
  private readonly payloads = new PayloadCache();
  /** Claimed and not yet persisted, by delivery id. */
  private readonly held = new Map<number, ClaimedDelivery>();
  /** Decided, waiting for the next group commit. */
  private finished: FinishedDelivery[] = [];
  /** Decided and being written by the current group commit. */
  private writing: FinishedDelivery[] = [];
  private flushing: Promise<void> | null = null;
  private running = false;
  /** Set at the end of stop(): nothing is claimed or written any more. */
  private closed = false;
  private loopDone: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private wakePending = false;
  private readonly listener: DueListener;
  private readonly liveness: WorkerLiveness;
  private renewTimer: NodeJS.Timeout | null = null;
  private readonly sends = new Set<Promise<void>>();

  constructor(private readonly opts: WorkerOptions) {
    this.id = opts.workerId ?? `worker-${randomUUID().slice(0, 8)}`;
    this.batchSize = opts.batchSize ?? 200;
    this.leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    this.random = opts.random ?? Math.random;
    this.keys = new SecretKeyCache(opts.secretBox);
    // Linger before claiming, so a burst of publishes becomes one claim rather than one each.
    this.liveness = new WorkerLiveness({ pool: opts.pool, owner: this.id, log: opts.log, clock: opts.clock, ...opts.liveness });
    this.listener = new DueListener(opts.pool, opts.log, () => this.wakeSoon(), () => this.wake?.(), this.liveness);
  }

  /** Starts claiming in the background. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.closed = false;
    await this.listener.start();
    this.liveness.start();
    this.renewTimer = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.leaseMs / 3)));
    this.loopDone = this.loop();
  }

  /**
   * Stops claiming, lets in-flight requests finish for up to `graceMs`, writes their results, and
   * hands the leases of anything still unfinished back so another worker takes them at once.
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake?.();
    await this.loopDone;
    await withinMs(Promise.all([...this.sends]), graceMs);
    // Results are written if the database lets us within a short bound: a shutdown must not hang on
    // an unreachable database. Unwritten results are simply attempted again when their lease expires.
    await withinMs(this.flush(), FINAL_FLUSH_MS);
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
    this.closed = true; // no more write retries from here: what is unwritten waits for its lease
    const decided = new Set(this.finished.map((f) => f.delivery.id));
    const unfinished = [...this.held.values()].filter((d) => !decided.has(d.id));
    await releaseLeases(this.opts.pool, unfinished, this.opts.clock.now()).catch((e: unknown) =>
      this.opts.log.warn({ err: e }, 'could not release leases; they expire on their own'),
    );
    this.held.clear();
    await this.liveness.stop();
    await this.listener.stop();
  }

  /**
   * Processes everything due now, batch by batch, and returns how many deliveries it handled.
   * For tests and the CLI: with a fake clock, a test advances time and drains.
   */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const batch = await this.claim(this.batchSize);
      if (batch.length === 0) break;
      total += batch.length;
      await Promise.all(batch.map((d) => this.process(d)));
      await this.flush();
    }
    return total;
  }

  private async loop(): Promise<void> {
    let deferred = false;
    while (this.running) {
      try {
        const free = this.opts.concurrency - this.held.size;
        const want = Math.min(this.batchSize, free);
        if (want <= 0) {
          await this.sleep(this.opts.pollIntervalMs);
          continue;
        }
        // A tiny claim costs a transaction for a row or two: wait once, briefly, for more slots to free
        // up, then claim whatever fits. Never wait longer, or a worker whose slots are mostly held by
        // hanging requests would stop serving every other endpoint until those time out.
        if (!deferred && want < this.batchSize / 4 && this.held.size > 0) {
          deferred = true;
          await this.sleep(SMALL_CLAIM_WAIT_MS);
          continue;
        }
        deferred = false;
        const batch = await this.claim(want);
        for (const d of batch) this.track(this.process(d));
        if (batch.length < want) await this.sleep(this.opts.pollIntervalMs);
      } catch (e) {
        this.opts.log.error({ err: e }, 'claiming deliveries failed; retrying');
        await this.sleep(this.opts.pollIntervalMs);
      }
    }
  }

  private track(p: Promise<void>): void {
    this.sends.add(p);
    void p.finally(() => this.sends.delete(p));
  }

  private async claim(limit: number): Promise<Claim[]> {
    const now = this.opts.clock.now();
    const done = new Set([...this.finished, ...this.writing].map((f) => f.delivery.id));
    const batch = await claimFromLanes(
      this.opts.pool,
      {
        defaultMaxInFlight: this.opts.defaults.maxInFlight,
        maxInFlightBound: this.opts.bounds.maxInFlight,
        breakerFailures: this.opts.breaker.failures,
      },
      {
        owner: this.id,
        limit,
        now,
        leaseUntil: new Date(now.getTime() + this.leaseMs),
        finished: [...done],
        heldByApp: this.heldByApp(done),
        slots: this.opts.concurrency,
        heldPayloads: this.payloads.heldIds(),
      },
    );
    if (batch.length === 0) return [];
    const arrived = new Map<string, Buffer>();
    for (const row of batch) {
      if (row.payload) arrived.set(row.msgId, row.payload);
      const { secrets: _s, payload: _p, ...d } = row;
      this.held.set(d.id, d);
    }
    try {
      const msgIds = batch.map((d) => d.msgId);
      const payloads = await this.payloads.acquireAll(msgIds, (missing) => loadPayloads(this.opts.pool, missing), arrived);
      return batch.map((d, i) => ({ ...d, payload: payloads[i]! }));
    } catch (e) {
      // Let go of the rows: another claim (ours or another worker's) takes them when the lease expires.
      this.opts.log.error({ err: e }, 'loading message payloads failed');
      for (const d of batch) this.held.delete(d.id);
      return [];
    }
  }

  /** Requests in flight per application (finished ones excluded): the worker's fair-share input. */
  private heldByApp(finished: Set<number>): Map<string, number> {
    const byApp = new Map<string, number>();
    for (const d of this.held.values()) if (!finished.has(d.id)) byApp.set(d.appId, (byApp.get(d.appId) ?? 0) + 1);
    return byApp;
  }

  /** Sends one delivery and queues its decided outcome; never throws. */
  private async process(d: Claim): Promise<void> {
    let done: FinishedDelivery;
    try {
      done = d.endpointDisabled
        ? withoutAttempt(d, 'skipped', 'endpoint disabled: not sent; enable the endpoint and recover to deliver it', this.opts.clock.now())
        : await this.attempt(d);
    } catch (e) {
      // A bug or an undecryptable secret: fail this delivery visibly instead of looping on it.
      this.opts.log.error({ err: e, deliveryId: d.id }, 'delivery could not be attempted');
      done = withoutAttempt(d, 'failed', `Herald could not prepare the request: ${(e as Error).message}`, this.opts.clock.now());
    }
    this.payloads.release(d.msgId);
    this.finished.push(done);
    this.scheduleFlush();
    // Its lane has a free connection now: let the loop claim (lingering, so a burst of completions
    // becomes one claim) without waiting for the result to be written.
    this.wakeSoon();
  }

  private async attempt(d: Claim): Promise<FinishedDelivery> {
    const keys = d.secrets.map((s) => this.keys.keyOf(s, d.endpointId, d.signature ?? undefined));
    if (keys.length === 0) {
      return withoutAttempt(d, 'failed', 'the endpoint has no valid signing secret; rotate it to create one', this.opts.clock.now());
    }
    const policy = resolvePolicy(this.opts.defaults, this.opts.bounds, d.appPolicy, d.endpointPolicy);
    const startedAt = this.opts.clock.now();
    const req = buildSignedRequest(d, keys, startedAt, this.keys.headersOf(d.endpointId, d.headers));
    const result = await this.opts.http.send({
      url: d.url,
      headers: req.headers,
      body: req.body,
      timeoutMs: policy.timeoutMs,
      // The lane's own connections, as many as it may have in flight: a request never queues behind
      // another endpoint's, nor behind its own lane's (claims never exceed the cap).
      lane: { key: d.endpointId, connections: policy.maxInFlight },
    });
    const now = this.opts.clock.now();
    let outcome = decideOutcome(result, { attemptsMade: d.runAttempts + 1, policy: policy.retry, now, random: this.random });
    // A resend of a finished delivery is one attempt: its failure is final, not the start of a new run.
    if (d.oneShot && outcome.kind === 'retry') outcome = { kind: 'failed', reason: `manual attempt failed: ${outcome.reason}` };
    return afterAttempt(d, outcome, attemptRecord(d, { headers: req.recorded, startedAt }, result, outcome), now);
  }

  private scheduleFlush(): void {
    if (this.flushing || this.closed) return;
    // Group commit: a full batch goes at once; a partial one waits a few milliseconds for company,
    // so a trickle of results costs one write per linger window instead of one per delivery.
    const full = this.finished.length >= FLUSH_BATCH || !this.running;
    this.flushing = new Promise<void>((resolve) => (full ? setImmediate(resolve) : setTimeout(resolve, LINGER_MS))).then(() =>
      this.flushNow(),
    );
  }

  /** Writes every decided result; resolves when nothing is left to write. */
  private async flush(): Promise<void> {
    while (this.flushing || (this.finished.length > 0 && !this.closed)) {
      if (this.flushing) await this.flushing;
      else this.scheduleFlush();
    }
  }

  private async flushNow(): Promise<void> {
    const batch = this.finished;
    this.finished = [];
    this.writing = batch;
    try {
      await persistResults(this.opts.pool, batch, {
        now: this.opts.clock.now(),
        autoDisable: this.opts.autoDisable,
        failingAfter: this.opts.failingAfter,
        breaker: this.opts.breaker,
        log: this.opts.log,
        metrics: this.opts.metrics,
      });
      for (const f of batch) this.held.delete(f.delivery.id);
    } catch (e) {
      // The database is away: keep the results (leases keep the rows ours) and try again shortly.
      this.opts.log.error({ err: e, count: batch.length }, 'writing delivery results failed; will retry');
      this.finished = batch.concat(this.finished);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      this.writing = [];
      this.flushing = null;
      if (this.finished.length > 0 && !this.closed) this.scheduleFlush();
      this.wake?.();
    }
  }

  private async renew(): Promise<void> {
    if (this.held.size === 0) return;
    const now = this.opts.clock.now();
    try {
      await renewLeases(this.opts.pool, [...this.held.values()], new Date(now.getTime() + this.leaseMs));
    } catch (e) {
      this.opts.log.warn({ err: e }, 'lease renewal failed');
    }
  }

  /** Wakes the claim loop after a short linger; wake-ups within the linger become one. */
  private wakeSoon(): void {
    if (this.wakePending) return;
    this.wakePending = true;
    setTimeout(() => {
      this.wakePending = false;
      this.wake?.();
    }, LINGER_MS);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }
}

/** Waits for `p` at most `ms`; never rejects (the caller goes on either way). */
async function withinMs(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
