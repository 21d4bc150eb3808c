/**
 * The migration applied while workers deliver. Herald's own migrations are all applied before the run
 * starts (the code in the processes needs them: publish writes the newest columns), so the one applied
 * mid-run is the shape of the next release's migration during a rolling deploy: new columns on the
 * hot tables (delivery, message, attempt, endpoint_lane), an index built on the queue, a new table,
 * applied through the same `migrate` (advisory lock, one transaction per migration, version recorded
 * first) while the running workers keep claiming, sending and writing results. Adding columns changes
 * the row type of those tables, which is what breaks prepared statements that return whole rows; the
 * ACCESS EXCLUSIVE lock is held for a moment on purpose, so claims, result writes and publishes queue
 * behind it and must carry on afterwards.
 */
import pg from 'pg';
import { loadMigrations, migrate, type Migration } from '../../src/store/migrate.js';

/** How long the migration keeps its locks, so that work visibly queues behind it. */
const HOLD_LOCKS_SECONDS = 2;

/** The run's migration, numbered after Herald's newest. */
export async function chaosMigration(): Promise<Migration> {
  const newest = (await loadMigrations()).at(-1)?.version ?? 0;
  const version = newest + 1;
  return {
    version,
    name: `${String(version).padStart(4, '0')}_chaos_probe.sql`,
    sql: `
      alter table delivery add column chaos_probe text;
      alter table message add column chaos_probe text;
      alter table attempt add column chaos_probe text;
      alter table endpoint_lane add column chaos_probe integer not null default 0;
      create index delivery_chaos_probe_idx on delivery (endpoint_id, chaos_probe) where chaos_probe is not null;
      create table chaos_probe (id bigint generated always as identity primary key, note text not null);
      select pg_sleep(${HOLD_LOCKS_SECONDS});
    `,
  };
}

/** Applies Herald's migrations and the run's with `migrate`; resolves with the names applied and how long it took. */
export async function applyChaosMigration(url: string): Promise<{ applied: string[]; ms: number }> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  const started = Date.now();
  try {
    const applied = await migrate(pool, { migrations: [...(await loadMigrations()), await chaosMigration()] });
    return { applied, ms: Date.now() - started };
  } finally {
    await pool.end();
  }
}
