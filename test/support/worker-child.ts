/**
 * A Herald worker in its own process, for tests that kill it with SIGKILL mid-flight.
 * Reads its settings from the environment like `herald serve` does; prints "ready" once started.
 */
import { loadConfig } from '../../src/config.js';
import { openHerald } from '../../src/engine/herald.js';
import { silentLogger } from '../../src/logger.js';

const herald = await openHerald({ config: loadConfig(process.env), log: silentLogger, skipMigrations: true });
await herald.createWorker().start();
process.stdout.write('ready\n');
