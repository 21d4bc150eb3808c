/**
 * The chaos run's own PostgreSQL: Herald's embedded binaries on a temporary data directory, so the run
 * can restart it without touching the machine's server (which others use). It keeps its port across
 * restarts, so every Herald process reconnects to the same URL.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/store/embedded-postgres.js';
import { onCleanup } from '../cleanup.js';

/** A PostgreSQL the run can restart. */
export interface ChaosPostgres {
  /** postgres:// URL, the same before and after a restart. */
  url: string;
  /** Fast shutdown (sessions ended, checkpoint), then a start on the same port; resolves with the downtime in ms. */
  restart(): Promise<number>;
  /** Whether it is between the two halves of a restart. */
  down(): boolean;
  /** Stops it and removes the data directory. Idempotent. */
  close(): Promise<void>;
}

const log = (level: 'info' | 'warn' | 'error', msg: string) => {
  if (level !== 'info') console.error(`  [chaos postgres] ${msg}`);
};

export async function startChaosPostgres(): Promise<ChaosPostgres> {
  const dataDir = await mkdtemp(join(tmpdir(), 'herald-chaos-'));
  let pg: EmbeddedPostgres | undefined;
  let isDown = false;
  const close = onCleanup(`stop the chaos PostgreSQL in ${dataDir}`, async () => {
    await pg?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  try {
    pg = await startEmbeddedPostgres({ dataDir, port: 0, log });
  } catch (e) {
    await close();
    throw e;
  }
  const port = pg.port;
  return {
    url: pg.url,
    down: () => isDown,
    async restart() {
      const started = Date.now();
      isDown = true;
      try {
        await pg!.stop();
        pg = await startEmbeddedPostgres({ dataDir, port, log });
        if (pg.port !== port) throw new Error(`PostgreSQL came back on port ${pg.port}, not ${port}: the Herald processes cannot find it`);
      } finally {
        isDown = false;
      }
      return Date.now() - started;
    },
    close,
  };
}
