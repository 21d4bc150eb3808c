/**
 * The OpenAPI 3.1 document at /api/openapi.json and the rendered reference at /docs. Both come from the
 * zod schemas the routes validate with (jsonSchemaTransform), so the document cannot drift from the
 * code. Swagger UI's assets are served from node_modules by @fastify/swagger-ui, with a CSP that allows
 * this origin only: the reference works offline and loads nothing from other hosts.
 *
 * Conventions every route follows, so clients in any language can be generated from the document
 * (docs/sdks.md) and the official Svix SDKs keep working:
 * - `schema.operationId` is `v1.<resource>.<action>`: Svix's own id where Svix has the operation
 *   (`v1.endpoint.create`, `v1.message-attempt.list-by-endpoint`), the same style for Herald's own
 *   (`v1.message.create-batch`). Generators turn it into method names, so it never changes once shipped.
 * - Every request and response body is a zod schema registered with an id, `.meta({ id: 'EndpointOut' })`
 *   on its definition in src/api/schemas/ (Svix's name where Svix has one: `EndpointIn`, `EndpointOut`,
 *   `MessageIn`); lists use `listResponse(Item)` (`ListResponse_EndpointOut_`); errors use
 *   `errorResponses(...)` (`HTTPValidationError` for 422, `HttpErrorOut` for the rest). Query and path
 *   parameters stay inline. test/api/openapi.test.ts fails on an unnamed body or a missing operationId,
 *   and `npm run generate:api` rewrites the typed client (src/api-client/schema.ts) from the document.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HERALD_VERSION } from '../version.js';
import type { Api } from './context.js';

/** Tags group the reference's operations; names follow Svix's sections. */
const TAGS = [
  { name: 'Health', description: 'Liveness and database reachability; no token needed.' },
  { name: 'Application', description: 'Tenants: one per customer of your platform.' },
  { name: 'Event Type', description: 'The catalogue of event types endpoints can subscribe to.' },
  { name: 'Endpoint', description: "A customer's receiving URL, its filters, secret and custom headers." },
  { name: 'Message', description: 'Published events.' },
  { name: 'Message Attempt', description: 'The delivery log.' },
  { name: 'Background Task', description: 'Long operations (recover, replays, usage counts): poll them until finished.' },
  { name: 'Statistics', description: "Attempt statistics per application, deliveries per application, and (Herald) the delivery queue's health for operators." },
  { name: 'Authentication', description: 'Who am I, customer-portal access, and Herald API keys.' },
  { name: 'Operational Webhook', description: "Herald's own events (endpoints disabled, messages failing, recoveries) for the operator's systems, and the list of them." },
];

/**
 * Content-Security-Policy of the reference: this origin only. The plugin's default also allows any
 * https: font and style host and validator.swagger.io, and upgrades requests to https (which breaks the
 * page on a plain-http LAN install).
 */
const DOCS_CSP = [
  "default-src 'self'",
  "base-uri 'self'",
  "connect-src 'self'",
  "font-src 'self' data:",
  "frame-ancestors 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self'",
].join('; ');

/** Path of the OpenAPI document. */
export const OPENAPI_PATH = '/api/openapi.json';
/** Path of the rendered API reference. */
export const DOCS_PATH = '/docs';

export async function registerOpenApi(app: Api): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Herald API',
        version: HERALD_VERSION,
        description:
          'Webhook delivery, compatible with the Svix v1 API: point an official Svix client at Herald with a Herald token. ' +
          'Herald-only features are extra fields and extra routes. Errors are `{ code, detail }`: `detail` is a list of bad fields for 422 (HTTPValidationError), a sentence otherwise (HttpErrorOut).',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key (hk_…), portal token (hp_…) or the operator token.' } } },
      security: [{ bearer: [] }],
      tags: TAGS,
    },
    transform: (route) => {
      assertUniqueIds(route.schema as Record<string, unknown> | undefined, route.url);
      return routeTransform(route);
    },
    transformObject: (doc) => tidyComponents(jsonSchemaTransformObject(doc)),
  });
  await app.register(swaggerUi, {
    routePrefix: DOCS_PATH,
    staticCSP: DOCS_CSP,
    uiConfig: { deepLinking: true, docExpansion: 'list', defaultModelsExpandDepth: 0 },
  });
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
}

/** Every route is documented unless its schema says `hide: true` (the document and UI routes do). */
const routeTransform = createJsonSchemaTransform({ skipList: [] });

/** The parts of an OpenAPI document this file reads. */
type OpenApiDocument = { paths?: unknown; components?: { schemas?: Record<string, unknown> } };

/**
 * Refuses two different schemas under one id: zod's registry keeps the last one silently, and the
 * document would then describe a body with the wrong schema.
 */
function assertUniqueIds(schema: Record<string, unknown> | undefined, url: string): void {
  const bodies = [schema?.body, ...Object.values((schema?.response ?? {}) as Record<string, unknown>)];
  for (const body of bodies) {
    if (!(body instanceof z.ZodType)) continue;
    const id = z.globalRegistry.get(body)?.id;
    if (id && z.globalRegistry._idmap.get(id) !== body) throw new Error(`${url}: two different schemas are registered as "${id}"`);
  }
}

const REF = '#/components/schemas/';
/** The suffix fastify-type-provider-zod gives the request-side copy of every registered schema. */
const INPUT_SUFFIX = 'Input';

/**
 * Components as Svix names them. The zod transform emits every registered schema twice, as `X` (the
 * response side) and `XInput` (the request side, where defaulted fields are optional), and points
 * request bodies at `XInput`. Here `XInput` becomes `X` when nothing reachable uses the response side
 * or both sides are the same, and components no operation reaches are dropped.
 */
export function tidyComponents<D extends OpenApiDocument>(doc: D): D {
  let text = JSON.stringify(doc);
  for (;;) {
    const current = JSON.parse(text) as OpenApiDocument;
    const schemas = current.components?.schemas ?? {};
    const used = reachable(current);
    const merge = [...used].find((name) => {
      if (!name.endsWith(INPUT_SUFFIX)) return false;
      const base = name.slice(0, -INPUT_SUFFIX.length);
      return !used.has(base) || JSON.stringify(schemas[base]) === JSON.stringify(schemas[name]);
    });
    if (merge === undefined) break;
    const base = merge.slice(0, -INPUT_SUFFIX.length);
    schemas[base] = schemas[merge];
    delete schemas[merge];
    text = JSON.stringify(current).replaceAll(`"${REF}${merge}"`, `"${REF}${base}"`);
  }
  const tidy = JSON.parse(text) as D;
  const used = reachable(tidy);
  const schemas = tidy.components?.schemas ?? {};
  tidy.components = {
    ...tidy.components,
    schemas: Object.fromEntries(Object.keys(schemas).sort().filter((n) => used.has(n)).map((n) => [n, schemas[n]])),
  };
  return tidy;
}

/** Names of the components the operations use, directly or through other components. */
function reachable(doc: OpenApiDocument): Set<string> {
  const schemas = doc.components?.schemas ?? {};
  const seen = new Set<string>();
  const refsOf = (value: unknown) => [...JSON.stringify(value ?? null).matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
  const queue = refsOf(doc.paths);
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    queue.push(...refsOf(schemas[name]));
  }
  return seen;
}
