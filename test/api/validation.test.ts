import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type ApiHarness } from '../support/api.js';

let api: ApiHarness;
let strict: ApiHarness;
let appId: string;
beforeAll(async () => {
  api = await startApi({ HERALD_MAX_PAYLOAD_BYTES: '1KiB' });
  // A server with the production default: https only, no private networks.
  strict = await startApi({ HERALD_ALLOW_HTTP: 'false', HERALD_ALLOWED_NETWORKS: '' });
  appId = (await api.makeApp()).id;
  await api.call('POST', '/api/v1/event-type', { body: { name: 'order.paid', description: '' } });
});
afterAll(async () => {
  await api.close();
  await strict.close();
});

type Detail = { loc: (string | number)[]; msg: string };
const locs = (body: { detail: Detail[] }) => body.detail.map((d) => d.loc.join('.'));

describe('endpoint URLs', () => {
  it.each([
    ['http://hooks.example.com/in', /https/],
    ['https://user:pass@hooks.example.com/in', /credential|user/i],
    ['/relative/path', /absolute/],
    ['ftp://hooks.example.com/in', /https/],
    ['https://localhost/in', /machine|loopback/],
    ['https://127.0.0.1/in', /./],
    ['https://169.254.169.254/latest/meta-data', /./],
    ['https://exa\tmple.com/in', /control|space/],
  ])('refuses %s', async (url, why) => {
    const strictApp = (await strict.makeApp()).id;
    const res = await strict.call('POST', `/api/v1/app/${strictApp}/endpoint`, { body: { url } });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('validation');
    expect(locs(res.body)).toContain('body.url');
    expect(res.body.detail.find((d: Detail) => d.loc[1] === 'url').msg).toMatch(why);
  });

  it('accepts http: only where HERALD_ALLOW_HTTP is set', async () => {
    expect((await api.call('POST', `/api/v1/app/${appId}/endpoint`, { body: { url: 'http://hooks.example.com/in' } })).status).toBe(201);
  });

  it('validates PATCHed and PUT URLs too', async () => {
    const strictApp = (await strict.makeApp()).id;
    const ep = (await strict.call('POST', `/api/v1/app/${strictApp}/endpoint`, { body: { url: 'https://ok.example.com' } })).body;
    expect((await strict.call('PATCH', `/api/v1/app/${strictApp}/endpoint/${ep.id}`, { body: { url: 'http://ok.example.com' } })).status).toBe(422);
    expect((await strict.call('PUT', `/api/v1/app/${strictApp}/endpoint/${ep.id}`, { body: { url: 'https://u:p@ok.example.com' } })).status).toBe(422);
  });
});

describe('custom headers', () => {
  it.each([['webhook-signature'], ['Webhook-Id'], ['webhook-timestamp'], ['svix-signature'], ['Host'], ['Content-Length'], ['transfer-encoding']])(
    'refuses to let a custom header set %s',
    async (name) => {
      const res = await api.call('POST', `/api/v1/app/${appId}/endpoint`, { body: { url: 'https://h.example.com', headers: { [name]: 'x' } } });
      expect(res.status).toBe(422);
      expect(locs(res.body)).toContain(`body.headers.${name}`);
    },
  );

  it('refuses CR, LF and NUL in values, invalid names, and lists every bad header at once', async () => {
    const ep = (await api.call('POST', `/api/v1/app/${appId}/endpoint`, { body: { url: 'https://h.example.com' } })).body;
    const res = await api.call('PUT', `/api/v1/app/${appId}/endpoint/${ep.id}/headers`, {
      body: { headers: { 'X-Split': 'a\r\nX-Injected: 1', 'X-Lf': 'a\nb', 'X-Nul': 'a\u0000b', 'bad name': 'x', 'webhook-id': 'forged', 'X-Ok': 'fine' } },
    });
    expect(res.status).toBe(422);
    expect(locs(res.body).sort()).toEqual(['body.headers.X-Lf', 'body.headers.X-Nul', 'body.headers.X-Split', 'body.headers.bad name', 'body.headers.webhook-id']);
    // Nothing was stored.
    expect((await api.call('GET', `/api/v1/app/${appId}/endpoint/${ep.id}/headers`)).body.headers).toEqual({});
    const patch = await api.call('PATCH', `/api/v1/app/${appId}/endpoint/${ep.id}/headers`, { body: { headers: { 'content-length': '0' } } });
    expect(patch.status).toBe(422);
  });
});

describe('every field reported at once', () => {
  it('lists schema errors with their paths', async () => {
    const res = await api.call('POST', `/api/v1/app/${appId}/endpoint`, {
      body: { url: 42, description: 'line\nbreak', rateLimit: 0, channels: ['bad channel'], metadata: { k: 5 }, uid: 'ep_looks_like_an_id' },
    });
    expect(res.status).toBe(422);
    expect(locs(res.body)).toEqual(
      expect.arrayContaining(['body.url', 'body.description', 'body.rateLimit', 'body.channels.0', 'body.metadata.k', 'body.uid']),
    );
  });

  it('lists URL, filter and header problems together', async () => {
    const res = await strict.call('POST', `/api/v1/app/${(await strict.makeApp()).id}/endpoint`, {
      body: { url: 'http://x.example.com', filterTypes: ['bad name', 'x*y'], headers: { host: 'evil' } },
    });
    expect(res.status).toBe(422);
    expect(locs(res.body)).toEqual(expect.arrayContaining(['body.url', 'body.filterTypes.0', 'body.filterTypes.1', 'body.headers.host']));
    // Array indexes are numbers, as in Svix's HTTPValidationError.
    expect(res.body.detail.map((d: Detail) => d.loc)).toContainEqual(['body', 'filterTypes', 1]);
  });

  it('bounds metadata: string values, at most 64 entries, no NUL', async () => {
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
    expect((await api.call('POST', '/api/v1/app', { body: { name: 'm', metadata: many } })).status).toBe(422);
    expect((await api.call('POST', '/api/v1/app', { body: { name: 'm', metadata: { a: { nested: true } } } })).status).toBe(422);
    expect((await api.call('POST', '/api/v1/app', { body: { name: 'm', metadata: { a: 'x\u0000' } } })).status).toBe(422);
    expect((await api.call('POST', '/api/v1/app', { body: { name: 'm', metadata: { a: 'x'.repeat(4097) } } })).status).toBe(422);
  });

  it('validates query strings and path parameters', async () => {
    expect((await api.call('GET', '/api/v1/app?limit=0')).status).toBe(422);
    expect((await api.call('GET', '/api/v1/app?limit=251')).status).toBe(422);
    expect((await api.call('GET', '/api/v1/event-type?include_archived=maybe')).status).toBe(422);
    const badPath = await api.call('GET', `/api/v1/app/${encodeURIComponent('a b')}`);
    expect(badPath.status).toBe(422);
    expect(badPath.body.detail[0].loc).toEqual(['path', 'app_id']);
    const badQuery = await api.call('GET', '/api/v1/app?limit=0');
    expect(badQuery.body.detail[0].loc).toEqual(['query', 'limit']);
  });
});

describe('hostile bodies: a clear 4xx, never a 500', () => {
  const post = (payload: string | Buffer, contentType = 'application/json') =>
    api.call('POST', '/api/v1/app', { body: payload, headers: { 'content-type': contentType } });

  it('refuses a body over the limit with 413', async () => {
    const res = await post(JSON.stringify({ name: 'x', metadata: { a: 'y'.repeat(70 * 1024) } }));
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 'payload_too_large' });
  });

  it('refuses deeply nested JSON with 400 before parsing it', async () => {
    const deep = `{"name":"x","metadata":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const res = await post(deep);
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/nested/);
    // Brackets inside strings do not count.
    expect((await post(JSON.stringify({ name: '['.repeat(200) }))).status).toBe(201);
  });

  it('refuses invalid UTF-8 with 400 instead of silently replacing bytes', async () => {
    const res = await post(Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]));
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/UTF-8/);
  });

  it('refuses lone surrogates with 400 (they would break PostgreSQL jsonb)', async () => {
    for (const body of ['{"name":"\\ud800"}', '{"name":"x","metadata":{"k":"\\udc00x"}}', '{"name":"x","metadata":{"\\ud83d":"v"}}']) {
      const res = await post(body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body.detail).toMatch(/surrogate/);
    }
    // A proper pair (an emoji) is fine.
    expect((await post('{"name":"\\ud83d\\ude00"}')).status).toBe(201);
  });

  it('refuses malformed JSON, prototype keys and non-JSON content types', async () => {
    expect((await post('{"name":')).status).toBe(400);
    expect((await post('{"name":"x","__proto__":{"admin":true}}')).status).toBe(400);
    expect((await post('{"name":"x","constructor":{"prototype":{"admin":true}}}')).status).toBe(400);
    expect((await post('name=x', 'text/plain')).status).toBe(415);
    expect((await post('[1,2]')).status).toBe(422);
    expect((await post('null')).status).toBe(422);
  });

  it('keeps NUL out of every stored string', async () => {
    expect((await post('{"name":"a\\u0000b"}')).status).toBe(422);
    expect((await api.call('POST', '/api/v1/event-type', { body: { name: 'x.y', description: 'a\u0000' } })).status).toBe(422);
  });
});
