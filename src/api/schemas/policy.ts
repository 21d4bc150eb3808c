/**
 * Delivery-policy fields shared by applications and endpoints (Herald extras): the in-flight cap,
 * per-attempt timeout, retry schedule and, for endpoints, ordering; the rateLimit/throttleRate alias;
 * the effective policy and breaker state the API shows; and the operator settings they come from.
 * The schemas check shape only: the upper bounds are the server's HERALD_MAX_* settings, checked by
 * policyProblems (src/engine/applications.ts) so the 422 names the field and this server's limit.
 */
import { z } from 'zod';
import type { Config } from '../../config.js';
import type { BreakerSettings } from '../../core/breaker.js';
import { MIN_TIMEOUT_MS, type EffectivePolicy, type PolicyBounds, type PolicyDefaults } from '../../core/delivery-policy.js';
import { HeraldError } from '../../core/errors.js';
import type { Herald } from '../../engine/herald.js';

/** Requests in flight at most (HERALD_MAX_IN_FLIGHT_LIMIT itself is at most 10000). */
export const MaxInFlight = z.number().int().min(1).max(10_000);

/** Per-attempt deadline in ms. */
export const TimeoutMs = z.number().int().min(MIN_TIMEOUT_MS);

/** Retry delays in seconds after the first attempt (HERALD_MAX_RETRY_ATTEMPTS is at most 100). */
export const RetrySchedule = z.array(z.number().int().min(1)).min(1).max(99);

/** Parallel or strict ordering. */
export const Ordering = z.enum(['parallel', 'strict']).meta({ id: 'Ordering' });

/** What each endpoint policy field means, for the OpenAPI document (applications word theirs in ./applications.ts). */
export const POLICY_DOCS = {
  maxInFlight:
    'Herald: most requests in flight to this endpoint at once, across every worker; 1 to HERALD_MAX_IN_FLIGHT_LIMIT (256 by default). null = inherit: the application\'s maxInFlight, else HERALD_ENDPOINT_MAX_IN_FLIGHT (64 by default).',
  timeoutMs: `Herald: deadline of one delivery attempt in milliseconds (DNS, connect, TLS, headers and body); ${MIN_TIMEOUT_MS} to HERALD_MAX_REQUEST_TIMEOUT (60000 by default). null = inherit: the application's timeoutMs, else HERALD_REQUEST_TIMEOUT.`,
  retrySchedule:
    "Herald: seconds to wait before each retry; the first attempt is always immediate, so [60, 300, 1800, 7200, 86400] means 6 attempts (at once, then after 1 min, 5 min, 30 min, 2 h, 24 h). 1 to HERALD_MAX_RETRY_ATTEMPTS - 1 entries (19 by default), each 1 to HERALD_MAX_RETRY_DELAY in seconds (3 days by default). null = inherit: the application's retrySchedule, else HERALD_RETRY_SCHEDULE.",
  ordering:
    'Herald: "parallel" (the default) sends up to maxInFlight deliveries at once; "strict" sends one at a time in publish order, and a failing delivery holds the ones after it until it succeeds or gives up. null = parallel.',
};

/** The policy actually applied to an endpoint (or an application's endpoints), after inheritance. */
export const EffectivePolicyOut = z
  .object({
    maxInFlight: z.number().describe('Requests in flight at most.'),
    timeoutMs: z.number().describe('Deadline of one attempt, in milliseconds.'),
    retrySchedule: z.array(z.number()).describe('Seconds before each retry after the first attempt; its length + 1 is the number of attempts.'),
    throttleRate: z.number().nullable().describe('Requests per second at most, or null for no limit.'),
  })
  .describe('Herald: the policy in force after inheritance (endpoint -> application -> operator default) and clamping to the bounds.')
  .meta({ id: 'EffectivePolicyOut' });

/** Herald: the circuit breaker of an endpoint. */
export const BreakerOut = z
  .object({
    state: z
      .enum(['closed', 'open', 'half-open'])
      .describe('closed: sending normally. open: failing, nothing is attempted (and no attempt is used up) until openUntil. half-open: one probe at a time; the first success closes it.'),
    consecutiveFailures: z.number().describe('Failed attempts in a row (HERALD_BREAKER_FAILURES of them open the breaker).'),
    openUntil: z.string().meta({ format: 'date-time' }).nullable().describe('While open: when the next probe may go; otherwise null.'),
  })
  .describe('Herald: circuit breaker state. Open and half-open breakers back off without losing messages.')
  .meta({ id: 'BreakerOut' });

/** Body fields carrying the rate limit under either Svix name. */
interface RateBody {
  rateLimit?: number | null;
  throttleRate?: number | null;
}

/**
 * The rate limit of a body under either name: undefined when neither is given. Both given with
 * different values is a 422 naming both, rather than silently preferring one.
 */
export function rateOf(body: RateBody): number | null | undefined {
  const { rateLimit, throttleRate } = body;
  if (rateLimit !== undefined && throttleRate !== undefined && rateLimit !== throttleRate) {
    const message = `throttleRate (${throttleRate}) and its alias rateLimit (${rateLimit}) differ; give one of them`;
    throw new HeraldError('validation', message, { fields: [{ path: 'throttleRate', message }, { path: 'rateLimit', message }] });
  }
  return throttleRate !== undefined ? throttleRate : rateLimit;
}

/** The operator's limits on overrides. */
export function policyBoundsOf(config: Config): PolicyBounds {
  return {
    maxInFlight: config.HERALD_MAX_IN_FLIGHT_LIMIT,
    timeoutMs: config.HERALD_MAX_REQUEST_TIMEOUT,
    attempts: config.HERALD_MAX_RETRY_ATTEMPTS,
    delayMs: config.HERALD_MAX_RETRY_DELAY,
  };
}

/** The operator's defaults, which overrides fall back to. */
export function policyDefaultsOf(herald: Herald): PolicyDefaults {
  return { retry: herald.retryPolicy, timeoutMs: herald.config.HERALD_REQUEST_TIMEOUT, maxInFlight: herald.config.HERALD_ENDPOINT_MAX_IN_FLIGHT };
}

/** The breaker settings (HERALD_BREAKER_*). */
export function breakerSettingsOf(config: Config): BreakerSettings {
  return { failures: config.HERALD_BREAKER_FAILURES, backoffMs: config.HERALD_BREAKER_BACKOFF, backoffMaxMs: config.HERALD_BREAKER_BACKOFF_MAX };
}

/** Maps a resolved policy: the schedule loses its leading first attempt and turns into seconds. */
export function toEffectivePolicyOut(p: EffectivePolicy, throttleRate: number | null): z.output<typeof EffectivePolicyOut> {
  return { maxInFlight: p.maxInFlight, timeoutMs: p.timeoutMs, retrySchedule: p.retry.schedule.slice(1).map((ms) => ms / 1000), throttleRate };
}

/** What mapping an endpoint or application for the API needs from the server: settings and the time. */
export interface PolicyView {
  /** Operator defaults. */
  defaults: PolicyDefaults;
  /** Operator bounds. */
  bounds: PolicyBounds;
  /** Breaker settings. */
  breaker: BreakerSettings;
  /** Now, for the breaker state. */
  now: Date;
}

/** The server's policy settings and the current time. */
export function policyViewOf(herald: Herald): PolicyView {
  return { defaults: policyDefaultsOf(herald), bounds: policyBoundsOf(herald.config), breaker: breakerSettingsOf(herald.config), now: herald.clock.now() };
}
