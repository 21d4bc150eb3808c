/**
 * An application's attempt statistics (Svix's stats routes) through HTTP against a running Herald
 * with a real worker and receiver: totals per event type, the time series, an endpoint's count.
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

describe('attempt statistics of an application', () => {
  it('counts successes, failures and deliveries not attempted, per event type, over time and per endpoint', async () => {
    const app = await f.makeApp();
    const ok = await f.makeEndpoint(app.id, { path: '/stats-ok' });
    await f.makeEndpoint(app.id, { path: '/stats-bad', filterTypes: ['order.paid'] });
    f.rx.respondWith((req) => (req.path === '/stats-bad' ? { status: 400 } : { status: 200 }));
    const start = new Date(Date.now() - 60_000);
    await f.call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'order.paid', payload: {}, tags: ['t1'] });
    await f.call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'order.shipped', payload: {} });
    // A third endpoint, paused, holds its delivery; expunging the message skips it: one canceled.
    const held = await f.makeEndpoint(app.id, { path: '/stats-held', disabled: true, filterTypes: ['order.shipped'] });
    const skipped = await f.call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'order.shipped', payload: {} });
    const end = new Date(Date.now() + 60_000);
    const window = `since=${start.toISOString()}&until=${end.toISOString()}`;
    await eventually(async () => {
      const res = await f.call('GET', `/api/v1/app/${app.id}/stats/attempts?${window}`);
      return res.body.total_success + res.body.total_failure === 4 || undefined;
    }, 'four attempts');
    expect((await f.call('DELETE', `/api/v1/app/${app.id}/msg/${skipped.body.id}/content`)).status).toBe(204);
    expect(held.id).toMatch(/^ep_/);

    const totals = await f.call('GET', `/api/v1/app/${app.id}/stats/attempts?${window}`);
    expect(totals.status).toBe(200);
    expect(totals.body).toMatchObject({
      by_event_type: {
        'order.paid': { success: 1, failure: 1, canceled: 0 },
        'order.shipped': { success: 2, failure: 0, canceled: 1 },
      },
      total_success: 3,
      total_failure: 1,
      total_canceled: 1,
      since: start.toISOString(),
      until: end.toISOString(),
    });
    const paidOnly = await f.call('GET', `/api/v1/app/${app.id}/stats/attempts?${window}&event_types=order.paid`);
    expect(Object.keys(paidOnly.body.by_event_type)).toEqual(['order.paid']);
    expect((await f.call('GET', `/api/v1/app/${app.id}/stats/attempts?since=${end.toISOString()}&until=${start.toISOString()}`)).status).toBe(422);

    const seriesStart = new Date(start.getTime() - 5 * 60_000);
    const series = await f.call(
      'GET',
      `/api/v1/stats/app/${app.id}/attempt?period=FiveMinutes&startDate=${seriesStart.toISOString()}&endDate=${end.toISOString()}`,
    );
    expect(series.status).toBe(200);
    expect(series.body.period).toBe('FiveMinutes');
    const { successCount, failureCount, canceledCount } = series.body.data;
    expect(successCount).toHaveLength(Math.ceil((end.getTime() - seriesStart.getTime()) / 300_000));
    const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect([total(successCount), total(failureCount), total(canceledCount)]).toEqual([3, 1, 1]);
    expect(successCount[0]).toBe(0);
    const byDefault = await f.call('GET', `/api/v1/stats/app/${app.id}/attempt`);
    expect(byDefault.body.period).toBe('OneDay');
    expect(byDefault.body.data.successCount).toHaveLength(7);
    expect(total(byDefault.body.data.successCount)).toBe(3);
    expect((await f.call('GET', `/api/v1/stats/app/${app.id}/attempt?period=FiveMinutes&startDate=2020-01-01T00:00:00Z`)).status).toBe(422);

    const count = async (q: string) => (await f.call('GET', `/api/v1/app/${app.id}/attempt/endpoint/${ok.id}/count${q}`)).body;
    expect(await count('')).toEqual({ count: 3, approximated: false });
    expect(await count('?event_types=order.paid')).toEqual({ count: 1, approximated: false });
    expect(await count('?tag=t1')).toEqual({ count: 1, approximated: false });
    expect(await count('?status=2')).toEqual({ count: 0, approximated: false });
    expect(await count('?status_code_class=200')).toEqual({ count: 3, approximated: false });
    expect(await count('?status_code_class=400')).toEqual({ count: 0, approximated: false });
    expect((await f.call('GET', `/api/v1/app/${app.id}/attempt/endpoint/ep_missing/count`)).status).toBe(404);
  });
});

describe('deliveries per application (a background task)', () => {
  it('counts message destinations per application in the window, through HTTP and the svix client', async () => {
    f.rx.respondWith({ status: 200 });
    const a = await f.makeApp();
    const b = await f.makeApp();
    await f.makeEndpoint(a.id, { path: '/usage-a1' });
    await f.makeEndpoint(a.id, { path: '/usage-a2' });
    await f.makeEndpoint(b.id, { path: '/usage-b' });
    const since = new Date(Date.now() - 1_000);
    await f.call('POST', `/api/v1/app/${a.id}/msg`, { eventType: 'x', payload: {} });
    await f.call('POST', `/api/v1/app/${a.id}/msg`, { eventType: 'x', payload: {} });
    await f.call('POST', `/api/v1/app/${b.id}/msg`, { eventType: 'x', payload: {} });
    const until = new Date(Date.now() + 1_000);

    const res = await f.call('POST', '/api/v1/stats/usage/app', { since, until, appIds: [a.id, b.id, 'no-such-app'] });
    expect(res.status).toBe(202);
    // A small task is done by the time the request is answered; the task can still be polled.
    expect(res.body).toMatchObject({ status: 'finished', task: 'application.stats', unresolvedAppIds: ['no-such-app'] });
    const task = await eventually(async () => {
      const t = await f.call('GET', `/api/v1/background-task/${res.body.id}`);
      return t.body.status === 'finished' ? t.body : undefined;
    }, 'the usage task');
    const byApp = Object.fromEntries(task.data.appStats.map((s: any) => [s.appId, s.messageDestinations]));
    expect(byApp).toEqual({ [a.id]: 4, [b.id]: 1 });
    expect((await f.call('POST', '/api/v1/stats/usage/app', { since, until, appIds: ['nope'] })).status).toBe(422);
    const key = await f.call('POST', '/api/v1/api-key', { name: 'scoped', permissions: ['read'], appId: a.id });
    expect((await f.call('POST', '/api/v1/stats/usage/app', { since, until }, key.body.key)).status).toBe(403);

    const svix = new Svix(f.server.adminToken, { serverUrl: f.server.url });
    const out = await svix.statistics.aggregateAppStats({ since, until });
    expect(out.unresolvedAppIds).toEqual([]);
    const done = await eventually(async () => {
      const t = await svix.backgroundTask.get(out.id);
      return t.status === 'finished' ? t : undefined;
    }, 'the usage task through svix');
    const all = done.data.appStats as { appId: string; messageDestinations: number }[];
    expect(all.find((s) => s.appId === a.id)?.messageDestinations).toBe(4);
  });
});

describe('event types per application (a background task)', () => {
  it("lists the event types each application's endpoints name, and whether one takes everything", async () => {
    await f.call('POST', '/api/v1/event-type', { name: 'agg.one', description: '' });
    await f.call('POST', '/api/v1/event-type', { name: 'agg.two', description: '' });
    const named = await f.makeApp();
    await f.makeEndpoint(named.id, { filterTypes: ['agg.two', 'agg.one'] });
    await f.makeEndpoint(named.id, { filterTypes: ['agg.one', 'agg.*'] });
    const catchAll = await f.makeApp();
    await f.makeEndpoint(catchAll.id, {});

    const svix = new Svix(f.server.adminToken, { serverUrl: f.server.url });
    const out = await svix.statistics.aggregateEventTypes();
    expect(out.task).toBe('event-type.aggregate');
    const done = await eventually(async () => {
      const t = await svix.backgroundTask.get(out.id);
      return t.status === 'finished' ? t : undefined;
    }, 'the event type aggregate');
    const byApp = new Map((done.data.event_types as any[]).map((e) => [e.appId, e]));
    expect(byApp.get(named.id)).toEqual({ appId: named.id, explicitlySubscribedEventTypes: ['agg.one', 'agg.two'], hasCatchAllEndpoint: false });
    expect(byApp.get(catchAll.id)).toEqual({ appId: catchAll.id, explicitlySubscribedEventTypes: [], hasCatchAllEndpoint: true });
    const key = await f.call('POST', '/api/v1/api-key', { name: 'scoped', permissions: ['read'], appId: named.id });
    expect((await f.call('PUT', '/api/v1/stats/usage/event-types', undefined, key.body.key)).status).toBe(403);
  });
});
