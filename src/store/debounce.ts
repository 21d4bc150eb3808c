/**
 * Debounce windows (docs/debounce.md): claiming the due ones and recording a flush. Windows are
 * written by the publish statement itself (src/store/messages.ts); a flush claims them here under
 * `for update skip locked`, so several Herald processes never flush one window twice, and records
 * everything in the transaction that publishes the consolidated messages.
 */
import type { Queryable } from './pool.js';

/** A window whose quiet period or cap has passed, with the states last sent for its entities. */
export interface DueWindow {
  /** Owning application. */
  appId: string;
  /** The debounced event type. */
  eventType: string;
  /** JSON text of the grouping value. */
  group: string;
  /** Publish time of its first message. */
  openedAt: Date;
  /** Publish time of its latest message. */
  lastChangeAt: Date;
  /** Latest state per entity (keys are the entity keys' JSON text). */
  entities: Record<string, Record<string, unknown>>;
  /** Published messages merged into it, in publish order. */
  msgIds: string[];
  /** Union of their channels, or null. */
  channels: string[] | null;
  /** The state last sent for each of its entities that was ever sent. */
  lastSent: Record<string, Record<string, unknown>>;
}

/**
 * Locks up to `limit` due windows, earliest first, skipping those another flusher holds (or a publish
 * merging into them right now: that one is flushed on a later pass, with the new change).
 */
export async function claimDueWindows(db: Queryable, now: Date, limit: number): Promise<DueWindow[]> {
  const { rows } = await db.query<Omit<DueWindow, 'msgIds'>>(
    `select w.app_id as "appId", w.event_type as "eventType", w.group_key as "group", w.opened_at as "openedAt",
       w.last_change_at as "lastChangeAt", w.entities, w.channels,
       (select coalesce(jsonb_object_agg(s.entity_key, s.state), '{}'::jsonb) from debounce_entity s
        where s.app_id = w.app_id and s.event_type = w.event_type and s.group_key = w.group_key
          and s.entity_key in (select jsonb_object_keys(w.entities))) as "lastSent"
     from debounce_window w
     where w.due_at <= $1
     order by w.due_at
     limit $2
     for update of w skip locked`,
    [now, limit],
  );
  if (rows.length === 0) return [];
  // A statement of its own, after the windows are locked: its snapshot sees every message merged into
  // them (a publish merging into a window commits before the lock is granted), which a subquery of the
  // claim, reading the claim's older snapshot, could miss.
  const { rows: waiting } = await db.query<{ appId: string; eventType: string; group: string; msgIds: string[] }>(
    `select m.app_id as "appId", m.event_type as "eventType", m.debounce_group as "group", array_agg(m.id order by m.id) as "msgIds"
     from message m join unnest($1::text[], $2::text[], $3::text[]) w(app_id, event_type, group_key)
       on m.app_id = w.app_id and m.event_type = w.event_type and m.debounce_group = w.group_key
     where m.debounce_state = 'waiting'
     group by 1, 2, 3`,
    [rows.map((r) => r.appId), rows.map((r) => r.eventType), rows.map((r) => r.group)],
  );
  const key = (r: { appId: string; eventType: string; group: string }) => `${r.appId}\u0000${r.eventType}\u0000${r.group}`;
  const ids = new Map(waiting.map((r) => [key(r), r.msgIds]));
  return rows.map((r) => ({ ...r, msgIds: ids.get(key(r)) ?? [] }));
}

/** What one flushed window became. */
export interface FlushedWindow {
  /** Owning application. */
  appId: string;
  /** Event type. */
  eventType: string;
  /** JSON text of the grouping value. */
  group: string;
  /** The published messages it held. */
  msgIds: string[];
  /** The consolidated message published for it, or null when nothing changed. */
  consolidatedInto: string | null;
  /** The states that message sent, per entity key. */
  sent: { entity: string; state: Record<string, unknown> }[];
}

/**
 * Closes flushed windows in one statement: deletes them, marks their published messages consolidated
 * (or unchanged, when nothing was sent) and records the states sent as the base of the next diff.
 */
export async function recordFlush(db: Queryable, flushed: FlushedWindow[], sentAt: Date): Promise<void> {
  const msgs = flushed.flatMap((f) => f.msgIds.map((id) => ({ appId: f.appId, id, into: f.consolidatedInto })));
  const states = flushed.flatMap((f) => f.sent.map((s) => ({ ...f, entity: s.entity, state: JSON.stringify(s.state) })));
  await db.query(
    `with gone as (
       delete from debounce_window d using unnest($1::text[], $2::text[], $3::text[]) w(app_id, event_type, group_key)
       where d.app_id = w.app_id and d.event_type = w.event_type and d.group_key = w.group_key
     ), marked as (
       update message m set debounce_state = case when x.target is null then 'unchanged' else 'consolidated' end, consolidated_into = x.target
       from unnest($4::text[], $5::text[], $6::text[]) x(app_id, id, target)
       where m.app_id = x.app_id and m.id = x.id
     )
     insert into debounce_entity as s (app_id, event_type, group_key, entity_key, state, msg_id, sent_at)
     select app_id, event_type, group_key, entity_key, state::jsonb, msg_id, $13
     from unnest($7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[]) u(app_id, event_type, group_key, entity_key, state, msg_id)
     order by app_id, event_type, group_key, entity_key
     on conflict (app_id, event_type, group_key, entity_key) do update
       set state = excluded.state, msg_id = excluded.msg_id, sent_at = excluded.sent_at`,
    [
      flushed.map((f) => f.appId),
      flushed.map((f) => f.eventType),
      flushed.map((f) => f.group),
      msgs.map((m) => m.appId),
      msgs.map((m) => m.id),
      msgs.map((m) => m.into),
      states.map((s) => s.appId),
      states.map((s) => s.eventType),
      states.map((s) => s.group),
      states.map((s) => s.entity),
      states.map((s) => s.state),
      states.map((s) => s.consolidatedInto),
      sentAt,
    ],
  );
}

/** When the earliest open window is due, or null when none is open. */
export async function nextWindowDue(db: Queryable): Promise<Date | null> {
  const { rows } = await db.query<{ due: Date | null }>('select min(due_at) as due from debounce_window');
  return rows[0]?.due ?? null;
}
