/**
 * Serves the browser app (web/dist, built by `npm run build`): the dashboard at `/` and the customer
 * portal at `/portal` (issue 4). Any GET that is not the API, the API reference or a built file gets
 * index.html, so client-side routes survive a reload. Security headers:
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

/** Path prefixes that belong to the server, never to the browser app (their 404s stay JSON). */
const SERVER_PREFIXES = ['/api', '/docs'];

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
      if (SERVER_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`))) return reply.callNotFound();
      const topLevel = path.lastIndexOf('/') === 0;
      if (topLevel && path.includes('.')) {
        // A file name (favicon.svg, robots.txt): serve it from the top of web/dist if it is there.
        // Deeper paths are client routes even with dots (application uids may contain them).
        const name = path.slice(1);
        if (built && /^[\w-][\w.-]*$/.test(name) && existsSync(join(root, name))) {
          setCommonHeaders(reply);
          return reply.sendFile(name, root, { maxAge: '1h' });
        }
        return reply.callNotFound();
      }
      return sendPage(req, reply);
    });
  });
}
