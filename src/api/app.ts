/**
 * buildApp(deps): the Fastify application — management API (Svix v1 shaped), OpenAPI document,
 * API reference, Prometheus metrics at /metrics, and (once built) the dashboard. One plugin per
 * resource under src/api/routes/.
 */
import Fastify, { LogController } from 'fastify';
import { serializerCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Api, ApiDeps } from './context.js';
import { errorHandler, notFoundHandler, validatorCompiler } from './errors.js';
import { registerAuth } from './auth.js';
import { registerRateLimit } from './rate-limit.js';
import { registerOpenApi } from './openapi.js';
import healthRoutes from './routes/health.js';
import applicationRoutes from './routes/applications.js';
import eventTypeRoutes from './routes/event-types.js';
import endpointRoutes from './routes/endpoints.js';
import messageRoutes from './routes/messages.js';
import attemptRoutes from './routes/attempts.js';
import backgroundTaskRoutes from './routes/background-tasks.js';
import endpointReplayRoutes from './routes/endpoint-replays.js';
import expungeRoutes from './routes/expunge.js';
import statsRoutes from './routes/stats.js';
import eventTypeImportRoutes from './routes/event-type-import.js';
import authRoutes from './routes/auth.js';
import operationalWebhookRoutes from './routes/operational-webhooks.js';
import alertSettingsRoutes from './routes/alert-settings.js';
import metricsRoutes from './routes/metrics.js';
import { registerWeb } from './static.js';
import { registerRequestLog } from './request-log.js';
import { registerResponseHeaders } from './response-headers.js';
import { toFastifyLogger } from '../logger.js';

/** A request id (`req_` and 10 base-36 characters): answered in 5xx bodies and on every log line of the request. */
export function newRequestId(): string {
  return `req_${Math.random().toString(36).slice(2, 12).padEnd(10, '0')}`;
}

/** Largest request body: the payload limit plus room for the envelope around it. */
function bodyLimit(maxPayloadBytes: number): number {
  return maxPayloadBytes + 64 * 1024;
}

export async function buildApp(deps: ApiDeps): Promise<Api> {
  const { herald } = deps;
  const app = Fastify({
    // Herald's own logger (pino, redacting): Fastify's per-request child carries `reqId`. Fastify's
    // two lines per request are off; src/api/request-log.ts writes one access line instead.
    loggerInstance: toFastifyLogger(herald.log),
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    bodyLimit: bodyLimit(herald.config.HERALD_MAX_PAYLOAD_BYTES),
    genReqId: newRequestId,
    // Svix ids and uids may contain dots; keep routing literal.
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  // First, so every answer below (401s of the token check included) has its headers and its line.
  registerResponseHeaders(app as unknown as Api);
  registerRequestLog(app as unknown as Api);

  await registerOpenApi(app);
  await registerAuth(app, deps);
  registerRateLimit(app as unknown as Api, { scoped: herald.config.HERALD_API_RATE_LIMIT, global: herald.config.HERALD_API_RATE_LIMIT_GLOBAL });
  await app.register(
    async (v1) => {
      const api = v1 as unknown as Api;
      await healthRoutes(api, deps);
      await applicationRoutes(api, deps);
      await eventTypeRoutes(api, deps);
      await endpointRoutes(api, deps);
      await messageRoutes(api, deps);
      await attemptRoutes(api, deps);
      await endpointReplayRoutes(api, deps);
      await backgroundTaskRoutes(api, deps);
      await expungeRoutes(api, deps);
      await statsRoutes(api, deps);
      await eventTypeImportRoutes(api, deps);
      await authRoutes(api, deps);
      await operationalWebhookRoutes(api, deps);
      await alertSettingsRoutes(api, deps);
    },
    { prefix: '/api/v1' },
  );
  // Outside /api/v1: scrapers authenticate with HERALD_METRICS_TOKEN, not with API tokens.
  await metricsRoutes(app as unknown as Api, deps);
  await registerWeb(app as unknown as Api, { portalFrameAncestors: herald.config.HERALD_PORTAL_FRAME_ANCESTORS });
  // The API server runs background tasks (recover, replays): its own, and any a stopped process left.
  app.addHook('onReady', async () => herald.backgroundTasks.start());
  app.addHook('onClose', async () => herald.backgroundTasks.stop());
  return app as unknown as Api;
}
