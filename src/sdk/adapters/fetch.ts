/**
 * `herald/verify/fetch`: verify a web-standard `Request`, for Next.js route handlers, Hono
 * (`c.req.raw`), Bun, Deno, Cloudflare Workers and undici. Reads the body once, as bytes, with a size
 * limit, and hands back both the raw bytes and the parsed JSON, so nothing needs to read it again.
 *
 * ```ts
 * // app/api/webhooks/route.ts (Next.js)
 * import { withVerifiedWebhook } from 'herald/verify/fetch';
 * export const POST = withVerifiedWebhook({ secrets: webhookSecret }, async (delivery) => {
 *   await handle(delivery.payload);
 *   return new Response(null, { status: 204 });
 * });
 * ```
 */
import { bodyLimitOf, failure, toError, tooLarge, verifyDelivery, type AdapterOptions, type AdapterResult, type VerifiedDelivery } from '../delivery.js';
import { BodyTooLargeError, readWebBody } from '../raw-body.js';
import { assertVerifyOptions } from '../verify.js';

export type { AdapterOptions, AdapterResult, VerifiedDelivery };
export { WebhookVerificationError } from '../verify.js';

/** A failure value. */
export type WebhookFailure = Extract<AdapterResult, { ok: false }>;

/** Options of {@link verifyRequest}. */
export interface FetchVerifyOptions extends AdapterOptions {
  /** Read a clone, leaving `request` unread for code that still needs to read it (costs a copy). */
  keepBody?: boolean;
}

/**
 * Reads and verifies `request`. Never throws for a bad request: a failure carries the reason, a
 * sentence and the status to answer. The body is consumed unless `keepBody` is set.
 */
export async function verifyRequest<T = unknown>(request: Request, options: FetchVerifyOptions): Promise<AdapterResult<T>> {
  const limit = bodyLimitOf(options);
  if (request.bodyUsed) {
    return failure(
      'raw_body_unavailable',
      'the request body was already read (request.json() or text()); call verifyRequest first and use delivery.payload, or pass request.clone()',
    );
  }
  let body: Buffer;
  try {
    body = await readWebBody(options.keepBody ? request.clone() : request, limit);
  } catch (e) {
    if (e instanceof BodyTooLargeError) return tooLarge(limit);
    throw e;
  }
  // Headers joins a repeated header with ", ", which the verifier accepts for signatures.
  return verifyDelivery<T>(Object.fromEntries(request.headers), body, options);
}

/** Like {@link verifyRequest}, but returns the delivery or throws a WebhookVerificationError. */
export async function verifyRequestOrThrow<T = unknown>(request: Request, options: FetchVerifyOptions): Promise<VerifiedDelivery<T>> {
  const r = await verifyRequest<T>(request, options);
  if (!r.ok) throw toError(r);
  const { ok: _ok, ...delivery } = r;
  return delivery;
}

/** A failure as a JSON `{ error, detail }` Response with its status (Herald logs the answer it gets). */
export function failureResponse(f: WebhookFailure): Response {
  return Response.json({ error: f.reason, detail: f.detail }, { status: f.status });
}

/**
 * Wraps a handler: verifies, answers failures with {@link failureResponse}, else calls `handler` with
 * the delivery. Options are checked once, here.
 */
export function withVerifiedWebhook<T = unknown>(
  options: FetchVerifyOptions,
  handler: (delivery: VerifiedDelivery<T>, request: Request) => Response | Promise<Response>,
): (request: Request) => Promise<Response> {
  assertVerifyOptions(options);
  bodyLimitOf(options);
  return async (request) => {
    const r = await verifyRequest<T>(request, options);
    if (!r.ok) return failureResponse(r);
    const { ok: _ok, ...delivery } = r;
    return handler(delivery, request);
  };
}
