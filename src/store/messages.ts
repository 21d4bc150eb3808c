/**
 * Messages: the publish path (one statement stores the messages and fans them out to deliveries),
 * and the read side of the API (list, get, a test message for one endpoint).
 */
import type { DebounceKeys, DebounceSettings } from '../core/debounce.js';
import { OPERATIONAL_APP_ID } from '../core/operational.js';
import type { Queryable } from './pool.js';
import { newestFirst, type PagePosition } from './attempts.js';
import { messageWindowParams, messageWindowSql, type MessageWindowFilter } from './paging.js';

/** A message ready to insert: already validated, serialised and given an id. */
export interface NewMessage {
  /** msg_… */
  id: string;
  /** Owning application (several applications can share one insert: the publish group commit). */
  appId: string;
  /** Channels given at publish, or null. */
  channels: string[] | null;
  /** Tags given at publish, or null. */
  tags?: string[] | null;
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
  /** End of the message's own payload retention (payloadRetentionPeriod / Hours), or null (docs/retention.md). */
  payloadExpiresAt?: Date | null;
  /**
   * For a message of a debounced event type: its window and entity. It is stored and merged into its
   * window by the same statement, and not fanned out (docs/debounce.md).
   */
  debounce?: NewDebounce | null;
  /** For a consolidated message: the published messages it consolidates. */
  consolidates?: string[] | null;
}

/** Where a published message of a debounced type is merged, with the type's timing. */
export interface NewDebounce extends DebounceKeys {
  /** The type's quiet period, in milliseconds. */
  quietMs: number;
  /** The type's cap, in milliseconds. */
  maxDelayMs: number;
}

/** What became of a published message of a debounced type (null for any other message). */
export type DebounceState = 'waiting' | 'consolidated' | 'unchanged';

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
  /** Tags given at publish (absent where a caller builds a row itself). */
  tags?: string[] | null;
  /** Debounced type: waiting in its window, consolidated, or unchanged (its window sent nothing). */
  debounceState?: DebounceState | null;
  /** Debounced type: the consolidated message that carried it. */
  consolidatedInto?: string | null;
  /** Consolidated message: the published messages it consolidates. */
  consolidates?: string[] | null;
  /** When retention purged the payload (then `{}`), or null (absent where a caller builds a row itself). */
  payloadPurgedAt?: Date | null;
}

/** What happened to one message of a batch. */
export type InsertResult =
  | { inserted: true; id: string; deliveries: number }
  | { inserted: false; id: string; existing: MessageRow };

const MESSAGE_COLUMNS = `id, app_id as "appId", event_type as "eventType", event_id as "eventId",
  payload, payload_hash as "payloadHash", created_at as "createdAt", channels, tags,
  debounce_state as "debounceState", consolidated_into as "consolidatedInto", consolidates, payload_purged_at as "payloadPurgedAt"`;

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
 * SQL that decides whether endpoint `e` receives a message published on the channels `c` (a text[]
 * expression, null for none); mirrors `matchesChannels` in src/core/filters.ts.
 */
export const CHANNEL_MATCH_SQL = (e: string, c: string) =>
  `(${e}.channels is null or cardinality(${e}.channels) = 0 or ${e}.channels && coalesce(${c}, '{}'::text[]))`;

/**
 * JSON escapes that PostgreSQL's jsonb refuses, in a body serialised by JSON.stringify: `\u0000`
 * (NUL) and `\ud800`-`\udfff` (a lone surrogate; pairs are written as themselves), unless an odd
 * run of backslashes before them makes them text (`\\u0000` is a backslash, then "u0000").
 */
const UNREADABLE_JSON = String.raw`(^|[^\\])(\\\\)*\\u(0000|d[89a-f])`;

/**
 * SQL that decides whether endpoint `e` receives the message body `b` (a bytea expression): no
 * payload filter, or the body matches the jsonpath the filter was compiled to when the endpoint was
 * saved; mirrors `matchesPayloadFilter` in src/core/payload-filter.ts (a test keeps the two in
 * agreement). The body is read as jsonb only for endpoints that have a filter, so messages to the
 * others pay nothing; a body jsonb cannot hold (NUL, a lone surrogate) matches no filter, as in the
 * pure rule, instead of failing the statement.
 */
export const PAYLOAD_MATCH_SQL = (e: string, b: string) => `(${e}.payload_filter_path is null or (
  convert_from(${b}, 'UTF8') !~ '${UNREADABLE_JSON}' and convert_from(${b}, 'UTF8')::jsonb @@ ${e}.payload_filter_path))`;

/**
 * Whether endpoint `e` subscribed to a message of type `t` on channels `c` with body `b`: its event
 * types, its channels and its payload filter.
 */
export const SUBSCRIBED_SQL = (e: string, t: string, c: string, b: string) =>
  `(${FILTER_MATCH_SQL(e, t)} and ${CHANNEL_MATCH_SQL(e, c)} and ${PAYLOAD_MATCH_SQL(e, b)})`;

/**
 * The publish statement. With `debounce`, it also carries each message's debounce keys and what a
 * consolidated message consolidates: a message of a debounced type is stored as `waiting`, gets no
 * deliveries, and is merged into its window in the same statement (docs/debounce.md), so a stored
 * message is never outside its window, whatever happens to the process next.
 */
function insertSql(debounce: boolean): string {
  const d = (sql: string) => (debounce ? sql : '');
  return `with input as (
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::bytea[], $7::timestamptz[], $8::text[], $9::text[], $10::timestamptz[]${d(
         ', $11::text[], $12::text[], $13::text[], $14::int[], $15::int[], $16::text[]')})
         as t(id, app_id, event_type, event_id, payload, payload_hash, created_at, channels, tags, payload_expires_at${d(', group_key, entity_key, state, quiet_ms, max_delay_ms, consolidates')})
     ), ins as (
       insert into message (id, app_id, event_type, event_id, payload, payload_hash, created_at, channels, tags, payload_expires_at${d(', debounce_state, debounce_group, consolidates')})
       select id, app_id, event_type, event_id, payload, payload_hash, created_at, string_to_array(channels, ','), string_to_array(tags, ','), payload_expires_at${d(
         ", case when group_key is not null then 'waiting' end, group_key, string_to_array(consolidates, ',')")}
       from input
       on conflict (app_id, event_id) where event_id is not null do nothing
       returning id, app_id, event_type, channels, created_at, payload${d(', debounce_state')}
     ), fan as (
       -- A paused endpoint (disabled by a person) gets its deliveries held: pending, not claimed until
       -- it is enabled. One disabled automatically gets them as skipped, so recover can bring them back.
       insert into delivery (app_id, msg_id, endpoint_id, state, next_attempt_at, created_at, last_error)
       select ins.app_id, ins.id, e.id, case when e.disabled and e.disabled_by = 'auto' then 'skipped' else 'pending' end,
         ins.created_at, ins.created_at,
         case when e.disabled and e.disabled_by = 'auto' then '${SKIPPED_DISABLED}' end
       from ins join endpoint e on e.app_id = ins.app_id and ${SUBSCRIBED_SQL('e', 'ins.event_type', 'ins.channels', 'ins.payload')}
       ${d('where ins.debounce_state is null -- debounced: sent later, within a consolidated message')}
       -- Delivery ids in publish order (message ids are ordered): strict-order lanes and paused lanes
       -- send by (due time, id), and a batch shares one due time.
       order by ins.id, e.id
       returning msg_id, state
     )${d(MERGE_SQL)}
     select ins.id, coalesce(f.n, 0)::int as deliveries
     from ins left join (select msg_id, count(*) filter (where state <> 'skipped') as n from fan group by msg_id) f on f.msg_id = ins.id
       cross join (select pg_notify('herald_due', '')) n`;
}

/**
 * Merges the debounced messages the statement inserted (not those whose eventId was already used)
 * into their windows: one row per (application, event type, group), the latest state of each entity
 * winning (message ids are time-ordered), opened by its first message. Rows are written in key order,
 * so two statements merging into the same windows wait for each other instead of deadlocking.
 */
const MERGE_SQL = `, changes as (
       select i.app_id, i.event_type, i.group_key, i.entity_key, i.state::jsonb as state, i.id, i.created_at,
         i.quiet_ms, i.max_delay_ms, ins.channels
       from ins join input i on i.id = ins.id where ins.debounce_state is not null
     ), groups as (
       select app_id, event_type, group_key, min(created_at) as opened_at, max(created_at) as last_change_at,
         (array_agg(quiet_ms order by id desc))[1] as quiet_ms, (array_agg(max_delay_ms order by id desc))[1] as max_delay_ms,
         jsonb_object_agg(entity_key, state order by id) as entities, count(*) as messages,
         (select array_agg(distinct c) from changes c2, unnest(c2.channels) c
          where (c2.app_id, c2.event_type, c2.group_key) = (g.app_id, g.event_type, g.group_key)) as channels
       from changes g group by app_id, event_type, group_key
     ), merged as (
       insert into debounce_window as w (app_id, event_type, group_key, opened_at, last_change_at, quiet_ms, max_delay_ms,
         due_at, entities, messages, channels)
       select app_id, event_type, group_key, opened_at, last_change_at, quiet_ms, max_delay_ms,
         least(last_change_at + quiet_ms * interval '1 millisecond', opened_at + max_delay_ms * interval '1 millisecond'),
         entities, messages, channels
       from groups order by app_id, event_type, group_key
       on conflict (app_id, event_type, group_key) do update set
         entities = w.entities || excluded.entities,
         messages = w.messages + excluded.messages,
         channels = (select array_agg(distinct c) from unnest(w.channels || excluded.channels) c),
         last_change_at = greatest(w.last_change_at, excluded.last_change_at),
         quiet_ms = excluded.quiet_ms,
         max_delay_ms = excluded.max_delay_ms,
         due_at = least(greatest(w.last_change_at, excluded.last_change_at) + excluded.quiet_ms * interval '1 millisecond',
           w.opened_at + excluded.max_delay_ms * interval '1 millisecond')
     )`;
const INSERT_SQL = insertSql(false);
const INSERT_DEBOUNCED_SQL = insertSql(true);

/**
 * Inserts messages (of one or several applications) and, in the same statement, one pending delivery
 * per endpoint of the message's application subscribed to its event type and channels; then notifies waiting
 * workers (delivered at commit). A message whose eventId already exists is not inserted and the stored
 * one is returned instead. Two round trips at most for any batch: this is the publish hot path.
 *
 * Cost, per message: the message row (3 index entries) and, per delivery, the row (5 index entries)
 * and two foreign-key checks; the counts per message are one hash aggregate over what was inserted,
 * not a scan per message (that made a batch of 1,000 messages to 4 endpoints cost 600 ms instead of 60).
 */
export async function insertMessages(db: Queryable, batch: NewMessage[]): Promise<InsertResult[]> {
  // Channels and tags travel as one text per message ("a,b"; their names cannot hold a comma):
  // PostgreSQL arrays cannot be ragged, so a text[][] parameter cannot carry them.
  const params: unknown[] = [
    batch.map((m) => m.id),
    batch.map((m) => m.appId),
    batch.map((m) => m.eventType),
    batch.map((m) => m.eventId),
    batch.map((m) => m.payload),
    batch.map((m) => m.payloadHash),
    batch.map((m) => m.createdAt),
    batch.map((m) => (m.channels?.length ? m.channels.join(',') : null)),
    batch.map((m) => (m.tags?.length ? m.tags.join(',') : null)),
    batch.map((m) => m.payloadExpiresAt ?? null),
  ];
  // The one extra condition messages of other types pay: a batch without debounced or consolidated
  // messages runs the statement as it always was.
  const debounced = batch.some((m) => m.debounce || m.consolidates);
  if (debounced) {
    params.push(
      batch.map((m) => m.debounce?.group ?? null),
      batch.map((m) => m.debounce?.entity ?? null),
      batch.map((m) => (m.debounce ? JSON.stringify(m.debounce.state) : null)),
      batch.map((m) => m.debounce?.quietMs ?? null),
      batch.map((m) => m.debounce?.maxDelayMs ?? null),
      batch.map((m) => (m.consolidates?.length ? m.consolidates.join(',') : null)),
    );
  }
  const { rows } = await db.query<{ id: string; deliveries: number }>(debounced ? INSERT_DEBOUNCED_SQL : INSERT_SQL, params);
  const inserted = new Map(rows.map((r) => [r.id, r.deliveries]));
  const missing = batch.filter((m) => !inserted.has(m.id));
  const existing = new Map<string, MessageRow>();
  if (missing.length > 0) {
    const found = await db.query<MessageRow>(
      `select ${MESSAGE_COLUMNS} from message
       where event_id is not null and (app_id, event_id) in (select * from unnest($1::text[], $2::text[]))`,
      [missing.map((m) => m.appId), missing.map((m) => m.eventId)],
    );
    for (const r of found.rows) existing.set(`${r.appId}\u0000${r.eventId ?? ''}`, r);
  }
  return batch.map((m): InsertResult => {
    const deliveries = inserted.get(m.id);
    if (deliveries !== undefined) return { inserted: true, id: m.id, deliveries };
    const prior = existing.get(`${m.appId}\u0000${m.eventId ?? ''}`);
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
  /**
   * md5 of the `schemas` of the published event types that have one: the key of their compiled
   * validators (src/engine/schemas.ts), so a changed schema is never checked with an old validator.
   */
  typeSchemas: Record<string, string>;
  /** Debounce settings of the published event types that are debounced (docs/debounce.md). */
  typeDebounce: Record<string, DebounceSettings>;
}

/**
 * Finds applications by id or uid (never Herald's own: its operational events are published by
 * store/operational-events.ts) and, in the same round trip, the envelopes of the event types being
 * published and the hashes of their schemas: the publish path pays one query for every application
 * of a group commit, envelopes and schema checks included. Keys that match no application are absent from the result.
 */
export async function getPublishTargets(db: Queryable, idsOrUids: string[], eventTypes: string[]): Promise<Map<string, PublishTarget>> {
  const { rows } = await db.query<PublishTarget & { key: string }>(
    `with types as (
       select coalesce(json_object_agg(name, envelope) filter (where envelope is not null), '{}'::json) as envelopes,
         coalesce(json_object_agg(name, md5(schemas::text)) filter (where schemas is not null), '{}'::json) as schemas,
         coalesce(json_object_agg(name, debounce) filter (where debounce is not null), '{}'::json) as debounce
       from event_type
       where name = any($2::text[]) and (envelope is not null or schemas is not null or debounce is not null)
     )
     select k.key, a.id, a.uid, a.envelope, types.envelopes as "typeEnvelopes", types.schemas as "typeSchemas", types.debounce as "typeDebounce"
     from unnest($1::text[]) k(key)
     cross join lateral (
       select id, uid, envelope from application
       where (id = k.key or uid = k.key) and id <> '${OPERATIONAL_APP_ID}' -- only Herald publishes to its own
       order by (id = k.key) desc limit 1
     ) a cross join types`,
    [idsOrUids, eventTypes],
  );
  return new Map(rows.map(({ key, ...target }) => [key, target]));
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

/** Filters of a message list. */
export interface MessageFilter extends MessageWindowFilter {
  /** Load payloads. */
  withPayload?: boolean;
  /** Only messages with this tag. */
  tag?: string | null;
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
    `select m.id, m.app_id as "appId", m.event_type as "eventType", m.event_id as "eventId", m.channels, m.tags,
       m.created_at as "createdAt", case when $9 then m.payload end as payload,
       m.debounce_state as "debounceState", m.consolidated_into as "consolidatedInto", m.consolidates,
       m.payload_purged_at as "payloadPurgedAt"
     from message m
     where m.app_id = $1 and ${messageWindowSql('m.created_at', 2)}
       and ($10::text is null or $10 = any(m.tags))
       and ${page.where}
     order by ${page.order} limit $6`,
    [
      appId,
      ...messageWindowParams(f),
      ks.limit + 1,
      ks.cursor,
      ks.cursorTime,
      f.withPayload ?? true,
      f.tag ?? null,
    ],
  );
  return rows;
}

/**
 * Stores a message with exactly one delivery, to `endpointId`, whatever the other endpoints
 * subscribe to (a test event must not reach anyone else). Null when the endpoint is not the
 * application's. A message whose eventId already exists is not inserted and the stored one is
 * returned, as in {@link insertMessages}. Workers are notified at commit, as for a publish.
 */
export async function insertMessageForEndpoint(
  db: Queryable,
  appId: string,
  endpointId: string,
  m: NewMessage,
): Promise<InsertResult | null> {
  const { rows } = await db.query<{ endpoint: number; deliveries: number }>(
    `with ep as (
       select id from endpoint where app_id = $1 and id = $2
     ), ins as (
       insert into message (id, app_id, event_type, event_id, payload, payload_hash, created_at, channels, tags)
       select $3, $1, $4, $5, $6, $7, $8, $9::text[], $10::text[] from ep
       on conflict (app_id, event_id) where event_id is not null do nothing
       returning id, created_at
     ), d as (
       insert into delivery (app_id, msg_id, endpoint_id, state, next_attempt_at, created_at)
       select $1, ins.id, $2, 'pending', ins.created_at, ins.created_at from ins
       returning id
     )
     select (select count(*) from ep)::int as endpoint, (select count(*) from d)::int as deliveries
     from (select pg_notify('herald_due', '')) n`,
    [appId, endpointId, m.id, m.eventType, m.eventId, m.payload, m.payloadHash, m.createdAt, m.channels, m.tags ?? null],
  );
  const r = rows[0]!;
  if (r.endpoint === 0) return null;
  if (r.deliveries === 1) return { inserted: true, id: m.id, deliveries: 1 };
  const { rows: found } = await db.query<MessageRow>(
    `select ${MESSAGE_COLUMNS} from message where app_id = $1 and event_id = $2`,
    [appId, m.eventId],
  );
  if (!found[0]) throw new Error(`message ${m.id} was neither inserted nor found by eventId`);
  return { inserted: false, id: found[0].id, existing: found[0] };
}
