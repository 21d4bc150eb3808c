/** The delivery log: attempts, read side. */
import type { Queryable } from './pool.js';
import type { AttemptRecord } from './deliveries.js';
import { messageWindowParams, messageWindowSql, type MessageWindowFilter } from './paging.js';

/** An attempt as stored, with its ids. */
export interface AttemptRow extends AttemptRecord {
  /** Owning application. */
  appId: string;
  /** Message. */
  msgId: string;
  /** Endpoint. */
  endpointId: string;
  /** Event type of the message. */
  eventType: string;
}

const COLUMNS = `a.id, a.app_id as "appId", a.msg_id as "msgId", a.endpoint_id as "endpointId", m.event_type as "eventType",
  a.attempt_number as "attemptNumber", a.trigger, a.url, a.request_headers as "requestHeaders",
  a.response_status as "responseStatus", a.response_headers as "responseHeaders", a.response_body as "responseBody",
  a.response_truncated as "responseTruncated", a.duration_ms as "durationMs", a.error_stage as "errorStage",
  a.error_message as "errorMessage", a.succeeded, a.created_at as "createdAt"`;

/**
 * A position in a keyset-paginated list (never OFFSET): the page continues after `cursor` in the
 * list's order ('next') or walks back before it ('prev', read in reverse and flipped by the API).
 */
export interface PagePosition {
  /** Id of the row the page starts from, exclusive; null for the first page. */
  cursor: string | null;
  /** Creation time embedded in the cursor id; used when the cursor row no longer exists. */
  cursorTime: Date | null;
  /** 'next' continues in list order; 'prev' goes back towards the start. */
  direction: 'next' | 'prev';
  /** Page size; queries fetch one more row to learn whether another page exists. */
  limit: number;
}

/**
 * The cursor condition and order of a newest-first list keyed by (time, id). The extra
 * `time <= cursor time` bound lets the (…, created_at desc) index start the scan at the cursor
 * instead of filtering every newer row (which would cost what an OFFSET costs).
 */
export function newestFirst(time: string, id: string, cursorTime: string, cursor: string, dir: PagePosition['direction']) {
  const [cmp, rowCmp, order] = dir === 'next' ? ['<=', '<', 'desc'] : ['>=', '>', 'asc'];
  return {
    where: `(${cursor}::text is null or (${time} ${cmp} ${cursorTime} and (${time}, ${id}) ${rowCmp} (${cursorTime}, ${cursor})))`,
    order: `${time} ${order}, ${id} ${order}`,
  };
}

/** Filters of the delivery log (all optional; combined with AND). */
export interface AttemptFilter extends MessageWindowFilter {
  /** Only this endpoint's attempts. */
  endpointId?: string | null;
  /** Only this message's attempts. */
  msgId?: string | null;
  /** true = succeeded only, false = failed only, 'none' = nothing matches (statuses attempts never have). */
  succeeded?: boolean | 'none' | null;
  /** HTTP status class: 0 = no response, 100/200/300/400/500 = that hundred. */
  statusClass?: number | null;
  /** Load the message payload too (with_msg). */
  withPayload?: boolean;
}

/** An attempt with the message fields the delivery log shows beside it. */
export interface AttemptLogRow extends AttemptRow {
  /** The message's eventId (the publisher's key, for reconciliation). */
  eventId: string | null;
  /** Channels of the message. */
  channels: string[] | null;
  /** Message publish time. */
  msgCreatedAt: Date;
  /** Exact request body (the message payload), when asked for. */
  payload: Buffer | null;
  /** When retention purged the message's payload, or null. */
  payloadPurgedAt: Date | null;
}

const LOG_COLUMNS = `${COLUMNS}, m.event_id as "eventId", m.channels, m.created_at as "msgCreatedAt", m.payload_purged_at as "payloadPurgedAt"`;

/**
 * One page of the delivery log of an application, newest first, filtered. Uses
 * attempt (endpoint_id, created_at desc) or (msg_id, created_at desc) for the scan and the order.
 */
export async function listAttemptLog(db: Queryable, appId: string, f: AttemptFilter, ks: PagePosition): Promise<AttemptLogRow[]> {
  if (f.succeeded === 'none') return [];
  const cur = `coalesce((select c.created_at from attempt c where c.id = $11), $12::timestamptz)`;
  const page = newestFirst('a.created_at', 'a.id', cur, '$11', ks.direction);
  const { rows } = await db.query<AttemptLogRow>(
    `select ${LOG_COLUMNS}, case when $13 then m.payload end as payload
     from attempt a join message m on m.id = a.msg_id
     where a.app_id = $1 and ($2::text is null or a.endpoint_id = $2) and ($3::text is null or a.msg_id = $3)
       and ($4::bool is null or a.succeeded = $4)
       and ($5::int is null or (case when $5 = 0 then a.response_status is null
                                     else a.response_status >= $5 and a.response_status < $5 + 100 end))
       and ${messageWindowSql('a.created_at', 6)}
       and ${page.where}
     order by ${page.order} limit $10`,
    [
      appId,
      f.endpointId ?? null,
      f.msgId ?? null,
      f.succeeded ?? null,
      f.statusClass ?? null,
      ...messageWindowParams(f),
      ks.limit + 1,
      ks.cursor,
      ks.cursorTime,
      f.withPayload ?? false,
    ],
  );
  return rows;
}

/** One attempt of a message, with the request body that was sent (the payload). */
export async function getAttempt(db: Queryable, appId: string, msgId: string, attemptId: string): Promise<AttemptLogRow | null> {
  const { rows } = await db.query<AttemptLogRow>(
    `select ${LOG_COLUMNS}, m.payload from attempt a join message m on m.id = a.msg_id
     where a.app_id = $1 and a.msg_id = $2 and a.id = $3`,
    [appId, msgId, attemptId],
  );
  return rows[0] ?? null;
}

/** Delivery states, as stored. */
export type DeliveryState = 'pending' | 'sending' | 'succeeded' | 'failed' | 'skipped';

/** A delivery's latest state, as the delivery lists show it. */
export interface DeliveryInfo {
  /** Lifecycle state. */
  state: DeliveryState;
  /** Next attempt time while pending, else null. */
  nextAttemptAt: Date | null;
  /** Attempts so far. */
  attemptsMade: number;
  /** HTTP status of the latest attempt. */
  lastStatus: number | null;
  /** Why the latest attempt failed, or why it was skipped. */
  lastError: string | null;
  /** When the latest attempt ran. */
  lastAttemptAt: Date | null;
}

const DELIVERY_INFO = `d.state, case when d.state = 'pending' then d.next_attempt_at end as "nextAttemptAt",
  d.attempts_made as "attemptsMade", d.last_status as "lastStatus", d.last_error as "lastError",
  d.last_attempt_at as "lastAttemptAt"`;

/** A message of an endpoint with its delivery's state (Svix "list attempted messages"). */
export interface EndpointDeliveryRow extends DeliveryInfo {
  /** Message id. */
  id: string;
  /** Event type. */
  eventType: string;
  /** Publisher's key. */
  eventId: string | null;
  /** Channels. */
  channels: string[] | null;
  /** Payload, when asked for. */
  payload: Buffer | null;
  /** Publish time. */
  createdAt: Date;
  /** When retention purged the payload, or null. */
  payloadPurgedAt: Date | null;
}

/** Filters of an endpoint's messages. */
export interface EndpointDeliveryFilter extends MessageWindowFilter {
  /** Only deliveries in this state. */
  state?: DeliveryState | null;
  /** Load payloads. */
  withPayload?: boolean;
}

/** An endpoint's messages, newest first, with delivery state; scans delivery (endpoint_id, created_at desc). */
export async function listEndpointDeliveries(
  db: Queryable,
  appId: string,
  endpointId: string,
  f: EndpointDeliveryFilter,
  ks: PagePosition,
): Promise<EndpointDeliveryRow[]> {
  const cur = `coalesce((select c.created_at from delivery c where c.msg_id = $9 and c.endpoint_id = $2), $10::timestamptz)`;
  const page = newestFirst('d.created_at', 'd.msg_id', cur, '$9', ks.direction);
  const { rows } = await db.query<EndpointDeliveryRow>(
    `select m.id, m.event_type as "eventType", m.event_id as "eventId", m.channels, m.created_at as "createdAt",
       case when $11 then m.payload end as payload, m.payload_purged_at as "payloadPurgedAt", ${DELIVERY_INFO}
     from delivery d join message m on m.id = d.msg_id
     where d.app_id = $1 and d.endpoint_id = $2 and ($3::text is null or d.state = $3)
       and ${messageWindowSql('d.created_at', 4)}
       and ${page.where}
     order by ${page.order} limit $8`,
    [
      appId,
      endpointId,
      f.state ?? null,
      ...messageWindowParams(f),
      ks.limit + 1,
      ks.cursor,
      ks.cursorTime,
      f.withPayload ?? true,
    ],
  );
  return rows;
}

/** An endpoint a message was (or is being) delivered to (Svix "list attempted destinations"). */
export interface MessageDeliveryRow extends DeliveryInfo {
  /** Endpoint id. */
  id: string;
  /** Endpoint uid. */
  uid: string | null;
  /** Endpoint URL. */
  url: string;
  /** Endpoint description. */
  description: string;
  /** Endpoint disabled. */
  disabled: boolean;
  /** Subscribed event types. */
  filterTypes: string[] | null;
  /** Endpoint channels. */
  channels: string[] | null;
  /** Requests/s limit. */
  rateLimit: number | null;
  /** Endpoint creation. */
  createdAt: Date;
  /** Endpoint last change. */
  updatedAt: Date;
}

/** A message's endpoints in endpoint id order; scans the unique (msg_id, endpoint_id) index. */
export async function listMessageDeliveries(db: Queryable, appId: string, msgId: string, ks: PagePosition): Promise<MessageDeliveryRow[]> {
  const [cmp, order] = ks.direction === 'next' ? ['>', 'asc'] : ['<', 'desc'];
  const { rows } = await db.query<MessageDeliveryRow>(
    `select e.id, e.uid, e.url, e.description, e.disabled, e.filter_types as "filterTypes", e.channels,
       e.rate_limit as "rateLimit", e.created_at as "createdAt", e.updated_at as "updatedAt", ${DELIVERY_INFO}
     from delivery d join endpoint e on e.id = d.endpoint_id
     where d.app_id = $1 and d.msg_id = $2 and ($3::text is null or d.endpoint_id ${cmp} $3)
     order by d.endpoint_id ${order} limit $4`,
    [appId, msgId, ks.cursor, ks.limit + 1],
  );
  return rows;
}
