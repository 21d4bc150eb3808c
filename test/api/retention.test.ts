/**
 * Retention through the API, against a real PostgreSQL, a real receiver and a fake clock: an
 * application's retentionPeriod reads back, a message published with payloadRetentionHours shows
 * `payloadPurged` once the purge ran (payload `{}`), and resending it is refused with a clear 409.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createRetentionPurger } from '../../src/engine/retention.js';
import { startApi, type ApiHarness } from '../support/api.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

let api: ApiHarness;
let rx: Receiver;
beforeEach(async () => {
  api = await startApi({ HERALD_ALLOW_HTTP: 'true', HERALD_ALLOWED_NETWORKS: '127.0.0.0/8' });
  rx = await startReceiver();
});
afterEach(async () => {
  await rx.close();
  await api.close();
});

/** Runs a worker until no delivery is pending or sending, then stops it. */
async function deliverAll(): Promise<void> {
  const worker = api.t.herald.createWorker();
  await worker.start();
  const deadline = Date.now() + 10_000;
  const pending = async () =>
    Number((await api.t.herald.pool.query(`select count(*) as n from delivery where state in ('pending', 'sending')`)).rows[0].n);
  while ((await pending()) > 0) {
    if (Date.now() > deadline) throw new Error('deliveries did not finish');
    await new Promise((r) => setTimeout(r, 20));
  }
  await worker.stop(1_000);
}

it("keeps an application's retentionPeriod, marks a purged payload, and refuses to resend it", async () => {
  const app = await api.makeApp({ retentionPeriod: 30 });
  expect((await api.call('GET', `/api/v1/app/${app.id}`)).body.retentionPeriod).toBe(30);
  const ep = await api.call('POST', `/api/v1/app/${app.id}/endpoint`, { body: { url: `${rx.url}/hook` } });
  expect(ep.status).toBe(201);
  const brief = await api.call('POST', `/api/v1/app/${app.id}/msg`, {
    body: { eventType: 'order.paid', payload: { total: 1 }, payloadRetentionHours: 2 },
  });
  expect(brief.status).toBe(202);
  const kept = await api.call('POST', `/api/v1/app/${app.id}/msg`, { body: { eventType: 'order.paid', payload: { total: 2 } } });
  await deliverAll();

  api.t.clock.advance(3 * 3_600_000);
  const purger = createRetentionPurger(api.t.herald, {});
  try {
    expect(await purger.pass()).toMatchObject({ ran: true, payloads: 1 });
  } finally {
    await purger.stop();
  }

  const purged = await api.call('GET', `/api/v1/app/${app.id}/msg/${brief.body.id}`);
  expect(purged.status).toBe(200);
  expect(purged.body).toMatchObject({ payload: {}, payloadPurged: true });
  const whole = await api.call('GET', `/api/v1/app/${app.id}/msg/${kept.body.id}`);
  expect(whole.body).toMatchObject({ payload: { total: 2 }, payloadPurged: false });

  const resend = await api.call('POST', `/api/v1/app/${app.id}/msg/${brief.body.id}/endpoint/${ep.body.id}/resend`);
  expect(resend.status).toBe(409);
  expect(JSON.stringify(resend.body)).toMatch(/purged/);
});

it('refuses payloadRetentionPeriod and payloadRetentionHours together, and out-of-range values', async () => {
  const app = await api.makeApp();
  const both = await api.call('POST', `/api/v1/app/${app.id}/msg`, {
    body: { eventType: 'order.paid', payload: {}, payloadRetentionPeriod: 1, payloadRetentionHours: 1 },
  });
  expect(both.status).toBe(422);
  const zero = await api.call('POST', `/api/v1/app/${app.id}/msg`, { body: { eventType: 'order.paid', payload: {}, payloadRetentionPeriod: 0 } });
  expect(zero.status).toBe(422);
});
