/**
 * Limits per tenant (issue 13 item 2): endpoints per application. A clear 422 naming the limit, the
 * current count and the setting; a freed slot can be taken again; other applications are unaffected;
 * and concurrent creates never take more slots than there are.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ HERALD_MAX_ENDPOINTS_PER_APP: '3' }, { worker: false });
});
afterAll(async () => {
  await s.close();
});

const admin = () => ({ authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' });
async function newApp(name: string): Promise<string> {
  const res = await fetch(`${s.url}/api/v1/app`, { method: 'POST', headers: admin(), body: JSON.stringify({ name }) });
  return ((await res.json()) as { id: string }).id;
}
const createEndpoint = (appId: string, n: number) =>
  fetch(`${s.url}/api/v1/app/${appId}/endpoint`, { method: 'POST', headers: admin(), body: JSON.stringify({ url: `https://hooks.example.com/${n}` }) });

describe('HERALD_MAX_ENDPOINTS_PER_APP', () => {
  it('refuses the endpoint past the limit with a 422 saying the limit, the count and the setting; a deleted one frees its slot', async () => {
    const appId = await newApp('Full');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await createEndpoint(appId, i);
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { id: string }).id);
    }
    const refused = await createEndpoint(appId, 3);
    expect(refused.status).toBe(422);
    // 422s take the Svix validation shape, which the official clients parse.
    expect(await refused.json()).toEqual({
      code: 'unprocessable',
      detail: [{
        loc: ['body'],
        type: 'value_error',
        msg: `application ${appId} has 3 endpoints, the most this server allows (HERALD_MAX_ENDPOINTS_PER_APP=3); delete an endpoint, or ask the operator to raise HERALD_MAX_ENDPOINTS_PER_APP`,
      }],
    });

    expect((await fetch(`${s.url}/api/v1/app/${appId}/endpoint/${ids[0]}`, { method: 'DELETE', headers: { authorization: `Bearer ${s.adminToken}` } })).status).toBe(204);
    expect((await createEndpoint(appId, 4)).status).toBe(201);
    expect((await createEndpoint(appId, 5)).status).toBe(422);
    // Another application has slots of its own.
    expect((await createEndpoint(await newApp('Other'), 0)).status).toBe(201);
  });

  it('gives concurrent creates no more slots than the limit', async () => {
    const appId = await newApp('Race');
    const statuses = await Promise.all(Array.from({ length: 12 }, (_, i) => createEndpoint(appId, i).then(async (r) => (await r.arrayBuffer(), r.status))));
    expect(statuses.filter((x) => x === 201)).toHaveLength(3);
    expect(statuses.filter((x) => x === 422)).toHaveLength(9);
    const { rows } = await s.herald.pool.query<{ n: number }>('select count(*)::int as n from endpoint where app_id = $1', [appId]);
    expect(rows[0]!.n).toBe(3);
  });
});
