/**
 * Event type schemas at publish: compiled validators, kept per event type and schema content, so a
 * publish never compiles a schema (ajv generates code: milliseconds) and checks each payload with one
 * call (microseconds).
 *
 * The publish target lookup gives, per published type, the md5 of its `schemas`; a validator is
 * reused only for that exact content, so a schema changed through any Herald node is never checked
 * with an old validator (at worst, within the publish group's one-second target cache). Writes
 * through this node also clear the cache ({@link forgetSchemaValidators}, called with the target
 * cache), which is what keeps old versions from piling up.
 */
import { compileLatestSchema, type CompiledSchema } from '../core/json-schema.js';
import { HeraldError, type FieldError } from '../core/errors.js';
import { getEventTypeSchemas } from '../store/event-types.js';
import type { Queryable } from '../store/pool.js';

/** Validators held at most; past it the cache starts again (schemas are few; this bounds a churn). */
const MAX_VALIDATORS = 2_000;

/** Per event type: the content hash it was compiled from, and the validator (null: nothing to enforce). */
const validators = new Map<string, { hash: string; compiled: CompiledSchema | null }>();

/** Forgets every compiled validator (after an event type changed). */
export function forgetSchemaValidators(): void {
  validators.clear();
}

/**
 * The validators of event types by name, given the content hash each is wanted for: cached ones at
 * once, the others fetched in one query and compiled. A type whose stored schema does not compile
 * (saved before Herald checked schemas) gets null: it is not enforced, and saving it again reports why.
 */
export async function validatorsFor(db: Queryable, wanted: Map<string, string>): Promise<Map<string, CompiledSchema | null>> {
  const out = new Map<string, CompiledSchema | null>();
  const missing: string[] = [];
  for (const [name, hash] of wanted) {
    const hit = validators.get(name);
    if (hit && hit.hash === hash) out.set(name, hit.compiled);
    else missing.push(name);
  }
  if (missing.length === 0) return out;
  if (validators.size + missing.length > MAX_VALIDATORS) validators.clear();
  // The fetched content may be newer than the hash asked for (changed in between): it wins.
  for (const row of await getEventTypeSchemas(db, missing)) {
    let compiled: CompiledSchema | null;
    try {
      compiled = compileLatestSchema(row.schemas);
    } catch {
      compiled = null;
    }
    validators.set(row.name, { hash: row.hash, compiled });
    out.set(row.name, compiled);
  }
  return out;
}

/**
 * The 422 for a payload that does not match its event type's schema, or null when it matches.
 * `at` prefixes field paths inside a batch (`[3].payload.total_pence`).
 */
export function schemaMismatch(compiled: CompiledSchema | null | undefined, eventType: string, payload: unknown, index: number): HeraldError | null {
  if (!compiled) return null;
  const problems = compiled.validate(payload);
  if (problems.length === 0) return null;
  const fields: FieldError[] = problems.map((f) => ({ ...f, path: index >= 0 ? `[${index}].${f.path}` : f.path }));
  const first = problems.slice(0, 3).map((f) => `${f.path} ${f.message}`).join('; ');
  return new HeraldError(
    'validation',
    `payload does not match the JSON Schema of event type ${eventType} (version ${compiled.version}): ${first}${problems.length > 3 ? '; …' : ''}`,
    { fields },
  );
}
