/**
 * Starts the PostgreSQL the integration tests use, once per `npm test`:
 * the server at DATABASE_URL when it is set (CI runs both ways), otherwise Herald's embedded one.
 * Builds a migrated template database; each test file clones it (see ./db.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import pg from 'pg';
import { migrate } from '../../src/store/migrate.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/store/embedded-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of the server, pointing at the maintenance database. */
    pgServerUrl: string;
    /** Name of the migrated template database to clone. */
    pgTemplate: string;
  }
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let embedded: EmbeddedPostgres | undefined;
  let dataDir: string | undefined;
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    dataDir = await mkdtemp(join(tmpdir(), 'herald-test-pg-'));
    embedded = await startEmbeddedPostgres({
      dataDir,
      log: (level, msg) => {
        if (level !== 'info') console.warn(`[embedded-postgres] ${msg}`);
      },
    });
    serverUrl = embedded.url;
  }
  const template = `herald_tpl_${process.pid}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${template}`);
  await admin.query(`create database ${template}`);
  await admin.end();
  const pool = new pg.Pool({ connectionString: withDatabase(serverUrl, template), max: 2 });
  await migrate(pool);
  await pool.end();

  project.provide('pgServerUrl', serverUrl);
  project.provide('pgTemplate', template);

  return async () => {
    const c = new pg.Client({ connectionString: serverUrl });
    await c.connect();
    // Leftover test databases of this run (a crashed file) go too.
    const { rows } = await c.query<{ datname: string }>(
      `select datname from pg_database where datname like $1 or datname = $2`,
      [`herald_t_${process.pid}_%`, template],
    );
    for (const r of rows) await c.query(`drop database if exists ${r.datname} with (force)`);
    await c.end();
    await embedded?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  };
}
