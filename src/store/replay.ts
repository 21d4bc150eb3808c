/**
 * Manual resend of one message, and the batches of an endpoint's recover, replay-missing and bulk
 * replay (background tasks: each batch continues from the cursor the previous one returned). A message
 * whose content was expunged, or whose payload retention purged (which sets `expunged_at` too), is
 * never sent again. Each statement holds a share lock on the messages it queues, so the retention
 * purge (src/store/retention.ts), which locks them for update before it looks for pending deliveries,
 * either sees the delivery queued here or makes this statement wait and then find the payload gone.
 */
import { HeraldError } from '../core/errors.js';
import { SUBSCRIBED_SQL } from './messages.js';
import type { Queryable } from './pool.js';

/**
 * SQL (an UPDATE's SET list on delivery `d`) queuing a manual attempt at `now`: a finished delivery
 * gets one attempt without retries; a pending one is brought forward and keeps its schedule.
 */
const ANOTHER_ATTEMPT = (now: string) => `state = 'pending', next_attempt_at = ${now}, next_trigger = 'manual',
  one_shot = (d.state <> 'pending' or d.one_shot),
  run_attempts = case when d.state = 'pending' then d.run_attempts else 0 end,
  updated_at = ${now}`;

/** Result of {@link requeueDelivery}. */
export type RequeueResult = 'queued' | 'in_flight' | 'expunged' | 'not_found';

/**
 * Queues a manual attempt of message → endpoint with the same message id. A finished delivery
 * (succeeded, failed, skipped) gets one extra attempt without retries; a pending one is brought
 * forward to now and keeps its schedule; a delivery being sent right now is left alone. A missing
 * delivery (the endpoint was created after the message, or did not subscribe) is created. A message
 * whose content was expunged is refused ('expunged'); one whose payload retention purged is a 409
 * saying so (a HeraldError, thrown here so every caller words it the same).
 */
export async function requeueDelivery(
  db: Queryable,
  appId: string,
  msgId: string,
  endpointId: string,
  now: Date,
): Promise<RequeueResult> {
  const { rows } = await db.query<{ result: RequeueResult | 'purged' }>(
    `with target as (
       select m.id as msg_id, e.id as endpoint_id from message m join endpoint e on e.app_id = m.app_id
       where m.app_id = $1 and m.id = $2 and e.id = $3 and m.expunged_at is null
       for share of m
     ), upd as (
       update delivery d set ${ANOTHER_ATTEMPT('$4')}
       from target t where d.msg_id = t.msg_id and d.endpoint_id = t.endpoint_id and d.state <> 'sending'
       returning d.id
     ), ins as (
       insert into delivery (app_id, msg_id, endpoint_id, state, next_attempt_at, next_trigger, one_shot, created_at)
       select $1, t.msg_id, t.endpoint_id, 'pending', $4, 'manual', true, $4 from target t
       where not exists (select 1 from delivery d where d.msg_id = t.msg_id and d.endpoint_id = t.endpoint_id)
       on conflict (msg_id, endpoint_id) do nothing
       returning id
     ), probe as (
       -- a person asking for a resend says the receiver may be back: probe it now instead of
       -- waiting out the open breaker (half-open: one request, and its success closes the breaker)
       update endpoint_lane l set breaker_until = null from target t
       where l.endpoint_id = t.endpoint_id and l.breaker_until > $4
     ), n as (select pg_notify('herald_due', ''))
     select case
       when exists (select 1 from upd) or exists (select 1 from ins) then 'queued'
       when exists (select 1 from target) then 'in_flight'
       when exists (select 1 from message where app_id = $1 and id = $2 and payload_purged_at is not null) then 'purged'
       when exists (select 1 from message where app_id = $1 and id = $2 and expunged_at is not null) then 'expunged'
       else 'not_found' end as result
     from n`,
    [appId, msgId, endpointId, now],
  );
  const result = rows[0]!.result;
  if (result === 'purged') {
    throw new HeraldError('conflict', `message ${msgId} had its payload purged by retention (its payloadRetentionPeriod ended); there is nothing left to send: publish it again`);
  }
  return result;
}

/** The end of a window without one: JavaScript's largest date. */
export const NO_END = new Date(8.64e15);

/** Where a batch stopped: the (created_at, id) of the last row it looked at. */
export interface BatchCursor {
  /** created_at of the last row (ISO 8601). */
  at: string;
  /** id of the last row (a delivery's number or a message's id). */
  id: string;
}

/** What one batch did. */
export interface BatchResult {
  /** Deliveries queued (or created) by this batch. */
  queued: number;
  /** Where the next batch starts; null when this batch reached the end. */
  next: BatchCursor | null;
}

/** The window and position of one batch. */
export interface BatchWindow {
  /** Messages (deliveries) published at or after this time. */
  since: Date;
  /** …and before this time. */
  until: Date;
  /** Continue after this row, or from the start. */
  after: BatchCursor | null;
  /** Rows looked at per batch. */
  limit: number;
  /** Time of the queued attempts. */
  now: Date;
}

/** SQL setting a finished delivery up for one manual attempt (Svix triggerType 1) at `now`. */
const ONE_MANUAL_ATTEMPT = (now: string) =>
  `state = 'pending', next_attempt_at = ${now}, next_trigger = 'manual', one_shot = true, run_attempts = 0, updated_at = ${now}`;

/** Turns the last row of a batch into the next cursor (null when the batch was not full). */
function nextCursor(rows: { lastAt: Date | null; lastId: string | null; scanned: number }, limit: number): BatchCursor | null {
  if (rows.scanned < limit || rows.lastAt === null || rows.lastId === null) return null;
  return { at: rows.lastAt.toISOString(), id: rows.lastId };
}

/**
 * Breaker reset for an endpoint a person is recovering or replaying to: they say the receiver is
 * fixed, so probe it now rather than wait out an open breaker.
 */
export async function probeEndpointNow(db: Queryable, appId: string, endpointId: string, now: Date): Promise<void> {
  await db.query('update endpoint_lane set breaker_until = null where app_id = $1 and endpoint_id = $2 and breaker_until > $3', [
    appId,
    endpointId,
    now,
  ]);
}

/**
 * One batch of recover: the next `limit` failed or skipped deliveries of the endpoint created in
 * [since, until), in (created_at, id) order, each set up for one manual attempt. Deliveries that fail
 * again are behind the cursor, so a recover always ends.
 */
export async function recoverBatch(db: Queryable, appId: string, endpointId: string, w: BatchWindow): Promise<BatchResult> {
  const { rows } = await db.query<{ queued: number; scanned: number; lastAt: Date | null; lastId: string | null }>(
    `with batch as (
       select d.id, d.created_at from delivery d join message m on m.id = d.msg_id
       where d.app_id = $1 and d.endpoint_id = $2 and d.state in ('failed', 'skipped')
         and d.created_at >= $3 and d.created_at < $4
         and ($5::timestamptz is null or (d.created_at, d.id) > ($5, $6::bigint))
         and m.expunged_at is null
       order by d.created_at, d.id limit $8 for update of d for share of m
     ), upd as (
       update delivery d set ${ONE_MANUAL_ATTEMPT('$7')} from batch where d.id = batch.id returning d.id
     ), last as (select created_at, id from batch order by created_at desc, id desc limit 1)
     select (select count(*) from upd)::int as queued, (select count(*) from batch)::int as scanned,
       (select created_at from last) as "lastAt", (select id::text from last) as "lastId"
     from (select pg_notify('herald_due', '')) n`,
    [appId, endpointId, w.since, w.until, w.after?.at ?? null, w.after?.id ?? null, w.now, w.limit],
  );
  return { queued: rows[0]!.queued, next: nextCursor(rows[0]!, w.limit) };
}

/**
 * One batch of replay-missing: the next `limit` messages of the application published in
 * [since, until) whose event type, channels and body the endpoint subscribes to (the publish rule, payload filter included), in (created_at, id)
 * order. A message never delivered to the endpoint gets a delivery (an ordinary one, with retries,
 * its first attempt manual); one whose delivery failed or was skipped gets one manual attempt. Messages
 * delivered, pending or being sent are left alone, as are expunged ones.
 */
export async function replayMissingBatch(db: Queryable, appId: string, endpointId: string, w: BatchWindow): Promise<BatchResult> {
  const { rows } = await db.query<{ queued: number; scanned: number; lastAt: Date | null; lastId: string | null }>(
    `with batch as (
       select m.id, m.created_at from message m join endpoint e on e.app_id = m.app_id and e.id = $2
       where m.app_id = $1 and m.created_at >= $3 and m.created_at < $4
         and ($5::timestamptz is null or (m.created_at, m.id) > ($5, $6::text))
         and m.expunged_at is null and ${SUBSCRIBED_SQL('e', 'm.event_type', 'm.channels', 'm.payload')}
         -- A debounced type's published messages reach endpoints within consolidated messages, never alone.
         and m.debounce_state is null
       order by m.created_at, m.id limit $8
       for share of m
     ), known as (
       select b.id as msg_id, b.created_at, d.id as delivery_id, d.state
       from batch b left join delivery d on d.msg_id = b.id and d.endpoint_id = $2
     ), ins as (
       insert into delivery (app_id, msg_id, endpoint_id, state, next_attempt_at, next_trigger, created_at)
       select $1, k.msg_id, $2, 'pending', $7, 'manual', k.created_at from known k where k.delivery_id is null
       order by k.created_at, k.msg_id
       on conflict (msg_id, endpoint_id) do nothing
       returning id
     ), upd as (
       update delivery d set ${ONE_MANUAL_ATTEMPT('$7')} from known k
       where d.id = k.delivery_id and k.state in ('failed', 'skipped') and d.state in ('failed', 'skipped')
       returning d.id
     ), last as (select created_at, id from batch order by created_at desc, id desc limit 1)
     select ((select count(*) from ins) + (select count(*) from upd))::int as queued, (select count(*) from batch)::int as scanned,
       (select created_at from last) as "lastAt", (select id from last) as "lastId"
     from (select pg_notify('herald_due', '')) n`,
    [appId, endpointId, w.since, w.until, w.after?.at ?? null, w.after?.id ?? null, w.now, w.limit],
  );
  return { queued: rows[0]!.queued, next: nextCursor(rows[0]!, w.limit) };
}

/** Filters of a bulk replay (Svix BulkReplayIn). */
export interface BulkReplayFilter {
  /** Only these event types. */
  eventTypes: string[] | null;
  /** Only messages with this channel. */
  channel: string | null;
  /** Only messages with this tag. */
  tag: string | null;
  /** Only deliveries in this state. */
  state: 'pending' | 'sending' | 'succeeded' | 'failed' | 'skipped' | null;
  /** Only deliveries whose latest HTTP status is in this class (0 = no response). */
  statusClass: number | null;
}

/**
 * One batch of bulk replay: the next `limit` deliveries of the endpoint created in [since, until) that
 * match the filters, in (created_at, id) order, each sent again once, successful ones too: a finished
 * delivery gets one manual attempt, a pending one is brought forward to now, one being sent is left
 * alone. Expunged messages are skipped.
 */
export async function bulkReplayBatch(
  db: Queryable,
  appId: string,
  endpointId: string,
  w: BatchWindow,
  f: BulkReplayFilter,
): Promise<BatchResult> {
  const { rows } = await db.query<{ queued: number; scanned: number; lastAt: Date | null; lastId: string | null }>(
    `with batch as (
       select d.id, d.created_at, d.state from delivery d join message m on m.id = d.msg_id
       where d.app_id = $1 and d.endpoint_id = $2 and d.created_at >= $3 and d.created_at < $4
         and ($5::timestamptz is null or (d.created_at, d.id) > ($5, $6::bigint))
         and m.expunged_at is null
         and ($9::text[] is null or m.event_type = any($9))
         and ($10::text is null or $10 = any(m.channels))
         and ($11::text is null or $11 = any(m.tags))
         and ($12::text is null or d.state = $12)
         and ($13::int is null or (case when $13 = 0 then d.last_status is null
                                        else d.last_status >= $13 and d.last_status < $13 + 100 end))
       order by d.created_at, d.id limit $8 for update of d for share of m
     ), upd as (
       update delivery d set ${ANOTHER_ATTEMPT('$7')}
       from batch where d.id = batch.id and d.state <> 'sending'
       returning d.id
     ), last as (select created_at, id from batch order by created_at desc, id desc limit 1)
     select (select count(*) from upd)::int as queued, (select count(*) from batch)::int as scanned,
       (select created_at from last) as "lastAt", (select id::text from last) as "lastId"
     from (select pg_notify('herald_due', '')) n`,
    [
      appId,
      endpointId,
      w.since,
      w.until,
      w.after?.at ?? null,
      w.after?.id ?? null,
      w.now,
      w.limit,
      f.eventTypes,
      f.channel,
      f.tag,
      f.state,
      f.statusClass,
    ],
  );
  return { queued: rows[0]!.queued, next: nextCursor(rows[0]!, w.limit) };
}

/** Failed or skipped deliveries of the endpoint created in [since, until): what a recover will queue. */
export async function countRecoverable(db: Queryable, appId: string, endpointId: string, since: Date, until: Date): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from delivery d
     where d.app_id = $1 and d.endpoint_id = $2 and d.state in ('failed', 'skipped') and d.created_at >= $3 and d.created_at < $4
       and not exists (select 1 from message m where m.id = d.msg_id and m.expunged_at is not null)`,
    [appId, endpointId, since, until],
  );
  return rows[0]!.n;
}

/**
 * Recovers an endpoint in one go, batch after batch (the library's and the tests' form; the API runs
 * the same batches as a background task). Calls `onProgress` after each batch with the running total.
 */
export async function recoverFailed(
  db: Queryable,
  appId: string,
  endpointId: string,
  opts: { since: Date; until?: Date | null; now: Date; batchSize?: number; onProgress?: (done: number) => void },
): Promise<number> {
  await probeEndpointNow(db, appId, endpointId, opts.now);
  const until = opts.until ?? NO_END;
  let total = 0;
  let after: BatchCursor | null = null;
  do {
    const r = await recoverBatch(db, appId, endpointId, { since: opts.since, until, after, limit: opts.batchSize ?? 1000, now: opts.now });
    total += r.queued;
    opts.onProgress?.(total);
    after = r.next;
  } while (after);
  return total;
}
