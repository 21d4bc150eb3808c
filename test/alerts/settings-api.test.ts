/**
 * The alert settings routes (GET/PUT /api/v1/alert-settings) and an application's `alertEmail`:
 * defaults from the environment, who may read and change them, and validation (422).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAlertSettings } from '../../src/alerts/alert-settings.js';
import { startApi, type ApiHarness } from '../support/api.js';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi({ HERALD_ALERT_EMAILS: 'ops@example.com', HERALD_ALERT_WINDOW: '5m' });
});
afterAll(async () => {
  await api?.close();
});

const locs = (body: { detail: { loc: (string | number)[] }[] }) => body.detail.map((d) => d.loc.join('.'));

describe('alert settings', () => {
  it('starts from the environment, and a PUT replaces them for every process', async () => {
    const before = await api.call('GET', '/api/v1/alert-settings');
    expect(before.status).toBe(200);
    expect(before.body).toEqual({ emails: ['ops@example.com'], windowSeconds: 300, enabled: true, smtpConfigured: false });

    const put = await api.call('PUT', '/api/v1/alert-settings', {
      body: { emails: ['a@example.com', 'b@example.org', 'A@example.com'], windowSeconds: 3600, enabled: false, smtpConfigured: true },
    });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ emails: ['a@example.com', 'b@example.org'], windowSeconds: 3600, enabled: false, smtpConfigured: false });
    expect((await api.call('GET', '/api/v1/alert-settings')).body).toEqual(put.body);
    // What every sender reads at its next pass.
    expect(await loadAlertSettings(api.t.herald.pool, api.t.herald.config)).toMatchObject({ emails: ['a@example.com', 'b@example.org'], windowSeconds: 3600, enabled: false });
  });

  it('refuses bad values with every bad field listed (422)', async () => {
    const res = await api.call('PUT', '/api/v1/alert-settings', { body: { emails: ['ok@example.com', 'not an address'], windowSeconds: 1, enabled: 'yes' } });
    expect(res.status).toBe(422);
    expect(locs(res.body)).toEqual(expect.arrayContaining(['body.emails.1', 'body.windowSeconds', 'body.enabled']));
    const missing = await api.call('PUT', '/api/v1/alert-settings', { body: { emails: [] } });
    expect(missing.status).toBe(422);
    expect(locs(missing.body)).toEqual(expect.arrayContaining(['body.windowSeconds', 'body.enabled']));
    const tooMany = await api.call('PUT', '/api/v1/alert-settings', {
      body: { emails: Array.from({ length: 51 }, (_, i) => `o${i}@example.com`), windowSeconds: 60, enabled: true },
    });
    expect(tooMany.status).toBe(422);
  });

  it('is for the operator and global keys with the permission; application keys and portal tokens get 403', async () => {
    const body = { emails: [], windowSeconds: 900, enabled: true };
    const reader = await api.makeKey(['read']);
    expect((await api.call('GET', '/api/v1/alert-settings', { token: reader })).status).toBe(200);
    expect((await api.call('PUT', '/api/v1/alert-settings', { token: reader, body })).status).toBe(403);
    const writer = await api.makeKey(['read', 'update']);
    expect((await api.call('PUT', '/api/v1/alert-settings', { token: writer, body })).status).toBe(200);

    const app = await api.makeApp();
    const scoped = await api.makeKey(['read', 'update'], app.id);
    expect((await api.call('GET', '/api/v1/alert-settings', { token: scoped })).status).toBe(403);
    expect((await api.call('PUT', '/api/v1/alert-settings', { token: scoped, body })).status).toBe(403);
    const portal = (await api.call('POST', `/api/v1/auth/app-portal-access/${app.id}`, { body: {} })).body.token as string;
    expect((await api.call('GET', '/api/v1/alert-settings', { token: portal })).status).toBe(403);
    expect((await api.call('GET', '/api/v1/alert-settings', { token: null })).status).toBe(401);
  });
});

describe('application alertEmail', () => {
  it('is set on create, returned, changed by PATCH and PUT, and cleared with null', async () => {
    const created = await api.call('POST', '/api/v1/app', { body: { name: 'Acme', alertEmail: 'dev@acme.example' } });
    expect(created.status).toBe(201);
    expect(created.body.alertEmail).toBe('dev@acme.example');
    const id = created.body.id as string;
    expect((await api.call('GET', `/api/v1/app/${id}`)).body.alertEmail).toBe('dev@acme.example');

    const patched = await api.call('PATCH', `/api/v1/app/${id}`, { body: { alertEmail: 'ops@acme.example' } });
    expect(patched.body.alertEmail).toBe('ops@acme.example');
    expect((await api.call('PATCH', `/api/v1/app/${id}`, { body: { name: 'Acme 2' } })).body.alertEmail).toBe('ops@acme.example');
    expect((await api.call('PATCH', `/api/v1/app/${id}`, { body: { alertEmail: null } })).body.alertEmail).toBeNull();

    const put = await api.call('PUT', `/api/v1/app/${id}`, { body: { name: 'Acme', alertEmail: 'x@acme.example' } });
    expect(put.body.alertEmail).toBe('x@acme.example');
    expect((await api.call('PUT', `/api/v1/app/${id}`, { body: { name: 'Acme' } })).body.alertEmail).toBeNull(); // PUT resets what it leaves out
    expect((await api.call('POST', '/api/v1/app', { body: { name: 'No contact' } })).body.alertEmail).toBeNull();
  });

  it('refuses a value that is not one email address (422)', async () => {
    for (const alertEmail of ['nope', 'a@b.co, c@d.co', 'Dev <dev@acme.example>', `${'x'.repeat(250)}@acme.example`, 7]) {
      const res = await api.call('POST', '/api/v1/app', { body: { name: 'Bad', alertEmail } });
      expect(res.status, String(alertEmail)).toBe(422);
      expect(locs(res.body)).toEqual(['body.alertEmail']);
    }
    const app = await api.makeApp();
    const res = await api.call('PATCH', `/api/v1/app/${app.id}`, { body: { alertEmail: 'still not' } });
    expect(res.status).toBe(422);
    expect(locs(res.body)).toEqual(['body.alertEmail']);
  });

  it('cannot be changed by a key scoped to the application', async () => {
    const app = await api.makeApp();
    const scoped = await api.makeKey(['read', 'update'], app.id);
    expect((await api.call('PATCH', `/api/v1/app/${app.id}`, { token: scoped, body: { alertEmail: 'me@acme.example' } })).status).toBe(403);
  });
});
