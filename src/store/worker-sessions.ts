/**
 * Worker liveness in PostgreSQL. A delivery worker registers in `worker_session` and holds a
 * session-level advisory lock on its LISTEN connection for as long as it runs. PostgreSQL drops the
 * lock the moment that connection goes away (the process was killed, crashed or lost its network), so
 * a live worker can tell a dead one from a slow one without waiting for leases to run out: the dead
 * one's leases are expired at once and its deliveries are claimed again within seconds.
 */
import type pg from 'pg';
import type { Queryable } from './pool.js';

/** First key of every worker's liveness lock ("Hrld" in ASCII); the second is its `lock_key`. */
export const WORKER_LOCK_CLASS = 0x48726c64;

/**
 * Registers `owner` and takes its lock on `client`, in one statement: the row becomes visible to other
 * workers only when the statement commits, by which time the lock is held, so no one ever sees a
 * registration without its lock. Answers the lock key, or null when the lock was not granted.
 */
export async function registerWorkerSession(client: pg.ClientBase, owner: string): Promise<number | null> {
  const { rows } = await client.query<{ lockKey: number; locked: boolean }>(
    `with r as (
       insert into worker_session (owner) values ($1)
       on conflict (owner) do update set registered_at = now()
       returning lock_key
     )
     select r.lock_key as "lockKey", pg_try_advisory_lock($2::int, r.lock_key) as locked from r`,
    [owner, WORKER_LOCK_CLASS],
  );
  const row = rows[0];
  return row?.locked ? row.lockKey : null;
}

/** Unregisters `owner` and lets go of its lock (a worker stopping on purpose). */
export async function unregisterWorkerSession(client: pg.ClientBase, owner: string, lockKey: number): Promise<void> {
  await client.query('delete from worker_session where owner = $1', [owner]);
  await client.query('select pg_advisory_unlock($1::int, $2::int)', [WORKER_LOCK_CLASS, lockKey]);
}

/** What {@link reapDeadWorkers} found. */
export interface Reaped {
  /** Lease owners whose session was gone. */
  owners: string[];
  /** Their leases that were expired. */
  leases: number;
}

/**
 * Unregisters every worker whose lock no session holds any more and expires the leases it still had,
 * so the next claim takes them before anything else on their lanes (claims take expired leases first).
 * Concurrent reapers are safe: a registration is deleted once, and only its deleter expires its leases.
 * Advisory locks are per cluster, so only this database's count: another Herald on the same server
 * holds the same keys for its own workers.
 *
 * A restart of PostgreSQL ends every session, the live workers' too, while their registrations stay:
 * one made before the server started is judged only `restartGraceMs` after the start, time for live
 * workers to reconnect and register again. One made since the start whose lock is gone is dead for sure.
 */
export async function reapDeadWorkers(db: Queryable, now: Date, restartGraceMs: number): Promise<Reaped> {
  const { rows } = await db.query<{ owners: string[]; leases: number }>(
    `with dead as (
       delete from worker_session w
       where (w.registered_at >= pg_postmaster_start_time() or now() >= pg_postmaster_start_time() + make_interval(secs => $3::float8 / 1000))
         and not exists (
         select 1 from pg_locks k
         where k.locktype = 'advisory' and k.database = (select oid from pg_database where datname = current_database())
           and k.classid = $1::int::oid and k.objid = w.lock_key::oid and k.objsubid = 2 and k.granted)
       returning w.owner
     ), expired as (
       update delivery d set next_attempt_at = $2
       from dead where d.lease_owner = dead.owner and d.state = 'sending' and d.next_attempt_at > $2::timestamptz
       returning d.id
     )
     select coalesce((select array_agg(owner) from dead), '{}') as owners, (select count(*) from expired)::int as leases`,
    [WORKER_LOCK_CLASS, now, restartGraceMs],
  );
  return rows[0] ?? { owners: [], leases: 0 };
}
