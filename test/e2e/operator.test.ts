/**
 * The operator's pages and the delivery tools, in a real browser: applications and the
 * portal link, the event type catalogue, API keys shown once and revoked, the health view; and on a
 * webhook: custom headers, send a test event, recover failed messages, filter, export CSV.
 */
import { readFile } from 'node:fs/promises';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot } from '../support/browser.js';
import { createApp, createEndpoint, createEventTypes, publish, signIn, startE2e, type E2eEnv } from './fixtures.js';

describe('operator pages and delivery tools', { timeout: 60_000 }, () => {
  let e: E2eEnv;
  let ctx: BrowserContext;
  let page: Page;
  let appId: string;
  let epId: string;

  beforeAll(async () => {
    e = await startE2e();
    await createEventTypes(e, { 'order.paid': 'Payment confirmed; tickets issued.', 'winner.drawn': 'A winner was drawn.' });
    appId = await createApp(e, 'Cobalt Draws', 'cobalt');
    epId = (await createEndpoint(e, appId, { url: `${e.receiver.url}/cobalt`, description: 'Cobalt warehouse', filterTypes: ['order.paid', 'winner.drawn'] })).id;
    ctx = await e.browser.newContext();
    page = await ctx.newPage();
    page.setDefaultTimeout(10_000);
    await signIn(page, e.server.url, e.server.adminToken);
  });

  afterAll(async () => {
    await ctx?.close();
    await e?.close();
  });

  it('lists applications, creates one, and gives a portal link with an iframe snippet', async () => {
    await page.getByRole('button', { name: 'New application' }).click();
    const dialog = page.getByRole('dialog', { name: 'New application' });
    await dialog.getByLabel('Name').fill('Delta Drops');
    await dialog.getByLabel('UID (optional)').fill('delta');
    await dialog.getByRole('button', { name: 'Create application' }).click();
    await page.getByRole('link', { name: 'Delta Drops', exact: true }).waitFor();
    await screenshot(page, '30-applications');
    await page.getByRole('button', { name: 'Portal link for Cobalt Draws' }).click();
    const portal = page.getByRole('dialog', { name: 'Customer portal for Cobalt Draws' });
    await portal.getByText('/portal#token=').first().waitFor();
    await portal.getByText('<iframe src=').waitFor();
    await screenshot(page, '31-portal-link', { fullPage: false });
    await portal.getByRole('button', { name: 'Close' }).click();
  });

  it('creates, edits, archives and restores an event type', async () => {
    await page.getByRole('link', { name: 'Event types' }).click();
    await page.getByRole('button', { name: 'New event type' }).click();
    const dialog = page.getByRole('dialog', { name: 'New event type' });
    await dialog.getByLabel('Name').fill('invoice.sent');
    await dialog.getByLabel('Description').fill('An invoice was emailed.');
    await dialog.getByLabel(/JSON Schema/).fill('{"type":"object","examples":[{"invoiceId":"inv_1"}]}');
    await dialog.getByRole('button', { name: 'Create event type' }).click();
    const row = page.getByRole('row', { name: /invoice\.sent/ });
    await row.getByText('An invoice was emailed.').waitFor();

    await row.getByRole('button', { name: 'Edit invoice.sent' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit invoice.sent' });
    await edit.getByLabel('Description').fill('An invoice was sent to the customer.');
    await edit.getByRole('button', { name: 'Save' }).click();
    await row.getByText('An invoice was sent to the customer.').waitFor();
    await screenshot(page, '32-event-types');

    await row.getByRole('button', { name: 'Archive invoice.sent' }).click();
    await expect.poll(() => page.getByRole('row', { name: /invoice\.sent/ }).count()).toBe(0);
    await page.getByLabel('Show archived event types').check();
    await page.getByRole('row', { name: /invoice\.sent/ }).getByText('Archived').waitFor();
    await page.getByRole('button', { name: 'Restore invoice.sent' }).click();
    await page.getByRole('row', { name: /invoice\.sent/ }).getByText('Active').waitFor();
  });

  it('creates an API key shown once, and revokes it', async () => {
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('button', { name: 'New API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'New API key' });
    await dialog.getByLabel('Name').fill('cobalt support');
    await dialog.getByRole('checkbox', { name: /update/ }).check();
    await dialog.getByLabel('Scope').selectOption(appId);
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const shown = page.getByRole('dialog', { name: 'API key created' });
    const key = (await shown.getByTestId('full-key').textContent()) ?? '';
    const who = await e.api<{ kind: string; appId: string; permissions: string[] }>('GET', '/api/v1/auth/whoami', undefined, key);
    expect(who).toMatchObject({ kind: 'api_key', appId, permissions: ['read', 'update'] });
    await screenshot(page, '33-api-key-created', { fullPage: false });
    await shown.getByRole('button', { name: 'OK, I have stored it' }).click();
    expect(await page.content()).not.toContain(key);
    await page.getByRole('row', { name: /cobalt support/ }).getByText('Cobalt Draws').waitFor();
    await screenshot(page, '34-api-keys');

    await page.getByRole('button', { name: 'Revoke cobalt support' }).click();
    await page.getByRole('dialog', { name: 'Revoke API key' }).getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => page.getByRole('row', { name: /cobalt support/ }).count()).toBe(0);
    await expect(e.api('GET', '/api/v1/auth/whoami', undefined, key)).rejects.toThrow(/401/);
  });

  it('sends custom headers and a test event, and shows it delivered', async () => {
    await page.goto(`${e.server.url}/apps/${appId}/webhooks/${epId}/edit`);
    await page.getByRole('button', { name: 'Add header' }).click();
    await page.getByLabel('Header name').fill('X-Tenant');
    await page.getByLabel('Value').fill('cobalt');
    await page.getByRole('button', { name: 'Save headers' }).click();
    await page.getByText('Custom headers saved').waitFor();

    await page.goto(`${e.server.url}/apps/${appId}/webhooks/${epId}`);
    await page.getByText('No events found for this webhook.').waitFor();
    await page.getByRole('button', { name: 'Send test event' }).click();
    const dialog = page.getByRole('dialog', { name: 'Send test event' });
    await dialog.getByLabel('Event type').selectOption('winner.drawn');
    await dialog.getByRole('button', { name: 'Send test event' }).click();
    await page.getByText(/Test event queued: winner\.drawn/).waitFor();
    await page.getByTestId('attempt-row').filter({ hasText: 'winner.drawn' }).filter({ hasText: 'success' }).waitFor({ timeout: 15_000 });
    const got = e.receiver.requests.find((r) => r.path === '/cobalt');
    expect(got?.headers['x-tenant']).toBe('cobalt');
  });

  it('recovers failed messages since a time and confirms how many it queued', async () => {
    e.receiver.respondWith({ status: 500, body: 'boom' });
    const msgId = await publish(e, appId, 'order.paid', { orderId: 'c9' });
    await expect
      .poll(async () => (await e.api<{ data: unknown[] }>('GET', `/api/v1/app/${appId}/attempt/msg/${msgId}`)).data.length, { timeout: 15_000 })
      .toBe(3);
    e.receiver.respondWith({ status: 204 });
    await page.getByRole('button', { name: 'Recover failed' }).click();
    const dialog = page.getByRole('dialog', { name: 'Recover failed messages' });
    await dialog.getByRole('button', { name: 'Recover' }).click();
    await page.getByText(/Recovery queued: 1 failed message since/).waitFor();
    await page.getByTestId('attempt-row').filter({ hasText: msgId }).filter({ hasText: 'HTTP 204' }).waitFor({ timeout: 15_000 });
    await screenshot(page, '35-deliveries-recovered');
  });

  it('filters by status and exports the filtered history as CSV', async () => {
    await page.getByLabel('Status').selectOption('failed');
    await expect.poll(() => page.getByTestId('attempt-row').count()).toBe(3);
    expect(await page.getByTestId('attempt-row').filter({ hasText: 'success' }).count()).toBe(0);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const csv = await readFile((await download.path())!, 'utf8');
    const lines = csv.trim().split(/\r?\n/);
    expect(lines.length).toBe(4); // header + the three failed attempts
    expect(lines.slice(1).every((l) => l.includes('500'))).toBe(true);
    await page.getByLabel('Event type').selectOption('winner.drawn');
    await page.getByText('No deliveries match these filters.').waitFor();
  });

  it('shows the health view', async () => {
    await page.getByRole('link', { name: 'Health' }).click();
    await page.getByTestId('queue-depth').waitFor();
    await page.getByText('Deliveries per minute').waitFor();
    await screenshot(page, '36-health');
  });
});
