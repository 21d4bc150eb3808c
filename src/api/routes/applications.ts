/**
 * Applications (tenants), Svix v1 paths and shapes. Creating, listing, changing and deleting
 * applications are operator actions (global tokens); a token scoped to an application can read it.
 * An application's signature profile and delivery headers are its endpoints' defaults: changing them
 * is refused (422) while an endpoint could not follow (src/engine/applications.ts).
 */
import { HeraldError } from '../../core/errors.js';
import { isId } from '../../core/ids.js';
import { createApplication, updateApplicationSettings } from '../../engine/applications.js';
import { deleteApplication, getApplication, listApplicationsPage } from '../../store/applications.js';
import { toPage } from '../../store/paging.js';
import { requireApp, requireGlobal, requirePermission } from '../auth.js';
import type { Api, ApiDeps } from '../context.js';
import { listQuery, listResponse } from '../pagination.js';
import {
  AppParams,
  ApplicationIn,
  ApplicationOut,
  ApplicationPatch,
  applicationInputOf,
  CreateAppQuery,
  patchedApplication,
  toApplicationOut as toOut,
} from '../schemas/applications.js';
import { errorResponses, NoContent } from '../schemas/common.js';
import { policyBoundsOf, policyViewOf } from '../schemas/policy.js';

const tags = ['Application'];

/** List, and create (POST, with get_if_exists). */
function listAndCreateRoutes(app: Api, deps: ApiDeps): void {
  const { herald } = deps;
  const db = herald.pool;
  const bounds = policyBoundsOf(herald.config);

  app.get('/app', {
    config: { permission: 'read' },
    schema: { operationId: 'v1.application.list', tags, summary: 'List applications', querystring: listQuery('app'), response: { 200: listResponse(ApplicationOut), ...errorResponses(422) } },
  }, async (req) => {
    requireGlobal(req, 'read');
    const { rows, ks } = await listApplicationsPage(db, req.query);
    const view = policyViewOf(herald);
    return toPage(rows, ks, req.query.limit, (r) => r.id, (r) => toOut(r, view));
  });

  app.post('/app', {
    config: { permission: 'create', idempotent: true },
    schema: {
      operationId: 'v1.application.create',
      tags,
      summary: 'Create an application',
      description: 'With `get_if_exists=true`, an application with the same uid is returned (200) instead of a 409.',
      querystring: CreateAppQuery,
      body: ApplicationIn,
      response: { 200: ApplicationOut, 201: ApplicationOut, ...errorResponses(409, 422) },
    },
  }, async (req, reply) => {
    requireGlobal(req, 'create');
    const input = applicationInputOf(req.body);
    const view = policyViewOf(herald);
    const existing = input.uid ? await getApplication(db, input.uid) : null;
    if (existing && existing.uid === input.uid) {
      if (!req.query.get_if_exists) throw new HeraldError('conflict', `an application with uid ${input.uid} already exists`);
      return reply.code(200).send(toOut(existing, view));
    }
    try {
      return reply.code(201).send(toOut(await createApplication(db, input, herald.clock.now(), bounds), view));
    } catch (e) {
      // Lost a race with a concurrent create of the same uid: with get_if_exists, that one is the answer.
      const winner = req.query.get_if_exists && input.uid ? await getApplication(db, input.uid) : null;
      if (winner) return reply.code(200).send(toOut(winner, view));
      throw e;
    }
  });
}

/** Get by id or uid. */
function getRoute(app: Api, deps: ApiDeps): void {
  app.get('/app/:app_id', {
    config: { permission: 'read' },
    schema: { operationId: 'v1.application.get', tags, summary: 'Get an application (by id or uid)', params: AppParams, response: { 200: ApplicationOut, ...errorResponses(404) } },
  }, async (req) => toOut(await requireApp(req, deps, req.params.app_id, 'read'), policyViewOf(deps.herald)));
}

/** Update (PUT, which also creates), patch, delete. */
function changeRoutes(app: Api, deps: ApiDeps): void {
  const { herald } = deps;
  const db = herald.pool;
  const bounds = policyBoundsOf(herald.config);

  app.put('/app/:app_id', {
    config: { permission: 'update' },
    schema: {
      operationId: 'v1.application.update',
      tags,
      summary: 'Update an application, creating it if it does not exist',
      description: 'Creating through PUT uses the path as the uid when the body has none, so repeating the same PUT finds it again.',
      params: AppParams,
      body: ApplicationIn,
      response: { 200: ApplicationOut, 201: ApplicationOut, ...errorResponses(404, 409, 422) },
    },
  }, async (req, reply) => {
    const { app_id } = req.params;
    const input = applicationInputOf(req.body);
    if (req.principal.appId !== null) await requireApp(req, deps, app_id, 'update'); // 404 outside the scope
    requireGlobal(req, 'update');
    const existing = await getApplication(db, app_id);
    if (existing) {
      const row = await updateApplicationSettings(db, herald.secretBox, existing, input, herald.clock.now(), bounds);
      herald.publishGroup.forgetTargets(); // the envelope may have changed
      if (!row) throw new HeraldError('not_found', `application ${app_id} not found`);
      return reply.code(200).send(toOut(row, policyViewOf(herald)));
    }
    requirePermission(req, 'create');
    const created = await createApplication(db, { ...input, uid: input.uid ?? (isId('app', app_id) ? null : app_id) }, herald.clock.now(), bounds);
    return reply.code(201).send(toOut(created, policyViewOf(herald)));
  });

  app.patch('/app/:app_id', {
    config: { permission: 'update' },
    schema: { operationId: 'v1.application.patch', tags, summary: 'Partially update an application', params: AppParams, body: ApplicationPatch, response: { 200: ApplicationOut, ...errorResponses(404, 409, 422) } },
  }, async (req) => {
    const current = await requireApp(req, deps, req.params.app_id, 'update');
    requireGlobal(req, 'update');
    const row = await updateApplicationSettings(db, herald.secretBox, current, patchedApplication(current, req.body), herald.clock.now(), bounds);
    herald.publishGroup.forgetTargets();
    if (!row) throw new HeraldError('not_found', `application ${req.params.app_id} not found`);
    return toOut(row, policyViewOf(herald));
  });

  app.delete('/app/:app_id', {
    config: { permission: 'delete' },
    schema: { operationId: 'v1.application.delete', tags, summary: 'Delete an application and everything it owns', params: AppParams, response: { 204: NoContent, ...errorResponses(404) } },
  }, async (req, reply) => {
    const current = await requireApp(req, deps, req.params.app_id, 'delete');
    requireGlobal(req, 'delete');
    await deleteApplication(db, current.id);
    herald.publishGroup.forgetTargets();
    return reply.code(204).send();
  });
}

/** Registers the application routes. */
export default async function applicationRoutes(app: Api, deps: ApiDeps): Promise<void> {
  listAndCreateRoutes(app, deps);
  getRoute(app, deps);
  changeRoutes(app, deps);
}
