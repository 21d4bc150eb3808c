/**
 * The event type catalogue (Svix v1 paths and shapes). Any token with `read` may read it — the customer
 * portal needs it to offer subscriptions — but changing it is an operator action (global tokens only).
 * Herald's `envelope` on a type overrides the application's for messages of that type.
 */
import { HeraldError } from '../../core/errors.js';
import { validateEventTypeInput } from '../../engine/event-types.js';
import {
  deleteEventType,
  getEventType,
  insertEventType,
  listEventTypes,
  updateEventType,
  upsertEventType,
} from '../../store/event-types.js';
import { toPage } from '../../store/paging.js';
import { requireGlobal, requirePermission } from '../auth.js';
import type { Api, ApiDeps } from '../context.js';
import { listResponse } from '../pagination.js';
import { errorResponses, NoContent } from '../schemas/common.js';
import {
  DeleteEventTypeQuery,
  EventTypeIn,
  EventTypeListQuery,
  EventTypeOut,
  EventTypeParams,
  EventTypePatch,
  EventTypeUpdate,
  eventTypeInput,
  patchedEventType,
  toEventTypeOut,
} from '../schemas/event-types.js';

const tags = ['Event Type'];
const notFound = (name: string) => new HeraldError('not_found', `event type ${name} not found`);

/** List, create, get. */
function readAndCreateRoutes(app: Api, deps: ApiDeps): void {
  const { herald } = deps;
  const db = herald.pool;

  app.get('/event-type', {
    config: { permission: 'read' },
    schema: { operationId: 'v1.event-type.list', tags, summary: 'List event types', querystring: EventTypeListQuery, response: { 200: listResponse(EventTypeOut), ...errorResponses(422) } },
  }, async (req) => {
    requirePermission(req, 'read');
    const q = req.query;
    const { rows, ks } = await listEventTypes(db, { ...q, includeArchived: q.include_archived });
    return toPage(rows, ks, q.limit, (r) => r.name, (r) => toEventTypeOut(r, q.with_content));
  });

  app.post('/event-type', {
    config: { permission: 'create', idempotent: true },
    schema: {
      operationId: 'v1.event-type.create',
      tags,
      summary: 'Create an event type',
      description: 'Creating the name of an archived type brings it back with the new settings.',
      body: EventTypeIn,
      response: { 201: EventTypeOut, ...errorResponses(409, 422) },
    },
  }, async (req, reply) => {
    requireGlobal(req, 'create');
    const row = await insertEventType(db, req.body.name, validateEventTypeInput(eventTypeInput(req.body)), herald.clock.now());
    herald.publishGroup.forgetTargets(); // publishing looks envelopes up with applications
    if (!row) throw new HeraldError('conflict', `an event type named ${req.body.name} already exists`);
    return reply.code(201).send(toEventTypeOut(row));
  });

  app.get('/event-type/:event_type_name', {
    config: { permission: 'read' },
    schema: { operationId: 'v1.event-type.get', tags, summary: 'Get an event type', params: EventTypeParams, response: { 200: EventTypeOut, ...errorResponses(404) } },
  }, async (req) => {
    requirePermission(req, 'read');
    const row = await getEventType(db, req.params.event_type_name);
    if (!row) throw notFound(req.params.event_type_name);
    return toEventTypeOut(row);
  });
}

/** Update (PUT, which also creates), patch, delete (archive or expunge). */
function changeRoutes(app: Api, deps: ApiDeps): void {
  const { herald } = deps;
  const db = herald.pool;

  app.put('/event-type/:event_type_name', {
    config: { permission: 'update' },
    schema: {
      operationId: 'v1.event-type.update',
      tags,
      summary: 'Update an event type, creating it if it does not exist',
      params: EventTypeParams,
      body: EventTypeUpdate,
      response: { 200: EventTypeOut, 201: EventTypeOut, ...errorResponses(422) },
    },
  }, async (req, reply) => {
    requireGlobal(req, 'update');
    const name = req.params.event_type_name;
    if (!(await getEventType(db, name))) requirePermission(req, 'create');
    const { row, created } = await upsertEventType(db, name, validateEventTypeInput(eventTypeInput(req.body)), herald.clock.now());
    herald.publishGroup.forgetTargets();
    return reply.code(created ? 201 : 200).send(toEventTypeOut(row));
  });

  app.patch('/event-type/:event_type_name', {
    config: { permission: 'update' },
    schema: { operationId: 'v1.event-type.patch', tags, summary: 'Partially update an event type', params: EventTypeParams, body: EventTypePatch, response: { 200: EventTypeOut, ...errorResponses(404, 422) } },
  }, async (req) => {
    requireGlobal(req, 'update');
    const name = req.params.event_type_name;
    const current = await getEventType(db, name);
    if (!current) throw notFound(name);
    const row = await updateEventType(db, name, validateEventTypeInput(patchedEventType(current, req.body)), herald.clock.now());
    herald.publishGroup.forgetTargets();
    if (!row) throw notFound(name);
    return toEventTypeOut(row);
  });

  app.delete('/event-type/:event_type_name', {
    config: { permission: 'delete' },
    schema: {
      operationId: 'v1.event-type.delete',
      tags,
      summary: 'Archive an event type (or delete it with expunge=true)',
      description: 'Archived types stay valid for publishing and filters but are hidden from lists.',
      params: EventTypeParams,
      querystring: DeleteEventTypeQuery,
      response: { 204: NoContent, ...errorResponses(404) },
    },
  }, async (req, reply) => {
    requireGlobal(req, 'delete');
    const found = await deleteEventType(db, req.params.event_type_name, { expunge: req.query.expunge, now: herald.clock.now() });
    herald.publishGroup.forgetTargets();
    if (!found) throw notFound(req.params.event_type_name);
    return reply.code(204).send();
  });
}

/** Registers the event type routes. */
export default async function eventTypeRoutes(app: Api, deps: ApiDeps): Promise<void> {
  readAndCreateRoutes(app, deps);
  changeRoutes(app, deps);
}
