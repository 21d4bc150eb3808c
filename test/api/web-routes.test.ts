/**
 * Which paths get the browser app's index.html: the app's own routes (so a reload of a client-side
 * route works), and nothing else: unknown paths are the API's JSON 404, not a 200 page.
 */
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { Api } from '../../src/api/context.js';
import { errorHandler, notFoundHandler } from '../../src/api/errors.js';
import { APP_ROUTE_SEGMENTS, isAppRoute, registerWeb } from '../../src/api/static.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

const INDEX = '<!doctype html><title>Herald</title><div id="root"></div>';

/** The web layer alone, over a web root made here: nothing but the app's files and the JSON 404. */
async function webOnly(root: string): Promise<Api> {
  const app = Fastify({ routerOptions: { ignoreTrailingSlash: true } });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  await registerWeb(app as unknown as Api, { root });
  return app as unknown as Api;
}

let built: string;
let unbuilt: string;
let web: Api;
let bare: Api;

beforeAll(async () => {
  built = await mkdtemp(join(tmpdir(), 'herald-web-'));
  await mkdir(join(built, 'assets'));
  await writeFile(join(built, 'index.html'), INDEX);
  await writeFile(join(built, 'assets', 'main-abc123.js'), 'console.log(1)');
  await writeFile(join(built, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  unbuilt = await mkdtemp(join(tmpdir(), 'herald-web-empty-'));
  web = await webOnly(built);
  bare = await webOnly(unbuilt);
});
afterAll(async () => {
  await web?.close();
  await bare?.close();
  await rm(built, { recursive: true, force: true });
  await rm(unbuilt, { recursive: true, force: true });
});

const asBrowser = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

describe('client-side routes', () => {
  const routes = [
    '/',
    '/apps/app_2Yx',
    '/apps/my.app.uid/webhooks/ep_1',
    '/apps/app_1/webhooks/ep_1/edit',
    '/apps/app_1/webhooks/new',
    '/apps/',
    '/event-types',
    '/api-keys',
    '/health',
    '/portal',
    '/portal/',
    '/portal/webhooks/ep_1/edit',
    '/apps/app_1?tab=settings',
    '/index.html',
  ];

  it('answer index.html on a reload, whatever the Accept header', async () => {
    for (const url of routes) {
      for (const headers of [asBrowser, { accept: '*/*' }, {}]) {
        const res = await web.inject({ method: 'GET', url, headers });
        expect({ url, status: res.statusCode, type: res.headers['content-type'] }).toEqual({ url, status: 200, type: 'text/html; charset=utf-8' });
        expect(res.body).toBe(INDEX);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      }
    }
  });

  it('answer HEAD too', async () => {
    const res = await web.inject({ method: 'HEAD', url: '/apps/app_1' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
  });

  it('keep the portal frameable and the dashboard not', async () => {
    const portal = await web.inject({ method: 'GET', url: '/portal/webhooks/ep_1', headers: asBrowser });
    expect(portal.headers['x-frame-options']).toBeUndefined();
    expect(portal.headers['content-security-policy']).toContain('frame-ancestors *');
    const dash = await web.inject({ method: 'GET', url: '/event-types', headers: asBrowser });
    expect(dash.headers['x-frame-options']).toBe('DENY');
  });

  it('say the dashboard is not built (503) when web/dist has no index.html', async () => {
    const res = await bare.inject({ method: 'GET', url: '/apps/app_1', headers: asBrowser });
    expect(res.statusCode).toBe(503);
    expect(res.body).toMatch(/npm run build/);
  });
});

describe('files of the built app', () => {
  it('serves hashed assets and top-level files that exist', async () => {
    const asset = await web.inject({ method: 'GET', url: '/assets/main-abc123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    const icon = await web.inject({ method: 'GET', url: '/favicon.svg' });
    expect(icon.statusCode).toBe(200);
    expect(icon.body).toContain('<svg');
  });
});

describe('paths that are not the app', () => {
  const unknown = [
    '/metrics',
    '/favicon.ico',
    '/robots.txt',
    '/wp-login.php',
    '/foo.php',
    '/.env',
    '/api-foo',
    '/api',
    '/api/v1/nope',
    '/docs/nope',
    '/appsx',
    '/portalx/webhooks',
    '/some/deep/path',
    '/assets/missing-123.js',
    '/index.php?page=/apps/x',
  ];

  it('get the JSON 404, even when a browser asks for HTML', async () => {
    for (const app of [web, bare]) {
      for (const url of unknown) {
        const res = await app.inject({ method: 'GET', url, headers: asBrowser });
        expect({ url, status: res.statusCode }).toEqual({ url, status: 404 });
        expect(res.headers['content-type']).toContain('application/json');
        expect(res.json()).toMatchObject({ code: 'not_found' });
        expect(res.body).not.toContain('<div id="root">');
      }
    }
  });

  it('and other methods than GET on app routes are not pages either', async () => {
    const res = await web.inject({ method: 'POST', url: '/apps/app_1', payload: {} });
    expect(res.statusCode).toBe(404);
  });
});

describe('the route list', () => {
  it('recognises the first segment only', () => {
    expect(isAppRoute('/apps')).toBe(true);
    expect(isAppRoute('/apps/a/b/c')).toBe(true);
    expect(isAppRoute('/api-keys/x')).toBe(true);
    expect(isAppRoute('/api-keysx')).toBe(false);
    expect(isAppRoute('/metrics')).toBe(false);
    expect(isAppRoute('')).toBe(false);
  });

  it("covers every route the browser app matches (web/src), and no other", async () => {
    const sources = await Promise.all(['web/src/Dashboard.tsx', 'web/src/Portal.tsx'].map((f) => readFile(f, 'utf8')));
    const portalBase = /export const PORTAL_BASE = '([^']+)'/.exec(sources[1]!)?.[1];
    expect(portalBase).toBe('/portal');
    const patterns = sources
      .join('\n')
      .replaceAll('${PORTAL_BASE}', portalBase!)
      .matchAll(/(?:matchPath\(|pathname === |pathname\.startsWith\()['`]([^'`]+)['`]/g);
    const segments = new Set([...patterns].map((m) => m[1]!.split('/')[1]!).filter((s) => s !== ''));
    segments.add(portalBase!.slice(1));
    expect([...segments].sort()).toEqual([...APP_ROUTE_SEGMENTS].sort());
  });
});

describe('in the full server', () => {
  let t: TestHerald;
  let app: Api;
  beforeAll(async () => {
    t = await startTestHerald();
    app = await buildApp({ herald: t.herald, options: {} });
  });
  afterAll(async () => {
    await app?.close();
    await t?.close();
  });

  it('serves /metrics, the API health check, and a JSON 404 for unknown paths', async () => {
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/v1/health' })).statusCode).toBe(200);
    for (const url of ['/wp-login.php', '/api-foo', '/metrics.json', '/favicon.ico']) {
      const res = await app.inject({ method: 'GET', url, headers: asBrowser });
      expect({ url, status: res.statusCode }).toEqual({ url, status: 404 });
      expect(res.json()).toMatchObject({ code: 'not_found' });
    }
  });
});
