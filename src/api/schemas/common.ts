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

/**
 * A boolean query parameter as clients send it ("true"/"false"; also 1/0, yes/no). Documented as a
 * boolean, as Svix does, so generated clients take `true`/`false` (a query string carries them as text).
 */
export function queryFlag(defaultValue: boolean) {
  return z.stringbool().meta({ type: 'boolean' }).default(defaultValue);
}

/** An ISO 8601 timestamp in a response. */
export const Timestamp = z.string().meta({ format: 'date-time' });

/** ISO string of a date. */
export const iso = (d: Date) => d.toISOString();

/** One invalid field of a 422 (Svix `ValidationError`). */
export const ValidationError = z
  .object({
    loc: z
      .array(z.union([z.string(), z.number()]))
      .describe('Where the bad value is: "body", "query", "path" or "header", then the field path, e.g. ["body", "filterTypes", 2].'),
    msg: z.string().describe('What is wrong with it.'),
    type: z.string().describe('Kind of problem.'),
  })
  .meta({ id: 'ValidationError' });

/** Body of every 422 (Svix `HTTPValidationError`): `detail` is always a list of bad fields. */
export const HTTPValidationError = z
  .looseObject({
    code: z.string().describe('Herald: always "validation" (Svix clients ignore it).'),
    detail: z.array(ValidationError).describe('Every bad value, each with where it is and what is wrong.'),
  })
  .meta({ id: 'HTTPValidationError' });

/** Body of every other error (Svix `HttpErrorOut`). */
export const HttpErrorOut = z
  .looseObject({
    code: z.string().describe('Machine-readable code, e.g. not_found, forbidden, conflict, rate_limited.'),
    detail: z.string().describe('What went wrong and what to change.'),
  })
  .meta({ id: 'HttpErrorOut' });

/** Statuses every authenticated route may answer: no or a bad token, not allowed, too many requests. */
const COMMON_ERRORS = [401, 403, 429] as const;

/** Declares the error responses of a route for the OpenAPI document: 422 is HTTPValidationError, others HttpErrorOut. */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries([...COMMON_ERRORS, ...statuses].map((s) => [s, s === 422 ? HTTPValidationError : HttpErrorOut])) as Record<
    number,
    typeof HttpErrorOut | typeof HTTPValidationError
  >;
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
