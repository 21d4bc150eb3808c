import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type ApiHarness } from '../support/api.js';

let api: ApiHarness;
let doc: any;
beforeAll(async () => {
  api = await startApi();
  doc = (await api.call('GET', '/api/openapi.json', { token: null })).body;
});
afterAll(async () => {
  await api.close();
});

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every operation of the document as [label, operation]. */
function operations(d: any): [string, any][] {
  return Object.entries(d.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, op]): [string, any] => [`${method.toUpperCase()} ${path}`, op]),
  );
}

/** A component schema by `$ref` (or the schema itself when it is not a reference). */
function resolve(d: any, schema: any): any {
  return schema?.$ref ? d.components.schemas[String(schema.$ref).replace('#/components/schemas/', '')] : schema;
}

/** A property's description, on the property or on the component it refers to. */
function descriptionOf(d: any, property: any): string | undefined {
  return property?.description ?? resolve(d, property)?.description;
}

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
    const body = resolve(res.body, res.body.paths['/api/v1/app/{app_id}/endpoint'].post.requestBody.content['application/json'].schema);
    expect(body.required).toEqual(['url']);
    expect(body.properties.filterTypes).toBeDefined();
    // Health needs no token; the document and the UI are not listed as API operations.
    expect(res.body.paths['/api/v1/health'].get.security).toEqual([]);
    expect(paths.some((p) => p.startsWith('/docs') || p === '/api/openapi.json')).toBe(false);
  });

  it('describes every delivery-policy field of applications and endpoints, in and out', async () => {
    const json = (op: any, status?: string) =>
      resolve(doc, (status ? op.responses[status] : op.requestBody).content['application/json'].schema) as { properties: Record<string, any> };
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
      for (const f of fields) expect({ name, f, description: typeof descriptionOf(doc, schema.properties[f]) }).toEqual({ name, f, description: 'string' });
    }
    const out = json(endpoint.get, '200').properties;
    for (const nested of [resolve(doc, out.breaker), resolve(doc, out.effectivePolicy)]) {
      for (const [f, p] of Object.entries(nested.properties as Record<string, { description?: string }>)) expect({ f, d: typeof p.description }).toEqual({ f, d: 'string' });
    }
    expect(resolve(doc, out.breaker).properties.state.enum).toEqual(['closed', 'open', 'half-open']);
  });

  it('describes the signing-contract fields, with examples of the reference profiles, and the public-key routes', async () => {
    const json = (op: any, status?: string) =>
      resolve(doc, (status ? op.responses[status] : op.requestBody).content['application/json'].schema) as { properties: Record<string, any> };
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
      for (const f of fields) expect({ name, f, description: typeof descriptionOf(doc, schema.properties[f]) }).toEqual({ name, f, description: 'string' });
    }
    const signature = json(doc.paths['/api/v1/app/{app_id}/endpoint'].post).properties.signature;
    // Both reference styles are spelled out: a hex HMAC of the body, and of {timestamp}.{body} with a hex key.
    expect(signature.description).toContain('"content":"body","encoding":"hex"');
    expect(signature.description).toContain('"content":"timestamp.body","encoding":"hex","key":"hex"');
    const hmac = resolve(doc, signature.anyOf[0]).oneOf.find((v: any) => (v.properties.scheme.const ?? v.properties.scheme.enum?.[0]) === 'hmac-sha256');
    for (const [f, p] of Object.entries(hmac.properties as Record<string, { description?: string }>)) expect({ f, d: typeof p.description }).toEqual({ f, d: 'string' });
    expect(hmac.additionalProperties).toBe(false);
    expect(doc.paths['/api/v1/app/{app_id}/endpoint/{endpoint_id}/public-key'].get.responses['200']).toBeDefined();
    expect(doc.paths['/api/v1/public/endpoint/{endpoint_id}/keys'].get.security).toEqual([]);
  });

  it('is a valid OpenAPI document', async () => {
    // validate() dereferences in place: give it a copy.
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeDefined();
  });

  it('names every operation and every body, as Svix does, so clients can be generated from it', () => {
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThan(40);
    const missing = ops.filter(([, op]) => typeof op.operationId !== 'string' || !/^v1(\.[a-z-]+){2,3}$/.test(op.operationId));
    expect(missing.map(([label]) => label)).toEqual([]);
    const ids = ops.map(([, op]) => op.operationId as string);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    // A body is a named component (or a list of them); a non-JSON body (CSV) is a string.
    const named = (schema: any) => typeof schema?.$ref === 'string' || (schema?.type === 'array' && typeof schema.items?.$ref === 'string');
    const inline: string[] = [];
    for (const [label, op] of ops) {
      const bodies: [string, any][] = [['request', op.requestBody], ...Object.entries(op.responses ?? {}).map(([status, r]): [string, any] => [status, r])];
      for (const [where, body] of bodies) {
        for (const [type, media] of Object.entries((body?.content ?? {}) as Record<string, { schema: any }>)) {
          const ok = type === 'application/json' ? named(media.schema) : media.schema?.type === 'string';
          if (!ok) inline.push(`${label} ${where} ${type}`);
        }
      }
    }
    expect(inline).toEqual([]);
    for (const [name, schema] of Object.entries(doc.components.schemas as Record<string, any>)) {
      // Only one side of each schema is published under its name (no zod "…Input" twins left over).
      expect({ name, twin: name.endsWith('Input') && doc.components.schemas[name.slice(0, -5)] !== undefined }).toEqual({ name, twin: false });
      expect(schema).toBeTypeOf('object');
    }
  });

  it("uses Svix's operation ids and schema names where Svix has the operation", () => {
    const byId = Object.fromEntries(operations(doc).map(([label, op]) => [op.operationId, { label, op }]));
    const json = (op: any, status?: string) => (status ? op.responses[status] : op.requestBody).content['application/json'].schema;
    const expected: [string, string, string | null, string][] = [
      ['v1.application.list', 'GET /api/v1/app', null, 'ListResponse_ApplicationOut_'],
      ['v1.application.create', 'POST /api/v1/app', 'ApplicationIn', 'ApplicationOut'],
      ['v1.application.patch', 'PATCH /api/v1/app/{app_id}', 'ApplicationPatch', 'ApplicationOut'],
      ['v1.endpoint.create', 'POST /api/v1/app/{app_id}/endpoint', 'EndpointIn', 'EndpointCreatedOut'],
      ['v1.endpoint.update', 'PUT /api/v1/app/{app_id}/endpoint/{endpoint_id}', 'EndpointUpdate', 'EndpointOut'],
      ['v1.endpoint.get', 'GET /api/v1/app/{app_id}/endpoint/{endpoint_id}', null, 'EndpointOut'],
      ['v1.endpoint.recover', 'POST /api/v1/app/{app_id}/endpoint/{endpoint_id}/recover', 'RecoverIn', 'RecoverOut'],
      ['v1.event-type.create', 'POST /api/v1/event-type', 'EventTypeIn', 'EventTypeOut'],
      ['v1.message.create', 'POST /api/v1/app/{app_id}/msg', 'MessageIn', 'MessageOut'],
      ['v1.message.create-batch', 'POST /api/v1/app/{app_id}/msg/batch', 'MessageBatchIn', 'MessageBatchOut'],
      ['v1.message-attempt.list-by-endpoint', 'GET /api/v1/app/{app_id}/attempt/endpoint/{endpoint_id}', null, 'ListResponse_MessageAttemptOut_'],
      ['v1.message-attempt.list-attempted-messages', 'GET /api/v1/app/{app_id}/endpoint/{endpoint_id}/msg', null, 'ListResponse_EndpointMessageOut_'],
      ['v1.authentication.app-portal-access', 'POST /api/v1/auth/app-portal-access/{app_id}', 'AppPortalAccessIn', 'AppPortalAccessOut'],
    ];
    for (const [id, label, input, output] of expected) {
      const found = byId[id];
      expect({ id, label: found?.label }).toEqual({ id, label });
      const ok = Object.keys(found!.op.responses).find((s) => /^2/.test(s) && found!.op.responses[s].content)!;
      expect({ id, output: json(found!.op, ok).$ref }).toEqual({ id, output: `#/components/schemas/${output}` });
      if (input) expect({ id, input: json(found!.op).$ref }).toEqual({ id, input: `#/components/schemas/${input}` });
    }
    // Errors: 422 is HTTPValidationError (detail is always a list), every other 4xx HttpErrorOut.
    for (const [label, op] of operations(doc)) {
      for (const [status, r] of Object.entries(op.responses as Record<string, any>)) {
        if (!/^4/.test(status)) continue;
        const want = status === '422' ? 'HTTPValidationError' : 'HttpErrorOut';
        expect({ label, status, ref: r.content?.['application/json']?.schema?.$ref }).toEqual({ label, status, ref: `#/components/schemas/${want}` });
      }
    }
    expect(doc.components.schemas.HTTPValidationError.properties.detail).toMatchObject({ type: 'array', items: { $ref: '#/components/schemas/ValidationError' } });
    expect(doc.components.schemas.HttpErrorOut.properties.detail).toMatchObject({ type: 'string' });
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
