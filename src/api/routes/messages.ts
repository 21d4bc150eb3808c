/**
 * Messages (Svix v1): publish, list, get. Publishing goes through the engine's `publish`, so the
 * API, the library API and the CLI share one set of rules (payload limit, eventId idempotency).
 * Also registers the endpoint operations (recover, send-example, stats, health), so app.ts keeps
 * one line per resource file it already had.
 */
import type { z } from 'zod';
import { HeraldError, httpStatusOf } from '../../core/errors.js';
import { publishEach, type PublishedMessage } from '../../engine/publish.js';
import { fieldPath, heraldErrorBody } from '../errors.js';
import type { Herald } from '../../engine/herald.js';
import { getMessage, listMessages } from '../../store/messages.js';
import { authorizeApp, requireApp, requirePermission } from '../auth.js';
import type { Api, ApiDeps } from '../context.js';
import { listResponse } from '../pagination.js';
import { AppParams } from '../schemas/applications.js';
import { errorResponses } from '../schemas/common.js';
import {
  foldArrayQuery,
  keysetOf,
  keysetPage,
  MessageBatchIn,
  MessageBatchOut,
  MessageIn,
  MessageOut,
  MsgParams,
  PublishQuery,
  TimeListQuery,
  toMessageOut,
  WithContentQuery,
} from '../schemas/messages.js';
import endpointOpsRoutes from './endpoint-ops.js';
import { createApplication } from '../../engine/applications.js';
import { applicationInputOf, type ApplicationIn } from '../schemas/applications.js';
import { policyBoundsOf } from '../schemas/policy.js';

const TAGS = ['Message'];

/** Largest batch request body. */
const BATCH_BODY_LIMIT = 16 * 1024 * 1024;

export default async function messageRoutes(app: Api, deps: ApiDeps): Promise<void> {
  const { herald } = deps;

  app.post(
    '/app/:app_id/msg',
    {
      config: { permission: 'publish', idempotent: true },
      schema: {
        operationId: 'v1.message.create',
        tags: TAGS,
        summary: 'Publish a message',
        description:
          'Stores the message and queues one delivery per enabled endpoint subscribed to its event type. ' +
          'Publishing an eventId again returns the first message and sends nothing.',
        params: AppParams,
        querystring: PublishQuery,
        body: MessageIn,
        response: { 202: MessageOut, ...errorResponses(404, 409, 413, 422) },
      },
    },
    async (req, reply) => {
      // The application is found by the publish group's own query, which checks this caller's scope
      // before anything is written: one query per group instead of one per request.
      if (req.principal.appId === null) requirePermission(req, 'publish');
      const body = req.body;
      const input = {
        eventType: body.eventType,
        payload: body.payload,
        eventId: body.eventId ?? null,
        channels: body.channels ?? null,
        tags: body.tags ?? null,
        payloadRetentionPeriod: body.payloadRetentionPeriod ?? null,
        payloadRetentionHours: body.payloadRetentionHours ?? null,
        validateSchema: req.query.validate_schema,
      };
      const publish = () => herald.publish(req.params.app_id, input, (target) => authorizeApp(req, target.id, req.params.app_id, 'publish'));
      let msg: PublishedMessage;
      try {
        msg = await publish();
      } catch (e) {
        // Svix: `application` creates the missing application of the path, then the message is published.
        if (!body.application || !(e instanceof HeraldError) || e.code !== 'not_found' || req.principal.appId !== null) throw e;
        await createMissingApplication(herald, req.params.app_id, body.application);
        msg = await publish();
      }
      return reply.code(202).send(publishedOut(msg, req.query.with_content));
    },
  );

  app.post(
    '/app/:app_id/msg/batch',
    {
      config: { permission: 'publish', idempotent: true },
      // A batch carries many payloads: up to 16 MiB in all (each message still within HERALD_MAX_PAYLOAD_BYTES).
      bodyLimit: BATCH_BODY_LIMIT,
      schema: {
        operationId: 'v1.message.create-batch',
        tags: TAGS,
        summary: 'Publish messages in a batch (Herald extension)',
        description:
          'Publishes up to 1,000 messages in one request and one statement. Each message is checked and stored on its own, ' +
          'with one result per message in order: a message that the single publish would refuse (422, 409, 413) is refused ' +
          'here with the same error, and the others are published.',
        params: AppParams,
        querystring: PublishQuery,
        body: MessageBatchIn,
        response: { 200: MessageBatchOut, ...errorResponses(404, 422) },
      },
    },
    async (req) => {
      const application = await requireApp(req, deps, req.params.app_id, 'publish');
      return { data: await publishBatch(herald, application.id, req.body.messages, req.query) };
    },
  );

  app.get(
    '/app/:app_id/msg',
    {
      config: { permission: 'read' },
      preValidation: foldArrayQuery,
      schema: {
        operationId: 'v1.message.list',
        tags: TAGS,
        summary: 'List messages',
        description: 'Newest first; filter by event type, channel, tag and time.',
        params: AppParams,
        querystring: TimeListQuery,
        response: { 200: listResponse(MessageOut), ...errorResponses(404, 422) },
      },
    },
    async (req) => {
      const application = await requireApp(req, deps, req.params.app_id, 'read');
      const q = req.query;
      const pos = keysetOf(q.iterator, q.limit, 'msg');
      const rows = await listMessages(
        herald.pool,
        application.id,
        { eventTypes: q.event_types, channel: q.channel, tag: q.tag, before: q.before, after: q.after, withPayload: q.with_content },
        pos,
      );
      return keysetPage(rows, pos, (r) => r.id, (r) => toMessageOut(r, q.with_content));
    },
  );

  app.get(
    '/app/:app_id/msg/:msg_id',
    {
      config: { permission: 'read' },
      schema: {
        operationId: 'v1.message.get',
        tags: TAGS,
        summary: 'Get a message',
        description: 'By message id or by eventId.',
        params: MsgParams,
        querystring: WithContentQuery,
        response: { 200: MessageOut, ...errorResponses(404) },
      },
    },
    async (req) => {
      const application = await requireApp(req, deps, req.params.app_id, 'read');
      const msg = await getMessage(herald.pool, application.id, req.params.msg_id);
      if (!msg) throw new HeraldError('not_found', `message ${req.params.msg_id} not found`);
      return toMessageOut(msg, req.query.with_content);
    },
  );

  await endpointOpsRoutes(app, deps);
}

/** One batch result, as MessageBatchResult. */
type BatchResult = z.output<typeof MessageBatchOut>['data'][number];

/** The answer the single publish would give for an error, as a batch result. */
function refused(e: HeraldError, index: number): BatchResult {
  // The engine names a field of its own batch `[i].payload`; here it is `body.messages[index].payload`.
  const error = heraldErrorBody(e, { within: ['messages', index], path: (p) => p.replace(/^\[\d+\]\.?/, '') });
  return { status: httpStatusOf[e.code], message: null, error };
}

/**
 * Publishes a batch with one result per message: each item is validated as a MessageIn on its own,
 * then every valid one goes to the engine's publishEach in one statement (channels included: they are
 * columns of the message rows that statement writes).
 */
async function publishBatch(herald: Herald, appId: string, items: unknown[], query: z.output<typeof PublishQuery>): Promise<BatchResult[]> {
  const withContent = query.with_content;
  const opts = { now: herald.clock.now(), maxPayloadBytes: herald.config.HERALD_MAX_PAYLOAD_BYTES, enforceSchemas: herald.config.HERALD_SCHEMA_ENFORCEMENT };
  const parsed = items.map((item, i) => {
    const r = MessageIn.safeParse(item);
    if (r.success) return { ok: true as const, body: r.data };
    const fields = r.error.issues.map((issue) => ({ path: fieldPath(issue.path), message: issue.message }));
    return { ok: false as const, result: refused(new HeraldError('validation', 'invalid message', { fields }), i) };
  });
  const valid = parsed.flatMap((p) => (p.ok ? [p.body] : []));
  const inputs = valid.map((b) => ({
    eventType: b.eventType,
    payload: b.payload,
    eventId: b.eventId ?? null,
    channels: b.channels ?? null,
    tags: b.tags ?? null,
    payloadRetentionPeriod: b.payloadRetentionPeriod ?? null,
    payloadRetentionHours: b.payloadRetentionHours ?? null,
    validateSchema: query.validate_schema,
  }));
  const outcomes = valid.length === 0 ? [] : await publishEach(herald.pool, appId, inputs, opts);
  const stored = outcomes.flatMap((o) => (o.ok && !o.message.duplicate ? [o.message] : []));
  herald.metrics.countPublished(stored.length, stored.reduce((n, m) => n + m.deliveries, 0));
  let next = 0;
  return parsed.map((p, i): BatchResult => {
    if (!p.ok) return p.result;
    const o = outcomes[next++]!;
    if (!o.ok) return refused(o.error, i);
    return { status: 202, error: null, message: publishedOut(o.message, withContent) };
  });
}

/** MessageOut of a message the engine just published (or found, for a repeated eventId). */
function publishedOut(m: PublishedMessage, withContent: boolean): z.output<typeof MessageOut> {
  return {
    id: m.id,
    eventType: m.eventType,
    eventId: m.eventId,
    payload: withContent ? m.payload : {},
    channels: m.channels,
    tags: m.tags,
    timestamp: m.timestamp,
    debounceState: m.debounceState ?? null,
    consolidatedInto: m.consolidatedInto ?? null,
    consolidates: null,
  };
}

/**
 * Creates the application a publish names in its path from the message's `application` (Svix: its uid
 * must be the path's). Another publish creating it at the same moment is no error: the message then
 * goes to that one.
 */
async function createMissingApplication(herald: Herald, path: string, app: z.output<typeof ApplicationIn>): Promise<void> {
  if (app.uid !== path) {
    const message = 'the application uid in the path and in the body must match to create the application';
    throw new HeraldError('validation', message, { fields: [{ path: 'application.uid', message }] });
  }
  try {
    await createApplication(herald.pool, applicationInputOf(app), herald.clock.now(), policyBoundsOf(herald.config));
  } catch (e) {
    if (!(e instanceof HeraldError && e.code === 'conflict')) throw e;
  }
}
