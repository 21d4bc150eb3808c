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
 * - same key while the first request is still running: 409 (retry shortly).
 * Only 2xx responses are stored; after an error the key is released so a corrected retry may reuse it.
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
} from '../store/idempotency.js';
import type { Api, ApiDeps } from './context.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Honour the Idempotency-Key header on this route (see src/api/idempotency.ts). */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    /** The Idempotency-Key this request claimed, until its response is stored. */
    idempotencyClaim?: string | null;
  }
}

/** How long a stored response is replayed. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;
/** A claim older than this whose response never came (the process died) may be taken over. */
export const STALE_CLAIM_MS = 60_000;
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
 * refuses (409) a key reused for another request or still in flight.
 */
async function claimOrReplay(req: FastifyRequest, reply: FastifyReply, deps: ApiDeps, counter: { claims: number }): Promise<unknown> {
  if (!req.routeOptions.config?.idempotent) return;
  const key = keyOf(req);
  if (key === null) return;
  const { pool, secretBox, clock, log } = deps.herald;
  const now = clock.now();
  const principalId = req.principal.id;
  const hash = requestHash(req);
  const cutoff = new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS);
  const result = await claimIdempotencyKey(pool, principalId, key, hash, {
    now,
    replayUntil: cutoff,
    staleBefore: new Date(now.getTime() - STALE_CLAIM_MS),
  });
  if (++counter.claims % PURGE_EVERY === 0) {
    purgeIdempotencyKeys(pool, cutoff).catch((e: unknown) => log.warn({ err: e }, 'could not purge expired idempotency keys'));
  }
  if (result.claimed) {
    req.idempotencyClaim = key;
    return;
  }
  const { row } = result;
  if (!row.requestHash.equals(hash)) {
    throw new HeraldError(
      'idempotency_conflict',
      'this Idempotency-Key was already used with a different request (method, URL or body); use a new key for a new request',
    );
  }
  if (row.state === 'pending' || row.status === null) {
    throw new HeraldError('idempotency_conflict', 'a request with this Idempotency-Key is still being processed; retry in a moment');
  }
  const body = row.response ? secretBox.open(row.response, aadOf(principalId, key)) : '';
  reply.code(row.status).header('idempotent-replayed', 'true');
  if (body !== '') reply.type('application/json; charset=utf-8');
  return reply.send(body);
}

/** onSend: stores a 2xx response of a claimed key, or releases the claim so a corrected retry may reuse it. */
async function storeResponse(req: FastifyRequest, reply: FastifyReply, payload: unknown, deps: ApiDeps): Promise<unknown> {
  const key = req.idempotencyClaim;
  if (!key) return payload;
  req.idempotencyClaim = null;
  const { pool, secretBox, log } = deps.herald;
  const principalId = req.principal.id;
  try {
    if (reply.statusCode >= 200 && reply.statusCode < 300 && (typeof payload === 'string' || payload == null)) {
      const sealed = secretBox.seal(typeof payload === 'string' ? payload : '', aadOf(principalId, key));
      await completeIdempotencyKey(pool, principalId, key, reply.statusCode, sealed);
    } else {
      await releaseIdempotencyKey(pool, principalId, key);
    }
  } catch (e) {
    // The side effect already happened; failing the response now would only hide its result.
    log.error({ err: e, principalId }, 'could not store the idempotent response');
  }
  return payload;
}

/** Installs the hooks; routes opt in with `config: { idempotent: true }`. */
export function registerIdempotency(app: Api, deps: ApiDeps): void {
  const counter = { claims: 0 };
  app.addHook('preHandler', (req, reply) => claimOrReplay(req, reply, deps, counter));
  app.addHook('onSend', (req, reply, payload) => storeResponse(req, reply, payload, deps));
}
