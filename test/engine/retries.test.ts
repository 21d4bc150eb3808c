import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { publish } from '../../src/engine/publish.js';
import { updateEndpoint, getEndpoint } from '../../src/store/endpoints.js';
import type { Receiver } from '../support/receiver.js';
import { useHeraldWithReceiver, type TestHerald } from '../support/herald.js';

const fx = useHeraldWithReceiver();
let t: TestHerald;
let rx: Receiver;
beforeAll(() => {
  ({ t, rx } = fx);
});
beforeEach(() => {
  rx.requests.length = 0;
});

async function attempts(msgId: string) {
  const { rows } = await t.herald.pool.query(
    `select attempt_number, trigger, response_status, response_body, error_stage, error_message, succeeded
     from attempt where msg_id = $1 order by attempt_number`,
    [msgId],
  );
  return rows;
}
async function delivery(msgId: string) {
  const { rows } = await t.herald.pool.query(`select * from delivery where msg_id = $1`, [msgId]);
  return rows[0];
}
async function setup(path: string) {
  const app = await t.makeApp();
  const ep = await t.makeEndpoint(app.id, { url: `${rx.url}${path}` });
  return { app, ep };
}
const send = (appId: string, payload: object = { x: 1 }) => publish(t.herald.pool, appId, { eventType: 'order.paid', payload }, { now: t.clock.now() });

describe('retry schedule', () => {
  it('retries 5xx through the whole schedule, then fails permanently and records an operational event', async () => {
    rx.respondWith({ status: 503, body: 'down for maintenance' });
    const { app } = await setup('/flaky');
    const msg = await send(app.id);
    const worker = t.herald.createWorker();
    expect(await worker.drain()).toBe(1);

    const delays = t.herald.retryPolicy.schedule.slice(1);
    for (const delay of delays) {
      t.clock.advance(delay - 1);
      expect(await worker.drain()).toBe(0); // not due a millisecond early
      t.clock.advance(1);
      expect(await worker.drain()).toBe(1);
    }
    t.clock.advance(30 * 86_400_000);
    expect(await worker.drain()).toBe(0);

    const rows = await attempts(msg.id);
    expect(rows.map((r) => r.attempt_number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(rows.every((r) => r.response_status === 503 && r.response_body === 'down for maintenance' && !r.succeeded)).toBe(true);
    const d = await delivery(msg.id);
    expect(d.state).toBe('failed');
    expect(d.last_error).toMatch(/8 attempts/);
    const ev = await t.herald.pool.query(`select type, data from operational_event where app_id = $1 and msg_id is not null order by id`, [app.id]);
    // failing after the 4th failed attempt (HERALD_ALERT_FAILING_AFTER), then exhausted after the 8th
    expect(ev.rows).toEqual([
      expect.objectContaining({ type: 'message.attempt.failing', data: expect.objectContaining({ msgId: msg.id, attempts: 4 }) }),
      expect.objectContaining({ type: 'message.attempt.exhausted', data: expect.objectContaining({ msgId: msg.id, attempts: 8, lastError: d.last_error }) }),
    ]);
    expect(rx.requests).toHaveLength(8);
    expect(new Set(rx.requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([msg.id]));
  });

  it('succeeds on a later attempt and stops retrying', async () => {
    let calls = 0;
    rx.respondWith(() => (++calls < 3 ? { status: 500 } : { status: 204 }));
    const { app } = await setup('/third-time');
    const msg = await send(app.id);
    const worker = t.herald.createWorker();
    await worker.drain();
    t.clock.advance(5_000);
    await worker.drain();
    t.clock.advance(300_000);
    await worker.drain();
    t.clock.advance(86_400_000);
    expect(await worker.drain()).toBe(0);
    expect((await attempts(msg.id)).map((r) => r.succeeded)).toEqual([false, false, true]);
    expect((await delivery(msg.id)).state).toBe('succeeded');
  });

  it.each([400, 401, 403, 404, 422])('does not retry %i: the receiver has a bug to fix', async (status) => {
    rx.respondWith({ status, body: '{"error":"bad"}' });
    const { app } = await setup(`/client-error-${status}`);
    const msg = await send(app.id);
    const worker = t.herald.createWorker();
    await worker.drain();
    t.clock.advance(86_400_000);
    expect(await worker.drain()).toBe(0);
    const rows = await attempts(msg.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ response_status: status, response_body: '{"error":"bad"}', succeeded: false });
    expect(rows[0].error_message).toMatch(/receiver/i);
    expect((await delivery(msg.id)).state).toBe('failed');
  });

  it.each([408, 425, 429, 500, 502, 301, 302, 307])('retries %i', async (status) => {
    rx.respondWith({ status, headers: status >= 300 && status < 400 ? { location: 'http://169.254.169.254/' } : {} });
    const { app } = await setup(`/retryable-${status}`);
    const msg = await send(app.id);
    const worker = t.herald.createWorker();
    await worker.drain();
    const d = await delivery(msg.id);
    expect(d.state).toBe('pending');
    expect(new Date(d.next_attempt_at).getTime()).toBe(t.clock.now().getTime() + 5_000);
    expect(rx.requests.map((r) => r.path)).toEqual([`/retryable-${status}`]); // a redirect is never followed
  });

  it('disables the endpoint on 410 Gone and stops sending to it', async () => {
    rx.respondWith({ status: 410 });
    const { app, ep } = await setup('/gone');
    await send(app.id);
    await t.herald.createWorker().drain();
    const row = await getEndpoint(t.herald.pool, app.id, ep.id);
    expect(row).toMatchObject({ disabled: true, disabledBy: 'auto' });
    expect(row!.disabledReason).toMatch(/410/);
    expect((await send(app.id)).deliveries).toBe(0);
  });

  it('honours Retry-After in seconds and as an HTTP date, clamped', async () => {
    rx.respondWith({ status: 429, headers: { 'retry-after': '120' } });
    const { app } = await setup('/slow-down');
    const msg = await send(app.id);
    const worker = t.herald.createWorker();
    await worker.drain();
    expect(new Date((await delivery(msg.id)).next_attempt_at).getTime()).toBe(t.clock.now().getTime() + 120_000);

    const at = new Date(t.clock.now().getTime() + 3_600_000);
    rx.respondWith({ status: 503, headers: { 'retry-after': at.toUTCString() } });
    t.clock.advance(120_000);
    await worker.drain();
    // the schedule's 5 minutes is shorter than the hour asked for: the later wins
    expect(new Date((await delivery(msg.id)).next_attempt_at).getTime()).toBe(Math.floor(at.getTime() / 1000) * 1000);

    rx.respondWith({ status: 429, headers: { 'retry-after': String(10 * 365 * 86_400) } });
    t.clock.set(new Date(new Date((await delivery(msg.id)).next_attempt_at).getTime()));
    await worker.drain();
    expect(new Date((await delivery(msg.id)).next_attempt_at).getTime()).toBe(t.clock.now().getTime() + 24 * 3_600_000);
  });
});

describe('automatic disabling', () => {
  it('disables an endpoint after 10 failures in a row over at least an hour, and re-enabling resumes new messages', async () => {
    rx.respondWith({ status: 500, body: 'boom' });
    const { app, ep } = await setup('/dying');
    const worker = t.herald.createWorker();
    for (let i = 0; i < 12; i++) await send(app.id, { i });
    await worker.drain(); // 12 failures at once: many, but not over an hour
    expect((await getEndpoint(t.herald.pool, app.id, ep.id))!.disabled).toBe(false);

    t.clock.advance(3_600_000);
    await worker.drain();
    const row = await getEndpoint(t.herald.pool, app.id, ep.id);
    expect(row).toMatchObject({ disabled: true, disabledBy: 'auto' });
    expect(row!.disabledReason).toMatch(/in a row/);
    const ev = await t.herald.pool.query(`select type from operational_event where app_id = $1 and type = 'endpoint.disabled'`, [app.id]);
    expect(ev.rowCount).toBe(1);

    // Pending retries are skipped, and new messages do not fan out to it.
    t.clock.advance(86_400_000);
    const dying = () => rx.requests.filter((r) => r.path === '/dying').length;
    const before = dying();
    await worker.drain();
    expect(dying()).toBe(before);
    expect((await send(app.id)).deliveries).toBe(0);

    rx.respondWith({ status: 200 });
    await updateEndpoint(t.herald.pool, app.id, ep.id, { url: row!.url, disabled: false }, t.clock.now());
    const fresh = await send(app.id, { after: true });
    expect(fresh.deliveries).toBe(1);
    await worker.drain();
    expect(rx.requests.at(-1)!.body.toString()).toBe('{"after":true}');
    expect((await getEndpoint(t.herald.pool, app.id, ep.id))!.consecutiveFailures).toBe(0);
  });

  it('a success resets the count', async () => {
    let n = 0;
    rx.respondWith(() => (++n % 5 === 0 ? { status: 200 } : { status: 500 }));
    const { app, ep } = await setup('/wobbly');
    const worker = t.herald.createWorker({ batchSize: 1 });
    for (let i = 0; i < 9; i++) await send(app.id, { i });
    await worker.drain();
    t.clock.advance(2 * 3_600_000);
    await worker.drain();
    expect((await getEndpoint(t.herald.pool, app.id, ep.id))!.disabled).toBe(false);
  });
});
