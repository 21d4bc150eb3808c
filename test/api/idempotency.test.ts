import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type ApiHarness } from '../support/api.js';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api.close();
});

const withKey = (key: string, body: unknown, token?: string) => ({ body, headers: { 'idempotency-key': key }, ...(token ? { token } : {}) });

describe('Idempotency-Key', () => {
  it('replays the first response for the same key and body, creating nothing new', async () => {
    const first = await api.call('POST', '/api/v1/app', withKey('create-acme', { name: 'Acme' }));
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await api.call('POST', '/api/v1/app', withKey('create-acme', { name: 'Acme' }));
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const { rows } = await api.t.herald.pool.query(`select count(*)::int as n from application where name = 'Acme'`);
    expect(rows[0].n).toBe(1);
  });

  it('answers 409 for the same key with a different body', async () => {
    await api.call('POST', '/api/v1/app', withKey('k-conflict', { name: 'One' }));
    const res = await api.call('POST', '/api/v1/app', withKey('k-conflict', { name: 'Two' }));
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('idempotency_conflict');
  });

  it('scopes keys per credential', async () => {
    const key = await api.makeKey(['read', 'create']);
    const mine = await api.call('POST', '/api/v1/app', withKey('shared-key', { name: 'Scoped' }));
    const theirs = await api.call('POST', '/api/v1/app', withKey('shared-key', { name: 'Scoped' }, key));
    expect(theirs.status).toBe(201);
    expect(theirs.body.id).not.toBe(mine.body.id);
  });

  it('forgets a key after 24 hours', async () => {
    const first = await api.call('POST', '/api/v1/app', withKey('k-expiry', { name: 'Day one' }));
    api.t.clock.advance(24 * 3_600_000 + 1);
    const later = await api.call('POST', '/api/v1/app', withKey('k-expiry', { name: 'Day one' }));
    expect(later.status).toBe(201);
    expect(later.body.id).not.toBe(first.body.id);
  });

  it('does not store failed responses: the key can be retried with a corrected body', async () => {
    const bad = await api.call('POST', '/api/v1/app', withKey('k-retry', { name: 'X', uid: 'bad uid' }));
    expect(bad.status).toBe(422);
    await api.makeApp({ uid: 'taken' });
    const conflict = await api.call('POST', '/api/v1/app', withKey('k-retry', { name: 'X', uid: 'taken' }));
    expect(conflict.status).toBe(409);
    const ok = await api.call('POST', '/api/v1/app', withKey('k-retry', { name: 'X', uid: 'fresh' }));
    expect(ok.status).toBe(201);
  });

  it('lets only one of two concurrent requests with the same key run', async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, () => api.call('POST', '/api/v1/event-type', withKey('k-race', { name: 'race.type', description: '' }))),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    // Whatever came back as 201 is the same event type, created once.
    expect(new Set(results.filter((r) => r.status === 201).map((r) => r.body.createdAt)).size).toBe(1);
  });

  it('replays an API key creation with the same key, and stores it sealed, not in clear', async () => {
    const first = await api.call('POST', '/api/v1/api-key', withKey('k-apikey', { name: 'svc', permissions: ['read'] }));
    const again = await api.call('POST', '/api/v1/api-key', withKey('k-apikey', { name: 'svc', permissions: ['read'] }));
    expect(again.body.key).toBe(first.body.key);
    const { rows } = await api.t.herald.pool.query(`select response from idempotency_key where key = 'k-apikey'`);
    expect(rows[0].response).not.toContain(first.body.key.slice(16));
  });

  it('refuses a malformed key', async () => {
    const res = await api.call('POST', '/api/v1/app', withKey('x'.repeat(300), { name: 'n' }));
    expect(res.status).toBe(422);
  });

  it('replays 204 responses (secret rotation) without rotating again', async () => {
    const a = await api.makeApp();
    const ep = (await api.call('POST', `/api/v1/app/${a.id}/endpoint`, { body: { url: 'https://h.example.com' } })).body;
    const url = `/api/v1/app/${a.id}/endpoint/${ep.id}/secret/rotate`;
    expect((await api.call('POST', url, withKey('rot-1', {}))).status).toBe(204);
    const after = (await api.call('GET', `/api/v1/app/${a.id}/endpoint/${ep.id}/secret`)).body.key;
    const replay = await api.call('POST', url, withKey('rot-1', {}));
    expect(replay.status).toBe(204);
    expect((await api.call('GET', `/api/v1/app/${a.id}/endpoint/${ep.id}/secret`)).body.key).toBe(after);
  });
});
