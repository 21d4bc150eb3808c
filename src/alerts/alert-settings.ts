/**
 * The alert settings in force: what an operator stored at run time (herald_setting `alerts`, edited
 * through PUT /api/v1/alert-settings or the dashboard) over the environment's defaults
 * (HERALD_ALERT_EMAILS, HERALD_ALERT_WINDOW). Every process reads them on each pass of its sender,
 * so a change applies everywhere within seconds.
 */
import type { Config } from '../config.js';
import { getAlertSettings, type StoredAlertSettings } from '../store/settings.js';
import type { Queryable } from '../store/pool.js';

/** Shortest and longest batching window, in seconds (the same bounds as HERALD_ALERT_WINDOW). */
export const WINDOW_SECONDS = { min: 10, max: 7 * 86_400 } as const;

/** The settings in force. */
export interface AlertSettings {
  /** Operator addresses. */
  emails: string[];
  /** Batching window in seconds. */
  windowSeconds: number;
  /** false = no alert emails. */
  enabled: boolean;
  /** Whether HERALD_SMTP_URL is set (read-only: it is a secret, set in the environment). */
  smtpConfigured: boolean;
}

/** Stored settings over the environment's defaults. */
export function resolveAlertSettings(stored: StoredAlertSettings, config: Config): AlertSettings {
  return {
    emails: stored.emails ?? config.HERALD_ALERT_EMAILS,
    windowSeconds: stored.windowSeconds ?? Math.round(config.HERALD_ALERT_WINDOW / 1000),
    enabled: stored.enabled ?? true,
    smtpConfigured: config.HERALD_SMTP_URL !== undefined,
  };
}

/** Reads the settings in force. */
export async function loadAlertSettings(db: Queryable, config: Config): Promise<AlertSettings> {
  return resolveAlertSettings(await getAlertSettings(db), config);
}
