/**
 * How long a killed worker's in-flight deliveries waited to be attempted again. Right after a worker
 * is killed, every delivery leased at that moment (`state = 'sending'`) is noted with its lease
 * version. Then the rows are polled: one whose lease version moves on was claimed again, by another
 * worker, which sends it at once (the claim only takes what it can send): its wait is the time from
 * the kill to that claim. One that left `sending` under the same lease version was finished by the
 * live worker that held it, so it was not the killed worker's. What is still unresolved at the end is
 * reported with the time waited so far. A row leased at two kills counts from the first, so a wait can
 * only be over-stated (by at most the time between kills), never under-stated.
 */
import type pg from 'pg';

/** A row leased when a worker was killed. */
interface Watched {
  /** When the (first) worker was gone, epoch ms. */
  at: number;
  /** Its lease version then. */
  v: number;
  /** When that lease expired (next_attempt_at of a leased row), epoch ms. */
  until: number;
  /** Its endpoint. */
  endpointId: string;
  /** What its lane looked like when last seen waiting past its lease (see {@link LeaseWatch.laneStates}). */
  lane?: string;
}

/** Results of {@link LeaseWatch}. */
export interface LeaseWaits {
  /** Deliveries that were in flight in a killed worker and were claimed again. */
  retaken: number;
  /** Longest wait from a kill to the new claim of one of its deliveries, ms (0 when none). */
  maxWaitMs: number;
  /** Of those, the ones not yet claimed again when the run ended. */
  unresolved: number;
  /** Longest time from a lease's expiry to the new claim, ms: what Herald adds to the lease itself. */
  maxPastLeaseMs: number;
  /** The row behind maxWaitMs, for looking into it. */
  worst: string;
}

/** How often leased rows are looked at; the measured waits are this precise. */
const POLL_MS = 250;

export class LeaseWatch {
  /** Rows leased at a kill and not settled yet, by id. */
  private readonly open = new Map<number, Watched>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private retaken = 0;
  private maxWaitMs = 0;
  private maxPastLeaseMs = 0;
  private worst = '';

  constructor(private readonly pool: pg.Pool) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), POLL_MS);
  }

  /** Notes the rows leased right after a kill; retried while the database is restarting. */
  async killed(at: number): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        const { rows } = await this.pool.query<{ id: number; v: number; until: Date; endpointId: string }>(
          `select id, lease_version as v, next_attempt_at as until, endpoint_id as "endpointId" from delivery where state = 'sending'`,
        );
        for (const r of rows) {
          if (!this.open.has(Number(r.id))) this.open.set(Number(r.id), { at, v: r.v, until: r.until.getTime(), endpointId: r.endpointId });
        }
        return;
      } catch (e) {
        if (i >= 40) throw e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  private async poll(): Promise<void> {
    if (this.polling || this.open.size === 0) return;
    this.polling = true;
    try {
      const { rows } = await this.pool.query<{ id: number; state: string; v: number }>(
        `select id, state, lease_version as v from delivery where id = any($1::bigint[])`,
        [[...this.open.keys()]],
      );
      const now = Date.now();
      for (const row of rows) {
        const id = Number(row.id);
        const w = this.open.get(id);
        if (!w) continue;
        if (row.v !== w.v) {
          this.retaken++;
          if (now - w.at > this.maxWaitMs) {
            this.maxWaitMs = now - w.at;
            this.worst = `delivery ${id}: leased until ${((w.until - w.at) / 1000).toFixed(1)} s after the kill, claimed again after ${((now - w.at) / 1000).toFixed(1)} s` +
              (w.lane ? `; its lane while it waited: ${w.lane}` : '');
          }
          this.maxPastLeaseMs = Math.max(this.maxPastLeaseMs, now - Math.max(w.at, w.until));
          this.open.delete(id);
        } else if (row.state !== 'sending') this.open.delete(id); // finished by the live worker holding it
      }
      await this.laneStates(now);
    } catch {
      // the database is restarting: look again next time
    } finally {
      this.polling = false;
    }
  }

  /**
   * For rows waiting past their lease, what their lane looks like now: breaker, failures in a row,
   * rows in flight under a live lease, expired leases, due pending rows. When a wait runs long, this
   * says which of the claim's conditions held the row back.
   */
  private async laneStates(now: number): Promise<void> {
    const late = [...this.open.values()].filter((w) => now > w.until + 2_000);
    if (late.length === 0) return;
    const { rows } = await this.pool.query<{ endpointId: string; state: string }>(
      `select l.endpoint_id as "endpointId", format('breaker %s, %s failures in a row, %s in flight, %s expired leases, %s due pending',
         case when l.breaker_until > now() then 'open ' || round(extract(epoch from l.breaker_until - now())::numeric, 1) || ' s more' else 'closed' end,
         e.consecutive_failures,
         (select count(*) from delivery d where d.endpoint_id = l.endpoint_id and d.state = 'sending' and d.next_attempt_at > now()),
         (select count(*) from delivery d where d.endpoint_id = l.endpoint_id and d.state = 'sending' and d.next_attempt_at <= now()),
         (select count(*) from delivery d where d.endpoint_id = l.endpoint_id and d.state = 'pending' and d.next_attempt_at <= now()))
         || format(' (everywhere: %s workers registered, %s in flight, %s transactions open, the oldest %s s)',
           (select count(*) from worker_session),
           (select count(*) from delivery d where d.state = 'sending' and d.next_attempt_at > now()),
           (select count(*) from pg_stat_activity a where a.datname = current_database() and a.xact_start is not null and a.pid <> pg_backend_pid()),
           (select coalesce(round(extract(epoch from now() - min(a.xact_start))::numeric, 1), 0) from pg_stat_activity a
            where a.datname = current_database() and a.pid <> pg_backend_pid())) as state
       from endpoint_lane l join endpoint e on e.id = l.endpoint_id where l.endpoint_id = any($1::text[])`,
      [[...new Set(late.map((w) => w.endpointId))]],
    );
    const byEndpoint = new Map(rows.map((r) => [r.endpointId, r.state]));
    for (const w of late) w.lane = byEndpoint.get(w.endpointId) ?? w.lane;
  }

  /** Whether every noted row is settled. */
  settled(): boolean {
    return this.open.size === 0;
  }

  /** Stops polling and answers the waits (unresolved rows count with their wait so far). */
  async stop(): Promise<LeaseWaits> {
    if (this.timer) clearInterval(this.timer);
    while (this.polling) await new Promise((r) => setTimeout(r, 20));
    await this.poll();
    const now = Date.now();
    for (const w of this.open.values()) this.maxWaitMs = Math.max(this.maxWaitMs, now - w.at);
    return { retaken: this.retaken, maxWaitMs: this.maxWaitMs, unresolved: this.open.size, maxPastLeaseMs: this.maxPastLeaseMs, worst: this.worst };
  }
}
