/**
 * Message schemas (Svix `MessageIn` / `MessageOut`) and the pieces every time-ordered list shares:
 * the `before`/`after`/`event_types` query parameters and keyset pages that can walk both ways
 * (`iterator` for older items, `prevIterator` = "-<id>" for newer ones, as Svix does).
 */
import { z } from 'zod';
import { HeraldError } from '../../core/errors.js';
import { idTimestamp, isId, type IdPrefix } from '../../core/ids.js';
import { MAX_MESSAGE_CHANNELS, MAX_MESSAGE_TAGS } from '../../engine/publish-input.js';
import type { MessageRow } from '../../store/messages.js';
import type { PagePosition } from '../../store/attempts.js';
import { ListQuery } from '../pagination.js';
import { AppParams, ApplicationIn } from './applications.js';
import { EventTypeName, HttpErrorOut, HTTPValidationError, ID_PATTERN, IdOrUid, queryFlag, visibleText } from './common.js';

/** A channel name (Svix rule). */
export const ChannelName = visibleText(z.string()).min(1).max(128).regex(ID_PATTERN).describe('Channel, e.g. project_123.');
/** Svix's tag: letters, digits and - _ . / \ #. */
export const TagName = visibleText(z.string()).min(1).max(128).regex(/^[a-zA-Z0-9\-_./\\#]+$/, 'may only contain letters, digits, "-", "_", ".", "/", "\\" and "#"').describe('Tag, e.g. project_123.');

/** A date-time query or body value (RFC 3339, e.g. 2026-01-31T12:00:00Z). */
export const DateTime = z.iso
  .datetime({ offset: true })
  .transform((s) => new Date(s))
  .describe('RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z.');

/**
 * `event_types` as the official clients send it: comma-joined (`a,b`, the JavaScript client) or
 * repeated (`event_types=a&event_types=b`); `event_types[]=a` is folded in by {@link foldArrayQuery}.
 */
export const EventTypesQuery = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(EventTypeName).max(100))
  .optional()
  .describe('Only items of these event types (comma-separated or repeated).');

/**
 * Copies `name[]` query parameters (PHP/Rails style) into `name`, so `event_types[]=a` works too.
 * Used as a route's preValidation hook; query objects are plain, so this is a shallow rewrite.
 */
export async function foldArrayQuery(req: { query: unknown }): Promise<void> {
  const q = req.query as Record<string, unknown>;
  for (const key of Object.keys(q)) {
    if (!key.endsWith('[]')) continue;
    const name = key.slice(0, -2);
    const extra = q[key];
    const existing = q[name];
    q[name] = [existing, extra].flat().filter((v) => v !== undefined);
    delete q[key];
  }
}

/** Query parameters of every time-ordered list (messages, attempts, an endpoint's messages). */
export const TimeListQuery = z.object({
  limit: ListQuery.shape.limit,
  iterator: ListQuery.shape.iterator.describe('Cursor from a previous page: its `iterator` for older items, its `prevIterator` for newer ones.'),
  before: DateTime.nullish().describe('Only items created before this time.'),
  after: DateTime.nullish().describe('Only items created after this time.'),
  event_types: EventTypesQuery,
  channel: ChannelName.nullish().describe('Only messages sent with this channel.'),
  with_content: queryFlag(true).describe('Include payloads / response bodies (default true).'),
  tag: TagName.nullish().describe('Only messages published with this tag.'),
});

/**
 * Turns `iterator` into a keyset: an id of `prefix` (the page after it) or "-<id>" (the page
 * before it). The id's embedded time is the fallback position when its row no longer exists.
 */
export function keysetOf(iterator: string | null | undefined, limit: number, prefix: IdPrefix): PagePosition {
  if (!iterator) return { cursor: null, cursorTime: null, direction: 'next', limit };
  const newer = iterator.startsWith('-');
  const id = newer ? iterator.slice(1) : iterator;
  if (!isId(prefix, id)) {
    const message = `iterator must be a value returned as iterator or prevIterator by this list (a ${prefix}_ id)`;
    throw new HeraldError('validation', message, { fields: [{ path: 'iterator', message, location: 'query' }] });
  }
  return { cursor: id, cursorTime: idTimestamp(id), direction: newer ? 'prev' : 'next', limit };
}

/**
 * Builds `{ data, iterator, prevIterator, done }` from rows fetched with `limit + 1` in the
 * keyset's direction. A "prev" page was read in reverse (so the rows nearest the cursor come
 * first) and is turned back to the list's order before answering.
 */
export function keysetPage<R, O>(rows: R[], ks: PagePosition, idOf: (r: R) => string, map: (r: R) => O) {
  const more = rows.length > ks.limit;
  const items = rows.slice(0, ks.limit);
  if (ks.direction === 'prev') items.reverse();
  return {
    data: items.map(map),
    iterator: items.length ? idOf(items[items.length - 1]!) : null,
    prevIterator: items.length ? `-${idOf(items[0]!)}` : null,
    done: !more,
  };
}

/** Svix `MessageIn`. Svix fields Herald does not implement are accepted and ignored, except deliverAt. */
export const MessageIn = z.object({
  eventType: EventTypeName,
  payload: z.record(z.string(), z.unknown()).describe('The JSON object to deliver; sent as its JSON serialisation.'),
  eventId: z
    .string()
    .min(1)
    .max(256)
    .regex(ID_PATTERN)
    .nullish()
    .describe('Your idempotency key: publishing it again returns the first message and sends nothing.'),
  channels: z
    .array(ChannelName)
    .min(1)
    .max(MAX_MESSAGE_CHANNELS, `at most ${MAX_MESSAGE_CHANNELS} channels per message (a fixed limit, as in Svix's API)`)
    .nullish()
    .describe(`Free-form channels (stored and returned), 1-${MAX_MESSAGE_CHANNELS}.`),
  deliverAt: z
    .null({ error: 'Herald delivers at once and does not support deliverAt; omit it' })
    .optional()
    .describe('Not supported: Herald delivers at once, so a scheduled time is refused rather than ignored.'),
  tags: z.array(TagName).max(MAX_MESSAGE_TAGS, `at most ${MAX_MESSAGE_TAGS} tags per message (a fixed limit, as in Svix's API)`).nullish().describe('Up to five free-form tags (stored and returned); the message list filters by one (`?tag=`).'),
  application: ApplicationIn.nullish().describe(
    'Creates the application of the path (with this name, uid and settings) when it does not exist; ignored when it does. Without it, publishing to a missing application is a 404.',
  ),
  payloadRetentionPeriod: z.number().int().min(1).max(3_650).nullish().describe(
    "Days to keep this message's payload (1-3650); after that it is purged (the message reads `payloadPurged: true`). The application's retention period, which deletes the whole message, still applies when shorter. Not with payloadRetentionHours.",
  ),
  payloadRetentionHours: z.number().int().min(1).max(87_600).nullish().describe("Hours to keep this message's payload (1-87600), instead of payloadRetentionPeriod's days."),
}).meta({ id: 'MessageIn' });

/** Query of message create and get. */
export const WithContentQuery = z.object({
  with_content: queryFlag(true).describe('Include the payload in the response (default true).'),
});

/**
 * Query of the publishes. The schema opt-out is a query parameter rather than a MessageIn field: it
 * is a decision of the call, not part of the message (nothing stores it), MessageIn keeps Svix's
 * shape, and one parameter covers a whole batch.
 */
export const PublishQuery = WithContentQuery.extend({
  validate_schema: queryFlag(true).describe(
    "Herald: false publishes without checking the payload against its event type's JSON Schema (default true; the operator's HERALD_SCHEMA_ENFORCEMENT=false turns the check off for everyone).",
  ),
});

/** Svix `MessageOut`. */
export const MessageOut = z.object({
  id: z.string().describe('msg_…; also the webhook-id header of every delivery of this message.'),
  eventType: z.string().describe('Event type.'),
  eventId: z.string().nullable().describe('Your idempotency key, if given.'),
  payload: z.record(z.string(), z.unknown()).describe('The payload ({} when with_content=false).'),
  channels: z.array(z.string()).nullable().describe('Channels given at publish.'),
  tags: z.array(z.string()).nullable().describe('Tags given at publish.'),
  timestamp: z.date().describe('Publish time.'),
  debounceState: z
    .enum(['waiting', 'consolidated', 'unchanged'])
    .nullable()
    .optional()
    .describe(
      'Herald, debounced event types (docs/debounce.md): waiting in its window; consolidated (sent within consolidatedInto); ' +
        'unchanged (its window changed nothing, so nothing was sent). Null for other messages.',
    ),
  consolidatedInto: z.string().nullable().optional().describe('Herald, debounced event types: the consolidated message that carried this change.'),
  consolidates: z.array(z.string()).nullable().optional().describe('Herald, on a consolidated message: the published messages it consolidates, oldest first.'),
  payloadPurged: z
    .boolean()
    .optional()
    .describe('Herald: true when retention purged the payload (the message asked for a shorter payloadRetentionPeriod); `payload` is then {} and the message cannot be resent.'),
  payloadPurgedAt: z.date().nullable().optional().describe('Herald: when retention purged the payload, or null.'),
}).meta({ id: 'MessageOut' });

/** Body of the batch publish (Herald extension). Items are checked one by one, not as a whole. */
export const MessageBatchIn = z.object({
  messages: z
    .array(z.unknown())
    .min(1)
    .max(1_000)
    .describe('1 to 1,000 messages, each a MessageIn. Each is validated and stored on its own: a bad one is refused with its own error and the others are published.'),
}).meta({ id: 'MessageBatchIn' });

/** One result of a batch publish, in the order given. */
export const MessageBatchResult = z.object({
  status: z.number().int().describe('What publishing this message alone would have answered: 202, or 409 / 413 / 422.'),
  message: MessageOut.nullable().describe('The stored message (or the first one, for a repeated eventId); null when refused.'),
  error: z
    .union([HTTPValidationError, HttpErrorOut])
    .nullable()
    .describe('Why it was refused, as the single-message endpoint would say it; null when stored.'),
}).meta({ id: 'MessageBatchResult' });

/** Batch publish answer. */
export const MessageBatchOut = z.object({ data: z.array(MessageBatchResult).describe('One result per message, in order.') }).meta({ id: 'MessageBatchOut' });

/** The parts of a message row the API shows. */
export type MessageLike = Pick<MessageRow, 'id' | 'eventType' | 'eventId' | 'createdAt'> & {
  /** Exact payload bytes, or null when not loaded. */
  payload: Buffer | null;
  /** Channels given at publish. */
  channels?: string[] | null;
  /** Tags given at publish. */
  tags?: string[] | null;
  /** Debounced type: what became of it. */
  debounceState?: MessageRow['debounceState'];
  /** Debounced type: the consolidated message that carried it. */
  consolidatedInto?: string | null;
  /** Consolidated message: what it consolidates. */
  consolidates?: string[] | null;
  /** When retention purged the payload, or null; absent where the query did not read it. */
  payloadPurgedAt?: Date | null;
};

/** Parses stored payload bytes; they were serialised from a JSON object at publish. */
export function payloadOf(bytes: Buffer | null, withContent = true): Record<string, unknown> {
  if (!withContent || !bytes || bytes.length === 0) return {};
  return JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
}

export function toMessageOut(m: MessageLike, withContent = true): z.output<typeof MessageOut> {
  return {
    id: m.id,
    eventType: m.eventType,
    eventId: m.eventId,
    payload: payloadOf(m.payload, withContent),
    channels: m.channels ?? null,
    tags: m.tags ?? null,
    timestamp: m.createdAt,
    // Present where the query read them (a message's own view and list), absent elsewhere rather than a wrong null.
    ...(m.debounceState !== undefined && { debounceState: m.debounceState, consolidatedInto: m.consolidatedInto ?? null, consolidates: m.consolidates ?? null }),
    ...(m.payloadPurgedAt !== undefined && { payloadPurged: m.payloadPurgedAt !== null, payloadPurgedAt: m.payloadPurgedAt }),
  };
}

/** Path of routes under one message. */
export const MsgParams = AppParams.extend({ msg_id: IdOrUid.describe('Message id or its eventId.') });
