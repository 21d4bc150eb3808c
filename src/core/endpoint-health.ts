/**
 * When to give up on an endpoint. Disabling needs both a streak of failures and a minimum duration (Svix
 * disables an endpoint whose attempts have all failed for 5 days): a count alone would
 * disable a busy endpoint after a 10-second blip, a duration alone would disable a quiet endpoint after
 * one failure and one retry an hour later.
 */

/** Thresholds that must both be reached before an endpoint is disabled automatically. */
export interface AutoDisableSettings {
  /** Consecutive failed attempts needed (any success resets the count). */
  failuresInARow: number;
  /** How long the failures must have been going on, from the first failure of the streak. */
  minFailingMs: number;
}

/** 10 failures in a row spanning at least an hour. */
export const DEFAULT_AUTO_DISABLE: AutoDisableSettings = Object.freeze({
  failuresInARow: 10,
  minFailingMs: 60 * 60 * 1_000,
});

/** The failure streak of one endpoint, as stored beside it. */
export interface EndpointHealth {
  /** Failed attempts since the last success. */
  consecutiveFailures: number;
  /** When the current streak started; null while the endpoint is healthy. */
  firstFailureAt: Date | null;
}

/** The state of an endpoint that has not failed. */
export const HEALTHY: EndpointHealth = Object.freeze({ consecutiveFailures: 0, firstFailureAt: null });

/**
 * The health after one more attempt. Concurrent workers may report attempts out of order, so the streak
 * start is the earliest failure seen, not the first one reported.
 */
export function applyAttempt(health: EndpointHealth, succeeded: boolean, at: Date): EndpointHealth {
  if (succeeded) return { consecutiveFailures: 0, firstFailureAt: null };
  const first = health.firstFailureAt;
  return {
    consecutiveFailures: health.consecutiveFailures + 1,
    firstFailureAt: first === null || at.getTime() < first.getTime() ? at : first,
  };
}

/** Folds many attempts (e.g. one persisted batch) in order; a success in the batch resets the streak. */
export function applyAttempts(health: EndpointHealth, attempts: readonly { succeeded: boolean; at: Date }[]): EndpointHealth {
  return attempts.reduce((h, a) => applyAttempt(h, a.succeeded, a.at), health);
}

/** "1 h 5 min", "45 min", "30 s", "2 d 3 h": two units at most, because a reason is read, not computed with. */
export function formatDuration(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['min', 60_000],
    ['s', 1_000],
  ];
  const total = Math.max(0, Math.floor(ms));
  if (total < 1_000) return `${total} ms`;
  const parts: string[] = [];
  let rest = total;
  for (const [name, size] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || parts.length > 0) parts.push(`${n} ${name}`);
    if (parts.length === 2) break;
  }
  // Drop a zero second unit ("1 h 0 min" reads better as "1 h").
  return parts.filter((p, i) => i === 0 || !p.startsWith('0 ')).join(' ');
}

/** Whether to disable the endpoint now; the reason is shown to its owner and in the alert. */
export function shouldAutoDisable(
  health: EndpointHealth,
  now: Date,
  settings: AutoDisableSettings = DEFAULT_AUTO_DISABLE,
  lastError?: string,
): { disable: false } | { disable: true; reason: string } {
  if (health.firstFailureAt === null || health.consecutiveFailures < Math.max(1, settings.failuresInARow)) {
    return { disable: false };
  }
  const failingFor = now.getTime() - health.firstFailureAt.getTime();
  if (failingFor < settings.minFailingMs) return { disable: false };
  const last = lastError === undefined || lastError === '' ? '' : `; last error: ${lastError}`;
  return {
    disable: true,
    reason:
      `${health.consecutiveFailures} delivery attempts in a row failed over ${formatDuration(failingFor)}${last}. ` +
      'Fix the receiver, then re-enable the endpoint and recover the failed messages',
  };
}
