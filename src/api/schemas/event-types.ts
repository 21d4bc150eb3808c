/** Request and response schemas of the event type catalogue (Svix EventTypeIn/Update/Patch/Out). */
import { z } from 'zod';
import type { EventTypeInput, EventTypeRow } from '../../store/event-types.js';
import { containsNul, EventTypeName, iso, JsonObject, queryFlag, text, Timestamp } from './common.js';
import { CONTRACT_DOCS, Envelope } from './contract.js';
import { debounceInput, EventTypeDebounce, EventTypeDebounceOut } from './debounce.js';
import { ListQuery } from '../pagination.js';

/** Largest `schemas` object, serialised: schemas are documentation, not data. */
export const MAX_SCHEMAS_BYTES = 64 * 1024;

const Schemas = JsonObject.refine((s) => Buffer.byteLength(JSON.stringify(s)) <= MAX_SCHEMAS_BYTES, `at most ${MAX_SCHEMAS_BYTES} bytes of JSON`)
  .refine((s) => !containsNul(s), 'must not contain NUL characters')
  .describe('JSON Schema of the payload per version, e.g. {"1": {"type": "object", ...}}.');
const FeatureFlags = z.array(EventTypeName).max(25);
const Description = text(4096).describe('Shown beside the checkbox in the UI.');

/** Fields of create and update, without the name. */
const EventTypeFields = {
  description: Description.default(''),
  archived: z.boolean().default(false).describe('Archived types stay valid but are hidden from lists.'),
  deprecated: z.boolean().default(false),
  schemas: Schemas.nullish(),
  groupName: EventTypeName.nullish().describe('Groups types in the UI.'),
  featureFlags: FeatureFlags.nullish().describe('Stored and returned; Herald does not enforce feature flags.'),
  featureFlag: EventTypeName.nullish().describe('Deprecated Svix single-flag form of featureFlags.'),
  envelope: Envelope.nullish().describe(`${CONTRACT_DOCS.envelope} ${CONTRACT_DOCS.eventTypeEnvelope}`),
  debounce: EventTypeDebounce.nullish(),
};

/** Body of POST /event-type. */
export const EventTypeIn = z.object({ name: EventTypeName.describe("The event type's name, e.g. order.paid."), ...EventTypeFields }).meta({ id: 'EventTypeIn' });

/** Body of PUT /event-type/{name} (creates it when missing). */
export const EventTypeUpdate = z.object(EventTypeFields).meta({ id: 'EventTypeUpdate' });

/** Body of PATCH /event-type/{name}: absent fields stay, null clears. */
export const EventTypePatch = z.object({
  description: Description.optional(),
  archived: z.boolean().optional(),
  deprecated: z.boolean().optional(),
  schemas: Schemas.nullish(),
  groupName: EventTypeName.nullish(),
  featureFlags: FeatureFlags.nullish(),
  envelope: EventTypeFields.envelope,
  debounce: EventTypeFields.debounce,
}).meta({ id: 'EventTypePatch' });

/** An event type as the API returns it. */
export const EventTypeOut = z.object({
  name: z.string(),
  description: z.string(),
  archived: z.boolean(),
  deprecated: z.boolean(),
  schemas: z.record(z.string(), z.unknown()).nullable(),
  groupName: z.string().nullable(),
  featureFlags: z.array(z.string()).nullable(),
  envelope: z.record(z.string(), z.unknown()).nullable().describe(`Herald: this type's envelope template. ${CONTRACT_DOCS.eventTypeEnvelope}`),
  debounce: EventTypeDebounceOut.nullable().describe('Herald: debounce settings (docs/debounce.md); null = every message is sent at once.'),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}).meta({ id: 'EventTypeOut' });

/** Path parameter. */
export const EventTypeParams = z.object({ event_type_name: EventTypeName });

/** Query of the list. */
export const EventTypeListQuery = ListQuery.extend({
  include_archived: queryFlag(false).describe('Include archived types.'),
  with_content: queryFlag(false).describe('Include the JSON schemas.'),
});

/** Query of delete. */
export const DeleteEventTypeQuery = z.object({
  expunge: queryFlag(false).describe('Delete for good instead of archiving.'),
});

/** Body fields → store input (featureFlag folds into featureFlags). */
export function eventTypeInput(body: z.output<typeof EventTypeUpdate>): EventTypeInput {
  const flags = body.featureFlags ?? (body.featureFlag ? [body.featureFlag] : null);
  return {
    description: body.description,
    archived: body.archived,
    deprecated: body.deprecated,
    schemas: body.schemas ?? null,
    groupName: body.groupName ?? null,
    featureFlags: flags ? [...new Set(flags)] : null,
    envelope: body.envelope ?? null,
    debounce: debounceInput(body.debounce),
  };
}

/** Merges a PATCH body onto the stored type. */
export function patchedEventType(row: EventTypeRow, body: z.output<typeof EventTypePatch>): EventTypeInput {
  const pick = <T>(v: T | undefined, current: T) => (v !== undefined ? v : current);
  return {
    description: pick(body.description, row.description),
    archived: pick(body.archived, row.archived),
    deprecated: pick(body.deprecated, row.deprecated),
    schemas: pick(body.schemas, row.schemas),
    groupName: pick(body.groupName, row.groupName),
    featureFlags: pick(body.featureFlags, row.featureFlags),
    envelope: pick(body.envelope, row.envelope),
    debounce: body.debounce !== undefined ? debounceInput(body.debounce) : row.debounce,
  };
}

/** Maps a row; lists leave the schemas out unless asked (Svix `with_content`). */
export function toEventTypeOut(row: EventTypeRow, withContent = true): z.output<typeof EventTypeOut> {
  return {
    name: row.name,
    description: row.description,
    archived: row.archived,
    deprecated: row.deprecated,
    schemas: withContent ? row.schemas : null,
    groupName: row.groupName,
    featureFlags: row.featureFlags,
    envelope: row.envelope,
    debounce: row.debounce,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}
