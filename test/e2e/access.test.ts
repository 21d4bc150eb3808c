/**
 * Who sees what, in a real browser: the portal scoped to one application cannot see
 * another's webhooks, takes its token out of the address bar, works inside an iframe on another
 * origin, and says so when the link expired; the dashboard cannot be framed; a read-only key sees no
 * create, edit or delete controls; a revoked key ends the session; a key scoped to one application
 * lands on it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { screenshot } from '../support/browser.js';
import { createApp, createEndpoint, createEventTypes, publish, signIn, startE2e, type E2eEnv } from './fixtures.js';

describe('access: portal scope, embedding, permissions', { timeout: 60_000 }, () => {
  let e: E2eEnv;
  let ctx: BrowserContext;
  let appA: string;
  let appB: string;
  let epA: string;
  let epB: string;
  let embedder: Server | undefined;

  beforeAll(async () => {
    e = await startE2e();
    await createEventTypes(e, { 'order.paid': 'Payment confirmed.', 'draw.completed': 'The draw ran.' });
    appA = await createApp(e, 'Alpha Comps');
    appB = await createApp(e, 'Bravo Tickets');
    epA = (await createEndpoint(e, appA, { url: `${e.receiver.url}/alpha`, description: 'Alpha CRM', filterTypes: ['order.paid'] })).id;
    epB = (await createEndpoint(e, appB, { url: `${e.receiver.url}/bravo`, description: 'Bravo ledger' })).id;
    await publish(e, appA, 'order.paid', { orderId: 'a1' });
    await e.receiver.waitFor(1);
  });

  afterEach(async () => {
    await ctx?.close();
    await new Promise<void>((r) => (embedder ? embedder.close(() => r()) : r()));
    embedder = undefined;
  });

  afterAll(async () => {
    await e?.close();
  });

  const newPage = async (width?: number) => {
    ctx = await e.browser.newContext(width ? { width, height: 780 } : {});
    const page = await ctx.newPage();
    page.setDefaultTimeout(10_000);
    return page;
  };

  it("shows only its own application's webhooks in the portal and hides the token", async () => {
    const { url } = await e.api<{ url: string }>('POST', `/api/v1/auth/app-portal-access/${appA}`, {});
    expect(url).toMatch(/\/portal#token=/);
    const page = await newPage();
    await page.goto(url);
    await page.getByTestId(`webhook-${epA}`).waitFor();
    expect(page.url()).not.toContain('token'); // moved to sessionStorage, out of history
    expect(await page.getByText('Bravo ledger').count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Applications' }).count()).toBe(0);
    await screenshot(page, '20-portal-webhooks');

    await page.goto(`${e.server.url}/portal/webhooks/${epB}`);
    await page.getByRole('alert').getByText(/not found/i).waitFor();
    expect(await page.getByText('Bravo ledger').count()).toBe(0);

    await page.goto(`${e.server.url}/portal/webhooks/${epA}`);
    await page.getByTestId('attempt-row').first().waitFor();
    await screenshot(page, '21-portal-deliveries');
  });

  it('works inside an iframe on another origin; the dashboard refuses to be framed', async () => {
    const { url } = await e.api<{ url: string }>('POST', `/api/v1/auth/app-portal-access/${appA}`, {});
    embedder = createServer((req, res) => {
      const src = req.url === '/dashboard' ? `${e.server.url}/` : url;
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><h1>Platform settings</h1><iframe src="${src}" title="embedded" style="width:100%;height:640px;border:1px solid #ccc"></iframe>`);
    });
    await new Promise<void>((r) => embedder!.listen(0, '127.0.0.1', () => r()));
    const origin = `http://localhost:${(embedder.address() as AddressInfo).port}`; // another origin than 127.0.0.1
    const page = await newPage();
    await page.goto(`${origin}/`);
    await page.frameLocator('iframe').getByTestId(`webhook-${epA}`).waitFor();
    await screenshot(page, '22-portal-embedded');

    await page.goto(`${origin}/dashboard`);
    await page.getByRole('heading', { name: 'Platform settings' }).waitFor();
    // Chromium replaces a frame refused by frame-ancestors with its error page: the app never runs.
    await expect.poll(() => page.frames().find((f) => f !== page.mainFrame())?.url(), { timeout: 10_000 }).toMatch(/^chrome-error:/);

    const dash = await fetch(`${e.server.url}/apps/${appA}`);
    expect(dash.headers.get('x-frame-options')).toBe('DENY');
    expect(dash.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(dash.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(dash.headers.get('cache-control')).toBe('no-store');
    const portal = await fetch(`${e.server.url}/portal/webhooks/x`);
    expect(portal.headers.get('x-frame-options')).toBeNull();
    expect(portal.headers.get('content-security-policy')).toContain('frame-ancestors *');
    // Unknown API paths stay JSON errors, never the app's index.html.
    const unknown = await fetch(`${e.server.url}/api/v1/nope`, { headers: { accept: 'text/html', authorization: `Bearer ${e.server.adminToken}` } });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toContain('application/json');
  });

  it('says so when the portal link has expired or was revoked', async () => {
    const page = await newPage();
    await page.goto(`${e.server.url}/portal#token=portal_not_a_real_token`);
    await page.getByRole('heading', { name: 'This link has expired' }).waitFor();
    expect(page.url()).not.toContain('token');
    await screenshot(page, '23-portal-expired');
  });

  it('shows a read-only key no create, edit or delete controls', async () => {
    const { key } = await e.api<{ key: string }>('POST', '/api/v1/api-key', { name: 'auditor', permissions: ['read'] });
    const page = await newPage();
    await signIn(page, e.server.url, key);
    await page.getByText('API key (read)').waitFor();
    await page.getByRole('link', { name: 'Alpha Comps', exact: true }).click();
    await page.getByTestId(`webhook-${epA}`).waitFor();
    for (const name of ['Add webhook', 'Edit Alpha CRM']) expect(await page.getByRole('link', { name }).count()).toBe(0);
    for (const name of ['Pause Alpha CRM', 'Delete Alpha CRM']) expect(await page.getByRole('button', { name }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'New application' }).count()).toBe(0);
    await screenshot(page, '24-read-only-webhooks');

    await page.getByRole('link', { name: 'Deliveries of Alpha CRM' }).click();
    await page.getByTestId('attempt-row').first().waitFor();
    expect(await page.getByRole('button', { name: /^Resend/ }).count()).toBe(0);
    for (const name of ['Send test event', 'Recover failed']) expect(await page.getByRole('button', { name }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Logs/ }).count()).toBeGreaterThan(0);
    await screenshot(page, '25-read-only-deliveries');
  });

  it('returns to sign-in, saying why, when the key is revoked mid-session', async () => {
    const created = await e.api<{ id: string; key: string }>('POST', '/api/v1/api-key', { name: 'temp', permissions: ['read'] });
    const page = await newPage();
    await signIn(page, e.server.url, created.key);
    const appLink = page.getByRole('link', { name: 'Alpha Comps', exact: true });
    await appLink.waitFor(); // the session is established and its first page loaded before the key goes
    await e.api('DELETE', `/api/v1/api-key/${created.id}`);
    await appLink.click();
    await page.getByText('Your token is no longer accepted').waitFor();
    await page.getByLabel('API key or operator token').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('takes a key scoped to one application straight to it, at phone width', async () => {
    const { key } = await e.api<{ key: string }>('POST', '/api/v1/api-key', { name: 'alpha ops', permissions: ['read', 'create', 'update', 'delete'], appId: appA });
    const page = await newPage(360);
    await signIn(page, e.server.url, key);
    await page.getByTestId(`webhook-${epA}`).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/apps/${appA}`);
    expect(await page.getByRole('link', { name: 'Applications' }).count()).toBe(0);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await screenshot(page, '26-scoped-key-360px');
    await page.goto(`${e.server.url}/apps/${appB}`);
    await page.getByRole('alert').getByText(/not found/i).waitFor();

    await page.goto(`${e.server.url}/apps/${appA}/webhooks/${epA}`);
    await page.getByTestId('attempt-row').first().waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await screenshot(page, '27-deliveries-360px');
  });
});
