/**
 * Which endpoints receive which event types. An endpoint's `filterTypes` lists exact names and, as a
 * Herald extension to the Svix API, trailing wildcards: `order.*` means every type under `order.`.
 */
import { HeraldError, type FieldError } from './errors.js';

/** Svix's event type name rule, kept identical so names move freely between Svix and Herald. */
export const EVENT_TYPE_NAME_PATTERN = /^[a-zA-Z0-9\-_.]+$/;
/** Svix's maximum event type name length. */
export const EVENT_TYPE_NAME_MAX_LENGTH = 256;
/** The pattern that matches every event type. */
export const MATCH_ALL = '*';
const WILDCARD_SUFFIX = '.*';

/**
 * True when an endpoint with these channels should receive a message published on `messageChannels`
 * (Svix's rule): an endpoint without channels receives every message; one with channels receives
 * only messages sharing at least one of them, so never a message published without channels.
 * CHANNEL_MATCH_SQL in src/store/messages.ts is the same rule in SQL (a test keeps them in agreement).
 */
export function matchesChannels(endpointChannels: readonly string[] | null | undefined, messageChannels: readonly string[] | null | undefined): boolean {
  if (!endpointChannels || endpointChannels.length === 0) return true;
  return (messageChannels ?? []).some((c) => endpointChannels.includes(c));
}

/**
 * True when an endpoint with these filters should receive `eventType`. `null`, `undefined` and `[]` all
 * mean "every type": Svix treats an empty filterTypes as no filter, and an endpoint that could never
 * receive anything is better expressed by disabling it. Matching is case-sensitive, like the names.
 * `order.*` matches `order.paid` and `order.item.added`, not `order` itself nor `orders.paid` (and, as a
 * degenerate case, the odd but valid name `order.`).
 */
export function matchesEventType(filterTypes: readonly string[] | null | undefined, eventType: string): boolean {
  if (filterTypes === null || filterTypes === undefined || filterTypes.length === 0) return true;
  for (const pattern of filterTypes) {
    if (pattern === MATCH_ALL || pattern === eventType) return true;
    if (pattern.endsWith(WILDCARD_SUFFIX)) {
      // Keep the dot, so `order.*` cannot match `orders.x`. Deliberately a plain prefix test so that
      // FILTER_MATCH_SQL in src/store/messages.ts (which the fan-out uses) agrees on every input.
      if (eventType.startsWith(pattern.slice(0, -1))) return true;
    }
  }
  return false;
}

/** The problem with a name, or null when it is valid. */
function nameProblem(name: unknown, what: string): string | null {
  if (typeof name !== 'string') return `${what} must be a string`;
  if (name.length === 0) return `${what} must not be empty`;
  if (name.length > EVENT_TYPE_NAME_MAX_LENGTH) {
    return `${what} is ${name.length} characters long; at most ${EVENT_TYPE_NAME_MAX_LENGTH} are allowed`;
  }
  if (!EVENT_TYPE_NAME_PATTERN.test(name)) {
    const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name;
    return `${what} "${shown}" may only contain letters, digits, '-', '_' and '.' (e.g. "order.paid")`;
  }
  return null;
}

/** Throws HeraldError('validation') unless `name` is a valid event type name. */
export function validateEventTypeName(name: string): void {
  const problem = nameProblem(name, 'an event type name');
  if (problem !== null) throw new HeraldError('validation', problem);
}

/** The problem with a filter pattern, or null when it is valid. */
function patternProblem(pattern: unknown): string | null {
  if (pattern === MATCH_ALL) return null;
  if (typeof pattern === 'string' && pattern.endsWith(WILDCARD_SUFFIX)) {
    const problem = nameProblem(pattern.slice(0, -WILDCARD_SUFFIX.length), `the prefix of filter "${pattern.slice(0, 64)}"`);
    return problem === null ? null : `${problem}; wildcards are only allowed as "*" or a trailing ".*"`;
  }
  const problem = nameProblem(pattern, 'a filter');
  if (problem !== null && typeof pattern === 'string' && pattern.includes('*')) {
    return `filter "${pattern.slice(0, 64)}" has a wildcard in the wrong place: use "*" for everything or "prefix.*" for a family of types`;
  }
  return problem;
}

/** Throws HeraldError('validation') unless `pattern` is an exact name, `*`, or `<name>.*`. */
export function validateFilterPattern(pattern: string): void {
  const problem = patternProblem(pattern);
  if (problem !== null) throw new HeraldError('validation', problem);
}

/** Validates a whole `filterTypes` list, reporting every bad entry with its index (for API bodies). */
export function validateFilterTypes(filterTypes: readonly unknown[], path = 'filterTypes'): void {
  const fields: FieldError[] = [];
  filterTypes.forEach((p, i) => {
    const problem = patternProblem(p);
    if (problem !== null) fields.push({ path: `${path}[${i}]`, message: problem });
  });
  if (fields.length > 0) {
    throw new HeraldError('validation', fields.map((f) => `${f.path}: ${f.message}`).join('; '), { fields });
  }
}
