/**
 * The HTTP client's per-endpoint connection pools ("lanes"): one undici Pool per (lane key, origin), sized
 * to the endpoint's in-flight cap, so two endpoints on the same host and port never share a connection and
 * a hanging endpoint cannot make a healthy one on another path wait for a socket (measured before lanes:
 * p99 15 s for the healthy one behind the shared 16 connections per origin).
 *
 * Lifecycle of a pool:
 * - created by the first `acquire` of its lane and origin;
 * - replaced when the lane's cap changes: the old pool stops being handed out and closes once its running
 *   requests have finished;
 * - retired by the client when a request's deadline passed before it had a socket (a hanging connect):
 *   undici would keep the lane's next request queued behind that connect, a fresh pool lets it connect;
 * - closed after `idleMs` without requests, and at most `maxPools` are kept (least recently used idle ones
 *   closed first), so endpoints coming and going over months cannot leak pools.
 *
 * `stats().overCap` counts requests acquired while their lane already had `connections` in flight: the
 * delivery worker never does that, so a non-zero count is a worker bug (and such a request may queue).
 */
import { performance } from 'node:perf_hooks';
import type { Pool } from 'undici';

/** An endpoint's own connection pool: no other lane's request ever uses its connections. */
export interface SendLane {
  /** Identifies the lane: the endpoint id. */
  key: string;
  /**
   * The endpoint's in-flight cap, and so the pool's size (a positive integer). The caller never has more
   * than this many requests of the lane in flight. A new value gets a new pool; the old one closes once idle.
   */
  connections: number;
}

/** Counters for the worker's health checks and tests. */
export interface LaneStats {
  /** Lane pools open now (pools being closed after a cap change or eviction not counted). */
  lanePools: number;
  /** Lane requests sent while their lane already had `connections` in flight (should stay 0). */
  overCap: number;
}

/** How the pools are made and bounded. */
export interface LanePoolsOptions {
  /** Opens a pool of `connections` to `origin`; the client's connector and limits go in here. */
  createPool: (origin: string, connections: number) => Pool;
  /** A pool is closed after this long without requests, in milliseconds. */
  idleMs: number;
  /** Most pools kept; past it the least recently used idle ones are closed. */
  maxPools: number;
}

/** One lane request's hold on its pool, from `acquire` until `release`. */
export interface LaneLease {
  /** Where to dispatch the request. */
  readonly pool: Pool;
}

/** A lane's pool to one origin, with the lane requests this client is running on it. */
interface LanePool extends LaneLease {
  /** Map key: origin and lane key. */
  id: string;
  /** The size it was created with; a request with another cap gets a new pool. */
  connections: number;
  inFlight: number;
  /** performance.now() when it last started or finished a request. */
  lastUsed: number;
}

/** The lane pools: at most one live pool per (lane key, origin), closed when idle or when over the bound. */
export class LanePools {
  /** Live pools, least recently used first (a used pool is moved to the end). */
  private readonly live = new Map<string, LanePool>();
  /** Pools closing gracefully: replaced, evicted or retired, with requests possibly still running. */
  private readonly closing = new Set<Pool>();
  private sweeper: NodeJS.Timeout | null = null;
  private overCap = 0;

  constructor(private readonly opts: LanePoolsOptions) {}

  /**
   * The pool for one lane request to `origin`, counted as in flight until `release`. Throws a TypeError
   * when `lane.connections` is not a positive integer.
   */
  acquire(lane: SendLane, origin: string): LaneLease {
    if (!Number.isSafeInteger(lane.connections) || lane.connections < 1) {
      throw new TypeError(`lane.connections must be a positive integer; got ${lane.connections}`);
    }
    const id = `${origin} ${lane.key}`; // origins contain no space, so ids cannot collide
    let entry = this.live.get(id);
    if (entry) {
      this.live.delete(id); // re-inserted below as the most recently used
      if (entry.connections !== lane.connections) {
        this.close(entry); // the cap changed: its running requests finish on it, then it closes
        entry = undefined;
      }
    }
    if (!entry) {
      while (this.live.size >= this.opts.maxPools) this.close(this.leastRecentlyUsed()!);
      entry = { id, pool: this.opts.createPool(origin, lane.connections), connections: lane.connections, inFlight: 0, lastUsed: 0 };
      this.sweeper ??= setInterval(() => this.sweep(), Math.max(this.opts.idleMs / 4, 10)).unref();
    }
    this.live.set(id, entry);
    entry.lastUsed = performance.now();
    if (++entry.inFlight > entry.connections) this.overCap++;
    return entry;
  }

  /** Ends the request's hold on its pool (call once per `acquire`, whatever the outcome). */
  release(lease: LaneLease): void {
    const entry = lease as LanePool; // every lease is an entry made by acquire
    entry.inFlight--;
    entry.lastUsed = performance.now();
  }

  /** Stops giving out the lease's pool and closes it once its running requests have finished. */
  retire(lease: LaneLease): void {
    this.close(lease as LanePool);
  }

  /** Pools open now and requests over their lane's cap so far. */
  stats(): LaneStats {
    return { lanePools: this.live.size, overCap: this.overCap };
  }

  /** Destroys every pool, live and closing. */
  async destroy(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    const pools = [...[...this.live.values()].map((e) => e.pool), ...this.closing];
    this.live.clear();
    await Promise.allSettled(pools.map((p) => p.destroy()));
  }

  private close(entry: LanePool): void {
    if (this.live.get(entry.id) === entry) this.live.delete(entry.id);
    if (this.live.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
    if (this.closing.has(entry.pool) || entry.pool.closed || entry.pool.destroyed) return;
    this.closing.add(entry.pool);
    entry.pool
      .close()
      .catch(() => undefined) // already destroyed by destroy(): nothing left to release
      .finally(() => this.closing.delete(entry.pool));
  }

  /** The idle pool used longest ago, or the oldest busy one when none is idle (it closes when done). */
  private leastRecentlyUsed(): LanePool | undefined {
    let oldest: LanePool | undefined;
    for (const e of this.live.values()) {
      if (e.inFlight === 0) return e;
      oldest ??= e;
    }
    return oldest;
  }

  private sweep(): void {
    const now = performance.now();
    for (const e of this.live.values()) if (e.inFlight === 0 && now - e.lastUsed >= this.opts.idleMs) this.close(e);
  }
}
