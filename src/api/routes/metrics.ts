/**
 * `GET /metrics`: Prometheus text exposition of this Herald (docs/metrics.md). It sits outside
 * /api/v1 and does not take API tokens: a scraper gets its own credential, HERALD_METRICS_TOKEN, sent
 * as `Authorization: Bearer <token>` and compared in constant time. Without that setting the route is
 * open, for a node listening on a private address only.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { HeraldError } from '../../core/errors.js';
import type { Api, ApiDeps } from '../context.js';

/** Path of the scrape endpoint. */
export const METRICS_PATH = '/metrics';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Whether the request carries the token. Digests of equal length are compared, so neither the
 * comparison's time nor an early length mismatch says anything about the token.
 */
function carriesToken(req: FastifyRequest, expected: Buffer): boolean {
  const m = BEARER.exec(req.headers.authorization ?? '');
  return m !== null && timingSafeEqual(digest(m[1]!), expected);
}

export default async function metricsRoutes(app: Api, deps: ApiDeps): Promise<void> {
  const { metrics, config } = deps.herald;
  const expected = config.HERALD_METRICS_TOKEN === undefined ? null : digest(config.HERALD_METRICS_TOKEN);

  app.get(METRICS_PATH, { schema: { hide: true } }, async (req, reply) => {
    if (expected !== null && !carriesToken(req, expected)) {
      void reply.header('www-authenticate', 'Bearer');
      throw new HeraldError('unauthorized', 'send Authorization: Bearer <HERALD_METRICS_TOKEN> (set in the scraper\'s configuration)');
    }
    const body = await metrics.scrape();
    return reply.header('cache-control', 'no-store').type(metrics.contentType).send(body);
  });
}
