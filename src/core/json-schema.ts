/**
 * JSON Schemas of event types (Svix's `schemas: {"1": {...}}`, one per version): checking a schema
 * when it is saved, compiling the newest version into a payload validator, and turning the
 * validator's findings into field errors that name the failing path (`payload.total_pence`).
 * Draft 2020-12 only, validated by ajv (the maintained validator most JSON Schema tooling in
 * JavaScript uses), with the formats of ajv-formats (`email`, `date-time`, `uuid`…).
 *
 * Pure: no I/O. Compiling is the expensive part (ajv generates code), so callers compile once per
 * schema and keep the result (src/engine/schemas.ts); validating a payload is a function call.
 */
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import type { FieldError } from './errors.js';

/** The dialect Herald accepts in `$schema` (or none, which means the same). */
export const SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** Most problems one validation reports: the first ones are what a publisher fixes first. */
export const MAX_SCHEMA_ERRORS = 20;

/** A version key: a whole number from 1, as Svix numbers them. */
const VERSION_KEY = /^[1-9]\d{0,8}$/;

// ajv-formats is CommonJS with a `default` export; under NodeNext its default import is the module.
const addFormats = ((addFormatsPlugin as unknown as { default?: typeof addFormatsPlugin }).default ?? addFormatsPlugin) as unknown as (ajv: Ajv2020) => void;

/**
 * One ajv for the process: building one costs about 200 ms here (it compiles the meta-schemas), a
 * compile on a built one about 4 ms. Every schema compiled is removed from it again at once
 * ({@link compileOnce}), so it keeps nothing and two schemas may share an `$id`; the validators it
 * made keep working. `strict: false` because schemas carry annotations ajv does not know
 * (OpenAPI's `example`, `x-…`), which JSON Schema says to ignore.
 */
let shared: Ajv2020 | null = null;
function ajv(): Ajv2020 {
  if (!shared) {
    shared = new Ajv2020({ allErrors: true, strict: false, logger: false });
    addFormats(shared);
  }
  return shared;
}

/** Compiles a schema and leaves nothing of it registered in the shared ajv. */
function compileOnce(schema: object | boolean) {
  const a = ajv();
  try {
    return a.compile(schema);
  } finally {
    if (typeof schema === 'object') a.removeSchema(schema);
  }
}

/** The newest version key of an event type's schemas (the highest number), or null without one. */
export function latestSchemaVersion(schemas: Record<string, unknown> | null | undefined): string | null {
  let best: string | null = null;
  for (const key of Object.keys(schemas ?? {})) {
    if (VERSION_KEY.test(key) && (best === null || Number(key) > Number(best))) best = key;
  }
  return best;
}

/** Checks a payload; returns every problem found (at most MAX_SCHEMA_ERRORS), none when it matches. */
export type PayloadValidator = (payload: unknown) => FieldError[];

/** A compiled schema version. */
export interface CompiledSchema {
  /** The version key it was compiled from, e.g. "1". */
  version: string;
  /** Checks a payload against it. */
  validate: PayloadValidator;
}

/**
 * Every problem with an event type's `schemas` object, one per bad value, located under `path`
 * (`schemas.1.properties.total.type`): version keys must be whole numbers from 1, each schema must be
 * a draft 2020-12 schema (an object or a boolean) that ajv accepts and can compile (its `$ref`s resolve,
 * its patterns are regular expressions).
 */
export function schemaProblems(schemas: Record<string, unknown>, path = 'schemas'): FieldError[] {
  const fields: FieldError[] = [];
  for (const [version, schema] of Object.entries(schemas)) {
    const at = (segments: (string | number)[], message: string): FieldError => ({
      path: [path, version, ...segments].join('.'),
      segments: [path, version, ...segments],
      message,
    });
    if (!VERSION_KEY.test(version)) {
      fields.push(at([], 'schema versions are whole numbers from 1, e.g. {"1": {"type": "object"}}'));
      continue;
    }
    if (typeof schema === 'boolean') continue;
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
      fields.push(at([], 'must be a JSON Schema: an object (or true/false)'));
      continue;
    }
    const dialect = (schema as Record<string, unknown>).$schema;
    if (dialect !== undefined && String(dialect).replace(/#$/, '') !== SCHEMA_DIALECT) {
      fields.push(at(['$schema'], `Herald validates JSON Schema draft 2020-12: leave $schema out or set it to "${SCHEMA_DIALECT}"`));
      continue;
    }
    const a = ajv();
    if (!a.validateSchema(schema)) {
      for (const e of (a.errors ?? []).slice(0, MAX_SCHEMA_ERRORS)) {
        fields.push(at(pointerSegments(e.instancePath, schema), `${e.message ?? 'is invalid'}${allowedValues(e)}`));
      }
      continue;
    }
    try {
      compileOnce(schema);
    } catch (e) {
      fields.push(at([], `cannot be compiled: ${(e as Error).message}`));
    }
  }
  return fields;
}

/**
 * Compiles the newest version of `schemas` into a validator; null when there is none. Throws when the
 * schema does not compile (check it with {@link schemaProblems} when saving).
 */
export function compileLatestSchema(schemas: Record<string, unknown> | null | undefined): CompiledSchema | null {
  const version = latestSchemaVersion(schemas);
  if (version === null) return null;
  const check = compileOnce(schemas![version] as object | boolean);
  return {
    version,
    validate: (payload) => (check(payload) ? [] : payloadProblems(check.errors ?? [], payload)),
  };
}

/** ajv's findings as field errors under `payload`, with the property a `required` or `additionalProperties` names. */
function payloadProblems(errors: ErrorObject[], payload: unknown): FieldError[] {
  const seen = new Set<string>();
  const fields: FieldError[] = [];
  for (const e of errors) {
    const segments: (string | number)[] = ['payload', ...pointerSegments(e.instancePath, payload)];
    let message = `${e.message ?? 'is invalid'}${allowedValues(e)}`;
    const params = e.params as Record<string, unknown>;
    if ((e.keyword === 'required' || e.keyword === 'dependentRequired') && typeof params.missingProperty === 'string') {
      segments.push(params.missingProperty);
      message = `is required (${e.message})`;
    } else if (e.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      segments.push(params.additionalProperty);
      message = 'is not allowed: the schema has no such property (additionalProperties is false)';
    } else if (e.keyword === 'unevaluatedProperties' && typeof params.unevaluatedProperty === 'string') {
      segments.push(params.unevaluatedProperty);
      message = 'is not allowed: the schema has no such property (unevaluatedProperties is false)';
    }
    const path = fieldPathOf(segments);
    if (seen.has(`${path}\u0000${message}`)) continue;
    seen.add(`${path}\u0000${message}`);
    fields.push({ path, segments, message });
    if (fields.length >= MAX_SCHEMA_ERRORS) break;
  }
  return fields;
}

/** ", one of: "a", "b"" for an enum error, so the message says what is accepted. */
function allowedValues(e: ErrorObject): string {
  const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues;
  if (e.keyword !== 'enum' || !Array.isArray(allowed)) return '';
  const list = allowed.slice(0, 10).map((v) => JSON.stringify(v)).join(', ');
  return `: ${list}${allowed.length > 10 ? ', …' : ''}`;
}

/**
 * The segments of a JSON Pointer into `value` (RFC 6901 unescaping), numbers where the value at that
 * point is an array: `/items/0/sku` is ["items", 0, "sku"], `/0` of an object stays "0".
 */
function pointerSegments(pointer: string, value: unknown): (string | number)[] {
  if (pointer === '') return [];
  let at: unknown = value;
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => {
      const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      const index = Array.isArray(at) && /^\d+$/.test(key) ? Number(key) : null;
      at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined;
      return index ?? key;
    });
}

/** `payload.items[0].sku` for ["payload", "items", 0, "sku"]. */
function fieldPathOf(segments: (string | number)[]): string {
  return segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}
