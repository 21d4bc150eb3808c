/**
 * An endpoint's signing secret and custom headers (Svix v1 paths and shapes).
 *
 * Reading a secret back needs `update` (whoever can change where deliveries go can already redirect
 * them), and HERALD_ALLOW_SECRET_READ=false forbids it for everyone, for operators whose policy is
 * that a secret is shown only when it is created (or set by rotation).
 */
import { HeraldError } from '../../core/errors.js';
import { headerLimitsOf, openHeaders } from '../../core/custom-headers.js';
import { replaceCustomHeaders, revealEndpointSecret, rotateEndpointSecret } from '../../engine/endpoints.js';
import { canReadSecrets, requireApp } from '../auth.js';
import type { Api, ApiDeps } from '../context.js';
import { errorResponses, NoContent } from '../schemas/common.js';
import {
  EndpointHeadersIn,
  EndpointHeadersOut,
  EndpointHeadersPatchIn,
  EndpointParams,
  EndpointSecretOut,
  EndpointSecretRotateIn,
  toHeadersOut,
} from '../schemas/endpoints.js';
import { endpointNotFound, findEndpointView } from './endpoints.js';

const tags = ['Endpoint'];

/** Read and rotate the signing secret. */
function secretRoutes(app: Api, deps: ApiDeps): void {
  const { herald } = deps;

  app.get('/app/:app_id/endpoint/:endpoint_id/secret', {
    config: { permission: 'update' },
    schema: {
      operationId: 'v1.endpoint.get-secret',
      tags,
      summary: "Get the endpoint's signing secret",
      description: 'Needs the update permission; refused for everyone when the operator set HERALD_ALLOW_SECRET_READ=false.',
      params: EndpointParams,
      response: { 200: EndpointSecretOut, ...errorResponses(404) },
    },
  }, async (req) => {
    const application = await requireApp(req, deps, req.params.app_id, 'update');
    if (!canReadSecrets(req.principal, herald.config.HERALD_ALLOW_SECRET_READ)) {
      throw new HeraldError('forbidden', 'this server does not allow reading endpoint secrets after creation (HERALD_ALLOW_SECRET_READ=false); rotate the secret to set a new one');
    }
    const ep = await findEndpointView(herald, application.id, req.params.endpoint_id);
    return { key: await revealEndpointSecret(herald.pool, herald.secretBox, application.id, ep.id, herald.clock.now()) };
  });

  app.post('/app/:app_id/endpoint/:endpoint_id/secret/rotate', {
    config: { permission: 'update', idempotent: true },
    schema: {
      operationId: 'v1.endpoint.rotate-secret',
      tags,
      summary: "Rotate the endpoint's signing secret",
      description:
        "The old secret keeps signing deliveries for gracePeriodSeconds (default 24 h): a second signature (standard, ed25519), or the one hmac-sha256 signature until then; 0 stops it at once, e.g. after a leak. Without `key`, the new secret is generated to fit the endpoint's signature profile (an Ed25519 pair for ed25519; its public key joins GET …/public-key). `key` sets a given secret, which must fit the profile.",
      params: EndpointParams,
      body: EndpointSecretRotateIn.optional(),
      response: { 204: NoContent, ...errorResponses(404, 422) },
    },
  }, async (req, reply) => {
    const application = await requireApp(req, deps, req.params.app_id, 'update');
    const ep = await findEndpointView(herald, application.id, req.params.endpoint_id);
    const body = req.body ?? {};
    await rotateEndpointSecret(herald.pool, herald.secretBox, application.id, ep.id, {
      key: body.key ?? null,
      graceMs: body.gracePeriodSeconds != null ? body.gracePeriodSeconds * 1000 : undefined,
      now: herald.clock.now(),
    });
    return reply.code(204).send();
  });
}

/** Get, replace and patch custom headers. */
function headerRoutes(app: Api, deps: ApiDeps): void {
  const { herald } = deps;

  app.get('/app/:app_id/endpoint/:endpoint_id/headers', {
    config: { permission: 'read' },
    schema: {
      operationId: 'v1.endpoint.get-headers',
      tags,
      summary: "Get the endpoint's custom headers",
      description: 'Values of credential-like headers (authorization, cookie, *token*, *secret*, *key*…) are not returned; their names are in `sensitive`.',
      params: EndpointParams,
      response: { 200: EndpointHeadersOut, ...errorResponses(404) },
    },
  }, async (req) => {
    const application = await requireApp(req, deps, req.params.app_id, 'read');
    const ep = await findEndpointView(herald, application.id, req.params.endpoint_id);
    return toHeadersOut(openHeaders(herald.secretBox, ep.id, ep.headers));
  });

  app.put('/app/:app_id/endpoint/:endpoint_id/headers', {
    config: { permission: 'update' },
    schema: { operationId: 'v1.endpoint.update-headers', tags, summary: "Replace the endpoint's custom headers", params: EndpointParams, body: EndpointHeadersIn, response: { 204: NoContent, ...errorResponses(404, 422) } },
  }, async (req, reply) => {
    const application = await requireApp(req, deps, req.params.app_id, 'update');
    const ep = await findEndpointView(herald, application.id, req.params.endpoint_id);
    const ctx = { now: herald.clock.now(), headerLimits: headerLimitsOf(herald.config) };
    if (!(await replaceCustomHeaders(herald.pool, herald.secretBox, application.id, ep.id, req.body.headers, ctx))) throw endpointNotFound(ep.id);
    return reply.code(204).send();
  });

  app.patch('/app/:app_id/endpoint/:endpoint_id/headers', {
    config: { permission: 'update' },
    schema: {
      operationId: 'v1.endpoint.patch-headers',
      tags,
      summary: "Change some of the endpoint's custom headers",
      description: 'Headers given are set; a null value or a name in deleteHeaders removes that header. Names are case-insensitive.',
      params: EndpointParams,
      body: EndpointHeadersPatchIn,
      response: { 204: NoContent, ...errorResponses(404, 422) },
    },
  }, async (req, reply) => {
    const application = await requireApp(req, deps, req.params.app_id, 'update');
    const ep = await findEndpointView(herald, application.id, req.params.endpoint_id);
    const next: Record<string, string> = openHeaders(herald.secretBox, ep.id, ep.headers);
    const drop = (name: string) => delete next[name.toLowerCase()];
    for (const name of req.body.deleteHeaders ?? []) drop(name);
    const set: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.body.headers)) {
      if (value === null) drop(name);
      else set[name] = value;
    }
    // New headers keep the caller's spelling so a validation error names its field; stored names are
    // lower-cased, and the caller's value wins over a stored one that differs only in case.
    const ctx = { now: herald.clock.now(), headerLimits: headerLimitsOf(herald.config) };
    await replaceCustomHeaders(herald.pool, herald.secretBox, application.id, ep.id, { ...next, ...set }, ctx);
    return reply.code(204).send();
  });
}

/** Registers the secret and custom header routes. */
export default async function endpointSecretRoutes(app: Api, deps: ApiDeps): Promise<void> {
  secretRoutes(app, deps);
  headerRoutes(app, deps);
}
