/**
 * Delivery log schemas: Svix `MessageAttemptOut`, `EndpointMessageOut`, `MessageEndpointOut`,
 * `EndpointStats`, `RecoverIn`/`RecoverOut`, `EventExampleIn`, and Herald's health view. Herald
 * adds fields (attempt number, error, headers) beside Svix's; Svix's keep their meaning.
 */
import { z } from 'zod';
import type { AttemptLogRow, DeliveryInfo, DeliveryState, EndpointDeliveryRow, MessageDeliveryRow } from '../../store/attempts.js';
import { ListQuery } from '../pagination.js';
import { EventTypeName, IdOrUid, queryFlag } from './common.js';
import { DateTime, MessageOut, MsgParams, TimeListQuery, toMessageOut } from './messages.js';

/** Svix MessageStatus: 0 success, 1 pending, 2 fail, 3 sending, 4 canceled (Herald: skipped). */
export const MessageStatus = z
  .literal([0, 1, 2, 3, 4])
  .describe('0 success, 1 pending, 2 fail, 3 sending, 4 canceled (not sent: the endpoint was disabled).')
  .meta({ id: 'MessageStatus' });
/** Names of the statuses, indexed by status. */
export const STATUS_TEXT = ['success', 'pending', 'fail', 'sending', 'canceled'] as const;
type Status = z.output<typeof MessageStatus>;

/** Delivery state as a Svix status, and back (for filters). */
export const STATUS_OF_STATE: Record<DeliveryState, Status> = { succeeded: 0, pending: 1, failed: 2, sending: 3, skipped: 4 };
export const STATE_OF_STATUS: Record<Status, DeliveryState> = { 0: 'succeeded', 1: 'pending', 2: 'failed', 3: 'sending', 4: 'skipped' };

/** A `status` query value. */
export const StatusQuery = z.coerce
  .number()
  .int()
  .min(0)
  .max(4)
  .transform((n) => n as Status)
  .nullish()
  .describe('Only items with this status (0 success, 1 pending, 2 fail, 3 sending, 4 canceled).');

/** Path of one attempt. */
export const AttemptParams = MsgParams.extend({ attempt_id: IdOrUid.describe('Attempt id (atmpt_…).') });
/** Path of a resend. */
export const ResendParams = MsgParams.extend({ endpoint_id: IdOrUid.describe("The endpoint's id or uid.") });

/** Filters of the attempt lists and the CSV export. */
export const AttemptListQuery = TimeListQuery.extend({
  status: StatusQuery,
  status_code_class: z.coerce
    .number()
    .int()
    .refine((n) => [0, 100, 200, 300, 400, 500].includes(n), 'one of 0, 100, 200, 300, 400, 500')
    .nullish()
    .describe('Only attempts whose HTTP status is in this class (0 = no response).'),
  with_msg: queryFlag(false).describe('Include the message (and its payload, the request body) in each attempt.'),
  expanded_statuses: queryFlag(true).describe('Accepted for Svix compatibility (statuses are always expanded).'),
});

/** Query of the attempts of one message: the list filters plus one endpoint. */
export const MessageAttemptsQuery = AttemptListQuery.extend({
  endpoint_id: IdOrUid.nullish().describe('Only attempts to this endpoint (id or uid).'),
});

/** Query of the CSV export: the list filters without paging (the export streams every matching row). */
export const AttemptExportQuery = AttemptListQuery.omit({ limit: true, iterator: true, with_msg: true, with_content: true, expanded_statuses: true });

/** Svix EmptyResponse (resend answers 202 with `{}`). */
export const EmptyResponse = z.object({}).meta({ id: 'EmptyResponse' });

/** Where a failed attempt stopped (Herald). */
const ErrorStage = z.enum(['dns', 'connect', 'tls', 'timeout', 'response', 'blocked']);

/** Svix `MessageAttemptOut`, plus Herald's delivery-log fields. */
export const MessageAttemptOut = z.object({
  id: z.string().describe('atmpt_…'),
  msgId: z.string().describe('Message.'),
  endpointId: z.string().describe('Endpoint.'),
  url: z.string().describe('URL the request went to.'),
  response: z.string().describe('Response body as text (first 64 KiB; "" with with_content=false or when none arrived).'),
  responseStatusCode: z.number().int().describe('HTTP status; 0 when no response arrived.'),
  responseDurationMs: z.number().int().describe('Time from sending the request to the end of the response or the failure.'),
  status: MessageStatus,
  statusText: z.enum(STATUS_TEXT).describe('The status as a word.'),
  timestamp: z.date().describe('When the attempt started.'),
  triggerType: z.literal([0, 1]).describe('0 scheduled (first try or retry), 1 manual (resend, recover).'),
  msg: MessageOut.optional().describe('The message, with with_msg=true.'),
  attemptNumber: z.number().int().describe('Herald: 1-based number of this attempt over the delivery (retries and resends count).'),
  eventType: z.string().describe('Herald: event type of the message.'),
  errorStage: ErrorStage.nullable().describe('Herald: where a failed attempt stopped (dns, connect, tls, timeout, response, blocked).'),
  errorMessage: z.string().nullable().describe('Herald: what went wrong and what to fix; null on success.'),
  responseHeaders: z.record(z.string(), z.string()).nullable().describe('Herald: response headers (names lower-cased).'),
  responseTruncated: z.boolean().describe('Herald: the response body was longer than what is stored.'),
}).meta({ id: 'MessageAttemptOut' });

/** One attempt with what was sent: `MessageAttemptOut` plus the request (Herald). */
export const MessageAttemptDetailOut = MessageAttemptOut.extend({
  requestHeaders: z.record(z.string(), z.string()).describe('Herald: headers sent; credential-like custom header values are redacted.'),
  requestBody: z.string().describe('Herald: the exact body sent (the message payload, as signed); empty once retention purged it (msgPayloadPurged).'),
  msgPayloadPurged: z.boolean().describe("Herald: true when retention purged the message's payload, so requestBody is no longer known."),
}).meta({ id: 'MessageAttemptDetailOut' });

/**
 * Header names whose values are credentials a receiver asked for (custom endpoint headers): the
 * log shows that they were sent, not their value, to anyone who can read it (Svix hides
 * "sensitive" endpoint headers the same way). Signature headers are not secrets and stay.
 */
const SENSITIVE_HEADER = /^(authorization|proxy-authorization|cookie)$|token|secret|password|api[-_]?key|credential/i;

export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = SENSITIVE_HEADER.test(name) ? '[redacted]' : value;
  }
  return out;
}

export function toAttemptOut(a: AttemptLogRow, opts: { withContent: boolean; withMsg: boolean }): z.output<typeof MessageAttemptOut> {
  const status: Status = a.succeeded ? 0 : 2;
  return {
    id: a.id,
    msgId: a.msgId,
    endpointId: a.endpointId,
    url: a.url,
    response: opts.withContent ? (a.responseBody ?? '') : '',
    responseStatusCode: a.responseStatus ?? 0,
    responseDurationMs: a.durationMs,
    status,
    statusText: STATUS_TEXT[status],
    timestamp: a.createdAt,
    triggerType: a.trigger === 'manual' ? 1 : 0,
    ...(opts.withMsg ? { msg: toMessageOut({ ...a, id: a.msgId, createdAt: a.msgCreatedAt }, true) } : {}),
    attemptNumber: a.attemptNumber,
    eventType: a.eventType,
    errorStage: (a.errorStage as z.output<typeof ErrorStage> | null) ?? null,
    errorMessage: a.errorMessage,
    responseHeaders: opts.withContent ? a.responseHeaders : null,
    responseTruncated: a.responseTruncated,
  };
}

export function toAttemptDetailOut(a: AttemptLogRow): z.output<typeof MessageAttemptDetailOut> {
  return {
    ...toAttemptOut(a, { withContent: true, withMsg: false }),
    requestHeaders: redactHeaders(a.requestHeaders),
    requestBody: a.payload && a.payloadPurgedAt === null ? a.payload.toString('utf8') : '',
    msgPayloadPurged: a.payloadPurgedAt !== null,
  };
}

/** Fields Herald adds to the delivery lists: the latest attempt at a glance. */
const DeliveryExtras = {
  attempts: z.number().int().describe('Herald: attempts made so far.'),
  lastResponseStatusCode: z.number().int().nullable().describe('Herald: HTTP status of the latest attempt.'),
  lastError: z.string().nullable().describe('Herald: why the latest attempt failed, or why the message was not sent.'),
  lastAttemptAt: z.date().nullable().describe('Herald: when the latest attempt ran.'),
};

function deliveryFields(d: DeliveryInfo) {
  const status = STATUS_OF_STATE[d.state];
  return {
    status,
    statusText: STATUS_TEXT[status],
    nextAttempt: d.nextAttemptAt,
    attempts: d.attemptsMade,
    lastResponseStatusCode: d.lastStatus,
    lastError: d.lastError,
    lastAttemptAt: d.lastAttemptAt,
  };
}

/** Svix `EndpointMessageOut`: a message of an endpoint with its delivery status. */
export const EndpointMessageOut = MessageOut.extend({
  status: MessageStatus,
  statusText: z.enum(STATUS_TEXT).describe('The status as a word.'),
  nextAttempt: z.date().nullable().describe('Next attempt time while pending.'),
  ...DeliveryExtras,
}).meta({ id: 'EndpointMessageOut' });

export function toEndpointMessageOut(r: EndpointDeliveryRow, withContent: boolean): z.output<typeof EndpointMessageOut> {
  return { ...toMessageOut(r, withContent), ...deliveryFields(r) };
}

/** Svix `MessageEndpointOut`: an endpoint a message went to, with the delivery status. */
export const MessageEndpointOut = z.object({
  id: z.string().describe('ep_…'),
  uid: z.string().nullable().describe('Platform id of the endpoint.'),
  url: z.string().describe('Endpoint URL.'),
  description: z.string().describe('Endpoint description.'),
  disabled: z.boolean().describe('Endpoint disabled.'),
  filterTypes: z.array(z.string()).nullable().describe('Subscribed event types (null = all).'),
  channels: z.array(z.string()).nullable().describe('Endpoint channels.'),
  rateLimit: z.number().int().nullable().describe('Requests per second, or null.'),
  version: z.number().int().describe('Always 1 (Svix field).'),
  createdAt: z.date().describe('Endpoint creation.'),
  updatedAt: z.date().describe('Endpoint last change.'),
  status: MessageStatus,
  statusText: z.enum(STATUS_TEXT).describe('The status as a word.'),
  nextAttempt: z.date().nullable().describe('Next attempt time while pending.'),
  ...DeliveryExtras,
}).meta({ id: 'MessageEndpointOut' });

export function toMessageEndpointOut(r: MessageDeliveryRow): z.output<typeof MessageEndpointOut> {
  return {
    id: r.id,
    uid: r.uid,
    url: r.url,
    description: r.description,
    disabled: r.disabled,
    filterTypes: r.filterTypes,
    channels: r.channels,
    rateLimit: r.rateLimit,
    version: 1,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    ...deliveryFields(r),
  };
}

/** Query of the endpoint's message list (Svix "list attempted messages"). */
export const EndpointMessagesQuery = TimeListQuery.extend({
  status: StatusQuery,
  expanded_statuses: queryFlag(true).describe('Accepted for Svix compatibility.'),
});

/** Query of a message's endpoint list (ordered by endpoint id). */
export const MessageEndpointsQuery = ListQuery.pick({ limit: true, iterator: true });

/** Svix `RecoverIn`. */
export const RecoverIn = z.object({
  since: DateTime.describe('Recover failed messages published since this time.'),
  until: DateTime.nullish().describe('…and before this time (default: now).'),
}).meta({ id: 'RecoverIn' });

/** Svix `RecoverOut` (the background task to poll), plus the number of failed messages found (Herald). */
export const RecoverOut = z.object({
  id: z.string().describe('Task id (qtask_…): poll GET /api/v1/background-task/{id} until it is finished.'),
  status: z.enum(['running', 'finished', 'failed']).describe('running when answered; the task says when it is finished.'),
  task: z.literal('endpoint.recover').describe('Task type.'),
  updatedAt: z.date().describe('When the task last changed.'),
  count: z.number().int().describe('Herald: failed messages found to recover when the task started.'),
}).meta({ id: 'RecoverOut' });

/** Svix `EventExampleIn` (`exampleIndex` from the Svix client). */
export const EventExampleIn = z.object({
  eventType: EventTypeName.describe('Event type to send an example of ("svix.ping" sends {"success": true}).'),
  exampleIndex: z.number().int().min(0).max(1000).nullish().describe("Which of the schema's `examples` to send (default 0)."),
}).meta({ id: 'EventExampleIn' });

/** Query of endpoint stats. */
export const StatsQuery = z.object({
  since: DateTime.nullish().describe('Start of the window (default: 28 days before until).'),
  until: DateTime.nullish().describe('End of the window (default: now).'),
});

/** Svix `EndpointStats`: deliveries of the endpoint by status, in the window. */
export const EndpointStats = z.object({
  success: z.number().int().describe('Delivered.'),
  fail: z.number().int().describe('Failed for good (retries exhausted or not retryable).'),
  pending: z.number().int().describe('Waiting for an attempt or a retry.'),
  sending: z.number().int().describe('Being sent right now.'),
  canceled: z.number().int().describe('Not sent because the endpoint was disabled (recover sends them).'),
}).meta({ id: 'EndpointStats' });

/** Herald's health view (operators). */
export const HealthOut = z.object({
  queueDepth: z.number().int().describe('Deliveries due now: pending whose time has come, plus those being sent.'),
  inFlight: z.number().int().describe('Of queueDepth, deliveries being sent right now.'),
  scheduledRetries: z.number().int().describe('Deliveries waiting for a later retry.'),
  deliveriesPerMinute: z.number().describe('Attempts (succeeded + failed) per minute over the last 5 minutes.'),
  succeededLast5m: z.number().int().describe('Successful attempts in the last 5 minutes.'),
  failedLast5m: z.number().int().describe('Failed attempts in the last 5 minutes.'),
  failingEndpoints: z
    .array(
      z.object({
        appId: z.string().describe('Application.'),
        endpointId: z.string().describe('Endpoint.'),
        url: z.string().describe('Endpoint URL.'),
        consecutiveFailures: z.number().int().describe('Failed attempts in a row.'),
        lastError: z.string().nullable().describe('Latest failure reason.'),
        disabled: z.boolean().describe('Disabled (automatically or by a person).'),
        disabledReason: z.string().nullable().describe('Why it was disabled.'),
        failingSince: z.date().nullable().describe('First failure of the current run.'),
      }),
    )
    .describe('Endpoints whose latest attempts failed, worst first (at most 50).'),
}).meta({ id: 'DeliveryHealthOut' });
