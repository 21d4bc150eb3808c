/**
 * Limits per tenant (issue 13 item 2): endpoints, API keys (per application and global) and live
 * portal tokens per application are counted at insert. Each is refused with a clear 422 naming the
 * limit, the current count and the setting; a freed slot can be taken again; other applications are
 * unaffected; and concurrent creates never take more slots than there are. The fixed limits of the
 * request shape (channels, tags, filter types, metadata size) are refused with a 422 at the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer(
    {
      HERALD_MAX_ENDPOINTS_PER_APP: '3',
      HERALD_MAX_API_KEYS_PER_APP: '3',
      HERALD_MAX_GLOBAL_API_KEYS: '3',
      HERALD_MAX_PORTAL_TOKENS_PER_APP: '3',
    },
    { worker: false },
  );
});
afterAll(async () => {
  await s.close();
});

const admin = () => ({ authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' });
const call = (method: string, path: string, body?: unknown, token = s.adminToken) =>
  fetch(`${s.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
async function newApp(name: string): Promise<string> {
  const res = await fetch(`${s.url}/api/v1/app`, { method: 'POST', headers: admin(), body: JSON.stringify({ name }) });
  return ((await res.json()) as { id: string }).id;
}
const createEndpoint = (appId: string, n: number) =>
  fetch(`${s.url}/api/v1/app/${appId}/endpoint`, { method: 'POST', headers: admin(), body: JSON.stringify({ url: `https://hooks.example.com/${n}` }) });
const createKey = (appId: string | null, n: number) => call('POST', '/api/v1/api-key', { name: `key ${n}`, permissions: ['read'], ...(appId ? { appId } : {}) });
const portalAccess = (appId: string) => call('POST', `/api/v1/auth/app-portal-access/${appId}`, {});
/** The statuses of `n` requests sent at once. */
const statusesOf = (n: number, send: (i: number) => Promise<Response>) =>
  Promise.all(Array.from({ length: n }, (_, i) => send(i).then(async (r) => (await r.arrayBuffer(), r.status))));
/** The body of a 422 a limit refused: the Svix validation shape, which the official clients parse. */
const refusal = (msg: string) => ({ code: 'unprocessable', detail: [{ loc: ['body'], type: 'value_error', msg }] });

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

describe('HERALD_MAX_API_KEYS_PER_APP', () => {
  it('refuses the key past the limit with a 422 saying the limit, the count and the setting; a revoked one frees its slot', async () => {
    const appId = await newApp('Keys');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await createKey(appId, i);
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { id: string }).id);
    }
    const refused = await createKey(appId, 3);
    expect(refused.status).toBe(422);
    expect(await refused.json()).toEqual(refusal(
      `application ${appId} has 3 API keys, the most this server allows (HERALD_MAX_API_KEYS_PER_APP=3); revoke one (DELETE /api/v1/api-key/{key_id}), or ask the operator to raise HERALD_MAX_API_KEYS_PER_APP`,
    ));

    expect((await call('DELETE', `/api/v1/api-key/${ids[0]}`)).status).toBe(204);
    expect((await createKey(appId, 4)).status).toBe(201);
    expect((await createKey(appId, 5)).status).toBe(422);
    // Another application has slots of its own, and keys scoped to this one are not global keys.
    expect((await createKey(await newApp('Other keys'), 0)).status).toBe(201);
  });

  it('gives concurrent creates no more slots than the limit', async () => {
    const appId = await newApp('Key race');
    const statuses = await statusesOf(12, (i) => createKey(appId, i));
    expect(statuses.filter((x) => x === 201)).toHaveLength(3);
    expect(statuses.filter((x) => x === 422)).toHaveLength(9);
    const { rows } = await s.herald.pool.query<{ n: number }>(`select count(*)::int as n from auth_token where app_id = $1 and kind = 'api_key'`, [appId]);
    expect(rows[0]!.n).toBe(3);
  });
});

describe('HERALD_MAX_GLOBAL_API_KEYS', () => {
  /** Revokes every live global key, so each test starts with every slot free. */
  async function revokeGlobalKeys(): Promise<void> {
    await s.herald.pool.query(`update auth_token set revoked_at = now() where kind = 'api_key' and app_id is null and revoked_at is null`);
  }

  it('refuses the global key past the limit with a 422 naming the setting; a revoked one frees its slot', async () => {
    await revokeGlobalKeys();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await createKey(null, i);
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { id: string }).id);
    }
    const refused = await createKey(null, 3);
    expect(refused.status).toBe(422);
    expect(await refused.json()).toEqual(refusal(
      'there are 3 global API keys, the most this server allows (HERALD_MAX_GLOBAL_API_KEYS=3); revoke one (DELETE /api/v1/api-key/{key_id}), or ask the operator to raise HERALD_MAX_GLOBAL_API_KEYS',
    ));
    // Keys scoped to an application do not take global slots.
    expect((await createKey(await newApp('Scoped beside global'), 0)).status).toBe(201);

    expect((await call('DELETE', `/api/v1/api-key/${ids[1]}`)).status).toBe(204);
    expect((await createKey(null, 4)).status).toBe(201);
    expect((await createKey(null, 5)).status).toBe(422);
  });

  it('gives concurrent creates no more slots than the limit', async () => {
    await revokeGlobalKeys();
    const statuses = await statusesOf(12, (i) => createKey(null, i));
    expect(statuses.filter((x) => x === 201)).toHaveLength(3);
    expect(statuses.filter((x) => x === 422)).toHaveLength(9);
    const { rows } = await s.herald.pool.query<{ n: number }>(`select count(*)::int as n from auth_token where app_id is null and kind = 'api_key' and revoked_at is null`);
    expect(rows[0]!.n).toBe(3);
  });
});

describe('HERALD_MAX_PORTAL_TOKENS_PER_APP', () => {
  const message = (appId: string) =>
    `application ${appId} has 3 live portal tokens, the most this server allows (HERALD_MAX_PORTAL_TOKENS_PER_APP=3); ` +
    'expire them (POST /api/v1/auth/app/{app_id}/expire-all), wait for some to expire, or ask the operator to raise HERALD_MAX_PORTAL_TOKENS_PER_APP';

  it('refuses the portal link past the limit with a 422 naming the setting; a logged-out token frees its slot', async () => {
    const appId = await newApp('Portal');
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await portalAccess(appId);
      expect(res.status).toBe(200);
      tokens.push(((await res.json()) as { token: string }).token);
    }
    const refused = await portalAccess(appId);
    expect(refused.status).toBe(422);
    expect(await refused.json()).toEqual(refusal(message(appId)));

    expect((await call('POST', '/api/v1/auth/logout', undefined, tokens[0])).status).toBe(204);
    expect((await portalAccess(appId)).status).toBe(200);
    expect((await portalAccess(appId)).status).toBe(422);
    // Another application has slots of its own.
    expect((await portalAccess(await newApp('Other portal'))).status).toBe(200);
  });

  it('counts only live tokens: expired ones free their slots before the retention purge deletes them', async () => {
    const appId = await newApp('Portal expiry');
    for (let i = 0; i < 3; i++) expect((await portalAccess(appId)).status).toBe(200);
    expect((await portalAccess(appId)).status).toBe(422);
    expect((await call('POST', `/api/v1/auth/app/${appId}/expire-all`, {})).status).toBe(204);
    // The expired rows are still stored (the purge keeps them a day), and do not count.
    const stored = await s.herald.pool.query<{ n: number }>(`select count(*)::int as n from auth_token where app_id = $1 and kind = 'portal'`, [appId]);
    expect(stored.rows[0]!.n).toBe(3);
    for (let i = 0; i < 3; i++) expect((await portalAccess(appId)).status).toBe(200);
    expect((await portalAccess(appId)).status).toBe(422);
    // A token that ran out of time the ordinary way frees its slot too.
    await s.herald.pool.query(
      `update auth_token set expires_at = now() - interval '1 second' where id = (select id from auth_token where app_id = $1 and kind = 'portal' and expires_at > now() limit 1)`,
      [appId],
    );
    expect((await portalAccess(appId)).status).toBe(200);
  });

  it('gives concurrent requests no more tokens than the limit', async () => {
    const appId = await newApp('Portal race');
    const statuses = await statusesOf(12, () => portalAccess(appId));
    expect(statuses.filter((x) => x === 200)).toHaveLength(3);
    expect(statuses.filter((x) => x === 422)).toHaveLength(9);
    const { rows } = await s.herald.pool.query<{ n: number }>(`select count(*)::int as n from auth_token where app_id = $1 and kind = 'portal'`, [appId]);
    expect(rows[0]!.n).toBe(3);
  });
});

describe('fixed limits of the request shape', () => {
  /** The one bad field of a 422 and its message. */
  async function fieldRefusal(res: Response): Promise<{ loc: unknown[]; msg: string }[]> {
    expect(res.status).toBe(422);
    const body = (await res.json()) as { code: string; detail: { loc: unknown[]; msg: string }[] };
    return body.detail.map(({ loc, msg }) => ({ loc, msg }));
  }
  const names = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

  it('endpoint channels: at most 10; filterTypes: at most 1000', async () => {
    const appId = await newApp('Endpoint arrays');
    const url = 'https://hooks.example.com/arrays';
    // Filter types must name known event types: the catalogue gets 1001 of them at once.
    await s.herald.pool.query(`insert into event_type (name) select 'limits.e' || g from generate_series(0, 1000) g`);
    const fits = await call('POST', `/api/v1/app/${appId}/endpoint`, { url, channels: names(10, 'c'), filterTypes: names(1000, 'limits.e') });
    expect(fits.status, await fits.text()).toBe(201);
    expect(await fieldRefusal(await call('POST', `/api/v1/app/${appId}/endpoint`, { url, channels: names(11, 'c') }))).toEqual([
      { loc: ['body', 'channels'], msg: "at most 10 channels per endpoint (a fixed limit, as in Svix's API)" },
    ]);
    expect(await fieldRefusal(await call('POST', `/api/v1/app/${appId}/endpoint`, { url, filterTypes: names(1001, 'limits.e') }))).toEqual([
      { loc: ['body', 'filterTypes'], msg: 'at most 1000 event types per endpoint (a fixed limit); subscribe to more with a wildcard ("prefix.*") or null (all)' },
    ]);
  });

  it('message channels: at most 10; tags: at most 5', async () => {
    const appId = await newApp('Message arrays');
    const msg = (extra: Record<string, unknown>) => call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'order.paid', payload: {}, ...extra });
    const fits = await msg({ channels: names(10, 'c'), tags: names(5, 't') });
    expect(fits.status, await fits.text()).toBe(202);
    expect(await fieldRefusal(await msg({ channels: names(11, 'c') }))).toEqual([
      { loc: ['body', 'channels'], msg: "at most 10 channels per message (a fixed limit, as in Svix's API)" },
    ]);
    expect(await fieldRefusal(await msg({ tags: names(6, 't') }))).toEqual([
      { loc: ['body', 'tags'], msg: "at most 5 tags per message (a fixed limit, as in Svix's API)" },
    ]);
  });

  it('metadata of applications and endpoints: at most 4096 bytes as JSON', async () => {
    // {"k":"…"} is 8 bytes besides the value; "é" is 2 bytes in UTF-8.
    const fits = { k: 'x'.repeat(4088) };
    const over = { k: 'é'.repeat(2045) }; // 4098 bytes
    const expected = [{ loc: ['body', 'metadata'], msg: "takes 4098 bytes as JSON; at most 4096 (a fixed limit, as in Svix's API)" }];
    const appRes = await call('POST', '/api/v1/app', { name: 'Metadata', metadata: fits });
    expect(appRes.status).toBe(201);
    const appId = ((await appRes.json()) as { id: string }).id;
    expect(await fieldRefusal(await call('POST', '/api/v1/app', { name: 'Metadata', metadata: over }))).toEqual(expected);
    expect(await fieldRefusal(await call('PATCH', `/api/v1/app/${appId}`, { metadata: over }))).toEqual(expected);
    const url = 'https://hooks.example.com/metadata';
    expect((await call('POST', `/api/v1/app/${appId}/endpoint`, { url, metadata: fits })).status).toBe(201);
    expect(await fieldRefusal(await call('POST', `/api/v1/app/${appId}/endpoint`, { url, metadata: over }))).toEqual(expected);
  });
});
