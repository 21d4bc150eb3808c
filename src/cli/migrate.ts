/** `herald migrate`: applies pending database migrations and exits. */
import type { Command } from 'commander';
import { loggerFor } from '../logger.js';
import { openHeraldOrExit } from './open-herald.js';
import { configFromFlags, withServerFlags } from './server-flags.js';

export function registerMigrate(program: Command): void {
  withServerFlags(program.command('migrate').description('apply pending database migrations, then exit')).action(async (opts) => {
    const config = configFromFlags(opts);
    const log = loggerFor(config);
    const { migrate } = await import('../store/migrate.js');
    const herald = await openHeraldOrExit(config, log, { skipMigrations: true });
    try {
      const applied = await migrate(herald.pool, {
        onRetry: (name, tries, e) => process.stderr.write(`${name}: ${e.message}; trying again (${tries})\n`),
      });
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
    } finally {
      await herald.close();
    }
  });
}
