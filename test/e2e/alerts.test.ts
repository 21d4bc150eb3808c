/**
 * Alerts in a real browser: a customer's receiver fails, Herald gives up on the message, and the
 * operator finds it on the Alerts page (what, when, which endpoint, why) and follows the link to
 * that endpoint's delivery log; the operator edits the alert emails; the customer portal shows its
 * own application's alerts and nobody else's.
 */
import type { BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { screenshot } from '../support/browser.js';
import { createApp, createEndpoint, createEventTypes, publish, signIn, startE2e, type E2eEnv } from './fixtures.js';

describe('alerts', { timeout: 60_000 }, () => {
  let e: E2eEnv;
  let ctx: BrowserContext;
  let broken: string;
  let healthy: string;
  let brokenEp: string;

  beforeAll(async () => {
    // one attempt: a failure is final at once
    e = await startE2e({ HERALD_RETRY_SCHEDULE: '0' });
    e.receiver.respondWith((req) => (req.path.startsWith('/broken') ? { status: 500, body: 'database is down' } : { status: 200 }));
    await createEventTypes(e, { 'order.paid': 'Payment confirmed.' });
    broken = await createApp(e, 'Broken Books');
    healthy = await createApp(e, 'Happy Hats');
    brokenEp = (await createEndpoint(e, broken, { url: `${e.receiver.url}/broken`, description: 'Books ledger' })).id;
    await createEndpoint(e, healthy, { url: `${e.receiver.url}/fine`, description: 'Hats ledger' });
    await publish(e, broken, 'order.paid', { orderId: 'b1' });
    await publish(e, healthy, 'order.paid', { orderId: 'h1' });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const list = await e.api<{ data: unknown[] }>('GET', '/api/v1/operational-event?type=message.attempt.exhausted');
      if (list.data.length > 0) break;
      if (Date.now() > deadline) throw new Error('no exhausted event');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterEach(async () => {
    await ctx?.close();
  });

  afterAll(async () => {
    await e?.close();
  });

  const newPage = async () => {
    ctx = await e.browser.newContext();
    const page = await ctx.newPage();
    page.setDefaultTimeout(10_000);
    return page;
  };

  it('shows the operator what failed, where and why, linked to the delivery log', async () => {
    const page = await newPage();
    await signIn(page, e.server.url, e.server.adminToken);
    await page.getByRole('link', { name: 'Alerts', exact: true }).click();
    await page.getByRole('heading', { name: 'Alerts' }).waitFor();
    const row = page.getByTestId('alert-row').filter({ hasText: 'Failed for good' });
    await row.waitFor();
    expect(await row.count()).toBe(1);
    const text = await row.innerText();
    expect(text).toContain(broken);
    expect(text).toMatch(/failed with 500/);
    await screenshot(page, '40-alerts');
    await row.getByRole('link', { name: `Deliveries of ${brokenEp}` }).click();
    await page.getByRole('heading', { name: 'Books ledger' }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/apps/${broken}/webhooks/${brokenEp}`);
  });

  it('lets the operator set who is emailed and how often', async () => {
    const page = await newPage();
    await signIn(page, e.server.url, e.server.adminToken);
    await page.goto(`${e.server.url}/alerts`);
    // No SMTP server in this test: the settings are open, and say that nothing is sent.
    await page.getByText('No email is sent: this server has no SMTP server configured.', { exact: false }).waitFor();
    await page.getByLabel('Operators to email').fill('ops@example.com\noncall@example.com');
    await page.getByLabel('At most one email per endpoint every (minutes)').fill('30');
    await page.getByRole('button', { name: 'Save alert settings' }).click();
    await page.getByText('Alert settings saved').waitFor();
    const saved = await e.api<{ emails: string[]; windowSeconds: number }>('GET', '/api/v1/alert-settings');
    expect(saved).toMatchObject({ emails: ['ops@example.com', 'oncall@example.com'], windowSeconds: 1800 });

    await page.getByLabel('Operators to email').fill('not an address');
    await page.getByRole('button', { name: 'Save alert settings' }).click();
    await page.locator('#alert-emails-error').waitFor();
  });

  it("shows a customer's portal its own alerts only", async () => {
    const own = await e.api<{ url: string }>('POST', `/api/v1/auth/app-portal-access/${broken}`, {});
    const page = await newPage();
    await page.goto(own.url);
    await page.getByRole('link', { name: 'Alerts', exact: true }).click();
    await page.getByTestId('alert-row').filter({ hasText: 'Failed for good' }).waitFor();
    await screenshot(page, '41-portal-alerts');

    const other = await e.api<{ url: string }>('POST', `/api/v1/auth/app-portal-access/${healthy}`, {});
    await page.goto(other.url);
    await page.getByRole('link', { name: 'Alerts', exact: true }).click();
    await page.getByText('Nothing has gone wrong').waitFor();
    expect(await page.getByTestId('alert-row').count()).toBe(0);
  });
});
