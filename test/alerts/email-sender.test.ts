/**
 * The alert email sender against a real SMTP server and a real PostgreSQL: recipients (operators and
 * the application's contact, separately), subject and body, batching per window on the fake clock,
 * single sending with two senders on one database, and SMTP failures retried later.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertEmailSender } from '../../src/alerts/email-sender.js';
import { putAlertSettings } from '../../src/store/settings.js';
import type { Logger } from '../../src/logger.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { insertEvents, waitingEvents, type EventSpec } from './events.js';
import { startSmtp, type TestSmtp } from './smtp.js';

const OPERATORS = ['ops@example.com', 'oncall@example.com'];
const CONTACT = 'dev@acme.example';
const PUBLIC_URL = 'https://hooks.example.com';

let t: TestHerald | undefined;
let smtp: TestSmtp | undefined;

afterEach(async () => {
  await t?.close();
  await smtp?.close();
  t = undefined;
  smtp = undefined;
});

/** A logger that keeps what was logged. */
function recordingLogger(): Logger & { lines: { level: string; obj: object; msg?: string }[] } {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function setup(env: Record<string, string> = {}, smtpOpts: Parameters<typeof startSmtp>[0] = {}) {
  smtp = await startSmtp(smtpOpts);
  t = await startTestHerald({
    HERALD_SMTP_URL: smtp.url,
    HERALD_ALERT_FROM: 'Herald <alerts@example.com>',
    HERALD_ALERT_EMAILS: OPERATORS.join(','),
    HERALD_PUBLIC_URL: PUBLIC_URL,
    ...env,
  });
  const app = await t.makeApp('Acme <Shop>');
  await t.herald.pool.query('update application set alert_email = $2 where id = $1', [app.id, CONTACT]);
  const ep = await t.makeEndpoint(app.id, { url: 'https://api.acme.example/hooks', description: 'Orders' });
  return { t, smtp, app, ep };
}

/** Publishes a message (so the email can name its event type) and returns its id. */
async function message(th: TestHerald, appId: string, eventType = 'order.paid'): Promise<string> {
  return (await th.herald.publish(appId, { eventType, payload: { n: 1 } })).id;
}

const exhausted = (appId: string, endpointId: string, msgId: string, at: Date, extra: Partial<EventSpec> = {}): EventSpec => ({
  type: 'message.attempt.exhausted',
  appId,
  endpointId,
  msgId,
  at,
  status: 500,
  lastError: 'the receiver answered HTTP 500 <Internal Server Error>: fix the handler',
  ...extra,
});

describe('alert emails', () => {
  it('emails the operators and, separately, the application contact, saying what failed and where to look', async () => {
    const { t, smtp, app, ep } = await setup();
    const msgId = await message(t, app.id);
    await insertEvents(t.herald.pool, [exhausted(app.id, ep.id, msgId, t.clock.now())]);
    const sender = t.herald.createAlertSender();
    expect(await sender.pass()).toMatchObject({ ran: true, sent: 2, failed: 0 });
    const mails = await smtp.waitForMails(2);

    const ops = mails.find((m) => m.to.includes(OPERATORS[0]!))!;
    const contact = mails.find((m) => m.to.includes(CONTACT))!;
    expect(ops.to.sort()).toEqual([...OPERATORS].sort());
    expect(contact.to).toEqual([CONTACT]); // the customer never sees the operators' addresses
    expect(contact.parsed.text).not.toContain(OPERATORS[0]);
    expect(String(contact.parsed.headers.get('to') ? (contact.parsed.to as { text: string }).text : '')).not.toContain('ops@');
    expect(ops.from).toBe('alerts@example.com');

    expect(ops.parsed.subject).toBe('[Herald] 1 webhook message failed permanently: Orders (Acme <Shop>)');
    expect(contact.parsed.subject).toBe('1 webhook message failed permanently: Orders (Acme <Shop>)');
    const text = ops.parsed.text!;
    expect(text).toContain('Acme <Shop>');
    expect(text).toContain('https://api.acme.example/hooks (Orders)');
    expect(text).toContain(msgId);
    expect(text).toContain('order.paid');
    expect(text).toContain('1 message failed permanently');
    expect(text).toContain('the receiver answered HTTP 500 <Internal Server Error>: fix the handler');
    expect(text).toContain(`${PUBLIC_URL}/apps/${app.id}/webhooks/${ep.id}`);
    const html = ops.parsed.html as string;
    expect(html).toContain('HTTP 500 &lt;Internal Server Error&gt;');
    expect(html).toContain('Acme &lt;Shop&gt;');
    expect(html).not.toContain('<Shop>');
    expect(html).toContain(`href="${PUBLIC_URL}/apps/${app.id}/webhooks/${ep.id}"`);
    // The customer cannot sign in to the operators' dashboard: no link, but where to look.
    expect(contact.parsed.text).not.toContain(PUBLIC_URL);
    expect(contact.parsed.text).toContain('Open your webhook settings');

    expect(await waitingEvents(t.herald.pool, 'operators')).toBe(0);
    expect(await waitingEvents(t.herald.pool, 'contact')).toBe(0);
    expect(await sender.pass()).toMatchObject({ sent: 0 });
  });

  it('batches an outage: the first event at once, the rest in one summary after the window', async () => {
    const { t, smtp, app, ep } = await setup({ HERALD_ALERT_WINDOW: '15m' });
    await t.herald.pool.query('update application set alert_email = null where id = $1', [app.id]);
    const sender = t.herald.createAlertSender();
    const first = await message(t, app.id);
    await insertEvents(t.herald.pool, [{ ...exhausted(app.id, ep.id, first, t.clock.now()), type: 'message.attempt.failing' }]);
    await sender.pass();
    const [firstMail] = await smtp.waitForMails(1);
    expect(firstMail!.parsed.subject).toBe('[Herald] Webhook deliveries failing: Orders (Acme <Shop>)');
    expect(firstMail!.parsed.text).toContain('1 message is failing and still being retried');

    // Inside the window: 37 messages fail for good, 2 are still retrying, the endpoint is disabled.
    const events: EventSpec[] = [];
    for (let i = 0; i < 39; i++) {
      t.clock.advance(10_000);
      const id = await message(t, app.id, i % 2 ? 'order.paid' : 'order.refunded');
      events.push({ ...exhausted(app.id, ep.id, id, t.clock.now()), type: i < 37 ? 'message.attempt.exhausted' : 'message.attempt.failing' });
    }
    events.push({ type: 'endpoint.disabled', appId: app.id, endpointId: ep.id, at: t.clock.now(), trigger: 'automatic', reason: 'failed 10 times in a row over 1 hour' });
    await insertEvents(t.herald.pool, events);
    await t.herald.pool.query(`update endpoint set disabled = true, disabled_by = 'auto' where id = $1`, [ep.id]);
    for (let i = 0; i < 5; i++) expect(await sender.pass()).toMatchObject({ sent: 0 });
    t.clock.advance(14 * 60_000 - 39 * 10_000); // still inside the window
    expect(await sender.pass()).toMatchObject({ sent: 0 });
    expect(smtp.mails).toHaveLength(1);

    t.clock.advance(60_000); // the window is over
    expect(await sender.pass()).toMatchObject({ sent: 1 });
    const [, summary] = await smtp.waitForMails(2);
    expect(summary!.parsed.subject).toBe('[Herald] Webhook endpoint disabled: Orders (Acme <Shop>)');
    const text = summary!.parsed.text!;
    expect(text).toContain('37 messages failed permanently');
    expect(text).toContain('2 messages are failing and still being retried');
    expect(text).toContain('The endpoint was disabled automatically at');
    expect(text).toContain('failed 10 times in a row over 1 hour');
    expect(text).toContain('This email covers 40 events');
    expect(text).toContain('every 15 minutes');
    expect(await waitingEvents(t.herald.pool, 'operators')).toBe(0);

    // Recovery, reported once the next window is over.
    await insertEvents(t.herald.pool, [{ type: 'endpoint.enabled', appId: app.id, endpointId: ep.id, at: t.clock.now() }]);
    await t.herald.pool.query(`update endpoint set disabled = false, disabled_by = null where id = $1`, [ep.id]);
    expect(await sender.pass()).toMatchObject({ sent: 0 });
    t.clock.advance(15 * 60_000);
    expect(await sender.pass()).toMatchObject({ sent: 1 });
    const [, , recovered] = await smtp.waitForMails(3);
    expect(recovered!.parsed.subject).toBe('[Herald] Webhook endpoint recovered: Orders (Acme <Shop>)');
    expect(recovered!.parsed.text).toContain('The endpoint was enabled again at');
  });

  it('keeps endpoints apart: each has its own window', async () => {
    const { t, smtp, app, ep } = await setup();
    await t.herald.pool.query('update application set alert_email = null where id = $1', [app.id]);
    const other = await t.makeEndpoint(app.id, { url: 'https://other.acme.example/hooks' });
    const sender = t.herald.createAlertSender();
    await insertEvents(t.herald.pool, [exhausted(app.id, ep.id, await message(t, app.id), t.clock.now())]);
    await sender.pass();
    t.clock.advance(60_000);
    await insertEvents(t.herald.pool, [
      exhausted(app.id, ep.id, await message(t, app.id), t.clock.now()),
      exhausted(app.id, other.id, await message(t, app.id), t.clock.now()),
    ]);
    expect(await sender.pass()).toMatchObject({ sent: 1 }); // the quiet endpoint at once; the first waits
    await smtp.waitForMails(2);
    expect(smtp.mails[1]!.parsed.subject).toContain('other.acme.example');
  });

  it('sends each email once with two senders on one database', async () => {
    const { t, smtp, app } = await setup();
    const endpoints = [];
    for (let i = 0; i < 6; i++) endpoints.push(await t.makeEndpoint(app.id, { url: `https://e${i}.acme.example/hooks` }));
    const events: EventSpec[] = [];
    for (const ep of endpoints) for (let k = 0; k < 3; k++) events.push(exhausted(app.id, ep.id, await message(t, app.id), t.clock.now()));
    await insertEvents(t.herald.pool, events);
    const a: AlertEmailSender = t.herald.createAlertSender();
    const b: AlertEmailSender = t.herald.createAlertSender();
    const results = [];
    for (let round = 0; round < 5; round++) results.push(...(await Promise.all([a.pass(), b.pass(), a.pass(), b.pass()])));
    expect(results.reduce((n, r) => n + r.sent, 0)).toBe(12);
    await smtp.waitForMails(12);
    const ops = smtp.mails.filter((m) => m.to.includes(OPERATORS[0]!));
    const contact = smtp.mails.filter((m) => m.to.includes(CONTACT));
    expect(ops).toHaveLength(6);
    expect(contact).toHaveLength(6);
    const subjects = new Set(ops.map((m) => m.parsed.subject));
    expect(subjects.size).toBe(6); // one per endpoint
    for (const m of ops) expect(m.parsed.text).toContain('3 messages failed permanently');
  });

  it('retries after the SMTP server refuses, logs why without the password, and then sends', async () => {
    const log = recordingLogger();
    const password = 'pa:ss/w0rd-9f3c';
    const { t, smtp, app, ep } = await setup({}, { auth: { user: 'herald', pass: password } });
    await t.herald.pool.query('update application set alert_email = null where id = $1', [app.id]);
    expect(smtp.url).toContain(encodeURIComponent(password));
    const { AlertEmailSender } = await import('../../src/alerts/email-sender.js');
    const sender = new AlertEmailSender({ databaseUrl: t.herald.databaseUrl, config: t.herald.config, clock: t.clock, log });
    try {
      await insertEvents(t.herald.pool, [exhausted(app.id, ep.id, await message(t, app.id), t.clock.now())]);
      smtp.refuseData(554);
      expect(await sender.pass()).toMatchObject({ sent: 0, failed: 1 });
      expect(smtp.refused).toBe(1);
      const warn = log.lines.find((l) => l.level === 'warn')!;
      expect(warn.msg).toContain('alert email not sent');
      expect(warn.obj).toMatchObject({ endpointId: ep.id, audience: 'operators', failures: 1, smtp: { responseCode: 554 } });
      const logged = JSON.stringify(log.lines);
      expect(logged).toContain('Message refused by the test');
      expect(logged).not.toContain(password);
      expect(logged).not.toContain(encodeURIComponent(password));
      expect(await waitingEvents(t.herald.pool, 'operators')).toBe(1);

      smtp.refuseData(null);
      expect(await sender.pass()).toMatchObject({ sent: 0, failed: 0 }); // backing off
      t.clock.advance(30_000);
      expect(await sender.pass()).toMatchObject({ sent: 1 });
      await smtp.waitForMails(1);
      expect(await waitingEvents(t.herald.pool, 'operators')).toBe(0);
    } finally {
      await sender.stop();
    }
  });

  it('retries with growing delays while the SMTP server is down', async () => {
    const log = recordingLogger();
    const { t, smtp: server, app, ep } = await setup();
    await t.herald.pool.query('update application set alert_email = null where id = $1', [app.id]);
    const { AlertEmailSender } = await import('../../src/alerts/email-sender.js');
    const sender = new AlertEmailSender({ databaseUrl: t.herald.databaseUrl, config: t.herald.config, clock: t.clock, log });
    try {
      const port = server.port;
      await server.close();
      await insertEvents(t.herald.pool, [exhausted(app.id, ep.id, await message(t, app.id), t.clock.now())]);
      expect(await sender.pass()).toMatchObject({ failed: 1 });
      t.clock.advance(30_000);
      expect(await sender.pass()).toMatchObject({ failed: 1 });
      t.clock.advance(30_000); // the second failure waits 60 s
      expect(await sender.pass()).toMatchObject({ failed: 0 });
      const warns = log.lines.filter((l) => l.level === 'warn');
      expect(warns).toHaveLength(2);
      expect(warns[1]!.obj).toMatchObject({ failures: 2, smtp: { code: 'ESOCKET' } });

      const again = await startSmtp({ port });
      smtp = again;
      t.clock.advance(30_000);
      expect(await sender.pass()).toMatchObject({ sent: 1 });
      await again.waitForMails(1);
    } finally {
      await sender.stop();
    }
  });

  it('marks events without sending when alerts are turned off, and says where to look without a public URL', async () => {
    const { t, smtp, app, ep } = await setup({ HERALD_PUBLIC_URL: '' });
    const sender = t.herald.createAlertSender();
    await putAlertSettings(t.herald.pool, { enabled: false }, t.clock.now());
    await insertEvents(t.herald.pool, [exhausted(app.id, ep.id, await message(t, app.id), t.clock.now())]);
    expect(await sender.pass()).toMatchObject({ sent: 0, skipped: 2 });
    expect(await waitingEvents(t.herald.pool, 'operators')).toBe(0);

    await putAlertSettings(t.herald.pool, { enabled: true, emails: ['solo@example.com'] }, t.clock.now());
    await insertEvents(t.herald.pool, [exhausted(app.id, ep.id, await message(t, app.id), t.clock.now())]);
    expect(await sender.pass()).toMatchObject({ sent: 2 });
    const mails = await smtp.waitForMails(2);
    const ops = mails.find((m) => m.to.includes('solo@example.com'))!;
    expect(ops.to).toEqual(['solo@example.com']);
    expect(ops.parsed.text).toContain('In the Herald dashboard, open Applications > Acme <Shop> > Orders');
    expect(ops.parsed.text).not.toContain('/apps/');
  });

  it('does not mail old news: events older than three days are marked without an email', async () => {
    const { t, smtp, app, ep } = await setup();
    const old = new Date(t.clock.now().getTime() - 3 * 86_400_000 - 60_000);
    await insertEvents(t.herald.pool, [exhausted(app.id, ep.id, await message(t, app.id), old)]);
    const sender = t.herald.createAlertSender();
    expect(await sender.pass()).toMatchObject({ sent: 0, skipped: 2 });
    expect(await waitingEvents(t.herald.pool, 'operators')).toBe(0);
    expect(smtp.mails).toHaveLength(0);
  });

  it('does nothing without an SMTP server: events wait, unmarked, until one is set', async () => {
    t = await startTestHerald({ HERALD_ALERT_EMAILS: OPERATORS.join(',') });
    const app = await t.makeApp('Acme');
    const ep = await t.makeEndpoint(app.id, { url: 'https://api.acme.example/hooks' });
    await insertEvents(t.herald.pool, [exhausted(app.id, ep.id, await message(t, app.id), t.clock.now())]);
    const sender = t.herald.createAlertSender();
    expect(await sender.pass()).toEqual({ ran: false, sent: 0, failed: 0, skipped: 0 });
    expect(await waitingEvents(t.herald.pool, 'operators')).toBe(1);
  });

  it('tells nobody about events that are not for people, and not the contact about operational webhook endpoints', async () => {
    const { t, smtp, app, ep } = await setup();
    await insertEvents(t.herald.pool, [
      { type: 'endpoint.created', appId: app.id, endpointId: ep.id, at: t.clock.now() },
      { type: 'endpoint.disabled', appId: app.id, endpointId: ep.id, at: t.clock.now(), trigger: 'manual' },
    ]);
    const sender = t.herald.createAlertSender();
    expect(await sender.pass()).toMatchObject({ sent: 0 });
    const opsApp = 'app_herald0operational0webhooks';
    const hook = await t.makeEndpoint(opsApp, { url: 'https://ops.example.com/herald-events' });
    await insertEvents(t.herald.pool, [{ ...exhausted(opsApp, hook.id, 'msg_x', t.clock.now()), lastError: 'connection refused' }]);
    expect(await sender.pass()).toMatchObject({ sent: 1 });
    const [mail] = await smtp.waitForMails(1);
    expect(mail!.to.sort()).toEqual([...OPERATORS].sort());
    expect(mail!.parsed.text).toContain('connection refused');
    expect(mail!.parsed.text).toContain('(message deleted)');
  });
});
