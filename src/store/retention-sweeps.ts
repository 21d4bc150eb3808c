/**
 * Retention of everything beside the delivery log (docs/retention.md): each sweep is one statement
 * that deletes at most `limit` rows found through an index, and the purge job
 * (src/engine/retention.ts) repeats it while it comes back full. Nothing here is on the delivery
 * path: these rows are read by the API, the alert sender and the background task list only.
 */
import type { Queryable } from './pool.js';

/** Times a sweep compares against, all computed by the caller from one `now`. */
export interface SweepTimes {
  /** Now. */
  now: Date;
  /** Now minus the operator's retention period (HERALD_RETENTION_PERIOD). */
  logCutoff: Date;
  /** Now minus the short grace kept after a credential expires or a portal session is revoked. */
  graceCutoff: Date;
  /** Now minus the idempotency window: older keys no longer replay anything. */
  idempotencyCutoff: Date;
}

/** One sweep: its name (reported per pass) and its statement. */
export interface Sweep {
  /** What it deletes, as reported. */
  name: string;
  /** Deletes up to `limit` rows; returns how many. */
  run(db: Queryable, t: SweepTimes, limit: number): Promise<number>;
}

/** Runs `sql` with [$1 = the time, $2 = limit, and $3 = now where it uses it] and returns the deleted count. */
const deleting = (name: string, sql: string, time: (t: SweepTimes) => Date): Sweep => ({
  name,
  async run(db, t, limit) {
    const { rowCount } = await db.query(sql, sql.includes('$3') ? [time(t), limit, t.now] : [time(t), limit]);
    return rowCount ?? 0;
  },
});

/**
 * A credential may be deleted only when nothing it minted is still alive: a portal token is refused
 * once the key that minted it is revoked, and that check must not turn into "the key is unknown".
 */
const NO_LIVE_CHILD = `not exists (select 1 from auth_token c where c.created_by = t.id and c.revoked_at is null
  and (c.expires_at is null or c.expires_at > $3))`;

/** Every sweep, in the order a pass runs them. */
export const SWEEPS: Sweep[] = [
  // Portal tokens and any other expiring credential, a grace period after they stopped working.
  deleting(
    'expired tokens',
    `delete from auth_token where id in (
       select t.id from auth_token t where t.expires_at < $1 and ${NO_LIVE_CHILD} limit $2)`,
    (t) => t.graceCutoff,
  ),
  // Revoked portal tokens after the grace period; revoked API keys stay listed as long as the log.
  {
    name: 'revoked tokens',
    async run(db, t, limit) {
      const { rowCount } = await db.query(
        `delete from auth_token where id in (
           select t.id from auth_token t
           where t.revoked_at < greatest($1::timestamptz, $4::timestamptz) and ${NO_LIVE_CHILD}
             and t.revoked_at < case when t.kind = 'portal' then $1::timestamptz else $4::timestamptz end
           limit $2)`,
        [t.graceCutoff, limit, t.now, t.logCutoff],
      );
      return rowCount ?? 0;
    },
  },
  deleting(
    'idempotency keys',
    `delete from idempotency_key where (principal_id, key) in (
       select principal_id, key from idempotency_key where created_at < $1 limit $2)`,
    (t) => t.idempotencyCutoff,
  ),
  deleting(
    'operational events',
    `delete from operational_event where id in (select id from operational_event where created_at < $1 limit $2)`,
    (t) => t.logCutoff,
  ),
  deleting(
    'background tasks',
    `delete from background_task where id in (
       select id from background_task where status <> 'running' and updated_at < $1 limit $2)`,
    (t) => t.logCutoff,
  ),
  // Signing secrets rotated out: they stopped signing at expires_at, and no claim reads them after it.
  deleting(
    'expired secrets',
    `delete from endpoint_secret where id in (select id from endpoint_secret where expires_at < $1 limit $2)`,
    (t) => t.graceCutoff,
  ),
  // Alert email windows of endpoints that were deleted (the table has no foreign key to cascade).
  deleting(
    'alert windows of deleted endpoints',
    `delete from alert_email_state where (endpoint_id, audience) in (
       select s.endpoint_id, s.audience from alert_email_state s
       where not exists (select 1 from endpoint e where e.id = s.endpoint_id)
         and (s.last_emailed_at is null or s.last_emailed_at < $1) limit $2)`,
    (t) => t.graceCutoff,
  ),
];
