/** Manual resend of one message and recovery of an endpoint's failed deliveries. */
import type { Queryable } from './pool.js';

/** Result of {@link requeueDelivery}. */
export type RequeueResult = 'queued' | 'in_flight' | 'not_found';

/**
 * Queues a manual attempt of message → endpoint with the same message id. A finished delivery
 * (succeeded, failed, skipped) gets one extra attempt without retries; a pending one is brought
 * forward to now and keeps its schedule; a delivery being sent right now is left alone. A missing
 * delivery (the endpoint was created after the message, or did not subscribe) is created.
 */
export async function requeueDelivery(
  db: Queryable,
  appId: string,
  msgId: string,
  endpointId: string,
  now: Date,
): Promise<RequeueResult> {
  const { rows } = await db.query<{ result: RequeueResult }>(
    `with target as (
       select m.id as msg_id, e.id as endpoint_id from message m join endpoint e on e.app_id = m.app_id
       where m.app_id = $1 and m.id = $2 and e.id = $3
     ), upd as (
       update delivery d set
         state = 'pending', next_attempt_at = $4, next_trigger = 'manual',
         one_shot = (d.state <> 'pending' or d.one_shot),
         run_attempts = case when d.state = 'pending' then d.run_attempts else 0 end,
         updated_at = $4
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
       else 'not_found' end as result
     from n`,
    [appId, msgId, endpointId, now],
  );
  return rows[0]!.result;
}

/**
 * Re-queues, in batches of `batchSize`, every failed or skipped delivery of an endpoint created in
 * [since, until) (no upper bound when until is absent); each gets one manual attempt. Calls `onProgress` after each batch with the running
 * total so a caller can show progress. Returns the total.
 */
export async function recoverFailed(
  db: Queryable,
  appId: string,
  endpointId: string,
  opts: { since: Date; until?: Date | null; now: Date; batchSize?: number; onProgress?: (done: number) => void },
): Promise<number> {
  let total = 0;
  // A person recovering says the receiver is fixed: probe it now rather than wait out an open breaker.
  await db.query('update endpoint_lane set breaker_until = null where app_id = $1 and endpoint_id = $2 and breaker_until > $3', [
    appId,
    endpointId,
    opts.now,
  ]);
  for (;;) {
    const { rowCount } = await db.query(
      `with batch as (
         select id from delivery where app_id = $1 and endpoint_id = $2 and state in ('failed', 'skipped')
           and created_at >= $3 and ($4::timestamptz is null or created_at < $4)
         order by created_at limit $6 for update skip locked
       ), n as (select pg_notify('herald_due', ''))
       update delivery d set state = 'pending', next_attempt_at = $5, next_trigger = 'manual', one_shot = true,
         run_attempts = 0, updated_at = $5
       from batch, n where d.id = batch.id`,
      [appId, endpointId, opts.since, opts.until ?? null, opts.now, opts.batchSize ?? 1000],
    );
    total += rowCount ?? 0;
    opts.onProgress?.(total);
    if ((rowCount ?? 0) < (opts.batchSize ?? 1000)) return total;
  }
}
