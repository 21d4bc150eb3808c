import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type ApiHarness } from '../support/api.js';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api.close();
});

describe('OpenAPI document and reference', () => {
  it('serves an OpenAPI 3.1 document generated from the route schemas, without a token', async () => {
    const res = await api.call('GET', '/api/openapi.json', { token: null });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(res.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const paths = Object.keys(res.body.paths);
    for (const p of [
      '/api/v1/health',
      '/api/v1/app',
      '/api/v1/app/{app_id}',
      '/api/v1/event-type/{event_type_name}',
      '/api/v1/app/{app_id}/endpoint/{endpoint_id}/secret/rotate',
      '/api/v1/app/{app_id}/endpoint/{endpoint_id}/headers',
      '/api/v1/auth/app-portal-access/{app_id}',
      '/api/v1/api-key',
    ]) {
      expect(paths).toContain(p);
    }
    // The same zod schema that validates the body documents it.
    const body = res.body.paths['/api/v1/app/{app_id}/endpoint'].post.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(['url']);
    expect(body.properties.filterTypes).toBeDefined();
    // Health needs no token; the document and the UI are not listed as API operations.
    expect(res.body.paths['/api/v1/health'].get.security).toEqual([]);
    expect(paths.some((p) => p.startsWith('/docs') || p === '/api/openapi.json')).toBe(false);
  });

  it('describes every delivery-policy field of applications and endpoints, in and out', async () => {
    const doc = (await api.call('GET', '/api/openapi.json', { token: null })).body;
    const json = (op: any, status?: string) =>
      (status ? op.responses[status] : op.requestBody).content['application/json'].schema as { properties: Record<string, any> };
    const endpoint = doc.paths['/api/v1/app/{app_id}/endpoint/{endpoint_id}'];
    const application = doc.paths['/api/v1/app/{app_id}'];
    const policy = ['maxInFlight', 'timeoutMs', 'retrySchedule', 'throttleRate', 'rateLimit'];
    const schemas: [string, { properties: Record<string, any> }, string[]][] = [
      ['EndpointIn', json(doc.paths['/api/v1/app/{app_id}/endpoint'].post), [...policy, 'ordering']],
      ['EndpointUpdate', json(endpoint.put), [...policy, 'ordering']],
      ['EndpointPatch', json(endpoint.patch), [...policy, 'ordering']],
      ['EndpointOut', json(endpoint.get, '200'), [...policy, 'ordering', 'breaker', 'paused', 'held', 'effectivePolicy']],
      ['ApplicationIn', json(application.put), policy],
      ['ApplicationPatch', json(application.patch), policy],
      ['ApplicationOut', json(application.get, '200'), [...policy, 'effectivePolicy']],
    ];
    for (const [name, schema, fields] of schemas) {
      for (const f of fields) expect({ name, f, description: typeof schema.properties[f]?.description }).toEqual({ name, f, description: 'string' });
    }
    const out = json(endpoint.get, '200').properties;
    for (const nested of [out.breaker, out.effectivePolicy]) {
      for (const [f, p] of Object.entries(nested.properties as Record<string, { description?: string }>)) expect({ f, d: typeof p.description }).toEqual({ f, d: 'string' });
    }
    expect(out.breaker.properties.state.enum).toEqual(['closed', 'open', 'half-open']);
  });

  it('describes the signing-contract fields, with examples of the reference profiles, and the public-key routes', async () => {
    const doc = (await api.call('GET', '/api/openapi.json', { token: null })).body;
    const json = (op: any, status?: string) =>
      (status ? op.responses[status] : op.requestBody).content['application/json'].schema as { properties: Record<string, any> };
    const endpoint = doc.paths['/api/v1/app/{app_id}/endpoint/{endpoint_id}'];
    const application = doc.paths['/api/v1/app/{app_id}'];
    const eventType = doc.paths['/api/v1/event-type/{event_type_name}'];
    const schemas: [string, { properties: Record<string, any> }, string[]][] = [
      ['EndpointIn', json(doc.paths['/api/v1/app/{app_id}/endpoint'].post), ['signature', 'deliveryHeaders', 'secret']],
      ['EndpointPatch', json(endpoint.patch), ['signature', 'deliveryHeaders', 'secret']],
      ['EndpointOut', json(endpoint.get, '200'), ['signature', 'deliveryHeaders', 'effectiveSignature', 'effectiveDeliveryHeaders']],
      ['ApplicationIn', json(application.put), ['signature', 'deliveryHeaders', 'envelope']],
      ['ApplicationPatch', json(application.patch), ['signature', 'deliveryHeaders', 'envelope']],
      ['ApplicationOut', json(application.get, '200'), ['signature', 'deliveryHeaders', 'envelope']],
      ['EventTypeUpdate', json(eventType.put), ['envelope']],
      ['EventTypePatch', json(eventType.patch), ['envelope']],
      ['EventTypeOut', json(eventType.get, '200'), ['envelope']],
    ];
    for (const [name, schema, fields] of schemas) {
      for (const f of fields) expect({ name, f, description: typeof schema.properties[f]?.description }).toEqual({ name, f, description: 'string' });
    }
    const signature = json(doc.paths['/api/v1/app/{app_id}/endpoint'].post).properties.signature;
    // Both reference styles are spelled out: a hex HMAC of the body, and of {timestamp}.{body} with a hex key.
    expect(signature.description).toContain('"content":"body","encoding":"hex"');
    expect(signature.description).toContain('"content":"timestamp.body","encoding":"hex","key":"hex"');
    const hmac = signature.anyOf[0].oneOf.find((v: any) => v.properties.scheme.enum[0] === 'hmac-sha256');
    for (const [f, p] of Object.entries(hmac.properties as Record<string, { description?: string }>)) expect({ f, d: typeof p.description }).toEqual({ f, d: 'string' });
    expect(hmac.additionalProperties).toBe(false);
    expect(doc.paths['/api/v1/app/{app_id}/endpoint/{endpoint_id}/public-key'].get.responses['200']).toBeDefined();
    expect(doc.paths['/api/v1/public/endpoint/{endpoint_id}/keys'].get.security).toEqual([]);
  });

  it('renders the reference at /docs from local assets only', async () => {
    const page = await api.call('GET', '/docs/', { token: null });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toMatch(/https:|validator\.swagger\.io|upgrade-insecure-requests/);
    const html = String(page.body);
    expect(html).not.toMatch(/src="https?:\/\//);
    const assets = [...html.matchAll(/(?:src|href)="\.?\/?([^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      const res = await api.call('GET', `/docs/${asset.replace(/^\.\//, '')}`, { token: null });
      expect({ asset, status: res.status }).toEqual({ asset, status: 200 });
    }
  });
});
