/**
 * The HTTP side of `serve`: the management API, OpenAPI document and reference (buildApp), after
 * making sure an operator token exists (printed once at first start when HERALD_ADMIN_TOKEN is unset).
 */
import Fastify, { LogController } from 'fastify';
import { buildApp, newRequestId } from '../api/app.js';
import { ensureAdminToken } from '../api/auth.js';
import type { Api } from '../api/context.js';
import { errorHandler, notFoundHandler } from '../api/errors.js';
import metricsRoutes from '../api/routes/metrics.js';
import type { Herald } from '../engine/herald.js';
import { registerRequestLog } from '../api/request-log.js';
import { registerResponseHeaders } from '../api/response-headers.js';
import { toFastifyLogger } from '../logger.js';

export async function startHttpServer(herald: Herald): Promise<{ close(): Promise<void> }> {
  await ensureAdminToken(herald);
  const app = await buildApp({ herald, options: { publicUrl: herald.config.HERALD_PUBLIC_URL } });
  await listen(app, herald, herald.config.HERALD_PORT, 'HERALD_PORT or --port');
  const { HERALD_PORT: port, HERALD_HOST: host } = herald.config;
  herald.log.info({ url: `http://${host}:${port}`, docs: `http://${host}:${port}/docs` }, 'Herald listening');
  return { close: () => app.close() };
}

/**
 * The HTTP side of a worker-only process: `GET /metrics` on HERALD_METRICS_PORT and nothing else
 * (every other path is the JSON 404), so Prometheus sees each worker's deliveries and durations.
 */
export async function startMetricsServer(herald: Herald, port: number): Promise<{ close(): Promise<void> }> {
  const app = Fastify({
    loggerInstance: toFastifyLogger(herald.log),
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    genReqId: newRequestId,
  }) as unknown as Api;
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  // The same headers and log lines as the API server's (src/api/app.ts).
  registerResponseHeaders(app);
  registerRequestLog(app);
  await metricsRoutes(app, { herald, options: {} });
  await listen(app, herald, port, 'HERALD_METRICS_PORT');
  herald.log.info({ url: `http://${herald.config.HERALD_HOST}:${port}/metrics` }, 'metrics listening');
  return { close: () => app.close() };
}

async function listen(app: Api, herald: Herald, port: number, setting: string): Promise<void> {
  const host = herald.config.HERALD_HOST;
  try {
    await app.listen({ port, host });
  } catch (e) {
    await app.close();
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(`port ${port} on ${host} is in use: set ${setting}`, { cause: e });
    throw e;
  }
}
