/**
 * Headers on every response, whatever answers it (a route, the error handler, the 404 handler, the
 * OpenAPI document and reference, the dashboard, /metrics), set as the request arrives so even a
 * 401 from the token check or a 413 from the body parser carries them (issue 13):
 *  - `X-Content-Type-Options: nosniff`: a browser never reads a JSON answer or a delivery log's
 *    stored response body as HTML or script;
 *  - `Cache-Control: no-store` on everything under /api/v1. Secret reads, API key and portal token
 *    creation carry credentials, but so can answers nobody thinks of (an endpoint's headers, a
 *    message payload), and API answers are per caller anyway: no browser, proxy or CDN keeps any.
 *    A route whose answer is public and the same for everyone may replace it (an endpoint's
 *    Ed25519 public keys are `public, max-age=…`);
 *  - `X-Request-Id`: the id of the request on every log line about it, so a caller reporting a
 *    problem can quote it for any answer, not only the 5xx bodies that name it.
 */
import type { Api } from './context.js';

/** Prefix of the management API, whose answers are never stored by caches. */
const API_PREFIX = '/api/v1';

/** Whether a path is under /api/v1 (the path alone; the query string does not count). */
function isApiPath(url: string): boolean {
  return url === API_PREFIX || url.startsWith(`${API_PREFIX}/`) || url.startsWith(`${API_PREFIX}?`);
}

/** Installs the headers on `app`; call it before anything else is registered, so every route has them. */
export function registerResponseHeaders(app: Api): void {
  app.addHook('onRequest', async (req, reply) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('x-request-id', req.id);
    if (isApiPath(req.url)) void reply.header('cache-control', 'no-store');
  });
}
