import { describe, expect, it } from 'vitest';
import { composeAlertEmail, endpointPageUrl, escapeHtml, formatWindow, type AlertEmailInput } from './email-compose.js';

const at = (min: number) => new Date(Date.UTC(2026, 2, 4, 9, min));

function input(over: Partial<AlertEmailInput> = {}): AlertEmailInput {
  return {
    audience: 'operators',
    to: ['ops@example.com'],
    app: { id: 'app_1', name: 'Acme' },
    operational: false,
    endpoint: { id: 'ep_1', url: 'https://api.acme.example/hooks', description: 'Orders', disabled: false, disabledBy: null },
    counts: { exhausted: 0, failing: 0, recovered: 0 },
    events: 1,
    period: { from: at(0), to: at(14) },
    recent: [],
    disabled: null,
    enabled: null,
    more: false,
    link: 'https://hooks.example.com/apps/app_1/webhooks/ep_1',
    windowMs: 900_000,
    ...over,
  };
}

const failure = (msgId: string, state: 'exhausted' | 'failing', lastError: string | null, status: number | null = 500) => ({
  msgId,
  eventType: 'order.paid',
  state,
  at: at(10),
  lastError,
  status,
});

describe('composeAlertEmail', () => {
  it('summarises an outage: counts, the disable, the last error, the link', () => {
    const mail = composeAlertEmail(
      input({
        counts: { exhausted: 37, failing: 2, recovered: 0 },
        events: 40,
        endpoint: { id: 'ep_1', url: 'https://api.acme.example/hooks', description: 'Orders', disabled: true, disabledBy: 'auto' },
        disabled: { at: at(12), reason: 'failed 10 times in a row over 1 hour' },
        recent: [failure('msg_2', 'exhausted', 'connection refused by 203.0.113.5:443: is the receiver running?', null), failure('msg_1', 'failing', null)],
      }),
    );
    expect(mail.to).toEqual(['ops@example.com']);
    expect(mail.subject).toBe('[Herald] Webhook endpoint disabled: Orders (Acme)');
    expect(mail.text).toContain('- 37 messages failed permanently');
    expect(mail.text).toContain('- 2 messages are failing and still being retried.');
    expect(mail.text).toContain('The endpoint was disabled automatically at 2026-03-04 09:12 UTC: failed 10 times in a row over 1 hour.');
    expect(mail.text).toContain('Last error (msg_2, order.paid, no response, 2026-03-04 09:10 UTC):\n  connection refused by 203.0.113.5:443: is the receiver running?');
    expect(mail.text).toContain('  msg_1  order.paid  still retrying');
    expect(mail.text).toContain('enable the endpoint again');
    expect(mail.text).toContain('Delivery log of this endpoint: https://hooks.example.com/apps/app_1/webhooks/ep_1');
    expect(mail.text).toContain('This email covers 40 events. Herald sends at most one email per endpoint every 15 minutes');
    expect(mail.html).toContain('<a href="https://hooks.example.com/apps/app_1/webhooks/ep_1">');
  });

  it('picks the subject by what matters most', () => {
    expect(composeAlertEmail(input({ counts: { exhausted: 1, failing: 3, recovered: 0 } })).subject).toBe('[Herald] 1 webhook message failed permanently: Orders (Acme)');
    expect(composeAlertEmail(input({ counts: { exhausted: 0, failing: 3, recovered: 0 } })).subject).toBe('[Herald] Webhook deliveries failing: Orders (Acme)');
    expect(composeAlertEmail(input({ counts: { exhausted: 0, failing: 0, recovered: 2 } })).subject).toBe('[Herald] Webhook endpoint recovered: Orders (Acme)');
    // Disabled, then enabled again within the window: no longer "disabled".
    const back = input({ disabled: { at: at(1), reason: null }, enabled: { at: at(5) } });
    expect(composeAlertEmail(back).subject).toBe('[Herald] Webhook endpoint recovered: Orders (Acme)');
    expect(composeAlertEmail({ ...back, audience: 'contact' }).subject).toBe('Webhook endpoint recovered: Orders (Acme)');
  });

  it('escapes what users and receivers wrote, and keeps it out of the headers', () => {
    const mail = composeAlertEmail(
      input({
        app: { id: 'app_1', name: 'Evil <script>alert(1)</script>' },
        endpoint: { id: 'ep_1', url: 'https://x.example/"><img src=x>', description: 'Line\r\nBcc: victim@example.com', disabled: false, disabledBy: null },
        counts: { exhausted: 1, failing: 0, recovered: 0 },
        recent: [failure('msg_1', 'exhausted', '<a href="https://phish.example">click</a> & more')],
      }),
    );
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.subject).toContain('Line Bcc: victim@example.com');
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).not.toContain('<img');
    expect(mail.html).not.toContain('<a href="https://phish.example">');
    expect(mail.html).toContain('&lt;a href=&quot;https://phish.example&quot;&gt;click&lt;/a&gt; &amp; more');
    expect(mail.text).toContain('<a href="https://phish.example">click</a> & more'); // plain text stays readable
  });

  it('tells a customer where to look without the operators\' dashboard, and an operator without a public URL', () => {
    const contact = composeAlertEmail(input({ audience: 'contact', link: null, counts: { exhausted: 2, failing: 0, recovered: 0 } }));
    expect(contact.text).toContain('Open your webhook settings where you manage this endpoint');
    expect(contact.text).toContain('"Recover failed" in your webhook settings');
    expect(contact.text).not.toContain('HERALD_');
    const ops = composeAlertEmail(input({ link: null, counts: { exhausted: 2, failing: 0, recovered: 0 } }));
    expect(ops.text).toContain('In the Herald dashboard, open Applications > Acme > Orders');
    expect(ops.text).toContain('set HERALD_PUBLIC_URL');
    const opsHook = composeAlertEmail(input({ link: null, operational: true, app: { id: 'app_herald0operational0webhooks', name: 'Operational webhooks' } }));
    expect(opsHook.text).toContain('open Operational webhooks > Orders');
  });

  it('names an endpoint or application that has been deleted since', () => {
    const mail = composeAlertEmail(
      input({ app: { id: 'app_9', name: null }, endpoint: { id: 'ep_9', url: null, description: '', disabled: false, disabledBy: null }, counts: { exhausted: 1, failing: 0, recovered: 0 } }),
    );
    expect(mail.subject).toBe('[Herald] 1 webhook message failed permanently: ep_9 (app_9)');
    expect(mail.text).toContain('Endpoint:    (deleted)');
    expect(mail.text).toContain('Application: (deleted) (app_9)');
  });

  it('says when more events wait than one email covers', () => {
    expect(composeAlertEmail(input({ more: true, counts: { exhausted: 10_000, failing: 0, recovered: 0 } })).text).toContain('the next email counts them');
  });
});

describe('helpers', () => {
  it('build the dashboard link, escape HTML and name windows', () => {
    expect(endpointPageUrl('https://h.example/', 'app_1', 'ep_1')).toBe('https://h.example/apps/app_1/webhooks/ep_1');
    expect(endpointPageUrl('https://h.example/herald', 'app_1', 'ep_1')).toBe('https://h.example/herald/apps/app_1/webhooks/ep_1');
    expect(escapeHtml(`<&>"'`)).toBe('&lt;&amp;&gt;&quot;&#39;');
    expect(formatWindow(900_000)).toBe('15 minutes');
    expect(formatWindow(3_600_000)).toBe('1 hour');
    expect(formatWindow(90_000)).toBe('90 seconds');
  });
});
