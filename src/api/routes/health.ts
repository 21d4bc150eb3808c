/**
 * `GET /api/v1/health`: no token, so load balancers and orchestrators can probe it. It checks the
 * database, because an API node that cannot reach PostgreSQL cannot serve anything. Svix answers 204;
 * Herald answers 200 with a small body (any 2xx satisfies Svix clients) and 503 when the database is down.
 * `GET /api/v1/health/ping` (Svix's liveness probe, also HEAD) answers 204 without touching the database.
 */
import { z } from 'zod';
import { HERALD_VERSION } from '../../version.js';
import type { Api, ApiDeps } from '../context.js';
import { NoContent } from '../schemas/common.js';
import { logServerError } from '../request-log.js';

/** Health of this node. */
const HealthOut = z.object({
  status: z.enum(['ok', 'unavailable']).describe('ok, or unavailable when the database cannot be reached.'),
  version: z.string().describe('Herald version.'),
  database: z.enum(['ok', 'unreachable']).describe('Whether a query to PostgreSQL succeeded.'),
}).meta({ id: 'HealthOut' });

/** How long the database probe may take before the node reports itself unavailable. */
const PROBE_TIMEOUT_MS = 2_000;

export default async function healthRoutes(app: Api, deps: ApiDeps): Promise<void> {
  const { pool } = deps.herald;

  // Svix's ping (GET and HEAD): the process answers, nothing else is checked.
  app.get('/health/ping', {
    config: { public: true },
    schema: {
      operationId: 'v1.health.ping',
      tags: ['Health'],
      summary: 'Ping',
      description: 'Answers 204 while this Herald process serves requests; checks nothing else (GET /api/v1/health checks the database).',
      security: [],
      response: { 204: NoContent },
    },
  }, async (_req, reply) => reply.code(204).send());

  app.get('/health', {
    config: { public: true },
    schema: { operationId: 'v1.health.get', tags: ['Health'], summary: 'Health check', security: [], response: { 200: HealthOut, 503: HealthOut } },
  }, async (req, reply) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('database probe timed out')), PROBE_TIMEOUT_MS);
    });
    try {
      await Promise.race([pool.query('select 1'), timeout]);
      return { status: 'ok' as const, version: HERALD_VERSION, database: 'ok' as const };
    } catch (e) {
      logServerError(req, 503, e, 'health check: the database did not answer');
      return reply.code(503).send({ status: 'unavailable', version: HERALD_VERSION, database: 'unreachable' });
    } finally {
      clearTimeout(timer);
    }
  });
}
