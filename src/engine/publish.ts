/**
 * Publishing: the library API a platform calls from its own code. Pass the caller's own `pg` client
 * inside an open transaction and the message exists if and only if that transaction commits (the
 * transactional outbox: no dual write). Pass a pool and it is stored at once.
 */
import { createHash } from 'node:crypto';
import { HeraldError } from '../core/errors.js';
import { validateEventTypeName } from '../core/filters.js';
import { newOrderedId } from '../core/ids.js';
import { renderEnvelope } from '../core/envelope.js';
import { getPublishTarget, insertMessages, type MessageRow, type PublishTarget } from '../store/messages.js';
import type { Queryable } from '../store/pool.js';

/** Default payload limit; HERALD_MAX_PAYLOAD_BYTES changes it. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1_048_576;

/** Same pattern and length as Svix's eventId. */
const EVENT_ID_PATTERN = /^[a-zA-Z0-9\-_.]{1,256}$/;

/** One message to publish. */
export interface PublishInput {
  /** Event type name, e.g. order.paid. */
  eventType: string;
  /** A JSON object; sent as its JSON serialisation, byte for byte. */
  payload: unknown;
  /** Your idempotency key: publishing it again returns the first message and creates nothing. */
  eventId?: string | null;
}

/** A stored message. */
export interface PublishedMessage {
  /** msg_…, sent as webhook-id. */
  id: string;
  /** Event type. */
  eventType: string;
  /** Your idempotency key. */
  eventId: string | null;
  /** The payload as sent. */
  payload: Record<string, unknown>;
  /** Publish time. */
  timestamp: Date;
  /** Deliveries created (0 for a duplicate). */
  deliveries: number;
  /** True when eventId matched an earlier message, which is returned instead. */
  duplicate: boolean;
}

/** Options of {@link publish}. */
export interface PublishOptions {
  /** Publish time (a fake clock in tests). */
  now?: Date;
  /** Payload limit in bytes. */
  maxPayloadBytes?: number;
}

/** Checks one input; throws a HeraldError naming the bad field. */
function validate(input: PublishInput, index: number): { eventType: string; payload: Record<string, unknown>; eventId: string | null } {
  const at = (field: string) => (index >= 0 ? `[${index}].${field}` : field);
  if (typeof input?.eventType !== 'string') {
    throw new HeraldError('validation', 'eventType is required', { fields: [{ path: at('eventType'), message: 'required' }] });
  }
  validateEventTypeName(input.eventType);
  const p = input.payload;
  if (p === null || typeof p !== 'object' || Array.isArray(p)) {
    throw new HeraldError('validation', 'payload must be a JSON object', {
      fields: [{ path: at('payload'), message: `must be a JSON object, got ${Array.isArray(p) ? 'an array' : p === null ? 'null' : typeof p}` }],
    });
  }
  const eventId = input.eventId ?? null;
  if (eventId !== null && (typeof eventId !== 'string' || !EVENT_ID_PATTERN.test(eventId))) {
    throw new HeraldError('validation', 'eventId must be 1-256 characters of a-z, A-Z, 0-9, "-", "_" or "."', {
      fields: [{ path: at('eventId'), message: 'invalid characters or length' }],
    });
  }
  return { eventType: input.eventType, payload: p as Record<string, unknown>, eventId };
}

/**
 * Serialises one message: its payload, or the payload wrapped in the event type's (else the
 * application's) envelope. These bytes are stored, sent to every endpoint and signed.
 */
function serialise(m: ReturnType<typeof validate>, target: PublishTarget, maxBytes: number, now: Date) {
  const id = newOrderedId('msg', now.getTime());
  const template = target.typeEnvelopes[m.eventType] ?? target.envelope;
  const body = Buffer.from(
    JSON.stringify(
      template
        ? renderEnvelope(template, { payload: m.payload, msgId: id, eventId: m.eventId, eventType: m.eventType, createdAt: now, appId: target.id, appUid: target.uid })
        : m.payload,
    ),
    'utf8',
  );
  if (body.length > maxBytes) {
    throw new HeraldError('payload_too_large', `payload is ${body.length} bytes; the limit is ${maxBytes} bytes (HERALD_MAX_PAYLOAD_BYTES)`);
  }
  // The hash is of what the publisher sent, not of the envelope (which holds this message's own id),
  // so publishing the same eventId and payload again is recognised as the same event.
  const published = template ? JSON.stringify(m.payload) : body;
  return { id, eventType: m.eventType, eventId: m.eventId, payload: body, payloadHash: createHash('sha256').update(published).digest(), createdAt: now };
}

function toPublished(row: MessageRow, deliveries: number, duplicate: boolean): PublishedMessage {
  return {
    id: row.id,
    eventType: row.eventType,
    eventId: row.eventId,
    payload: JSON.parse(row.payload.toString('utf8')) as Record<string, unknown>,
    timestamp: row.createdAt,
    deliveries,
    duplicate,
  };
}

/** The stored message of one input, or why it was refused. */
export type PublishOutcome = { ok: true; message: PublishedMessage } | { ok: false; error: HeraldError };

/** Most messages one {@link publishEach} call (and one batch request) takes. */
export const MAX_BATCH_MESSAGES = 1_000;

/** Turns anything thrown for one message into the HeraldError reported for it. */
const asHeraldError = (e: unknown): HeraldError => (e instanceof HeraldError ? e : new HeraldError('internal', String(e), { cause: e }));

/**
 * Publishes messages for one application with one result per input, in order: a message that is
 * invalid, too large or reuses an eventId with other data is refused on its own and the others are
 * stored, all in one statement. Use it where each message stands alone (the batch API); use
 * {@link publishMany} where the messages belong together.
 */
export async function publishEach(db: Queryable, app: string, inputs: PublishInput[], opts: PublishOptions = {}): Promise<PublishOutcome[]> {
  if (inputs.length > MAX_BATCH_MESSAGES) {
    throw new HeraldError('validation', `at most ${MAX_BATCH_MESSAGES} messages per call; got ${inputs.length}`);
  }
  const now = opts.now ?? new Date();
  const maxBytes = opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const checked = inputs.map((input, i) => {
    try {
      return { ok: true as const, m: validate(input, i) };
    } catch (e) {
      return { ok: false as const, error: asHeraldError(e) };
    }
  });
  const types = [...new Set(checked.flatMap((c) => (c.ok ? [c.m.eventType] : [])))];
  const application = await getPublishTarget(db, app, types);
  if (!application) throw new HeraldError('not_found', `application ${app} not found`);
  const prepared = checked.map((c) => {
    if (!c.ok) return c;
    try {
      return { ok: true as const, row: serialise(c.m, application, maxBytes, now) };
    } catch (e) {
      return { ok: false as const, error: asHeraldError(e) };
    }
  });
  const rows = prepared.flatMap((p) => (p.ok ? [p.row] : []));
  const stored = rows.length > 0 ? await insertMessages(db, application.id, rows) : [];
  let next = 0;
  return prepared.map((p): PublishOutcome => {
    if (!p.ok) return p;
    const r = stored[next++]!;
    try {
      return { ok: true, message: outcomeOf(r, p.row, application.id) };
    } catch (e) {
      return { ok: false, error: asHeraldError(e) };
    }
  });
}

/** The published message of one insert result; throws `conflict` for an eventId reused with other data. */
function outcomeOf(r: Awaited<ReturnType<typeof insertMessages>>[number], mine: ReturnType<typeof serialise>, appId: string): PublishedMessage {
  if (r.inserted) return toPublished({ ...mine, appId }, r.deliveries, false);
  if (!r.existing.payloadHash.equals(mine.payloadHash) || r.existing.eventType !== mine.eventType) {
    throw new HeraldError(
      'conflict',
      `eventId ${mine.eventId} was already used by message ${r.existing.id} with a different ${r.existing.eventType !== mine.eventType ? 'event type' : 'payload'}; use a new eventId for a different event`,
    );
  }
  return toPublished(r.existing, 0, true);
}

/**
 * Publishes messages for one application (by id or uid) and returns once they and their
 * deliveries are stored (in the caller's transaction, when `db` is a client inside one). All or
 * nothing: every input is validated before anything is written, and one bad message writes nothing
 * (the transactional-outbox use, where the messages belong to one business change). For one result
 * per message, see {@link publishEach}.
 */
export async function publishMany(
  db: Queryable,
  app: string,
  inputs: PublishInput[],
  opts: PublishOptions = {},
): Promise<PublishedMessage[]> {
  const now = opts.now ?? new Date();
  const maxBytes = opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const valid = inputs.map((input, i) => validate(input, inputs.length > 1 ? i : -1));
  const application = await getPublishTarget(db, app, [...new Set(valid.map((m) => m.eventType))]);
  if (!application) throw new HeraldError('not_found', `application ${app} not found`);
  const prepared = valid.map((m) => serialise(m, application, maxBytes, now));
  const results = await insertMessages(db, application.id, prepared);
  return results.map((r, i) => outcomeOf(r, prepared[i]!, application.id));
}

/** Publishes one message; see {@link publishMany}. */
export async function publish(db: Queryable, app: string, input: PublishInput, opts: PublishOptions = {}): Promise<PublishedMessage> {
  const [one] = await publishMany(db, app, [input], opts);
  return one!;
}
