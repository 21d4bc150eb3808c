import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type ApiHarness } from '../support/api.js';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api.close();
});

describe('applications', () => {
  it('creates an application with a uid and answers in Svix ApplicationOut shape', async () => {
    const res = await api.call('POST', '/api/v1/app', { body: { name: 'Acme', uid: 'acme', metadata: { plan: 'pro' }, throttleRate: 50 } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Acme', uid: 'acme', metadata: { plan: 'pro' }, rateLimit: 50, throttleRate: 50 });
    expect(res.body.id).toMatch(/^app_/);
    expect(new Date(res.body.createdAt).getTime()).toBeGreaterThan(0);
    expect(res.body.updatedAt).toBe(res.body.createdAt);
  });

  it('refuses a second application with the same uid (409), unless get_if_exists', async () => {
    const first = await api.makeApp({ uid: 'dup-uid' });
    const again = await api.call('POST', '/api/v1/app', { body: { name: 'Other', uid: 'dup-uid' } });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'conflict' });
    const got = await api.call('POST', '/api/v1/app?get_if_exists=true', { body: { name: 'Other', uid: 'dup-uid' } });
    expect(got.status).toBe(200);
    expect(got.body.id).toBe(first.id);
    expect(got.body.name).toBe(first.name);
  });

  it('gets an application by id and by uid, and 404s for an unknown one', async () => {
    const a = await api.makeApp({ uid: 'by-uid' });
    expect((await api.call('GET', `/api/v1/app/${a.id}`)).body.id).toBe(a.id);
    expect((await api.call('GET', '/api/v1/app/by-uid')).body.id).toBe(a.id);
    const missing = await api.call('GET', '/api/v1/app/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ code: 'not_found', detail: 'application nope not found' });
  });

  it('lists applications with Svix pagination forwards, backwards and in descending order', async () => {
    const fresh = await startApi();
    try {
      const ids: string[] = [];
      // Ids are time-sortable; the fake clock must move for creation order to be id order.
      for (let i = 0; i < 5; i++, fresh.t.clock.advance(1)) ids.push((await fresh.makeApp()).id);
      const p1 = await fresh.call('GET', '/api/v1/app?limit=2');
      expect(p1.body.data.map((a: { id: string }) => a.id)).toEqual(ids.slice(0, 2));
      expect(p1.body.done).toBe(false);
      const p2 = await fresh.call('GET', `/api/v1/app?limit=2&iterator=${p1.body.iterator}`);
      expect(p2.body.data.map((a: { id: string }) => a.id)).toEqual(ids.slice(2, 4));
      const p3 = await fresh.call('GET', `/api/v1/app?limit=2&iterator=${p2.body.iterator}`);
      expect(p3.body).toMatchObject({ done: true });
      expect(p3.body.data.map((a: { id: string }) => a.id)).toEqual(ids.slice(4));
      const back = await fresh.call('GET', `/api/v1/app?limit=2&iterator=${p3.body.prevIterator}`);
      expect(back.body.data.map((a: { id: string }) => a.id)).toEqual(ids.slice(2, 4));
      const desc = await fresh.call('GET', '/api/v1/app?limit=3&order=descending');
      expect(desc.body.data.map((a: { id: string }) => a.id)).toEqual([...ids].reverse().slice(0, 3));
    } finally {
      await fresh.close();
    }
  });

  it('updates with PUT, and PUT creates a missing application using the path as its uid', async () => {
    const a = await api.makeApp({ uid: 'put-me', metadata: { a: '1' } });
    const updated = await api.call('PUT', '/api/v1/app/put-me', { body: { name: 'Renamed' } });
    expect(updated.status).toBe(200);
    // PUT replaces: fields left out are reset, as in Svix.
    expect(updated.body).toMatchObject({ id: a.id, name: 'Renamed', uid: null, metadata: {} });

    const created = await api.call('PUT', '/api/v1/app/brand-new', { body: { name: 'Brand new' } });
    expect(created.status).toBe(201);
    expect(created.body.uid).toBe('brand-new');
    const again = await api.call('PUT', '/api/v1/app/brand-new', { body: { name: 'Brand new 2' } });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(created.body.id);
  });

  it('patches only the given fields; null clears', async () => {
    const a = await api.makeApp({ uid: 'patch-me', metadata: { k: 'v' }, rateLimit: 10 });
    const res = await api.call('PATCH', `/api/v1/app/${a.id}`, { body: { name: 'Patched', rateLimit: null } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'Patched', uid: 'patch-me', metadata: { k: 'v' }, rateLimit: null });
  });

  it('deletes an application (204) and then it is gone', async () => {
    const a = await api.makeApp();
    const del = await api.call('DELETE', `/api/v1/app/${a.id}`);
    expect(del.status).toBe(204);
    expect(del.body).toBeUndefined();
    expect((await api.call('GET', `/api/v1/app/${a.id}`)).status).toBe(404);
    expect((await api.call('DELETE', `/api/v1/app/${a.id}`)).status).toBe(404);
  });

  it('rejects invalid input with every bad field listed', async () => {
    const res = await api.call('POST', '/api/v1/app', {
      body: { name: '', uid: 'has space', metadata: { k: 1 }, throttleRate: 0 },
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('validation');
    const locs = res.body.detail.map((d: { loc: string[] }) => d.loc.join('.'));
    expect(locs).toEqual(expect.arrayContaining(['body.name', 'body.uid', 'body.metadata.k', 'body.throttleRate']));
  });

  it('refuses a uid that looks like an application id', async () => {
    const res = await api.call('POST', '/api/v1/app', { body: { name: 'X', uid: 'app_123' } });
    expect(res.status).toBe(422);
    expect(res.body.detail[0].loc).toEqual(['body', 'uid']);
  });
});
