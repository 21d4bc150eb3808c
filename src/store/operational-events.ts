/**
 * Operational events: what happened to an integration that someone should hear about (an endpoint
 * created, changed, deleted, disabled or enabled; a message failing, failed for good, recovered).
 *
 * Recording an event does three things in one place, inside the caller's transaction when there is
 * one: it stores the event (the alerts list of the API and dashboard read these rows, the email
 * sender sends the ones marked `notify`), and it publishes the event as a message of Herald's own
 * application, whose endpoints are the operators' operational webhook endpoints, so those are signed,
 * delivered, retried and logged by the same pipeline as every other webhook. The payload is Svix's
 * operational webhook body, `{ "type", "data" }`, with Svix's field names in `data` (plus Herald's
 * `lastError` and `reason`, in words a person can act on).
 *
 * Events about Herald's own application are stored (operators are emailed about their operational
 * webhook endpoint failing) but not published: that would feed the failure of an operational webhook
 * back into the endpoint that is failing.
 */
import { createHash } from 'node:crypto';
import { newId } from '../core/ids.js';
import { OPERATIONAL_APP_ID, type OperationalEventType } from '../core/operational.js';
import { insertMessages, type NewMessage } from './messages.js';
import { keyset, type Keyset, type PageRequest } from './paging.js';
import type { Queryable } from './pool.js';

/** The last attempt of a message event, as Svix's `MessageAttemptFailedData`. */
export interface LastAttempt {
  /** atmpt_… */
  id: string;
  /** HTTP status of the answer; 0 when none arrived. */
  responseStatusCode: number;
  /** When it started. */
  timestamp: Date;
}

/** An event to record. Ids and uids of the application, endpoint and message are looked up here. */
export interface OperationalEventInput {
  /** What happened. */
  type: OperationalEventType;
  /** Application concerned. */
  appId: string;
  /** Endpoint concerned. */
  endpointId: string;
  /** Message concerned (message.attempt.*). */
  msgId?: string | null;
  /** Whether a person is emailed about it. */
  notify: boolean;
  /** Fields of `data` besides the ids: lastAttempt, lastError, trigger, failSince, reason; the uid of a deleted endpoint. */
  data?: Record<string, unknown>;
}

/** A stored operational event. */
export interface OperationalEventRow {
  /** Row id, as text (the API's id and iterator). */
  id: string;
  /** What happened. */
  type: OperationalEventType;
  /** Application concerned. */
  appId: string | null;
  /** Endpoint concerned. */
  endpointId: string | null;
  /** Message concerned. */
  msgId: string | null;
  /** The event's data, as its operational webhook carries it. */
  data: Record<string, unknown>;
  /** Whether a person is emailed about it. */
  notify: boolean;
  /** When its email went out; null until then (or when none is due). */
  emailedAt: Date | null;
  /** When it happened. */
  createdAt: Date;
}

const COLUMNS = `id::text, type, app_id as "appId", endpoint_id as "endpointId", msg_id as "msgId", data, notify,
  emailed_at as "emailedAt", created_at as "createdAt"`;

/**
 * Records events and publishes them to the operational webhook endpoints subscribed to their type.
 * One statement stores them (with uids looked up), one more publishes them when any is publishable.
 */
export async function recordOperationalEvents(db: Queryable, events: OperationalEventInput[], now: Date): Promise<OperationalEventRow[]> {
  if (events.length === 0) return [];
  const { rows } = await db.query<OperationalEventRow>(
    `with input as (
       select * from jsonb_to_recordset($1::jsonb) as t(ord int, type text, app_id text, endpoint_id text, msg_id text, notify bool, extra jsonb)
     )
     insert into operational_event (app_id, endpoint_id, msg_id, type, notify, data, created_at)
     select i.app_id, i.endpoint_id, i.msg_id, i.type, i.notify,
       jsonb_build_object('appId', i.app_id, 'appUid', a.uid, 'endpointId', i.endpoint_id, 'endpointUid', e.uid)
         || case when i.msg_id is null then '{}'::jsonb else jsonb_build_object('msgId', i.msg_id, 'msgEventId', m.event_id) end
         || coalesce(i.extra, '{}'::jsonb),
       $2
     from input i
     left join application a on a.id = i.app_id
     left join endpoint e on e.id = i.endpoint_id
     left join message m on m.id = i.msg_id
     order by i.ord
     returning ${COLUMNS}`,
    [
      JSON.stringify(
        events.map((e, ord) => ({
          ord,
          type: e.type,
          app_id: e.appId,
          endpoint_id: e.endpointId,
          msg_id: e.msgId ?? null,
          notify: e.notify,
          extra: e.data ?? {},
        })),
      ),
      now,
    ],
  );
  const published = rows.filter((r) => r.appId !== OPERATIONAL_APP_ID);
  if (published.length > 0) await insertMessages(db, published.map((r) => operationalMessage(r, now)));
  return rows;
}

/** The message of Herald's own application that carries an event to the operational webhook endpoints. */
function operationalMessage(event: OperationalEventRow, now: Date): NewMessage {
  const payload = Buffer.from(JSON.stringify({ type: event.type, data: event.data }));
  return {
    id: newId('msg', now.getTime()),
    appId: OPERATIONAL_APP_ID,
    channels: null,
    eventType: event.type,
    eventId: null,
    payload,
    payloadHash: createHash('sha256').update(payload).digest(),
    createdAt: now,
  };
}

/** Filters of {@link listOperationalEventsPage}. */
export interface OperationalEventFilter {
  /** Only these types. */
  types?: string[];
  /** Only this application. */
  appId?: string;
  /** Only this endpoint. */
  endpointId?: string;
  /** At or after. */
  since?: Date;
  /** Before. */
  until?: Date;
}

/** One page of operational events, newest first by default, with Svix's iterators (see ./paging.ts). */
export async function listOperationalEventsPage(
  db: Queryable,
  filter: OperationalEventFilter,
  page: PageRequest,
): Promise<{ rows: OperationalEventRow[]; ks: Keyset }> {
  const values: unknown[] = [page.limit + 1];
  const where: string[] = [];
  const add = (sql: (n: number) => string, v: unknown) => {
    values.push(v);
    where.push(sql(values.length));
  };
  if (filter.types?.length) add((n) => `type = any($${n}::text[])`, filter.types);
  if (filter.appId) add((n) => `app_id = $${n}`, filter.appId);
  if (filter.endpointId) add((n) => `endpoint_id = $${n}`, filter.endpointId);
  if (filter.since) add((n) => `created_at >= $${n}`, filter.since);
  if (filter.until) add((n) => `created_at < $${n}`, filter.until);
  // Qualified: the output column `id` is text, and ORDER BY would sort by it. The caller checks the iterator is a row id.
  const ks = keyset('operational_event.id', page, values.length + 1);
  if (ks.cursor !== null) values.push(ks.cursor);
  const { rows } = await db.query<OperationalEventRow>(
    `select ${COLUMNS} from operational_event where ${[...where, ks.where].join(' and ')} order by ${ks.orderBy} limit $1`,
    values,
  );
  return { rows, ks };
}
