/**
 * An application's signing contract in the dashboard's Settings dialog: the hex {timestamp}.{body}
 * preset and delivery headers saved as the application's default, shown on a new webhook's edit page
 * as inherited; then a profile change the webhook's secret cannot follow, refused with the API's
 * sentence beside the signature scheme.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HmacProfile } from '../../web/src/lib/signature.js';
import { screenshot, watchErrors } from '../support/browser.js';
import { createApp, createEndpoint, createEventTypes, signIn, startE2e, type E2eEnv } from './fixtures.js';

const HEX_TIMESTAMP: HmacProfile = { scheme: 'hmac-sha256', header: 'X-Acme-Signature', timestampHeader: 'X-Acme-Timestamp', content: 'timestamp.body', encoding: 'hex', key: 'hex' };
const PRESET = 'HMAC-SHA256 hex of {timestamp}.{body}, hex-decoded key';

describe("an application's signature profile in the dashboard", { timeout: 90_000 }, () => {
  let e: E2eEnv;
  let ctx: BrowserContext;
  let page: Page;
  let errors: string[];
  let appId: string;

  beforeAll(async () => {
    e = await startE2e();
    await createEventTypes(e, { 'order.paid': 'An order was paid.' });
    appId = await createApp(e, 'Acme Payments', 'acme-payments');
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

  it('sets the hex {timestamp}.{body} preset on the application, which a new webhook inherits, and shows a refused change', async () => {
    await page.goto(`${e.server.url}/`);
    await page.getByRole('button', { name: 'Settings of Acme Payments' }).click();
    let dialog = page.getByRole('dialog', { name: 'Settings of Acme Payments' });
    const scheme = dialog.getByLabel('Signature scheme');
    // The application is what webhooks inherit from: no "Inherit" choice, Standard Webhooks by default.
    expect(await scheme.inputValue()).toBe('standard');
    expect(await scheme.locator('option', { hasText: 'Inherit from the application' }).count()).toBe(0);

    await scheme.selectOption({ label: PRESET });
    await dialog.getByLabel('Signature header').fill('X-Acme-Signature');
    await dialog.getByLabel('Timestamp header').fill('X-Acme-Timestamp');
    await dialog.getByLabel('Delivery id header').fill('X-Acme-Delivery');
    await screenshot(page, '55-app-signature-preset', { fullPage: false });
    await dialog.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Settings of “Acme Payments” saved').waitFor();
    const app = await e.api<Record<string, unknown>>('GET', `/api/v1/app/${appId}`);
    expect(app.signature).toEqual(HEX_TIMESTAMP);
    expect(app.deliveryHeaders).toMatchObject({ eventType: null, deliveryId: 'X-Acme-Delivery' });

    const { id } = await createEndpoint(e, appId, { url: `${e.receiver.url}/acme`, description: 'Acme ledger', filterTypes: ['order.paid'] });
    await page.goto(`${e.server.url}/apps/${appId}/webhooks/${id}/edit`);
    const summary = page.getByTestId('effective-signature');
    await summary.getByText(PRESET, { exact: true }).waitFor();
    await summary.getByText('HMAC-SHA256 hex of {timestamp}.{body}, hex-decoded key, in X-Acme-Signature, timestamp in X-Acme-Timestamp').waitFor();
    // Both the profile and the delivery headers come from the application.
    expect(await summary.getByText('(inherited from the application)').count()).toBe(2);
    expect(await page.getByLabel('Signature scheme').inputValue()).toBe('inherit');

    // The webhook's hex secret cannot sign Ed25519: the API refuses, and its sentence shows beside the field.
    await page.goto(`${e.server.url}/`);
    await page.getByRole('button', { name: 'Settings of Acme Payments' }).click();
    dialog = page.getByRole('dialog', { name: 'Settings of Acme Payments' });
    expect(await dialog.getByLabel('Signature scheme').inputValue()).toBe('hmac-hex-timestamp');
    await dialog.getByLabel('Signature scheme').selectOption({ label: 'Ed25519 (public key)' });
    await dialog.getByRole('button', { name: 'Save settings' }).click();
    await dialog.locator('#app-sig-scheme-error').getByText(`the signing secret of endpoint(s) ${id}, which inherit this profile, does not fit it`).waitFor();
    expect((await e.api<Record<string, unknown>>('GET', `/api/v1/app/${appId}`)).signature).toEqual(HEX_TIMESTAMP);
    // The refused save is a 422 the browser logs as a failed load; nothing else may go wrong.
    expect(errors.filter((x) => !x.includes('Failed to load resource'))).toEqual([]);
  });
});
