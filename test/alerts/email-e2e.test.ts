/**
 * End to end: a receiver that answers 500 until every retry is used, the real delivery worker on the
 * fake clock, the running alert sender, and a real SMTP server. One outage, one email per audience;
 * an SMTP server that refuses everything leaves delivery alone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createApplication } from '../../src/engine/applications.js';
import { publish } from '../../src/engine/publish.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { waitingEvents } from './events.js';
import { startSmtp, type TestSmtp } from './smtp.js';

let t: TestHerald | undefined;
let smtp: TestSmtp | undefined;
let rx: Receiver | undefined;
afterEach(async () => {
  await t?.close();
  await smtp?.close();
  await rx?.close();
  t = smtp = rx = undefined;
});

async function setup() {
  smtp = await startSmtp();
  rx = await startReceiver();
  t = await startTestHerald({
    HERALD_SMTP_URL: smtp.url,
    HERALD_ALERT_FROM: 'alerts@example.com',
    HERALD_ALERT_EMAILS: 'ops@example.com',
    HERALD_PUBLIC_URL: 'https://hooks.example.com/',
    HERALD_RETRY_SCHEDULE: '0,1m,1m',
    HERALD_AUTO_DISABLE_FAILURES: '1000',
    HERALD_BREAKER_FAILURES: '0',
  });
  const app = await createApplication(t.herald.pool, { name: 'Acme', alertEmail: 'dev@acme.example' }, t.clock.now());
  return { t, smtp, rx, app };
}

/** Polls until `check` holds; throws after the deadline. */
async function until(check: () => boolean | Promise<boolean>, what: string, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('alert emails end to end', () => {
  it('emails once per audience when a receiver keeps answering 500 until the messages are exhausted', async () => {
    const { t, smtp, rx, app } = await setup();
    rx.respondWith({ status: 500, body: 'boom' });
    const ep = await t.makeEndpoint(app.id, { url: `${rx.url}/orders`, description: 'Order sync' });
    const msgs = [];
    for (let i = 0; i < 3; i++) msgs.push(await publish(t.herald.pool, app.id, { eventType: 'order.paid', payload: { i } }, { now: t.clock.now() }));
    const worker = t.herald.createWorker();
    const sender = t.herald.createAlertSender({ tickMs: 20 });
    sender.start();
    expect(await worker.drain()).toBe(3);
    t.clock.advance(60_000);
    expect(await worker.drain()).toBe(3);
    t.clock.advance(60_000);
    expect(await worker.drain()).toBe(3); // the third attempt: every message fails for good
    expect(rx.requests).toHaveLength(9);

    await smtp.waitForMails(2);
    await until(async () => (await waitingEvents(t.herald.pool, 'operators')) === 0, 'the events to be marked');
    const ops = smtp.mails.find((m) => m.to.includes('ops@example.com'))!;
    const contact = smtp.mails.find((m) => m.to.includes('dev@acme.example'))!;
    expect(ops.to).toEqual(['ops@example.com']);
    expect(contact.to).toEqual(['dev@acme.example']);
    expect(ops.parsed.subject).toBe('[Herald] 3 webhook messages failed permanently: Order sync (Acme)');
    const { rows } = await t.herald.pool.query<{ last_error: string }>('select last_error from delivery where msg_id = $1', [msgs[2]!.id]);
    const text = ops.parsed.text!;
    expect(text).toContain('3 messages failed permanently');
    expect(text).toContain(`${rx.url}/orders (Order sync)`);
    expect(text).toContain(rows[0]!.last_error);
    expect(text).toContain('order.paid');
    expect(text).toContain(`https://hooks.example.com/apps/${app.id}/webhooks/${ep.id}`);

    // Nothing more for this outage: the sender keeps passing, no third email.
    const passes = await Promise.all([sender.pass(), sender.pass()]);
    expect(passes.reduce((n, p) => n + p.sent, 0)).toBe(0);
    expect(smtp.mails).toHaveLength(2);
    await sender.stop();
  });

  it('keeps delivering while the SMTP server refuses every email', async () => {
    const { t, smtp, rx, app } = await setup();
    smtp.refuseData(554);
    const broken = await t.makeEndpoint(app.id, { url: `${rx.url}/broken`, filterTypes: ['order.paid'] });
    const healthy = await t.makeEndpoint(app.id, { url: `${rx.url}/healthy`, filterTypes: ['order.shipped'] });
    rx.respondWith((req) => (req.path === '/broken' ? { status: 500 } : { status: 204 }));
    const worker = t.herald.createWorker();
    const sender = t.herald.createAlertSender({ tickMs: 20 });
    sender.start();
    await publish(t.herald.pool, app.id, { eventType: 'order.paid', payload: {} }, { now: t.clock.now() });
    await worker.drain();
    t.clock.advance(60_000);
    await worker.drain();
    t.clock.advance(60_000);
    await worker.drain();
    await until(() => smtp.refused >= 1, 'the SMTP server to refuse an email');

    for (let i = 0; i < 20; i++) await publish(t.herald.pool, app.id, { eventType: 'order.shipped', payload: { i } }, { now: t.clock.now() });
    expect(await worker.drain()).toBe(20);
    expect(rx.requests.filter((r) => r.path === '/healthy')).toHaveLength(20);
    const { rows } = await t.herald.pool.query<{ n: number }>(`select count(*)::int as n from delivery where endpoint_id = $1 and state = 'succeeded'`, [healthy.id]);
    expect(rows[0]!.n).toBe(20);
    expect(await waitingEvents(t.herald.pool, 'operators')).toBe(1); // still waiting for a retry
    const { rows: state } = await t.herald.pool.query('select failures, retry_at from alert_email_state where endpoint_id = $1', [broken.id]);
    expect(state.length).toBeGreaterThan(0);
    expect(state.every((s) => s.failures >= 1 && s.retry_at > t!.clock.now())).toBe(true);
    await sender.stop();
  });
});
