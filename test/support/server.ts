/**
 * A running Herald for end-to-end tests: the real HTTP server on a free port (API, dashboard) and a
 * delivery worker on the real clock, over a fresh test database. Drive it with HTTP clients or a browser.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../../src/api/app.js';
import { systemClock } from '../../src/core/clock.js';
import { openHerald, type Herald } from '../../src/engine/herald.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import type { Api } from '../../src/api/context.js';
import { createTestDatabase, type TestDatabase } from './db.js';

export interface TestServer {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Operator token. */
  adminToken: string;
  herald: Herald;
  app: Api;
  db: TestDatabase;
  close(): Promise<void>;
}

export async function startTestServer(env: Record<string, string> = {}, opts: { worker?: boolean } = {}): Promise<TestServer> {
  const db = await createTestDatabase();
  const adminToken = `admin_${randomBytes(24).toString('hex')}`;
  const config = loadConfig({
    DATABASE_URL: db.url,
    HERALD_SECRET_KEY: randomBytes(32).toString('base64'),
    HERALD_ADMIN_TOKEN: adminToken,
    HERALD_ALLOW_HTTP: 'true',
    HERALD_ALLOWED_NETWORKS: '127.0.0.0/8',
    HERALD_POLL_INTERVAL: '50ms',
    HERALD_REQUEST_TIMEOUT: '5s',
    HERALD_RETRY_SCHEDULE: '0,1s,2s',
    HERALD_RETRY_JITTER: '0',
    HERALD_PORT: '0',
    HERALD_LOG_LEVEL: 'silent',
    ...env,
  });
  const herald = await openHerald({ config, log: silentLogger, clock: systemClock, skipMigrations: true });
  const app = await buildApp({ herald, options: {} });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  if (opts.worker !== false) await herald.createWorker().start();
  return {
    url,
    adminToken,
    herald,
    app,
    db,
    async close() {
      await app.close();
      await herald.close();
      await db.drop();
    },
  };
}
