/**
 * `herald/verify/node`: verify a delivery on a plain `node:http` server. Reads the request body
 * itself, with a size limit, so the bytes verified are the bytes Herald signed.
 *
 * ```ts
 * import http from 'node:http';
 * import { verifyNodeRequest } from 'herald/verify/node';
 * http.createServer(async (req, res) => {
 *   const delivery = await verifyNodeRequest(req, { secrets: webhookSecret });
 *   if (!delivery.ok) return void res.writeHead(delivery.status).end(delivery.detail);
 *   handle(delivery.payload);
 *   res.writeHead(204).end();
 * }).listen(3000);
 * ```
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bodyLimitOf, failure, toError, tooLarge, verifyDelivery, type AdapterOptions, type AdapterResult, type VerifiedDelivery } from '../delivery.js';
import { BodyTooLargeError, readNodeBody } from '../raw-body.js';

export type { AdapterOptions, AdapterResult, VerifiedDelivery };
export { WebhookVerificationError } from '../verify.js';

/**
 * Reads and verifies `req`. Never throws for a bad request: a failure carries the reason, a sentence
 * and the status to answer. A stream error (the client went away) rejects.
 */
export async function verifyNodeRequest<T = unknown>(req: IncomingMessage, options: AdapterOptions): Promise<AdapterResult<T>> {
  const limit = bodyLimitOf(options);
  if (req.readableEnded) {
    return failure('raw_body_unavailable', 'the request body was already read by something else; call verifyNodeRequest before any body parser');
  }
  let body: Buffer;
  try {
    body = await readNodeBody(req, limit);
  } catch (e) {
    if (e instanceof BodyTooLargeError) return tooLarge(limit);
    throw e;
  }
  return verifyDelivery<T>(req.headers, body, options);
}

/** Like {@link verifyNodeRequest}, but returns the delivery or throws a WebhookVerificationError. */
export async function verifyNodeRequestOrThrow<T = unknown>(req: IncomingMessage, options: AdapterOptions): Promise<VerifiedDelivery<T>> {
  const r = await verifyNodeRequest<T>(req, options);
  if (!r.ok) throw toError(r);
  const { ok: _ok, ...delivery } = r;
  return delivery;
}

/**
 * Answers a failure as JSON `{ error, detail }` with its status. Herald stores the answer in the
 * attempt's log, so the sender sees why. A body over the limit closes the connection (it was not read).
 */
export function sendFailure(res: ServerResponse, f: Extract<AdapterResult, { ok: false }>): void {
  if (res.headersSent) return void res.end();
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (f.reason === 'body_too_large') headers.connection = 'close';
  res.writeHead(f.status, headers).end(JSON.stringify({ error: f.reason, detail: f.detail }));
}
