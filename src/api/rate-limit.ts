/**
 * Per-token request rate limit for the management API: a token bucket per principal, refilled at
 * its limit in requests per second with a burst of twice that. Tokens scoped to one application
 * (scoped API keys, customer-portal tokens) get HERALD_API_RATE_LIMIT; the platform's own operator
 * token and global API keys get HERALD_API_RATE_LIMIT_GLOBAL, unlimited by default, so a platform
 * publishing faster than a customer would ever click is never refused out of the box. Over the limit the API
 * answers 429 `rate_limited` with Retry-After, as Svix does. Buckets live in this process, so with
 * N API nodes behind a balancer a token gets up to N times the limit; the point is to stop one
 * runaway script from starving everyone else on a node, not exact global accounting.
 */
import type { Api } from './context.js';
import { HeraldError } from '../core/errors.js';

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/** Most buckets kept; the least recently refilled ones go first when full. */
const MAX_BUCKETS = 100_000;

/** Pure token-bucket step: whether a request at `nowMs` fits, and the bucket after it. */
export function takeToken(bucket: Bucket | undefined, nowMs: number, ratePerSecond: number): { ok: boolean; bucket: Bucket; retryAfterSeconds: number } {
  const burst = ratePerSecond * 2;
  const prior = bucket ?? { tokens: burst, updatedMs: nowMs };
  const refilled = Math.min(burst, prior.tokens + ((nowMs - prior.updatedMs) / 1000) * ratePerSecond);
  if (refilled >= 1) return { ok: true, bucket: { tokens: refilled - 1, updatedMs: nowMs }, retryAfterSeconds: 0 };
  return { ok: false, bucket: { tokens: refilled, updatedMs: nowMs }, retryAfterSeconds: Math.max(1, Math.ceil((1 - refilled) / ratePerSecond)) };
}

/** Limits in requests per second; 0 = no limit. */
export interface RateLimits {
  /** Tokens scoped to one application: scoped API keys and customer-portal tokens. */
  scoped: number;
  /** The operator token and global API keys: the platform itself. */
  global: number;
}

/**
 * Adds the limits to every authenticated request (after auth has set `req.principal`).
 * Measured on a monotonic clock: request rates are about real time, even under a test's fake clock.
 */
export function registerRateLimit(app: Api, limits: RateLimits, nowMs: () => number = () => performance.now()): void {
  if (limits.scoped <= 0 && limits.global <= 0) return;
  const buckets = new Map<string, Bucket>();
  app.addHook('onRequest', async (req, reply) => {
    const principal = req.principal;
    if (!principal) return; // routes without auth (health, docs, the app's files)
    const ratePerSecond = principal.appId === null && principal.kind !== 'portal' ? limits.global : limits.scoped;
    if (ratePerSecond <= 0) return;
    const step = takeToken(buckets.get(principal.id), nowMs(), ratePerSecond);
    buckets.delete(principal.id);
    if (buckets.size >= MAX_BUCKETS) buckets.delete(buckets.keys().next().value!);
    buckets.set(principal.id, step.bucket);
    if (!step.ok) {
      void reply.header('retry-after', String(step.retryAfterSeconds));
      throw new HeraldError('rate_limited', `this token sent more than ${ratePerSecond} requests per second; retry after ${step.retryAfterSeconds} s`);
    }
  });
}
