/**
 * A Herald for integration tests: a fresh database cloned from the migrated template, the real
 * openHerald path, a fake clock, and no jitter, so the retry schedule is exact.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openHerald, type Herald } from '../../src/engine/herald.js';
import { createApplication } from '../../src/engine/applications.js';
import { createEndpoint } from '../../src/engine/endpoints.js';
import type { EndpointInput } from '../../src/store/endpoints.js';
import { silentLogger } from '../../src/logger.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { FakeClock } from './fake-clock.js';
import { startReceiver, type Receiver } from './receiver.js';

export interface TestHerald {
  herald: Herald;
  clock: FakeClock;
  db: TestDatabase;
  /** Creates an application. */
  makeApp(name?: string): Promise<{ id: string }>;
  /** Creates an endpoint; returns it with its secret. */
  makeEndpoint(appId: string, input: Partial<EndpointInput> & { url: string; secret?: string }): Promise<{ id: string; secret: string }>;
  close(): Promise<void>;
}

export async function startTestHerald(env: Record<string, string> = {}): Promise<TestHerald> {
  const db = await createTestDatabase();
  const clock = new FakeClock(Date.now());
  const config = loadConfig({
    DATABASE_URL: db.url,
    HERALD_SECRET_KEY: randomBytes(32).toString('base64'),
    HERALD_ALLOW_HTTP: 'true',
    HERALD_ALLOWED_NETWORKS: '127.0.0.0/8',
    HERALD_POLL_INTERVAL: '20ms',
    HERALD_REQUEST_TIMEOUT: '3s',
    HERALD_RETRY_JITTER: '0',
    HERALD_LOG_LEVEL: 'silent',
    ...env,
  });
  const herald = await openHerald({ config, log: silentLogger, clock, skipMigrations: true });
  return {
    herald,
    clock,
    db,
    async makeApp(name = 'Acme') {
      return createApplication(herald.pool, { name }, clock.now());
    },
    async makeEndpoint(appId, input) {
      const { endpoint, secret } = await createEndpoint(herald.pool, herald.secretBox, appId, input, {
        now: clock.now(),
        policy: herald.urlPolicy,
      });
      return { id: endpoint.id, secret };
    },
    async close() {
      await herald.close();
      await db.drop();
    },
  };
}

/** A test Herald and a receiver for one test file: started before its tests, stopped after. */
export interface HeraldFixture {
  /** The Herald (set once the file's tests start). */
  t: TestHerald;
  /** The receiver standing in for the customer's endpoint. */
  rx: Receiver;
}

/** Registers beforeAll/afterAll hooks that start and stop a Herald and a receiver. */
export function useHeraldWithReceiver(env: Record<string, string> = {}): HeraldFixture {
  const fixture = {} as HeraldFixture;
  beforeAll(async () => {
    fixture.t = await startTestHerald(env);
    fixture.rx = await startReceiver();
  });
  afterAll(async () => {
    await fixture.rx?.close();
    await fixture.t?.close();
  });
  return fixture;
}
