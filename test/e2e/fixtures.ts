/**
 * Shared set-up of the browser tests: a running Herald (API + worker) with the web app built, a
 * receiver, Chromium, and small helpers to arrange data through the public API and to sign in.
 */
import type { Page } from 'playwright-core';
import { ensureWebBuilt, launchBrowser, type TestBrowser } from '../support/browser.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** Everything a browser test file needs. */
export interface E2eEnv {
  /** Herald under test. */
  server: TestServer;
  /** The customer's endpoint. */
  receiver: Receiver;
  /** Chromium. */
  browser: TestBrowser;
  /** Calls the API with the operator token (or `token`); throws on non-2xx with the body. */
  api: <T = unknown>(method: string, path: string, body?: unknown, token?: string) => Promise<T>;
  /** Stops everything. */
  close: () => Promise<void>;
}

/** Builds web/ if needed, then starts Herald, a receiver and Chromium. */
export async function startE2e(env: Record<string, string> = {}): Promise<E2eEnv> {
  await ensureWebBuilt();
  const server = await startTestServer(env);
  const receiver = await startReceiver();
  const browser = await launchBrowser();
  const api = async <T,>(method: string, path: string, body?: unknown, token = server.adminToken): Promise<T> => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  return {
    server,
    receiver,
    browser,
    api,
    async close() {
      await browser.close();
      await receiver.close();
      await server.close();
    },
  };
}

/** Creates an application and returns its id. */
export async function createApp(e: E2eEnv, name: string, uid?: string): Promise<string> {
  return (await e.api<{ id: string }>('POST', '/api/v1/app', { name, ...(uid ? { uid } : {}) })).id;
}

/** Creates event types (ignoring ones that exist). */
export async function createEventTypes(e: E2eEnv, types: Record<string, string>): Promise<void> {
  for (const [name, description] of Object.entries(types)) {
    await e.api('POST', '/api/v1/event-type', { name, description }).catch((err: Error) => {
      if (!/409/.test(err.message)) throw err;
    });
  }
}

/** Creates an endpoint through the API; returns its id and secret. */
export async function createEndpoint(e: E2eEnv, appId: string, body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  return e.api('POST', `/api/v1/app/${appId}/endpoint`, body);
}

/** Publishes a message; returns its id. */
export async function publish(e: E2eEnv, appId: string, eventType: string, payload: unknown): Promise<string> {
  return (await e.api<{ id: string }>('POST', `/api/v1/app/${appId}/msg`, { eventType, payload })).id;
}

/** Signs in to the dashboard at `/` with a token. */
export async function signIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('API key or operator token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}
