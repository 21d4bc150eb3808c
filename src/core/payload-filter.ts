/**
 * Payload filters: an endpoint receives a message only when its body matches the endpoint's filter,
 * a small language in the style of MongoDB queries (docs/payload-filters.md):
 *
 * ```json
 * { "total_pence": { "$gte": 1000 }, "customer.country": { "$in": ["GB", "IE"] }, "$or": [{ "gift": true }, { "channel": "web" }] }
 * ```
 *
 * Parsed once when the endpoint is saved ({@link parsePayloadFilter}), which names every bad part;
 * evaluated here ({@link matchesPayloadFilter}: the dashboard's "test against a sample") and, at
 * fan-out, by PostgreSQL as the jsonpath predicate {@link toJsonPath} compiles it to. The two must
 * agree on every input (test/engine/payload-filter-sql.test.ts checks many pairs), so the rules are
 * strict and simple:
 * - A path (`customer.country`, or nested objects) goes through objects only; through an array, a
 *   scalar or a missing key it is missing.
 * - Equality and `$in` compare scalars of the same JSON type (`1` never equals `"1"`); an object or
 *   array never equals anything. `null` matches an explicit null, not a missing value.
 * - `$gt`, `$gte`, `$lt`, `$lte` take numbers and match numbers only.
 * - `$ne`, `$nin` and `$not` are the negation of `$eq`, `$in` and their filter: a missing value matches them.
 * - A body holding NUL or a lone UTF-16 surrogate (which PostgreSQL cannot read as JSON) matches no filter.
 *
 * Pure: no I/O.
 */
import type { FieldError } from './errors.js';

/** A JSON scalar: what equality and `$in` compare. */
export type Scalar = string | number | boolean | null;

/** Operators that apply to the value at a path. */
export type FieldOperator = '$eq' | '$ne' | '$in' | '$nin' | '$gt' | '$gte' | '$lt' | '$lte' | '$exists';

/** A parsed filter: a tree of logical nodes over conditions on paths. */
export type FilterNode =
  | { kind: 'and'; of: FilterNode[] }
  | { kind: 'or'; of: FilterNode[] }
  | { kind: 'not'; of: FilterNode }
  | { kind: 'eq' | 'ne'; path: string[]; value: Scalar }
  | { kind: 'in' | 'nin'; path: string[]; values: Scalar[] }
  | { kind: 'gt' | 'gte' | 'lt' | 'lte'; path: string[]; value: number }
  | { kind: 'exists'; path: string[]; value: boolean };

/**
 * Limits of one filter: it is evaluated for every message of the endpoint's application, and stored
 * and sent with the endpoint. Constants rather than settings: they bound work per message, and a
 * filter that needs more is better split over endpoints.
 */
export const PAYLOAD_FILTER_LIMITS = {
  /** Serialised size of the filter, in bytes. */
  maxBytes: 8_192,
  /** Nesting of objects and arrays in the filter. */
  maxDepth: 8,
  /** Conditions (one per operator and per plain value) in the whole filter. */
  maxConditions: 64,
  /** Values of one `$in` or `$nin`. */
  maxInValues: 100,
  /** Keys of one path (`a.b.c` is three). */
  maxPathKeys: 16,
};

const FIELD_OPERATORS = new Set<string>(['$eq', '$ne', '$in', '$nin', '$gt', '$gte', '$lt', '$lte', '$exists', '$not']);
const OPERATOR_LIST = ['$and', '$or', '$not', ...[...FIELD_OPERATORS].filter((o) => o !== '$not')].join(', ');
/** NUL, or a surrogate that is not half of a pair: PostgreSQL cannot hold either in JSON. */
const UNSTORABLE = /\0|\p{Cs}/u;

/** Result of {@link parsePayloadFilter}: the filter (null = no filter: `{}` matches everything), or every problem. */
export type ParsedFilter = { ok: true; filter: FilterNode | null } | { ok: false; problems: FieldError[] };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isScalar = (v: unknown): v is Scalar =>
  v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
const describe = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`);

/** Parses and checks a filter; problems are located under `root` (`payloadFilter.total_pence.$gte`). */
export function parsePayloadFilter(raw: unknown, root = 'payloadFilter'): ParsedFilter {
  const problems: FieldError[] = [];
  const at = (segments: (string | number)[], message: string) => {
    const all = [root, ...segments];
    problems.push({ path: all.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join(''), segments: all, message });
  };
  if (!isObject(raw)) {
    at([], `must be an object of conditions, e.g. {"status": "paid"}; got ${describe(raw)}`);
    return { ok: false, problems };
  }
  // TextEncoder rather than Buffer: the dashboard runs this module in the browser.
  const bytes = new TextEncoder().encode(JSON.stringify(raw)).length;
  if (bytes > PAYLOAD_FILTER_LIMITS.maxBytes) at([], `is ${bytes} bytes of JSON; at most ${PAYLOAD_FILTER_LIMITS.maxBytes}`);
  if (depthOf(raw) > PAYLOAD_FILTER_LIMITS.maxDepth) at([], `nests objects and arrays deeper than ${PAYLOAD_FILTER_LIMITS.maxDepth} levels`);
  if (problems.length > 0) return { ok: false, problems };
  const parser = new Parser(at);
  const filter = parser.filter(raw, [], []);
  if (parser.conditions > PAYLOAD_FILTER_LIMITS.maxConditions) at([], `has ${parser.conditions} conditions; at most ${PAYLOAD_FILTER_LIMITS.maxConditions}`);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, filter };
}

/** Every problem with a filter (none for a valid one or null). */
export function payloadFilterProblems(raw: unknown, root = 'payloadFilter'): FieldError[] {
  if (raw === null || raw === undefined) return [];
  const parsed = parsePayloadFilter(raw, root);
  return parsed.ok ? [] : parsed.problems;
}

function depthOf(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  let deepest = 0;
  for (const child of Object.values(v)) deepest = Math.max(deepest, depthOf(child));
  return deepest + 1;
}

/** The recursive descent over a raw filter, collecting problems with their locations. */
class Parser {
  conditions = 0;
  constructor(private readonly at: (segments: (string | number)[], message: string) => void) {}

  /** An object of conditions on paths under `prefix`, all of which must hold. */
  filter(obj: Record<string, unknown>, prefix: string[], loc: (string | number)[]): FilterNode | null {
    const parts: FilterNode[] = [];
    for (const [key, value] of Object.entries(obj)) {
      const here = [...loc, key];
      const node = key.startsWith('$') ? this.logical(key, value, prefix, here) : this.field(key, value, prefix, here);
      if (node) parts.push(node);
    }
    return parts.length === 0 ? null : parts.length === 1 ? parts[0]! : { kind: 'and', of: parts };
  }

  private logical(key: string, value: unknown, prefix: string[], loc: (string | number)[]): FilterNode | null {
    if (key === '$not') {
      if (!isObject(value) || Object.keys(value).length === 0) return this.fail(loc, 'must be a non-empty object of conditions, e.g. {"$not": {"status": "paid"}}');
      const inner = this.filter(value, prefix, loc);
      return inner && { kind: 'not', of: inner };
    }
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0) return this.fail(loc, `must be a non-empty array of filters, e.g. {"${key}": [{"a": 1}, {"b": 2}]}`);
      const of: FilterNode[] = [];
      for (const [i, item] of value.entries()) {
        if (!isObject(item) || Object.keys(item).length === 0) {
          this.fail([...loc, i], `must be a non-empty object of conditions; got ${describe(item)}`);
          continue;
        }
        const node = this.filter(item, prefix, [...loc, i]);
        if (node) of.push(node);
      }
      return of.length === value.length ? { kind: key === '$and' ? 'and' : 'or', of } : null;
    }
    if (FIELD_OPERATORS.has(key)) return this.fail(loc, `${key} applies to a field: put it under one, e.g. {"total_pence": {"${key}": …}}`);
    return this.fail(loc, `unknown operator ${key}; the operators are ${OPERATOR_LIST}`);
  }

  private field(key: string, value: unknown, prefix: string[], loc: (string | number)[]): FilterNode | null {
    const keys = key.split('.');
    if (keys.some((k) => k === '')) return this.fail(loc, 'is not a path: keys are separated by single dots, e.g. "customer.country"');
    if (UNSTORABLE.test(key)) return this.fail(loc, 'must not contain NUL or a lone surrogate');
    const path = [...prefix, ...keys];
    if (path.length > PAYLOAD_FILTER_LIMITS.maxPathKeys) return this.fail(loc, `is a path of ${path.length} keys; at most ${PAYLOAD_FILTER_LIMITS.maxPathKeys}`);
    if (Array.isArray(value)) return this.fail(loc, 'an array is not a value to compare with: use {"$in": [...]} for one of several values');
    if (!isObject(value)) return this.scalar(value, loc) ? this.count({ kind: 'eq', path, value: value as Scalar }) : null;
    const names = Object.keys(value);
    if (names.length === 0) return this.fail(loc, 'must not be empty: give conditions, e.g. {"$exists": true}');
    const operators = names.filter((n) => n.startsWith('$'));
    if (operators.length > 0 && operators.length < names.length) {
      return this.fail(loc, `mixes operators (${operators.join(', ')}) with fields (${names.filter((n) => !n.startsWith('$')).join(', ')}): give each its own object`);
    }
    // Operators: conditions on this path; fields, $and or $or: a filter on the object at this path.
    if (operators.length > 0 && !names.some((n) => n === '$and' || n === '$or')) return this.operators(value, path, loc);
    return this.filter(value, path, loc);
  }

  /** An object of operators on the value at `path`, all of which must hold. */
  private operators(ops: Record<string, unknown>, path: string[], loc: (string | number)[]): FilterNode | null {
    const parts: FilterNode[] = [];
    let bad = false;
    for (const [op, arg] of Object.entries(ops)) {
      const node = this.operator(op, arg, path, [...loc, op]);
      if (node) parts.push(node);
      else bad = true;
    }
    if (bad) return null;
    return parts.length === 1 ? parts[0]! : { kind: 'and', of: parts };
  }

  private operator(op: string, arg: unknown, path: string[], loc: (string | number)[]): FilterNode | null {
    switch (op) {
      case '$eq':
      case '$ne':
        return this.scalar(arg, loc) ? this.count({ kind: op === '$eq' ? 'eq' : 'ne', path, value: arg as Scalar }) : null;
      case '$in':
      case '$nin': {
        if (!Array.isArray(arg) || arg.length === 0) return this.fail(loc, 'must be a non-empty array of values, e.g. ["GB", "IE"]');
        if (arg.length > PAYLOAD_FILTER_LIMITS.maxInValues) return this.fail(loc, `has ${arg.length} values; at most ${PAYLOAD_FILTER_LIMITS.maxInValues}`);
        const ok = arg.map((v, i) => this.scalar(v, [...loc, i])).every(Boolean);
        return ok ? this.count({ kind: op === '$in' ? 'in' : 'nin', path, values: arg as Scalar[] }) : null;
      }
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        if (typeof arg !== 'number' || !Number.isFinite(arg)) return this.fail(loc, `must be a number (comparisons apply to numbers only); got ${describe(arg)}`);
        return this.count({ kind: op.slice(1) as 'gt' | 'gte' | 'lt' | 'lte', path, value: arg });
      case '$exists':
        if (typeof arg !== 'boolean') return this.fail(loc, `must be true or false; got ${describe(arg)}`);
        return this.count({ kind: 'exists', path, value: arg });
      case '$not': {
        // Operators on the same value ({"$not": {"$gt": 5}}), or a filter on the object at this path.
        if (!isObject(arg) || Object.keys(arg).length === 0) return this.fail(loc, 'must be a non-empty object, e.g. {"$not": {"$gt": 5}}');
        const names = Object.keys(arg);
        const ops = names.every((n) => n.startsWith('$')) && !names.some((n) => n === '$and' || n === '$or');
        const inner = ops ? this.operators(arg, path, loc) : this.filter(arg, path, loc);
        return inner && { kind: 'not', of: inner };
      }
      default:
        return this.fail(loc, `unknown operator ${op}; the operators are ${OPERATOR_LIST}`);
    }
  }

  /** Whether `v` is a JSON scalar a filter can compare (reported at `loc` when not). */
  private scalar(v: unknown, loc: (string | number)[]): boolean {
    if (!isScalar(v)) {
      this.fail(loc, `must be a string, number, boolean or null; got ${describe(v)}`);
      return false;
    }
    if (typeof v === 'string' && UNSTORABLE.test(v)) {
      this.fail(loc, 'must not contain NUL or a lone surrogate');
      return false;
    }
    return true;
  }

  private count(node: FilterNode): FilterNode {
    this.conditions++;
    return node;
  }

  private fail(loc: (string | number)[], message: string): null {
    this.at(loc, message);
    return null;
  }
}

/** Marks a path that does not resolve. */
const MISSING = Symbol('missing');

/** The value at a path, through objects only. */
function resolve(payload: unknown, path: string[]): unknown {
  let at: unknown = payload;
  for (const key of path) {
    if (!isObject(at) || !Object.prototype.hasOwnProperty.call(at, key)) return MISSING;
    at = at[key];
  }
  return at;
}

/** Same JSON type and equal (objects and arrays equal nothing). */
const sameScalar = (v: unknown, s: Scalar) => isScalar(v) && v === s;

function evaluate(node: FilterNode, payload: unknown): boolean {
  switch (node.kind) {
    case 'and':
      return node.of.every((n) => evaluate(n, payload));
    case 'or':
      return node.of.some((n) => evaluate(n, payload));
    case 'not':
      return !evaluate(node.of, payload);
    default:
      return test(node, resolve(payload, node.path));
  }
}

/** One condition against the value found at its path (or MISSING). */
function test(node: Exclude<FilterNode, { kind: 'and' | 'or' | 'not' }>, v: unknown): boolean {
  switch (node.kind) {
    case 'eq':
      return sameScalar(v, node.value);
    case 'ne':
      return !sameScalar(v, node.value);
    case 'in':
      return node.values.some((s) => sameScalar(v, s));
    case 'nin':
      return !node.values.some((s) => sameScalar(v, s));
    case 'exists':
      return (v !== MISSING) === node.value;
    case 'gt':
      return typeof v === 'number' && v > node.value;
    case 'gte':
      return typeof v === 'number' && v >= node.value;
    case 'lt':
      return typeof v === 'number' && v < node.value;
    case 'lte':
      return typeof v === 'number' && v <= node.value;
  }
}

/** Whether any key or string of a JSON value holds NUL or a lone surrogate. */
function holdsUnstorableText(v: unknown): boolean {
  if (typeof v === 'string') return UNSTORABLE.test(v);
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some(holdsUnstorableText);
  return Object.entries(v).some(([k, child]) => UNSTORABLE.test(k) || holdsUnstorableText(child));
}

/** Whether a message body matches a parsed filter (null, no filter: always). */
export function matchesPayloadFilter(filter: FilterNode | null, body: unknown): boolean {
  if (filter === null) return true;
  return !holdsUnstorableText(body) && evaluate(filter, body);
}

/** One condition of a filter, as the dashboard explains it. */
export interface ConditionCheck {
  /** The condition in words, e.g. `total_pence >= 1000`. */
  condition: string;
  /** What the body holds there, e.g. `500` or `missing`. */
  found: string;
  /** Whether this condition holds (the filter's `$or`/`$not` decide what that means for the whole). */
  holds: boolean;
}

/** Whether a body matches, and each condition with what the body holds at its path. */
export function explainPayloadFilter(filter: FilterNode | null, body: unknown): { matches: boolean; checks: ConditionCheck[]; unreadable: boolean } {
  const checks: ConditionCheck[] = [];
  const walk = (n: FilterNode): void => {
    if (n.kind === 'and' || n.kind === 'or') n.of.forEach(walk);
    else if (n.kind === 'not') walk(n.of);
    else {
      const v = resolve(body, n.path);
      checks.push({ condition: conditionText(n), found: v === MISSING ? 'missing' : truncate(JSON.stringify(v)), holds: test(n, v) });
    }
  };
  if (filter) walk(filter);
  return { matches: matchesPayloadFilter(filter, body), checks, unreadable: filter !== null && holdsUnstorableText(body) };
}

const truncate = (s: string) => (s.length > 80 ? `${s.slice(0, 79)}…` : s);

function conditionText(n: Exclude<FilterNode, { kind: 'and' | 'or' | 'not' }>): string {
  const p = n.path.join('.');
  const list = (vs: Scalar[]) => vs.map((v) => JSON.stringify(v)).join(', ');
  switch (n.kind) {
    case 'eq':
      return `${p} = ${JSON.stringify(n.value)}`;
    case 'ne':
      return `${p} ≠ ${JSON.stringify(n.value)}`;
    case 'in':
      return `${p} is one of ${list(n.values)}`;
    case 'nin':
      return `${p} is none of ${list(n.values)}`;
    case 'exists':
      return n.value ? `${p} is present` : `${p} is absent`;
    default:
      return `${p} ${{ gt: '>', gte: '≥', lt: '<', lte: '≤' }[n.kind]} ${n.value}`;
  }
}

/**
 * The filter as a PostgreSQL jsonpath predicate (`body @@ path`) that agrees with
 * {@link matchesPayloadFilter}. Strict mode, so arrays are never unwrapped; each step of a path
 * keeps only objects that have the key (`? (exists(@."k"))`), so a path through anything else is an
 * empty sequence rather than an error; every condition is an `exists(...)` over that sequence, which
 * is true or false, never unknown, so `!`, `&&` and `||` are two-valued as in JavaScript. Scalars
 * compare only with scalars of their own type in jsonpath, as in {@link sameScalar}.
 */
export function toJsonPath(filter: FilterNode): string {
  return `strict ${predicate(filter)}`;
}

function predicate(n: FilterNode): string {
  switch (n.kind) {
    case 'and':
      return `(${n.of.map(predicate).join(' && ')})`;
    case 'or':
      return `(${n.of.map(predicate).join(' || ')})`;
    case 'not':
      return `!(${predicate(n.of)})`;
    default: {
      const at = `$${n.path.map((k) => ` ? (exists(@.${literal(k)})).${literal(k)}`).join('')}`;
      const any = (vs: Scalar[]) => vs.map((v) => `@ == ${literal(v)}`).join(' || ');
      switch (n.kind) {
        case 'eq':
          return `exists(${at} ? (@ == ${literal(n.value)}))`;
        case 'ne':
          return `!(exists(${at} ? (@ == ${literal(n.value)})))`;
        case 'in':
          return `exists(${at} ? (${any(n.values)}))`;
        case 'nin':
          return `!(exists(${at} ? (${any(n.values)})))`;
        case 'exists':
          return n.value ? `exists(${at})` : `!(exists(${at}))`;
        default:
          return `exists(${at} ? (@.type() == "number" && @ ${{ gt: '>', gte: '>=', lt: '<', lte: '<=' }[n.kind]} ${literal(n.value)}))`;
      }
    }
  }
}

/**
 * A jsonpath literal: JSON's spelling of strings (its escapes are jsonpath's), numbers, booleans and
 * null. Numbers print as JavaScript prints them (shortest round trip, `1e+21`), which jsonpath reads.
 */
function literal(v: Scalar): string {
  return JSON.stringify(v);
}
