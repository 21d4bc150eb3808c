/**
 * Portal tokens carry the authority of what minted them and no more (issue 13): they die with the
 * API key or operator token that minted them, on every node; they publish only when the platform
 * grants it; and their links are never built from an unlisted Host header.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { ensureAdminToken } from '../../src/api/auth.js';
import type { Api } from '../../src/api/context.js';
import { openHerald, type Herald } from '../../src/engine/herald.js';
import { silentLogger } from '../../src/logger.js';
import { startApi, type ApiHarness } from '../support/api.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api.close();
});

const MINUTE = 60_000;

/** Another Herald node on the same database and clock, with its own credential cache and settings. */
async function secondNode(t: TestHerald, env: Partial<Herald['config']> = {}): Promise<{ herald: Herald; app: Api; get(url: string, token: string): Promise<{ status: number; body: any }>; close(): Promise<void> }> {
  const herald = await openHerald({ config: { ...t.herald.config, ...env }, log: silentLogger, clock: t.clock, skipMigrations: true });
  const app = await buildApp({ herald, options: {} });
  await app.ready();
  return {
    herald,
    app,
    async get(url, token) {
      const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
      return { status: res.statusCode, body: res.json() };
    },
    async close() {
      await app.close();
      await herald.close();
    },
  };
}

async function portalFor(appId: string, opts: { token?: string; body?: Record<string, unknown> } = {}): Promise<string> {
  const res = await api.call('POST', `/api/v1/auth/app-portal-access/${appId}`, { token: opts.token, body: opts.body ?? {} });
  if (res.status !== 200) throw new Error(`portal: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token;
}

describe('portal tokens die with what minted them', () => {
  it('refuses them at once when the minting API key is revoked, and on another node within the cache lifetime', async () => {
    const a = await api.makeApp();
    const created = await api.call('POST', '/api/v1/api-key', { body: { name: 'platform backend', permissions: ['read', 'create', 'update', 'delete'] } });
    const portal = await portalFor(a.id, { token: created.body.key });
    const other = await secondNode(api.t);
    try {
      expect((await api.call('GET', `/api/v1/app/${a.id}/endpoint`, { token: portal })).status).toBe(200);
      expect((await other.get(`/api/v1/app/${a.id}/endpoint`, portal)).status).toBe(200); // now in the other node's cache

      expect((await api.call('DELETE', `/api/v1/api-key/${created.body.id}`)).status).toBe(204);
      const refused = await api.call('GET', `/api/v1/app/${a.id}/endpoint`, { token: portal });
      expect(refused.status).toBe(401);
      expect(refused.body.detail).toMatch(/the API key that issued this portal token was revoked at .*; ask for a new portal link/);
      await vi.waitFor(async () => expect((await other.get(`/api/v1/app/${a.id}/endpoint`, portal)).status).toBe(401), { timeout: 5_000, interval: 100 });
    } finally {
      await other.close();
    }
  });

  it('refuses them once the minting key expires, even if they were issued to live longer', async () => {
    const a = await api.makeApp();
    const created = await api.call('POST', '/api/v1/api-key', { body: { name: 'expiring', permissions: ['read', 'create'] } });
    await api.t.herald.pool.query('update auth_token set expires_at = $2 where id = $1', [created.body.id, new Date(api.t.clock.now().getTime() + 10 * MINUTE)]);
    const portal = await portalFor(a.id, { token: created.body.key, body: { expiry: 3600 } });
    api.t.clock.advance(10 * MINUTE - 1000);
    expect((await api.call('GET', `/api/v1/app/${a.id}`, { token: portal })).status).toBe(200);
    api.t.clock.advance(1000);
    const res = await api.call('GET', `/api/v1/app/${a.id}`, { token: portal });
    expect(res.status).toBe(401);
    expect(res.body.detail).toMatch(/the API key that issued this portal token expired at/);
  });

  it('refuses them on a node whose HERALD_ADMIN_TOKEN is not the one that minted them', async () => {
    const a = await api.makeApp();
    const portal = await portalFor(a.id); // minted with the operator token
    const rotated = await secondNode(api.t, { HERALD_ADMIN_TOKEN: `rotated_${randomBytes(24).toString('hex')}` });
    const same = await secondNode(api.t);
    try {
      const res = await rotated.get(`/api/v1/app/${a.id}`, portal);
      expect(res.status).toBe(401);
      expect(res.body.detail).toMatch(/operator token \(HERALD_ADMIN_TOKEN\) that has since been changed/);
      // Another process with the same operator token recognises it: the fingerprint is stable.
      expect((await same.get(`/api/v1/app/${a.id}`, portal)).status).toBe(200);
      // The database holds a fingerprint of the operator token, never the token itself.
      const { rows } = await api.t.herald.pool.query(`select minted_by from auth_token where kind = 'portal'`);
      expect(JSON.stringify(rows)).not.toContain(api.admin);
      expect(rows.every((r: { minted_by: string }) => r.minted_by.startsWith('admin:') || r.minted_by.startsWith('key_'))).toBe(true);
    } finally {
      await rotated.close();
      await same.close();
    }
  });

  it('refuses them once the generated operator token that minted them is replaced by HERALD_ADMIN_TOKEN', async () => {
    const t = await startTestHerald();
    const first = await secondNode(t);
    let replaced: Awaited<ReturnType<typeof secondNode>> | undefined;
    try {
      let printed = '';
      await ensureAdminToken(t.herald, { write: (s: string) => (printed += s) });
      const generated = /(ha_[0-9a-f]{12}_[A-Za-z0-9_-]{43})/.exec(printed)![1]!;
      const app = await first.app.inject({ method: 'POST', url: '/api/v1/app', headers: { authorization: `Bearer ${generated}` }, payload: { name: 'Acme' } });
      const link = await first.app.inject({ method: 'POST', url: `/api/v1/auth/app-portal-access/${app.json().id}`, headers: { authorization: `Bearer ${generated}` }, payload: {} });
      const portal = link.json().token as string;
      expect((await first.get('/api/v1/auth/whoami', portal)).status).toBe(200);

      replaced = await secondNode(t, { HERALD_ADMIN_TOKEN: `chosen_${randomBytes(24).toString('hex')}` });
      await ensureAdminToken(replaced.herald, { write: () => undefined }); // revokes the generated token
      const res = await replaced.get('/api/v1/auth/whoami', portal);
      expect(res.status).toBe(401);
      expect(res.body.detail).toMatch(/generated operator token that issued this portal token was replaced by HERALD_ADMIN_TOKEN/);
      await vi.waitFor(async () => expect((await first.get('/api/v1/auth/whoami', portal)).body.detail).toMatch(/generated operator token .* was revoked/), {
        timeout: 5_000,
        interval: 100,
      });
    } finally {
      await replaced?.close();
      await first.close();
      await t.close();
    }
  });
});

describe('portal tokens and publishing', () => {
  it('lets a default portal token manage endpoints but not publish, and allowPublish grants it', async () => {
    const a = await api.makeApp();
    const portal = await portalFor(a.id);
    const who = await api.call('GET', '/api/v1/auth/whoami', { token: portal });
    expect(who.body).toMatchObject({ kind: 'portal', permissions: ['read', 'create', 'update', 'delete'], canPublish: false });
    const ep = await api.call('POST', `/api/v1/app/${a.id}/endpoint`, { token: portal, body: { url: 'https://customer.example.com/hook' } });
    expect(ep.status).toBe(201);
    const tries: [string, unknown][] = [
      [`/api/v1/app/${a.id}/msg`, { eventType: 'order.paid', payload: { forged: true } }],
      [`/api/v1/app/${a.id}/msg/batch`, { messages: [{ eventType: 'order.paid', payload: { forged: true } }] }],
      [`/api/v1/app/${a.id}/endpoint/${ep.body.id}/send-example`, { eventType: 'svix.ping' }],
    ];
    for (const [url, body] of tries) {
      const res = await api.call('POST', url, { token: portal, body });
      expect({ url, status: res.status }).toEqual({ url, status: 403 });
    }
    const { rows } = await api.t.herald.pool.query('select count(*)::int as n from message where app_id = $1', [a.id]);
    expect(rows[0].n).toBe(0);

    const publisher = await portalFor(a.id, { body: { allowPublish: true } });
    expect((await api.call('GET', '/api/v1/auth/whoami', { token: publisher })).body.canPublish).toBe(true);
    for (const [url, body] of tries) expect((await api.call('POST', url, { token: publisher, body })).status).toBeLessThan(300);
  });

  it('refuses allowPublish without the create permission, with a 422 on the field', async () => {
    const a = await api.makeApp();
    for (const body of [{ readOnly: true, allowPublish: true }, { capabilities: ['ViewBase'], allowPublish: true }, { permissions: ['read', 'update'], allowPublish: true }]) {
      const res = await api.call('POST', `/api/v1/auth/app-portal-access/${a.id}`, { body });
      expect(res.status).toBe(422);
      expect(res.body.detail[0].loc).toEqual(['body', 'allowPublish']);
    }
  });

  it('keeps Svix request shapes: capabilities and readOnly still work, without publishing', async () => {
    const a = await api.makeApp();
    const caps = await portalFor(a.id, { body: { capabilities: ['ViewBase', 'ManageEndpoint'], featureFlags: [], sessionId: 's1' } });
    expect((await api.call('GET', '/api/v1/auth/whoami', { token: caps })).body).toMatchObject({ permissions: ['read', 'create', 'update', 'delete'], canPublish: false, sessionId: 's1' });
  });
});

describe('portal links and the Host header', () => {
  const countPortalTokens = async (h: ApiHarness) => (await h.t.herald.pool.query(`select count(*)::int as n from auth_token where kind = 'portal'`)).rows[0].n;

  it('answers a forged Host with 421, builds no link, stores no token, and says to set HERALD_PUBLIC_URL or HERALD_ALLOWED_HOSTS', async () => {
    const a = await api.makeApp();
    const before = await countPortalTokens(api);
    const res = await api.call('POST', `/api/v1/auth/app-portal-access/${a.id}`, { body: {}, headers: { host: 'attacker.example' } });
    expect(res.status).toBe(421);
    expect(res.body).toMatchObject({ code: 'misdirected_request' });
    expect(res.body.detail).toMatch(/sets HERALD_PUBLIC_URL .* HERALD_ALLOWED_HOSTS/);
    expect(JSON.stringify(res.body)).not.toMatch(/hp_/);
    expect(await countPortalTokens(api)).toBe(before);
    // Loopback hosts are fine: the quick start on http://127.0.0.1:8080 works without settings.
    const local = await api.call('POST', `/api/v1/auth/app-portal-access/${a.id}`, { body: {}, headers: { host: '127.0.0.1:8080' } });
    expect(local.body.url).toBe(`http://127.0.0.1:8080/portal#token=${local.body.token}`);
  });

  it('uses a Host listed in HERALD_ALLOWED_HOSTS (with the scheme of an origin entry), and HERALD_PUBLIC_URL over any Host', async () => {
    const listed = await startApi({ HERALD_ALLOWED_HOSTS: 'https://hooks.example.com, intranet.example:8080' });
    const fixed = await startApi({ HERALD_PUBLIC_URL: 'https://webhooks.example.com/' });
    try {
      const a = await listed.makeApp();
      const https = await listed.call('POST', `/api/v1/auth/app-portal-access/${a.id}`, { body: {}, headers: { host: 'hooks.example.com' } });
      expect(https.body.url).toBe(`https://hooks.example.com/portal#token=${https.body.token}`);
      const intranet = await listed.call('POST', `/api/v1/auth/app-portal-access/${a.id}`, { body: {}, headers: { host: 'intranet.example:8080' } });
      expect(intranet.body.url).toBe(`http://intranet.example:8080/portal#token=${intranet.body.token}`);
      const forged = await listed.call('POST', `/api/v1/auth/app-portal-access/${a.id}`, { body: {}, headers: { host: 'hooks.example.com.attacker.example' } });
      expect(forged.status).toBe(421);
      // A Host that is not a host name at all is refused the same way.
      const garbage = await listed.call('POST', `/api/v1/auth/app-portal-access/${a.id}`, { body: {}, headers: { host: 'hooks.example.com@attacker.example' } });
      expect(garbage.status).toBe(421);

      const b = await fixed.makeApp();
      const res = await fixed.call('POST', `/api/v1/auth/app-portal-access/${b.id}`, { body: {}, headers: { host: 'attacker.example' } });
      expect(res.body.url).toBe(`https://webhooks.example.com/portal#token=${res.body.token}`);
    } finally {
      await listed.close();
      await fixed.close();
    }
  });
});
