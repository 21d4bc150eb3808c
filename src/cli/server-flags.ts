/** Flags shared by the commands that open the database themselves (serve, migrate). */
import type { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config.js';

/** Adds the flags that override configuration variables. */
export function withServerFlags(cmd: Command): Command {
  return cmd
    .option('--database-url <url>', 'PostgreSQL connection string (DATABASE_URL); omit for the embedded database')
    .option('--data-dir <dir>', 'data directory (HERALD_DATA_DIR)')
    .option('--port <port>', 'HTTP port (HERALD_PORT)')
    .option('--host <host>', 'listen address (HERALD_HOST)')
    .option('--log-level <level>', 'log level (HERALD_LOG_LEVEL)');
}

/** Loads the configuration with flags over environment; a bad value exits with status 2 and says why. */
export function configFromFlags(opts: Record<string, string | undefined>): Config {
  try {
    // undefined: loadConfig reads the environment itself; only src/config.ts may.
    return loadConfig(undefined, {
      DATABASE_URL: opts.databaseUrl,
      HERALD_DATA_DIR: opts.dataDir,
      HERALD_PORT: opts.port,
      HERALD_HOST: opts.host,
      HERALD_LOG_LEVEL: opts.logLevel,
    });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}
