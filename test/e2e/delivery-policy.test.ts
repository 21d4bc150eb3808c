/**
 * Delivery policy and delivery state in a real browser: a webhook's policy edited in the dashboard
 * (with the retry schedule's own error) and saved; an application's defaults; a paused webhook's
 * held deliveries and an open circuit breaker, for the operator and in the customer portal.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot, watchErrors } from '../support/browser.js';
import { createApp, createEndpoint, createEventTypes, publish, signIn, startE2e, type E2eEnv } from './fixtures.js';

describe('delivery policy and state', { timeout: 60_000 }, () => {
  let e: E2eEnv;
  let ctx: BrowserContext;
  let page: Page;
  let errors: string[];
  let appId: string;

  beforeAll(async () => {
    e = await startE2e();
    await createEventTypes(e, { 'ticket.issued': 'A ticket was issued.' });
    appId = await createApp(e, 'Harbour Tickets', 'harbour');
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

  it("edits a webhook's delivery policy, refusing a malformed retry schedule, and shows it saved", async () => {
    const ep = await createEndpoint(e, appId, { url: `${e.receiver.url}/harbour`, description: 'Harbour CRM' });
    await page.goto(`${e.server.url}/apps/${appId}/webhooks/${ep.id}/edit`);
    await page.getByLabel('Max in flight').fill('4');
    await page.getByLabel('Timeout').fill('10s');
    await page.getByLabel('Throttle rate').fill('5');
    await page.getByLabel('Ordering').selectOption('strict');
    const schedule = page.getByLabel('Retry schedule');
    await schedule.fill('1m, 5x');
    await page.getByText('“5x” is not a duration').waitFor();
    expect(await schedule.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('button', { name: 'Save changes' }).isDisabled()).toBe(true);
    await schedule.fill('1m, 5m, 30m');
    await screenshot(page, '40-webhook-policy-form');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Webhook saved').waitFor();

    const saved = await e.api<Record<string, unknown>>('GET', `/api/v1/app/${appId}/endpoint/${ep.id}`);
    expect(saved).toMatchObject({ maxInFlight: 4, timeoutMs: 10_000, throttleRate: 5, ordering: 'strict', retrySchedule: [60, 300, 1800] });

    // A value over the server's bound comes back from the API beside its field.
    await page.getByLabel('Max in flight').fill('300');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#edit-policy-max-error').getByText(/from 1 to 256/).waitFor();

    await page.goto(`${e.server.url}/apps/${appId}/webhooks/${ep.id}`);
    const state = page.getByRole('region', { name: 'Delivery', exact: true });
    await state.getByTestId('retry-schedule').getByText('1m, 5m, 30m (4 attempts)').waitFor();
    await state.getByText('Strict (in publish order)').waitFor();
    await state.getByTestId('breaker').getByText('Closed').waitFor();
    // The refused save is a 422 the browser logs as a failed load; nothing else may go wrong.
    expect(errors.filter((x) => !x.includes('Failed to load resource'))).toEqual([]);
  });

  it("sets an application's defaults, which its webhooks inherit", async () => {
    await page.goto(`${e.server.url}/`);
    await page.getByRole('button', { name: 'Settings of Harbour Tickets' }).click();
    const dialog = page.getByRole('dialog', { name: 'Settings of Harbour Tickets' });
    await dialog.getByLabel('Max in flight').fill('12');
    await dialog.getByLabel('Retry schedule').fill('30s, 2h');
    await dialog.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Settings of “Harbour Tickets” saved').waitFor();
    const app = await e.api<Record<string, unknown>>('GET', `/api/v1/app/${appId}`);
    expect(app).toMatchObject({ maxInFlight: 12, retrySchedule: [30, 7200] });

    await page.goto(`${e.server.url}/apps/${appId}/webhooks/new`);
    // The placeholders fill in once the application has loaded.
    await expect.poll(() => page.getByLabel('Max in flight').getAttribute('placeholder')).toBe('Inherited: 12');
    expect(await page.getByLabel('Retry schedule').getAttribute('placeholder')).toBe('Inherited: 30s, 2h');
    expect(await page.getByLabel('Timeout').getAttribute('placeholder')).toBe('Inherited: 5s'); // the test server's HERALD_REQUEST_TIMEOUT
  });

  it('shows a paused webhook as "Paused — N deliveries held" with an open breaker, in the dashboard and the portal', async () => {
    const ep = await createEndpoint(e, appId, { url: `${e.receiver.url}/held`, description: 'Held box office', disabled: true });
    await publish(e, appId, 'ticket.issued', { ticket: 1 });
    await publish(e, appId, 'ticket.issued', { ticket: 2 });
    const until = new Date(Date.now() + 3_600_000);
    await e.server.herald.pool.query('update endpoint set consecutive_failures = 7 where id = $1', [ep.id]);
    await e.server.herald.pool.query('update endpoint_lane set breaker_until = $2 where endpoint_id = $1', [ep.id, until]);

    await page.goto(`${e.server.url}/apps/${appId}/webhooks/${ep.id}`);
    const notice = page.getByTestId('paused-notice');
    await notice.getByText('Paused — 2 deliveries held').waitFor();
    await notice.getByText(/resuming it sends them in the order they were published/).waitFor();
    const breaker = page.getByTestId('breaker');
    await breaker.getByText('Open').waitFor();
    await breaker.getByText(/7 failed attempts in a row\. Nothing is attempted until/).waitFor();
    await screenshot(page, '41-webhook-paused-held');
    await page.goto(`${e.server.url}/apps/${appId}`);
    await page.getByTestId(`webhook-${ep.id}`).getByText('2 held').waitFor();

    const { url } = await e.api<{ url: string }>('POST', `/api/v1/auth/app-portal-access/${appId}`, {});
    const portalCtx = await e.browser.newContext();
    try {
      const portal = await portalCtx.newPage();
      portal.setDefaultTimeout(10_000);
      await portal.goto(url);
      await portal.getByTestId(`webhook-${ep.id}`).waitFor();
      await portal.goto(`${e.server.url}/portal/webhooks/${ep.id}`);
      await portal.getByTestId('paused-notice').getByText('Paused — 2 deliveries held').waitFor();
      await portal.getByTestId('breaker').getByText('Open').waitFor();
    } finally {
      await portalCtx.close();
    }
    // The refused save is a 422 the browser logs as a failed load; nothing else may go wrong.
    expect(errors.filter((x) => !x.includes('Failed to load resource'))).toEqual([]);
  });
});
