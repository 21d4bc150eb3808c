/**
 * Svix operations beyond the basics, through HTTP against a running Herald (real worker, real
 * receiver): message tags and the tag filter, `MessageIn.application` creating the application,
 * expunging a message's payload and an attempt's response body, and the health ping; then the same
 * through the official `svix` client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Svix } from 'svix';
import { eventually, startLogFixture, type LogFixture } from './log-fixtures.js';

let f: LogFixture;
beforeAll(async () => {
  f = await startLogFixture();
});
afterAll(async () => {
  await f.close();
});

describe('message tags', () => {
  it('stores tags, returns them, and filters the message list by one', async () => {
    const app = await f.makeApp();
    const a = await f.call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'x', payload: {}, tags: ['project_1', 'team/eu#2'] });
    expect(a.status).toBe(202);
    expect(a.body.tags).toEqual(['project_1', 'team/eu#2']);
    const b = await f.call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'x', payload: {}, tags: ['project_2'] });
    const c = await f.call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'x', payload: {} });
    expect(c.body.tags).toBeNull();

    const list = async (q: string) => (await f.call('GET', `/api/v1/app/${app.id}/msg${q}`)).body.data.map((m: any) => m.id);
    expect(await list('?tag=project_1')).toEqual([a.body.id]);
    expect(await list(`?tag=${encodeURIComponent('team/eu#2')}`)).toEqual([a.body.id]);
    expect(await list('?tag=project_2')).toEqual([b.body.id]);
    expect(await list('?tag=none')).toEqual([]);
    expect(await list('')).toEqual([c.body.id, b.body.id, a.body.id]);
    expect((await f.call('GET', `/api/v1/app/${app.id}/msg/${a.body.id}`)).body.tags).toEqual(['project_1', 'team/eu#2']);

    const bad = await f.call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'x', payload: {}, tags: ['no spaces'] });
    expect(bad.status).toBe(422);
    const many = await f.call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'x', payload: {}, tags: ['1', '2', '3', '4', '5', '6'] });
    expect(many.status).toBe(422);
    const batch = await f.call('POST', `/api/v1/app/${app.id}/msg/batch`, { messages: [{ eventType: 'x', payload: {}, tags: ['in-batch'] }] });
    expect(batch.body.data[0].message.tags).toEqual(['in-batch']);
    expect(await list('?tag=in-batch')).toEqual([batch.body.data[0].message.id]);
  });
});

describe('MessageIn.application', () => {
  it('creates the missing application of the path and publishes to it; without it a missing application is a 404', async () => {
    const missing = await f.call('POST', '/api/v1/app/shop-missing/msg', { eventType: 'x', payload: {} });
    expect(missing.status).toBe(404);

    const res = await f.call('POST', '/api/v1/app/shop-42/msg', {
      eventType: 'order.paid',
      payload: { n: 1 },
      application: { name: 'Shop 42', uid: 'shop-42', metadata: { plan: 'pro' } },
    });
    expect(res.status).toBe(202);
    const app = await f.call('GET', '/api/v1/app/shop-42');
    expect(app.body).toMatchObject({ name: 'Shop 42', uid: 'shop-42', metadata: { plan: 'pro' } });
    expect((await f.call('GET', `/api/v1/app/shop-42/msg/${res.body.id}`)).status).toBe(200);

    // Existing now: `application` is ignored, the settings stay.
    const again = await f.call('POST', '/api/v1/app/shop-42/msg', { eventType: 'order.paid', payload: {}, application: { name: 'Other', uid: 'shop-42' } });
    expect(again.status).toBe(202);
    expect((await f.call('GET', '/api/v1/app/shop-42')).body.name).toBe('Shop 42');

    // Svix: the uid in the body must be the path's.
    const mismatch = await f.call('POST', '/api/v1/app/shop-43/msg', { eventType: 'x', payload: {}, application: { name: 'Shop', uid: 'shop-44' } });
    expect(mismatch.status).toBe(422);
    expect(mismatch.body.detail[0].loc).toEqual(['body', 'application', 'uid']);
    expect((await f.call('GET', '/api/v1/app/shop-43')).status).toBe(404);
  });
});

describe('expunge content', () => {
  it("replaces a message's payload, keeps its log, and refuses to send it again", async () => {
    f.rx.respondWith({ status: 200, body: 'secret-in-response' });
    const app = await f.makeApp();
    const ep = await f.makeEndpoint(app.id, { path: '/expunge' });
    const msg = (await f.call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'x', payload: { card: '4111' } })).body;
    const attempts = await eventually(async () => {
      const res = await f.call('GET', `/api/v1/app/${app.id}/attempt/msg/${msg.id}`);
      return res.body.data.length === 1 ? res.body.data : undefined;
    }, 'the delivery');
    const attemptId = attempts[0].id;
    expect((await f.call('GET', `/api/v1/app/${app.id}/msg/${msg.id}/attempt/${attemptId}`)).body.response).toBe('secret-in-response');

    expect((await f.call('DELETE', `/api/v1/app/${app.id}/msg/${msg.id}/attempt/${attemptId}/content`)).status).toBe(204);
    expect((await f.call('GET', `/api/v1/app/${app.id}/msg/${msg.id}/attempt/${attemptId}`)).body.response).toBe('EXPUNGED');

    expect((await f.call('DELETE', `/api/v1/app/${app.id}/msg/${msg.id}/content`)).status).toBe(204);
    expect((await f.call('GET', `/api/v1/app/${app.id}/msg/${msg.id}`)).body.payload).toEqual({ expunged: true });
    expect((await f.call('GET', `/api/v1/app/${app.id}/attempt/msg/${msg.id}`)).body.data).toHaveLength(1);
    const resend = await f.call('POST', `/api/v1/app/${app.id}/msg/${msg.id}/endpoint/${ep.id}/resend`);
    expect(resend.status).toBe(409);
    expect(resend.body.detail).toMatch(/expunged/);

    expect((await f.call('DELETE', `/api/v1/app/${app.id}/msg/msg_missing/content`)).status).toBe(404);
    expect((await f.call('DELETE', `/api/v1/app/${app.id}/msg/${msg.id}/attempt/atmpt_missing/content`)).status).toBe(404);
  });

  it('cancels deliveries still waiting, and leaves the message out of recover', async () => {
    const app = await f.makeApp();
    const ep = await f.makeEndpoint(app.id, { path: '/expunge-paused' });
    const since = new Date(Date.now() - 1_000).toISOString();
    await f.call('PATCH', `/api/v1/app/${app.id}/endpoint/${ep.id}`, { disabled: true });
    const msg = (await f.call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'x', payload: { secret: 1 } })).body;
    expect((await f.call('DELETE', `/api/v1/app/${app.id}/msg/${msg.id}/content`)).status).toBe(204);
    const dest = (await f.call('GET', `/api/v1/app/${app.id}/msg/${msg.id}/endpoint`)).body.data[0];
    expect(dest.status).toBe(4);
    await f.call('PATCH', `/api/v1/app/${app.id}/endpoint/${ep.id}`, { disabled: false });
    const recover = await f.call('POST', `/api/v1/app/${app.id}/endpoint/${ep.id}/recover`, { since });
    expect(recover.body.count).toBe(0);
    const task = await eventually(async () => {
      const t = await f.call('GET', `/api/v1/background-task/${recover.body.id}`);
      return t.body.status === 'finished' ? t.body : undefined;
    }, 'the recover task');
    expect(task.data.messagesSent).toBe(0);
    expect(f.rx.requests.filter((r) => r.path === '/expunge-paused')).toEqual([]);
  });

  it('needs the delete permission', async () => {
    const app = await f.makeApp();
    const msg = (await f.call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'x', payload: {} })).body;
    const key = await f.call('POST', '/api/v1/api-key', { name: 'writer', permissions: ['read', 'create', 'update'], appId: app.id });
    expect((await f.call('DELETE', `/api/v1/app/${app.id}/msg/${msg.id}/content`, undefined, key.body.key)).status).toBe(403);
  });
});

describe('GET /api/v1/health/ping', () => {
  it('answers 204 without a token, to GET and HEAD', async () => {
    for (const method of ['GET', 'HEAD']) {
      const res = await fetch(`${f.server.url}/api/v1/health/ping`, { method });
      expect(res.status).toBe(204);
      expect(await res.text()).toBe('');
    }
  });
});

describe('through the official svix client', () => {
  it('publishes with application and tags, filters by tag, expunges, and pings', async () => {
    const svix = new Svix(f.server.adminToken, { serverUrl: f.server.url });
    await svix.health.get();
    const msg = await svix.message.create('svix-parity', {
      eventType: 'order.paid',
      payload: { n: 1 },
      tags: ['vip'],
      application: { name: 'Svix parity', uid: 'svix-parity' },
    });
    expect(msg.tags).toEqual(['vip']);
    expect((await svix.application.get('svix-parity')).name).toBe('Svix parity');
    expect((await svix.message.list('svix-parity', { tag: 'vip' })).data.map((m) => m.id)).toEqual([msg.id]);
    expect((await svix.message.list('svix-parity', { tag: 'other' })).data).toEqual([]);
    await svix.message.expungeContent('svix-parity', msg.id);
    expect((await svix.message.get('svix-parity', msg.id)).payload).toEqual({ expunged: true });
  });
});
