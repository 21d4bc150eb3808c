/**
 * Operational webhooks (Svix v1 paths and shapes): the operator's own systems subscribe to Herald's
 * events (an endpoint disabled, a message failing or failed for good, a recovery, endpoint changes).
 * An operational webhook endpoint is an endpoint of Herald's own application, so its deliveries are
 * signed (Standard Webhooks, whsec_ secrets: the official `Webhook` classes verify them), retried,
 * isolated and logged like every other. Only the operator token and global API keys reach these
 * routes: an application's keys and portal tokens concern one customer, these concern every one.
 *
 * Also `GET /api/v1/operational-event` (Herald extension): the events themselves, newest first,
 * for the dashboard's Alerts page and for systems that poll instead of subscribing. A key scoped to
 * one application, or a portal token, sees its own application's events only.
 */
import type { z } from 'zod';
import { HeraldError } from '../../core/errors.js';
import { OPERATIONAL_APP_ID } from '../../core/operational.js';
import {
  createEndpoint,
  removeEndpoint,
  replaceCustomHeaders,
  revealEndpointSecret,
  rotateEndpointSecret,
  updateEndpointSettings,
} from '../../engine/endpoints.js';
import { headerLimitsOf, openHeaders } from '../../core/custom-headers.js';
import type { Herald } from '../../engine/herald.js';
import { getApplication } from '../../store/applications.js';
import { getEndpoint, listEndpointViews, type EndpointInput, type EndpointRow } from '../../store/endpoints.js';
import { listOperationalEventsPage } from '../../store/operational-events.js';
import { toPage } from '../../store/paging.js';
import { canReadSecrets, requireGlobal } from '../auth.js';
import type { Api, ApiDeps } from '../context.js';
import { listQuery, listResponse } from '../pagination.js';
import { errorResponses, NoContent } from '../schemas/common.js';
import { toHeadersOut } from '../schemas/endpoints.js';
import { policyBoundsOf } from '../schemas/policy.js';
import {
  OperationalEndpointParams,
  OperationalEventOut,
  OperationalEventQuery,
  OperationalWebhookEndpointHeadersIn,
  OperationalWebhookEndpointHeadersOut,
  OperationalWebhookEndpointIn,
  OperationalWebhookEndpointOut,
  OperationalWebhookEndpointSecretIn,
  OperationalWebhookEndpointSecretOut,
  OperationalWebhookEndpointUpsertIn,
  toOperationalEndpointOut,
  toOperationalEventOut,
} from '../schemas/operational.js';

const tags = ['Operational Webhook'];

const notFound = (idOrUid: string) => new HeraldError('not_found', `operational webhook endpoint ${idOrUid} not found`);

async function findOperationalEndpoint(herald: Herald, idOrUid: string): Promise<EndpointRow> {
  const ep = await getEndpoint(herald.pool, OPERATIONAL_APP_ID, idOrUid);
  if (!ep) throw notFound(idOrUid);
  return ep;
}

/** One of two Svix names for one setting (the newer and the one the official clients still send); different values are a 422. */
function aliased<T>(newer: T | null | undefined, older: T | null | undefined, names: [string, string]): T | null | undefined {
  if (newer != null && older != null && JSON.stringify(newer) !== JSON.stringify(older)) {
    throw new HeraldError('validation', `${names[0]} and ${names[1]} are two names of one setting; give one, or the same value in both`, {
      fields: [{ path: names[1], message: `differs from ${names[0]}` }],
    });
  }
  return newer ?? older;
}

/** Settings of a create or upsert body; [] and null both mean every operational event. */
function settingsOf(body: z.output<typeof OperationalWebhookEndpointUpsertIn>): EndpointInput {
  const types = aliased(body.eventTypes, body.filterTypes, ['eventTypes', 'filterTypes']);
  return {
    url: body.url,
    description: body.description,
    uid: body.uid ?? null,
    disabled: body.disabled,
    filterTypes: types?.length ? [...new Set(types)] : null,
    channels: null,
    metadata: body.metadata ?? {},
    rateLimit: aliased(body.throttleRate, body.rateLimit, ['throttleRate', 'rateLimit']) ?? null,
    // Custom headers are set through …/headers only: absent keeps the stored ones (none on create).
    maxInFlight: null,
    timeoutMs: null,
    retryDelays: null,
    ordering: 'parallel',
    signature: null,
    deliveryHeaders: null,
  };
}

const writeContext = (herald: Herald) => ({ now: herald.clock.now(), policy: herald.urlPolicy, bounds: policyBoundsOf(herald.config) });

function endpointRoutes(app: Api, deps: ApiDeps): void {
  const { herald } = deps;

  app.get('/operational-webhook/endpoint', {
    config: { permission: 'read' },
    schema: {
      operationId: 'v1.operational-webhook.endpoint.list',
      tags,
      summary: 'List operational webhook endpoints',
      querystring: listQuery('ep'),
      response: { 200: listResponse(OperationalWebhookEndpointOut), ...errorResponses(403, 422) },
    },
  }, async (req) => {
    requireGlobal(req, 'read');
    const { rows, ks } = await listEndpointViews(herald.pool, OPERATIONAL_APP_ID, req.query);
    return toPage(rows, ks, req.query.limit, (r) => r.id, toOperationalEndpointOut);
  });

  app.post('/operational-webhook/endpoint', {
    config: { permission: 'create', idempotent: true },
    schema: {
      operationId: 'v1.operational-webhook.endpoint.create',
      tags,
      summary: 'Create an operational webhook endpoint',
      body: OperationalWebhookEndpointIn,
      response: { 201: OperationalWebhookEndpointOut, ...errorResponses(403, 409, 422) },
    },
  }, async (req, reply) => {
    requireGlobal(req, 'create');
    const created = await createEndpoint(herald.pool, herald.secretBox, OPERATIONAL_APP_ID, { ...settingsOf(req.body), secret: req.body.secret ?? null }, writeContext(herald));
    return reply.code(201).send(toOperationalEndpointOut(created.endpoint));
  });

  app.get('/operational-webhook/endpoint/:endpoint_id', {
    config: { permission: 'read' },
    schema: {
      operationId: 'v1.operational-webhook.endpoint.get',
      tags,
      summary: 'Get an operational webhook endpoint (by id or uid)',
      params: OperationalEndpointParams,
      response: { 200: OperationalWebhookEndpointOut, ...errorResponses(403, 404) },
    },
  }, async (req) => {
    requireGlobal(req, 'read');
    return toOperationalEndpointOut(await findOperationalEndpoint(herald, req.params.endpoint_id));
  });

  app.put('/operational-webhook/endpoint/:endpoint_id', {
    config: { permission: 'update' },
    schema: {
      operationId: 'v1.operational-webhook.endpoint.upsert',
      tags,
      summary: 'Update an operational webhook endpoint, creating it (with the path as uid) when missing',
      params: OperationalEndpointParams,
      body: OperationalWebhookEndpointUpsertIn,
      response: { 200: OperationalWebhookEndpointOut, 201: OperationalWebhookEndpointOut, ...errorResponses(403, 404, 409, 422) },
    },
  }, async (req, reply) => {
    requireGlobal(req, 'update');
    const current = await getEndpoint(herald.pool, OPERATIONAL_APP_ID, req.params.endpoint_id);
    if (current) {
      const row = await updateEndpointSettings(herald.pool, herald.secretBox, OPERATIONAL_APP_ID, current.id, settingsOf(req.body), writeContext(herald));
      if (!row) throw notFound(req.params.endpoint_id);
      return reply.code(200).send(toOperationalEndpointOut(row));
    }
    requireGlobal(req, 'create');
    const input = settingsOf({ ...req.body, uid: req.body.uid ?? req.params.endpoint_id });
    const created = await createEndpoint(herald.pool, herald.secretBox, OPERATIONAL_APP_ID, { ...input, secret: null }, writeContext(herald));
    return reply.code(201).send(toOperationalEndpointOut(created.endpoint));
  });

  app.delete('/operational-webhook/endpoint/:endpoint_id', {
    config: { permission: 'delete' },
    schema: {
      operationId: 'v1.operational-webhook.endpoint.delete',
      tags,
      summary: 'Delete an operational webhook endpoint',
      params: OperationalEndpointParams,
      response: { 204: NoContent, ...errorResponses(403, 404) },
    },
  }, async (req, reply) => {
    requireGlobal(req, 'delete');
    const ep = await findOperationalEndpoint(herald, req.params.endpoint_id);
    await removeEndpoint(herald.pool, OPERATIONAL_APP_ID, ep, herald.clock.now());
    return reply.code(204).send();
  });
}

function secretAndHeaderRoutes(app: Api, deps: ApiDeps): void {
  const { herald } = deps;

  app.get('/operational-webhook/endpoint/:endpoint_id/secret', {
    config: { permission: 'update' },
    schema: {
      operationId: 'v1.operational-webhook.endpoint.get-secret',
      tags,
      summary: "Get the operational webhook endpoint's signing secret",
      params: OperationalEndpointParams,
      response: { 200: OperationalWebhookEndpointSecretOut, ...errorResponses(403, 404) },
    },
  }, async (req) => {
    requireGlobal(req, 'update');
    if (!canReadSecrets(req.principal, herald.config.HERALD_ALLOW_SECRET_READ)) {
      throw new HeraldError('forbidden', 'this server does not allow reading endpoint secrets after creation (HERALD_ALLOW_SECRET_READ=false); rotate the secret to set a new one');
    }
    const ep = await findOperationalEndpoint(herald, req.params.endpoint_id);
    return { key: await revealEndpointSecret(herald.pool, herald.secretBox, OPERATIONAL_APP_ID, ep.id, herald.clock.now()) };
  });

  app.post('/operational-webhook/endpoint/:endpoint_id/secret/rotate', {
    config: { permission: 'update', idempotent: true },
    schema: {
      operationId: 'v1.operational-webhook.endpoint.rotate-secret',
      tags,
      summary: "Rotate the operational webhook endpoint's signing secret",
      params: OperationalEndpointParams,
      body: OperationalWebhookEndpointSecretIn.optional(),
      response: { 204: NoContent, ...errorResponses(403, 404, 422) },
    },
  }, async (req, reply) => {
    requireGlobal(req, 'update');
    const ep = await findOperationalEndpoint(herald, req.params.endpoint_id);
    const body = req.body ?? {};
    await rotateEndpointSecret(herald.pool, herald.secretBox, OPERATIONAL_APP_ID, ep.id, {
      key: body.key ?? null,
      graceMs: body.gracePeriodSeconds != null ? body.gracePeriodSeconds * 1000 : undefined,
      now: herald.clock.now(),
    });
    return reply.code(204).send();
  });

  app.get('/operational-webhook/endpoint/:endpoint_id/headers', {
    config: { permission: 'read' },
    schema: {
      operationId: 'v1.operational-webhook.endpoint.get-headers',
      tags,
      summary: "Get the operational webhook endpoint's custom headers",
      params: OperationalEndpointParams,
      response: { 200: OperationalWebhookEndpointHeadersOut, ...errorResponses(403, 404) },
    },
  }, async (req) => {
    requireGlobal(req, 'read');
    const ep = await findOperationalEndpoint(herald, req.params.endpoint_id);
    return toHeadersOut(openHeaders(herald.secretBox, ep.id, ep.headers));
  });

  app.put('/operational-webhook/endpoint/:endpoint_id/headers', {
    config: { permission: 'update' },
    schema: {
      operationId: 'v1.operational-webhook.endpoint.set-headers',
      tags,
      summary: "Replace the operational webhook endpoint's custom headers",
      params: OperationalEndpointParams,
      body: OperationalWebhookEndpointHeadersIn,
      response: { 204: NoContent, ...errorResponses(403, 404, 422) },
    },
  }, async (req, reply) => {
    requireGlobal(req, 'update');
    const ep = await findOperationalEndpoint(herald, req.params.endpoint_id);
    const ctx = { now: herald.clock.now(), headerLimits: headerLimitsOf(herald.config) };
    if (!(await replaceCustomHeaders(herald.pool, herald.secretBox, OPERATIONAL_APP_ID, ep.id, req.body.headers, ctx))) throw notFound(ep.id);
    return reply.code(204).send();
  });
}

function eventRoutes(app: Api, deps: ApiDeps): void {
  const { herald } = deps;

  app.get('/operational-event', {
    config: { permission: 'read' },
    schema: {
      operationId: 'v1.operational-event.list',
      tags,
      summary: 'List operational events (Herald): endpoints disabled, messages failing or failed, recoveries, endpoint changes',
      description: 'Newest first by default. A key scoped to one application, or a portal token, sees its own application only.',
      querystring: OperationalEventQuery,
      response: { 200: listResponse(OperationalEventOut), ...errorResponses(403, 404, 422) },
    },
  }, async (req) => {
    const q = req.query;
    const scope = req.principal.appId;
    if (!req.principal.permissions.has('read')) throw new HeraldError('forbidden', 'this token lacks the "read" permission');
    let appId: string | undefined;
    if (q.appId !== undefined) {
      const found = await getApplication(herald.pool, q.appId);
      if (!found || found.id === OPERATIONAL_APP_ID || (scope !== null && found.id !== scope)) {
        throw new HeraldError('not_found', `application ${q.appId} not found`);
      }
      appId = found.id;
    }
    const filter = {
      types: q.type === undefined ? undefined : Array.isArray(q.type) ? q.type : [q.type],
      appId: scope ?? appId,
      endpointId: q.endpointId,
      since: q.since ? new Date(q.since) : undefined,
      until: q.until ? new Date(q.until) : undefined,
    };
    const { rows, ks } = await listOperationalEventsPage(herald.pool, filter, { limit: q.limit, iterator: q.iterator, order: q.order });
    return toPage(rows, ks, q.limit, (r) => r.id, toOperationalEventOut);
  });
}

/** Registers the operational webhook endpoint routes and the operational event list. */
export default async function operationalWebhookRoutes(app: Api, deps: ApiDeps): Promise<void> {
  endpointRoutes(app, deps);
  secretAndHeaderRoutes(app, deps);
  eventRoutes(app, deps);
}
