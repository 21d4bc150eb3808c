/**
 * Settings an operator edits at run time (`herald_setting`): one JSON document per name. Every Herald
 * process reads them from here, so a change made through one node's API applies to all of them.
 */
import type { Queryable } from './pool.js';

/** The alert settings as stored; an absent field falls back to the environment's default. */
export interface StoredAlertSettings {
  /** Operator addresses (replaces HERALD_ALERT_EMAILS). */
  emails?: string[];
  /** Batching window in seconds (replaces HERALD_ALERT_WINDOW). */
  windowSeconds?: number;
  /** false = no alert emails at all. */
  enabled?: boolean;
}

/** Name of the alert settings' row. */
const ALERTS = 'alerts';

/** The stored alert settings, or an empty document when nobody changed them. */
export async function getAlertSettings(db: Queryable): Promise<StoredAlertSettings> {
  const { rows } = await db.query<{ value: StoredAlertSettings }>('select value from herald_setting where name = $1', [ALERTS]);
  return rows[0]?.value ?? {};
}

/** Replaces the stored alert settings; returns what was stored. */
export async function putAlertSettings(db: Queryable, value: StoredAlertSettings, now: Date): Promise<StoredAlertSettings> {
  const { rows } = await db.query<{ value: StoredAlertSettings }>(
    `insert into herald_setting (name, value, updated_at) values ($1, $2, $3)
     on conflict (name) do update set value = excluded.value, updated_at = excluded.updated_at
     returning value`,
    [ALERTS, JSON.stringify(value), now],
  );
  return rows[0]!.value;
}
