/**
 * With HERALD_ALLOW_SECRET_READ=false (an operator's policy that a secret is shown once, never
 * again) the API refuses to reveal a secret and the dashboard never offers to: the
 * webhook's page shows only `•••• abcd`, with no Reveal control, even to the operator.
 */
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createEndpoint, createEventTypes, signIn, startE2e, type E2eEnv } from './fixtures.js';

describe('secrets that can never be read again', { timeout: 60_000 }, () => {
  let e: E2eEnv;
  let ctx: BrowserContext | undefined;

  beforeAll(async () => {
    e = await startE2e({ HERALD_ALLOW_SECRET_READ: 'false' });
    await createEventTypes(e, { 'order.paid': 'Payment confirmed.' });
  });
  afterAll(async () => {
    await ctx?.close();
    await e?.close();
  });

  it('answers 403 to a secret read and shows no Reveal button', async () => {
    const appId = await createApp(e, 'Sealed Secrets Ltd');
    const ep = await createEndpoint(e, appId, { url: `${e.receiver.url}/sealed`, description: 'Sealed hook' });
    const res = await fetch(`${e.server.url}/api/v1/app/${appId}/endpoint/${ep.id}/secret`, {
      headers: { authorization: `Bearer ${e.server.adminToken}` },
    });
    expect(res.status).toBe(403);
    expect(JSON.stringify(await res.json())).not.toContain(ep.secret);

    ctx = await e.browser.newContext();
    const page = await ctx.newPage();
    page.setDefaultTimeout(10_000);
    await signIn(page, e.server.url, e.server.adminToken);
    await page.goto(`${e.server.url}/apps/${appId}/webhooks/${ep.id}/edit`);
    await page.getByTestId('secret-hint').getByText(`•••• ${ep.secret.slice(-4)}`).waitFor();
    expect(await page.getByRole('button', { name: 'Reveal' }).count()).toBe(0);
    expect(await page.content()).not.toContain(ep.secret);
  });
});
