/**
 * A delivery worker's liveness: it registers on its LISTEN connection (see src/store/worker-sessions.ts)
 * and, every few seconds, expires the leases of registered workers whose connection is gone. A worker
 * killed with requests in flight thus has them claimed again within seconds, not when their 30-second
 * leases run out, and a lane that may run one request at a time (breaker probing, strict ordering) is
 * not held up by a dead worker's lease that still counts as in flight.
 *
 * A PostgreSQL restart ends every session, so registrations made before it are judged only a grace
 * period after the server started: by then the live workers have reconnected and registered again
 * (their LISTEN retry is capped well below it) and only the dead stay unregistered. Should a live worker
 * still be taken for dead (a long network cut), it loses its leases to another worker and a delivery
 * may be sent twice, which at-least-once delivery allows; nothing is lost.
 */
import type pg from 'pg';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../logger.js';
import { reapDeadWorkers, registerWorkerSession, unregisterWorkerSession } from '../store/worker-sessions.js';

/** How often a worker looks for dead ones. */
export const REAP_INTERVAL_MS = 2_000;
/** How long after a PostgreSQL start the registrations made before it are judged. */
export const REAP_GRACE_MS = 10_000;

export interface LivenessOptions {
  pool: pg.Pool;
  /** The lease owner this worker writes on its claims. */
  owner: string;
  log: Logger;
  clock: Clock;
  intervalMs?: number;
  graceMs?: number;
}

export class WorkerLiveness {
  private session: { client: pg.ClientBase; lockKey: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private reaping = false;

  constructor(private readonly opts: LivenessOptions) {}

  /** Registers on a (new) LISTEN connection. Never throws: without it, leases still expire on their own. */
  async opened(client: pg.ClientBase): Promise<void> {
    this.session = null;
    try {
      const lockKey = await registerWorkerSession(client, this.opts.owner);
      if (lockKey === null) {
        this.opts.log.warn({ owner: this.opts.owner }, 'worker liveness lock not granted; a crash of this worker is noticed when its leases expire');
        return;
      }
      this.session = { client, lockKey };
    } catch (e) {
      // e.g. a database not migrated yet during a rolling upgrade: leases alone still recover work
      this.opts.log.warn({ err: e }, 'worker liveness registration failed; a crash of this worker is noticed when its leases expire');
    }
  }

  /** The LISTEN connection was lost: PostgreSQL has dropped the lock with it. */
  lost(): void {
    this.session = null;
  }

  start(): void {
    this.timer = setInterval(() => void this.reap(), this.opts.intervalMs ?? REAP_INTERVAL_MS);
    this.timer.unref();
  }

  /** Stops reaping and unregisters, so no one takes this worker's (released) leases for a dead one's. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    while (this.reaping) await new Promise((r) => setTimeout(r, 10));
    const s = this.session;
    this.session = null;
    if (s) await unregisterWorkerSession(s.client, this.opts.owner, s.lockKey).catch(() => undefined);
  }

  /** One look for dead workers; answers how many leases it expired. */
  async reap(): Promise<number> {
    const s = this.session;
    // A worker that is not registered itself may be the one cut off: it judges no one.
    if (this.reaping || !s) return 0;
    this.reaping = true;
    try {
      const reaped = await reapDeadWorkers(this.opts.pool, this.opts.clock.now(), this.opts.graceMs ?? REAP_GRACE_MS);
      if (reaped.owners.length > 0) {
        this.opts.log.info({ workers: reaped.owners, leases: reaped.leases }, 'workers gone: their deliveries in flight are due again');
      }
      return reaped.leases;
    } catch (e) {
      this.opts.log.warn({ err: e }, 'looking for dead workers failed; trying again');
      return 0;
    } finally {
      this.reaping = false;
    }
  }
}
