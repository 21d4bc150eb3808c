/**
 * One message a publisher hands Herald, and its checks (Svix's rules for event types, eventId,
 * channels and tags): every publish path (API, batch, library, test sends) validates with these.
 */
import { HeraldError } from '../core/errors.js';
import { validateEventTypeName } from '../core/filters.js';

/** Same pattern and length as Svix's eventId. */
const EVENT_ID_PATTERN = /^[a-zA-Z0-9\-_.]{1,256}$/;

/** Same pattern and length as Svix's channel names. */
const CHANNEL_PATTERN = /^[a-zA-Z0-9\-_.]{1,128}$/;
/**
 * Most channels per message: 10, as Svix's published API (`MessageIn.channels` maxItems) allows, so a
 * message Svix accepts Herald accepts too (Svix's open-source server keeps an older bound of 5).
 */
export const MAX_MESSAGE_CHANNELS = 10;

/** Same pattern and length as Svix's tags (no comma: they travel comma-joined). */
const TAG_PATTERN = /^[a-zA-Z0-9\-_./\\#]{1,128}$/;
/** Most tags per message (Svix's `MessageIn.tags` maxItems). */
export const MAX_MESSAGE_TAGS = 5;

/** One message to publish. */
export interface PublishInput {
  /** Event type name, e.g. order.paid. */
  eventType: string;
  /** A JSON object; sent as its JSON serialisation, byte for byte. */
  payload: unknown;
  /** Your idempotency key: publishing it again returns the first message and creates nothing. */
  eventId?: string | null;
  /** Up to ten channels to tag the message with (stored and returned). */
  channels?: string[] | null;
  /** Up to five free-form tags a message list can filter by (`?tag=`). */
  tags?: string[] | null;
  /**
   * false skips the check of the payload against its event type's JSON Schema for this message
   * (default true; the operator's HERALD_SCHEMA_ENFORCEMENT=false skips it for every message).
   */
  validateSchema?: boolean;
  /** Svix: days to keep this message's payload (1 to 3650); at most its application's retention period applies. */
  payloadRetentionPeriod?: number | null;
  /** Svix: hours to keep this message's payload (1 to 87600); give this or payloadRetentionPeriod, not both. */
  payloadRetentionHours?: number | null;
}

/** A validated input. */
export interface Checked {
  eventType: string;
  payload: Record<string, unknown>;
  eventId: string | null;
  channels: string[] | null;
  tags: string[] | null;
  /** How long the payload is kept, in milliseconds, when the message asked (docs/retention.md); null = as long as the message. */
  payloadRetentionMs: number | null;
}

/** Checks one input; throws a HeraldError naming the bad field (`[index].field` inside a batch). */
export function validate(input: PublishInput, index: number): Checked {
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
  return {
    eventType: input.eventType,
    payload: p as Record<string, unknown>,
    eventId,
    channels: checkLabels(input.channels, at, 'channels', CHANNEL_PATTERN, MAX_MESSAGE_CHANNELS),
    tags: checkLabels(input.tags, at, 'tags', TAG_PATTERN, MAX_MESSAGE_TAGS),
    payloadRetentionMs: payloadRetentionOf(input, at),
  };
}

/** A message's own payload retention in milliseconds (Svix: days or hours, mutually exclusive), or null. */
function payloadRetentionOf(input: PublishInput, at: (field: string) => string): number | null {
  const days = input.payloadRetentionPeriod ?? null;
  const hours = input.payloadRetentionHours ?? null;
  const bad = (field: string, message: string) => new HeraldError('validation', `${field}: ${message}`, { fields: [{ path: at(field), message }] });
  if (days !== null && hours !== null) throw bad('payloadRetentionHours', 'give payloadRetentionPeriod (days) or payloadRetentionHours, not both');
  if (days !== null && (!Number.isInteger(days) || days < 1 || days > 3_650)) throw bad('payloadRetentionPeriod', 'must be a whole number of days from 1 to 3650');
  if (hours !== null && (!Number.isInteger(hours) || hours < 1 || hours > 87_600)) throw bad('payloadRetentionHours', 'must be a whole number of hours from 1 to 87600');
  return days !== null ? days * 86_400_000 : hours !== null ? hours * 3_600_000 : null;
}

/** The distinct channels (or tags) of an input, or null; throws naming the bad one. */
function checkLabels(labels: unknown, at: (field: string) => string, field: 'channels' | 'tags', pattern: RegExp, max: number): string[] | null {
  if (labels === undefined || labels === null) return null;
  const bad = (message: string, path: string = field) => new HeraldError('validation', `${field}: ${message}`, { fields: [{ path: at(path), message }] });
  if (!Array.isArray(labels)) throw bad('must be an array of strings');
  if (labels.length > max) throw bad(`at most ${max} ${field} per message (a fixed limit, as in Svix's API)`);
  const chars = field === 'tags' ? 'a-z, A-Z, 0-9, "-", "_", ".", "/", "\\" or "#"' : 'a-z, A-Z, 0-9, "-", "_" or "."';
  for (const [i, c] of labels.entries()) {
    if (typeof c !== 'string' || !pattern.test(c)) throw bad(`must be 1-128 characters of ${chars}`, `${field}.${i}`);
  }
  return labels.length > 0 ? [...new Set(labels as string[])] : null;
}
