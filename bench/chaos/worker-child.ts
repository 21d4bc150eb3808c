/**
 * A chaos worker: what `herald serve --role worker` runs (a delivery worker and the debounce flusher),
 * in a process the run kills with SIGKILL. It skips migrations at start, because the run applies a
 * migration newer than this Herald while workers deliver (migration.ts), and a start that migrates
 * would refuse that database. Prints "ready" once the worker has started; its logs are JSON lines on stdout too.
 */
import { loadConfig } from '../../src/config.js';
import { openHerald } from '../../src/engine/herald.js';
import { loggerFor } from '../../src/logger.js';

const config = loadConfig(process.env);
const herald = await openHerald({ config, log: loggerFor(config), skipMigrations: true });
await herald.createWorker().start();
herald.createDebounceFlusher().start();
process.stdout.write('ready\n');
