/**
 * `Idempotency-Key` for POST routes that create something (Svix and Stripe semantics). A route opts in
 * with one line in its options:
 *
 * ```ts
 * app.post('/app/:app_id/msg', { config: { idempotent: true }, schema: {...} }, handler)
 * ```
 *
 * Then a request carrying the header is handled at most once per credential and key for 24 hours:
 * - same key, same method + URL + body: the stored response is replayed (same status and body, with
 *   `idempotent-replayed: true`), and the handler does not run again;
 * - same key, different request: 409 `idempotency_conflict`;
 * - same key while the first request is still running: this one waits for it (up to PENDING_WAIT_MS, as
 *   Svix's server does) and replays its response, or runs itself if the first one failed; still
 *   pending after that, it gets 503 with Retry-After. Never 409: the official Svix clients do not retry
 *   a 409, and a pending key can be the leftover of a first attempt that failed server-side (issue 13).
 * Only 2xx responses are stored; after an error the key is released so a corrected retry may reuse it.
 * When the database went away mid-request, storing or releasing the claim fails too; it is retried in the
 * background until the database answers, so the retry that follows an outage finds the key free (or the
 * response stored) instead of a claim nobody will settle. A claim whose process died is taken over after
 * STALE_CLAIM_MS.
 * Stored bodies are sealed with HERALD_SECRET_KEY because a creation response can hold a new API key
 * or endpoint secret. Keys are scoped to the credential (principal id), never shared across callers.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HeraldError } from '../core/errors.js';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  purgeIdempotencyKeys,
  releaseIdempotencyKey,
  type IdempotencyRow,
} from '../store/idempotency.js';
import type { Api, ApiDeps } from './context.js';
import { isDatabaseUnavailable } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Honour the Idempotency-Key header on this route (see src/api/idempotency.ts). */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    /** The Idempotency-Key this request claimed, until its response is stored. */
    idempotencyClaim?: IdempotencyClaim | null;
  }
}

/** A key this request holds. */
interface IdempotencyClaim {
  /** The Idempotency-Key. */
  key: string;
  /** The `now` it was claimed with: settling matches it, so only this claim is settled. */
  claimedAt: Date;
}

/** How long a stored response is replayed. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;
/** A claim older than this whose response never came (the process died) may be taken over. */
export const STALE_CLAIM_MS = 60_000;
/**
 * How long a request waits for another one holding its key before answering 503. Past the longest
 * background settle pause, so a retry made as the database comes back sees the first attempt's claim released.
 */
export const PENDING_WAIT_MS = 3_000;
/** How often a waiting request looks at the key again. */
const PENDING_POLL_MS = 100;
/** Pause before the first background settle of a claim the database did not take; it doubles up to the next. */
const SETTLE_RETRY_FIRST_MS = 100;
const SETTLE_RETRY_MAX_MS = 1_000;
/** Purge expired keys once every this many claims (per process), instead of a separate timer. */
const PURGE_EVERY = 500;
const KEY_PATTERN = /^[\x21-\x7e]{1,256}$/;

/** Header name as clients send it (Svix's clients use lower case). */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

function requestHash(req: FastifyRequest): Buffer {
  return createHash('sha256')
    .update(`${req.method}\n${req.url}\n`)
    .update(req.rawBody ?? Buffer.alloc(0))
    .digest();
}

const aadOf = (principalId: string, key: string) => `idempotency:${principalId}:${key}`;

/** Validates the header; throws 422 for a malformed key. */
function keyOf(req: FastifyRequest): string | null {
  const header = req.headers[IDEMPOTENCY_HEADER];
  if (header === undefined) return null;
  if (typeof header !== 'string' || !KEY_PATTERN.test(header)) {
    throw new HeraldError('validation', 'Idempotency-Key must be 1-256 visible ASCII characters', {
      fields: [{ path: IDEMPOTENCY_HEADER, message: 'invalid idempotency key', location: 'header' }],
    });
  }
  return header;
}

/**
 * preHandler: claims the key for this request, or answers from the stored response (replay), or
 * refuses (409) a key reused for another request. A key another request holds is waited for.
 */
async function claimOrReplay(req: FastifyRequest, reply: FastifyReply, deps: ApiDeps, counter: { claims: number }): Promise<unknown> {
  if (!req.routeOptions.config?.idempotent) return;
  const key = keyOf(req);
  if (key === null) return;
  const { pool, clock, log } = deps.herald;
  const principalId = req.principal.id;
  const hash = requestHash(req);
  const waitUntil = performance.now() + PENDING_WAIT_MS;
  for (let first = true; ; first = false) {
    const now = clock.now();
    const cutoff = new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS);
    const result = await claimIdempotencyKey(pool, principalId, key, hash, {
      now,
      replayUntil: cutoff,
      staleBefore: new Date(now.getTime() - STALE_CLAIM_MS),
    });
    if (first && ++counter.claims % PURGE_EVERY === 0) {
      purgeIdempotencyKeys(pool, cutoff).catch((e: unknown) => log.warn({ err: e }, 'could not purge expired idempotency keys'));
    }
    if (result.claimed) {
      req.idempotencyClaim = { key, claimedAt: now };
      return;
    }
    const { row } = result;
    if (!row.requestHash.equals(hash)) {
      throw new HeraldError(
        'idempotency_conflict',
        'this Idempotency-Key was already used with a different request (method, URL or body); use a new key for a new request',
      );
    }
    if (row.state === 'done' && row.status !== null) return replay(reply, deps, principalId, key, row);
    if (performance.now() >= waitUntil) {
      throw new HeraldError(
        'unavailable',
        'a request with this Idempotency-Key is still being processed, or failed and its key is not released yet; retry in a moment with the same key',
      );
    }
    await new Promise((r) => setTimeout(r, PENDING_POLL_MS));
  }
}

/** Answers with the stored response of `key`. */
function replay(reply: FastifyReply, deps: ApiDeps, principalId: string, key: string, row: IdempotencyRow): FastifyReply {
  const body = row.response ? deps.herald.secretBox.open(row.response, aadOf(principalId, key)) : '';
  reply.code(row.status!).header('idempotent-replayed', 'true');
  if (body !== '') reply.type('application/json; charset=utf-8');
  return reply.send(body);
}

/**
 * Stores the 2xx response of a claim, or releases it. When the database did not answer (it went away
 * during the request, which is often why the request failed), tries again in the background, pausing
 * longer each time, until it answers or the claim could have been taken over anyway (STALE_CLAIM_MS).
 */
class ClaimSettler {
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly deps: ApiDeps) {}

  /** Settles `claim` (with the 2xx `response` to store, or null to release it); never throws. */
  async settle(principalId: string, claim: IdempotencyClaim, response: { status: number; body: string } | null): Promise<void> {
    const { pool, secretBox, log } = this.deps.herald;
    let once: (() => Promise<void>) | undefined;
    try {
      if (response) {
        const sealed = secretBox.seal(response.body, aadOf(principalId, claim.key));
        once = () => completeIdempotencyKey(pool, principalId, claim.key, claim.claimedAt, response.status, sealed);
      } else {
        once = () => releaseIdempotencyKey(pool, principalId, claim.key, claim.claimedAt);
      }
      await once();
    } catch (e) {
      if (!once || !isDatabaseUnavailable(e)) {
        // The side effect already happened; failing the response now would only hide its result.
        log.error({ err: e, principalId }, 'could not store the idempotent response');
        return;
      }
      log.warn({ err: e, principalId }, 'could not settle an Idempotency-Key claim: the database did not answer; retrying in the background');
      this.retry(once, principalId, SETTLE_RETRY_FIRST_MS, performance.now() + STALE_CLAIM_MS);
    }
  }

  private retry(once: () => Promise<void>, principalId: string, pauseMs: number, giveUpAt: number): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      once().catch((e: unknown) => {
        if (isDatabaseUnavailable(e) && performance.now() + pauseMs < giveUpAt) {
          this.retry(once, principalId, Math.min(pauseMs * 2, SETTLE_RETRY_MAX_MS), giveUpAt);
        } else {
          this.deps.herald.log.warn({ err: e, principalId }, 'gave up settling an Idempotency-Key claim; it is taken over once stale');
        }
      });
    }, pauseMs);
    timer.unref();
    this.timers.add(timer);
  }

  /** Stops the background retries (the app is closing; the pool is about to end). */
  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

/** onSend: stores a 2xx response of a claimed key, or releases the claim so a corrected retry may reuse it. */
async function storeResponse(req: FastifyRequest, reply: FastifyReply, payload: unknown, deps: ApiDeps, settler: ClaimSettler): Promise<unknown> {
  const claim = req.idempotencyClaim;
  if (!claim) return payload;
  req.idempotencyClaim = null;
  const principalId = req.principal.id;
  const stored = reply.statusCode >= 200 && reply.statusCode < 300 && (typeof payload === 'string' || payload == null);
  const response = stored ? { status: reply.statusCode, body: typeof payload === 'string' ? payload : '' } : null;
  await settler.settle(principalId, claim, response);
  return payload;
}

/** Installs the hooks; routes opt in with `config: { idempotent: true }`. */
export function registerIdempotency(app: Api, deps: ApiDeps): void {
  const counter = { claims: 0 };
  const settler = new ClaimSettler(deps);
  app.addHook('preHandler', (req, reply) => claimOrReplay(req, reply, deps, counter));
  app.addHook('onSend', (req, reply, payload) => storeResponse(req, reply, payload, deps, settler));
  app.addHook('onClose', async () => settler.close());
}
