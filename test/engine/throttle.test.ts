/**
 * An endpoint's throttle holds across worker processes: two worker children (the real `openHerald`
 * path, real clock) share one database and one rate-limited endpoint.
 *
 * Old design: the rate limit was stored but no claim looked at it, so both workers sent all 12
 * messages at once (12 arrivals within milliseconds, far above the 2 + 2/s the bucket allows).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { publishMany } from '../../src/engine/publish.js';
import { startGaugedReceiver, waitUntil, type GaugedReceiver } from '../support/gauged-receiver.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

let t: TestHerald;
let rx: GaugedReceiver;
beforeAll(async () => {
  t = await startTestHerald();
  rx = await startGaugedReceiver();
});
afterAll(async () => {
  await rx?.close();
  await t?.close();
});

const children = new Set<ChildProcess>();
afterEach(async () => {
  // A failed assertion must not leave worker processes running against the database.
  const running = [...children].filter((c) => c.exitCode === null && c.signalCode === null);
  for (const c of running) c.kill('SIGKILL');
  await Promise.all(running.map((c) => once(c, 'exit')));
  children.clear();
});

/** Starts a worker process on the test database; resolves once it prints "ready". */
async function startWorkerChild(): Promise<ChildProcess> {
  const c = t.herald.config;
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/worker-child.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: t.db.url,
      HERALD_SECRET_KEY: c.HERALD_SECRET_KEY!,
      HERALD_ALLOW_HTTP: 'true',
      HERALD_ALLOWED_NETWORKS: '127.0.0.0/8',
      HERALD_POLL_INTERVAL: '50ms',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    lines.on('line', (l) => l === 'ready' && resolve());
    child.once('exit', (code, signal) => reject(new Error(`worker child exited before ready (${code ?? signal})`)));
  });
  return child;
}

describe('throttle', () => {
  it('never lets two worker processes together exceed an endpoint rate limit', async () => {
    const rate = 2; // requests per second
    const burst = 2; // the bucket holds one second of tokens
    const app = await t.makeApp();
    const ep = await t.makeEndpoint(app.id, { url: `${rx.url}/throttled` });
    await t.herald.pool.query('update endpoint set rate_limit = $2 where id = $1', [ep.id, rate]);

    await Promise.all([startWorkerChild(), startWorkerChild()]);
    const msgs = await publishMany(
      t.herald.pool,
      app.id,
      Array.from({ length: 12 }, (_, i) => ({ eventType: 'order.paid', payload: { i } })),
      { now: new Date() }, // the children run on the real clock
    );
    await waitUntil(() => rx.count('/throttled') >= 12, '12 throttled arrivals');

    // Token bucket: any k arrivals spanning dt ms need k <= burst + rate * dt / 1000. One token of
    // slack absorbs the spread of network latency between claim and arrival. A slow machine only
    // spreads arrivals further apart, so this cannot fail for being slow.
    const at = rx.requests.filter((r) => r.path === '/throttled').map((r) => r.arrivedAt).sort((x, y) => x - y);
    const tooFast: string[] = [];
    for (let i = 0; i < at.length; i++) {
      for (let j = i + 1; j < at.length; j++) {
        const allowed = burst + (rate * (at[j]! - at[i]!)) / 1000 + 1;
        if (j - i + 1 > allowed) tooFast.push(`arrivals ${i}..${j}: ${j - i + 1} in ${at[j]! - at[i]!} ms`);
      }
    }
    expect(tooFast).toEqual([]);
    const ids = rx.requests.map((r) => r.webhookId);
    expect(ids).toHaveLength(12);
    expect(new Set(ids)).toEqual(new Set(msgs.map((m) => m.id)));
  });
});
