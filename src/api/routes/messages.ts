/**
 * Messages (Svix v1): publish, list, get. Publishing goes through the engine's `publish`, so the
 * API, the library API and the CLI share one set of rules (payload limit, eventId idempotency).
 * Also registers the endpoint operations (recover, send-example, stats, health), so app.ts keeps
 * one line per resource file it already had.
 */
import type { z } from 'zod';
import { HeraldError } from '../../core/errors.js';
import { publish, type PublishedMessage } from '../../engine/publish.js';
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
  MessageIn,
  MessageOut,
  MsgParams,
  TimeListQuery,
  toMessageOut,
  WithContentQuery,
} from '../schemas/messages.js';
import endpointOpsRoutes from './endpoint-ops.js';

const TAGS = ['Message'];

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
