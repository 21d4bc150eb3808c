/**
 * A Herald in its own process that publishes a debounced event type without end, for tests that kill
 * it with SIGKILL in the middle of a window. Reads its settings from the environment like `herald
 * serve` does, plus APP_ID and EVENT_TYPE; runs a debounce flusher and a worker as `serve` does, and
 * prints "published <msg id>" once each publish is acknowledged.
 */
import { loadConfig } from '../../src/config.js';
import { openHerald } from '../../src/engine/herald.js';
import { silentLogger } from '../../src/logger.js';

const herald = await openHerald({ config: loadConfig(process.env), log: silentLogger, skipMigrations: true });
await herald.createWorker().start();
herald.createDebounceFlusher().start();
const appId = process.env.APP_ID!;
const eventType = process.env.EVENT_TYPE!;
for (let i = 0; ; i += 4) {
  // Four at a time, so publishes share group commits as they do under load.
  const published = await Promise.all(
    [0, 1, 2, 3].map((k) => herald.publish(appId, { eventType, payload: { agencyId: 'ag_1', agentId: `a${(i + k) % 5}`, v: i + k } })),
  );
  for (const m of published) process.stdout.write(`published ${m.id}\n`);
}
