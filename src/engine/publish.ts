/**
 * Publishing: the library API a platform calls from its own code. Pass the caller's own `pg` client
 * inside an open transaction and the message exists if and only if that transaction commits (the
 * transactional outbox: no dual write). Pass a pool and it is stored at once.
 */
import { createHash } from 'node:crypto';
import { HeraldError } from '../core/errors.js';
import { newOrderedId } from '../core/ids.js';
import { renderEnvelope } from '../core/envelope.js';
import type { CompiledSchema } from '../core/json-schema.js';
import { debounceKeysOf, type DebounceSettings } from '../core/debounce.js';
import { getPublishTargets, insertMessageForEndpoint, insertMessages, type MessageRow, type InsertResult, type DebounceState, type NewDebounce, type NewMessage, type PublishTarget } from '../store/messages.js';
import type { Queryable } from '../store/pool.js';
import { schemaMismatch, validatorsFor } from './schemas.js';
import { validate, type Checked, type PublishInput } from './publish-input.js';

export type { PublishInput } from './publish-input.js';

/** Default payload limit; HERALD_MAX_PAYLOAD_BYTES changes it. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1_048_576;

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
  /** Channels (of the first message, for a duplicate). */
  channels: string[] | null;
  /** Tags (of the first message, for a duplicate). */
  tags: string[] | null;
  /** Publish time. */
  timestamp: Date;
  /** Deliveries created (0 for a duplicate). */
  deliveries: number;
  /** True when eventId matched an earlier message, which is returned instead. */
  duplicate: boolean;
  /** Debounced event type: waiting in its window (then consolidated or unchanged); null otherwise (docs/debounce.md). */
  debounceState?: DebounceState | null;
  /** Debounced event type: the consolidated message that carried it, once sent. */
  consolidatedInto?: string | null;
}

/** Options of {@link publish}. */
export interface PublishOptions {
  /** Publish time (a fake clock in tests). */
  now?: Date;
  /** Payload limit in bytes. */
  maxPayloadBytes?: number;
  /** Check payloads against their event type's JSON Schema (HERALD_SCHEMA_ENFORCEMENT; default true). */
  enforceSchemas?: boolean;
}


/**
 * Serialises one message: its payload, or the payload wrapped in the event type's (else the
 * application's) envelope. These bytes are stored, sent to every endpoint and signed.
 */
function serialise(m: Checked, target: PublishTarget, maxBytes: number, now: Date): NewMessage {
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
  return {
    id,
    appId: target.id,
    eventType: m.eventType,
    eventId: m.eventId,
    channels: m.channels,
    tags: m.tags,
    payload: body,
    payloadHash: createHash('sha256').update(published).digest(),
    createdAt: now,
    payloadExpiresAt: m.payloadRetentionMs === null ? null : new Date(now.getTime() + m.payloadRetentionMs),
  };
}

/** Where a message of a debounced type is merged; a 422 on `payload` when its keys are missing. */
function debounceOf(s: DebounceSettings, payload: Record<string, unknown>, index: number): NewDebounce {
  const keys = debounceKeysOf(s, payload);
  if (typeof keys === 'string') {
    throw new HeraldError('validation', keys, { fields: [{ path: index >= 0 ? `[${index}].payload` : 'payload', message: keys }] });
  }
  return { ...keys, quietMs: s.quietPeriodSeconds * 1000, maxDelayMs: s.maxDelaySeconds * 1000 };
}

/**
 * A consolidated message of a debounced type (src/engine/debounce-flusher.ts), serialised like any
 * message: the event type's (else the application's) envelope applies. No payload limit: its size is
 * Herald's doing, not a publisher's, and refusing it would hold its window forever.
 */
export function consolidatedMessage(target: PublishTarget, eventType: string, payload: Record<string, unknown>, channels: string[] | null, consolidates: string[], now: Date): NewMessage {
  const row = serialise({ eventType, payload, eventId: null, channels, tags: null, payloadRetentionMs: null }, target, Number.POSITIVE_INFINITY, now);
  row.consolidates = consolidates;
  return row;
}

function toPublished(row: MessageRow, deliveries: number, duplicate: boolean): PublishedMessage {
  return {
    id: row.id,
    eventType: row.eventType,
    eventId: row.eventId,
    payload: JSON.parse(row.payload.toString('utf8')) as Record<string, unknown>,
    channels: row.channels ?? null,
    tags: row.tags ?? null,
    timestamp: row.createdAt,
    deliveries,
    duplicate,
    debounceState: row.debounceState ?? null,
    consolidatedInto: row.consolidatedInto ?? null,
  };
}

/** The stored message of one input, or why it was refused. */
export type PublishOutcome = { ok: true; message: PublishedMessage } | { ok: false; error: HeraldError };

/** Most messages one {@link publishEach} call (and one batch request) takes. */
export const MAX_BATCH_MESSAGES = 1_000;

/** Turns anything thrown for one message into the HeraldError reported for it. */
const asHeraldError = (e: unknown): HeraldError => (e instanceof HeraldError ? e : new HeraldError('internal', String(e), { cause: e }));

/** One message addressed to an application: what {@link prepareMessages} takes. */
export interface AddressedInput {
  /** Application id or uid. */
  app: string;
  /** The message. */
  input: PublishInput;
  /** Position in a batch (error paths say `[index].field`), or -1 for a single message. */
  index: number;
  /**
   * Checked once the application is found, before anything is written: an error refuses this message
   * (the API's scope and permission checks, so one query finds the application for both).
   */
  authorize?: (target: PublishTarget) => HeraldError | null;
  /** A test event for one endpoint: sent at once even when its type is debounced. */
  sendAtOnce?: boolean;
}

/** A message ready to store, or why it was refused before anything was written. */
export type Prepared = { ok: true; row: NewMessage } | { ok: false; error: HeraldError };

/** Where {@link prepareMessages} may find applications an earlier call found (the group commit's cache). */
export interface KnownTargets {
  /** The application `key` (id or uid) with envelopes for all of `types`, or undefined to look it up. */
  get(key: string, types: Iterable<string>): PublishTarget | undefined;
}

/**
 * Validates and serialises messages of any applications with at most one query for all of them
 * (applications and envelopes; none when `known` has them all). Nothing is written. `targets` holds
 * every application found; `lookedUp` what the query found and for which event types, or null.
 */
export async function prepareMessages(
  db: Queryable,
  items: AddressedInput[],
  opts: Required<PublishOptions>,
  known?: KnownTargets,
): Promise<{ prepared: Prepared[]; targets: Map<string, PublishTarget>; lookedUp: { targets: Map<string, PublishTarget>; types: string[] } | null }> {
  const checked = items.map((item) => {
    try {
      return { ok: true as const, m: validate(item.input, item.index) };
    } catch (e) {
      return { ok: false as const, error: asHeraldError(e) };
    }
  });
  const typesByApp = new Map<string, Set<string>>();
  for (const [i, item] of items.entries()) {
    const c = checked[i]!;
    const types = typesByApp.get(item.app) ?? typesByApp.set(item.app, new Set()).get(item.app)!;
    if (c.ok) types.add(c.m.eventType);
  }
  const targets = new Map<string, PublishTarget>();
  const missing: string[] = [];
  for (const [app, types] of typesByApp) {
    const hit = known?.get(app, types);
    if (hit) targets.set(app, hit);
    else missing.push(app);
  }
  let lookedUp: { targets: Map<string, PublishTarget>; types: string[] } | null = null;
  if (missing.length > 0) {
    const types = [...new Set(missing.flatMap((app) => [...typesByApp.get(app)!]))];
    const found = await getPublishTargets(db, missing, types);
    for (const [app, target] of found) targets.set(app, target);
    lookedUp = { targets: found, types };
  }
  const schemas = await schemasToEnforce(db, items, checked, targets, opts.enforceSchemas);
  const prepared = checked.map((c, i): Prepared => {
    if (!c.ok) return c;
    const item = items[i]!;
    const target = targets.get(item.app);
    if (!target) return { ok: false, error: new HeraldError('not_found', `application ${item.app} not found`) };
    const refused = item.authorize?.(target);
    if (refused) return { ok: false, error: refused };
    const mismatch = schemas && item.input.validateSchema !== false ? schemaMismatch(schemas.get(c.m.eventType), c.m.eventType, c.m.payload, item.index) : null;
    if (mismatch) return { ok: false, error: mismatch };
    try {
      const row = serialise(c.m, target, opts.maxPayloadBytes, opts.now);
      // The one condition a message of a type that is not debounced pays (docs/debounce.md).
      const debounce = target.typeDebounce?.[c.m.eventType];
      if (debounce && !item.sendAtOnce) row.debounce = debounceOf(debounce, c.m.payload, item.index);
      return { ok: true, row };
    } catch (e) {
      return { ok: false, error: asHeraldError(e) };
    }
  });
  return { prepared, targets, lookedUp };
}

/**
 * The compiled schemas of the event types that the checked messages must match, or null when none
 * must (enforcement off, or no published type has a schema): no query unless a schema is not compiled yet.
 */
async function schemasToEnforce(
  db: Queryable,
  items: AddressedInput[],
  checked: ({ ok: true; m: Checked } | { ok: false })[],
  targets: Map<string, PublishTarget>,
  enforce: boolean,
): Promise<Map<string, CompiledSchema | null> | null> {
  if (!enforce) return null;
  const wanted = new Map<string, string>();
  for (const [i, c] of checked.entries()) {
    if (!c.ok || items[i]!.input.validateSchema === false) continue;
    const hash = targets.get(items[i]!.app)?.typeSchemas[c.m.eventType];
    if (hash !== undefined) wanted.set(c.m.eventType, hash);
  }
  return wanted.size === 0 ? null : validatorsFor(db, wanted);
}

/**
 * Stores the prepared messages in one statement (two when some eventIds were already used) and gives
 * one outcome per input, in order. A failing statement fails every message of it: the caller decides
 * whether to retry them apart (the group commit does, for data errors).
 */
export async function storePrepared(db: Queryable, prepared: Prepared[]): Promise<PublishOutcome[]> {
  const rows = prepared.flatMap((p) => (p.ok ? [p.row] : []));
  const stored = rows.length > 0 ? await insertMessages(db, rows) : [];
  let next = 0;
  return prepared.map((p): PublishOutcome => {
    if (!p.ok) return p;
    const r = stored[next++]!;
    try {
      return { ok: true, message: outcomeOf(r, p.row) };
    } catch (e) {
      return { ok: false, error: asHeraldError(e) };
    }
  });
}

const withDefaults = (opts: PublishOptions): Required<PublishOptions> => ({
  now: opts.now ?? new Date(),
  maxPayloadBytes: opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
  enforceSchemas: opts.enforceSchemas ?? true,
});

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
  const { prepared, targets } = await prepareMessages(db, inputs.map((input, index) => ({ app, input, index })), withDefaults(opts));
  if (!targets.has(app)) throw new HeraldError('not_found', `application ${app} not found`);
  return storePrepared(db, prepared);
}

/** The published message of one insert result; throws `conflict` for an eventId reused with other data. */
function outcomeOf(r: InsertResult, mine: NewMessage): PublishedMessage {
  if (r.inserted) {
    const published = toPublished(mine, r.deliveries, false);
    if (mine.debounce) published.debounceState = 'waiting';
    return published;
  }
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
  const { prepared, targets } = await prepareMessages(db, inputs.map((input, i) => ({ app, input, index: inputs.length > 1 ? i : -1 })), withDefaults(opts));
  // A bad input is reported before a missing application, as the single publish does.
  const errors = prepared.flatMap((p) => (p.ok ? [] : [p.error]));
  const invalid = errors.find((e) => e.code === 'validation');
  if (invalid) throw invalid;
  if (!targets.has(app)) throw new HeraldError('not_found', `application ${app} not found`);
  if (errors.length > 0) throw errors[0]!;
  const rows = prepared.flatMap((p) => (p.ok ? [p.row] : []));
  const results = await insertMessages(db, rows);
  return results.map((r, i) => outcomeOf(r, rows[i]!));
}

/** Publishes one message; see {@link publishMany}. */
export async function publish(db: Queryable, app: string, input: PublishInput, opts: PublishOptions = {}): Promise<PublishedMessage> {
  const [one] = await publishMany(db, app, [input], opts);
  return one!;
}

/**
 * Publishes one message to one endpoint of the application only, whatever the endpoints subscribe to
 * (a test event). Every other rule of {@link publish} applies: validation, the envelope, the payload
 * limit, eventId idempotency and channels. Null when the endpoint is not the application's.
 */
export async function publishToEndpoint(
  db: Queryable,
  app: string,
  endpointId: string,
  input: PublishInput,
  opts: PublishOptions = {},
): Promise<PublishedMessage | null> {
  const { prepared, targets } = await prepareMessages(db, [{ app, input, index: -1, sendAtOnce: true }], withDefaults(opts));
  const [one] = prepared;
  if (one!.ok === false && one!.error.code === 'validation') throw one!.error;
  const target = targets.get(app);
  if (!target) throw new HeraldError('not_found', `application ${app} not found`);
  if (!one!.ok) throw one!.error;
  const stored = await insertMessageForEndpoint(db, target.id, endpointId, one!.row);
  return stored && outcomeOf(stored, one!.row);
}
