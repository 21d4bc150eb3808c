/**
 * Counts for the API's stats and the operator's health view. Every query here is bounded by an
 * index range (a time window, the partial queue index, or the partial failing-endpoint index), so
 * a dashboard refreshing every few seconds costs the delivery path nothing noticeable.
 */
import { idLowerBound } from '../core/ids.js';
import type { Queryable } from './pool.js';

/** Deliveries of one endpoint by state, in a time window (Svix EndpointStats). */
export interface EndpointStatsRow {
  /** Delivered (2xx). */
  succeeded: number;
  /** Permanently failed. */
  failed: number;
  /** Waiting for their next attempt. */
  pending: number;
  /** Being sent right now. */
  sending: number;
  /** Not sent because the endpoint was disabled. */
  skipped: number;
}

/** Counts an endpoint's deliveries created in [since, until) by state; scans delivery (endpoint_id, created_at). */
export async function endpointStats(db: Queryable, appId: string, endpointId: string, since: Date, until: Date): Promise<EndpointStatsRow> {
  const { rows } = await db.query<{ state: keyof EndpointStatsRow; n: number }>(
    `select state, count(*)::int as n from delivery
     where app_id = $1 and endpoint_id = $2 and created_at >= $3 and created_at < $4
     group by state`,
    [appId, endpointId, since, until],
  );
  const out: EndpointStatsRow = { succeeded: 0, failed: 0, pending: 0, sending: 0, skipped: 0 };
  for (const r of rows) out[r.state] = r.n;
  return out;
}

/** The queue right now. */
export interface QueueCounts {
  /** Pending deliveries whose time has come. */
  due: number;
  /** Deliveries being sent (leased by a worker). */
  sending: number;
  /** Pending deliveries waiting for a later retry. */
  scheduled: number;
}

/** Counts the queue from the partial indexes of pending and of sending deliveries. */
export async function queueCounts(db: Queryable, now: Date): Promise<QueueCounts> {
  const { rows } = await db.query<QueueCounts>(
    // One count per state, so each reads its own partial index (a single scan filtered on
    // `state in (…)` would read the whole table).
    `select (select count(*) from delivery where state = 'pending' and next_attempt_at <= $1)::int as due,
       (select count(*) from delivery where state = 'sending')::int as sending,
       (select count(*) from delivery where state = 'pending' and next_attempt_at > $1)::int as scheduled`,
    [now],
  );
  return rows[0]!;
}

/**
 * Attempts made in [since, now]. Attempt ids are time-sortable (ULIDs made from the attempt's
 * start), so the primary key doubles as the time index: no extra index on the log's hot insert.
 */
export async function attemptsSince(db: Queryable, since: Date): Promise<{ succeeded: number; failed: number }> {
  const { rows } = await db.query<{ succeeded: number; failed: number }>(
    `select count(*) filter (where succeeded)::int as succeeded, count(*) filter (where not succeeded)::int as failed
     from attempt where id >= $1`,
    [idLowerBound('atmpt', since.getTime())],
  );
  return rows[0]!;
}

/** An endpoint whose latest attempts failed. */
export interface FailingEndpointRow {
  /** Owning application. */
  appId: string;
  /** Endpoint id. */
  endpointId: string;
  /** Endpoint URL. */
  url: string;
  /** Failed attempts in a row. */
  consecutiveFailures: number;
  /** Latest failure reason. */
  lastError: string | null;
  /** Disabled (by a person or automatically). */
  disabled: boolean;
  /** Why it was disabled. */
  disabledReason: string | null;
  /** Start of the current run of failures. */
  firstFailureAt: Date | null;
}

/**
 * The endpoints failing longest, worst first, at most `limit` (partial index endpoint_failing_idx,
 * migration 0003: only endpoints with failures are in it, so the scan is as short as the list).
 */
export async function failingEndpoints(db: Queryable, limit: number): Promise<FailingEndpointRow[]> {
  const { rows } = await db.query<FailingEndpointRow>(
    `select app_id as "appId", id as "endpointId", url, consecutive_failures as "consecutiveFailures",
       last_error as "lastError", disabled, disabled_reason as "disabledReason", first_failure_at as "firstFailureAt"
     from endpoint where consecutive_failures > 0
     order by consecutive_failures desc, id limit $1`,
    [limit],
  );
  return rows;
}
