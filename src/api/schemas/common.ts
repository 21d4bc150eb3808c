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

/**
 * Characters that are invisible or change how the text around them is shown: control characters (C0,
 * DEL, C1; NUL also breaks PostgreSQL text), bidirectional marks, embeddings, overrides and isolates
 * (U+061C, U+200E/F, U+202A-U+202E, U+2066-U+2069) and zero-width characters (U+200B-U+200D, U+2060,
 * U+FEFF). In a name a dashboard shows, they let one label pass for another ("evil\u202Egnp.exe",
 * "billing\u200B" beside "billing"): names refuse them (issue 13).
 */
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/;

/** What each refused character is, for the message. */
function invisibleKind(c: number): string {
  if (c <= 0x9f) return 'a control character';
  if (c === 0x200b || c === 0x200c || c === 0x200d || c === 0x2060 || c === 0xfeff) return 'a zero-width character';
  return 'a bidirectional control character';
}

/** The first refused character of `s` as `U+202E (a bidirectional control character)`, or null. */
export function invisibleCharacter(s: string): string | null {
  const m = INVISIBLE.exec(s);
  if (!m) return null;
  const c = m[0].charCodeAt(0);
  return `U+${c.toString(16).toUpperCase().padStart(4, '0')} (${invisibleKind(c)})`;
}

/**
 * The one refinement of every name, label and description: no control, bidirectional or zero-width
 * characters, with the code point in the message (the 422's `loc` names the field). It runs first and
 * stops the string's other checks, so the caller reads this reason and not "must match a pattern".
 */
export function visibleText<T extends z.ZodString>(schema: T): T {
  return schema.refine((s) => !INVISIBLE.test(s), {
    abort: true,
    error: (issue) => {
      const found = typeof issue.input === 'string' ? invisibleCharacter(issue.input) : null;
      return `must not contain ${found ?? 'control, bidirectional or zero-width characters'}: control, bidirectional and zero-width characters can make one name look like another`;
    },
  }) as T;
}

/** A bounded string without control, bidirectional or zero-width characters (names, descriptions, labels). */
export function text(max: number) {
  return visibleText(z.string()).max(max, `at most ${max} characters`);
}

/** An application or endpoint id or uid in a path. */
export const IdOrUid = visibleText(z.string()).min(1).max(256).regex(ID_PATTERN, `an id or uid ${ID_HINT}`);

/** A uid chosen by the platform; `reserved` is the id prefix it may not start with (ids and uids share lookups). */
export function uid(reserved: string) {
  return visibleText(z.string())
    .min(1)
    .max(256)
    .regex(ID_PATTERN, `a uid ${ID_HINT}`)
    .refine((s) => !s.startsWith(reserved), `a uid may not start with "${reserved}" (that is what ids look like)`);
}

/** An event type name (the pattern of src/core/filters.ts, identical to Svix's). */
export const EventTypeName = visibleText(z.string())
  .min(1)
  .max(EVENT_TYPE_NAME_MAX_LENGTH)
  .regex(EVENT_TYPE_NAME_PATTERN, `an event type name ${ID_HINT} (e.g. "order.paid")`);

/** Most metadata entries per object. */
export const MAX_METADATA_ENTRIES = 64;
/** Longest metadata value. */
export const MAX_METADATA_VALUE = 4096;
/**
 * Most bytes of an object's metadata as JSON (UTF-8): Svix's bound (MAX_METADATA_SIZE in its server),
 * so metadata one accepts the other accepts too. Metadata labels an object; data belongs elsewhere.
 */
export const MAX_METADATA_BYTES = 4096;

/** Free-form string → string pairs (Svix `metadata`), bounded so a tenant cannot store megabytes in it. */
export const Metadata = z
  .record(z.string(), z.string().max(MAX_METADATA_VALUE).refine((s) => !s.includes('\u0000'), 'must not contain NUL'))
  .refine((m) => Object.keys(m).length <= MAX_METADATA_ENTRIES, `at most ${MAX_METADATA_ENTRIES} entries`)
  // Keys are checked here rather than by the record's key schema, whose failures zod reports only as
  // "Invalid key in record": this way the 422 says what is wrong with the key, at ["metadata", key].
  .superRefine((m, ctx) => {
    for (const key of Object.keys(m)) {
      const found = invisibleCharacter(key);
      const message = found
        ? `must not contain ${found}: control, bidirectional and zero-width characters can make one name look like another`
        : key.length === 0
          ? 'keys must not be empty'
          : key.length > 256
            ? 'at most 256 characters'
            : null;
      if (message) ctx.addIssue({ code: 'custom', path: [key], message });
    }
    const bytes = Buffer.byteLength(JSON.stringify(m), 'utf8');
    if (bytes > MAX_METADATA_BYTES) {
      ctx.addIssue({ code: 'custom', message: `takes ${bytes} bytes as JSON; at most ${MAX_METADATA_BYTES} (a fixed limit, as in Svix's API)` });
    }
  })
  .describe(`String key/value pairs, at most ${MAX_METADATA_ENTRIES} entries and ${MAX_METADATA_BYTES} bytes as JSON.`);

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
