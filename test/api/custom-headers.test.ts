/**
 * Custom endpoint headers through the API and the worker: checked at creation as undici will send
 * them, within the operator's limits (small ones here, to reach them); values sealed in the endpoint
 * row and redacted in attempt rows while receivers get them; rows from an earlier version, with clear
 * values, delivering, then sealed by the sweep (their logged attempts redacted); and a stored value
 * undici refuses failing with what is wrong with the header, never "private address".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealClearHeaders } from '../../src/engine/reseal.js';
import { silentLogger } from '../../src/logger.js';
import { eventually, startLogFixture, type LogFixture } from './log-fixtures.js';

let f: LogFixture;
let appId: string;
beforeAll(async () => {
  f = await startLogFixture({
    HERALD_MAX_CUSTOM_HEADERS: '3',
    HERALD_MAX_CUSTOM_HEADER_NAME: '24',
    HERALD_MAX_CUSTOM_HEADER_VALUE: '60',
    HERALD_MAX_CUSTOM_HEADER_BYTES: '150',
  });
  appId = (await f.makeApp()).id;
});
afterAll(async () => {
  await f?.close();
});

type Detail = { loc: (string | number)[]; msg: string };
const problems = (body: { detail: Detail[] }) => Object.fromEntries(body.detail.map((d) => [d.loc.join('.'), d.msg]));
const createWith = (headers: Record<string, string>) => f.call('POST', `/api/v1/app/${appId}/endpoint`, { url: `${f.rx.url}/in`, headers });
const endpointPath = (id: string) => `/api/v1/app/${appId}/endpoint/${id}`;
const q = async <T>(sql: string, args: unknown[] = []) => (await f.server.db.pool.query(sql, args)).rows as T[];

describe('custom headers are checked when set', () => {
  it('refuses on create what undici would refuse at send time, saying what is wrong', async () => {
    const res = await createWith({ 'x-price': '10 €', 'x-bell': 'ding\u0007', 'Content-Encoding': 'gzip' });
    expect(res.status).toBe(422);
    const p = problems(res.body);
    expect(p['body.headers.x-price']).toMatch(/contains "€" \(U\+20AC, at position 4\).*only ASCII and Latin-1/);
    expect(p['body.headers.x-bell']).toMatch(/control character U\+0007/);
    expect(p['body.headers.Content-Encoding']).toMatch(/set by Herald or by HTTP itself/);
    // Latin-1 is what undici sends as is: accepted.
    expect((await createWith({ 'x-city': 'Zürich' })).status).toBe(201);
  });

  it('applies the configured limits, naming each setting, on PUT and PATCH …/headers', async () => {
    const ep = (await createWith({ 'x-a': '1' })).body;
    const put = (headers: Record<string, string>) => f.call('PUT', `${endpointPath(ep.id)}/headers`, { headers });
    const tooMany = await put({ 'x-a': '1', 'x-b': '2', 'x-c': '3', 'x-d': '4' });
    expect(tooMany.status).toBe(422);
    expect(problems(tooMany.body)['body.headers']).toMatch(/4 custom headers; at most 3 per endpoint \(HERALD_MAX_CUSTOM_HEADERS\)/);
    expect(problems((await put({ 'x-a-name-much-too-long-for-this': '1' })).body)['body.headers.x-a-name-much-too-long-for-this']).toMatch(/HERALD_MAX_CUSTOM_HEADER_NAME/);
    expect(problems((await put({ 'x-a': 'v'.repeat(61) })).body)['body.headers.x-a']).toMatch(/61 characters; at most 60 \(HERALD_MAX_CUSTOM_HEADER_VALUE\)/);
    expect(problems((await put({ 'x-a': 'v'.repeat(60), 'x-b': 'v'.repeat(60), 'x-c': 'v'.repeat(20) })).body)['body.headers']).toMatch(/HERALD_MAX_CUSTOM_HEADER_BYTES/);
    const patch = await f.call('PATCH', `${endpointPath(ep.id)}/headers`, { headers: { 'x-b': '2', 'x-c': '3', 'x-d': '4' } });
    expect(patch.status).toBe(422);
    expect(problems(patch.body)['body.headers']).toMatch(/at most 3/);
    expect((await f.call('PATCH', `${endpointPath(ep.id)}/headers`, { headers: { 'x-b': 'tab\tok' } })).status).toBe(204);
    expect((await f.call('PATCH', `${endpointPath(ep.id)}/headers`, { headers: { 'x-b': 'line\nbreak' } })).status).toBe(422);
    // Nothing refused was stored.
    expect((await f.call('GET', `${endpointPath(ep.id)}/headers`)).body).toEqual({ headers: { 'x-a': '1', 'x-b': 'tab\tok' }, sensitive: [] });
  });
});

describe('custom header values at rest and in the log', () => {
  it('are sealed in the row, shown by the API as before, kept by endpoint updates, and sent to the receiver', async () => {
    const ep = (await createWith({ Authorization: 'Bearer tok-sealed-1', 'X-Tenant': 'blue' })).body;
    const [row] = await q<{ headers: string }>('select headers::text from endpoint where id = $1', [ep.id]);
    expect(row!.headers).not.toMatch(/tok-sealed|blue/);
    expect(JSON.parse(row!.headers).authorization.sealed).toMatch(/^v1\.[0-9a-f]{8}\./);
    expect((await f.call('GET', `${endpointPath(ep.id)}/headers`)).body).toEqual({ headers: { 'x-tenant': 'blue' }, sensitive: ['authorization'] });
    // Endpoint updates keep the headers (PUT and PATCH of the endpoint do not carry them).
    expect((await f.call('PATCH', endpointPath(ep.id), { description: 'renamed' })).status).toBe(200);
    expect((await f.call('PUT', endpointPath(ep.id), { url: `${f.rx.url}/sealed`, description: 'put' })).status).toBe(200);

    f.rx.respondWith((req) => (req.path === '/sealed' ? { status: 500 } : { status: 200 }));
    const msg = (await f.call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'order.paid', payload: { n: 1 } })).body;
    const got = await eventually(async () => f.rx.requests.find((r) => r.path === '/sealed' && r.body.toString().includes('"n":1')), 'the delivery');
    expect(got.headers.authorization).toBe('Bearer tok-sealed-1');
    expect(got.headers['x-tenant']).toBe('blue');
    const [attempt] = await eventually(async () => {
      const rows = await q<{ h: Record<string, string>; text: string }>(
        'select request_headers as h, request_headers::text as text from attempt where msg_id = $1 and endpoint_id = $2',
        [msg.id, ep.id],
      );
      return rows.length > 0 ? rows : undefined;
    }, 'the attempt row');
    expect(attempt!.h).toMatchObject({ authorization: '[redacted]', 'x-tenant': '[redacted]', 'webhook-id': msg.id, 'content-type': 'application/json' });
    expect(attempt!.h['webhook-signature']).toMatch(/^v1,/);
    expect(attempt!.text).not.toMatch(/tok-sealed|blue/);

    // A new value reaches the next delivery: the worker's opened copy follows the row.
    expect((await f.call('PATCH', `${endpointPath(ep.id)}/headers`, { headers: { authorization: 'Bearer tok-sealed-2' } })).status).toBe(204);
    await f.call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'order.paid', payload: { n: 2 } });
    const second = await eventually(async () => f.rx.requests.find((r) => r.path === '/sealed' && r.body.toString().includes('"n":2')), 'the second delivery');
    expect(second.headers.authorization).toBe('Bearer tok-sealed-2');
    expect(second.headers['x-tenant']).toBe('blue');
    f.rx.respondWith({ status: 200 });
  });
});

describe('rows written before header values were sealed', () => {
  it('keep delivering, then the sweep seals them and redacts the attempts logged with their values', async () => {
    const ep = await f.makeEndpoint(appId, { path: '/legacy' });
    await q(`update endpoint set headers = '{"authorization": "Bearer legacy-tok", "x-team": "green"}' where id = $1`, [ep.id]);
    const msg = (await f.call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'order.paid', payload: { legacy: true } })).body;
    const got = await eventually(async () => f.rx.requests.find((r) => r.path === '/legacy'), 'the legacy delivery');
    expect(got.headers.authorization).toBe('Bearer legacy-tok');
    await eventually(async () => (await q('select 1 from attempt where endpoint_id = $1', [ep.id])).length > 0, 'the attempt row');
    // As an earlier version logged it: the values in clear.
    await q(`update attempt set request_headers = request_headers || '{"authorization": "Bearer legacy-tok", "x-team": "green"}' where endpoint_id = $1`, [ep.id]);
    expect((await f.call('GET', `${endpointPath(ep.id)}/headers`)).body).toEqual({ headers: { 'x-team': 'green' }, sensitive: ['authorization'] });

    const { herald } = f.server;
    expect(await sealClearHeaders(herald.pool, herald.secretBox, silentLogger, { batchSize: 1 })).toBeGreaterThanOrEqual(1);
    const [row] = await q<{ headers: string }>('select headers::text from endpoint where id = $1', [ep.id]);
    expect(row!.headers).not.toMatch(/legacy-tok|green/);
    const attempts = await q<{ h: Record<string, string> }>('select request_headers as h from attempt where endpoint_id = $1', [ep.id]);
    expect(attempts.map((a) => [a.h.authorization, a.h['x-team'], a.h['webhook-id']])).toEqual([['[redacted]', '[redacted]', msg.id]]);
    // Still the same headers for the API and for receivers, and nothing left for the next sweep.
    expect((await f.call('GET', `${endpointPath(ep.id)}/headers`)).body).toEqual({ headers: { 'x-team': 'green' }, sensitive: ['authorization'] });
    expect(await sealClearHeaders(herald.pool, herald.secretBox, silentLogger)).toBe(0);
  });

  it('with a value undici refuses, fail each delivery saying which header is wrong and how to fix it', async () => {
    const ep = await f.makeEndpoint(appId, { path: '/bad-legacy' });
    await q(`update endpoint set headers = '{"x-price": "10 €"}' where id = $1`, [ep.id]);
    const msg = (await f.call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'order.paid', payload: { bad: true } })).body;
    const [d] = await eventually(async () => {
      const rows = await q<{ state: string; lastError: string }>(
        `select state, last_error as "lastError" from delivery where msg_id = $1 and endpoint_id = $2 and state = 'failed'`,
        [msg.id, ep.id],
      );
      return rows.length > 0 ? rows : undefined;
    }, 'the failed delivery');
    expect(d!.lastError).toMatch(/custom header "x-price" contains "€".*fix it with PUT or PATCH …\/endpoint\/ep_\w+\/headers/);
    expect(d!.lastError).not.toMatch(/private address/);
    expect(f.rx.requests.some((r) => r.path === '/bad-legacy')).toBe(false);
  });
});
