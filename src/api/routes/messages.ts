/**
 * Messages (Svix v1): publish, list, get. Publishing goes through the engine's `publish`, so the
 * API, the library API and the CLI share one set of rules (payload limit, eventId idempotency).
 * Also registers the endpoint operations (recover, send-example, stats, health), so app.ts keeps
 * one line per resource file it already had.
 */
import type { z } from 'zod';
import { HeraldError, httpStatusOf } from '../../core/errors.js';
import { publish, publishEach, type PublishedMessage } from '../../engine/publish.js';
import { pathSegments } from '../errors.js';
import type { Herald } from '../../engine/herald.js';
import { getMessage, listMessages, setMessageChannels } from '../../store/messages.js';
import { inTransaction } from '../../store/pool.js';
import { requireApp } from '../auth.js';
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
  TimeListQuery,
  toMessageOut,
  WithContentQuery,
} from '../schemas/messages.js';
import endpointOpsRoutes from './endpoint-ops.js';

const TAGS = ['Message'];

/** Largest batch request body. */
const BATCH_BODY_LIMIT = 16 * 1024 * 1024;

export default async function messageRoutes(app: Api, deps: ApiDeps): Promise<void> {
  const { herald } = deps;

  app.post(
    '/app/:app_id/msg',
    {
      config: { idempotent: true },
      schema: {
        tags: TAGS,
        summary: 'Publish a message',
        description:
          'Stores the message and queues one delivery per enabled endpoint subscribed to its event type. ' +
          'Publishing an eventId again returns the first message and sends nothing.',
        params: AppParams,
        querystring: WithContentQuery,
        body: MessageIn,
        response: { 202: MessageOut, ...errorResponses(404, 409, 413, 422) },
      },
    },
    async (req, reply) => {
      const application = await requireApp(req, deps, req.params.app_id, 'create');
      const msg = await createMessage(herald, application.id, req.body);
      return reply.code(202).send(msg.out(req.query.with_content));
    },
  );

  app.post(
    '/app/:app_id/msg/batch',
    {
      config: { idempotent: true },
      // A batch carries many payloads: up to 16 MiB in all (each message still within HERALD_MAX_PAYLOAD_BYTES).
      bodyLimit: BATCH_BODY_LIMIT,
      schema: {
        tags: TAGS,
        summary: 'Publish messages in a batch (Herald extension)',
        description:
          'Publishes up to 1,000 messages in one request and one statement. Each message is checked and stored on its own, ' +
          'with one result per message in order: a message that the single publish would refuse (422, 409, 413) is refused ' +
          'here with the same error, and the others are published.',
        params: AppParams,
        querystring: WithContentQuery,
        body: MessageBatchIn,
        response: { 200: MessageBatchOut, ...errorResponses(404, 422) },
      },
    },
    async (req) => {
      const application = await requireApp(req, deps, req.params.app_id, 'create');
      return { data: await publishBatch(herald, application.id, req.body.messages, req.query.with_content) };
    },
  );

  app.get(
    '/app/:app_id/msg',
    {
      preValidation: foldArrayQuery,
      schema: {
        tags: TAGS,
        summary: 'List messages',
        description: 'Newest first; filter by event type, channel and time.',
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
        { eventTypes: q.event_types, channel: q.channel, before: q.before, after: q.after, withPayload: q.with_content },
        pos,
      );
      return keysetPage(rows, pos, (r) => r.id, (r) => toMessageOut(r, q.with_content));
    },
  );

  app.get(
    '/app/:app_id/msg/:msg_id',
    {
      schema: {
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
  const detail = e.code === 'validation' && e.fields?.length
    ? e.fields.map((f) => ({ loc: ['body', 'messages', index, ...pathSegments(f.path.replace(/^\[\d+\]\.?/, ''))], msg: f.message, type: 'value_error' }))
    : e.detail;
  return { status: httpStatusOf[e.code], message: null, error: { code: e.code, detail } };
}

/**
 * Publishes a batch with one result per message: each item is validated as a MessageIn on its own,
 * then every valid one goes to the engine's publishEach in one statement (with channels written in
 * the same transaction when any message has them).
 */
async function publishBatch(herald: Herald, appId: string, items: unknown[], withContent: boolean): Promise<BatchResult[]> {
  const opts = { now: herald.clock.now(), maxPayloadBytes: herald.config.HERALD_MAX_PAYLOAD_BYTES };
  const parsed = items.map((item, i) => {
    const r = MessageIn.safeParse(item);
    if (r.success) return { ok: true as const, body: r.data };
    const fields = r.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
    return { ok: false as const, result: refused(new HeraldError('validation', 'invalid message', { fields }), i) };
  });
  const valid = parsed.flatMap((p) => (p.ok ? [p.body] : []));
  const inputs = valid.map((b) => ({ eventType: b.eventType, payload: b.payload, eventId: b.eventId ?? null }));
  const outcomes =
    valid.length === 0
      ? []
      : valid.some((b) => b.channels)
        ? await inTransaction(herald.pool, async (client) => {
            const out = await publishEach(client, appId, inputs, opts);
            for (const [i, o] of out.entries()) {
              const channels = valid[i]!.channels;
              if (o.ok && !o.message.duplicate && channels) await setMessageChannels(client, appId, o.message.id, channels);
            }
            return out;
          })
        : await publishEach(herald.pool, appId, inputs, opts);
  let next = 0;
  const results: BatchResult[] = [];
  for (const [i, p] of parsed.entries()) {
    if (!p.ok) {
      results.push(p.result);
      continue;
    }
    const o = outcomes[next++]!;
    if (!o.ok) {
      results.push(refused(o.error, i));
      continue;
    }
    const channels = o.message.duplicate ? ((await getMessage(herald.pool, appId, o.message.id))?.channels ?? null) : (p.body.channels ?? null);
    results.push({
      status: 202,
      error: null,
      message: {
        id: o.message.id,
        eventType: o.message.eventType,
        eventId: o.message.eventId,
        payload: withContent ? o.message.payload : {},
        channels,
        timestamp: o.message.timestamp,
      },
    });
  }
  return results;
}

/** A published message and how to show it. */
interface Created {
  /** The engine's result. */
  msg: PublishedMessage;
  /** MessageOut, with or without the payload. */
  out(withContent: boolean): z.output<typeof MessageOut>;
}

/**
 * Publishes; channels are written in the same transaction, so a message never exists without
 * them. A duplicate eventId returns the first message, channels included.
 */
async function createMessage(herald: Herald, appId: string, body: z.output<typeof MessageIn>): Promise<Created> {
  const opts = { now: herald.clock.now(), maxPayloadBytes: herald.config.HERALD_MAX_PAYLOAD_BYTES };
  const input = { eventType: body.eventType, payload: body.payload, eventId: body.eventId ?? null };
  let msg: PublishedMessage;
  let channels = body.channels ?? null;
  if (!channels) {
    msg = await publish(herald.pool, appId, input, opts);
  } else {
    const withChannels = channels;
    msg = await inTransaction(herald.pool, async (client) => {
      const m = await publish(client, appId, input, opts);
      if (!m.duplicate) await setMessageChannels(client, appId, m.id, withChannels);
      return m;
    });
  }
  if (msg.duplicate) channels = (await getMessage(herald.pool, appId, msg.id))?.channels ?? null;
  return {
    msg,
    out: (withContent) => ({
      id: msg.id,
      eventType: msg.eventType,
      eventId: msg.eventId,
      payload: withContent ? msg.payload : {},
      channels,
      timestamp: msg.timestamp,
    }),
  };
}
