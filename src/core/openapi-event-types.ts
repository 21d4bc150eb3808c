/**
 * Event types from an OpenAPI document (Svix's event-type import): every webhook of the document's
 * `webhooks` (OpenAPI 3.1) or `x-webhooks` section becomes an event type named after the webhook, its
 * description from the operation, `deprecated` from the operation, and as schema version "1" the JSON
 * body's schema with every local `$ref` resolved, so the stored schema stands on its own. Pure: a
 * document in, event types (or the problems found) out.
 */
import type { FieldError } from './errors.js';
import { EVENT_TYPE_NAME_MAX_LENGTH, EVENT_TYPE_NAME_PATTERN } from './filters.js';

/** One event type found in a document (Svix EventTypeFromOpenApi). */
export interface EventTypeFromOpenApi {
  /** The webhook's name. */
  name: string;
  /** The operation's description, else its summary, else "". */
  description: string;
  /** `{"1": schema}`, or null when the webhook has no JSON body schema. */
  schemas: Record<string, unknown> | null;
  /** The operation's `deprecated`. */
  deprecated: boolean;
  /** `x-svix-group-name` of the operation, when given. */
  groupName: string | null;
  /** `x-svix-feature-flags` of the operation, when given. */
  featureFlags: string[] | null;
}

/** HTTP methods of a path item, in the order an operation is looked for. */
const METHODS = ['post', 'put', 'patch', 'get', 'delete'] as const;
/** Deepest nesting of resolved references: a schema that refers to itself stops here. */
const MAX_REF_DEPTH = 32;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Follows a local JSON pointer (`#/components/schemas/Pet`) in the document; undefined when it leads nowhere. */
function pointer(doc: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let at: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (!isObject(at) && !Array.isArray(at)) return undefined;
    at = (at as Json)[key];
  }
  return at;
}

/**
 * A copy of `value` with every `{ "$ref": "#/..." }` replaced by what it points at (sibling keys
 * kept, as OpenAPI 3.1 allows). A reference that cannot be resolved, or that would nest deeper than
 * MAX_REF_DEPTH (a recursive schema), is reported in `problems` and left as `{}` (any value).
 */
function resolveRefs(doc: Json, value: unknown, path: string, problems: FieldError[], seen: string[] = []): unknown {
  if (Array.isArray(value)) return value.map((v, i) => resolveRefs(doc, v, `${path}.${i}`, problems, seen));
  if (!isObject(value)) return value;
  const { $ref, ...rest } = value;
  const siblings = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, resolveRefs(doc, v, `${path}.${k}`, problems, seen)]));
  if (typeof $ref !== 'string') return siblings;
  if (seen.includes($ref) || seen.length >= MAX_REF_DEPTH) {
    problems.push({ path, message: `${$ref} refers to itself; the recursive part is stored as any value` });
    return siblings;
  }
  const target = pointer(doc, $ref);
  if (target === undefined) {
    problems.push({ path, message: `${$ref} does not point at anything in the document` });
    return siblings;
  }
  const resolved = resolveRefs(doc, target, path, problems, [...seen, $ref]);
  return isObject(resolved) ? { ...resolved, ...siblings } : resolved;
}

/** The JSON schema of an operation's request body: application/json, else the first content type. */
function bodySchema(doc: Json, operation: Json): unknown {
  let body = operation.requestBody;
  if (isObject(body) && typeof body.$ref === 'string') body = pointer(doc, body.$ref);
  if (!isObject(body) || !isObject(body.content)) return undefined;
  const content = body.content as Record<string, unknown>;
  const media = content['application/json'] ?? Object.values(content)[0];
  return isObject(media) ? media.schema : undefined;
}

/** Why a name cannot be an event type name, or null. */
function nameProblem(name: string): string | null {
  if (name.length === 0 || name.length > EVENT_TYPE_NAME_MAX_LENGTH) return `must be 1-${EVENT_TYPE_NAME_MAX_LENGTH} characters`;
  if (!EVENT_TYPE_NAME_PATTERN.test(name)) return 'may only contain letters, digits, "-", "_" and "."';
  return null;
}

/**
 * The event types of a document's webhooks, in the document's order, and the problems that stop the
 * import (a bad name, a webhook without an operation, an unresolvable reference). A recursive schema
 * is no problem: its recursive part is stored as any value.
 */
export function eventTypesFromOpenApi(doc: unknown): { types: EventTypeFromOpenApi[]; problems: FieldError[] } {
  const problems: FieldError[] = [];
  if (!isObject(doc)) return { types: [], problems: [{ path: 'spec', message: 'must be an OpenAPI document (a JSON object)' }] };
  const sections = [
    ['webhooks', doc.webhooks],
    ['x-webhooks', doc['x-webhooks']],
  ] as const;
  const types: EventTypeFromOpenApi[] = [];
  const seen = new Set<string>();
  for (const [section, hooks] of sections) {
    if (hooks === undefined) continue;
    if (!isObject(hooks)) {
      problems.push({ path: `spec.${section}`, message: 'must be an object of webhooks by name' });
      continue;
    }
    for (const [name, rawItem] of Object.entries(hooks)) {
      const at = `spec.${section}.${name}`;
      const bad = nameProblem(name);
      if (bad) {
        problems.push({ path: at, message: `webhook name ${JSON.stringify(name)} ${bad} (it becomes the event type name)` });
        continue;
      }
      if (seen.has(name)) continue;
      const item = isObject(rawItem) && typeof rawItem.$ref === 'string' ? pointer(doc, rawItem.$ref) : rawItem;
      const method = isObject(item) ? METHODS.find((m) => isObject(item[m])) : undefined;
      if (!isObject(item) || !method) {
        problems.push({ path: at, message: 'has no operation (post, put, patch, get or delete)' });
        continue;
      }
      const op = item[method] as Json;
      const refProblems: FieldError[] = [];
      const raw = bodySchema(doc, op);
      const schema = raw === undefined ? undefined : resolveRefs(doc, raw, `${at}.${method}.requestBody`, refProblems);
      problems.push(...refProblems.filter((p) => !p.message.includes('refers to itself')));
      const text = (v: unknown) => (typeof v === 'string' ? v : null);
      const flags = op['x-svix-feature-flags'];
      seen.add(name);
      types.push({
        name,
        description: text(op.description) ?? text(op.summary) ?? text(item.description) ?? text(item.summary) ?? '',
        schemas: isObject(schema) ? { '1': schema } : null,
        deprecated: op.deprecated === true,
        groupName: text(op['x-svix-group-name']),
        featureFlags: Array.isArray(flags) && flags.every((f) => typeof f === 'string') ? (flags as string[]) : null,
      });
    }
  }
  if (types.length === 0 && problems.length === 0) {
    problems.push({ path: 'spec', message: 'has no webhooks: list them under "webhooks" (OpenAPI 3.1) or "x-webhooks"' });
  }
  return { types, problems };
}
