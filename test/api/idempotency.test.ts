import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STALE_CLAIM_MS } from '../../src/api/idempotency.js';
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

  it('runs one of several concurrent requests with the same key; the others wait for it and replay its response', async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, () => api.call('POST', '/api/v1/event-type', withKey('k-race', { name: 'race.type', description: '' }))),
    );
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(results.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(4);
    // Every answer is the same event type, created once.
    expect(new Set(results.map((r) => r.body.createdAt)).size).toBe(1);
  });

  it('answers 503 with Retry-After, never 409, while the key is held by a request that never settled it, and runs the request once that claim is stale', async () => {
    // A claim whose request died without storing or releasing it (its process was killed).
    await api.call('POST', '/api/v1/app', withKey('k-probe', { name: 'Probe' }));
    const { rows } = await api.t.herald.pool.query(`select principal_id from idempotency_key where key = 'k-probe'`);
    const body = JSON.stringify({ name: 'Orphan' });
    const hash = createHash('sha256').update('POST\n/api/v1/app\n').update(body).digest();
    await api.t.herald.pool.query(`insert into idempotency_key (principal_id, key, request_hash, state, created_at) values ($1, 'k-orphan', $2, 'pending', $3)`, [
      rows[0].principal_id,
      hash,
      api.t.clock.now(),
    ]);
    const held = await api.call('POST', '/api/v1/app', withKey('k-orphan', body));
    expect(held.status).toBe(503);
    expect(held.body.code).toBe('unavailable');
    expect(held.headers['retry-after']).toBe('1');
    const other = await api.call('POST', '/api/v1/app', withKey('k-orphan', { name: 'Someone else' }));
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('idempotency_conflict');
    const { rows: before } = await api.t.herald.pool.query(`select count(*)::int as n from application where name = 'Orphan'`);
    expect(before[0].n).toBe(0);

    api.t.clock.advance(STALE_CLAIM_MS + 1);
    const taken = await api.call('POST', '/api/v1/app', withKey('k-orphan', body));
    expect(taken.status).toBe(201);
    expect(taken.body.name).toBe('Orphan');
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
