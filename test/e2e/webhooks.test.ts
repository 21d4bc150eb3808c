/**
 * The dashboard in a real browser: add a webhook and read its secret once; publish and see
 * the delivery succeed; make the receiver fail and see the status code and response body (as text);
 * resend; pause and resume; rotate the secret; delete with confirmation. One webhook goes through
 * the whole story, so the tests run in order and share it.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { screenshot, watchErrors } from '../support/browser.js';
import { createApp, createEventTypes, publish, signIn, startE2e, type E2eEnv } from './fixtures.js';

const WEBHOOK = 'Fulfilment CRM sync';

describe('dashboard: one webhook from creation to deletion', { timeout: 60_000 }, () => {
  let e: E2eEnv;
  let ctx: BrowserContext;
  let page: Page;
  let errors: string[];
  const writes: string[] = [];
  let appId: string;
  let endpointId: string;
  let firstSecret: string;

  beforeAll(async () => {
    e = await startE2e();
    appId = await createApp(e, 'Acme Raffles', 'acme');
    await createEventTypes(e, {
      'order.paid': 'Payment confirmed; tickets issued.',
      'order.refunded': 'Order or line refunded.',
      'draw.completed': 'The main draw ran and winners were chosen.',
      'queue.consumer.admitted': 'A consumer was admitted from the queue.',
    });
    ctx = await e.browser.newContext();
    page = await ctx.newPage();
    page.setDefaultTimeout(10_000);
    errors = watchErrors(page);
    page.on('request', (r) => {
      if (r.method() !== 'GET') writes.push(`${r.method()} ${new URL(r.url()).pathname} ${r.postData() ?? ''}`);
    });
  });

  afterEach(({ task }) => {
    // What the page changed, to tell a UI bug from a server one when a step fails.
    if (task.result?.state === 'fail') console.log(`requests the page sent:\n${writes.join('\n')}`);
  });

  afterAll(async () => {
    await ctx?.close();
    await e?.close();
  });

  const row = () => page.getByTestId(`webhook-${endpointId}`);
  const attemptRows = () => page.getByTestId('attempt-row');
  const gotoDeliveries = async () => {
    await page.goto(`${e.server.url}/apps/${appId}/webhooks/${endpointId}`);
    await page.getByRole('heading', { name: 'Delivery history' }).waitFor();
  };

  it('signs in, shows the empty state, adds a webhook and shows its secret once', async () => {
    await page.goto(`${e.server.url}/`);
    await screenshot(page, '01-sign-in');
    await signIn(page, e.server.url, e.server.adminToken);
    expect(await page.evaluate(() => document.cookie)).toBe('');
    await page.getByRole('link', { name: 'Acme Raffles', exact: true }).click();
    await page.getByText('No webhooks configured yet.').waitFor();
    await screenshot(page, '02-webhooks-empty');

    await page.getByRole('link', { name: 'Add webhook' }).click();
    const create = page.getByRole('button', { name: 'Create webhook' });
    await page.getByLabel('Name').fill(WEBHOOK);
    await page.getByLabel('URL').fill(`${e.receiver.url}/hooks/herald`);
    expect(await create.isDisabled()).toBe(true); // no event type ticked yet
    await page.getByRole('checkbox', { name: /order\.paid/ }).check();
    await page.getByRole('checkbox', { name: /order\.refunded/ }).check();
    expect(await create.isEnabled()).toBe(true);
    await screenshot(page, '03-add-webhook');
    await create.click();

    const dialog = page.getByRole('dialog', { name: 'Webhook created' });
    await dialog.waitFor();
    firstSecret = (await dialog.getByTestId('full-secret').textContent()) ?? '';
    expect(firstSecret).toMatch(/^whsec_[A-Za-z0-9+/=]{32,}$/);
    await dialog.getByText('will only be shown once').waitFor();
    await screenshot(page, '04-webhook-created', { fullPage: false });
    await dialog.getByRole('button', { name: 'OK, I have stored it' }).click();

    const list = await e.api<{ data: { id: string; secretHint: string }[] }>('GET', `/api/v1/app/${appId}/endpoint`);
    endpointId = list.data[0]!.id;
    const secret = await e.api<{ key: string }>('GET', `/api/v1/app/${appId}/endpoint/${endpointId}/secret`);
    expect(secret.key).toBe(firstSecret);
    await row().getByText(`•••• ${firstSecret.slice(-4)}`).waitFor();
    expect(await page.content()).not.toContain(firstSecret); // once, and only once
    await row().getByText('Active').waitFor();
    await screenshot(page, '05-webhooks-list');
  });

  it('shows a published event as a successful delivery without a reload', async () => {
    await gotoDeliveries();
    await page.getByText('No events found for this webhook.').waitFor();
    const msgId = await publish(e, appId, 'order.paid', { orderId: 'ord_1', totalPence: 4900 });
    await e.receiver.waitFor(1);
    const success = attemptRows().filter({ hasText: msgId });
    await success.filter({ hasText: 'success' }).waitFor({ timeout: 15_000 });
    expect(await success.first().getByTestId('attempt-result').textContent()).toBe('HTTP 200');
    expect(e.receiver.requests[0]!.path).toBe('/hooks/herald');
    await page.getByText('Times in Europe/London').first().waitFor();
    await screenshot(page, '06-deliveries-success');
  });

  it('shows a failure with its status code and the response body as text', async () => {
    e.receiver.respondWith({
      status: 503,
      headers: { 'content-type': 'text/html' },
      body: '<html><body><h1>Down for maintenance</h1><img src=x onerror="window.__pwned=1"></body></html>',
    });
    const msgId = await publish(e, appId, 'order.refunded', { orderId: 'ord_2' });
    const failed = attemptRows().filter({ hasText: msgId }).filter({ hasText: 'failed' });
    await failed.first().waitFor({ timeout: 15_000 });
    expect(await failed.first().getByTestId('attempt-result').textContent()).toBe('HTTP 503');
    await screenshot(page, '07-deliveries-failed');

    await failed.first().getByRole('button', { name: /^Logs/ }).click();
    const logs = page.getByRole('dialog', { name: 'Webhook logs' });
    await logs.getByTestId('attempt-status-code').getByText('503').waitFor();
    const body = logs.getByTestId('response-body');
    await body.waitFor();
    expect(await body.textContent()).toContain('<h1>Down for maintenance</h1>');
    expect(await logs.locator('h1').count()).toBe(0); // shown as text, never rendered
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await logs.getByTestId('request-body').textContent()).toBe(JSON.stringify({ orderId: 'ord_2' }));
    await logs.getByText(`${e.receiver.url}/hooks/herald`).first().waitFor();
    await screenshot(page, '08-attempt-logs', { fullPage: false });
    await logs.getByRole('button', { name: 'Close' }).last().click();

    // Let the retries (0, 1 s, 2 s in the test server) run out before the receiver recovers.
    await expect
      .poll(async () => (await e.api<{ data: unknown[] }>('GET', `/api/v1/app/${appId}/attempt/msg/${msgId}`)).data.length, { timeout: 15_000 })
      .toBe(3);
  });

  it('resends a failed message and shows the new attempt', async () => {
    e.receiver.respondWith({ status: 200 });
    const failedMsg = (await e.api<{ data: { msgId: string; status: number }[] }>('GET', `/api/v1/app/${appId}/attempt/endpoint/${endpointId}?status=2`)).data[0]!.msgId;
    const rowsOfMsg = attemptRows().filter({ hasText: failedMsg });
    await expect.poll(() => rowsOfMsg.count(), { timeout: 10_000 }).toBe(3);
    await rowsOfMsg.first().getByRole('button', { name: `Resend ${failedMsg}` }).click();
    await page.getByText('Webhook resend is in progress').waitFor();
    await rowsOfMsg.filter({ hasText: 'success' }).first().waitFor({ timeout: 15_000 });
    const resent = rowsOfMsg.filter({ hasText: 'success' }).first();
    expect(await resent.getByRole('cell', { name: /4 \(manual\)/ }).count()).toBe(1);
    // Delivered now: Resend is greyed out on every row of that message.
    expect(await rowsOfMsg.first().getByRole('button', { name: `Resend ${failedMsg}` }).isDisabled()).toBe(true);
    expect(errors.filter((x) => !x.includes('Failed to load resource'))).toEqual([]);
  });

  it('pauses and resumes the webhook', async () => {
    await page.goto(`${e.server.url}/apps/${appId}`);
    await row().getByRole('button', { name: `Pause ${WEBHOOK}` }).click();
    await page.getByText('Webhook paused').waitFor(); // the API answered the change
    await row().getByRole('button', { name: `Resume ${WEBHOOK}` }).waitFor();
    await row().getByText('Paused').waitFor();
    expect((await e.api<{ disabled: boolean }>('GET', `/api/v1/app/${appId}/endpoint/${endpointId}`)).disabled).toBe(true);
    const before = e.receiver.requests.length;
    await publish(e, appId, 'order.paid', { orderId: 'ord_3' });
    await page.reload();
    await row().getByText('1 held').waitFor(); // kept for the webhook, not sent
    expect(e.receiver.requests.length).toBe(before);
    await screenshot(page, '09-webhook-paused');
    await row().getByRole('button', { name: `Resume ${WEBHOOK}` }).click();
    await row().getByText('Active').waitFor();
    expect((await e.api<{ disabled: boolean }>('GET', `/api/v1/app/${appId}/endpoint/${endpointId}`)).disabled).toBe(false);
    // Resuming sends what was held.
    const got = await e.receiver.waitFor(before + 1);
    expect(JSON.parse(got.at(-1)!.body.toString('utf8'))).toEqual({ orderId: 'ord_3' });
  });

  it('rotates the secret with the grace-period warning and shows the new one once', async () => {
    await row().getByRole('link', { name: `Edit ${WEBHOOK}` }).click();
    await page.getByRole('heading', { name: 'Signing secret' }).waitFor();
    await page.getByTestId('secret-hint').getByText(`•••• ${firstSecret.slice(-4)}`).waitFor();
    await page.getByText('keeps signing deliveries (as a second signature) for 24 hours').first().waitFor();
    await screenshot(page, '10-edit-webhook');
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    const confirm = page.getByRole('dialog', { name: 'Rotate signing secret' });
    await confirm.getByText('then stops working').waitFor();
    await confirm.getByRole('button', { name: 'Rotate secret' }).click();
    const shown = page.getByRole('dialog', { name: 'New signing secret' });
    const newSecret = (await shown.getByTestId('full-secret').textContent()) ?? '';
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(firstSecret);
    await screenshot(page, '11-secret-rotated', { fullPage: false });
    await shown.getByRole('button', { name: 'OK, I have stored it' }).click();
    await page.getByTestId('secret-hint').getByText(`•••• ${newSecret.slice(-4)}`).waitFor();
    expect((await e.api<{ key: string }>('GET', `/api/v1/app/${appId}/endpoint/${endpointId}/secret`)).key).toBe(newSecret);
  });

  it('deletes the webhook after a confirmation that names it', async () => {
    await page.goto(`${e.server.url}/apps/${appId}`);
    await row().getByRole('button', { name: `Delete ${WEBHOOK}` }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete webhook' });
    await dialog.getByText(`“${WEBHOOK}”`).waitFor();
    await screenshot(page, '12-delete-confirm', { fullPage: false });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await row().waitFor();
    // Keyboard: Enter opens the dialog, Escape closes it and focus returns to the button.
    const del = row().getByRole('button', { name: `Delete ${WEBHOOK}` });
    await del.focus();
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await del.evaluate((el) => el === document.activeElement)).toBe(true);
    await del.click();
    await page.getByRole('dialog', { name: 'Delete webhook' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Webhook deleted successfully').waitFor();
    await page.getByText('No webhooks configured yet.').waitFor();
    expect((await e.api<{ data: unknown[] }>('GET', `/api/v1/app/${appId}/endpoint`)).data).toEqual([]);
  });

  it('signs out and forgets the token', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key or operator token').waitFor();
    expect(await page.evaluate(() => JSON.stringify(sessionStorage))).toBe('{}');
  });
});
