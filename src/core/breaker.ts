/**
 * The per-endpoint circuit breaker, as pure functions. An endpoint that has failed
 * `failures` attempts in a row is "open": none of its queued deliveries is attempted (so none of
 * their attempts is burned) until `breaker_until`; then it is "half-open": one probe at a time, and
 * the first success closes it. Each failed probe opens it again for twice as long, up to a cap
 * (computed where the breaker is opened: updateBreakers in src/store/lanes.ts).
 */

/** Operator settings (HERALD_BREAKER_*). */
export interface BreakerSettings {
  /** Failed attempts in a row that open the breaker; 0 = the breaker never opens. */
  failures: number;
  /** First open period, in ms. */
  backoffMs: number;
  /** Longest open period, in ms. */
  backoffMaxMs: number;
}

/** What the API and dashboard show. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** The state of an endpoint's breaker at `now`. */
export function breakerState(
  s: BreakerSettings,
  lane: { consecutiveFailures: number; breakerUntil: Date | null },
  now: Date,
): BreakerState {
  if (s.failures === 0 || lane.consecutiveFailures < s.failures) return 'closed';
  if (lane.breakerUntil && lane.breakerUntil.getTime() > now.getTime()) return 'open';
  return 'half-open';
}
