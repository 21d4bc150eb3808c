/**
 * Applications (tenants), Svix v1 paths and shapes. Creating, listing, changing and deleting
 * applications are operator actions (global tokens); a token scoped to an application can read it.
 */
import { z } from 'zod';
import { HeraldError } from '../../core/errors.js';
import { isId } from '../../core/ids.js';
import { createApplication, updateApplicationSettings } from '../../engine/applications.js';
import { deleteApplication, getApplication, listApplicationsPage, type ApplicationInput, type ApplicationRow } from '../../store/applications.js';
import { toPage } from '../../store/paging.js';
import { requireApp, requireGlobal, requirePermission } from '../auth.js';
import type { Api, ApiDeps } from '../context.js';
import { ListQuery, listResponse } from '../pagination.js';
import {
  AppParams,
  ApplicationIn,
  ApplicationOut,
  ApplicationPatch,
  CreateAppQuery,
  rateLimitOf,
  toApplicationOut,
} from '../schemas/applications.js';
import { errorResponses, NoContent } from '../schemas/common.js';

const tags = ['Application'];

function inputOf(body: z.output<typeof ApplicationIn>): ApplicationInput {
  return { name: body.name, uid: body.uid ?? null, metadata: body.metadata ?? {}, rateLimit: rateLimitOf(body) ?? null };
}

/** Merges a PATCH body onto the stored application: absent fields stay, null clears. */
function patched(row: ApplicationRow, body: z.output<typeof ApplicationPatch>): ApplicationInput {
  const rate = rateLimitOf(body);
  return {
    name: body.name ?? row.name,
    uid: body.uid !== undefined ? body.uid : row.uid,
    metadata: body.metadata ?? row.metadata,
    rateLimit: rate !== undefined ? rate : row.rateLimit,
  };
}

/** List, and create (POST, with get_if_exists). */
function listAndCreateRoutes(app: Api, deps: ApiDeps): void {
  const { herald } = deps;
  const db = herald.pool;

  app.get('/app', {
    schema: { tags, summary: 'List applications', querystring: ListQuery, response: { 200: listResponse(ApplicationOut), ...errorResponses(422) } },
  }, async (req) => {
    requireGlobal(req, 'read');
    const { rows, ks } = await listApplicationsPage(db, req.query);
    return toPage(rows, ks, req.query.limit, (r) => r.id, toApplicationOut);
  });

  app.post('/app', {
    config: { idempotent: true },
    schema: {
      tags,
      summary: 'Create an application',
      description: 'With `get_if_exists=true`, an application with the same uid is returned (200) instead of a 409.',
      querystring: CreateAppQuery,
      body: ApplicationIn,
      response: { 200: ApplicationOut, 201: ApplicationOut, ...errorResponses(409, 422) },
    },
  }, async (req, reply) => {
    requireGlobal(req, 'create');
    const input = inputOf(req.body);
    const existing = input.uid ? await getApplication(db, input.uid) : null;
    if (existing && existing.uid === input.uid) {
      if (!req.query.get_if_exists) throw new HeraldError('conflict', `an application with uid ${input.uid} already exists`);
      return reply.code(200).send(toApplicationOut(existing));
    }
    try {
      return reply.code(201).send(toApplicationOut(await createApplication(db, input, herald.clock.now())));
    } catch (e) {
      // Lost a race with a concurrent create of the same uid: with get_if_exists, that one is the answer.
      const winner = req.query.get_if_exists && input.uid ? await getApplication(db, input.uid) : null;
      if (winner) return reply.code(200).send(toApplicationOut(winner));
      throw e;
    }
  });
}

/** Get by id or uid. */
function getRoute(app: Api, deps: ApiDeps): void {
  app.get('/app/:app_id', {
    schema: { tags, summary: 'Get an application (by id or uid)', params: AppParams, response: { 200: ApplicationOut, ...errorResponses(404) } },
  }, async (req) => toApplicationOut(await requireApp(req, deps, req.params.app_id, 'read')));
}

/** Update (PUT, which also creates), patch, delete. */
function changeRoutes(app: Api, deps: ApiDeps): void {
  const { herald } = deps;
  const db = herald.pool;

  app.put('/app/:app_id', {
    schema: {
      tags,
      summary: 'Update an application, creating it if it does not exist',
      description: 'Creating through PUT uses the path as the uid when the body has none, so repeating the same PUT finds it again.',
      params: AppParams,
      body: ApplicationIn,
      response: { 200: ApplicationOut, 201: ApplicationOut, ...errorResponses(404, 409, 422) },
    },
  }, async (req, reply) => {
    const { app_id } = req.params;
    const input = inputOf(req.body);
    if (req.principal.appId !== null) await requireApp(req, deps, app_id, 'update'); // 404 outside the scope
    requireGlobal(req, 'update');
    const existing = await getApplication(db, app_id);
    if (existing) {
      const row = await updateApplicationSettings(db, existing.id, input, herald.clock.now());
      if (!row) throw new HeraldError('not_found', `application ${app_id} not found`);
      return reply.code(200).send(toApplicationOut(row));
    }
    requirePermission(req, 'create');
    const created = await createApplication(db, { ...input, uid: input.uid ?? (isId('app', app_id) ? null : app_id) }, herald.clock.now());
    return reply.code(201).send(toApplicationOut(created));
  });

  app.patch('/app/:app_id', {
    schema: { tags, summary: 'Partially update an application', params: AppParams, body: ApplicationPatch, response: { 200: ApplicationOut, ...errorResponses(404, 409, 422) } },
  }, async (req) => {
    const current = await requireApp(req, deps, req.params.app_id, 'update');
    requireGlobal(req, 'update');
    const row = await updateApplicationSettings(db, current.id, patched(current, req.body), herald.clock.now());
    if (!row) throw new HeraldError('not_found', `application ${req.params.app_id} not found`);
    return toApplicationOut(row);
  });

  app.delete('/app/:app_id', {
    schema: { tags, summary: 'Delete an application and everything it owns', params: AppParams, response: { 204: NoContent, ...errorResponses(404) } },
  }, async (req, reply) => {
    const current = await requireApp(req, deps, req.params.app_id, 'delete');
    requireGlobal(req, 'delete');
    await deleteApplication(db, current.id);
    return reply.code(204).send();
  });
}

/** Registers the application routes. */
export default async function applicationRoutes(app: Api, deps: ApiDeps): Promise<void> {
  listAndCreateRoutes(app, deps);
  getRoute(app, deps);
  changeRoutes(app, deps);
}
