/**
 * Numbered, forward-only SQL migrations (`migrations/NNNN_name.sql`), applied at start.
 * Each runs in its own transaction under a transaction-level advisory lock, and records its version
 * first, so two nodes starting together cannot both apply it (the pg-boss / graphile-worker approach).
 */
import { readdir, readFile } from 'node:fs/promises';
import type pg from 'pg';
import { inTransaction } from './pool.js';

/** Arbitrary but fixed key for pg_advisory_xact_lock: "herald" in ASCII. */
const MIGRATION_LOCK_KEY = 0x686572616c64;

/** A migration file found on disk. */
export interface Migration {
  /** The number in the file name. */
  version: number;
  /** The file name. */
  name: string;
  /** SQL text. */
  sql: string;
}

const migrationsDir = new URL('./migrations/', import.meta.url);

/** Reads every migration file, ordered by version; refuses duplicate numbers. */
export async function loadMigrations(): Promise<Migration[]> {
  const files = (await readdir(migrationsDir)).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort();
  const seen = new Set<number>();
  const out: Migration[] = [];
  for (const name of files) {
    const version = Number(name.slice(0, 4));
    if (seen.has(version)) throw new Error(`two migrations share number ${version}: rename one`);
    seen.add(version);
    out.push({ version, name, sql: await readFile(new URL(name, migrationsDir), 'utf8') });
  }
  return out;
}

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /**
   * The migrations to apply, in order; default: the files of `migrations/`. The chaos run passes
   * them plus one of its own, to apply a migration while workers deliver (bench/chaos/migration.ts).
   */
  migrations?: Migration[];
}

/** Applies pending migrations; returns the names applied. Safe to call from several processes at once. */
export async function migrate(pool: pg.Pool, opts: MigrateOptions = {}): Promise<string[]> {
  const migrations = opts.migrations ?? (await loadMigrations());
  const applied: string[] = [];
  await pool.query(`create table if not exists herald_migration (
    version integer primary key, name text not null, applied_at timestamptz not null default now())`);
  for (const m of migrations) {
    try {
      await inTransaction(pool, async (client) => {
        await client.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
        const inserted = await client.query(
          'insert into herald_migration (version, name) values ($1, $2) on conflict do nothing',
          [m.version, m.name],
        );
        if (inserted.rowCount === 1) {
          await client.query(m.sql);
          applied.push(m.name);
        }
      });
    } catch (e) {
      throw new Error(`migration ${m.name} failed: ${(e as Error).message}`, { cause: e });
    }
  }
  const newest = await pool.query<{ v: number }>('select max(version)::int as v from herald_migration');
  const known = migrations.at(-1)?.version ?? 0;
  if ((newest.rows[0]?.v ?? 0) > known) {
    throw new Error(
      `the database has migration ${newest.rows[0]?.v}, newer than this Herald knows (${known}): upgrade Herald`,
    );
  }
  return applied;
}
