/**
 * Debounced event types, the pure part (docs/debounce.md): JSON pointers (RFC 6901), the keys a
 * published payload is merged under, and the consolidated payload of a window with its diff against
 * the states last sent. No I/O and no clock: times are parameters.
 */

/** Settings of a debounced event type, as stored on the type. */
export interface DebounceSettings {
  /** The window flushes this long after its latest change. */
  quietPeriodSeconds: number;
  /** ...and at the latest this long after it opened, however often changes keep coming. */
  maxDelaySeconds: number;
  /** JSON pointer to the grouping value (one consolidated message per group); null = one group per application. */
  groupBy: string | null;
  /** JSON pointer to the entity's key: each entity appears once per consolidated message. */
  entityKey: string;
  /** JSON pointer to the entity's state within the payload; null = the whole payload. */
  state: string | null;
}

/** Defaults of {@link DebounceSettings}: a one-minute quiet period, capped at ten minutes. */
export const DEFAULT_QUIET_PERIOD_SECONDS = 60;
export const DEFAULT_MAX_DELAY_SECONDS = 600;

/** Where one published message goes: its window and its entity, with the entity's state. */
export interface DebounceKeys {
  /** JSON text of the grouping value ('null' without groupBy). */
  group: string;
  /** JSON text of the entity's key. */
  entity: string;
  /** The entity's state, an object (a scalar state is named by its pointer's last token). */
  state: Record<string, unknown>;
}

/** Splits an RFC 6901 pointer into its tokens; null when it is not a pointer. */
export function parsePointer(pointer: string): string[] | null {
  if (pointer === '') return [];
  if (!pointer.startsWith('/') || /~(?![01])/.test(pointer)) return null;
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The value a pointer names in `doc`, or undefined when it names nothing. */
export function resolvePointer(doc: unknown, tokens: readonly string[]): unknown {
  let at: unknown = doc;
  for (const t of tokens) {
    if (Array.isArray(at)) {
      // RFC 6901 section 4: an array index is "0" or digits without a leading zero.
      if (!/^(0|[1-9][0-9]*)$/.test(t)) return undefined;
      at = at[Number(t)];
    } else if (isObject(at)) {
      at = Object.prototype.hasOwnProperty.call(at, t) ? at[t] : undefined;
    } else {
      return undefined;
    }
  }
  return at;
}

/** Problems of a settings object, each with the field it is about (empty = valid). */
export function debounceSettingsProblems(s: DebounceSettings): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  for (const field of ['groupBy', 'entityKey', 'state'] as const) {
    const p = s[field];
    if (p === null) continue;
    const tokens = parsePointer(p);
    if (tokens === null) problems.push({ path: field, message: `must be a JSON pointer (RFC 6901) such as "/agencyId": "/" then the path, with "~0" for "~" and "~1" for "/"` });
    else if (tokens.length === 0 && field !== 'state') problems.push({ path: field, message: 'must name a field of the payload, e.g. "/agencyId" (the empty pointer is the whole payload)' });
  }
  if (s.maxDelaySeconds < s.quietPeriodSeconds) {
    problems.push({ path: 'maxDelaySeconds', message: `must be at least quietPeriodSeconds (${s.quietPeriodSeconds}): it caps how long changes wait` });
  }
  return problems;
}

/** A key of a group or entity must be a string or a number, so that it names one thing. */
const isKey = (v: unknown): v is string | number => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

/**
 * The window and entity a published payload goes to, or the sentence saying why it cannot be
 * debounced (a 422 for its publisher: the keys must be present).
 */
export function debounceKeysOf(s: DebounceSettings, payload: Record<string, unknown>): DebounceKeys | string {
  let group = 'null';
  if (s.groupBy !== null) {
    const g = resolvePointer(payload, parsePointer(s.groupBy) ?? []);
    if (!isKey(g)) return `payload${s.groupBy} must be a string or a number: the event type groups its messages by it (debounce.groupBy)`;
    group = JSON.stringify(g);
  }
  const entityTokens = parsePointer(s.entityKey) ?? [];
  const e = resolvePointer(payload, entityTokens);
  if (!isKey(e)) return `payload${s.entityKey} must be a string or a number: the event type merges its messages per entity by it (debounce.entityKey)`;
  const stateTokens = s.state === null ? [] : parsePointer(s.state) ?? [];
  const value = resolvePointer(payload, stateTokens);
  if (value === undefined) return `payload${s.state} is missing: it is the entity's state (debounce.state)`;
  const state = isObject(value) ? value : { [stateTokens.at(-1)!]: value };
  return { group, entity: JSON.stringify(e), state };
}

/**
 * The JSON Merge Patch (RFC 7396) that turns `from` into `to`: changed and added fields with their new
 * value, nested objects patched field by field, removed fields as null; undefined when they are equal.
 * Applying it to the state a receiver holds gives the new state.
 */
export function mergePatch(from: Record<string, unknown>, to: Record<string, unknown>): Record<string, unknown> | undefined {
  const patch: Record<string, unknown> = {};
  for (const k of Object.keys(from)) if (!Object.prototype.hasOwnProperty.call(to, k)) patch[k] = null;
  for (const [k, v] of Object.entries(to)) {
    if (!Object.prototype.hasOwnProperty.call(from, k)) {
      patch[k] = v;
      continue;
    }
    const old = from[k];
    if (isObject(old) && isObject(v)) {
      const sub = mergePatch(old, v);
      if (sub !== undefined) patch[k] = sub;
    } else if (!jsonEqual(old, v)) {
      patch[k] = v;
    }
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}

/** An open window as the flush reads it. */
export interface WindowContent {
  /** Event type. */
  eventType: string;
  /** JSON text of the grouping value. */
  group: string;
  /** Latest state per entity, keyed by the entity key's JSON text. */
  entities: Record<string, Record<string, unknown>>;
  /** Published messages merged into it, in publish order. */
  msgIds: string[];
  /** When its first message was published. */
  openedAt: Date;
  /** When its latest message was published. */
  lastChangeAt: Date;
}

/** One entity of a consolidated payload. */
export interface ConsolidatedEntity {
  /** The entity's key (the value at debounce.entityKey). */
  key: string | number;
  /** RFC 7396 merge patch from the state last sent for this entity to its latest state. */
  changes: Record<string, unknown>;
}

/** The payload of a consolidated message (docs/debounce.md). */
export interface ConsolidatedPayload {
  /** The debounced event type. */
  type: string;
  /** The grouping value (null without groupBy). */
  group: string | number | null;
  /** Entities that changed, each once, with only what changed. */
  entities: ConsolidatedEntity[];
  /** Every published message this one consolidates (entities that did not change included), oldest first. */
  consolidates: string[];
  /** The window: when its first and latest changes were published and when it closed. */
  window: { openedAt: string; lastChangeAt: string; closedAt: string };
}

/** What a flush does with one window: the payload to publish (null = nothing changed) and the states it sends. */
export interface Consolidation {
  /** The consolidated payload, or null when no entity changed (nothing is sent). */
  payload: ConsolidatedPayload | null;
  /** The latest state of each entity that changed, to record as sent. */
  sent: { entity: string; state: Record<string, unknown> }[];
}

/**
 * Consolidates one window: each entity once, its latest state diffed against `lastSent` (the state
 * the previous consolidated message sent for it, absent for an entity never sent). Entities without
 * a change are left out; when none changed, nothing is sent.
 */
export function consolidate(w: WindowContent, lastSent: ReadonlyMap<string, Record<string, unknown>>, closedAt: Date): Consolidation {
  const entities: (ConsolidatedEntity & { json: string })[] = [];
  const sent: Consolidation['sent'] = [];
  for (const [json, state] of Object.entries(w.entities)) {
    const changes = mergePatch(lastSent.get(json) ?? {}, state);
    if (changes === undefined) continue;
    entities.push({ json, key: JSON.parse(json) as string | number, changes });
    sent.push({ entity: json, state });
  }
  if (entities.length === 0) return { payload: null, sent };
  entities.sort((a, b) => compareKeys(a.key, b.key));
  return {
    payload: {
      type: w.eventType,
      group: JSON.parse(w.group) as string | number | null,
      entities: entities.map(({ key, changes }) => ({ key, changes })),
      consolidates: w.msgIds,
      window: { openedAt: w.openedAt.toISOString(), lastChangeAt: w.lastChangeAt.toISOString(), closedAt: closedAt.toISOString() },
    },
    sent,
  };
}

/** Numbers first, in numeric order, then strings by code unit: a stable order receivers can rely on. */
function compareKeys(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Deep equality of JSON values (object key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}
