/**
 * `herald/verify/fastify`: a plugin that verifies every request of the routes registered beside it.
 * It replaces the content-type parsers of its own encapsulated context with one that keeps the raw
 * bytes (so other routes keep Fastify's JSON parser), verifies in `preValidation`, then sets
 * `request.body` to the parsed JSON, so a body schema validates the payload.
 *
 * ```ts
 * import Fastify from 'fastify';
 * import { webhookPlugin, deliveryOf } from 'herald/verify/fastify';
 * const app = Fastify();
 * app.register(async (scope) => {
 *   await scope.register(webhookPlugin, { secrets: webhookSecret });
 *   scope.post('/webhooks/herald', async (request, reply) => {
 *     const { msgId } = deliveryOf(request); // request.body is the parsed payload
 *     return reply.code(204).send();
 *   });
 * });
 * ```
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { bodyLimitOf, failure, verifyDelivery, type AdapterOptions, type AdapterResult, type VerifiedDelivery } from '../delivery.js';
import { assertVerifyOptions } from '../verify.js';

export type { AdapterOptions, AdapterResult, VerifiedDelivery };
export { WebhookVerificationError } from '../verify.js';

/** A failure value. */
export type WebhookFailure = Extract<AdapterResult, { ok: false }>;

/** Options of {@link webhookPlugin}. */
export interface FastifyWebhookOptions extends AdapterOptions {
  /** Answers a failed verification; default `reply.code(failure.status)` with `{ error, detail }`. */
  onFailure?: (failure: WebhookFailure, request: FastifyRequest, reply: FastifyReply) => unknown;
}

const deliveries = new WeakMap<object, VerifiedDelivery>();

/** The verified delivery of a request of a route under {@link webhookPlugin}; throws if there is none. */
export function deliveryOf<T = unknown>(request: object): VerifiedDelivery<T> {
  const d = deliveries.get(request);
  if (!d) throw new Error('herald/verify/fastify: no verified delivery on this request; is the route registered in the same scope as webhookPlugin?');
  return d as VerifiedDelivery<T>;
}

/**
 * The plugin. It applies to the scope it is registered in (like a plugin wrapped with fastify-plugin),
 * so register it inside the `app.register(async (scope) => ...)` that declares the webhook routes: at
 * the root it would apply to every route. Options are checked at registration.
 */
export const webhookPlugin: FastifyPluginAsync<FastifyWebhookOptions> = async (scope, options) => {
  assertVerifyOptions(options);
  const limit = bodyLimitOf(options);
  scope.removeAllContentTypeParsers();
  // Over the limit Fastify answers 413 itself, without reading further.
  scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limit }, (_request, body, done) => done(null, body));
  scope.addHook('preValidation', async (request, reply) => {
    const body = request.body;
    const r =
      body === undefined || body === null
        ? verifyDelivery(request.headers, Buffer.alloc(0), options)
        : Buffer.isBuffer(body)
          ? verifyDelivery(request.headers, body, options)
          : failure('raw_body_unavailable', 'the body reached the hook already parsed; register webhookPlugin in the scope of the webhook routes, without fastify-plugin');
    if (!r.ok) {
      if (options.onFailure) await options.onFailure(r, request, reply);
      else await reply.code(r.status).send({ error: r.reason, detail: r.detail });
      return reply;
    }
    const { ok: _ok, ...delivery } = r;
    deliveries.set(request, delivery);
    request.body = delivery.payload;
    return undefined;
  });
};
// What fastify-plugin sets: no encapsulation context of its own, so the parser and hook reach the
// routes declared next to the registration (https://fastify.dev/docs/latest/Reference/Encapsulation/).
Object.assign(webhookPlugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'herald-verify' });
