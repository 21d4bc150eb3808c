/**
 * Retention in a real browser: a message whose payload retention purged (the real purge, run with its
 * clock two hours ahead) reads "Payload purged (retention)" in its logs, in the dashboard and in the
 * portal, while a kept one shows its body; resending the purged one explains why the API refused it
 * and the button stays disabled; and an application's retention period set in its settings is what
 * the API then answers, and emptying the field goes back to the server default.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRetentionPurger } from '../../src/engine/retention.js';
import { silentLogger } from '../../src/logger.js';
import { screenshot, watchErrors } from '../support/browser.js';
import { createApp, createEndpoint, createEventTypes, signIn, startE2e, type E2eEnv } from './fixtures.js';

describe('retention in the dashboard and the portal', { timeout: 60_000 }, () => {
  let e: E2eEnv;
  let ctx: BrowserContext;
  let page: Page;
  let errors: string[];
  let appId: string;
  let epId: string;
  let purgedId: string;
  let keptId: string;

  beforeAll(async () => {
    // One attempt per delivery: the receiver refuses both messages, so they end failed (finished,
    // hence purgeable) with their Resend buttons enabled.
    e = await startE2e({ HERALD_RETRY_SCHEDULE: '0' });
    e.receiver.respondWith({ status: 500, body: 'down for maintenance' });
    await createEventTypes(e, { 'order.paid': 'Payment confirmed.' });
    appId = await createApp(e, 'Juniper Lotteries');
    epId = (await createEndpoint(e, appId, { url: `${e.receiver.url}/juniper`, description: 'Juniper ledger' })).id;
    const publish = (body: Record<string, unknown>) => e.api<{ id: string }>('POST', `/api/v1/app/${appId}/msg`, { eventType: 'order.paid', ...body });
    purgedId = (await publish({ payload: { card: '4242-secret' }, payloadRetentionHours: 1 })).id;
    keptId = (await publish({ payload: { orderId: 'kept-1' } })).id;
    // Both attempts made: each delivery is finished (failed), which the purge requires.
    const deadline = Date.now() + 15_000;
    while ((await e.api<{ data: unknown[] }>('GET', `/api/v1/app/${appId}/attempt/endpoint/${epId}`)).data.length < 2) {
      if (Date.now() > deadline) throw new Error('the two deliveries were not attempted within 15 s');
      await new Promise((r) => setTimeout(r, 50));
    }

    const later = { now: () => new Date(Date.now() + 2 * 3_600_000) };
    const purger = createRetentionPurger({ databaseUrl: e.server.herald.databaseUrl, clock: later, log: silentLogger, config: e.server.herald.config });
    try {
      expect(await purger.pass()).toMatchObject({ ran: true, payloads: 1, messages: 0 });
    } finally {
      await purger.stop();
    }
    expect(await e.api('GET', `/api/v1/app/${appId}/msg/${purgedId}`)).toMatchObject({ payload: {}, payloadPurged: true });

    ctx = await e.browser.newContext();
    page = await ctx.newPage();
    page.setDefaultTimeout(10_000);
    errors = watchErrors(page);
    await signIn(page, e.server.url, e.server.adminToken);
  });

  afterAll(async () => {
    await ctx?.close();
    await e?.close();
  });

  const row = (p: Page, msgId: string) => p.locator(`[data-testid="attempt-row"][data-msg-id="${msgId}"]`);

  it('refuses to resend a purged message, saying why, and shows its logs as purged', async () => {
    await page.goto(`${e.server.url}/apps/${appId}/webhooks/${epId}`);
    const resend = row(page, purgedId).getByRole('button', { name: `Resend ${purgedId}` });
    await resend.click();
    await page.getByText(`${purgedId} cannot be resent: retention purged its payload`).waitFor();
    await expect.poll(() => resend.isDisabled()).toBe(true);
    await row(page, purgedId).getByText('Payload purged (retention)').waitFor();
    expect(await row(page, keptId).getByRole('button', { name: `Resend ${keptId}` }).isDisabled()).toBe(false);

    await row(page, purgedId).getByRole('button', { name: /^Logs/ }).click();
    const logs = page.getByRole('dialog', { name: 'Webhook logs' });
    await logs.getByTestId('payload-purged').getByText('Payload purged (retention)').waitFor();
    await logs.getByText('A purged message cannot be resent', { exact: false }).waitFor();
    expect(await logs.getByTestId('request-body').count()).toBe(0);
    expect(await logs.textContent()).not.toContain('4242-secret');
    // What the receiver answered is still in the log.
    expect(await logs.getByTestId('response-body').textContent()).toBe('down for maintenance');
    await screenshot(page, '60-payload-purged-logs', { fullPage: false });
    await logs.getByRole('button', { name: 'Close' }).first().click();

    await row(page, keptId).getByRole('button', { name: /^Logs/ }).click();
    await logs.getByTestId('request-body').getByText('kept-1', { exact: false }).waitFor();
    expect(await logs.getByTestId('payload-purged').count()).toBe(0);
    await logs.getByRole('button', { name: 'Close' }).first().click();
    // The refused resend is a 409 the browser logs as a failed load; nothing else may go wrong.
    expect(errors.filter((x) => !x.includes('Failed to load resource'))).toEqual([]);
  });

  it('shows the purged payload as purged in the portal too', async () => {
    const { url } = await e.api<{ url: string }>('POST', `/api/v1/auth/app-portal-access/${appId}`, {});
    const portalCtx = await e.browser.newContext();
    try {
      const portal = await portalCtx.newPage();
      portal.setDefaultTimeout(10_000);
      await portal.goto(url);
      await portal.getByTestId(`webhook-${epId}`).waitFor();
      await portal.goto(`${e.server.url}/portal/webhooks/${epId}`);
      await row(portal, purgedId).getByRole('button', { name: /^Logs/ }).click();
      const logs = portal.getByRole('dialog', { name: 'Webhook logs' });
      await logs.getByTestId('payload-purged').getByText('Payload purged (retention)').waitFor();
      expect(await logs.getByTestId('request-body').count()).toBe(0);
      await logs.getByRole('button', { name: 'Close' }).first().click();
      // Learnt from the logs: the row's Resend is disabled before anyone tries it.
      await expect.poll(() => row(portal, purgedId).getByRole('button', { name: `Resend ${purgedId}` }).isDisabled()).toBe(true);
      await screenshot(portal, '61-portal-payload-purged');
    } finally {
      await portalCtx.close();
    }
  });

  it("edits an application's retention period in its settings, and puts it back to the server default", async () => {
    await page.goto(`${e.server.url}/`);
    await page.getByTestId(`retention-${appId}`).getByText('Server default').waitFor();
    await page.getByRole('button', { name: 'Settings of Juniper Lotteries' }).click();
    let dialog = page.getByRole('dialog', { name: 'Settings of Juniper Lotteries' });
    const field = dialog.getByLabel('Retention (days)');
    expect(await field.inputValue()).toBe('');
    await dialog.getByText('HERALD_RETENTION_PERIOD', { exact: false }).waitFor();

    await field.fill('0');
    await dialog.getByText('From 1 to 3650 days.').waitFor();
    expect(await dialog.getByRole('button', { name: 'Save settings' }).isDisabled()).toBe(true);
    await field.fill('45');
    await dialog.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Settings of “Juniper Lotteries” saved').waitFor();
    expect(await e.api('GET', `/api/v1/app/${appId}`)).toMatchObject({ retentionPeriod: 45 });
    await page.getByTestId(`retention-${appId}`).getByText('45 days').waitFor();
    await screenshot(page, '62-applications-retention');

    await page.getByRole('button', { name: 'Settings of Juniper Lotteries' }).click();
    dialog = page.getByRole('dialog', { name: 'Settings of Juniper Lotteries' });
    expect(await dialog.getByLabel('Retention (days)').inputValue()).toBe('45');
    await dialog.getByLabel('Retention (days)').fill('');
    await dialog.getByRole('button', { name: 'Save settings' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await e.api('GET', `/api/v1/app/${appId}`)).toMatchObject({ retentionPeriod: null });
    await page.getByTestId(`retention-${appId}`).getByText('Server default').waitFor();
  });
});
