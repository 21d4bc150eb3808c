/**
 * Importing event types from an OpenAPI document (Svix v1.event-type.import-openapi): creates the
 * webhooks' event types that are missing, updates those whose description, schema, deprecation or
 * group differ (an archived one is brought back), and with `replaceAll` archives every live type the
 * document does not name. All in one transaction; `dryRun` computes the same and changes nothing.
 */
import type pg from 'pg';
import type { EventTypeFromOpenApi } from '../core/openapi-event-types.js';
import { inTransaction, type Queryable } from '../store/pool.js';
import { deleteEventType, insertEventType, updateEventType, type EventTypeRow } from '../store/event-types.js';

/** Options of {@link importEventTypes}. */
export interface ImportOptions {
  /** Archive live event types the document does not name. */
  replaceAll: boolean;
  /** Compute the changes without making them. */
  dryRun: boolean;
  /** Time of the changes. */
  now: Date;
}

/** What an import changed (or, in a dry run, would change). */
export interface ImportResult {
  /** Names of the event types created, updated or archived. */
  modified: string[];
  /** The event types the document defines that differ from the catalogue (created or updated). */
  toModify: EventTypeFromOpenApi[];
}

/** Whether the stored type already says what the document says. */
function same(row: EventTypeRow, t: EventTypeFromOpenApi): boolean {
  return (
    !row.archived &&
    row.description === t.description &&
    row.deprecated === t.deprecated &&
    JSON.stringify(row.schemas) === JSON.stringify(t.schemas) &&
    (t.groupName === null || row.groupName === t.groupName) &&
    (t.featureFlags === null || JSON.stringify(row.featureFlags) === JSON.stringify(t.featureFlags))
  );
}

async function currentTypes(db: Queryable): Promise<Map<string, EventTypeRow>> {
  const { rows } = await db.query<EventTypeRow>(
    `select name, description, schemas, archived, deprecated, group_name as "groupName", feature_flags as "featureFlags",
       envelope, debounce, created_at as "createdAt", updated_at as "updatedAt"
     from event_type for update`,
  );
  return new Map(rows.map((r) => [r.name, r]));
}

/** Applies the document's event types to the catalogue; see the module comment. */
export async function importEventTypes(pool: pg.Pool, types: EventTypeFromOpenApi[], opts: ImportOptions): Promise<ImportResult> {
  const run = async (db: Queryable): Promise<ImportResult> => {
    const current = await currentTypes(db);
    const toModify = types.filter((t) => {
      const row = current.get(t.name);
      return !row || !same(row, t);
    });
    const named = new Set(types.map((t) => t.name));
    const toArchive = opts.replaceAll ? [...current.values()].filter((r) => !r.archived && !named.has(r.name)).map((r) => r.name) : [];
    if (!opts.dryRun) {
      for (const t of toModify) {
        const row = current.get(t.name);
        // Settings the document says nothing about (the envelope, debounce, flags and group when absent) are kept.
        const input = {
          description: t.description,
          schemas: t.schemas,
          archived: false,
          deprecated: t.deprecated,
          groupName: t.groupName ?? row?.groupName ?? null,
          featureFlags: t.featureFlags ?? row?.featureFlags ?? null,
          envelope: row?.envelope ?? null,
          debounce: row?.debounce ?? null,
        };
        if (row) await updateEventType(db, t.name, input, opts.now);
        else await insertEventType(db, t.name, input, opts.now);
      }
      for (const name of toArchive) await deleteEventType(db, name, { expunge: false, now: opts.now });
    }
    return { modified: [...toModify.map((t) => t.name), ...toArchive], toModify };
  };
  return opts.dryRun ? run(pool) : inTransaction(pool, run);
}
