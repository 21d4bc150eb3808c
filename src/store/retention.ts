/**
 * Retention of the delivery log (docs/retention.md): the statements the purge job
 * (src/engine/retention.ts) runs on messages, their deliveries and attempts. Each one walks an index
 * and touches at most `limit` rows, so none runs long whatever the size of the tables.
 *
 * What a pending delivery needs is never purged: a message with a delivery still pending or being
 * sent (retrying, held by a paused endpoint, or queued again by a person) keeps its payload and its
 * rows, and is looked at again by the next pass. The candidates of a batch are locked first
 * (`for update skip locked`), and that check is a later statement, so its snapshot is taken with the
 * locks held: a resend or replay that queued the message meanwhile is seen, and one that comes later
 * waits for the lock and then finds the payload gone (`expunged_at`, which every resend and replay
 * checks, is set by the purge too).
 */
import type { Queryable } from './pool.js';

/** A position in a walk over messages: the (time, id) of the last message a batch looked at. */
export interface MessageCursor {
  /** created_at (the whole log) or payload_expires_at (early payload purges) of that message. */
  at: Date;
  /** Its id. */
  id: string;
}

/** An application and how long its delivery log is kept. */
export interface AppRetention {
  /** app_… */
  id: string;
  /** Its retention period in milliseconds (its own, else the operator's). */
  retentionMs: number;
  /** Whether it has a message older than that: only those get a walk. */
  due: boolean;
}

/**
 * The next page of applications (by id, after `afterId`) with their retention period and whether
 * each has a message past it: one index probe per application on message (app_id, created_at).
 */
export async function appRetentionPage(db: Queryable, afterId: string | null, defaultMs: number, now: Date, limit: number): Promise<AppRetention[]> {
  const { rows } = await db.query<AppRetention>(
    `select a.id, a.r as "retentionMs",
       exists (select 1 from message m where m.app_id = a.id and m.created_at < $3::timestamptz - a.r * interval '1 millisecond') as due
     from (select id, coalesce(retention_s::bigint * 1000, $2::bigint) as r from application
           where $1::text is null or id > $1 order by id limit $4) a
     order by a.id`,
    [afterId, defaultMs, now, limit],
  );
  return rows.map((r) => ({ ...r, retentionMs: Number(r.retentionMs) }));
}

/**
 * Locks the next `limit` messages of an application published before `before`, after `after`, in
 * (created_at, id) order, skipping rows another transaction holds (a resend, a purge elsewhere).
 * Messages still in an open debounce window are not candidates: their window counts them.
 */
export async function lockExpiredMessages(
  db: Queryable,
  appId: string,
  before: Date,
  after: MessageCursor | null,
  limit: number,
): Promise<{ id: string; createdAt: Date }[]> {
  const { rows } = await db.query<{ id: string; createdAt: Date }>(
    `select id, created_at as "createdAt" from message
     where app_id = $1 and created_at < $2 and ($3::timestamptz is null or (created_at, id) > ($3, $4::text))
       and debounce_state is distinct from 'waiting'
     order by created_at, id limit $5
     for update skip locked`,
    [appId, before, after?.at ?? null, after?.id ?? null, limit],
  );
  return rows;
}

/** The messages of `ids` none of whose deliveries is pending or being sent (SQL over $2, a text[]). */
const UNPROTECTED = `select u.id from unnest($2::text[]) u(id)
  where not exists (select 1 from delivery p where p.msg_id = u.id and p.state in ('pending', 'sending'))`;

/**
 * Deletes up to `limit` rows of `table` (attempts first, then deliveries, all finished) of the messages
 * of `ids` that no pending delivery protects. Rows another transaction holds (a recover or bulk replay
 * that locked the delivery and waits for the message's lock) are skipped rather than waited for, so the
 * two cannot deadlock; their message keeps a delivery and is deleted by a later pass.
 */
export async function deleteLogRowsOf(db: Queryable, table: 'attempt' | 'delivery', appId: string, ids: string[], limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `delete from ${table} where id in (
       select r.id from ${table} r where r.msg_id in (${UNPROTECTED}) and r.app_id = $1 limit $3 for update skip locked)`,
    [appId, ids, limit],
  );
  return rowCount ?? 0;
}

/**
 * Deletes the messages of `ids` that have no delivery left (their attempts and deliveries went
 * first: the delivery → message key was dropped in 0007, so nothing cascades). Protected messages
 * keep their deliveries, so they stay.
 */
export async function deleteBareMessages(db: Queryable, appId: string, ids: string[]): Promise<number> {
  const { rowCount } = await db.query(
    `delete from message m where m.app_id = $1 and m.id = any($2::text[])
       and not exists (select 1 from delivery d where d.msg_id = m.id)`,
    [appId, ids],
  );
  return rowCount ?? 0;
}

/** What an early-purged payload becomes: an empty JSON object, so every reader still gets one. */
export const PURGED_PAYLOAD = Buffer.from('{}', 'utf8');

/**
 * Locks the next `limit` messages whose own payload retention (payloadRetentionPeriod or
 * payloadRetentionHours) ended by `now`, in (payload_expires_at, id) order, after `after`.
 */
export async function lockExpiredPayloads(db: Queryable, now: Date, after: MessageCursor | null, limit: number): Promise<{ id: string; expiresAt: Date }[]> {
  const { rows } = await db.query<{ id: string; expiresAt: Date }>(
    `select id, payload_expires_at as "expiresAt" from message
     where payload_expires_at <= $1 and payload_purged_at is null
       and ($2::timestamptz is null or (payload_expires_at, id) > ($2, $3::text))
     order by payload_expires_at, id limit $4
     for update skip locked`,
    [now, after?.at ?? null, after?.id ?? null, limit],
  );
  return rows;
}

/**
 * Replaces the payloads of the messages of `ids` with {@link PURGED_PAYLOAD}, records when, and sets
 * `expunged_at` so that resend, recover and replays refuse them as they refuse expunged ones; the
 * payload hash stays (a repeated eventId is still recognised). Messages a pending delivery or an
 * open debounce window still needs are left as they are.
 */
export async function purgePayloads(db: Queryable, ids: string[], now: Date): Promise<number> {
  const { rowCount } = await db.query(
    `update message m set payload = $3, payload_purged_at = $1, expunged_at = coalesce(m.expunged_at, $1)
     where m.id in (${UNPROTECTED}) and m.debounce_state is distinct from 'waiting'`,
    [now, ids, PURGED_PAYLOAD],
  );
  return rowCount ?? 0;
}

/**
 * Deletes up to `limit` last-sent states of debounced entities (docs/debounce.md) of the
 * applications of `apps` older than each one's retention: they are payload data too. The next
 * change of such an entity is sent whole, as for a new one.
 */
export async function deleteOldEntityStates(db: Queryable, apps: AppRetention[], now: Date, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `delete from debounce_entity where ctid = any(array(
       select x.ctid from unnest($1::text[], $2::bigint[]) a(id, r)
       cross join lateral (select ctid from debounce_entity e
                           where e.app_id = a.id and e.sent_at < $3::timestamptz - a.r * interval '1 millisecond' limit $4) x
       limit $4))`,
    [apps.map((a) => a.id), apps.map((a) => a.retentionMs), now, limit],
  );
  return rowCount ?? 0;
}
