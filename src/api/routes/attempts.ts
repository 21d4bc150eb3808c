/**
 * The delivery log (Svix v1 message attempts): attempts by endpoint and by message, one attempt
 * with what was sent, resend, a message's endpoints and an endpoint's messages with their status,
 * and (Herald) a CSV export of an endpoint's filtered history.
 */
import { Readable } from 'node:stream';
import type { z } from 'zod';
import { HeraldError } from '../../core/errors.js';
import type { ApplicationRow } from '../../store/applications.js';
import {
  getAttempt,
  listAttemptLog,
  listEndpointDeliveries,
  listMessageDeliveries,
  type AttemptFilter,
  type AttemptLogRow,
  type PagePosition,
} from '../../store/attempts.js';
import { getEndpoint, type EndpointRow } from '../../store/endpoints.js';
import { getMessage, type MessageRow } from '../../store/messages.js';
import type { Queryable } from '../../store/pool.js';
import { requeueDelivery } from '../../store/replay.js';
import { requireApp } from '../auth.js';
import { csvDocument, type CsvValue } from '../csv.js';
import type { Api, ApiDeps } from '../context.js';
import { listResponse } from '../pagination.js';
import {
  AttemptExportQuery,
  AttemptListQuery,
  AttemptParams,
  EmptyResponse,
  EndpointMessageOut,
  EndpointMessagesQuery,
  MessageAttemptDetailOut,
  MessageAttemptOut,
  MessageEndpointOut,
  MessageAttemptsQuery,
  MessageEndpointsQuery,
  ResendParams,
  STATE_OF_STATUS,
  toAttemptDetailOut,
  toAttemptOut,
  toEndpointMessageOut,
  toMessageEndpointOut,
} from '../schemas/attempts.js';
import { errorResponses } from '../schemas/common.js';
import { EndpointParams } from '../schemas/endpoints.js';
import { foldArrayQuery, keysetOf, keysetPage, MsgParams } from '../schemas/messages.js';
import { endpointNotFound } from './endpoints.js';

const TAGS = ['Message Attempt'];

/** Finds a message of the application by id or eventId, or answers 404. */
export async function findMessage(db: Queryable, app: ApplicationRow, idOrEventId: string): Promise<MessageRow> {
  const msg = await getMessage(db, app.id, idOrEventId);
  if (!msg) throw new HeraldError('not_found', `message ${idOrEventId} not found`);
  return msg;
}

/** Finds an endpoint of the application by id or uid, or answers 404 (just the row: no secret hint or latest attempt). */
export async function findEndpoint(db: Queryable, app: ApplicationRow, idOrUid: string): Promise<EndpointRow> {
  const ep = await getEndpoint(db, app.id, idOrUid);
  if (!ep) throw endpointNotFound(idOrUid);
  return ep;
}

/** The store filter of an attempt list (or export, or count) query. */
export function attemptFilter(q: z.output<typeof AttemptExportQuery> & { with_msg?: boolean }): AttemptFilter {
  return {
    // Attempts are only ever finished (success or fail): other statuses match nothing, as in Svix.
    succeeded: q.status == null ? null : q.status === 0 ? true : q.status === 2 ? false : 'none',
    statusClass: q.status_code_class ?? null,
    eventTypes: q.event_types ?? null,
    channel: q.channel ?? null,
    before: q.before ?? null,
    after: q.after ?? null,
    withPayload: q.with_msg ?? false,
  };
}

function attemptPage(rows: AttemptLogRow[], pos: PagePosition, q: z.output<typeof AttemptListQuery>) {
  return keysetPage(rows, pos, (r) => r.id, (r) => toAttemptOut(r, { withContent: q.with_content, withMsg: q.with_msg }));
}

export default async function attemptRoutes(app: Api, deps: ApiDeps): Promise<void> {
  attemptListRoutes(app, deps);
  attemptRoutesOfOne(app, deps);
  deliveryStatusRoutes(app, deps);
  exportRoute(app, deps);
}

/** The two attempt lists: by endpoint (the delivery history) and by message. */
function attemptListRoutes(app: Api, deps: ApiDeps): void {
  const db = deps.herald.pool;

  app.get(
    '/app/:app_id/attempt/endpoint/:endpoint_id',
    {
      config: { permission: 'read' },
      preValidation: foldArrayQuery,
      schema: {
        operationId: 'v1.message-attempt.list-by-endpoint',
        tags: TAGS,
        summary: "List an endpoint's attempts",
        description: 'The delivery history of one endpoint, newest first; filter by status, status code class, event type and time.',
        params: EndpointParams,
        querystring: AttemptListQuery,
        response: { 200: listResponse(MessageAttemptOut), ...errorResponses(404, 422) },
      },
    },
    async (req) => {
      const application = await requireApp(req, deps, req.params.app_id, 'read');
      const ep = await findEndpoint(db, application, req.params.endpoint_id);
      const pos = keysetOf(req.query.iterator, req.query.limit, 'atmpt');
      const rows = await listAttemptLog(db, application.id, { ...attemptFilter(req.query), endpointId: ep.id }, pos);
      return attemptPage(rows, pos, req.query);
    },
  );

  app.get(
    '/app/:app_id/attempt/msg/:msg_id',
    {
      config: { permission: 'read' },
      preValidation: foldArrayQuery,
      schema: {
        operationId: 'v1.message-attempt.list-by-msg',
        tags: TAGS,
        summary: "List a message's attempts",
        description: 'Every attempt to deliver one message, newest first; `endpoint_id` narrows it to one endpoint.',
        params: MsgParams,
        querystring: MessageAttemptsQuery,
        response: { 200: listResponse(MessageAttemptOut), ...errorResponses(404, 422) },
      },
    },
    async (req) => {
      const application = await requireApp(req, deps, req.params.app_id, 'read');
      const msg = await findMessage(db, application, req.params.msg_id);
      const ep = req.query.endpoint_id ? await findEndpoint(db, application, req.query.endpoint_id) : null;
      const pos = keysetOf(req.query.iterator, req.query.limit, 'atmpt');
      const filter = { ...attemptFilter(req.query), msgId: msg.id, endpointId: ep?.id ?? null };
      return attemptPage(await listAttemptLog(db, application.id, filter, pos), pos, req.query);
    },
  );

}

/** One attempt: read it, or send its message again. */
function attemptRoutesOfOne(app: Api, deps: ApiDeps): void {
  const db = deps.herald.pool;

  app.get(
    '/app/:app_id/msg/:msg_id/attempt/:attempt_id',
    {
      config: { permission: 'read' },
      schema: {
        operationId: 'v1.message-attempt.get',
        tags: TAGS,
        summary: 'Get an attempt',
        description: 'One attempt with the request that was sent (headers and body) and the response.',
        params: AttemptParams,
        response: { 200: MessageAttemptDetailOut, ...errorResponses(404) },
      },
    },
    async (req) => {
      const application = await requireApp(req, deps, req.params.app_id, 'read');
      const msg = await findMessage(db, application, req.params.msg_id);
      const attempt = await getAttempt(db, application.id, msg.id, req.params.attempt_id);
      if (!attempt) throw new HeraldError('not_found', `attempt ${req.params.attempt_id} of message ${msg.id} not found`);
      return toAttemptDetailOut(attempt);
    },
  );

  app.post(
    '/app/:app_id/msg/:msg_id/endpoint/:endpoint_id/resend',
    {
      config: { permission: 'update', idempotent: true },
      schema: {
        operationId: 'v1.message-attempt.resend',
        tags: TAGS,
        summary: 'Resend a message to an endpoint',
        description:
          'Queues one more attempt of the same message (same webhook-id) to the endpoint; it appears in the log with triggerType 1. ' +
          'A message still being retried is sent now instead of at its next retry.',
        params: ResendParams,
        response: { 202: EmptyResponse, ...errorResponses(404, 409) },
      },
    },
    async (req, reply) => {
      const application = await requireApp(req, deps, req.params.app_id, 'update');
      const msg = await findMessage(db, application, req.params.msg_id);
      const ep = await findEndpoint(db, application, req.params.endpoint_id);
      if (ep.disabled) {
        throw new HeraldError('conflict', `endpoint ${ep.id} is disabled; enable it before resending (a disabled endpoint receives nothing)`);
      }
      const result = await requeueDelivery(db, application.id, msg.id, ep.id, deps.herald.clock.now());
      if (result === 'in_flight') {
        throw new HeraldError(
          'conflict',
          `message ${msg.id} is being sent to endpoint ${ep.id} right now; wait for this attempt to finish (it appears in the attempt list), then resend`,
        );
      }
      if (result === 'expunged') throw new HeraldError('conflict', `message ${msg.id} had its content expunged; there is nothing left to send`);
      if (result === 'not_found') throw new HeraldError('not_found', `message ${msg.id} or endpoint ${ep.id} not found`);
      return reply.code(202).send({});
    },
  );

}

/** Delivery status per (message, endpoint): a message's endpoints, an endpoint's messages. */
function deliveryStatusRoutes(app: Api, deps: ApiDeps): void {
  const db = deps.herald.pool;

  app.get(
    '/app/:app_id/msg/:msg_id/endpoint',
    {
      config: { permission: 'read' },
      schema: {
        operationId: 'v1.message-attempt.list-attempted-destinations',
        tags: TAGS,
        summary: "List a message's endpoints",
        description: 'The endpoints a message was delivered (or is being delivered) to, each with its delivery status.',
        params: MsgParams,
        querystring: MessageEndpointsQuery,
        response: { 200: listResponse(MessageEndpointOut), ...errorResponses(404, 422) },
      },
    },
    async (req) => {
      const application = await requireApp(req, deps, req.params.app_id, 'read');
      const msg = await findMessage(db, application, req.params.msg_id);
      const pos = keysetOf(req.query.iterator, req.query.limit, 'ep');
      const rows = await listMessageDeliveries(db, application.id, msg.id, pos);
      return keysetPage(rows, pos, (r) => r.id, toMessageEndpointOut);
    },
  );

  app.get(
    '/app/:app_id/endpoint/:endpoint_id/msg',
    {
      config: { permission: 'read' },
      preValidation: foldArrayQuery,
      schema: {
        operationId: 'v1.message-attempt.list-attempted-messages',
        tags: TAGS,
        summary: "List an endpoint's messages",
        description: 'Messages sent to one endpoint, newest first, each with its delivery status and next attempt.',
        params: EndpointParams,
        querystring: EndpointMessagesQuery,
        response: { 200: listResponse(EndpointMessageOut), ...errorResponses(404, 422) },
      },
    },
    async (req) => {
      const application = await requireApp(req, deps, req.params.app_id, 'read');
      const ep = await findEndpoint(db, application, req.params.endpoint_id);
      const q = req.query;
      const pos = keysetOf(q.iterator, q.limit, 'msg');
      const filter = {
        state: q.status == null ? null : STATE_OF_STATUS[q.status],
        eventTypes: q.event_types ?? null,
        channel: q.channel ?? null,
        before: q.before ?? null,
        after: q.after ?? null,
        withPayload: q.with_content,
      };
      const rows = await listEndpointDeliveries(db, application.id, ep.id, filter, pos);
      return keysetPage(rows, pos, (r) => r.id, (r) => toEndpointMessageOut(r, q.with_content));
    },
  );

}

/** The CSV export of an endpoint's filtered history (Herald). */
function exportRoute(app: Api, deps: ApiDeps): void {
  const db = deps.herald.pool;

  app.get(
    '/app/:app_id/attempt/endpoint/:endpoint_id/export.csv',
    {
      config: { permission: 'read' },
      preValidation: foldArrayQuery,
      schema: {
        operationId: 'v1.message-attempt.export-by-endpoint',
        tags: TAGS,
        summary: "Export an endpoint's attempts as CSV",
        description:
          'Herald: the filtered delivery history (the filters of the attempt list, without paging), newest first, ' +
          'streamed as RFC 4180 CSV. Cells starting with = + - @ (or a tab or carriage return) get a leading single quote, ' +
          'so spreadsheet programs show them as text instead of running them as formulas.',
        params: EndpointParams,
        querystring: AttemptExportQuery,
      },
    },
    async (req, reply) => {
      const application = await requireApp(req, deps, req.params.app_id, 'read');
      const ep = await findEndpoint(db, application, req.params.endpoint_id);
      const filter = { ...attemptFilter(req.query), endpointId: ep.id };
      const day = deps.herald.clock.now().toISOString().slice(0, 10);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="attempts-${ep.id}-${day}.csv"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(csvDocument(CSV_COLUMNS, attemptPages(db, application.id, filter), attemptCells)));
    },
  );
}

/** Columns of the CSV export, in order. */
export const CSV_COLUMNS = [
  'timestamp',
  'attempt_id',
  'attempt_number',
  'trigger',
  'status',
  'response_status_code',
  'duration_ms',
  'error_stage',
  'error_message',
  'event_type',
  'msg_id',
  'event_id',
  'endpoint_id',
  'url',
] as const;

/** The cells of one attempt, in {@link CSV_COLUMNS} order. */
function attemptCells(a: AttemptLogRow): CsvValue[] {
  return [
    a.createdAt.toISOString(),
    a.id,
    a.attemptNumber,
    a.trigger,
    a.succeeded ? 'success' : 'fail',
    a.responseStatus,
    a.durationMs,
    a.errorStage,
    a.errorMessage,
    a.eventType,
    a.msgId,
    a.eventId,
    a.endpointId,
    a.url,
  ];
}

/** Rows read a page at a time (keyset), so a long export holds no transaction and little memory. */
const CSV_PAGE = 500;

async function* attemptPages(db: Queryable, appId: string, filter: AttemptFilter): AsyncGenerator<AttemptLogRow[]> {
  let pos: PagePosition = { cursor: null, cursorTime: null, direction: 'next', limit: CSV_PAGE };
  for (;;) {
    const rows = await listAttemptLog(db, appId, filter, pos);
    const page = rows.slice(0, CSV_PAGE);
    yield page;
    const last = page.at(-1);
    if (rows.length <= CSV_PAGE || !last) return;
    pos = { cursor: last.id, cursorTime: last.createdAt, direction: 'next', limit: CSV_PAGE };
  }
}
