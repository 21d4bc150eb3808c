/** The delivery log: attempts, read side. */
import type { Queryable } from './pool.js';
import type { AttemptRecord } from './deliveries.js';

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

/** Attempts of an application, newest first, filtered by message and/or endpoint. */
export async function listAttempts(
  db: Queryable,
  appId: string,
  opts: { msgId?: string; endpointId?: string; limit: number; beforeId?: string | null },
): Promise<AttemptRow[]> {
  const { rows } = await db.query<AttemptRow>(
    `select ${COLUMNS} from attempt a join message m on m.id = a.msg_id
     where a.app_id = $1 and ($2::text is null or a.msg_id = $2) and ($3::text is null or a.endpoint_id = $3)
       and ($4::text is null or a.id < $4)
     order by a.id desc limit $5`,
    [appId, opts.msgId ?? null, opts.endpointId ?? null, opts.beforeId ?? null, opts.limit],
  );
  return rows;
}

/** A delivery's state, as the API's "message endpoint status". */
export interface DeliveryStatusRow {
  /** Endpoint. */
  endpointId: string;
  /** Message. */
  msgId: string;
  /** Lifecycle state. */
  state: string;
  /** Attempts so far. */
  attemptsMade: number;
  /** Next attempt (when pending). */
  nextAttemptAt: Date | null;
  /** Latest status. */
  lastStatus: number | null;
  /** Latest error. */
  lastError: string | null;
  /** Latest attempt time. */
  lastAttemptAt: Date | null;
}

export async function getDelivery(db: Queryable, appId: string, msgId: string, endpointId: string): Promise<DeliveryStatusRow | null> {
  const { rows } = await db.query<DeliveryStatusRow>(
    `select endpoint_id as "endpointId", msg_id as "msgId", state, attempts_made as "attemptsMade",
       case when state = 'pending' then next_attempt_at end as "nextAttemptAt", last_status as "lastStatus",
       last_error as "lastError", last_attempt_at as "lastAttemptAt"
     from delivery where app_id = $1 and msg_id = $2 and endpoint_id = $3`,
    [appId, msgId, endpointId],
  );
  return rows[0] ?? null;
}
