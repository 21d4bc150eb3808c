/**
 * The OpenAPI 3.1 document at /api/openapi.json and the rendered reference at /docs. Both come from the
 * zod schemas the routes validate with (jsonSchemaTransform), so the document cannot drift from the
 * code. Swagger UI's assets are served from node_modules by @fastify/swagger-ui, with a CSP that allows
 * this origin only: the reference works offline and loads nothing from other hosts.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
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
  { name: 'Authentication', description: 'Who am I, customer-portal access, and Herald API keys.' },
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
          'Herald-only features are extra fields and extra routes. Errors are `{ code, detail }`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key (hk_…), portal token (hp_…) or the operator token.' } } },
      security: [{ bearer: [] }],
      tags: TAGS,
    },
    // Every route is documented unless its schema says `hide: true` (the document and UI routes do).
    transform: createJsonSchemaTransform({ skipList: [] }),
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, {
    routePrefix: DOCS_PATH,
    staticCSP: DOCS_CSP,
    uiConfig: { deepLinking: true, docExpansion: 'list', defaultModelsExpandDepth: 0 },
  });
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
}
