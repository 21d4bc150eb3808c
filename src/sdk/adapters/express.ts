/**
 * `herald/verify/express`: a middleware that reads the raw body (as `express.raw({ type: '*\/*' })`
 * would), verifies it, then sets `req.body` to the parsed JSON. Mount it on the webhook route, before
 * (or instead of) any JSON body parser: once `express.json()` has read the stream the raw bytes are gone.
 *
 * ```ts
 * import express from 'express';
 * import { webhookMiddleware, deliveryOf } from 'herald/verify/express';
 * const app = express();
 * app.post('/webhooks/herald', webhookMiddleware({ secrets: webhookSecret }), (req, res) => {
 *   const { msgId } = deliveryOf(req); // req.body is the parsed payload
 *   res.sendStatus(204);
 * });
 * app.use(express.json()); // for the other routes
 * ```
 *
 * Typed structurally on node:http, so the package does not depend on express.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bodyLimitOf, failure, tooLarge, verifyDelivery, type AdapterOptions, type AdapterResult, type VerifiedDelivery } from '../delivery.js';
import { BodyTooLargeError, readNodeBody } from '../raw-body.js';
import { assertVerifyOptions } from '../verify.js';
import { sendFailure } from './node-http.js';

export type { AdapterOptions, AdapterResult, VerifiedDelivery };
export { WebhookVerificationError } from '../verify.js';

/** The request as the middleware sees it: express's Request is one. */
type Req = IncomingMessage & { body?: unknown };
/** A failure value. */
export type WebhookFailure = Extract<AdapterResult, { ok: false }>;

/** Options of {@link webhookMiddleware}. */
export interface ExpressWebhookOptions extends AdapterOptions {
  /**
   * Answers a failed verification; default `res.status(failure.status)` with JSON `{ error, detail }`.
   * Call `next(err)` here to use your error handler instead.
   */
  onFailure?: (failure: WebhookFailure, req: Req, res: ServerResponse, next: (err?: unknown) => void) => void;
}

const deliveries = new WeakMap<object, VerifiedDelivery>();

/** The verified delivery of a request that passed {@link webhookMiddleware}; throws if it did not. */
export function deliveryOf<T = unknown>(req: object): VerifiedDelivery<T> {
  const d = deliveries.get(req);
  if (!d) throw new Error('herald/verify/express: no verified delivery on this request; is webhookMiddleware() mounted on this route?');
  return d as VerifiedDelivery<T>;
}

const PARSED_BEFORE =
  'a body parser read the request before webhookMiddleware, so the raw bytes are gone; mount webhookMiddleware() on the webhook route before express.json() (or use express.raw({ type: "*/*" }) there)';

async function rawBodyOf(req: Req, limit: number): Promise<Buffer | WebhookFailure> {
  // express.raw() ran: its Buffer is the raw body (over its own limit it already answered 413).
  if (Buffer.isBuffer(req.body)) return req.body.length > limit ? tooLarge(limit) : req.body;
  if (req.readableEnded) return failure('raw_body_unavailable', PARSED_BEFORE);
  try {
    return await readNodeBody(req, limit);
  } catch (e) {
    if (e instanceof BodyTooLargeError) return tooLarge(limit);
    throw e;
  }
}

/**
 * The middleware. Options are checked here, so an unusable secret or profile throws when the app is
 * built rather than failing every delivery.
 */
export function webhookMiddleware(options: ExpressWebhookOptions): (req: Req, res: ServerResponse, next: (err?: unknown) => void) => void {
  assertVerifyOptions(options);
  const limit = bodyLimitOf(options);
  return (req, res, next) => {
    rawBodyOf(req, limit).then(
      (raw) => {
        const r = Buffer.isBuffer(raw) ? verifyDelivery(req.headers, raw, options) : raw;
        if (!r.ok) return options.onFailure ? options.onFailure(r, req, res, next) : sendFailure(res, r);
        const { ok: _ok, ...delivery } = r;
        deliveries.set(req, delivery);
        req.body = delivery.payload;
        next();
      },
      (e: unknown) => next(e),
    );
  };
}
