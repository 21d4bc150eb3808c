/**
 * Replay-missing, bulk replay and the background task routes, through HTTP against a running Herald
 * (real worker, real receiver), and the same through the official `svix` client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackgroundTaskType, Svix } from 'svix';
import { issueToken } from '../../src/engine/auth-tokens.js';
import { eventually, startLogFixture, type LogFixture } from './log-fixtures.js';

let f: LogFixture;
beforeAll(async () => {
  f = await startLogFixture();
});
afterAll(async () => {
  await f.close();
});

async function publish(appId: string, body: Record<string, unknown>): Promise<{ id: string; timestamp: string }> {
  const res = await f.call('POST', `/api/v1/app/${appId}/msg`, body);
  expect(res.status).toBe(202);
  return res.body;
}

/** The task once it is no longer running. */
function finished(id: string) {
  return eventually(async () => {
    const res = await f.call('GET', `/api/v1/background-task/${id}`);
    expect(res.status).toBe(200);
    return res.body.status === 'running' ? undefined : res.body;
  }, `task ${id}`);
}

/** [attemptNumber, triggerType, status] of a message's attempts to one endpoint, newest first. */
async function attempts(appId: string, msgId: string, epId: string) {
  const res = await f.call('GET', `/api/v1/app/${appId}/attempt/msg/${msgId}?endpoint_id=${epId}`);
  return res.body.data.map((a: any) => [a.attemptNumber, a.triggerType, a.status]);
}

const received = (path: string) => f.rx.requests.filter((r) => r.path === path).map((r) => r.headers['webhook-id']);

describe('replay-missing', () => {
  it("sends an endpoint the subscribed messages that never reached it, and nothing it already has", async () => {
    f.rx.respondWith({ status: 200 });
    const app = await f.makeApp();
    const since = new Date(Date.now() - 1_000).toISOString();
    const paid = await publish(app.id, { eventType: 'order.paid', payload: { n: 1 } });
    const refunded = await publish(app.id, { eventType: 'order.refunded', payload: { n: 2 } });
    const paid2 = await publish(app.id, { eventType: 'order.paid', payload: { n: 3 } });
    // Created after the messages: it has no delivery of any of them.
    const late = await f.makeEndpoint(app.id, { path: '/late', filterTypes: ['order.paid'] });

    const res = await f.call('POST', `/api/v1/app/${app.id}/endpoint/${late.id}/replay-missing`, { since });
    expect(res.status).toBe(202);
    // The first batch runs before the answer: a replay this small is already finished.
    expect(res.body).toMatchObject({ status: 'finished', task: 'endpoint.replay' });
    expect(Object.keys(res.body).sort()).toEqual(['id', 'status', 'task', 'updatedAt']);
    expect(await finished(res.body.id)).toMatchObject({ status: 'finished', task: 'endpoint.replay', data: { messagesSent: 2 } });
    await eventually(async () => received('/late').length === 2 || undefined, 'the two replayed messages');
    expect(received('/late').sort()).toEqual([paid.id, paid2.id].sort());
    expect(await attempts(app.id, refunded.id, late.id)).toEqual([]);

    // Everything has arrived now: a second replay finds nothing missing.
    const again = await f.call('POST', `/api/v1/app/${app.id}/endpoint/${late.id}/replay-missing`, { since });
    expect(await finished(again.body.id)).toMatchObject({ status: 'finished', data: { messagesSent: 0 } });
    expect(received('/late')).toHaveLength(2);
  });

  it('gives a failed delivery one more attempt, and refuses a disabled endpoint, a bad window and readers', async () => {
    const app = await f.makeApp();
    const ep = await f.makeEndpoint(app.id, { path: '/missing-failed' });
    f.rx.respondWith((req) => (req.path === '/missing-failed' ? { status: 400 } : { status: 200 }));
    const since = new Date(Date.now() - 1_000).toISOString();
    const msg = await publish(app.id, { eventType: 'x', payload: {} });
    await eventually(async () => (await attempts(app.id, msg.id, ep.id)).length === 1 || undefined, 'the failed attempt');
    f.rx.respondWith({ status: 200 });
    const res = await f.call('POST', `/api/v1/app/${app.id}/endpoint/${ep.id}/replay-missing`, { since });
    expect(await finished(res.body.id)).toMatchObject({ data: { messagesSent: 1 } });
    await eventually(async () => (await attempts(app.id, msg.id, ep.id)).length === 2 || undefined, 'the replayed attempt');
    expect(await attempts(app.id, msg.id, ep.id)).toEqual([
      [2, 1, 0],
      [1, 0, 2],
    ]);

    const url = `/api/v1/app/${app.id}/endpoint/${ep.id}/replay-missing`;
    expect((await f.call('POST', url, { since: new Date(Date.now() + 3_600_000).toISOString() })).status).toBe(422);
    expect((await f.call('POST', url, { since, until: since })).body.detail[0].loc).toEqual(['body', 'until']);
    const paused = await f.makeEndpoint(app.id, { disabled: true });
    expect((await f.call('POST', `/api/v1/app/${app.id}/endpoint/${paused.id}/replay-missing`, { since })).status).toBe(409);
    const reader = await keyFor(app.id, ['read']);
    expect((await f.call('POST', url, { since }, reader)).status).toBe(403);
  });
});

describe('bulk-replay', () => {
  it('sends again every matching message, delivered ones too, as manual attempts', async () => {
    f.rx.respondWith({ status: 200 });
    const app = await f.makeApp();
    const ep = await f.makeEndpoint(app.id, { path: '/bulk' });
    const since = new Date(Date.now() - 1_000).toISOString();
    const paid = await publish(app.id, { eventType: 'order.paid', payload: {}, channels: ['eu'] });
    const other = await publish(app.id, { eventType: 'order.shipped', payload: {}, channels: ['us'] });
    await eventually(async () => received('/bulk').length === 2 || undefined, 'both delivered');

    const res = await f.call('POST', `/api/v1/app/${app.id}/endpoint/${ep.id}/bulk-replay`, { since, eventTypes: ['order.paid'], status: 0 });
    expect(res.status).toBe(202);
    expect(res.body.task).toBe('endpoint.bulk-replay');
    expect(await finished(res.body.id)).toMatchObject({ status: 'finished', data: { messagesSent: 1 } });
    await eventually(async () => (await attempts(app.id, paid.id, ep.id)).length === 2 || undefined, 'the replayed attempt');
    expect(await attempts(app.id, paid.id, ep.id)).toEqual([
      [2, 1, 0],
      [1, 0, 0],
    ]);
    expect(await attempts(app.id, other.id, ep.id)).toHaveLength(1);

    // Filters that match nothing: a failed status, another channel.
    for (const body of [{ since, status: 2 }, { since, channel: 'nowhere' }, { since, statusCodeClass: 500 }]) {
      const none = await f.call('POST', `/api/v1/app/${app.id}/endpoint/${ep.id}/bulk-replay`, body);
      expect(await finished(none.body.id)).toMatchObject({ data: { messagesSent: 0 } });
    }
    const byChannel = await f.call('POST', `/api/v1/app/${app.id}/endpoint/${ep.id}/bulk-replay`, { since, channel: 'us', statusCodeClass: 200 });
    expect(await finished(byChannel.body.id)).toMatchObject({ data: { messagesSent: 1 } });
  });
});

async function keyFor(appId: string | null, permissions: ('read' | 'create' | 'update' | 'delete')[]): Promise<string> {
  const issued = await issueToken(f.server.herald.pool, { kind: 'api_key', name: 't', permissions, appId, expiresAt: null, createdBy: null, now: new Date() });
  return issued!.token;
}

describe('GET /api/v1/background-task', () => {
  it('lists tasks newest first with Svix filters and paging; a scoped token sees its application only', async () => {
    const app = await f.makeApp();
    const ep = await f.makeEndpoint(app.id, { path: '/listing' });
    const since = new Date(Date.now() - 1_000).toISOString();
    const ids: string[] = [];
    for (const op of ['recover', 'replay-missing', 'bulk-replay']) {
      const res = await f.call('POST', `/api/v1/app/${app.id}/endpoint/${ep.id}/${op}`, { since });
      ids.push(res.body.id);
      await finished(res.body.id);
    }
    const scoped = await keyFor(app.id, ['read']);
    const mine = await f.call('GET', '/api/v1/background-task?limit=250', undefined, scoped);
    expect(mine.body.data.map((t: any) => t.id)).toEqual([...ids].reverse());
    expect(mine.body.data.map((t: any) => t.task)).toEqual(['endpoint.bulk-replay', 'endpoint.replay', 'endpoint.recover']);

    const asc = await f.call('GET', '/api/v1/background-task?limit=250&order=ascending', undefined, scoped);
    expect(asc.body.data.map((t: any) => t.id)).toEqual(ids);
    const replays = await f.call('GET', '/api/v1/background-task?task=endpoint.replay&status=finished', undefined, scoped);
    expect(replays.body.data.map((t: any) => t.id)).toEqual([ids[1]]);
    expect((await f.call('GET', '/api/v1/background-task?status=failed', undefined, scoped)).body.data).toEqual([]);

    const first = await f.call('GET', '/api/v1/background-task?limit=2', undefined, scoped);
    expect(first.body).toMatchObject({ done: false });
    expect(first.body.data.map((t: any) => t.id)).toEqual([ids[2], ids[1]]);
    const second = await f.call('GET', `/api/v1/background-task?limit=2&iterator=${first.body.iterator}`, undefined, scoped);
    expect(second.body).toMatchObject({ done: true });
    expect(second.body.data.map((t: any) => t.id)).toEqual([ids[0]]);
    const back = await f.call('GET', `/api/v1/background-task?limit=2&iterator=${second.body.prevIterator}`, undefined, scoped);
    expect(back.body.data.map((t: any) => t.id)).toEqual([ids[2], ids[1]]);
    expect((await f.call('GET', '/api/v1/background-task?iterator=nope')).status).toBe(422);
    expect((await f.call('GET', '/api/v1/background-task?status=done')).status).toBe(422);

    const otherApp = await f.makeApp();
    const outsider = await keyFor(otherApp.id, ['read']);
    expect((await f.call('GET', '/api/v1/background-task', undefined, outsider)).body.data).toEqual([]);
    expect((await f.call('GET', `/api/v1/background-task/${ids[0]}`, undefined, outsider)).status).toBe(404);
    expect((await f.call('GET', `/api/v1/background-task/${ids[0]}`, undefined, scoped)).status).toBe(200);
    expect((await f.call('GET', '/api/v1/background-task/qtask_missing')).status).toBe(404);
  });
});

describe('the official svix client', () => {
  it('recovers, replays and polls the background task until it is finished', async () => {
    const svix = new Svix(f.server.adminToken, { serverUrl: f.server.url });
    const app = await f.makeApp();
    const ep = await f.makeEndpoint(app.id, { path: '/svix-task' });
    f.rx.respondWith((req) => (req.path === '/svix-task' ? { status: 400 } : { status: 200 }));
    const since = new Date(Date.now() - 1_000);
    const msg = await svix.message.create(app.id, { eventType: 'x', payload: { via: 'svix' } });
    await eventually(async () => (await attempts(app.id, msg.id, ep.id)).length === 1 || undefined, 'the failed attempt');
    f.rx.respondWith({ status: 200 });

    const recover = await svix.endpoint.recover(app.id, ep.id, { since });
    expect(recover.task).toBe('endpoint.recover');
    const task = await eventually(async () => {
      const t = await svix.backgroundTask.get(recover.id);
      return t.status === 'finished' ? t : undefined;
    }, 'the recover task through svix');
    expect(task.data).toMatchObject({ messagesSent: 1 });
    expect(task.updatedAt).toBeInstanceOf(Date);

    const replay = await svix.endpoint.replayMissing(app.id, ep.id, { since });
    expect(replay.task).toBe('endpoint.replay');
    const bulk = await svix.endpoint.bulkReplay(app.id, ep.id, { since, eventTypes: ['x'] });
    expect(bulk.task).toBe('endpoint.bulk-replay');
    await eventually(async () => (await svix.backgroundTask.get(bulk.id)).status === 'finished' || undefined, 'the bulk replay');
    const list = await svix.backgroundTask.list({ task: BackgroundTaskType.EndpointRecover, limit: 250 });
    expect(list.data.map((t) => t.id)).toContain(recover.id);
  });
});
