import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish } from '../../src/engine/publish.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

let t: TestHerald;
let rx: Receiver;
beforeAll(async () => {
  // A long poll interval: a prompt delivery can only come from LISTEN/NOTIFY.
  t = await startTestHerald({ HERALD_POLL_INTERVAL: '1h' });
  rx = await startReceiver();
});
afterAll(async () => {
  await rx.close();
  await t.close();
});

describe('the running worker', () => {
  it('wakes on NOTIFY, delivers, and on stop writes what was in flight', async () => {
    const app = await t.makeApp();
    await t.makeEndpoint(app.id, { url: `${rx.url}/loop` });
    const worker = t.herald.createWorker();
    await worker.start();
    try {
      const msg = await publish(t.herald.pool, app.id, { eventType: 'x', payload: { n: 1 } }, { now: t.clock.now() });
      await rx.waitFor(1, 10_000);
      expect(rx.requests[0]!.headers['webhook-id']).toBe(msg.id);

      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      rx.respondWith(async () => {
        await held;
        return { status: 200 };
      });
      const second = await publish(t.herald.pool, app.id, { eventType: 'x', payload: { n: 2 } }, { now: t.clock.now() });
      await rx.waitFor(2, 10_000);
      const stopping = worker.stop(10_000);
      release();
      await stopping;
      const { rows } = await t.herald.pool.query(`select state from delivery where msg_id = $1`, [second.id]);
      expect(rows[0].state).toBe('succeeded');
    } finally {
      await worker.stop();
    }
  });

  it('hands back the leases of requests still running when the grace period ends', async () => {
    const app = await t.makeApp();
    await t.makeEndpoint(app.id, { url: `${rx.url}/slow` });
    rx.respondWith(() => new Promise(() => undefined)); // never answers
    const worker = t.herald.createWorker();
    await worker.start();
    const seen = rx.requests.length;
    const msg = await publish(t.herald.pool, app.id, { eventType: 'x', payload: {} }, { now: t.clock.now() });
    await rx.waitFor(seen + 1, 10_000);
    await worker.stop(50);
    const { rows } = await t.herald.pool.query(`select state, attempts_made from delivery where msg_id = $1`, [msg.id]);
    expect(rows[0]).toEqual({ state: 'pending', attempts_made: 0 });
  });
});
