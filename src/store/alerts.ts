/**
 * Queries of the alert email sender (src/alerts/email-sender.ts): which endpoints have events waiting
 * for an email, what those events say, and what was sent. An event waits for an audience while it is
 * `notify` and that audience's column is null: `emailed_at` for the operators, `contact_emailed_at`
 * for the application's contact. Setting the column means "handled": emailed, or nobody to tell.
 */
import type { Audience } from '../alerts/email-compose.js';
import { OPERATIONAL_APP_ID } from '../core/operational.js';
import type { Queryable } from './pool.js';

/** The column that says an event was handled for an audience (fixed names, never user input). */
const HANDLED: Record<Audience, string> = { operators: 'emailed_at', contact: 'contact_emailed_at' };

/** An endpoint with events waiting for one audience, due for an email. */
export interface DueAlertGroup {
  /** The endpoint's application. */
  appId: string;
  /** The endpoint. */
  endpointId: string;
  /** SMTP failures in a row of this group's email so far. */
  failures: number;
}

/**
 * Marks, without sending, events of `audience` that nobody will be told about: all of them when
 * `everything` (alerts turned off in the settings, or no recipients), events older than `staleBefore` (an SMTP server down
 * for days: old news is not mailed late), events without an endpoint, and for the contact audience
 * events of applications without a contact address (and of Herald's own application). At most
 * `limit` rows per call; returns how many were marked.
 */
export async function markUnreachableAlerts(
  db: Queryable,
  audience: Audience,
  opts: { everything: boolean; staleBefore: Date; now: Date; limit: number },
): Promise<number> {
  const col = HANDLED[audience];
  const noContact = audience === 'contact' ? `or a.alert_email is null or o.app_id = '${OPERATIONAL_APP_ID}'` : '';
  const { rowCount } = await db.query(
    `update operational_event set ${col} = $1 where id in (
       select o.id from operational_event o left join application a on a.id = o.app_id
       where o.notify and o.${col} is null
         and ($2 or o.created_at < $3 or o.endpoint_id is null or o.app_id is null ${noContact})
       order by o.id limit $4)`,
    [opts.now, opts.everything, opts.staleBefore, opts.limit],
  );
  return rowCount ?? 0;
}

/**
 * Endpoints with events waiting for `audience` whose window is over (never emailed, or last emailed
 * at least `windowMs` before `now`) and that are not backing off after an SMTP failure; the oldest
 * waiting first, at most `limit`.
 */
export async function listDueAlertGroups(db: Queryable, audience: Audience, now: Date, windowMs: number, limit: number): Promise<DueAlertGroup[]> {
  const col = HANDLED[audience];
  const { rows } = await db.query<DueAlertGroup>(
    `select p.app_id as "appId", p.endpoint_id as "endpointId", coalesce(s.failures, 0) as failures
     from (select app_id, endpoint_id, min(id) as first_id from operational_event
           where notify and ${col} is null and endpoint_id is not null and app_id is not null
           group by app_id, endpoint_id) p
     left join alert_email_state s on s.endpoint_id = p.endpoint_id and s.audience = $1
     where (s.last_emailed_at is null or s.last_emailed_at <= $2::timestamptz - make_interval(secs => $3::double precision / 1000))
       and (s.retry_at is null or s.retry_at <= $2)
     order by p.first_id limit $4`,
    [audience, now, windowMs, limit],
  );
  return rows;
}

/** The events one email covers, counted. */
export interface AlertBatch {
  /** Their ids (marked once the email is sent). */
  ids: string[];
  /** When the first and last happened. */
  firstAt: Date;
  /** When the last happened. */
  lastAt: Date;
  /** Messages whose latest event here is message.attempt.exhausted. */
  exhausted: number;
  /** … message.attempt.failing (still retrying). */
  failing: number;
  /** … message.attempt.recovered. */
  recovered: number;
  /** Whether more events were waiting than `cap`. */
  more: boolean;
}

/**
 * The events of one endpoint waiting for `audience`, oldest first, at most `cap`: their ids and, per
 * message, its latest state (a message that failed and then recovered in one window counts once, as
 * recovered). Null when none are waiting.
 */
export async function loadAlertBatch(db: Queryable, appId: string, endpointId: string, audience: Audience, cap: number): Promise<AlertBatch | null> {
  const col = HANDLED[audience];
  const { rows } = await db.query<AlertBatch & { ids: string[] | null }>(
    `with batch as (
       select id, type, msg_id, created_at from operational_event
       where app_id = $1 and endpoint_id = $2 and notify and ${col} is null
       order by id limit $3 + 1
     ), counted as (select * from batch order by id limit $3),
     last_per_msg as (
       select distinct on (msg_id) msg_id, type from counted
       where msg_id is not null and type like 'message.attempt.%' order by msg_id, id desc
     )
     select (select array_agg(id::text order by id) from counted) as ids,
       (select min(created_at) from counted) as "firstAt", (select max(created_at) from counted) as "lastAt",
       (select count(*) from last_per_msg where type = 'message.attempt.exhausted')::int as exhausted,
       (select count(*) from last_per_msg where type = 'message.attempt.failing')::int as failing,
       (select count(*) from last_per_msg where type = 'message.attempt.recovered')::int as recovered,
       (select count(*) from batch) > $3 as more`,
    [appId, endpointId, cap],
  );
  const r = rows[0]!;
  return r.ids === null ? null : { ...r, ids: r.ids };
}

/** One event of a batch with its details, for the email's body. */
export interface AlertDetail {
  /** Operational event type. */
  type: string;
  /** The message it concerns, if any. */
  msgId: string | null;
  /** The message's event type (null when the message is gone). */
  eventType: string | null;
  /** When it happened. */
  createdAt: Date;
  /** The event's data (Svix operational-webhook shapes). */
  data: Record<string, unknown>;
}

/**
 * Of the events `ids`: the `recent` newest message failures (with their message's event type), and
 * the newest automatic endpoint.disabled and endpoint.enabled; newest first.
 */
export async function loadAlertDetails(db: Queryable, appId: string, ids: string[], recent: number): Promise<AlertDetail[]> {
  const { rows } = await db.query<AlertDetail>(
    `(select o.type, o.msg_id as "msgId", m.event_type as "eventType", o.created_at as "createdAt", o.data
      from operational_event o left join message m on m.app_id = $1 and m.id = o.msg_id
      where o.id = any($2::bigint[]) and o.type in ('message.attempt.exhausted', 'message.attempt.failing')
      order by o.id desc limit $3)
     union all
     (select distinct on (o.type) o.type, o.msg_id, null, o.created_at, o.data from operational_event o
      where o.id = any($2::bigint[]) and (o.type = 'endpoint.enabled' or (o.type = 'endpoint.disabled' and o.data->>'trigger' is distinct from 'manual'))
      order by o.type, o.id desc)`,
    [appId, ids, recent],
  );
  return rows;
}

/** The application and endpoint an email is about, as they are now. */
export interface AlertSubject {
  /** Application name; null when it was deleted. */
  appName: string | null;
  /** The application's contact address, if any. */
  alertEmail: string | null;
  /** Endpoint URL; null when it was deleted. */
  url: string | null;
  /** Endpoint description. */
  description: string | null;
  /** Whether it is disabled now. */
  disabled: boolean | null;
  /** Who disabled it. */
  disabledBy: 'user' | 'auto' | null;
}

/** Reads the application and endpoint of an email (either may have been deleted since). */
export async function loadAlertSubject(db: Queryable, appId: string, endpointId: string): Promise<AlertSubject> {
  const { rows } = await db.query<AlertSubject>(
    `select a.name as "appName", a.alert_email as "alertEmail", e.url, e.description, e.disabled, e.disabled_by as "disabledBy"
     from (select $1::text as app_id) q
     left join application a on a.id = q.app_id
     left join endpoint e on e.app_id = q.app_id and e.id = $2`,
    [appId, endpointId],
  );
  return rows[0]!;
}

/**
 * After a sent email: marks its events handled for `audience`, and starts the endpoint's window (its
 * SMTP failures cleared). `sent` false marks the events only (there was nobody to send them to).
 */
export async function markAlertsEmailed(
  db: Queryable,
  appId: string,
  endpointId: string,
  audience: Audience,
  ids: string[],
  now: Date,
  sent = true,
): Promise<void> {
  const col = HANDLED[audience];
  const mark = `update operational_event set ${col} = $3 where app_id = $1 and endpoint_id = $2 and id = any($4::bigint[]) and ${col} is null`;
  if (!sent) {
    await db.query(mark, [appId, endpointId, now, ids]);
    return;
  }
  await db.query(
    `with marked as (${mark})
     insert into alert_email_state (endpoint_id, audience, last_emailed_at, failures, retry_at) values ($2, $5, $3, 0, null)
     on conflict (endpoint_id, audience) do update set last_emailed_at = excluded.last_emailed_at, failures = 0, retry_at = null`,
    [appId, endpointId, now, ids, audience],
  );
}

/** After an SMTP failure: records the failure count and when to try this endpoint's email again. */
export async function recordAlertFailure(db: Queryable, endpointId: string, audience: Audience, failures: number, retryAt: Date): Promise<void> {
  await db.query(
    `insert into alert_email_state (endpoint_id, audience, last_emailed_at, failures, retry_at) values ($1, $2, null, $3, $4)
     on conflict (endpoint_id, audience) do update set failures = excluded.failures, retry_at = excluded.retry_at`,
    [endpointId, audience, failures, retryAt],
  );
}
