import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { ensureAdminToken } from '../../src/api/auth.js';
import { startApi, type ApiHarness } from '../support/api.js';
import { startTestHerald } from '../support/herald.js';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api.close();
});

const HOUR = 3_600_000;

describe('bearer tokens', () => {
  it('serves health without a token and checks the database', async () => {
    const res = await api.call('GET', '/api/v1/health', { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', database: 'ok' });
  });

  it('answers 401 with a reason and WWW-Authenticate when the token is missing, malformed or wrong', async () => {
    const missing = await api.call('GET', '/api/v1/app', { token: null });
    expect(missing.status).toBe(401);
    expect(missing.body.code).toBe('unauthorized');
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    const basic = await api.call('GET', '/api/v1/app', { token: null, headers: { authorization: 'Basic Zm9vOmJhcg==' } });
    expect(basic.status).toBe(401);
    expect(basic.body.detail).toMatch(/Bearer/);
    const wrong = await api.call('GET', '/api/v1/app', { token: 'hk_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    expect(wrong.status).toBe(401);
    // The presented token is never echoed back.
    expect(JSON.stringify(wrong.body)).not.toContain('AAAAAAAA');
  });

  it('requires a token on unknown /api/v1 routes too, so they reveal nothing', async () => {
    expect((await api.call('GET', '/api/v1/no-such-thing', { token: null })).status).toBe(401);
    expect((await api.call('GET', '/api/v1/no-such-thing')).status).toBe(404);
  });

  it('never reads credentials from the query string or a cookie (CSRF)', async () => {
    const query = await api.call('GET', `/api/v1/app?token=${api.admin}&access_token=${api.admin}`, { token: null });
    expect(query.status).toBe(401);
    const cookie = await api.call('POST', '/api/v1/app', {
      token: null,
      body: { name: 'csrf' },
      headers: { cookie: `token=${api.admin}; herald.dashboard.token=${api.admin}`, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(cookie.status).toBe(401);
    // A cross-site HTML form can only send form encodings, which the API refuses even with a token.
    const form = await api.call('POST', '/api/v1/app', { body: 'name=csrf', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
    // And no CORS headers are ever sent, so other origins cannot read responses.
    expect(cookie.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('API keys', () => {
  it('shows the key once at creation, lists only its prefix, and revoking it stops it at once', async () => {
    const created = await api.call('POST', '/api/v1/api-key', { body: { name: 'ci', permissions: ['read', 'create'] } });
    expect(created.status).toBe(201);
    const { key, id, prefix } = created.body;
    expect(key).toMatch(/^hk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(key.startsWith(`${prefix}_`)).toBe(true);
    expect(created.body).toMatchObject({ name: 'ci', permissions: ['read', 'create'], appId: null });

    const who = await api.call('GET', '/api/v1/auth/whoami', { token: key });
    expect(who.body).toEqual({ kind: 'api_key', appId: null, permissions: ['read', 'create'], canReadSecrets: false, sessionId: null, canPublish: true });

    const list = await api.call('GET', '/api/v1/api-key');
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(key);
    expect(list.body.data.find((k: { id: string }) => k.id === id)).toMatchObject({ prefix, name: 'ci' });
    expect(list.body.data.find((k: { id: string }) => k.id === id).lastUsedAt).not.toBeNull();

    expect((await api.call('DELETE', `/api/v1/api-key/${id}`)).status).toBe(204);
    const after = await api.call('GET', '/api/v1/app', { token: key });
    expect(after.status).toBe(401);
    expect(after.body.detail).toMatch(/revoked/);
    expect((await api.call('DELETE', `/api/v1/api-key/${id}`)).status).toBe(404);
    expect((await api.call('GET', '/api/v1/api-key')).body.data.some((k: { id: string }) => k.id === id)).toBe(false);
  });

  it('cannot grant permissions the creating token lacks, and scoped tokens cannot manage keys', async () => {
    const reader = await api.makeKey(['read', 'create']);
    const res = await api.call('POST', '/api/v1/api-key', { token: reader, body: { name: 'x', permissions: ['delete'] } });
    expect(res.status).toBe(403);
    const a = await api.makeApp();
    const scoped = await api.makeKey(['read', 'create', 'update', 'delete'], a.id);
    expect((await api.call('POST', '/api/v1/api-key', { token: scoped, body: { name: 'x', permissions: ['read'] } })).status).toBe(403);
    expect((await api.call('GET', '/api/v1/api-key', { token: scoped })).status).toBe(403);
  });

  it('scopes a key to one application by uid, and 404s for a missing one', async () => {
    const a = await api.makeApp({ uid: 'scope-by-uid' });
    const res = await api.call('POST', '/api/v1/api-key', { body: { name: 's', permissions: ['read'], appId: 'scope-by-uid' } });
    expect(res.body.appId).toBe(a.id);
    expect((await api.call('POST', '/api/v1/api-key', { body: { name: 's', permissions: ['read'], appId: 'nope' } })).status).toBe(404);
  });
});

describe('scopes and permissions', () => {
  it("gives a key scoped to application A a 404 for everything of application B, never B's data", async () => {
    const a = await api.makeApp({ uid: 'tenant-a' });
    const b = await api.makeApp({ uid: 'tenant-b' });
    const ep = await api.call('POST', `/api/v1/app/${b.id}/endpoint`, { body: { url: 'https://b.example.com/hook' } });
    const key = await api.makeKey(['read', 'create', 'update', 'delete'], a.id);
    const tries: [string, string, unknown?][] = [
      ['GET', `/api/v1/app/${b.id}`],
      ['GET', '/api/v1/app/tenant-b'],
      ['PATCH', `/api/v1/app/${b.id}`, { name: 'pwned' }],
      ['DELETE', `/api/v1/app/${b.id}`],
      ['GET', `/api/v1/app/${b.id}/endpoint`],
      ['GET', `/api/v1/app/${b.id}/endpoint/${ep.body.id}`],
      ['POST', `/api/v1/app/${b.id}/endpoint`, { url: 'https://x.example.com' }],
      ['GET', `/api/v1/app/${b.id}/endpoint/${ep.body.id}/secret`],
      ['DELETE', `/api/v1/app/${b.id}/endpoint/${ep.body.id}`],
      ['POST', `/api/v1/auth/app-portal-access/${b.id}`, {}],
    ];
    for (const [method, url, body] of tries) {
      const res = await api.call(method, url, { token: key, body });
      expect({ method, url, status: res.status }).toEqual({ method, url, status: 404 });
      expect(JSON.stringify(res.body)).not.toContain('b.example.com');
    }
    // Its own application works, and a missing one is also 404.
    expect((await api.call('GET', `/api/v1/app/${a.id}`, { token: key })).status).toBe(200);
    expect((await api.call('GET', '/api/v1/app/tenant-a', { token: key })).status).toBe(200);
    expect((await api.call('GET', '/api/v1/app/nope', { token: key })).status).toBe(404);
  });

  it('keeps operator actions to global tokens (403 for a scoped one)', async () => {
    const a = await api.makeApp();
    const key = await api.makeKey(['read', 'create', 'update', 'delete'], a.id);
    expect((await api.call('GET', '/api/v1/app', { token: key })).status).toBe(403);
    expect((await api.call('POST', '/api/v1/app', { token: key, body: { name: 'n' } })).status).toBe(403);
    expect((await api.call('PATCH', `/api/v1/app/${a.id}`, { token: key, body: { name: 'n' } })).status).toBe(403);
    expect((await api.call('POST', '/api/v1/event-type', { token: key, body: { name: 'x.y', description: '' } })).status).toBe(403);
    // Reading the catalogue is fine: the portal needs it.
    expect((await api.call('GET', '/api/v1/event-type', { token: key })).status).toBe(200);
  });

  it('answers 403 on deletes for a key without delete, and on writes for a read-only key', async () => {
    const a = await api.makeApp();
    const ep = await api.call('POST', `/api/v1/app/${a.id}/endpoint`, { body: { url: 'https://a.example.com/hook' } });
    const noDelete = await api.makeKey(['read', 'create', 'update']);
    const del = await api.call('DELETE', `/api/v1/app/${a.id}/endpoint/${ep.body.id}`, { token: noDelete });
    expect(del.status).toBe(403);
    expect(del.body).toMatchObject({ code: 'forbidden' });
    expect((await api.call('DELETE', `/api/v1/app/${a.id}`, { token: noDelete })).status).toBe(403);
    expect((await api.call('DELETE', '/api/v1/event-type/whatever', { token: noDelete })).status).toBe(403);
    const reader = await api.makeKey(['read']);
    expect((await api.call('POST', `/api/v1/app/${a.id}/endpoint`, { token: reader, body: { url: 'https://a.example.com' } })).status).toBe(403);
    expect((await api.call('GET', `/api/v1/app/${a.id}/endpoint/${ep.body.id}`, { token: reader })).status).toBe(200);
  });

  it('needs update to read a secret', async () => {
    const a = await api.makeApp();
    const ep = await api.call('POST', `/api/v1/app/${a.id}/endpoint`, { body: { url: 'https://a.example.com/hook' } });
    const reader = await api.makeKey(['read', 'create']);
    expect((await api.call('GET', `/api/v1/app/${a.id}/endpoint/${ep.body.id}/secret`, { token: reader })).status).toBe(403);
    const updater = await api.makeKey(['read', 'update']);
    const res = await api.call('GET', `/api/v1/app/${a.id}/endpoint/${ep.body.id}/secret`, { token: updater });
    expect(res.status).toBe(200);
    expect(res.body.key).toBe(ep.body.secret);
    expect((await api.call('GET', '/api/v1/auth/whoami', { token: updater })).body.canReadSecrets).toBe(true);
  });
});

describe('portal access', () => {
  it('issues a short-lived token scoped to one application, with the token in the URL fragment', async () => {
    const a = await api.makeApp({ uid: 'portal-app' });
    const res = await api.call('POST', '/api/v1/auth/app-portal-access/portal-app', { body: {} });
    expect(res.status).toBe(200);
    expect(res.body.token).toMatch(/^hp_/);
    expect(res.body.url).toBe(`http://localhost:80/portal#token=${res.body.token}`);
    expect(new Date(res.body.expiresAt).getTime() - api.t.clock.now().getTime()).toBe(HOUR);
    const who = await api.call('GET', '/api/v1/auth/whoami', { token: res.body.token });
    expect(who.body).toMatchObject({ kind: 'portal', appId: a.id, permissions: ['read', 'create', 'update', 'delete'] });
    expect((await api.call('GET', `/api/v1/app/${a.id}/endpoint`, { token: res.body.token })).status).toBe(200);
    const other = await api.makeApp();
    expect((await api.call('GET', `/api/v1/app/${other.id}`, { token: res.body.token })).status).toBe(404);
    // A portal token cannot mint more portal tokens, nor change the application itself.
    expect((await api.call('POST', `/api/v1/auth/app-portal-access/${a.id}`, { token: res.body.token, body: {} })).status).toBe(403);
    expect((await api.call('PATCH', `/api/v1/app/${a.id}`, { token: res.body.token, body: { uid: 'hijack' } })).status).toBe(403);
  });

  it('read-only portal tokens can read but not write', async () => {
    const a = await api.makeApp();
    const ep = await api.call('POST', `/api/v1/app/${a.id}/endpoint`, { body: { url: 'https://a.example.com/hook' } });
    const { token } = (await api.call('POST', `/api/v1/auth/app-portal-access/${a.id}`, { body: { readOnly: true } })).body;
    expect((await api.call('GET', '/api/v1/auth/whoami', { token })).body).toMatchObject({ permissions: ['read'], canReadSecrets: false });
    expect((await api.call('GET', `/api/v1/app/${a.id}/endpoint/${ep.body.id}`, { token })).status).toBe(200);
    expect((await api.call('GET', `/api/v1/app/${a.id}/endpoint/${ep.body.id}/secret`, { token })).status).toBe(403);
    expect((await api.call('PATCH', `/api/v1/app/${a.id}/endpoint/${ep.body.id}`, { token, body: { disabled: true } })).status).toBe(403);
    expect((await api.call('DELETE', `/api/v1/app/${a.id}/endpoint/${ep.body.id}`, { token })).status).toBe(403);
    expect((await api.call('POST', `/api/v1/app/${a.id}/endpoint`, { token, body: { url: 'https://x.example.com' } })).status).toBe(403);
  });

  it('maps Svix capabilities and never grants more than the issuing key holds', async () => {
    const a = await api.makeApp();
    const caps = await api.call('POST', `/api/v1/auth/app-portal-access/${a.id}`, { body: { capabilities: ['ViewBase', 'ViewEndpointSecret'] } });
    expect((await api.call('GET', '/api/v1/auth/whoami', { token: caps.body.token })).body.permissions).toEqual(['read', 'update']);
    const limited = await api.makeKey(['read', 'create']);
    const fromLimited = await api.call('POST', `/api/v1/auth/app-portal-access/${a.id}`, { token: limited, body: {} });
    expect((await api.call('GET', '/api/v1/auth/whoami', { token: fromLimited.body.token })).body.permissions).toEqual(['read', 'create']);
    const tooMuch = await api.call('POST', `/api/v1/auth/app-portal-access/${a.id}`, { token: limited, body: { permissions: ['delete'] } });
    expect(tooMuch.status).toBe(403);
  });

  it('expires: an expired token is refused with 401 saying so', async () => {
    const a = await api.makeApp();
    const { token } = (await api.call('POST', `/api/v1/auth/app-portal-access/${a.id}`, { body: { expiry: 3600 } })).body;
    api.t.clock.advance(HOUR - 1000);
    expect((await api.call('GET', `/api/v1/app/${a.id}`, { token })).status).toBe(200);
    api.t.clock.advance(1000);
    const res = await api.call('GET', `/api/v1/app/${a.id}`, { token });
    expect(res.status).toBe(401);
    expect(res.body.detail).toMatch(/expired/);
  });

  it('is revocable: logout ends one token, expire-all ends an application\'s tokens (optionally per session)', async () => {
    const a = await api.makeApp();
    const issue = async (sessionId?: string) =>
      (await api.call('POST', `/api/v1/auth/app-portal-access/${a.id}`, { body: sessionId ? { sessionId } : {} })).body.token as string;
    const t1 = await issue();
    expect((await api.call('POST', '/api/v1/auth/logout', { token: t1 })).status).toBe(204);
    expect((await api.call('GET', `/api/v1/app/${a.id}`, { token: t1 })).body.detail).toMatch(/revoked/);
    expect((await api.call('POST', '/api/v1/auth/logout')).status).toBe(403);

    const alice = await issue('alice');
    const bob = await issue('bob');
    expect((await api.call('POST', `/api/v1/auth/app/${a.id}/expire-all`, { body: { sessionIds: ['alice'] } })).status).toBe(204);
    expect((await api.call('GET', `/api/v1/app/${a.id}`, { token: alice })).status).toBe(401);
    expect((await api.call('GET', `/api/v1/app/${a.id}`, { token: bob })).status).toBe(200);
    expect((await api.call('POST', `/api/v1/auth/app/${a.id}/expire-all`, { body: {} })).status).toBe(204);
    expect((await api.call('GET', `/api/v1/app/${a.id}`, { token: bob })).status).toBe(401);
  });

  it('creates the application with `application` in the body when it does not exist (as Svix)', async () => {
    const res = await api.call('POST', '/api/v1/auth/app-portal-access/new-customer', { body: { application: { name: 'New customer' } } });
    expect(res.status).toBe(200);
    expect((await api.call('GET', '/api/v1/app/new-customer')).body.name).toBe('New customer');
  });
});

describe('settings', () => {
  it('HERALD_ALLOW_SECRET_READ=false forbids reading secrets for everyone, the operator included', async () => {
    const locked = await startApi({ HERALD_ALLOW_SECRET_READ: 'false', HERALD_PUBLIC_URL: 'https://hooks.example.com/' });
    try {
      const a = await locked.makeApp();
      const ep = await locked.call('POST', `/api/v1/app/${a.id}/endpoint`, { body: { url: 'https://a.example.com/hook' } });
      expect(ep.body.secret).toMatch(/^whsec_/); // shown once, at creation
      const res = await locked.call('GET', `/api/v1/app/${a.id}/endpoint/${ep.body.id}/secret`);
      expect(res.status).toBe(403);
      expect(res.body.detail).toMatch(/HERALD_ALLOW_SECRET_READ/);
      expect((await locked.call('GET', '/api/v1/auth/whoami')).body).toMatchObject({ kind: 'admin', canReadSecrets: false });
      const portal = await locked.call('POST', `/api/v1/auth/app-portal-access/${a.id}`, { body: {} });
      expect(portal.body.url).toBe(`https://hooks.example.com/portal#token=${portal.body.token}`);
    } finally {
      await locked.close();
    }
  });

  it('generates an operator token at first start, prints it once, stores only its hash', async () => {
    const t = await startTestHerald();
    try {
      let printed = '';
      const out = { write: (s: string) => (printed += s) };
      await ensureAdminToken(t.herald, out);
      const token = /(ha_[0-9a-f]{12}_[A-Za-z0-9_-]{43})/.exec(printed)?.[1];
      expect(token).toBeDefined();
      await ensureAdminToken(t.herald, out); // a later start
      expect(printed.match(/ha_/g)).toHaveLength(1);
      const { rows } = await t.herald.pool.query(`select token_hash from auth_token where kind = 'admin'`);
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(token!.slice(16));

      const app = await buildApp({ herald: t.herald, options: {} });
      const who = await app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: { authorization: `Bearer ${token}` } });
      expect(who.json()).toMatchObject({ kind: 'admin', appId: null, permissions: ['read', 'create', 'update', 'delete'] });
      await app.close();
    } finally {
      await t.close();
    }
  });
});
