import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { inject } from 'vitest';
import { publishMany } from '../../src/engine/publish.js';
import { DEFAULT_LEASE_MS } from '../../src/delivery/worker.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

let t: TestHerald;
let rx: Receiver;
beforeAll(async () => {
  t = await startTestHerald({ HERALD_POLL_INTERVAL: '100ms' });
  rx = await startReceiver();
});
afterAll(async () => {
  await rx.close();
  await t.close();
});

/** Kills every connection to the test database, as a PostgreSQL restart would. */
async function dropAllConnections(): Promise<number> {
  const admin = new pg.Client({ connectionString: inject('pgServerUrl') });
  await admin.connect();
  const { rowCount } = await admin.query(
    `select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
    [new URL(t.db.url).pathname.slice(1)],
  );
  await admin.end();
  return rowCount ?? 0;
}

describe('database connections lost mid-load', () => {
  it('reconnects and delivers everything that was published', async () => {
    const app = await t.makeApp();
    await t.makeEndpoint(app.id, { url: `${rx.url}/outage` });
    const worker = t.herald.createWorker({ batchSize: 10 });
    await worker.start();
    try {
      const publisher = new pg.Pool({ connectionString: t.db.url, max: 2 });
      publisher.on('error', () => undefined);
      const first = await publishMany(publisher, app.id, Array.from({ length: 100 }, (_, i) => ({ eventType: 'x', payload: { i } })), { now: t.clock.now() });
      expect(await dropAllConnections()).toBeGreaterThan(0);
      const second = await publishMany(publisher, app.id, Array.from({ length: 100 }, (_, i) => ({ eventType: 'x', payload: { i: 100 + i } })), { now: t.clock.now() }).catch(async () =>
        // the publisher's own pooled connection may have been the one killed: publish again, as a caller would
        publishMany(publisher, app.id, Array.from({ length: 100 }, (_, i) => ({ eventType: 'x', payload: { i: 100 + i } })), { now: t.clock.now() }),
      );
      await publisher.end();
      const ids = new Set([...first, ...second].map((m) => m.id));
      // A claim whose connection died after it committed leaves its rows leased to nobody: they are
      // attempted again once the lease expires. The clock is fake, so let lease time pass once the
      // count stops moving, as real time would.
      const until = Date.now() + 30_000;
      let last = -1;
      let stalledSince = Date.now();
      for (;;) {
        const { rows } = await t.herald.pool.query(`select count(*)::int as n from delivery where app_id = $1 and state = 'succeeded'`, [app.id]);
        if (rows[0].n === 200) break;
        if (Date.now() > until) throw new Error(`only ${rows[0].n} of 200 delivered after the outage`);
        if (rows[0].n !== last) [last, stalledSince] = [rows[0].n, Date.now()];
        else if (Date.now() - stalledSince > 2_000) {
          t.clock.advance(DEFAULT_LEASE_MS + 1_000);
          stalledSince = Date.now();
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      const arrived = new Set(rx.requests.filter((r) => r.path === '/outage').map((r) => String(r.headers['webhook-id'])));
      expect([...ids].every((id) => arrived.has(id))).toBe(true);
    } finally {
      await worker.stop();
    }
  });
});
