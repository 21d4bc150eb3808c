/**
 * What the HTTP server logs (issue 13: a 500 said "quote req_… to the operator" and no log had it):
 *  - one access line per request, at info: method, route pattern and path (never the query string,
 *    which some clients fill with tokens), status, duration, response size, request id, and who
 *    called (principal kind and token id, never the token or the Authorization header). Successful
 *    health checks and /metrics scrapes are polled every few seconds by machines: they log at debug,
 *    and at info like anything else when they fail;
 *  - every 5xx once more, at error, with its cause (name, message, stack, PostgreSQL code, the cause
 *    chain), whichever path answered it: the error handler, a route that answers 503 itself, or
 *    Fastify's own fallback when even the error answer failed. 4xx are the caller's mistakes and are
 *    only in the access line.
 * Every line carries `reqId`, the id the error answers quote.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Api } from './context.js';

/** Polled by machines: their successful answers are access-logged at debug. */
export const QUIET_ROUTES: ReadonlySet<string> = new Set(['/api/v1/health', '/api/v1/health/ping', '/metrics']);

/** Requests whose 5xx already has its error line, so each is logged once. */
const serverErrorLogged = new WeakSet<FastifyRequest>();
/** The last error Fastify saw for a request (onError), the cause of a 5xx answered by its fallback. */
const lastError = new WeakMap<FastifyRequest, unknown>();

/** The path of a request, without its query string. */
function pathOf(req: FastifyRequest): string {
  const q = req.url.indexOf('?');
  return q < 0 ? req.url : req.url.slice(0, q);
}

/**
 * Logs a 5xx answer at error with its cause, once per request. Call it where a 5xx is decided
 * (the error handler; a route answering 503 itself); the access log catches any other.
 */
export function logServerError(req: FastifyRequest, status: number, err: unknown, msg = 'request failed'): void {
  if (serverErrorLogged.has(req)) return;
  serverErrorLogged.add(req);
  req.log.error({ err, status, method: req.method, route: req.routeOptions?.url ?? null, path: pathOf(req) }, msg);
}

/** The fields of a request's access line. */
export interface AccessLine {
  /** HTTP method. */
  method: string;
  /** Route pattern (`/api/v1/app/:app_id`); null when no route matched (a 404). */
  route: string | null;
  /** Path as requested, without the query string. */
  path: string;
  /** Status code answered. */
  status: number;
  /** Milliseconds from the request's arrival to the end of the answer. */
  ms: number;
  /** Bytes of the response body, when known (Content-Length). */
  bytes?: number;
  /** Kind of credential (`admin`, `api_key`, `portal`), when the request carried a valid one. */
  principal?: string;
  /** Id of that credential (`admin` for the operator token, `key_…` for API keys), never the token. */
  tokenId?: string;
}

/** The access line of a finished request. */
export function accessLine(req: FastifyRequest, reply: FastifyReply): AccessLine {
  const line: AccessLine = {
    method: req.method,
    route: req.routeOptions?.url ?? null,
    path: pathOf(req),
    status: reply.statusCode,
    ms: Math.round(reply.elapsedTime * 10) / 10,
  };
  const length = Number(reply.getHeader('content-length'));
  if (Number.isFinite(length)) line.bytes = length;
  const principal = (req as { principal?: { kind: string; id: string } | null }).principal;
  if (principal) {
    line.principal = principal.kind;
    line.tokenId = principal.id;
  }
  return line;
}

/** Installs the access log and the 5xx safety net on `app` (before any route, so every route has them). */
export function registerRequestLog(app: Api): void {
  app.addHook('onError', async (req, _reply, err) => {
    lastError.set(req, err);
  });
  app.addHook('onResponse', async (req, reply) => {
    const line = accessLine(req, reply);
    if (line.status >= 500) logServerError(req, line.status, lastError.get(req), 'server error');
    const quiet = line.status < 400 && line.route !== null && QUIET_ROUTES.has(line.route);
    req.log[quiet ? 'debug' : 'info'](line, `${line.method} ${line.path} ${line.status} ${line.ms}ms`);
  });
}
