import { beforeAll, describe, expect, it } from 'vitest';
import { publish } from '../../src/engine/publish.js';
import { recoverFailed, requeueDelivery } from '../../src/store/replay.js';
import { listAttemptLog } from '../../src/store/attempts.js';
import type { Receiver } from '../support/receiver.js';
import { useHeraldWithReceiver, type TestHerald } from '../support/herald.js';

const fx = useHeraldWithReceiver();
let t: TestHerald;
let rx: Receiver;
beforeAll(() => {
  ({ t, rx } = fx);
});

describe('manual resend and recovery', () => {
  it('resends a delivered message as a manual attempt with the same webhook-id', async () => {
    rx.respondWith({ status: 200 });
    const app = await t.makeApp();
    const ep = await t.makeEndpoint(app.id, { url: `${rx.url}/resend` });
    const msg = await publish(t.herald.pool, app.id, { eventType: 'x', payload: { a: 1 } }, { now: t.clock.now() });
    const worker = t.herald.createWorker();
    await worker.drain();
    expect(await requeueDelivery(t.herald.pool, app.id, msg.id, ep.id, t.clock.now())).toBe('queued');
    await worker.drain();
    const log = await listAttemptLog(t.herald.pool, app.id, { msgId: msg.id }, { cursor: null, cursorTime: null, direction: 'next', limit: 10 });
    expect(log.map((a) => [a.attemptNumber, a.trigger])).toEqual([
      [2, 'manual'],
      [1, 'scheduled'],
    ]);
    const mine = rx.requests.filter((r) => r.path === '/resend');
    expect(mine.map((r) => r.headers['webhook-id'])).toEqual([msg.id, msg.id]);
    expect(await requeueDelivery(t.herald.pool, app.id, 'msg_missing', ep.id, t.clock.now())).toBe('not_found');
    const other = await t.makeApp();
    expect(await requeueDelivery(t.herald.pool, other.id, msg.id, ep.id, t.clock.now())).toBe('not_found');
  });

  it('a failed manual resend does not start a new retry run', async () => {
    rx.respondWith({ status: 400 });
    const app = await t.makeApp();
    const ep = await t.makeEndpoint(app.id, { url: `${rx.url}/resend-fail` });
    const msg = await publish(t.herald.pool, app.id, { eventType: 'x', payload: {} }, { now: t.clock.now() });
    const worker = t.herald.createWorker();
    await worker.drain();
    rx.respondWith({ status: 503 });
    await requeueDelivery(t.herald.pool, app.id, msg.id, ep.id, t.clock.now());
    await worker.drain();
    t.clock.advance(86_400_000);
    expect(await worker.drain()).toBe(0);
    const { rows } = await t.herald.pool.query(`select state, attempts_made, last_error from delivery where msg_id = $1`, [msg.id]);
    expect(rows[0].state).toBe('failed');
    expect(rows[0].attempts_made).toBe(2);
    expect(rows[0].last_error).toMatch(/^manual attempt failed/);
  });

  it('recovers every failed delivery of an endpoint since a time, and only those', async () => {
    rx.respondWith({ status: 404 });
    const app = await t.makeApp();
    const ep = await t.makeEndpoint(app.id, { url: `${rx.url}/recover` });
    const old = await publish(t.herald.pool, app.id, { eventType: 'x', payload: { old: true } }, { now: t.clock.now() });
    t.clock.advance(60_000);
    const since = t.clock.now();
    for (let i = 0; i < 5; i++) await publish(t.herald.pool, app.id, { eventType: 'x', payload: { i } }, { now: t.clock.now() });
    const worker = t.herald.createWorker();
    await worker.drain();

    rx.respondWith({ status: 200 });
    const progress: number[] = [];
    const n = await recoverFailed(t.herald.pool, app.id, ep.id, { since, now: t.clock.now(), batchSize: 2, onProgress: (d) => progress.push(d) });
    expect(n).toBe(5);
    expect(progress.at(-1)).toBe(5);
    await worker.drain();
    const { rows } = await t.herald.pool.query(`select msg_id, state from delivery where endpoint_id = $1`, [ep.id]);
    expect(rows.filter((r) => r.state === 'succeeded')).toHaveLength(5);
    expect(rows.find((r) => r.msg_id === old.id).state).toBe('failed');
  });
});
