/**
 * Operational events as the delivery pipeline records them (type, application, endpoint, message,
 * `notify`, data in the operational-webhook shapes), inserted directly so the email sender can be
 * tested on its own.
 */
import type { Queryable } from '../../src/store/pool.js';

/** One event to insert; ids default to the given endpoint's. */
export interface EventSpec {
  type:
    | 'message.attempt.exhausted'
    | 'message.attempt.failing'
    | 'message.attempt.recovered'
    | 'endpoint.disabled'
    | 'endpoint.enabled'
    | 'endpoint.created';
  appId: string;
  endpointId: string;
  msgId?: string;
  at: Date;
  /** Herald's reason of the last attempt (message events). */
  lastError?: string;
  /** HTTP status of the last attempt (message events); 0 = no response. */
  status?: number;
  /** endpoint.disabled: automatic or manual. */
  trigger?: 'automatic' | 'manual';
  /** endpoint.disabled: why. */
  reason?: string;
  /** Overrides whether a person is told (defaults as the pipeline sets it). */
  notify?: boolean;
}

const NOTIFY: Record<EventSpec['type'], boolean> = {
  'message.attempt.exhausted': true,
  'message.attempt.failing': true,
  'message.attempt.recovered': true,
  'endpoint.disabled': true,
  'endpoint.enabled': true,
  'endpoint.created': false,
};

function dataOf(e: EventSpec): Record<string, unknown> {
  if (e.type.startsWith('message.')) {
    return {
      appId: e.appId,
      appUid: null,
      msgId: e.msgId,
      msgEventId: null,
      endpointId: e.endpointId,
      lastAttempt: { id: `atmpt_${e.msgId}`, responseStatusCode: e.status ?? 500, timestamp: e.at.toISOString() },
      lastError: e.lastError ?? null,
    };
  }
  if (e.type === 'endpoint.disabled') {
    return { appId: e.appId, appUid: null, endpointId: e.endpointId, endpointUid: null, failSince: e.at.toISOString(), trigger: e.trigger ?? 'automatic', reason: e.reason ?? null };
  }
  return { appId: e.appId, appUid: null, endpointId: e.endpointId, endpointUid: null };
}

/** Inserts events in one statement, in the order given. */
export async function insertEvents(db: Queryable, events: EventSpec[]): Promise<void> {
  await db.query(
    `insert into operational_event (app_id, endpoint_id, msg_id, type, data, notify, created_at)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::boolean[], $7::timestamptz[])`,
    [
      events.map((e) => e.appId),
      events.map((e) => e.endpointId),
      events.map((e) => e.msgId ?? null),
      events.map((e) => e.type),
      events.map((e) => JSON.stringify(dataOf(e))),
      events.map((e) => (e.type === 'endpoint.disabled' && e.trigger === 'manual' ? false : (e.notify ?? NOTIFY[e.type]))),
      events.map((e) => e.at),
    ],
  );
}

/** Events still waiting for an email to `audience`. */
export async function waitingEvents(db: Queryable, audience: 'operators' | 'contact'): Promise<number> {
  const col = audience === 'operators' ? 'emailed_at' : 'contact_emailed_at';
  const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from operational_event where notify and ${col} is null`);
  return rows[0]!.n;
}
