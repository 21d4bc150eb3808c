/**
 * Attempt statistics of an application (Svix's stats routes): totals per event type, a time series
 * by period, and the count behind an endpoint's attempt list. Attempts are counted from the delivery
 * log; "canceled" are deliveries skipped without an attempt (the endpoint was disabled, or the
 * content expunged), counted at their publish time. Herald's own application (operational webhooks)
 * is left out of the usage count.
 */
import { OPERATIONAL_APP_ID } from '../core/operational.js';
import { messageWindowParams, messageWindowSql, type MessageWindowFilter } from './paging.js';
import type { Queryable } from './pool.js';

/** Counts of one event type (Svix AppAttemptEventTypeStats). */
export interface EventTypeAttemptCounts {
  /** Event type. */
  eventType: string;
  /** Successful attempts. */
  success: number;
  /** Failed attempts. */
  failure: number;
  /** Deliveries skipped without an attempt. */
  canceled: number;
}

/** Attempts (and skipped deliveries) of an application in [since, until), per event type. */
export async function attemptCountsByEventType(
  db: Queryable,
  appId: string,
  since: Date,
  until: Date,
  eventTypes: string[] | null,
): Promise<EventTypeAttemptCounts[]> {
  const { rows } = await db.query<EventTypeAttemptCounts>(
    `with tried as (
       select m.event_type, count(*) filter (where a.succeeded) as s, count(*) filter (where not a.succeeded) as f
       from attempt a join message m on m.id = a.msg_id
       where a.app_id = $1 and a.created_at >= $2 and a.created_at < $3 and ($4::text[] is null or m.event_type = any($4))
       group by m.event_type
     ), canceled as (
       select m.event_type, count(*) as n
       from delivery d join message m on m.id = d.msg_id
       where d.app_id = $1 and d.state = 'skipped' and d.created_at >= $2 and d.created_at < $3
         and ($4::text[] is null or m.event_type = any($4))
       group by m.event_type
     )
     select event_type as "eventType", coalesce(t.s, 0)::int as success, coalesce(t.f, 0)::int as failure, coalesce(c.n, 0)::int as canceled
     from tried t full join canceled c using (event_type)
     order by event_type`,
    [appId, since, until, eventTypes],
  );
  return rows;
}

/** One bucket of {@link attemptSeries}. */
export interface AttemptBucket {
  /** Start of the bucket. */
  start: Date;
  /** Successful attempts. */
  success: number;
  /** Failed attempts. */
  failure: number;
  /** Deliveries skipped without an attempt. */
  canceled: number;
}

/**
 * Attempts of an application in [start, end) in buckets of `bucketMs` from `start`, every bucket
 * present (zeros included), oldest first.
 */
export async function attemptSeries(
  db: Queryable,
  appId: string,
  start: Date,
  end: Date,
  bucketMs: number,
  eventTypes: string[] | null,
): Promise<AttemptBucket[]> {
  const { rows } = await db.query<AttemptBucket>(
    `with buckets as (
       select b as start from generate_series($2::timestamptz, $3::timestamptz - interval '1 microsecond', $4 * interval '1 millisecond') b
     ), tried as (
       select date_bin($4 * interval '1 millisecond', a.created_at, $2::timestamptz) as start,
         count(*) filter (where a.succeeded) as s, count(*) filter (where not a.succeeded) as f
       from attempt a join message m on m.id = a.msg_id
       where a.app_id = $1 and a.created_at >= $2 and a.created_at < $3 and ($5::text[] is null or m.event_type = any($5))
       group by 1
     ), canceled as (
       select date_bin($4 * interval '1 millisecond', d.created_at, $2::timestamptz) as start, count(*) as n
       from delivery d join message m on m.id = d.msg_id
       where d.app_id = $1 and d.state = 'skipped' and d.created_at >= $2 and d.created_at < $3
         and ($5::text[] is null or m.event_type = any($5))
       group by 1
     )
     select b.start, coalesce(t.s, 0)::int as success, coalesce(t.f, 0)::int as failure, coalesce(c.n, 0)::int as canceled
     from buckets b left join tried t using (start) left join canceled c using (start)
     order by b.start`,
    [appId, start, end, bucketMs, eventTypes],
  );
  return rows;
}

/** Filters of an attempt count (those of the endpoint's attempt list). */
export interface AttemptCountFilter extends MessageWindowFilter {
  /** Only successful (true) or failed (false) attempts; 'none' matches nothing. */
  succeeded?: boolean | 'none' | null;
  /** Only attempts whose HTTP status is in this class (0 = no response). */
  statusClass?: number | null;
  /** Only messages with this tag. */
  tag?: string | null;
}

/**
 * Attempts to an endpoint matching the filters, counting at most `ceiling` (Svix's CountOut: past it
 * the count is given as the ceiling and `approximated`).
 */
export async function countEndpointAttempts(
  db: Queryable,
  appId: string,
  endpointId: string,
  f: AttemptCountFilter,
  ceiling: number,
): Promise<{ count: number; approximated: boolean }> {
  if (f.succeeded === 'none') return { count: 0, approximated: false };
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from (
       select 1 from attempt a join message m on m.id = a.msg_id
       where a.app_id = $1 and a.endpoint_id = $2 and ${messageWindowSql('a.created_at', 3)}
         and ($7::bool is null or a.succeeded = $7)
         and ($8::int is null or (case when $8 = 0 then a.response_status is null
                                       else a.response_status >= $8 and a.response_status < $8 + 100 end))
         and ($9::text is null or $9 = any(m.tags))
       limit $10
     ) capped`,
    [appId, endpointId, ...messageWindowParams(f), f.succeeded ?? null, f.statusClass ?? null, f.tag ?? null, ceiling + 1],
  );
  const n = rows[0]!.n;
  return { count: Math.min(n, ceiling), approximated: n > ceiling };
}

/** Deliveries (Svix "message destinations") of one application in a window. */
export interface AppUsage {
  /** Application id. */
  appId: string;
  /** Application uid. */
  appUid: string | null;
  /** Deliveries created (messages × endpoints) in the window. */
  messageDestinations: number;
}

/**
 * One batch of the usage count: the next `limit` applications after `afterId` (by id; only `appIds`
 * when given) with their deliveries created in [since, until), zeros included.
 */
export async function appUsageBatch(
  db: Queryable,
  w: { since: Date; until: Date; afterId: string | null; limit: number; appIds: string[] | null },
): Promise<AppUsage[]> {
  const { rows } = await db.query<AppUsage>(
    `select a.id as "appId", a.uid as "appUid",
       (select count(*) from delivery d where d.app_id = a.id and d.created_at >= $1 and d.created_at < $2)::int as "messageDestinations"
     from application a
     where ($3::text is null or a.id > $3) and ($5::text[] is null or a.id = any($5)) and a.id <> $6
     order by a.id limit $4`,
    [w.since, w.until, w.afterId, w.limit, w.appIds, OPERATIONAL_APP_ID],
  );
  return rows;
}

/** The ids of the given application ids or uids that exist, and those that do not. */
export async function resolveApps(db: Queryable, idsOrUids: string[]): Promise<{ ids: string[]; unresolved: string[] }> {
  const { rows } = await db.query<{ key: string; id: string | null }>(
    `select k.key, (select a.id from application a where (a.id = k.key or a.uid = k.key) and a.id <> $2
                    order by (a.id = k.key) desc limit 1) as id
     from unnest($1::text[]) k(key)`,
    [idsOrUids, OPERATIONAL_APP_ID],
  );
  return {
    ids: [...new Set(rows.flatMap((r) => (r.id ? [r.id] : [])))],
    unresolved: rows.filter((r) => !r.id).map((r) => r.key),
  };
}

/** The event types one application's endpoints subscribe to (Svix AggregateEventTypes). */
export interface AppEventTypes {
  /** Application id. */
  appId: string;
  /** Event types named in its endpoints' filters (Herald's wildcards left out), sorted. */
  explicitlySubscribedEventTypes: string[];
  /** Whether one of its endpoints receives every event type (no filter, or `*`). */
  hasCatchAllEndpoint: boolean;
}

/** One batch of the event type aggregate: the next `limit` applications after `afterId`, by id. */
export async function appEventTypesBatch(db: Queryable, w: { afterId: string | null; limit: number }): Promise<AppEventTypes[]> {
  const { rows } = await db.query<AppEventTypes>(
    `select a.id as "appId",
       coalesce((select array_agg(distinct f order by f) from endpoint e cross join unnest(e.filter_types) f
                 where e.app_id = a.id and f <> '*' and right(f, 2) <> '.*'), '{}') as "explicitlySubscribedEventTypes",
       exists (select 1 from endpoint e where e.app_id = a.id
               and (e.filter_types is null or cardinality(e.filter_types) = 0 or '*' = any(e.filter_types))) as "hasCatchAllEndpoint"
     from application a
     where ($1::text is null or a.id > $1) and a.id <> $3
     order by a.id limit $2`,
    [w.afterId, w.limit, OPERATIONAL_APP_ID],
  );
  return rows;
}
