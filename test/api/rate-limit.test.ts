import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ HERALD_API_RATE_LIMIT: '5' }, { worker: false });
});
afterAll(async () => {
  await s.close();
});

describe('API rate limit', () => {
  it('answers 429 rate_limited with Retry-After once a token exceeds its rate, without affecting other tokens', async () => {
    const headers = { authorization: `Bearer ${s.adminToken}` };
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 30 && !limited; i++) {
      const res = await fetch(`${s.url}/api/v1/app`, { headers });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
      else await res.arrayBuffer();
    }
    expect(limited).toBeDefined();
    expect(statuses.filter((x) => x === 200).length).toBeGreaterThanOrEqual(10);
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await limited!.json()).toMatchObject({ code: 'rate_limited' });
    // health needs no token and is never limited
    expect((await fetch(`${s.url}/api/v1/health`)).status).toBe(200);
  });
});
