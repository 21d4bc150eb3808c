import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { freePort, runCli, startCli, type CliProcess } from './cli-process.js';

let db: TestDatabase;
let rx: Receiver;
const running: CliProcess[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
  rx = await startReceiver();
});
afterAll(async () => {
  await rx.close();
  await db.drop();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});


const secretKey = randomBytes(32).toString('base64');
const baseEnv = () => ({
  DATABASE_URL: db.url,
  HERALD_SECRET_KEY: secretKey,
  HERALD_ALLOW_HTTP: 'true',
  HERALD_ALLOWED_NETWORKS: '127.0.0.0/8',
  HERALD_LOG_LEVEL: 'info',
});

describe('herald serve', () => {
  it('prints a generated operator token once, serves the API and delivers, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const serve = startCli(['serve', '--port', String(port)], { env: baseEnv() });
    running.push(serve);
    const [, token] = await serve.waitFor(/(ha_[A-Za-z0-9_-]+)/);
    await serve.waitFor(/Herald listening/);
    const url = `http://127.0.0.1:${port}`;
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    expect((await fetch(`${url}/api/v1/health`)).status).toBe(200);

    const app = await (await fetch(`${url}/api/v1/app`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'Acme' }) })).json();
    await fetch(`${url}/api/v1/app/${app.id}/endpoint`, { method: 'POST', headers: auth, body: JSON.stringify({ url: `${rx.url}/serve` }) });
    const msg = await (
      await fetch(`${url}/api/v1/app/${app.id}/msg`, { method: 'POST', headers: auth, body: JSON.stringify({ eventType: 'order.paid', payload: { a: 1 } }) })
    ).json();
    await rx.waitFor(1, 15_000);
    expect(rx.requests[0]!.headers['webhook-id']).toBe(msg.id);

    expect(await serve.stop('SIGTERM')).toBe(0);
    expect(serve.stdout + serve.stderr).toMatch(/shutting down/);

    // A second start does not print a token again.
    const again = startCli(['serve', '--port', String(port)], { env: baseEnv() });
    running.push(again);
    await again.waitFor(/Herald listening/);
    expect(again.stdout).not.toMatch(/ha_[A-Za-z0-9_-]{20,}/);
    expect(await again.stop('SIGTERM')).toBe(0);
  });

  it('runs API and worker apart: the worker-only process delivers and serves its own /metrics on HERALD_METRICS_PORT, nothing else', async () => {
    const [apiPort, metricsPort] = [await freePort(), await freePort()];
    const token = `op_${randomBytes(24).toString('hex')}`;
    const api = startCli(['serve', '--role', 'api', '--port', String(apiPort)], { env: { ...baseEnv(), HERALD_ADMIN_TOKEN: token } });
    running.push(api);
    await api.waitFor(/Herald listening/);
    const worker = startCli(['serve', '--role', 'worker'], { env: { ...baseEnv(), HERALD_METRICS_PORT: String(metricsPort), HERALD_METRICS_TOKEN: 'scrape-token-0123456789' } });
    running.push(worker);
    await worker.waitFor(/metrics listening/);

    const url = `http://127.0.0.1:${apiPort}`;
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const app = await (await fetch(`${url}/api/v1/app`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'Split' }) })).json();
    await fetch(`${url}/api/v1/app/${app.id}/endpoint`, { method: 'POST', headers: auth, body: JSON.stringify({ url: `${rx.url}/split` }) });
    const before = rx.requests.length;
    await fetch(`${url}/api/v1/app/${app.id}/msg`, { method: 'POST', headers: auth, body: JSON.stringify({ eventType: 'order.paid', payload: { a: 1 } }) });
    await rx.waitFor(before + 1, 15_000);

    const metrics = `http://127.0.0.1:${metricsPort}`;
    expect((await fetch(`${metrics}/metrics`)).status).toBe(401);
    const scrape = async () => (await fetch(`${metrics}/metrics`, { headers: { authorization: 'Bearer scrape-token-0123456789' } })).text();
    // The result is counted once its group commit is in, a moment after the receiver saw the request.
    let text = await scrape();
    for (let i = 0; i < 50 && !/herald_delivery_attempts_total\{outcome="delivered"\} 1\b/.test(text); i++) {
      await new Promise((r) => setTimeout(r, 100));
      text = await scrape();
    }
    expect(text).toMatch(/herald_delivery_attempts_total\{outcome="delivered"\} 1\b/);
    expect((await fetch(`${metrics}/api/v1/health`)).status).toBe(404);
    expect(await worker.stop('SIGTERM')).toBe(0);
    expect(await api.stop('SIGTERM')).toBe(0);
  });

  it('refuses a malformed setting at start with exit code 2 and how to fix it', async () => {
    const res = await runCli(['serve'], { env: { ...baseEnv(), HERALD_PORT: 'eighty', HERALD_ALLOWED_NETWORKS: '10.0.0.1/8' } });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/HERALD_PORT="eighty": must be a whole number/);
    expect(res.stderr).toMatch(/HERALD_ALLOWED_NETWORKS="10.0.0.1\/8": .*10\.0\.0\.0\/8/);
  });

  it('requires HERALD_SECRET_KEY with an external database', async () => {
    const res = await runCli(['serve'], { env: { ...baseEnv(), HERALD_SECRET_KEY: '' } });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/HERALD_SECRET_KEY is required when DATABASE_URL is set/);
  });

  it('applies migrations with herald migrate', async () => {
    const res = await runCli(['migrate'], { env: baseEnv() });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/up to date|applied/);
  });
});
