/**
 * The delivery policy of one endpoint: retry schedule, per-attempt deadline and in-flight cap,
 * resolved endpoint -> application -> operator default, and always clamped to the operator's bounds
 * (the API refuses values outside them; clamping here covers bounds lowered after a value was saved).
 */
import type { RetryPolicy } from './retry-policy.js';

/** What the operator configured. */
export interface PolicyDefaults {
  /** HERALD_RETRY_SCHEDULE etc. */
  retry: RetryPolicy;
  /** HERALD_REQUEST_TIMEOUT. */
  timeoutMs: number;
  /** HERALD_ENDPOINT_MAX_IN_FLIGHT. */
  maxInFlight: number;
}

/** Upper bounds for overrides (HERALD_MAX_*). */
export interface PolicyBounds {
  /** HERALD_MAX_IN_FLIGHT_LIMIT. */
  maxInFlight: number;
  /** HERALD_MAX_REQUEST_TIMEOUT. */
  timeoutMs: number;
  /** HERALD_MAX_RETRY_ATTEMPTS. */
  attempts: number;
  /** HERALD_MAX_RETRY_DELAY. */
  delayMs: number;
}

/** Overrides stored on an application or an endpoint; null = inherit. */
export interface PolicyOverrides {
  /** Retry delays in seconds after the first attempt (the first attempt is always immediate). */
  retryDelays: number[] | null;
  /** Per-attempt deadline in ms. */
  timeoutMs: number | null;
  /** Requests in flight at most. */
  maxInFlight: number | null;
}

/** The policy one attempt runs under. */
export interface EffectivePolicy {
  /** Retry schedule (schedule[0] = 0, the first attempt). */
  retry: RetryPolicy;
  /** Per-attempt deadline in ms. */
  timeoutMs: number;
  /** Requests in flight at most. */
  maxInFlight: number;
}

/** Smallest per-attempt deadline anyone may set: below a second, TLS to a distant host fails for no fault. */
export const MIN_TIMEOUT_MS = 1_000;

/** Resolves endpoint -> application -> default and clamps to the bounds. */
export function resolvePolicy(
  defaults: PolicyDefaults,
  bounds: PolicyBounds,
  app: PolicyOverrides | null,
  endpoint: PolicyOverrides | null,
): EffectivePolicy {
  const delays = endpoint?.retryDelays ?? app?.retryDelays ?? null;
  const retry: RetryPolicy = delays
    ? {
        ...defaults.retry,
        schedule: [0, ...delays.slice(0, Math.max(0, bounds.attempts - 1)).map((s) => Math.min(s * 1000, bounds.delayMs))],
      }
    : defaults.retry;
  const timeout = endpoint?.timeoutMs ?? app?.timeoutMs ?? null;
  const cap = endpoint?.maxInFlight ?? app?.maxInFlight ?? null;
  return {
    retry,
    timeoutMs: timeout === null ? defaults.timeoutMs : Math.max(MIN_TIMEOUT_MS, Math.min(timeout, bounds.timeoutMs)),
    maxInFlight: cap === null ? defaults.maxInFlight : Math.max(1, Math.min(cap, bounds.maxInFlight)),
  };
}
