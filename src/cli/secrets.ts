/**
 * `herald secrets rotate-key`: re-seals every stored secret (endpoint signing secrets, including the
 * ones still valid from a rotation; custom header values; stored idempotent responses) under the first
 * key of HERALD_SECRET_KEY, so the older keys can then be removed. Opens the database itself, like
 * `migrate`; safe to run while Herald serves, to interrupt, and to run again (src/engine/reseal.ts).
 */
import type { Command } from 'commander';
import { loggerFor } from '../logger.js';
import { CommandFailed, run, UsageError } from './exit-codes.js';
import { openHeraldOrExit } from './open-herald.js';
import { configFromFlags, withServerFlags } from './server-flags.js';

/** Options of `secrets rotate-key`. */
interface RotateFlags {
  batchSize: string;
  [flag: string]: string | undefined;
}

export function registerSecrets(program: Command): void {
  const secrets = program.command('secrets').description('manage the key that encrypts stored secrets');
  withServerFlags(
    secrets
      .command('rotate-key')
      .description("re-encrypt every stored secret with HERALD_SECRET_KEY's first key, so older keys can be removed")
      .option('--batch-size <n>', 'rows per batch (each batch is one read and one write)', '200')
      .addHelpText(
        'after',
        `
Rotating the key:
  1. Put the new key first and keep the old one after it, on every node:
       HERALD_SECRET_KEY=NEW,OLD      (new values are sealed with NEW; both open)
  2. Run: herald secrets rotate-key  (safe while Herald runs; interrupt and run again at will)
  3. Remove OLD: HERALD_SECRET_KEY=NEW

Exit codes: 0 every stored secret is under the first key; 1 a value could not be opened (the
message says which and which key it needs; nothing after it was changed) or values sealed under
another key appeared meanwhile (a node still runs with an older first key: run again); 2 usage.`,
      ),
  ).action(
    run(async (opts: RotateFlags) => {
      const batchSize = Number(opts.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new UsageError('--batch-size must be a whole number from 1 to 10000');
      const config = configFromFlags(opts);
      const log = loggerFor(config);
      const { rotateSealedValues } = await import('../engine/reseal.js');
      const { countNotUnder } = await import('../store/sealed-values.js');
      const { migrate } = await import('../store/migrate.js');
      // Migrations here rather than in openHerald, whose start-up sweep would race this run for clear header values.
      const herald = await openHeraldOrExit(config, log, { skipMigrations: true });
      const stop = new AbortController();
      const interrupt = () => stop.abort();
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      try {
        await migrate(herald.pool);
        const kid = herald.secretBox.currentKeyId;
        process.stderr.write(`re-sealing stored secrets under key ${kid} (the first key of HERALD_SECRET_KEY), ${batchSize} rows a batch\n`);
        const done = await rotateSealedValues(herald.pool, herald.secretBox, {
          batchSize,
          signal: stop.signal,
          onProgress: (p) => process.stderr.write(`  ${p.kind}: ${p.done} re-sealed\n`),
        });
        const summary = `${done['endpoint secrets']} endpoint secrets, ${done['custom headers']} endpoints' custom headers, ${done['idempotent responses']} idempotent responses`;
        if (stop.signal.aborted) throw new CommandFailed(`interrupted after re-sealing ${summary}; run the command again to finish`);
        const left = await countNotUnder(herald.pool, kid);
        const remaining = left.secrets + left.headers + left.responses;
        if (remaining > 0) {
          throw new CommandFailed(
            `${remaining} stored values are still under another key (${left.secrets} secrets, ${left.headers} endpoints' headers, ${left.responses} responses): they were written while this ran, by a node whose HERALD_SECRET_KEY does not start with key ${kid}. Give every node the new key first, then run again`,
          );
        }
        process.stdout.write(`re-sealed ${summary} under key ${kid}. Every stored secret is under that key now: the other keys can be removed from HERALD_SECRET_KEY.\n`);
      } finally {
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
        await herald.close();
      }
    }),
  );
}
