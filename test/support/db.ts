/** A fresh database per test file, cloned from the migrated template (graphile-worker's approach). */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { withDatabase } from './global-setup.js';

/** A throwaway database for one test file. */
export interface TestDatabase {
  /** Connection string. */
  url: string;
  /** A pool on it. */
  pool: pg.Pool;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = inject('pgServerUrl');
  const template = inject('pgTemplate');
  const name = `herald_t_${template.split('_').at(-1)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name} template ${template}`);
  await admin.end();
  const url = withDatabase(serverUrl, name);
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // pool.end() resolves once its clients are told to end, not once their sockets have closed, so the
  // forced drop below can terminate a connection still closing (57P01), which an idle client reports
  // as an error event. Ignored from then on; before that, an idle client's error still fails the run.
  let dropping = false;
  pool.on('error', (e) => {
    if (!dropping) throw e;
  });
  return {
    url,
    pool,
    async drop() {
      dropping = true;
      await pool.end();
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
