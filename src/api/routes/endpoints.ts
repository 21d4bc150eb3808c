/**
 * Endpoints (Svix v1 paths and shapes): create, list, get, update (PUT creates when missing), patch,
 * delete. Secrets and custom headers are in ./endpoint-secrets.ts, public keys in ./endpoint-keys.ts.
 * Every write validates the whole input first and reports every bad field at once; filters must name
 * existing event types (as Svix); a given secret must fit the endpoint's signature profile.
 */
import type { z } from 'zod';
import type { DeliveryHeaders } from '../../core/delivery-headers.js';
import { HeraldError, type FieldError } from '../../core/errors.js';
import { isId } from '../../core/ids.js';
import type { SignatureProfile } from '../../core/signature-profile.js';
import { effectiveSignature } from '../../engine/applications.js';
import { headerLimitsOf } from '../../core/custom-headers.js';
import { reserveEndpointSlot, tenantLimitsOf } from '../../engine/limits.js';
import { inTransaction } from '../../store/pool.js';
import { contractDefaultsOf, createEndpoint, endpointProblems, profileSecret, removeEndpoint, updateEndpointSettings } from '../../engine/endpoints.js';
import { assertEventTypesExist } from '../../engine/event-types.js';
import type { Herald } from '../../engine/herald.js';
import type { ApplicationRow } from '../../store/applications.js';
import { getEndpointView, listEndpointViews, type EndpointInput, type EndpointView } from '../../store/endpoints.js';
import { toPage } from '../../store/paging.js';
import { requireApp, requirePermission } from '../auth.js';
import type { Api, ApiDeps } from '../context.js';
import { listQuery, listResponse } from '../pagination.js';
import { AppParams } from '../schemas/applications.js';
import { errorResponses, NoContent } from '../schemas/common.js';
import { policyBoundsOf, policyViewOf, rateOf } from '../schemas/policy.js';
import {
  EndpointCreatedOut,
  EndpointIn,
  EndpointOut,
  EndpointParams,
  EndpointPatch,
  EndpointUpdate,
  toEndpointOut,
} from '../schemas/endpoints.js';
import endpointKeyRoutes from './endpoint-keys.js';
import endpointSecretRoutes from './endpoint-secrets.js';

const tags = ['Endpoint'];

/** 404 for an endpoint id or uid. */
export const endpointNotFound = (idOrUid: string) => new HeraldError('not_found', `endpoint ${idOrUid} not found`);

/** Finds an endpoint of an (already authorised) application, or throws 404. */
export async function findEndpointView(herald: Herald, appId: string, idOrUid: string): Promise<EndpointView> {
  const ep = await getEndpointView(herald.pool, appId, idOrUid);
  if (!ep) throw endpointNotFound(idOrUid);
  return ep;
}

/** filterTypes or its newer Svix name eventTypes; [] means every type, stored as null. */
function filtersOf(body: { filterTypes?: string[] | null; eventTypes?: string[] | null }): string[] | null | undefined {
  const given = body.filterTypes !== undefined ? body.filterTypes : body.eventTypes;
  if (given == null) return given;
  return given.length === 0 ? null : [...new Set(given)];
}

const pick = <T>(v: T | undefined, current: T): T => (v !== undefined ? v : current);

/** Settings of a create or update body. */
function settingsOf(body: z.output<typeof EndpointUpdate>): EndpointInput {
  return {
    url: body.url,
    description: body.description,
    uid: body.uid ?? null,
    disabled: body.disabled,
    filterTypes: filtersOf(body) ?? null,
    channels: body.channels?.length ? [...new Set(body.channels)] : null,
    metadata: body.metadata ?? {},
    rateLimit: rateOf(body) ?? null,
    maxInFlight: body.maxInFlight ?? null,
    timeoutMs: body.timeoutMs ?? null,
    retryDelays: body.retrySchedule ?? null,
    ordering: body.ordering ?? 'parallel',
    // Shapes only here; the engine validates them (profileProblems, deliveryHeadersProblems) before storing.
    signature: (body.signature ?? null) as SignatureProfile | null,
    deliveryHeaders: (body.deliveryHeaders ?? null) as DeliveryHeaders | null,
    payloadFilter: body.payloadFilter ?? null,
  };
}

/** A PATCH body merged onto the stored endpoint. */
function patchedSettings(ep: EndpointView, body: z.output<typeof EndpointPatch>): EndpointInput {
  const channels = body.channels === undefined ? ep.channels : body.channels?.length ? [...new Set(body.channels)] : null;
  return {
    url: body.url ?? ep.url,
    description: body.description ?? ep.description,
    uid: pick(body.uid, ep.uid),
    disabled: body.disabled ?? ep.disabled,
    filterTypes: pick(filtersOf(body), ep.filterTypes),
    channels,
    metadata: body.metadata ?? ep.metadata,
    rateLimit: pick(rateOf(body), ep.rateLimit),
    maxInFlight: pick(body.maxInFlight, ep.maxInFlight),
    timeoutMs: pick(body.timeoutMs, ep.timeoutMs),
    retryDelays: pick(body.retrySchedule, ep.retryDelays),
    ordering: body.ordering === undefined ? ep.ordering : (body.ordering ?? 'parallel'),
    signature: pick(body.signature as SignatureProfile | null | undefined, ep.signature),
    deliveryHeaders: pick(body.deliveryHeaders as DeliveryHeaders | null | undefined, ep.deliveryHeaders),
    payloadFilter: pick(body.payloadFilter, ep.payloadFilter),
  };
}

/**
 * Validates settings against the server's URL policy, the application's signing defaults and the
 * catalogue, and a given secret against the resulting profile, reporting every problem at once.
 */
async function validateAll(herald: Herald, app: ApplicationRow, input: EndpointInput, secret?: string | null): Promise<void> {
  const inherited = contractDefaultsOf(app);
  const fields: FieldError[] = endpointProblems(input, herald.urlPolicy, policyBoundsOf(herald.config), inherited, headerLimitsOf(herald.config));
  const collect = async (check: () => unknown) => {
    try {
      await check();
    } catch (e) {
      if (e instanceof HeraldError && e.code === 'validation' && e.fields) fields.push(...e.fields);
      else throw e;
    }
  };
  await collect(() => assertEventTypesExist(herald.pool, input.filterTypes));
  if (secret != null && !fields.some((f) => f.path.startsWith('signature'))) {
    await collect(() => profileSecret(effectiveSignature(input.signature, inherited.signature), secret));
  }
  if (fields.length > 0) {
    throw new HeraldError('validation', fields.map((f) => `${f.path}: ${f.message}`).join('; '), { fields });
  }
}

const writeContext = (herald: Herald) => ({
  now: herald.clock.now(),
  policy: herald.urlPolicy,
  bounds: policyBoundsOf(herald.config),
  headerLimits: headerLimitsOf(herald.config),
});

/** Creates an endpoint (validated) and returns its view and secret. */
async function create(herald: Herald, app: ApplicationRow, input: EndpointInput, secret: string | null | undefined) {
  await validateAll(herald, app, input, secret);
  // One transaction: the endpoint slot is held (locked) until the insert commits (engine/limits.ts).
  const created = await inTransaction(herald.pool, async (tx) => {
    await reserveEndpointSlot(tx, app.id, tenantLimitsOf(herald.config));
    return createEndpoint(tx, herald.secretBox, app.id, { ...input, secret: secret ?? null }, writeContext(herald));
  });
  return { view: await findEndpointView(herald, app.id, created.endpoint.id), secret: created.secret };
}

/** Replaces an endpoint's settings (validated), rotating to `secret` when given, and returns its view. */
async function update(herald: Herald, app: ApplicationRow, ep: EndpointView, input: EndpointInput, secret?: string | null): Promise<EndpointView> {
  await validateAll(herald, app, input, secret);
  const row = await updateEndpointSettings(herald.pool, herald.secretBox, app.id, ep.id, input, { ...writeContext(herald), secret });
  if (!row) throw endpointNotFound(ep.id);
  return findEndpointView(herald, app.id, ep.id);
}

/** List, create, get. */
function readAndCreateRoutes(app: Api, deps: ApiDeps): void {
  const { herald } = deps;

  app.get('/app/:app_id/endpoint', {
    config: { permission: 'read' },
    schema: { operationId: 'v1.endpoint.list', tags, summary: 'List endpoints', params: AppParams, querystring: listQuery('ep'), response: { 200: listResponse(EndpointOut), ...errorResponses(404, 422) } },
  }, async (req) => {
    const application = await requireApp(req, deps, req.params.app_id, 'read');
    const { rows, ks } = await listEndpointViews(herald.pool, application.id, req.query);
    const view = policyViewOf(herald);
    return toPage(rows, ks, req.query.limit, (r) => r.id, (r) => toEndpointOut(r, view));
  });

  app.post('/app/:app_id/endpoint', {
    config: { permission: 'create', idempotent: true },
    schema: {
      operationId: 'v1.endpoint.create',
      tags,
      summary: 'Create an endpoint',
      description: 'The response carries the signing secret (Herald extra `secret`); where HERALD_ALLOW_SECRET_READ=false it is the only time it is shown.',
      params: AppParams,
      body: EndpointIn,
      response: { 201: EndpointCreatedOut, ...errorResponses(404, 409, 422) },
    },
  }, async (req, reply) => {
    const application = await requireApp(req, deps, req.params.app_id, 'create');
    const input = { ...settingsOf(req.body), headers: req.body.headers ?? {} };
    const { view, secret } = await create(herald, application, input, req.body.secret);
    return reply.code(201).send({ ...toEndpointOut(view, policyViewOf(herald)), secret });
  });

  app.get('/app/:app_id/endpoint/:endpoint_id', {
    config: { permission: 'read' },
    schema: { operationId: 'v1.endpoint.get', tags, summary: 'Get an endpoint (by id or uid)', params: EndpointParams, response: { 200: EndpointOut, ...errorResponses(404) } },
  }, async (req) => {
    const application = await requireApp(req, deps, req.params.app_id, 'read');
    return toEndpointOut(await findEndpointView(herald, application.id, req.params.endpoint_id), policyViewOf(herald));
  });
}

/** Update (PUT, which also creates), patch, delete. */
function changeRoutes(app: Api, deps: ApiDeps): void {
  const { herald } = deps;

  app.put('/app/:app_id/endpoint/:endpoint_id', {
    config: { permission: 'update' },
    schema: {
      operationId: 'v1.endpoint.update',
      tags,
      summary: 'Update an endpoint, creating it if it does not exist',
      description: 'Custom headers and the secret are kept. Creating through PUT uses the path as the uid when the body has none.',
      params: EndpointParams,
      body: EndpointUpdate,
      response: { 200: EndpointOut, 201: EndpointOut, ...errorResponses(404, 409, 422) },
    },
  }, async (req, reply) => {
    const { app_id, endpoint_id } = req.params;
    const application = await requireApp(req, deps, app_id, 'update');
    const ep = await getEndpointView(herald.pool, application.id, endpoint_id);
    if (ep) return reply.code(200).send(toEndpointOut(await update(herald, application, ep, settingsOf(req.body)), policyViewOf(herald)));
    requirePermission(req, 'create');
    const input = settingsOf(req.body);
    input.uid = input.uid ?? (isId('ep', endpoint_id) ? null : endpoint_id);
    const { view } = await create(herald, application, input, null);
    return reply.code(201).send(toEndpointOut(view, policyViewOf(herald)));
  });

  app.patch('/app/:app_id/endpoint/:endpoint_id', {
    config: { permission: 'update' },
    schema: { operationId: 'v1.endpoint.patch', tags, summary: 'Partially update an endpoint', params: EndpointParams, body: EndpointPatch, response: { 200: EndpointOut, ...errorResponses(404, 409, 422) } },
  }, async (req) => {
    const application = await requireApp(req, deps, req.params.app_id, 'update');
    const ep = await findEndpointView(herald, application.id, req.params.endpoint_id);
    return toEndpointOut(await update(herald, application, ep, patchedSettings(ep, req.body), req.body.secret), policyViewOf(herald));
  });

  app.delete('/app/:app_id/endpoint/:endpoint_id', {
    config: { permission: 'delete' },
    schema: { operationId: 'v1.endpoint.delete', tags, summary: 'Delete an endpoint', params: EndpointParams, response: { 204: NoContent, ...errorResponses(404) } },
  }, async (req, reply) => {
    const application = await requireApp(req, deps, req.params.app_id, 'delete');
    const ep = await findEndpointView(herald, application.id, req.params.endpoint_id);
    await removeEndpoint(herald.pool, application.id, ep, herald.clock.now());
    return reply.code(204).send();
  });
}

/** Registers the endpoint routes, then the secret, header and public-key ones. */
export default async function endpointRoutes(app: Api, deps: ApiDeps): Promise<void> {
  readAndCreateRoutes(app, deps);
  changeRoutes(app, deps);
  await endpointSecretRoutes(app, deps);
  await endpointKeyRoutes(app, deps);
}
