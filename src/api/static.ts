/**
 * Serves the browser app (web/dist, built by `npm run build`): the dashboard at `/` and the customer
 * portal at `/portal`. A GET (or HEAD) of one of the app's own routes gets index.html, so client-side
 * routes survive a reload; any other path is the JSON 404 of the API, so a scraper asking for
 * `/metrics` on a node without it, a probe for `/wp-login.php` or a typo such as `/api-foo` learns
 * that nothing is there instead of receiving a 200 page. The routes are recognised by their first
 * segment ({@link APP_ROUTE_SEGMENTS}, kept equal to the client's routes by a test), not by the
 * Accept header, which cannot tell them apart: curl, fetch and Prometheus all accept any type too.
 * Security headers:
 *  - CSP `default-src 'self'` on every page: nothing from other hosts, no inline script or style;
 *  - the dashboard cannot be framed (`frame-ancestors 'none'` and `X-Frame-Options: DENY`, clickjacking);
 *  - the portal can, by the origins in `portalFrameAncestors`, since platforms embed it in an iframe;
 *  - index.html is never cached (a new release must not meet an old page); hashed assets are immutable.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Api } from './context.js';
import { logServerError } from './request-log.js';

/** Options of registerWeb. */
export interface WebOptions {
  /** Directory of the built app; defaults to the package's web/dist. */
  root?: string;
  /**
   * CSP frame-ancestors sources allowed to embed the portal, e.g. `['https://shop.example.com']`.
   * Default `['*']`: any https or http site, because a portal page is useless without the short-lived
   * token its embedder hands it, and its session lives in the embedder's partitioned storage.
   */
  portalFrameAncestors?: string[];
}

/**
 * First path segments of the browser app's routes (web/src/Dashboard.tsx and Portal.tsx): `/` itself,
 * `/apps/…`, `/alerts`, `/event-types`, `/api-keys`, `/health` and the portal under `/portal`. Deeper paths below
 * them are the app's too, dots included (application uids may contain them); it shows its own "not
 * found" page for those it does not know.
 */
export const APP_ROUTE_SEGMENTS: readonly string[] = ['apps', 'alerts', 'event-types', 'api-keys', 'health', 'portal'];

/** Whether a request path (no query string) is a route of the browser app. */
export function isAppRoute(path: string): boolean {
  if (path === '/') return true;
  const end = path.indexOf('/', 1);
  return APP_ROUTE_SEGMENTS.includes(end < 0 ? path.slice(1) : path.slice(1, end));
}

/** Where web/dist is: next to src/ when run from source, one level further up from dist/src/api. */
export function defaultWebRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '../../web/dist'), resolve(here, '../../../web/dist')];
  return candidates.find((c) => existsSync(join(c, 'index.html'))) ?? candidates[0]!;
}

/** The Content-Security-Policy of a page of the app. */
export function contentSecurityPolicy(frameAncestors: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');
}

/** Whether a request path is the portal (`/portal` or below). */
export function isPortalPath(path: string): boolean {
  return path === '/portal' || path.startsWith('/portal/');
}

/** Validates frame-ancestors sources: keywords, `*`, or scheme/host sources without spaces or `;`. */
function frameAncestorsValue(sources: string[] | undefined): string {
  const list = sources?.length ? sources : ['*'];
  for (const s of list) {
    if (!/^('self'|'none'|\*|[a-z][a-z0-9+.-]*:(\/\/[^\s;,']+)?|(\*\.)?[^\s;,':/]+(:\d+|:\*)?)$/i.test(s)) {
      throw new Error(`portalFrameAncestors: "${s}" is not a CSP source such as https://shop.example.com or 'self'`);
    }
  }
  return list.join(' ');
}

function setCommonHeaders(reply: FastifyReply): void {
  void reply.header('x-content-type-options', 'nosniff');
  void reply.header('referrer-policy', 'no-referrer');
  void reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=()');
}

/** Registers the app's routes on `app` (after the API routes, so theirs win). */
export async function registerWeb(app: Api, options: WebOptions = {}): Promise<void> {
  const root = options.root ?? defaultWebRoot();
  const built = existsSync(join(root, 'index.html'));
  const portalCsp = contentSecurityPolicy(frameAncestorsValue(options.portalFrameAncestors));
  const dashboardCsp = contentSecurityPolicy("'none'");

  await app.register(async (scope) => {
    if (built) await scope.register(fastifyStatic, { root, serve: false, decorateReply: true });

    const sendPage = (req: FastifyRequest, reply: FastifyReply) => {
      const path = req.url.split('?')[0] ?? '/';
      setCommonHeaders(reply);
      void reply.header('cache-control', 'no-store');
      if (isPortalPath(path)) {
        void reply.header('content-security-policy', portalCsp);
      } else {
        void reply.header('content-security-policy', dashboardCsp);
        void reply.header('x-frame-options', 'DENY');
        void reply.header('cross-origin-opener-policy', 'same-origin');
      }
      if (!built) {
        logServerError(req, 503, new Error(`the dashboard is not built (no index.html in ${root}): run npm run build`), 'dashboard not built');
        return reply
          .code(503)
          .type('text/plain; charset=utf-8')
          .send('The Herald dashboard has not been built. Run `npm run build` (or `npm run build:web`) and restart.\n');
      }
      return reply.type('text/html; charset=utf-8').sendFile('index.html', root, { cacheControl: false });
    };

    scope.get('/', { schema: { hide: true } }, sendPage);

    scope.get('/assets/*', { schema: { hide: true } }, (req, reply) => {
      setCommonHeaders(reply);
      void reply.header('cross-origin-resource-policy', 'same-origin');
      if (!built) return reply.callNotFound();
      const file = (req.params as { '*': string })['*'];
      return reply.sendFile(join('assets', file), root, { maxAge: '365d', immutable: true });
    });

    scope.get('/*', { schema: { hide: true } }, (req, reply) => {
      const path = req.url.split('?')[0] ?? '/';
      if (isAppRoute(path) || path === '/index.html') return sendPage(req, reply);
      // A file at the top of web/dist (favicon.svg, robots.txt) when it was built; nothing else.
      const name = path.slice(1);
      if (built && /^[\w-][\w-]*\.[\w.-]+$/.test(name) && existsSync(join(root, name))) {
        setCommonHeaders(reply);
        return reply.sendFile(name, root, { maxAge: '1h' });
      }
      return reply.callNotFound();
    });
  });
}
