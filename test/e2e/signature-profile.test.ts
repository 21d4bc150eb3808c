/**
 * Signature profiles in the browser app. In Node: the form's checks agree with the API's (the core's
 * own functions are the oracle), and the receiver code the pages offer verifies requests signed by
 * Herald's core and refuses altered or stale ones — the generated code is run, not just read. In
 * Chromium: a webhook created with the hex {timestamp}.{body} preset, the code following the preset,
 * copied, saved, the profile in force on the edit page, a real delivery verified by the copied code,
 * and a reserved header name refused beside its field.
 * (These live here, not beside web/src/lib, because the root Vitest config collects only src/ and test/.)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseSecret } from '../../src/core/signing.js';
import { ed25519PublicKeyOf, generateProfileSecret, headerNameProblem, signatureHeaders, signingKeyOf } from '../../src/core/signature-profile.js';
import { publicKeysUrl, receiverSnippet, SECRET_PLACEHOLDER } from '../../web/src/lib/receiver-snippet.js';
import {
  chooseSignature,
  deliveryHeadersBody,
  deliveryHeadersDraftOf,
  deliveryHeadersProblems,
  describeProfile,
  importedSecretProblem,
  needsNewSecret,
  profileHeaderProblem,
  signatureBody,
  signatureDraftOf,
  signatureProblems,
  type HmacProfile,
  type SignatureProfile,
} from '../../web/src/lib/signature.js';
import { screenshot, watchErrors } from '../support/browser.js';
import { createApp, createEventTypes, publish, signIn, startE2e, type E2eEnv } from './fixtures.js';

const HEX_TIMESTAMP: HmacProfile = { scheme: 'hmac-sha256', header: 'X-Acme-Signature', timestampHeader: 'X-Acme-Timestamp', content: 'timestamp.body', encoding: 'hex', key: 'hex' };
const HEX_BODY: HmacProfile = { scheme: 'hmac-sha256', header: 'X-Body-Signature', timestampHeader: null, content: 'body', encoding: 'hex', key: 'utf8' };
const BASE64_UNSIGNED_TS: HmacProfile = { scheme: 'hmac-sha256', header: 'X-Sig', timestampHeader: 'X-Sent-At', content: 'body', encoding: 'base64', key: 'utf8' };

describe('signature form logic', () => {
  it('reads stored profiles back as their preset, or Custom, and sends them unchanged', () => {
    expect(signatureDraftOf(null, true).choice).toBe('inherit');
    expect(signatureDraftOf(null, false).choice).toBe('standard');
    expect(signatureDraftOf({ scheme: 'ed25519' }, true).choice).toBe('ed25519');
    expect(signatureDraftOf(HEX_TIMESTAMP, true).choice).toBe('hmac-hex-timestamp');
    expect(signatureDraftOf(HEX_BODY, true).choice).toBe('hmac-hex-body');
    expect(signatureDraftOf(BASE64_UNSIGNED_TS, true).choice).toBe('custom');
    for (const p of [HEX_TIMESTAMP, HEX_BODY, BASE64_UNSIGNED_TS, { scheme: 'standard' } as const, { scheme: 'ed25519' } as const]) {
      expect(signatureBody(signatureDraftOf(p, true))).toEqual(p);
    }
    expect(signatureBody(signatureDraftOf(null, true))).toBeNull();
  });

  it('sets a preset’s fixed parts and keeps the header names typed', () => {
    const typed = { ...signatureDraftOf(null, true), header: 'X-Acme-Signature' };
    const ts = chooseSignature(typed, 'hmac-hex-timestamp');
    expect(signatureBody(ts)).toEqual({ ...HEX_TIMESTAMP, timestampHeader: 'X-Timestamp' });
    const body = chooseSignature({ ...ts, timestampHeader: 'X-Acme-Timestamp' }, 'hmac-hex-body');
    expect(signatureBody(body)).toEqual({ ...HEX_BODY, header: 'X-Acme-Signature' });
    // Custom starts from what the preset had.
    expect(signatureBody(chooseSignature({ ...ts, timestampHeader: 'X-Acme-Timestamp' }, 'custom'))).toEqual(HEX_TIMESTAMP);
  });

  it('judges header names as the API does', () => {
    const names = ['X-Acme-Signature', 'x_sig', "a!#$%&'*+-.^_`|~z", 'Content-Type', 'HOST', 'webhook-id', 'Webhook-Anything', 'authorization', 'Cookie', 'svix-signature', 'Proxy-Foo', 'User-Agent', 'X Sig', 'X:Sig', 'é', '', 'x'.repeat(64), 'x'.repeat(65)];
    const apiAlsoRefuses = /^(svix-.*|proxy-.*|user-agent)$/i; // src/engine/applications.ts, after the core's check
    for (const name of names) {
      const api = headerNameProblem(name) === null && !apiAlsoRefuses.test(name);
      expect([name, profileHeaderProblem(name) === null]).toEqual([name, api]);
    }
    expect(profileHeaderProblem('content-type')).toBe('content-type is set by Herald or by HTTP itself; choose another name.');
  });

  it('reports problems by field: reserved names, a repeated name, a missing signed timestamp', () => {
    const d = signatureDraftOf(HEX_TIMESTAMP, true);
    expect(signatureProblems(d)).toEqual({});
    expect(signatureProblems({ ...d, header: 'Content-Type' }).header).toMatch(/set by Herald/);
    expect(signatureProblems({ ...d, timestampHeader: 'x-acme-signature' }).timestampHeader).toMatch(/already used/);
    expect(signatureProblems({ ...d, timestampHeader: '' }).timestampHeader).toMatch(/Required when \{timestamp\}\.\{body\} is signed/);
    expect(signatureProblems({ ...d, choice: 'inherit', header: 'host' })).toEqual({});
  });

  it('checks delivery headers against each other and the profile, and sends null to inherit', () => {
    const own = { own: true, eventType: 'X-Acme-Event', deliveryId: 'x-acme-event', userAgent: 'Acme/1.0' };
    expect(deliveryHeadersProblems(own, ['X-Acme-Signature']).deliveryId).toMatch(/already used/);
    expect(deliveryHeadersProblems({ ...own, deliveryId: 'X-Acme-Signature' }, ['X-Acme-Signature']).deliveryId).toMatch(/already used/);
    expect(deliveryHeadersProblems({ ...own, deliveryId: 'webhook-id' }, []).deliveryId).toMatch(/set by Herald/);
    expect(deliveryHeadersProblems({ ...own, deliveryId: '', userAgent: 'Acme ☃' }, []).userAgent).toMatch(/visible ASCII/);
    expect(deliveryHeadersBody({ ...own, deliveryId: '' })).toEqual({ eventType: 'X-Acme-Event', deliveryId: null, userAgent: 'Acme/1.0' });
    expect(deliveryHeadersBody(deliveryHeadersDraftOf(null, true))).toBeNull();
    expect(deliveryHeadersBody(deliveryHeadersDraftOf(null, false))).toEqual({ eventType: null, deliveryId: null, userAgent: null });
  });

  it('accepts an imported secret exactly when the API can sign with it', () => {
    const secrets = [
      generateProfileSecret({ scheme: 'standard' }).secret,
      'whsec_' + 'A'.repeat(30), // 22 bytes: too short
      'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', // bare base64, 24 bytes
      'a'.repeat(64),
      'abc',
      'not hex but long enough',
      'ABCDEF0123456789abcdef0123456789',
      'abcdef0123456789abcdef012345678', // odd length
      generateProfileSecret({ scheme: 'ed25519' }).secret,
    ];
    const profiles: SignatureProfile[] = [{ scheme: 'standard' }, { scheme: 'ed25519' }, HEX_TIMESTAMP, HEX_BODY];
    for (const p of profiles) {
      for (const s of secrets) {
        let api = true;
        try {
          if (p.scheme === 'standard') parseSecret(s.startsWith('whsec_') ? s : `whsec_${s}`);
          else signingKeyOf(p, s);
        } catch {
          api = false;
        }
        expect([p.scheme, p.scheme === 'hmac-sha256' && p.key, s, importedSecretProblem(s, p) === null]).toEqual([p.scheme, p.scheme === 'hmac-sha256' && p.key, s, api]);
      }
    }
  });

  it('asks for a new secret only when the current one cannot fit the new profile', () => {
    expect(needsNewSecret({ scheme: 'standard' }, HEX_BODY)).toBe(false); // a UTF-8 key takes any secret
    expect(needsNewSecret({ scheme: 'standard' }, HEX_TIMESTAMP)).toBe(true);
    expect(needsNewSecret(HEX_TIMESTAMP, { ...HEX_TIMESTAMP, header: 'X-Other' })).toBe(false);
    expect(needsNewSecret({ scheme: 'standard' }, { scheme: 'ed25519' })).toBe(true);
    expect(needsNewSecret(HEX_BODY, { scheme: 'standard' })).toBe(true);
  });

  it('puts a profile into words', () => {
    expect(describeProfile(HEX_TIMESTAMP)).toBe('HMAC-SHA256 hex of {timestamp}.{body}, hex-decoded key, in X-Acme-Signature, timestamp in X-Acme-Timestamp');
    expect(describeProfile(HEX_BODY)).toBe('HMAC-SHA256 hex of the body, UTF-8 key, in X-Body-Signature, no timestamp');
  });
});

/** Runs a snippet's verifyDelivery: the code as shown, with the secret filled in and the server left out. */
async function loadVerifier(code: string, secret: string | null, dir: string, n: number): Promise<(headers: Record<string, string>, body: Buffer) => string | null> {
  const sdk = pathToFileURL(resolve(fileURLToPath(import.meta.url), '../../../src/sdk/verify.ts')).href;
  let source = code.replace(`'herald/verify'`, `'${sdk}'`).replace('}).listen(3000);', '});');
  if (secret !== null) source = source.replace(`'${SECRET_PLACEHOLDER}'`, JSON.stringify(secret));
  const file = join(dir, `receiver-${n}.mjs`);
  await writeFile(file, `${source}\nexport { verifyDelivery };\n`);
  return ((await import(pathToFileURL(file).href)) as { verifyDelivery: (h: Record<string, string>, b: Buffer) => string | null }).verifyDelivery;
}

/** A request as Herald's worker signs it (src/delivery/build-request.ts), with lower-cased names as Node gives them. */
function signed(p: SignatureProfile, secret: string, body: Buffer, timestamp: number): Record<string, string> {
  const headers = signatureHeaders(p, [signingKeyOf(p, secret)], 'msg_2Yc3Lq', timestamp, body);
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

describe('receiver snippets', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'herald-snippets-'));
  });
  afterAll(async () => {
    vi.unstubAllGlobals();
    await rm(dir, { recursive: true, force: true });
  });

  const body = Buffer.from('{"type":"order.paid","data":{"id":"ord_1","total":4900}}');
  const now = () => Math.floor(Date.now() / 1000);
  const cases: [string, SignatureProfile][] = [
    ['standard', { scheme: 'standard' }],
    ['hex of {timestamp}.{body}, hex key', HEX_TIMESTAMP],
    ['hex of the body, utf8 key, no timestamp', HEX_BODY],
    ['base64 of the body, unsigned timestamp header', BASE64_UNSIGNED_TS],
  ];

  it.each(cases.map(([name, p], i) => [name, p, i] as const))('%s: verifies what Herald signs, refuses an altered body and a stale timestamp', async (_, p, i) => {
    const { secret } = generateProfileSecret(p);
    const code = receiverSnippet(p, { deliveryHeaders: { eventType: 'X-Acme-Event', deliveryId: 'X-Acme-Delivery', userAgent: null } });
    expect(code).toContain(`const SECRETS = ['${SECRET_PLACEHOLDER}'];`);
    expect(code).not.toContain(secret);
    expect(code).toContain("req.headers['x-acme-delivery']");
    const verify = await loadVerifier(code, secret, dir, i);
    expect(verify(signed(p, secret, body, now()), body)).toBeNull();
    expect(verify(signed(p, secret, body, now()), Buffer.from(body.toString().replace('4900', '4901')))).toMatch(/match/);
    expect(verify(signed(p, generateProfileSecret(p).secret, body, now()), body)).toMatch(/match/);
    const stale = verify(signed(p, secret, body, now() - 600), body);
    if (p.scheme !== 'hmac-sha256' || p.timestampHeader) expect(stale).toMatch(/too (old|far)|not within|signed \d+ s ago/);
    else expect(stale).toBeNull(); // nothing to tell its age by; the code says to de-duplicate instead
  });

  it('ed25519: verifies with the public keys fetched from their public URL, and holds no secret', async () => {
    const { secret, publicKey } = generateProfileSecret({ scheme: 'ed25519' });
    const url = publicKeysUrl('https://hooks.example.com/', 'ep_2Yc3Lq');
    expect(url).toBe('https://hooks.example.com/api/v1/public/endpoint/ep_2Yc3Lq/keys');
    const code = receiverSnippet({ scheme: 'ed25519' }, { publicKeysUrl: url });
    expect(code).not.toContain(SECRET_PLACEHOLDER);
    expect(code).toContain(`const KEYS_URL = '${url}';`);
    const fetched: string[] = [];
    vi.stubGlobal('fetch', async (u: string) => {
      fetched.push(u);
      return { json: async () => ({ keys: [{ key: publicKey, expiresAt: null }] }) };
    });
    const verify = await loadVerifier(code, null, dir, 100);
    expect(fetched).toEqual([url]);
    expect(publicKey).toBe(ed25519PublicKeyOf(secret));
    expect(verify(signed({ scheme: 'ed25519' }, secret, body, now()), body)).toBeNull();
    expect(verify(signed({ scheme: 'ed25519' }, generateProfileSecret({ scheme: 'ed25519' }).secret, body, now()), body)).toMatch(/match/);
  });

  it('quotes header names safely and names the key handling in the code', () => {
    const code = receiverSnippet({ ...HEX_BODY, header: "X-It's" });
    expect(code).toContain("headers['x-it\\'s']");
    expect(receiverSnippet(HEX_TIMESTAMP)).toContain("Buffer.from(secret, 'hex')");
    expect(receiverSnippet(HEX_BODY)).toContain("Buffer.from(secret, 'utf8')");
    expect(receiverSnippet(HEX_TIMESTAMP)).toContain('timingSafeEqual(given, expected)');
  });
});

describe('signature profile in the dashboard', { timeout: 90_000 }, () => {
  let e: E2eEnv;
  let ctx: BrowserContext;
  let page: Page;
  let errors: string[];
  let appId: string;
  let dir: string;
  const PRESET = 'HMAC-SHA256 hex of {timestamp}.{body}, hex-decoded key';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'herald-snippets-'));
    e = await startE2e();
    await createEventTypes(e, { 'order.paid': 'An order was paid.' });
    appId = await createApp(e, 'Acme Shop', 'acme-shop');
    ctx = await e.browser.newContext();
    await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: e.server.url });
    page = await ctx.newPage();
    page.setDefaultTimeout(10_000);
    errors = watchErrors(page);
    await signIn(page, e.server.url, e.server.adminToken);
  });

  afterAll(async () => {
    await ctx?.close();
    await e?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('creates a webhook with the hex {timestamp}.{body} preset, with receiver code that verifies its deliveries, and shows the profile in force', async () => {
    await page.goto(`${e.server.url}/apps/${appId}/webhooks/new`);
    await page.getByLabel('Name').fill('Acme CRM');
    await page.getByLabel('URL').fill(`${e.receiver.url}/acme`);
    await page.getByRole('checkbox', { name: /order\.paid/ }).check();
    const snippet = page.getByTestId('receiver-snippet');
    // Inheriting from an application that sets no profile: Standard Webhooks, verified with herald/verify.
    await snippet.getByText("import { verifyWebhook } from 'herald/verify';").waitFor();

    await page.getByLabel('Signature scheme').selectOption({ label: PRESET });
    await snippet.getByText("const key = Buffer.from(secret, 'hex');").waitFor();
    expect(await snippet.textContent()).not.toContain('herald/verify');
    await page.getByLabel('Signature header').fill('X-Acme-Signature');
    await page.getByLabel('Timestamp header').fill('X-Acme-Timestamp');
    await snippet.getByText("const signature = headers['x-acme-signature'];").waitFor();
    await snippet.getByText("const timestamp = headers['x-acme-timestamp'];").waitFor();

    // The form's own check, before any request.
    const create = page.getByRole('button', { name: 'Create webhook' });
    await page.getByLabel('Signature header').fill('Content-Type');
    await page.locator('#wh-sig-header-error').getByText('Content-Type is set by Herald or by HTTP itself').waitFor();
    expect(await create.isDisabled()).toBe(true);
    await page.getByLabel('Signature header').fill('X-Acme-Signature');
    await screenshot(page, '50-webhook-signature-preset');

    const shown = (await snippet.locator('pre').textContent()) ?? '';
    await snippet.getByRole('button', { name: 'Copy code' }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(shown);
    const copied = shown;
    expect(copied).toContain("const SECRETS = ['YOUR_SECRET'];");

    await create.click();
    const dialog = page.getByRole('dialog', { name: 'Webhook created' });
    const secret = (await dialog.getByTestId('full-secret').textContent()) ?? '';
    expect(secret).toMatch(/^[0-9a-f]{64}$/); // made for a hex-decoded key
    expect(copied).not.toContain(secret);
    await dialog.getByRole('button', { name: 'OK, I have stored it' }).click();

    const list = await e.api<{ data: { id: string; signature: unknown; effectiveSignature: unknown }[] }>('GET', `/api/v1/app/${appId}/endpoint`);
    const ep = list.data[0]!;
    expect(ep.signature).toEqual(HEX_TIMESTAMP);
    expect(ep.effectiveSignature).toEqual(HEX_TIMESTAMP);

    await page.goto(`${e.server.url}/apps/${appId}/webhooks/${ep.id}/edit`);
    const summary = page.getByTestId('effective-signature');
    await summary.getByText(PRESET, { exact: true }).waitFor();
    await summary.getByText('HMAC-SHA256 hex of {timestamp}.{body}, hex-decoded key, in X-Acme-Signature, timestamp in X-Acme-Timestamp').waitFor();
    // Its own profile; only the delivery headers come from the application.
    expect(await summary.getByText('(inherited from the application)').count()).toBe(1);
    expect(await page.getByLabel('Signature scheme').inputValue()).toBe('hmac-hex-timestamp');
    await screenshot(page, '51-webhook-signature-edit');

    // A real delivery, checked by the code exactly as copied (with the secret put in).
    await publish(e, appId, 'order.paid', { orderId: 'ord_1', totalPence: 4900 });
    const [request] = await e.receiver.waitFor(1);
    const headers = Object.fromEntries(Object.entries(request!.headers).map(([k, v]) => [k, String(v)]));
    expect(headers['x-acme-timestamp']).toMatch(/^\d+$/);
    const verify = await loadVerifier(copied, secret, dir, 200);
    expect(verify(headers, request!.body)).toBeNull();
    expect(verify(headers, Buffer.concat([request!.body, Buffer.from(' ')]))).toMatch(/does not match/);
  });

  it('creates an Ed25519 webhook: its public key instead of a secret, on the edit page with its public URL', async () => {
    await page.goto(`${e.server.url}/apps/${appId}/webhooks/new`);
    await page.getByLabel('Name').fill('Acme ledger');
    await page.getByLabel('URL').fill(`${e.receiver.url}/ledger`);
    await page.getByRole('checkbox', { name: /order\.paid/ }).check();
    await page.getByLabel('Signature scheme').selectOption({ label: 'Ed25519 (public key)' });
    const snippet = page.getByTestId('receiver-snippet');
    await snippet.getByText(`const KEYS_URL = '${e.server.url}/api/v1/public/endpoint/YOUR_ENDPOINT_ID/keys';`).waitFor();
    expect(await snippet.textContent()).not.toContain('YOUR_SECRET');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    const dialog = page.getByRole('dialog', { name: 'Webhook created' });
    const shown = (await dialog.getByTestId('public-key').textContent()) ?? '';
    expect(shown).toMatch(/^whpk_[A-Za-z0-9+/]{43}=$/);
    expect(await dialog.getByTestId('full-secret').count()).toBe(0); // the private key stays with Herald
    await dialog.getByRole('button', { name: 'Done' }).click();

    const { data } = await e.api<{ data: { id: string; description: string }[] }>('GET', `/api/v1/app/${appId}/endpoint`);
    const id = data.find((d) => d.description === 'Acme ledger')!.id;
    const published = (await (await fetch(`${e.server.url}/api/v1/public/endpoint/${id}/keys`)).json()) as { keys: { key: string }[] };
    expect(published.keys.map((k) => k.key)).toEqual([shown]);
    await page.goto(`${e.server.url}/apps/${appId}/webhooks/${id}/edit`);
    const keys = page.getByTestId('public-keys');
    await keys.getByText(shown).waitFor();
    await keys.getByRole('button', { name: 'Copy public key' }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(shown);
    await page.getByTestId('receiver-snippet').getByText(`const KEYS_URL = '${e.server.url}/api/v1/public/endpoint/${id}/keys';`).waitFor();
    expect(await page.getByRole('button', { name: 'Reveal' }).count()).toBe(0);
    expect(await page.getByTestId('secret-hint').count()).toBe(0); // not even the end of the private key
    await page.getByRole('heading', { name: 'Signing key' }).waitFor();
    await screenshot(page, '53-webhook-ed25519-edit');
  });

  it('moves a Standard Webhooks endpoint to a hex key with a new secret in the same save, shown once', async () => {
    const ep = await e.api<{ id: string }>('POST', `/api/v1/app/${appId}/endpoint`, { url: `${e.receiver.url}/moved`, description: 'Acme moved' });
    await page.goto(`${e.server.url}/apps/${appId}/webhooks/${ep.id}/edit`);
    await page.getByLabel('Signature scheme').selectOption({ label: PRESET });
    await page.getByTestId('new-secret-note').getByText(/does not fit this profile/).waitFor();
    await page.getByRole('button', { name: 'Save changes' }).click();
    const dialog = page.getByRole('dialog', { name: 'New signing secret' });
    const secret = (await dialog.getByTestId('full-secret').textContent()) ?? '';
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    await dialog.getByRole('button', { name: 'OK, I have stored it' }).click();
    await page.getByTestId('effective-signature').getByText(PRESET, { exact: true }).waitFor();
    expect(await page.getByTestId('new-secret-note').count()).toBe(0);
    expect((await e.api<{ key: string }>('GET', `/api/v1/app/${appId}/endpoint/${ep.id}/secret`)).key).toBe(secret);
  });

  it("shows the API's refusal of a reserved header name beside its field", async () => {
    const { data } = await e.api<{ data: { id: string; description: string }[] }>('GET', `/api/v1/app/${appId}/endpoint`);
    const id = data.find((d) => d.description === 'Acme CRM')!.id;
    await page.goto(`${e.server.url}/apps/${appId}/webhooks/${id}/edit`);
    await page.getByLabel('Signature scheme').selectOption('custom');
    // The form refuses reserved names itself, so the request is rewritten on its way out: it stands
    // for a server that reserves a name this page does not know yet, whose answer must still land
    // beside the field it names (body.signature.header).
    await page.route(`**/api/v1/app/${appId}/endpoint/${id}`, async (route) => {
      const req = route.request();
      if (req.method() !== 'PATCH') return route.continue();
      const body = JSON.parse(req.postData() ?? '{}') as { signature: { header: string } };
      body.signature.header = 'Content-Type';
      await route.continue({ postData: JSON.stringify(body) });
    });
    await page.getByRole('button', { name: 'Save changes' }).click();
    const error = page.locator('#edit-sig-header-error');
    await error.getByText(/^Content-Type is set by Herald or by HTTP itself; choose another name$/).waitFor(); // the API's sentence
    expect(await page.getByLabel('Signature header').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Signature header').inputValue()).toBe('X-Acme-Signature');
    await page.unroute(`**/api/v1/app/${appId}/endpoint/${id}`);
    await screenshot(page, '52-webhook-signature-refused');

    // The customer portal shows the same profile for its own webhook.
    const { url } = await e.api<{ url: string }>('POST', `/api/v1/auth/app-portal-access/${appId}`, {});
    const portalCtx = await e.browser.newContext();
    try {
      const portal = await portalCtx.newPage();
      portal.setDefaultTimeout(10_000);
      await portal.goto(url);
      await portal.getByTestId(`webhook-${id}`).waitFor();
      await portal.goto(`${e.server.url}/portal/webhooks/${id}/edit`);
      await portal.getByTestId('effective-signature').getByText(PRESET, { exact: true }).waitFor();
    } finally {
      await portalCtx.close();
    }
    // The refused save is a 422 the browser logs as a failed load; nothing else may go wrong.
    expect(errors.filter((x) => !x.includes('Failed to load resource'))).toEqual([]);
  });
});
