/**
 * Who may send a test event from the portal, in a real browser: a portal link minted without
 * `allowPublish` manages webhooks (add, edit, recover) but shows no "Send test event", since the API
 * would refuse the send-example with 403; one minted with `allowPublish: true` shows it, and the test
 * event it sends arrives at the customer's endpoint.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { screenshot } from '../support/browser.js';
import { createApp, createEndpoint, createEventTypes, startE2e, type E2eEnv } from './fixtures.js';

describe('portal: Send test event needs the publish grant', { timeout: 60_000 }, () => {
  let e: E2eEnv;
  let ctx: BrowserContext | undefined;
  let appId: string;
  let epId: string;

  beforeAll(async () => {
    e = await startE2e();
    await createEventTypes(e, { 'ticket.issued': 'A ticket was issued.' });
    appId = await createApp(e, 'Kestrel Raffles');
    epId = (await createEndpoint(e, appId, { url: `${e.receiver.url}/kestrel`, description: 'Kestrel CRM', filterTypes: ['ticket.issued'] })).id;
  });

  afterEach(async () => {
    await ctx?.close();
    ctx = undefined;
  });

  afterAll(async () => {
    await e?.close();
  });

  /** Opens the portal with a link minted with `body`, on the webhook's delivery page. */
  const openDeliveries = async (body: Record<string, unknown>): Promise<Page> => {
    const { url } = await e.api<{ url: string }>('POST', `/api/v1/auth/app-portal-access/${appId}`, body);
    ctx = await e.browser.newContext();
    const page = await ctx.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(url);
    await page.getByTestId(`webhook-${epId}`).waitFor();
    await page.goto(`${e.server.url}/portal/webhooks/${epId}`);
    // The page's actions have rendered once the ones the token may use are there.
    await page.getByRole('button', { name: 'Recover failed' }).waitFor();
    return page;
  };

  it('hides Send test event from a portal token without the publish grant', async () => {
    const page = await openDeliveries({});
    expect(await page.getByRole('button', { name: 'Send test event' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Edit' }).count()).toBe(1);
    const who = await page.evaluate(async () => {
      const token = sessionStorage.getItem('herald.portal.token');
      const res = await fetch('/api/v1/auth/whoami', { headers: { authorization: `Bearer ${token}` } });
      return res.json();
    });
    expect(who).toMatchObject({ kind: 'portal', canPublish: false });
    await screenshot(page, '63-portal-no-publish');
  });

  it('shows Send test event with allowPublish, and the test event arrives', async () => {
    const page = await openDeliveries({ allowPublish: true });
    await page.getByRole('button', { name: 'Send test event' }).click();
    const dialog = page.getByRole('dialog', { name: 'Send test event' });
    await dialog.getByLabel('Event type').selectOption('ticket.issued');
    await dialog.getByRole('button', { name: 'Send test event' }).click();
    await page.getByText(/Test event queued: ticket\.issued/).waitFor();
    const [got] = await e.receiver.waitFor(1);
    expect(got!.path).toBe('/kestrel');
    await page.getByTestId('attempt-row').filter({ hasText: 'ticket.issued' }).filter({ hasText: 'success' }).waitFor({ timeout: 15_000 });
    await screenshot(page, '64-portal-publish');
  });
});
