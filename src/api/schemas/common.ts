/**
 * Zod schemas shared by the routes: identifiers, metadata, bounded text, booleans in query strings, and
 * the error bodies. Field names and patterns follow Svix's openapi.json so Svix clients fit unchanged;
 * bounds Svix leaves open are Herald's (documented in docs/api.md).
 */
import { z } from 'zod';
import { EVENT_TYPE_NAME_MAX_LENGTH, EVENT_TYPE_NAME_PATTERN } from '../../core/filters.js';

/** Svix's pattern for ids, uids and names in paths. */
export const ID_PATTERN = /^[a-zA-Z0-9\-_.]+$/;
const ID_HINT = 'may only contain letters, digits, "-", "_" and "."';

/** Control characters (C0, DEL, C1): never meaningful in names or descriptions, and NUL breaks PostgreSQL text. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A bounded string without control characters (names, descriptions, labels). */
export function text(max: number) {
  return z
    .string()
    .max(max, `at most ${max} characters`)
    .refine((s) => !CONTROL.test(s), 'must not contain control characters (newlines, tabs, NUL…)');
}

/** An application or endpoint id or uid in a path. */
export const IdOrUid = z.string().min(1).max(256).regex(ID_PATTERN, `an id or uid ${ID_HINT}`);

/** A uid chosen by the platform; `reserved` is the id prefix it may not start with (ids and uids share lookups). */
export function uid(reserved: string) {
  return z
    .string()
    .min(1)
    .max(256)
    .regex(ID_PATTERN, `a uid ${ID_HINT}`)
    .refine((s) => !s.startsWith(reserved), `a uid may not start with "${reserved}" (that is what ids look like)`);
}

/** An event type name (the pattern of src/core/filters.ts, identical to Svix's). */
export const EventTypeName = z
  .string()
  .min(1)
  .max(EVENT_TYPE_NAME_MAX_LENGTH)
  .regex(EVENT_TYPE_NAME_PATTERN, `an event type name ${ID_HINT} (e.g. "order.paid")`);

/** Most metadata entries per object. */
export const MAX_METADATA_ENTRIES = 64;
/** Longest metadata value. */
export const MAX_METADATA_VALUE = 4096;

/** Free-form string → string pairs (Svix `metadata`), bounded so a tenant cannot store megabytes in it. */
export const Metadata = z
  .record(text(256).min(1, 'keys must not be empty'), z.string().max(MAX_METADATA_VALUE).refine((s) => !s.includes('\u0000'), 'must not contain NUL'))
  .refine((m) => Object.keys(m).length <= MAX_METADATA_ENTRIES, `at most ${MAX_METADATA_ENTRIES} entries`)
  .describe('String key/value pairs, at most 64 entries.');

/** A requests-per-second limit (Svix's uint16, at least 1). */
export const RateLimit = z.number().int().min(1).max(65_535);

/** A boolean query parameter as clients send it ("true"/"false"; also 1/0, yes/no). */
export function queryFlag(defaultValue: boolean) {
  return z.stringbool().default(defaultValue);
}

/** An ISO 8601 timestamp in a response. */
export const Timestamp = z.string().meta({ format: 'date-time' });

/** ISO string of a date. */
export const iso = (d: Date) => d.toISOString();

/** One invalid field of a 422 (Svix ValidationError). */
export const ValidationItem = z.object({
  loc: z.array(z.union([z.string(), z.number()])).describe('Where the bad value is, e.g. ["body", "url"].'),
  msg: z.string().describe('What is wrong with it.'),
  type: z.string().describe('Kind of problem.'),
});

/** Body of every error: `{ code, detail }`; `detail` lists every bad field for validation errors. */
export const ErrorOut = z.looseObject({
  code: z.string().describe('Machine-readable code, e.g. not_found, forbidden, validation.'),
  detail: z.union([z.string(), z.array(ValidationItem)]).describe('What went wrong and what to change.'),
});

/** Declares the error responses of a route for the OpenAPI document. */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries([401, 403, ...statuses].map((s) => [s, ErrorOut])) as Record<number, typeof ErrorOut>;
}

/** A response without a body. */
export const NoContent = z.undefined().describe('No content');

/** A JSON object (event type schemas): any keys, bounded in size by the body limit. */
export const JsonObject = z.record(z.string(), z.unknown());

/** True when a parsed JSON value contains a NUL character anywhere (PostgreSQL jsonb refuses it). */
export function containsNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return true;
    } else if (Array.isArray(v)) stack.push(...v);
    else if (v !== null && typeof v === 'object') for (const [k, c] of Object.entries(v)) stack.push(k, c);
  }
  return false;
}
