/**
 * Messages: the publish path (one statement stores the messages and fans them out to deliveries),
 * and the read side of the API (list, get, a test message for one endpoint).
 */
import type { Queryable } from './pool.js';
import { newestFirst, type PagePosition } from './attempts.js';
import { messageWindowParams, messageWindowSql, type MessageWindowFilter } from './paging.js';

/** A message ready to insert: already validated, serialised and given an id. */
export interface NewMessage {
  /** msg_… */
  id: string;
  /** Event type name. */
  eventType: string;
  /** Publisher's idempotency key, or null. */
  eventId: string | null;
  /** Exact request body. */
  payload: Buffer;
  /** sha256 of payload. */
  payloadHash: Buffer;
  /** Publish time. */
  createdAt: Date;
}

/** A stored message. */
export interface MessageRow {
  /** msg_… */
  id: string;
  /** Owning application. */
  appId: string;
  /** Event type name. */
  eventType: string;
  /** Publisher's idempotency key. */
  eventId: string | null;
  /** Exact body bytes. */
  payload: Buffer;
  /** sha256 of payload. */
  payloadHash: Buffer;
  /** Publish time. */
  createdAt: Date;
  /** Channels given at publish (absent where a caller builds a row itself). */
  channels?: string[] | null;
}

/** What happened to one message of a batch. */
export type InsertResult =
  | { inserted: true; id: string; deliveries: number }
  | { inserted: false; id: string; existing: MessageRow };

const MESSAGE_COLUMNS = `id, app_id as "appId", event_type as "eventType", event_id as "eventId",
  payload, payload_hash as "payloadHash", created_at as "createdAt", channels`;

/** Why a delivery to an automatically disabled endpoint was not sent (no quotes: it is inlined in SQL). */
export const SKIPPED_DISABLED = 'endpoint disabled: not sent; enable the endpoint and recover to deliver it';

/**
 * SQL that decides whether endpoint `e` subscribed to the event type `t`; mirrors
 * `matchesEventType` in src/core/filters.ts (a test keeps the two in agreement).
 */
export const FILTER_MATCH_SQL = (e: string, t: string) => `(
  ${e}.filter_types is null or cardinality(${e}.filter_types) = 0 or exists (
    select 1 from unnest(${e}.filter_types) f
    where f = ${t} or f = '*' or (right(f, 2) = '.*' and starts_with(${t}, left(f, -1)))))`;

/**
 * Inserts messages and, in the same statement, one pending delivery per enabled endpoint of the
 * application whose filter matches; then notifies waiting workers (delivered at commit). A message
 * whose eventId already exists is not inserted and the stored one is returned instead.
 * Three round trips at most for any batch size: this is the publish hot path.
 */
export async function insertMessages(db: Queryable, appId: string, batch: NewMessage[]): Promise<InsertResult[]> {
  const { rows } = await db.query<{ id: string; deliveries: number }>(
    `with input as (
       select * from unnest($2::text[], $3::text[], $4::text[], $5::bytea[], $6::bytea[], $7::timestamptz[])
         as t(id, event_type, event_id, payload, payload_hash, created_at)
     ), ins as (
       insert into message (id, app_id, event_type, event_id, payload, payload_hash, created_at)
       select id, $1, event_type, event_id, payload, payload_hash, created_at from input
       on conflict (app_id, event_id) where event_id is not null do nothing
       returning id, event_type, created_at
     ), fan as (
       -- A paused endpoint (disabled by a person) gets its deliveries held: pending, not claimed until
       -- it is enabled. One disabled automatically gets them as skipped, so recover can bring them back.
       insert into delivery (app_id, msg_id, endpoint_id, state, next_attempt_at, created_at, last_error)
       select $1, ins.id, e.id, case when e.disabled and e.disabled_by = 'auto' then 'skipped' else 'pending' end,
         ins.created_at, ins.created_at,
         case when e.disabled and e.disabled_by = 'auto' then '${SKIPPED_DISABLED}' end
       from ins join endpoint e on e.app_id = $1 and ${FILTER_MATCH_SQL('e', 'ins.event_type')}
       returning msg_id, state
     )
     select ins.id, (select count(*) from fan where fan.msg_id = ins.id and fan.state <> 'skipped')::int as deliveries
     from ins cross join (select pg_notify('herald_due', '')) n`,
    [
      appId,
      batch.map((m) => m.id),
      batch.map((m) => m.eventType),
      batch.map((m) => m.eventId),
      batch.map((m) => m.payload),
      batch.map((m) => m.payloadHash),
      batch.map((m) => m.createdAt),
    ],
  );
  const inserted = new Map(rows.map((r) => [r.id, r.deliveries]));
  const missingEventIds = batch.filter((m) => !inserted.has(m.id)).map((m) => m.eventId);
  const existing = new Map<string, MessageRow>();
  if (missingEventIds.length > 0) {
    const found = await db.query<MessageRow>(
      `select ${MESSAGE_COLUMNS} from message where app_id = $1 and event_id = any($2::text[])`,
      [appId, missingEventIds],
    );
    for (const r of found.rows) existing.set(r.eventId ?? '', r);
  }
  return batch.map((m): InsertResult => {
    const deliveries = inserted.get(m.id);
    if (deliveries !== undefined) return { inserted: true, id: m.id, deliveries };
    const prior = existing.get(m.eventId ?? '');
    if (!prior) throw new Error(`message ${m.id} was neither inserted nor found by eventId`);
    return { inserted: false, id: prior.id, existing: prior };
  });
}

/** The application a publish goes to, with the envelopes that shape its bodies. */
export interface PublishTarget {
  /** Application id. */
  id: string;
  /** Application uid. */
  uid: string | null;
  /** The application's envelope template, or null. */
  envelope: Record<string, unknown> | null;
  /** Envelope templates of the published event types that have one (they win over the application's). */
  typeEnvelopes: Record<string, Record<string, unknown>>;
}

/**
 * Finds the application by id or uid and, in the same round trip, the envelopes of the event types
 * being published: the publish path pays no extra query for envelopes.
 */
export async function getPublishTarget(db: Queryable, idOrUid: string, eventTypes: string[]): Promise<PublishTarget | null> {
  const { rows } = await db.query<PublishTarget>(
    `select a.id, a.uid, a.envelope,
       coalesce((select json_object_agg(name, envelope) from event_type
                 where name = any($2::text[]) and envelope is not null), '{}'::json) as "typeEnvelopes"
     from application a where a.id = $1 or a.uid = $1 order by (a.id = $1) desc limit 1`,
    [idOrUid, eventTypes],
  );
  return rows[0] ?? null;
}

/** One message of an application. */
export async function getMessage(db: Queryable, appId: string, msgId: string): Promise<MessageRow | null> {
  const { rows } = await db.query<MessageRow>(
    `select ${MESSAGE_COLUMNS} from message where app_id = $1 and (id = $2 or event_id = $2)
     order by (id = $2) desc limit 1`,
    [appId, msgId],
  );
  return rows[0] ?? null;
}

/** Records the channels of a just-published message (same transaction as the publish). */
export async function setMessageChannels(db: Queryable, appId: string, msgId: string, channels: string[]): Promise<void> {
  await db.query('update message set channels = $3 where app_id = $1 and id = $2', [appId, msgId, channels]);
}

/** Filters of a message list. */
export interface MessageFilter extends MessageWindowFilter {
  /** Load payloads. */
  withPayload?: boolean;
}

/** A message as lists show it; the payload only when asked for. */
export type MessageListRow = Omit<MessageRow, 'payloadHash' | 'payload'> & { payload: Buffer | null };

/**
 * One page of an application's messages, newest first; scans message (app_id, created_at desc).
 * The event type filter is applied on that scan: no index per type, so the publish path keeps
 * writing one index entry less.
 */
export async function listMessages(db: Queryable, appId: string, f: MessageFilter, ks: PagePosition): Promise<MessageListRow[]> {
  const cur = `coalesce((select c.created_at from message c where c.id = $7), $8::timestamptz)`;
  const page = newestFirst('m.created_at', 'm.id', cur, '$7', ks.direction);
  const { rows } = await db.query<MessageListRow>(
    `select m.id, m.app_id as "appId", m.event_type as "eventType", m.event_id as "eventId", m.channels,
       m.created_at as "createdAt", case when $9 then m.payload end as payload
     from message m
     where m.app_id = $1 and ${messageWindowSql('m.created_at', 2)}
       and ${page.where}
     order by ${page.order} limit $6`,
    [
      appId,
      ...messageWindowParams(f),
      ks.limit + 1,
      ks.cursor,
      ks.cursorTime,
      f.withPayload ?? true,
    ],
  );
  return rows;
}

/**
 * Stores a message with exactly one delivery, to `endpointId`, whatever the other endpoints
 * subscribe to (a test event must not reach anyone else). Returns false when the endpoint is not
 * the application's. Workers are notified at commit, as for a publish.
 */
export async function insertMessageForEndpoint(
  db: Queryable,
  appId: string,
  endpointId: string,
  m: NewMessage,
): Promise<boolean> {
  const { rows } = await db.query<{ n: number }>(
    `with ins as (
       insert into message (id, app_id, event_type, event_id, payload, payload_hash, created_at)
       select $3, $1, $4, $5, $6, $7, $8 where exists (select 1 from endpoint where app_id = $1 and id = $2)
       returning id, created_at
     ), d as (
       insert into delivery (app_id, msg_id, endpoint_id, state, next_attempt_at, created_at)
       select $1, ins.id, $2, 'pending', ins.created_at, ins.created_at from ins
       returning id
     )
     select (select count(*) from d)::int as n from (select pg_notify('herald_due', '')) n`,
    [appId, endpointId, m.id, m.eventType, m.eventId, m.payload, m.payloadHash, m.createdAt],
  );
  return rows[0]!.n === 1;
}
