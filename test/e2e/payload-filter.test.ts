/**
 * The dashboard's payload filter in a real browser: add a webhook with a filter, test it against a
 * sample (match and no match, with the reason), publish two messages, and only the matching one is
 * delivered; the edit form shows the filter and catches a bad one before saving.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot, watchErrors } from '../support/browser.js';
import { createApp, createEventTypes, publish, signIn, startE2e, type E2eEnv } from './fixtures.js';

describe('dashboard: a webhook with a payload filter', { timeout: 60_000 }, () => {
  let e: E2eEnv;
  let ctx: BrowserContext;
  let page: Page;
  let errors: string[];
  let appId: string;

  beforeAll(async () => {
    e = await startE2e();
    appId = await createApp(e, 'Filter Foods', 'filter-foods');
    await createEventTypes(e, { 'order.paid': 'Payment confirmed.' });
    ctx = await e.browser.newContext();
    page = await ctx.newPage();
    page.setDefaultTimeout(10_000);
    errors = watchErrors(page);
  });

  afterAll(async () => {
    await ctx?.close();
    await e?.close();
  });

  it('creates a webhook with a filter tested against a sample, and delivers only what matches', async () => {
    await signIn(page, e.server.url, e.server.adminToken);
    await page.goto(`${e.server.url}/apps/${appId}/webhooks/new`);
    await page.getByLabel('Name').fill('Large orders');
    await page.getByLabel('URL').fill(`${e.receiver.url}/hooks/large`);
    await page.getByRole('checkbox', { name: /order\.paid/ }).check();
    const create = page.getByRole('button', { name: 'Create webhook' });
    const filter = page.getByLabel('Only deliver messages whose body matches');

    await filter.fill('{"total_pence": {"$gte": "1000"}}');
    await page.getByText('total_pence.$gte: must be a number').waitFor();
    expect(await create.isDisabled()).toBe(true);
    await filter.fill('{"total_pence": {"$gte": 1000}, "customer.country": {"$in": ["GB", "IE"]}}');
    expect(await create.isEnabled()).toBe(true);

    const sample = page.getByLabel('Test against a sample');
    await sample.fill('{"total_pence": 1500, "customer": {"country": "GB"}}');
    await page.getByText('Match: this message would be delivered.').waitFor();
    await sample.fill('{"total_pence": 500, "customer": {"country": "GB"}}');
    await page.getByText('No match: this message would not be delivered.').waitFor();
    const result = page.getByTestId('filter-result');
    expect(await result.textContent()).toContain('✗ total_pence ≥ 1000 — found 500');
    expect(await result.textContent()).toContain('✓ customer.country is one of "GB", "IE" — found "GB"');
    await screenshot(page, 'payload-filter-test');

    await create.click();
    await page.getByRole('dialog', { name: 'Webhook created' }).waitFor();
    const endpoints = await e.api<{ data: { id: string; payloadFilter: unknown }[] }>('GET', `/api/v1/app/${appId}/endpoint`);
    expect(endpoints.data[0]!.payloadFilter).toEqual({ total_pence: { $gte: 1000 }, 'customer.country': { $in: ['GB', 'IE'] } });

    const small = await publish(e, appId, 'order.paid', { order: 'small', total_pence: 500, customer: { country: 'GB' } });
    const large = await publish(e, appId, 'order.paid', { order: 'large', total_pence: 2500, customer: { country: 'IE' } });
    await e.receiver.waitFor(1);
    // The small one was published first: had it been delivered, it would be here by now too.
    // The request arrives before its result is written (results are group-committed): wait for the attempt.
    const attemptsPath = `/api/v1/app/${appId}/attempt/endpoint/${endpoints.data[0]!.id}`;
    let attempts = await e.api<{ data: { msgId: string }[] }>('GET', attemptsPath);
    for (const deadline = Date.now() + 10_000; attempts.data.length === 0 && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 50));
      attempts = await e.api<{ data: { msgId: string }[] }>('GET', attemptsPath);
    }
    expect(attempts.data.map((a) => a.msgId)).toEqual([large]);
    const dests = await e.api<{ data: unknown[] }>('GET', `/api/v1/app/${appId}/msg/${small}/endpoint`);
    expect(dests.data).toEqual([]);
    expect(e.receiver.requests.map((r) => JSON.parse(r.body.toString()).order)).toEqual(['large']);
    expect(errors).toEqual([]);
  });

  it('shows the filter on the edit form and clears it', async () => {
    const endpoints = await e.api<{ data: { id: string }[] }>('GET', `/api/v1/app/${appId}/endpoint`);
    const id = endpoints.data[0]!.id;
    await page.goto(`${e.server.url}/apps/${appId}/webhooks/${id}/edit`);
    const filter = page.getByLabel('Only deliver messages whose body matches');
    expect(JSON.parse(await filter.inputValue())).toEqual({ total_pence: { $gte: 1000 }, 'customer.country': { $in: ['GB', 'IE'] } });
    await filter.fill('{"status": ');
    await page.getByText(/Not valid JSON/).waitFor();
    expect(await page.getByRole('button', { name: 'Save changes' }).isDisabled()).toBe(true);
    await filter.fill('');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Webhook saved').waitFor();
    expect((await e.api<{ payloadFilter: unknown }>('GET', `/api/v1/app/${appId}/endpoint/${id}`)).payloadFilter).toBeNull();
    expect(errors).toEqual([]);
  });
});
