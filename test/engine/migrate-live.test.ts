/**
 * A migration applied while Herald delivers: it waits a bounded time for each lock, and after a lock
 * timeout (or a deadlock with a running worker) it is tried again instead of failing the deploy.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate, type Migration } from '../../src/store/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

let db: TestDatabase;
let pool: pg.Pool;
beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  pool.on('error', () => undefined); // a connection still closing when db.drop() forces the drop
});
afterAll(async () => {
  await pool.end();
  await db.drop();
});

async function nextMigration(sql: string): Promise<Migration> {
  const all = await loadMigrations();
  const version = (all.at(-1)?.version ?? 0) + 1;
  return { version, name: `${String(version).padStart(4, '0')}_live_probe.sql`, sql };
}

describe('migrate while other sessions hold locks', () => {
  it('steps back when a lock is held past its timeout, tries again, and applies once the lock is free', async () => {
    const probe = await nextMigration('alter table delivery add column live_probe text;');
    const migrations = [...(await loadMigrations()), probe];
    // A long transaction on delivery, as a slow worker write would hold it.
    const holder = await pool.connect();
    await holder.query('begin');
    await holder.query('lock table delivery in row exclusive mode');
    const retries: string[] = [];
    const applying = migrate(pool, { migrations, onRetry: (name, tries, e) => retries.push(`${name} ${tries} ${(e as { code?: string }).code}`) });
    // Let go only after the migration's first try has given up on the lock.
    while (retries.length === 0) await new Promise((r) => setTimeout(r, 100));
    await holder.query('commit');
    holder.release();
    expect(await applying).toEqual([probe.name]);
    expect(retries[0]).toBe(`${probe.name} 1 55P03`);
    const { rows } = await pool.query(`select column_name from information_schema.columns where table_name = 'delivery' and column_name = 'live_probe'`);
    expect(rows).toHaveLength(1);
    const recorded = await pool.query('select name from herald_migration where version = $1', [probe.version]);
    expect(recorded.rows).toEqual([{ name: probe.name }]);
  });
});
