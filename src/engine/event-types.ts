/** Event type catalogue rules: filters must name existing types; an envelope must be a usable template. */
import { debounceSettingsProblems } from '../core/debounce.js';
import { HeraldError } from '../core/errors.js';
import { MATCH_ALL } from '../core/filters.js';
import { schemaProblems } from '../core/json-schema.js';
import { missingEventTypes, type EventTypeInput } from '../store/event-types.js';
import type { Queryable } from '../store/pool.js';
import { envelopeFieldProblems, throwIfAny } from './applications.js';

/**
 * Checks what the request schema cannot (422 naming the path): the envelope's placeholders and its use
 * of {{payload}}, and that every JSON Schema is a valid draft 2020-12 schema (it is enforced at publish).
 */
export function validateEventTypeInput(input: EventTypeInput): EventTypeInput {
  const fields = input.envelope != null ? envelopeFieldProblems(input.envelope) : [];
  if (input.schemas != null) fields.push(...schemaProblems(input.schemas));
  if (input.debounce != null) fields.push(...debounceSettingsProblems(input.debounce).map((p) => ({ ...p, path: `debounce.${p.path}` })));
  throwIfAny(fields);
  return input;
}

/**
 * Refuses endpoint filters that name event types missing from the catalogue (or archived), as Svix
 * does: a typo would otherwise leave an endpoint silently receiving nothing. Wildcards (`*`,
 * `order.*`, a Herald extension) are not checked: they may match types that do not exist yet.
 */
export async function assertEventTypesExist(db: Queryable, filterTypes: readonly string[] | null | undefined, path = 'filterTypes'): Promise<void> {
  const exact = [...new Set((filterTypes ?? []).filter((f) => f !== MATCH_ALL && !f.endsWith('.*')))];
  const missing = await missingEventTypes(db, exact);
  if (missing.length === 0) return;
  const list = missing.map((m) => (m.length > 64 ? `${m.slice(0, 64)}…` : m)).join(', ');
  throw new HeraldError('validation', `${path}: these event types do not exist (create them first, or use a wildcard): ${list}`, {
    fields: [{ path, message: `unknown event types: ${list}` }],
  });
}
