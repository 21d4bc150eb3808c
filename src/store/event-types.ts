/**
 * The event type catalogue (global, like Svix's per-environment list). Deleting archives by default:
 * archived types stay valid for publishing and filters but are hidden from lists.
 */
import type { DebounceSettings } from '../core/debounce.js';
import type { Queryable } from './pool.js';
import { keyset, type Keyset, type PageRequest } from './paging.js';

/** A stored event type. */
export interface EventTypeRow {
  /** e.g. order.paid */
  name: string;
  /** Shown beside the checkbox in the UI. */
  description: string;
  /** JSON Schema per version, e.g. {"1": {...}}, or null. */
  schemas: Record<string, unknown> | null;
  /** Hidden from lists unless asked for. */
  archived: boolean;
  /** Marked as going away. */
  deprecated: boolean;
  /** UI grouping. */
  groupName: string | null;
  /** Svix feature flags (stored, not enforced). */
  featureFlags: string[] | null;
  /** JSON template wrapping this type's payloads, overriding the application's; null = inherit. */
  envelope: Record<string, unknown> | null;
  /** Debounce settings (docs/debounce.md); null = every message is sent at once. */
  debounce: DebounceSettings | null;
  /** When created. */
  createdAt: Date;
  /** Last change. */
  updatedAt: Date;
}

/** Fields a caller sets (everything but the name and the timestamps). */
export interface EventTypeInput {
  /** Description. */
  description: string;
  /** JSON Schemas. */
  schemas?: Record<string, unknown> | null;
  /** Archived. */
  archived?: boolean;
  /** Deprecated. */
  deprecated?: boolean;
  /** Group. */
  groupName?: string | null;
  /** Feature flags. */
  featureFlags?: string[] | null;
  /** Envelope template (validated by the caller); null = inherit the application's. */
  envelope?: Record<string, unknown> | null;
  /** Debounce settings (validated by the caller); null = sent at once. */
  debounce?: DebounceSettings | null;
}

const COLUMNS = `name, description, schemas, archived, deprecated, group_name as "groupName",
  feature_flags as "featureFlags", envelope, debounce, created_at as "createdAt", updated_at as "updatedAt"`;

function params(name: string, input: EventTypeInput, now: Date): unknown[] {
  return [
    name,
    input.description,
    input.schemas == null ? null : JSON.stringify(input.schemas),
    input.archived ?? false,
    input.deprecated ?? false,
    input.groupName ?? null,
    input.featureFlags ?? null,
    now,
    input.envelope == null ? null : JSON.stringify(input.envelope),
    input.debounce == null ? null : JSON.stringify(input.debounce),
  ];
}

/**
 * Creates a type. An archived type of the same name is brought back with the new settings (as Svix
 * does), so "delete then create" works; a live one is left alone and null is returned (a conflict).
 */
export async function insertEventType(db: Queryable, name: string, input: EventTypeInput, now: Date): Promise<EventTypeRow | null> {
  const { rows } = await db.query<EventTypeRow>(
    `insert into event_type as t (name, description, schemas, archived, deprecated, group_name, feature_flags, envelope, debounce, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $9, $10, $8, $8)
     on conflict (name) do update set description = excluded.description, schemas = excluded.schemas,
       archived = excluded.archived, deprecated = excluded.deprecated, group_name = excluded.group_name,
       feature_flags = excluded.feature_flags, envelope = excluded.envelope, debounce = excluded.debounce, updated_at = excluded.updated_at
       where t.archived
     returning ${COLUMNS}`,
    params(name, input, now),
  );
  return rows[0] ?? null;
}

/** Creates or replaces a type (PUT); `created` says which happened. */
export async function upsertEventType(
  db: Queryable,
  name: string,
  input: EventTypeInput,
  now: Date,
): Promise<{ row: EventTypeRow; created: boolean }> {
  const { rows } = await db.query<EventTypeRow & { created: boolean }>(
    `insert into event_type as t (name, description, schemas, archived, deprecated, group_name, feature_flags, envelope, debounce, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $9, $10, $8, $8)
     on conflict (name) do update set description = excluded.description, schemas = excluded.schemas,
       archived = excluded.archived, deprecated = excluded.deprecated, group_name = excluded.group_name,
       feature_flags = excluded.feature_flags, envelope = excluded.envelope, debounce = excluded.debounce, updated_at = excluded.updated_at
     returning ${COLUMNS}, (xmax = 0) as created`,
    params(name, input, now),
  );
  const { created, ...row } = rows[0]!;
  return { row, created };
}

export async function getEventType(db: Queryable, name: string): Promise<EventTypeRow | null> {
  const { rows } = await db.query<EventTypeRow>(`select ${COLUMNS} from event_type where name = $1`, [name]);
  return rows[0] ?? null;
}

/** Replaces a type's settings; null when it does not exist. */
export async function updateEventType(db: Queryable, name: string, input: EventTypeInput, now: Date): Promise<EventTypeRow | null> {
  const { rows } = await db.query<EventTypeRow>(
    `update event_type set description = $2, schemas = $3, archived = $4, deprecated = $5, group_name = $6,
       feature_flags = $7, updated_at = $8, envelope = $9, debounce = $10
     where name = $1 returning ${COLUMNS}`,
    params(name, input, now),
  );
  return rows[0] ?? null;
}

/** Archives (hides) a type, or deletes it for good with `expunge`; false when it does not exist. */
export async function deleteEventType(db: Queryable, name: string, opts: { expunge: boolean; now: Date }): Promise<boolean> {
  const { rowCount } = opts.expunge
    ? await db.query('delete from event_type where name = $1', [name])
    : await db.query('update event_type set archived = true, updated_at = $2 where name = $1', [name, opts.now]);
  return rowCount === 1;
}

/** Lists types by name; archived ones only when asked. */
export async function listEventTypes(
  db: Queryable,
  page: PageRequest & { includeArchived: boolean },
): Promise<{ rows: EventTypeRow[]; ks: Keyset }> {
  const ks = keyset('name', page, 3);
  const args: unknown[] = [page.limit + 1, page.includeArchived];
  if (ks.cursor !== null) args.push(ks.cursor);
  const { rows } = await db.query<EventTypeRow>(
    `select ${COLUMNS} from event_type where ($2 or not archived) and ${ks.where} order by ${ks.orderBy} limit $1`,
    args,
  );
  return { rows, ks };
}

/** Of `names`, those that are not live (missing or archived) event types. */
export async function missingEventTypes(db: Queryable, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const { rows } = await db.query<{ name: string }>(
    `select n as name from unnest($1::text[]) n
     where not exists (select 1 from event_type t where t.name = n and not t.archived) order by n`,
    [names],
  );
  return rows.map((r) => r.name);
}

/** The schemas of event types, with the md5 that getPublishTargets (./messages.ts) gives for them. */
export async function getEventTypeSchemas(db: Queryable, names: string[]): Promise<{ name: string; schemas: Record<string, unknown>; hash: string }[]> {
  const { rows } = await db.query<{ name: string; schemas: Record<string, unknown>; hash: string }>(
    'select name, schemas, md5(schemas::text) as hash from event_type where name = any($1::text[]) and schemas is not null',
    [names],
  );
  return rows;
}
