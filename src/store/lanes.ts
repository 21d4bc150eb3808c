/**
 * Claiming work lane by lane. Every endpoint is a lane (`endpoint_lane`); a claim is fair over lanes
 * and applications instead of taking the globally oldest rows, and it never takes more from a lane
 * than the lane may run: its in-flight cap, its throttle tokens, one probe while its breaker is
 * half-open, one at a time when it is strictly ordered. Paused lanes (endpoints disabled by a
 * person) are not claimed at all: their deliveries are held until the endpoint is enabled again.
 *
 * A claim is one short transaction of two statements:
 *   1. find lanes with due work (a skip scan over `delivery_pending_idx`, one index probe per lane
 *      with queued work, plus expired leases), rank them round-robin within each application, and
 *      lock the first ones with FOR UPDATE SKIP LOCKED, so concurrent claimers take different lanes;
 *   2. with a fresh snapshot taken after the locks (so nothing another worker committed on these
 *      lanes is missed), count what is in flight, share the batch out over applications, then over
 *      their lanes, lease the chosen deliveries and record the claim on each lane (last_claimed_at,
 *      throttle tokens), and return with them the endpoints' valid secrets and the message bodies, so
 *      the worker can send without another query.
 * Holding the lane lock across both statements is what makes the cap, the throttle and strict
 * ordering hold across every worker process sharing the database.
 */
import type pg from 'pg';
import type { ClaimedDelivery } from './deliveries.js';
import { inTransaction, type Queryable } from './pool.js';

/** Settings the claim needs from the operator's configuration. */
export interface ClaimSettings {
  /** Default in-flight cap of an endpoint (HERALD_ENDPOINT_MAX_IN_FLIGHT). */
  defaultMaxInFlight: number;
  /** Largest cap an override may ask for (HERALD_MAX_IN_FLIGHT_LIMIT). */
  maxInFlightBound: number;
  /** Failures in a row that open the breaker (HERALD_BREAKER_FAILURES); 0 = never. */
  breakerFailures: number;
}

/** Lane columns shared by both statements: the effective cap, throttle bucket and probe flag. */
const LANE_POLICY = `
  least($3::int, coalesce(e.max_in_flight, a.max_in_flight, $2::int)) as cap,
  coalesce(e.rate_limit, a.rate_limit)::float8 as rate,
  case when coalesce(e.rate_limit, a.rate_limit) is null then null else least(
    greatest(1, coalesce(e.rate_limit, a.rate_limit))::float8,
    coalesce(l.tokens, greatest(1, coalesce(e.rate_limit, a.rate_limit))::float8)
      + coalesce(e.rate_limit, a.rate_limit) * greatest(0, extract(epoch from ($1::timestamptz - coalesce(l.tokens_at, $1::timestamptz)))))
  end as tokens,
  ($4::int > 0 and e.consecutive_failures >= $4::int and not e.disabled) as probing,
  (e.ordering = 'strict' and not e.disabled) as strict,
  e.disabled,
  (select count(*) from delivery s
   where s.state = 'sending' and s.endpoint_id = l.endpoint_id and s.next_attempt_at > $1::timestamptz
     and s.id <> all($6::bigint[]))::int as in_flight`;

/**
 * Statement 1: lanes with due work, round-robin within each application (least recently claimed
 * first), locked without waiting. $5 = how many lanes at most.
 */
/**
 * The lanes with queued work and the due time of each one's oldest pending delivery: a skip scan over
 * `delivery_pending_idx`, one index probe per lane (PostgreSQL 15 has no skip scan of its own). Begins
 * a `with recursive` list; the claim and the metrics scrape both start from it.
 */
export const QUEUED_LANES_CTE = `
  with recursive queued as (
    (select endpoint_id, next_attempt_at as due from delivery
     where state = 'pending' order by endpoint_id, next_attempt_at limit 1)
    union all
    select n.endpoint_id, n.due from queued q cross join lateral (
      select d.endpoint_id, d.next_attempt_at as due from delivery d
      where d.state = 'pending' and d.endpoint_id > q.endpoint_id
      order by d.endpoint_id, d.next_attempt_at limit 1) n
  )`;

const LOCK_LANES = `${QUEUED_LANES_CTE}, due as (
    select endpoint_id from queued where due <= $1::timestamptz
    union
    select endpoint_id from delivery where state = 'sending' and next_attempt_at <= $1::timestamptz
  ), lanes as (
    select l.endpoint_id, l.app_id, l.last_claimed_at, l.breaker_until, l.hold_until, ${LANE_POLICY}
    from due join endpoint_lane l on l.endpoint_id = due.endpoint_id
    join endpoint e on e.id = l.endpoint_id join application a on a.id = e.app_id
    where not (e.disabled and e.disabled_by = 'user')
  ), eligible as (
    select endpoint_id, last_claimed_at,
      row_number() over (partition by app_id order by last_claimed_at, endpoint_id) as round
    from lanes
    where disabled or (
      (breaker_until is null or breaker_until <= $1::timestamptz)
      and (not strict or hold_until is null or hold_until <= $1::timestamptz)
      and (tokens is null or tokens >= 1)
      and in_flight < case when strict or probing then 1 else cap end)
  )
  select l.endpoint_id as "endpointId" from endpoint_lane l join eligible g on g.endpoint_id = l.endpoint_id
  order by g.round, g.last_claimed_at, g.endpoint_id
  limit $5
  for update of l skip locked`;

/**
 * Statement 2: on the locked lanes ($7), each application gets an equal share of the batch ($5),
 * split equally over its lanes and capped by what each lane may run; rows are then interleaved
 * (first row of every lane of every application, then the second, ...) and the batch is cut there.
 * Expired leases of a lane are taken before its pending rows: they were in flight when their worker
 * died. Lanes of automatically disabled endpoints are drained (the worker marks their deliveries
 * skipped without sending), unaffected by caps.
 */
const CLAIM_FROM_LANES = `
  with locked as (
    select l.endpoint_id, l.app_id, l.last_claimed_at, l.hold_until, ${LANE_POLICY}
    from endpoint_lane l join endpoint e on e.id = l.endpoint_id join application a on a.id = e.app_id
    where l.endpoint_id = any($7::text[])
  ), held as (
    select * from unnest($10::text[], $11::int[]) as h(app_id, n)
  ), apps as (
    select app_id from locked union select app_id from held
  ), room as (
    -- This worker's slots are shared fairly too. An eighth of them is kept for applications that
    -- become active (they find slots free at once, whatever the others hold); the rest is split
    -- equally among the active ones (due work here, or requests in flight in this worker). So an
    -- application with a thousand endpoints on a dead host never takes the whole worker.
    select a.app_id, greatest(0, ceil(($12::numeric - floor($12::numeric / 8)) / (select count(*) from apps)) - coalesce(h.n, 0)) as room
    from (select distinct app_id from locked) a left join held h on h.app_id = a.app_id
  ), shared as (
    select locked.*, ceil(least($5::numeric / greatest(1, (select count(*) from room where room > 0)), r.room)
                   / count(*) over (partition by locked.app_id)) as share, r.room,
      row_number() over (partition by locked.app_id order by last_claimed_at, endpoint_id) as lane_rank,
      count(*) over (partition by locked.app_id) as app_lanes,
      min(last_claimed_at) over (partition by locked.app_id) as app_served
    from locked join room r on r.app_id = locked.app_id
  ), quota as (
    select *, greatest(0, case when disabled then share else least(
      share,
      (case when strict or probing then 1 else cap end) - in_flight,
      coalesce(floor(tokens), 2147483647)) end)::int as q
    from shared
  ), picked as (
    select x.id, q.endpoint_id, q.app_id, q.room, (x.rn - 1) * q.app_lanes + q.lane_rank as slot, q.app_served
    from quota q cross join lateral (
      select u.id, row_number() over (order by u.expired desc, u.next_attempt_at, u.id) as rn from (
        (select d.id, true as expired, d.next_attempt_at from delivery d
         where d.state = 'sending' and d.endpoint_id = q.endpoint_id and d.next_attempt_at <= $1::timestamptz
         order by d.next_attempt_at limit q.q)
        union all
        (select d.id, false, d.next_attempt_at from delivery d
         where d.state = 'pending' and d.endpoint_id = q.endpoint_id and d.next_attempt_at <= $1::timestamptz
           and (not q.strict or q.hold_until is null or q.hold_until <= $1::timestamptz)
         order by d.next_attempt_at, d.id limit q.q)
      ) u order by u.expired desc, u.next_attempt_at, u.id limit q.q
    ) x where q.q > 0
  ), chosen as (
    select id from (
      select id, slot, app_served, endpoint_id, room,
        row_number() over (partition by app_id order by slot, endpoint_id) as app_pos
      from picked) p
    where app_pos <= room  -- per-lane shares are rounded up; the application's room is exact
    order by slot, app_served, endpoint_id limit $5
  ), claimed as (
    update delivery d set state = 'sending', lease_owner = $8, lease_version = d.lease_version + 1,
      next_attempt_at = $9, updated_at = $1
    from chosen c
    -- re-checked on the newest row version: a result or a resend committed meanwhile wins
    where d.id = c.id and d.state in ('pending', 'sending') and d.next_attempt_at <= $1::timestamptz
    returning d.id, d.app_id, d.msg_id, d.endpoint_id, d.lease_version, d.attempts_made, d.run_attempts,
      d.next_trigger, d.one_shot, d.created_at
  ), counts as (
    select endpoint_id, count(*)::int as n from claimed group by endpoint_id
  ), lane_upd as (
    update endpoint_lane l set last_claimed_at = $1,
      tokens = case when k.rate is null then null else k.tokens - c.n end,
      tokens_at = case when k.rate is null then null else greatest(l.tokens_at, $1::timestamptz) end
    from counts c join locked k on k.endpoint_id = c.endpoint_id
    where l.endpoint_id = c.endpoint_id
  ), secrets as (
    select s.endpoint_id, array_agg(s.sealed order by s.expires_at is null desc, s.id desc) as sealed
    from endpoint_secret s
    where s.endpoint_id in (select endpoint_id from counts) and (s.expires_at is null or s.expires_at > $1::timestamptz)
    group by s.endpoint_id
  )
  select c.id, c.app_id as "appId", c.msg_id as "msgId", c.endpoint_id as "endpointId",
    c.lease_version as "leaseVersion", c.attempts_made as "attemptsMade", c.run_attempts as "runAttempts",
    c.next_trigger as "nextTrigger", c.one_shot as "oneShot", c.created_at as "createdAt",
    m.event_type as "eventType", e.url, e.headers, e.disabled as "endpointDisabled",
    e.ordering = 'strict' as strict,
    json_build_object('retryDelays', e.retry_delays, 'timeoutMs', e.timeout_ms, 'maxInFlight', e.max_in_flight) as "endpointPolicy",
    json_build_object('retryDelays', a.retry_delays, 'timeoutMs', a.timeout_ms, 'maxInFlight', a.max_in_flight) as "appPolicy",
    coalesce(e.signature, a.signature) as signature, coalesce(e.delivery_headers, a.delivery_headers) as "deliveryHeaders",
    coalesce(sec.sealed, '{}') as secrets,
    -- a body travels once per message, and not at all when the claimer already holds it ($13)
    case when row_number() over (partition by c.msg_id order by c.id) = 1 and not (c.msg_id = any($13::text[]))
      then m.payload end as payload
  from claimed c
  left join secrets sec on sec.endpoint_id = c.endpoint_id
  cross join lateral (select event_type, payload from message where id = c.msg_id) m
  cross join lateral (select url, headers, disabled, ordering, retry_delays, timeout_ms, max_in_flight, app_id,
                        signature, delivery_headers from endpoint where id = c.endpoint_id) e
  cross join lateral (select retry_delays, timeout_ms, max_in_flight, signature, delivery_headers
                      from application where id = e.app_id) a
  order by c.created_at, c.id`;

/**
 * A claimed delivery as the claim returns it: with the sealed secrets that sign it at claim time
 * (current first) and, on the first row of each message the claimer does not hold yet, the body.
 * Everything the worker needs to send arrives with the claim, so a claim is one round trip of work.
 */
export interface ClaimedRow extends ClaimedDelivery {
  /** Sealed secrets valid at the claim's time, current first. */
  secrets: string[];
  /** The exact body; null on repeats of a message in the batch and on messages the claimer holds. */
  payload: Buffer | null;
}

/**
 * Claims up to `limit` due deliveries for `owner`, leased until `leaseUntil`, fairly over lanes and
 * applications. Returns them oldest first.
 */
export async function claimFromLanes(
  pool: pg.Pool,
  s: ClaimSettings,
  opts: {
    owner: string;
    limit: number;
    now: Date;
    leaseUntil: Date;
    /**
     * Deliveries of this claimer whose request is over but whose result is not written yet: they
     * hold no connection any more, so they do not count against their lane's cap. This lets a worker
     * claim the next requests while the previous results are still being written.
     */
    finished?: number[];
    /** What this claimer has in flight per application, for its fair share of `slots`. */
    heldByApp?: Map<string, number>;
    /** This claimer's slots (its concurrency); default: `limit`. */
    slots?: number;
    /** Messages whose bodies this claimer already holds: their rows come without a payload. */
    heldPayloads?: string[];
  },
): Promise<ClaimedRow[]> {
  return inTransaction(pool, async (client) => {
    const base = [opts.now, s.defaultMaxInFlight, s.maxInFlightBound, s.breakerFailures, opts.limit, opts.finished ?? []];
    // Named statements: both are parsed and planned once per connection, not at every claim
    // (planning the lane statement took longer than running it on a small queue).
    const lanes = await client.query<{ endpointId: string }>({ name: 'herald-lock-lanes', text: LOCK_LANES, values: base });
    if (lanes.rows.length === 0) return [];
    const { rows } = await client.query<ClaimedRow>({
      name: 'herald-claim-from-lanes',
      text: CLAIM_FROM_LANES,
      values: [
        ...base,
        lanes.rows.map((r) => r.endpointId),
        opts.owner,
        opts.leaseUntil,
        [...(opts.heldByApp?.keys() ?? [])],
        [...(opts.heldByApp?.values() ?? [])],
        opts.slots ?? opts.limit,
        opts.heldPayloads ?? [],
      ],
    });
    // The id is int8: a number on Herald's pool, a string on a connection without its parser (pool.ts).
    for (const r of rows) r.id = Number(r.id);
    return rows;
  });
}

/** Exact bodies of messages, one row per message however many deliveries it has. */
export async function loadPayloads(db: Queryable, msgIds: string[]): Promise<Map<string, Buffer>> {
  if (msgIds.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; payload: Buffer }>(
    'select id, payload from message where id = any($1::text[])',
    [msgIds],
  );
  return new Map(rows.map((r) => [r.id, r.payload]));
}

/** Sets or clears strict-ordering holds. */
export async function setLaneHolds(db: Queryable, changes: { endpointId: string; holdUntil: Date | null }[]): Promise<void> {
  if (changes.length === 0) return;
  await db.query(
    `update endpoint_lane l set hold_until = r.hold_until
     from jsonb_to_recordset($1::jsonb) as r(endpoint_id text, hold_until timestamptz)
     where l.endpoint_id = r.endpoint_id and l.hold_until is distinct from r.hold_until`,
    [JSON.stringify(changes.map((c) => ({ endpoint_id: c.endpointId, hold_until: c.holdUntil })))],
  );
}

/** Locks lanes in a fixed order (claims lock a lane before its deliveries; so does persisting). */
export async function lockLanes(db: Queryable, endpointIds: string[]): Promise<void> {
  if (endpointIds.length === 0) return;
  await db.query('select 1 from endpoint_lane where endpoint_id = any($1::text[]) order by endpoint_id for update', [endpointIds]);
}

/**
 * Opens the breaker of endpoints whose failures reached the threshold, for backoff x 2^(trips - 1)
 * capped at the maximum (HERALD_BREAKER_BACKOFF doubling up to HERALD_BREAKER_BACKOFF_MAX; this is the one place that computes it). An open breaker is not extended by
 * results of requests that were in flight when it opened. The trips count restarts when the
 * endpoint's current run of failures began after the breaker's last run (it answered in between),
 * so closing needs no write: a success resets the endpoint's failure count, and `breakerState`
 * reads "closed" from that.
 */
export async function updateBreakers(
  db: Queryable,
  opts: { open: string[]; now: Date; backoffMs: number; backoffMaxMs: number },
): Promise<void> {
  if (opts.open.length === 0) return;
  await db.query(
    `with t as (
       select l.endpoint_id, case
         when l.breaker_opened_at is null or e.first_failure_at is null or l.breaker_opened_at < e.first_failure_at then 1
         else l.breaker_trips + 1 end as trips
       from endpoint_lane l join endpoint e on e.id = l.endpoint_id
       where l.endpoint_id = any($1::text[]) and (l.breaker_until is null or l.breaker_until <= $2::timestamptz)
     )
     update endpoint_lane l set
       breaker_trips = t.trips,
       breaker_until = $2::timestamptz + make_interval(secs => least($4::float8, $3::float8 * power(2, least(t.trips - 1, 40))) / 1000),
       breaker_opened_at = case when t.trips = 1 then $2::timestamptz else l.breaker_opened_at end
     from t where l.endpoint_id = t.endpoint_id`,
    [opts.open, opts.now, opts.backoffMs, opts.backoffMaxMs],
  );
}
