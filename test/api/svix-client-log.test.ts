/**
 * The delivery log through the official `svix` npm client, unchanged, pointed at Herald: publish,
 * read the attempts every way the client offers, resend, recover, send an example, read stats.
 */
import { MessageAttemptTriggerType, MessageStatus, Svix } from 'svix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startLogFixture, type LogFixture } from './log-fixtures.js';

let f: LogFixture;
let svix: Svix;
beforeAll(async () => {
  f = await startLogFixture();
  svix = new Svix(f.server.adminToken, { serverUrl: f.server.url });
});
afterAll(async () => {
  await f.close();
});

describe('the svix client on the delivery log', () => {
  it('sends a message, lists its attempts, resends it and sees the new attempt', async () => {
    const app = await f.makeApp();
    const ep = await f.makeEndpoint(app.id, { path: '/svix-log' });
    f.rx.respondWith({ status: 200, body: 'thanks' });

    const msg = await svix.message.create(app.id, { eventType: 'invoice.paid', payload: { invoice: 'inv_1' }, eventId: 'svix-log-1' });
    expect(msg.id).toMatch(/^msg_/);
    expect(msg.payload).toEqual({ invoice: 'inv_1' });
    expect((await svix.message.get(app.id, 'svix-log-1')).id).toBe(msg.id);
    expect((await svix.message.list(app.id, { eventTypes: ['invoice.paid'] })).data.map((m) => m.id)).toEqual([msg.id]);

    const first = await eventually(async () => {
      const page = await svix.messageAttempt.listByMsg(app.id, msg.id);
      return page.data.length === 1 ? page.data[0] : undefined;
    }, 'the first attempt');
    expect(first).toMatchObject({
      msgId: msg.id,
      endpointId: ep.id,
      status: MessageStatus.Success,
      responseStatusCode: 200,
      response: 'thanks',
      triggerType: MessageAttemptTriggerType.Scheduled,
    });
    expect(first.timestamp).toBeInstanceOf(Date);
    const byEndpoint = await svix.messageAttempt.listByEndpoint(app.id, ep.id, { withMsg: true });
    expect(byEndpoint.data.map((a) => a.id)).toEqual([first.id]);
    expect(byEndpoint.data[0]!.msg?.payload).toEqual({ invoice: 'inv_1' });
    expect((await svix.messageAttempt.get(app.id, msg.id, first.id)).id).toBe(first.id);

    await svix.messageAttempt.resend(app.id, msg.id, ep.id);
    const [latest] = await eventually(async () => {
      const page = await svix.messageAttempt.listByMsg(app.id, msg.id);
      return page.data.length === 2 ? page.data : undefined;
    }, 'the resent attempt');
    expect(latest).toMatchObject({ triggerType: MessageAttemptTriggerType.Manual, status: MessageStatus.Success });
    expect(f.rx.requests.filter((r) => r.path === '/svix-log').map((r) => r.headers['webhook-id'])).toEqual([msg.id, msg.id]);

    const dests = await svix.messageAttempt.listAttemptedDestinations(app.id, msg.id);
    expect(dests.data.map((d) => [d.id, d.status])).toEqual([[ep.id, MessageStatus.Success]]);
    const sent = await svix.messageAttempt.listAttemptedMessages(app.id, ep.id);
    expect(sent.data.map((m) => [m.id, m.status])).toEqual([[msg.id, MessageStatus.Success]]);
  });

  it('recovers, sends an example and reads endpoint stats', async () => {
    const app = await f.makeApp();
    const ep = await f.makeEndpoint(app.id, { path: '/svix-ops' });
    f.rx.respondWith((req) => (req.path === '/svix-ops' ? { status: 400 } : { status: 200 }));
    const msg = await svix.message.create(app.id, { eventType: 'x', payload: {} });
    await eventually(async () => ((await svix.endpoint.getStats(app.id, ep.id)).fail === 1 ? true : undefined), 'a failure');

    f.rx.respondWith({ status: 200 });
    const task = await svix.endpoint.recover(app.id, ep.id, { since: new Date(Date.now() - 60_000) });
    expect(task.task).toBe('endpoint.recover');
    const example = await svix.endpoint.sendExample(app.id, ep.id, { eventType: 'svix.ping' });
    expect(example.payload).toEqual({ success: true });
    const stats = await eventually(async () => {
      const s = await svix.endpoint.getStats(app.id, ep.id);
      return s.success === 2 ? s : undefined;
    }, 'the recovered and example messages delivered');
    expect(stats).toMatchObject({ success: 2, fail: 0, pending: 0, sending: 0 });
    expect((await svix.messageAttempt.listByMsg(app.id, msg.id)).data[0]!.triggerType).toBe(MessageAttemptTriggerType.Manual);
  });
});
