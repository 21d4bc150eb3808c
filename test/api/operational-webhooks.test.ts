/**
 * Operational webhooks through the official `svix` client against a running Herald (real HTTP,
 * worker on, real receivers): the operator subscribes an endpoint of their own; a customer's
 * endpoint that fails makes Herald send message.attempt.failing, then message.attempt.exhausted, and
 * a later success after failures message.attempt.recovered; endpoint changes are sent too. Every
 * delivery verifies with svix's Webhook class under the operational endpoint's secret. Then the
 * operational event list and who may see what.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Svix, Webhook as SvixWebhook } from 'svix';
import { OPERATIONAL_APP_ID } from '../../src/core/operational.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { startReceiver, type ReceivedRequest, type Receiver } from '../support/receiver.js';

let server: TestServer;
let svix: Svix;
let ops: Receiver;
let customer: Receiver;
beforeAll(async () => {
  // three attempts a second apart; failing is raised after the second
  server = await startTestServer({ HERALD_RETRY_SCHEDULE: '0,1s,1s', HERALD_ALERT_FAILING_AFTER: '2' });
  svix = new Svix(server.adminToken, { serverUrl: server.url });
  ops = await startReceiver();
  customer = await startReceiver();
});
afterAll(async () => {
  await ops?.close();
  await customer?.close();
  await server?.close();
});

const headersOf = (h: Record<string, string | string[] | undefined>) =>
  Object.fromEntries(Object.entries(h).filter(([, v]) => typeof v === 'string')) as Record<string, string>;

/** Waits until the operational receiver holds an event of `type` matching `where`, verified under `secret`. */
async function opEvent(secret: string, type: string, where: (data: any) => boolean = () => true): Promise<{ type: string; data: any }> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    for (const r of ops.requests as ReceivedRequest[]) {
      const event = new SvixWebhook(secret).verify(r.body.toString('utf8'), headersOf(r.headers)) as { type: string; data: any };
      if (event.type === type && where(event.data)) return event;
    }
    if (Date.now() > deadline) throw new Error(`no ${type} arrived; got ${ops.requests.map((r) => JSON.parse(r.body.toString()).type).join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('operational webhooks', () => {
  let secret: string;
  let appId: string;
  let endpointId: string;

  it('are managed with the official client', async () => {
    const ep = await svix.operationalWebhookEndpoint.create({ url: `${ops.url}/ops`, description: 'Pager', uid: 'pager', metadata: { team: 'sre' } });
    expect(ep).toMatchObject({ url: `${ops.url}/ops`, description: 'Pager', uid: 'pager', disabled: false, metadata: { team: 'sre' } });
    expect(ep.id).toMatch(/^ep_/);
    expect((await svix.operationalWebhookEndpoint.get('pager')).id).toBe(ep.id);
    expect((await svix.operationalWebhookEndpoint.list()).data.map((e) => e.id)).toEqual([ep.id]);
    await expect(svix.operationalWebhookEndpoint.create({ url: `${ops.url}/x`, filterTypes: ['order.paid'] })).rejects.toMatchObject({ code: 422 });
    secret = (await svix.operationalWebhookEndpoint.getSecret(ep.id)).key;
    expect(secret).toMatch(/^whsec_/);
    await svix.operationalWebhookEndpoint.updateHeaders(ep.id, { headers: { 'X-Team': 'sre' } });
    expect(await svix.operationalWebhookEndpoint.getHeaders(ep.id)).toEqual({ headers: { 'x-team': 'sre' }, sensitive: [] });
    const updated = await svix.operationalWebhookEndpoint.update(ep.id, { url: `${ops.url}/ops`, description: 'Pager duty', filterTypes: [] });
    expect(updated.description).toBe('Pager duty');

    // The official client sends the older names (filterTypes, rateLimit); both are kept.
    const narrow = await svix.operationalWebhookEndpoint.create({ url: `${ops.url}/only-disabled`, filterTypes: ['endpoint.disabled'], rateLimit: 5 });
    expect(narrow).toMatchObject({ filterTypes: ['endpoint.disabled'], rateLimit: 5, throttleRate: 5 });
    await svix.operationalWebhookEndpoint.delete(narrow.id);

    // Herald's own application stays out of the platform's way.
    expect((await svix.application.list({ limit: 250 })).data.some((a) => a.id === OPERATIONAL_APP_ID)).toBe(false);
    await expect(svix.application.get(OPERATIONAL_APP_ID)).rejects.toMatchObject({ code: 404 });
    await expect(svix.message.create(OPERATIONAL_APP_ID, { eventType: 'endpoint.disabled', payload: {} })).rejects.toMatchObject({ code: 404 });
  });

  it('report a customer endpoint created, failing, exhausted and recovered, signed', async () => {
    const app = await svix.application.create({ name: 'Customer', uid: 'customer-1' });
    appId = app.id;
    await svix.eventType.create({ name: 'order.paid', description: 'Paid' });
    const ep = await svix.endpoint.create(app.id, { url: `${customer.url}/hook`, uid: 'crm' });
    endpointId = ep.id;
    const created = await opEvent(secret, 'endpoint.created', (d) => d.endpointId === ep.id);
    expect(created.data).toEqual({ appId: app.id, appUid: 'customer-1', endpointId: ep.id, endpointUid: 'crm' });
    expect(ops.requests[0]!.headers['x-team']).toBe('sre');

    customer.respondWith({ status: 503 });
    const lost = await svix.message.create(app.id, { eventType: 'order.paid', eventId: 'ord-lost', payload: { n: 1 } });
    const failing = await opEvent(secret, 'message.attempt.failing', (d) => d.msgId === lost.id);
    expect(failing.data).toMatchObject({ appId: app.id, appUid: 'customer-1', msgId: lost.id, msgEventId: 'ord-lost', endpointId: ep.id });
    expect(failing.data.lastAttempt).toMatchObject({ responseStatusCode: 503 });
    expect(failing.data.lastAttempt.id).toMatch(/^atmpt_/);
    const exhausted = await opEvent(secret, 'message.attempt.exhausted', (d) => d.msgId === lost.id);
    expect(exhausted.data.lastAttempt.responseStatusCode).toBe(503);
    expect(exhausted.data.lastError).toMatch(/503/);

    // Two failures, then the receiver is fixed: the third attempt succeeds.
    let n = 0;
    customer.respondWith(() => (++n <= 2 ? { status: 500 } : { status: 200 }));
    const saved = await svix.message.create(app.id, { eventType: 'order.paid', payload: { n: 2 } });
    await opEvent(secret, 'message.attempt.failing', (d) => d.msgId === saved.id);
    const recovered = await opEvent(secret, 'message.attempt.recovered', (d) => d.msgId === saved.id);
    expect(recovered.data.lastAttempt.responseStatusCode).toBe(200);
  });

  it('report endpoint changes, a person disabling and enabling it, and its deletion', async () => {
    await svix.endpoint.patch(appId, endpointId, { disabled: true });
    const disabled = await opEvent(secret, 'endpoint.disabled', (d) => d.endpointId === endpointId);
    expect(disabled.data).toMatchObject({ appId, endpointId, trigger: 'manual' });
    await svix.endpoint.patch(appId, endpointId, { disabled: false });
    await opEvent(secret, 'endpoint.enabled', (d) => d.endpointId === endpointId);
    await opEvent(secret, 'endpoint.updated', (d) => d.endpointId === endpointId);
    await svix.endpoint.delete(appId, endpointId);
    const deleted = await opEvent(secret, 'endpoint.deleted', (d) => d.endpointId === endpointId);
    expect(deleted.data.endpointUid).toBe('crm');
  });

  it('are listed as operational events, newest first, filtered, and scoped to a customer for its keys', async () => {
    const list = async (query: string, token = server.adminToken) => {
      const res = await fetch(`${server.url}/api/v1/operational-event${query}`, { headers: { authorization: `Bearer ${token}` } });
      return { status: res.status, body: (await res.json()) as any };
    };
    const all = await list('?limit=250');
    expect(all.status).toBe(200);
    const types = all.body.data.map((e: any) => e.type);
    expect(types).toContain('message.attempt.exhausted');
    const ids = all.body.data.map((e: any) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));

    const exhausted = await list(`?type=message.attempt.exhausted&appId=customer-1`);
    expect(exhausted.body.data).toHaveLength(1);
    expect(exhausted.body.data[0]).toMatchObject({ type: 'message.attempt.exhausted', appId, endpointId, notify: true });

    const paged = await list('?limit=2');
    expect(paged.body.data).toHaveLength(2);
    const next = await list(`?limit=2&iterator=${paged.body.iterator}`);
    expect(Number(next.body.data[0].id)).toBeLessThan(Number(paged.body.data[1].id));
    expect((await list('?iterator=not-a-cursor')).status).toBe(422);

    // A key scoped to another application sees none of this customer's events, and no operational webhooks.
    const other = await svix.application.create({ name: 'Other' });
    const res = await fetch(`${server.url}/api/v1/api-key`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'other', permissions: ['read', 'create', 'update', 'delete'], appId: other.id }),
    });
    const { key } = (await res.json()) as { key: string };
    expect((await list('?limit=250', key)).body.data).toEqual([]);
    expect((await list(`?appId=${appId}`, key)).status).toBe(404);
    const scoped = new Svix(key, { serverUrl: server.url });
    await expect(scoped.operationalWebhookEndpoint.list()).rejects.toMatchObject({ code: 403 });
  });
});
