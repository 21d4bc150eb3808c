/**
 * Expunging content (Svix expunge-content): a message's payload, or an attempt's response body, is
 * replaced where it is stored, for a payload or a response that should never have been kept (a
 * secret, personal data). The rows stay, so the delivery log still shows what happened and when.
 */
import type { Queryable } from './pool.js';

/** What an expunged message's payload becomes: a JSON object, so every reader still gets one. */
export const EXPUNGED_PAYLOAD = Buffer.from('{"expunged":true}', 'utf8');
/** What an expunged response body becomes (Svix's marker). */
export const EXPUNGED_RESPONSE = 'EXPUNGED';
/** Why a pending delivery of an expunged message was not sent. */
const NOT_SENT = 'content expunged: not sent';

/**
 * Replaces a message's payload with {@link EXPUNGED_PAYLOAD} and records when; its pending deliveries
 * end as skipped (their payload is gone), and resend and replays refuse it from now on. The payload
 * hash is kept, so publishing the same eventId and payload again is still recognised as a duplicate.
 * False when the message is not the application's.
 */
export async function expungeMessageContent(db: Queryable, appId: string, msgId: string, now: Date): Promise<boolean> {
  const { rows } = await db.query<{ n: number }>(
    `with m as (
       update message set payload = $3, expunged_at = coalesce(expunged_at, $4) where app_id = $1 and id = $2 returning id
     ), d as (
       update delivery set state = 'skipped', last_error = '${NOT_SENT}', updated_at = $4
       where app_id = $1 and msg_id in (select id from m) and state = 'pending'
       returning id
     )
     select (select count(*) from m)::int as n, (select count(*) from d)::int as skipped`,
    [appId, msgId, EXPUNGED_PAYLOAD, now],
  );
  return rows[0]!.n === 1;
}

/** Replaces one attempt's response body with {@link EXPUNGED_RESPONSE}; false when there is no such attempt. */
export async function expungeAttemptContent(db: Queryable, appId: string, msgId: string, attemptId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `update attempt set response_body = $4, response_truncated = false, response_lossy = false where app_id = $1 and msg_id = $2 and id = $3`,
    [appId, msgId, attemptId, EXPUNGED_RESPONSE],
  );
  return rowCount === 1;
}
