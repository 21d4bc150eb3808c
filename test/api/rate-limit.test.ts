import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

/** Sends up to `max` requests with `token`; returns the statuses and the first 429, if any. */
async function hammer(s: TestServer, token: string, path: string, max: number) {
  const statuses: number[] = [];
  let limited: Response | undefined;
  for (let i = 0; i < max && !limited; i++) {
    const res = await fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    statuses.push(res.status);
    if (res.status === 429) limited = res;
    else await res.arrayBuffer();
  }
  return { statuses, limited };
}

async function scopedKey(s: TestServer): Promise<{ token: string; appId: string }> {
  const admin = { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' };
  const app = (await (await fetch(`${s.url}/api/v1/app`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'Limited' }) })).json()) as { id: string };
  const key = await fetch(`${s.url}/api/v1/api-key`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'scoped', permissions: ['read'], appId: app.id }) });
  return { token: ((await key.json()) as { key: string }).key, appId: app.id };
}

describe('API rate limit, defaults', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ HERALD_API_RATE_LIMIT: '5' }, { worker: false });
  });
  afterAll(async () => {
    await s.close();
  });

  it('limits a token scoped to one application, with 429 rate_limited and Retry-After', async () => {
    const { token, appId } = await scopedKey(s);
    const { statuses, limited } = await hammer(s, token, `/api/v1/app/${appId}`, 30);
    expect(limited).toBeDefined();
    expect(statuses.filter((x) => x === 200).length).toBeGreaterThanOrEqual(10);
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await limited!.json()).toMatchObject({ code: 'rate_limited' });
    // health needs no token and is never limited
    expect((await fetch(`${s.url}/api/v1/health`)).status).toBe(200);
  });

  it("never limits the platform's own operator token by default", async () => {
    const { statuses, limited } = await hammer(s, s.adminToken, '/api/v1/app', 60);
    expect(limited).toBeUndefined();
    expect(statuses.every((x) => x === 200)).toBe(true);
  });
});

describe('API rate limit for global tokens, when set', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ HERALD_API_RATE_LIMIT_GLOBAL: '5' }, { worker: false });
  });
  afterAll(async () => {
    await s.close();
  });

  it('limits the operator token at HERALD_API_RATE_LIMIT_GLOBAL', async () => {
    const { limited } = await hammer(s, s.adminToken, '/api/v1/app', 30);
    expect(limited).toBeDefined();
    expect(await limited!.json()).toMatchObject({ code: 'rate_limited' });
  });
});
