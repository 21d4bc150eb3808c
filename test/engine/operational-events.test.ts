/**
 * Operational events on a fake clock: an endpoint disabled automatically raises endpoint.disabled
 * (automatic, with when its failures began and why, to be emailed about); an operational webhook
 * endpoint that fails raises events that are stored but never published back to the operational
 * webhooks (that would feed its own failure into itself); failing alerts can be turned off.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OPERATIONAL_APP_ID } from '../../src/core/operational.js';
import { publish } from '../../src/engine/publish.js';
import { messageEvents, type FinishedDelivery } from '../../src/delivery/persist.js';
import type { Receiver } from '../support/receiver.js';
import { useHeraldWithReceiver, type TestHerald } from '../support/herald.js';

const fx = useHeraldWithReceiver({ HERALD_AUTO_DISABLE_FAILURES: '3', HERALD_RETRY_SCHEDULE: '0,1m,1m,1m,1m' });
let t: TestHerald;
let rx: Receiver;
beforeAll(() => {
  ({ t, rx } = fx);
});
beforeEach(() => {
  rx.requests.length = 0;
  rx.respondWith({ status: 200 });
});

const events = async (appId: string) =>
  (await t.herald.pool.query(`select type, endpoint_id, msg_id, notify, data from operational_event where app_id = $1 order by id`, [appId])).rows;
const send = (appId: string, payload: object = { x: 1 }) => publish(t.herald.pool, appId, { eventType: 'order.paid', payload }, { now: t.clock.now() });

describe('operational events', () => {
  it('raise endpoint.disabled, automatic, when failures disable an endpoint', async () => {
    rx.respondWith({ status: 500, body: 'boom' });
    const app = await t.makeApp('disabling');
    const ep = await t.makeEndpoint(app.id, { url: `${rx.url}/dying` });
    const worker = t.herald.createWorker();
    const started = t.clock.now();
    for (let i = 0; i < 3; i++) await send(app.id, { i });
    await worker.drain();
    t.clock.advance(3_600_000);
    await worker.drain();
    const disabled = (await events(app.id)).filter((e) => e.type === 'endpoint.disabled');
    expect(disabled).toHaveLength(1);
    expect(disabled[0]).toMatchObject({ endpoint_id: ep.id, notify: true });
    expect(disabled[0].data).toMatchObject({ appId: app.id, endpointId: ep.id, trigger: 'automatic', failSince: started.toISOString() });
    expect(disabled[0].data.reason).toMatch(/in a row/);
  });

  it('of an operational webhook endpoint are stored, not published back to it', async () => {
    rx.respondWith({ status: 503 });
    const opEp = await t.makeEndpoint(OPERATIONAL_APP_ID, { url: `${rx.url}/ops-down` });
    const app = await t.makeApp('watched');
    await t.makeEndpoint(app.id, { url: `${rx.url}/customer` });
    const opMessages = async () => Number((await t.herald.pool.query(`select count(*) from message where app_id = $1`, [OPERATIONAL_APP_ID])).rows[0].count);
    const before = await opMessages();
    const worker = t.herald.createWorker();
    await send(app.id);
    for (let i = 0; i < 6; i++) {
      await worker.drain();
      t.clock.advance(60_000);
    }
    // The customer's failure is published (failing, then exhausted) ...
    expect((await events(app.id)).map((e) => e.type)).toEqual(['endpoint.created', 'message.attempt.failing', 'message.attempt.exhausted']);
    expect(await opMessages()).toBe(before + 2);
    // ... the operational endpoint's own failures are recorded, for the operators' email, and go nowhere else.
    const own = (await events(OPERATIONAL_APP_ID)).filter((e) => e.endpoint_id === opEp.id && e.msg_id !== null);
    expect(own.map((e) => e.type)).toContain('message.attempt.exhausted');
    expect(own.every((e) => e.notify)).toBe(true);
    await t.herald.pool.query(`delete from endpoint where id = $1`, [opEp.id]);
  });
});

describe('message events of a written batch', () => {
  const finished = (state: 'pending' | 'failed' | 'succeeded', runAttempts: number, attemptsMade: number, succeeded: boolean): FinishedDelivery => ({
    delivery: { appId: 'app_x', endpointId: 'ep_x', msgId: 'msg_x' } as FinishedDelivery['delivery'],
    outcome: null,
    update: {
      id: 1, leaseVersion: 1, state, nextAttemptAt: new Date(0), attemptsMade, runAttempts, lastStatus: succeeded ? 200 : 500, lastError: succeeded ? null : 'HTTP 500',
      attempt: { id: 'atmpt_x', attemptNumber: attemptsMade, trigger: 'scheduled', url: 'https://x', requestHeaders: {}, responseStatus: succeeded ? 200 : 500, responseHeaders: {}, responseBody: '', responseTruncated: false, responseLossy: false, durationMs: 1, errorStage: null, errorMessage: null, succeeded, createdAt: new Date(0) },
    },
  });

  it('raise failing once, at the Nth failure of a run, recovered after it, and nothing when turned off', () => {
    const types = (batch: FinishedDelivery[], n: number) => messageEvents(batch, n).map((e) => e.type);
    expect(types([finished('pending', 3, 3, false)], 4)).toEqual([]);
    expect(types([finished('pending', 4, 4, false)], 4)).toEqual(['message.attempt.failing']);
    expect(types([finished('pending', 5, 5, false)], 4)).toEqual([]);
    expect(types([finished('succeeded', 5, 5, true)], 4)).toEqual(['message.attempt.recovered']);
    expect(types([finished('succeeded', 2, 2, true)], 4)).toEqual([]);
    expect(types([finished('failed', 8, 8, false)], 4)).toEqual(['message.attempt.exhausted']);
    expect(types([finished('pending', 4, 4, false), finished('succeeded', 6, 6, true)], 0)).toEqual([]);
  });
});
