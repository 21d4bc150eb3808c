/**
 * Opening Herald for a command that runs against the database (serve, migrate, secrets rotate-key),
 * or exiting with a message an operator can act on: a configuration error as itself (exit 2), a
 * database that cannot be reached or logged into in words naming DATABASE_URL with its password masked
 * and the fix (exit 1), instead of a driver error inside a stack trace.
 */
import type { Config } from '../config.js';
import { ConfigError } from '../config.js';
import type { Herald, OpenOptions } from '../engine/herald.js';
import type { Logger } from '../logger.js';

export async function openHeraldOrExit(config: Config, log: Logger, opts: Pick<OpenOptions, 'skipMigrations'> = {}): Promise<Herald> {
  // Loaded here, not at the top: commands that need no server start without its module graph.
  const { openHerald } = await import('../engine/herald.js');
  try {
    const herald = await openHerald({ config, log, ...opts });
    // Without migrations the database is not touched yet: find out here, not in a stack trace later.
    if (opts.skipMigrations) await herald.pool.query('select 1').catch(async (e: unknown) => {
      await herald.close().catch(() => undefined);
      throw e;
    });
    return herald;
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    const { describeConnectionFailure } = await import('../store/connection-failure.js');
    const problem = config.DATABASE_URL === undefined ? null : describeConnectionFailure(e, config.DATABASE_URL);
    if (problem !== null) {
      process.stderr.write(`${problem}\n`);
      process.exit(1);
    }
    log.error({ err: e }, 'Herald could not start');
    process.exit(1);
  }
}
