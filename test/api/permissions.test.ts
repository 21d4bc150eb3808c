/**
 * Every operation of the served OpenAPI document declares what it needs (route config `permission`),
 * and a token holding every permission but that one gets 403 (issue 13). A new route without a
 * declaration fails here; so does one whose declaration is not enforced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteNeed } from '../../src/api/auth.js';
import { PERMISSIONS, type Need } from '../../src/engine/auth-tokens.js';
import { startApi, type ApiHarness } from '../support/api.js';

let api: ApiHarness;
let doc: any;
beforeAll(async () => {
  api = await startApi();
  doc = (await api.call('GET', '/api/openapi.json', { token: null })).body;
});
afterAll(async () => {
  await api.close();
});

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** Operations any valid token may call (or no token at all): each is here on purpose. */
const OPEN_TO_ANY_TOKEN = new Set([
  'v1.health.get',
  'v1.health.ping',
  'v1.public.get-endpoint-keys',
  'v1.authentication.whoami',
  'v1.authentication.logout',
]);

interface Operation {
  method: string;
  path: string;
  operationId: string;
}

function operations(): Operation[] {
  return Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, op]) => ({ method: method.toUpperCase(), path, operationId: op.operationId as string })),
  );
}

/** The needs of a declaration, as a list. */
const needsOf = (declared: RouteNeed): Need[] => (declared === 'any' ? [] : typeof declared === 'string' ? [declared as Need] : [...declared]);

/** A request URL for a documented path: placeholders for the parameters (the check runs before any lookup). */
const urlOf = (path: string) => path.replace(/\{[^}]+\}/g, (p) => `x_${p.slice(1, -1)}`);

/** The stored permission a need stands on: publishing is create. */
const permissionOf = (need: Need) => (need === 'publish' ? 'create' : need);

async function send(op: Operation, token: string) {
  const body = ['POST', 'PUT', 'PATCH'].includes(op.method) ? {} : undefined;
  return api.call(op.method, urlOf(op.path), { token, body });
}

describe('permissions per operation', () => {
  it('every operation in the OpenAPI document declares the permission it needs', () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThan(60);
    const undeclared = ops.filter((op) => api.app.routeNeeds.get(op.operationId) === undefined).map((op) => `${op.method} ${op.path}`);
    expect(undeclared).toEqual([]);
    const open = ops.filter((op) => api.app.routeNeeds.get(op.operationId) === 'any').map((op) => op.operationId);
    expect(open.sort()).toEqual([...OPEN_TO_ANY_TOKEN].sort());
  });

  it('answers 403 to a token with every permission except the one an operation needs', async () => {
    const keys = new Map<string, string>();
    for (const p of PERMISSIONS) keys.set(p, await api.makeKey(PERMISSIONS.filter((x) => x !== p)));
    const all = await api.makeKey([...PERMISSIONS]);
    const refused: string[] = [];
    const notRefused: string[] = [];
    for (const op of operations()) {
      const needs = needsOf(api.app.routeNeeds.get(op.operationId)!);
      for (const need of needs) {
        const res = await send(op, keys.get(permissionOf(need))!);
        const label = `${op.method} ${op.path} without ${permissionOf(need)}`;
        if (res.status === 403 && res.body.code === 'forbidden') refused.push(label);
        else notRefused.push(`${label}: ${res.status}`);
      }
      // With every permission the same request gets past the check (404 for the placeholder ids, 422…).
      if (needs.length > 0) {
        const res = await send(op, all);
        if (res.status === 403) notRefused.push(`${op.method} ${op.path} refused with every permission: ${res.body.detail}`);
      }
    }
    expect(notRefused).toEqual([]);
    expect(refused.length).toBeGreaterThan(60);
  });

  it('refuses the publishing operations to a portal token with all four permissions but no publish grant', async () => {
    const a = await api.makeApp();
    const portal = await api.call('POST', `/api/v1/auth/app-portal-access/${a.id}`, { body: {} });
    expect((await api.call('GET', '/api/v1/auth/whoami', { token: portal.body.token })).body).toMatchObject({
      permissions: ['read', 'create', 'update', 'delete'],
      canPublish: false,
    });
    const publishing = operations().filter((op) => needsOf(api.app.routeNeeds.get(op.operationId)!).includes('publish'));
    expect(publishing.map((op) => op.operationId).sort()).toEqual(['v1.endpoint.send-example', 'v1.message.create', 'v1.message.create-batch']);
    for (const op of publishing) {
      const res = await api.call(op.method, urlOf(op.path).replace('x_app_id', a.id), { token: portal.body.token, body: {} });
      expect({ op: op.operationId, status: res.status }).toEqual({ op: op.operationId, status: 403 });
      expect(res.body.detail).toMatch(/allowPublish/);
    }
  });

  it('lets an update-only global key change endpoints but not send an example event (send-example needs create)', async () => {
    const a = await api.makeApp();
    const ep = await api.call('POST', `/api/v1/app/${a.id}/endpoint`, { body: { url: 'https://a.example.com/hook' } });
    const updater = await api.makeKey(['read', 'update']);
    const example = await api.call('POST', `/api/v1/app/${a.id}/endpoint/${ep.body.id}/send-example`, { token: updater, body: { eventType: 'svix.ping' } });
    expect(example.status).toBe(403);
    expect(example.body.detail).toMatch(/"create" permission/);
    const patch = await api.call('PATCH', `/api/v1/app/${a.id}/endpoint/${ep.body.id}`, { token: updater, body: { description: 'renamed' } });
    expect(patch.status).toBe(200);
    const publisher = await api.makeKey(['create']);
    const sent = await api.call('POST', `/api/v1/app/${a.id}/endpoint/${ep.body.id}/send-example`, { token: publisher, body: { eventType: 'svix.ping' } });
    expect(sent.status).toBe(202);
  });
});
