/**
 * `X-Content-Type-Options: nosniff` and `X-Request-Id` on every response, and `Cache-Control:
 * no-store` on every /api/v1 response (secret reads, API key and portal token creation among them),
 * whichever part of Herald answers, errors included (issue 13).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type ApiHarness } from '../support/api.js';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api.close();
});

describe('response headers', () => {
  it('marks every /api/v1 answer no-store, secrets and errors included', async () => {
    const app = await api.makeApp();
    const ep = await api.call('POST', `/api/v1/app/${app.id}/endpoint`, { body: { url: 'http://127.0.0.1:9/hook' } });
    const answers = [
      ep,
      await api.call('GET', `/api/v1/app/${app.id}/endpoint/${ep.body.id}/secret`),
      await api.call('POST', '/api/v1/api-key', { body: { name: 'k', permissions: ['read'], appId: null } }),
      await api.call('POST', `/api/v1/auth/app-portal-access/${app.id}`, { body: {} }),
      await api.call('GET', '/api/v1/app'),
      await api.call('GET', '/api/v1/app', { token: null }), // 401 from the token check
      await api.call('GET', '/api/v1/app?iterator=%00'), // 422
      await api.call('GET', '/api/v1/nothing-here'), // 404
      await api.call('POST', '/api/v1/app', { body: '{not json', headers: { 'content-type': 'application/json' } }), // 400
      await api.call('GET', '/api/v1/health', { token: null }),
    ];
    expect(answers.map((a) => [a.status, a.headers['cache-control'], a.headers['x-content-type-options']])).toEqual(
      [201, 200, 201, 200, 200, 401, 422, 404, 400, 200].map((s) => [s, 'no-store', 'nosniff']),
    );
  });

  it('sends nosniff and a request id everywhere else: OpenAPI document, reference, dashboard, metrics, 404s', async () => {
    for (const path of ['/api/openapi.json', '/docs', '/', '/portal', '/metrics', '/no/such/page']) {
      const res = await api.call('GET', path, { token: null });
      expect([path, res.headers['x-content-type-options']]).toEqual([path, 'nosniff']);
      expect(res.headers['x-request-id']).toMatch(/^req_[0-9a-z]{10}$/);
    }
    // Outside /api/v1 nothing secret is answered: the document may be cached.
    expect((await api.call('GET', '/api/openapi.json', { token: null })).headers['cache-control']).not.toBe('no-store');
  });
});
