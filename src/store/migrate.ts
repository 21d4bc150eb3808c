/**
 * Numbered, forward-only SQL migrations (`migrations/NNNN_name.sql`), applied at start.
 * Each runs in its own transaction under a transaction-level advisory lock, and records its version
 * first, so two nodes starting together cannot both apply it (the pg-boss / graphile-worker approach).
 * A migration applied while other nodes deliver waits a bounded time for each lock and is tried again
 * after a deadlock or a lock timeout, instead of failing the deploy.
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
  /** Told when a migration met a deadlock or a lock timeout and is about to be tried again. */
  onRetry?: (name: string, tries: number, error: Error) => void;
}

/**
 * SQLSTATEs after which a migration is tried again: 40P01 deadlock_detected (a migration that alters
 * several hot tables meets a running worker that locked them in the other order) and 55P03
 * lock_not_available (MIGRATION_LOCK_TIMEOUT ran out). Either way its transaction was rolled back whole.
 */
const RETRYABLE = new Set(['40P01', '55P03']);
/** Tries of one migration before giving up. */
const MIGRATION_TRIES = 6;
/**
 * How long a migration waits for one lock. While it waits, every statement on that table queues
 * behind it, so deliveries pause for at most this long before it steps back, lets them through, and
 * tries again.
 */
const MIGRATION_LOCK_TIMEOUT = '5s';

/** Applies pending migrations; returns the names applied. Safe to call from several processes at once, and while workers deliver. */
export async function migrate(pool: pg.Pool, opts: MigrateOptions = {}): Promise<string[]> {
  const migrations = opts.migrations ?? (await loadMigrations());
  const applied: string[] = [];
  await pool.query(`create table if not exists herald_migration (
    version integer primary key, name text not null, applied_at timestamptz not null default now())`);
  for (const m of migrations) {
    for (let tries = 1; ; tries++) {
      try {
        const done = await inTransaction(pool, async (client) => {
          await client.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
          await client.query(`set local lock_timeout = '${MIGRATION_LOCK_TIMEOUT}'`);
          const inserted = await client.query(
            'insert into herald_migration (version, name) values ($1, $2) on conflict do nothing',
            [m.version, m.name],
          );
          if (inserted.rowCount !== 1) return false;
          await client.query(m.sql);
          return true;
        });
        if (done) applied.push(m.name);
        break;
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code !== undefined && RETRYABLE.has(code) && tries < MIGRATION_TRIES) {
          opts.onRetry?.(m.name, tries, e as Error);
          await new Promise((r) => setTimeout(r, 250 * 2 ** tries));
          continue;
        }
        const why = code !== undefined && RETRYABLE.has(code) ? ` (after ${tries} tries: it kept meeting locks held by running Herald processes; stop them and run herald migrate)` : '';
        throw new Error(`migration ${m.name} failed: ${(e as Error).message}${why}`, { cause: e });
      }
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
