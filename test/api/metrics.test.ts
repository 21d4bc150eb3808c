/**
 * GET /metrics: a scrape parsed with a real Prometheus text-format parser after real deliveries to a
 * real receiver (fake clock, so retry and breaker times are exact), the bearer token, and the
 * database's figures (queue, oldest due, breakers) read at scrape time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { buildApp } from '../../src/api/app.js';
import type { Api } from '../../src/api/context.js';
import { publish } from '../../src/engine/publish.js';
import { HeraldMetrics } from '../../src/metrics/registry.js';
import { silentLogger } from '../../src/logger.js';
import { queueStats } from '../../src/store/queue-stats.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { Scrape } from '../support/prometheus.js';

const TOKEN = 'metrics-token-0123456789abcdef';
const ADMIN = 'admin_metrics_test_operator_token_0123456789';
/** Answers by path: what each endpoint's receiver says. */
const ANSWERS: Record<string, number> = { '/ok': 200, '/down': 500, '/bad': 400, '/gone': 410 };

let t: TestHerald;
let rx: Receiver;
let api: Api;

beforeAll(async () => {
  // Breakers open after 3 failures in a row; the retry after the first attempt comes 5 s later.
  t = await startTestHerald({ HERALD_METRICS_TOKEN: TOKEN, HERALD_ADMIN_TOKEN: ADMIN, HERALD_BREAKER_FAILURES: '3', HERALD_BREAKER_BACKOFF: '5s', HERALD_RETRY_SCHEDULE: '0,5s,5m' });
  rx = await startReceiver({ respondWith: (req) => ({ status: ANSWERS[req.path] ?? 404 }) });
  api = await buildApp({ herald: t.herald, options: {} });
});
afterAll(async () => {
  await api?.close();
  await rx?.close();
  await t?.close();
});

async function scrape(token: string | null = TOKEN): Promise<Scrape> {
  const res = await api.inject({ method: 'GET', url: '/metrics', headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  return new Scrape(res.body);
}

const send = (appId: string, n: number) =>
  Promise.all(Array.from({ length: n }, (_, i) => publish(t.herald.pool, appId, { eventType: 'order.paid', payload: { i } }, { now: t.clock.now() })));

describe('GET /metrics', () => {
  it('asks for the token: 401 with WWW-Authenticate without it, with a wrong one or another scheme; 200 with it', async () => {
    for (const authorization of [undefined, `Bearer ${TOKEN}x`, `Bearer ${'y'.repeat(TOKEN.length)}`, `Basic ${TOKEN}`, TOKEN]) {
      const res = await api.inject({ method: 'GET', url: '/metrics', headers: authorization === undefined ? {} : { authorization } });
      expect({ authorization, status: res.statusCode }).toEqual({ authorization, status: 401 });
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.json().code).toBe('unauthorized');
      expect(res.body).not.toContain('herald_');
    }
    const ok = await api.inject({ method: 'GET', url: '/metrics', headers: { authorization: `bearer  ${TOKEN}` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['cache-control']).toBe('no-store');
    expect(ok.body).toContain('# TYPE herald_delivery_attempts_total counter');
  });

  it('does not take API tokens: the operator token, which the API accepts, is refused here', async () => {
    const asOperator = { authorization: `Bearer ${ADMIN}` };
    expect((await api.inject({ method: 'GET', url: '/api/v1/app', headers: asOperator })).statusCode).toBe(200);
    expect((await api.inject({ method: 'GET', url: '/metrics', headers: asOperator })).statusCode).toBe(401);
  });

  it('counts delivery results by outcome and attempt durations after real deliveries', async () => {
    const before = await scrape();
    const a = await t.makeApp('Outcomes');
    for (const path of ['/ok', '/down', '/bad']) await t.makeEndpoint(a.id, { url: `${rx.url}${path}` });
    // One request at a time to /gone: the first 410 disables it, which skips the other delivery.
    const b = await t.makeApp('Gone');
    const gone = await t.makeEndpoint(b.id, { url: `${rx.url}/gone`, maxInFlight: 1 });
    await send(a.id, 3);
    await send(b.id, 2);
    const worker = t.herald.createWorker();
    expect(await worker.drain()).toBe(10);
    // As if a worker had died holding that delivery before the disable: its lease expires, and the
    // worker that takes it over marks it skipped without a request.
    await t.herald.pool.query(
      "update delivery set state = 'sending', next_attempt_at = $2 where endpoint_id = $1 and state = 'skipped'",
      [gone.id, new Date(t.clock.now().getTime() - 1_000)],
    );
    expect(await worker.drain()).toBe(1);
    expect(rx.requests.filter((r) => r.path === '/gone')).toHaveLength(1);

    const after = await scrape();
    const delta = (outcome: string) =>
      after.value('herald_delivery_attempts_total', { outcome }) - before.value('herald_delivery_attempts_total', { outcome });
    expect({
      delivered: delta('delivered'),
      retry: delta('retry'),
      failed: delta('failed'),
      'disable-endpoint': delta('disable-endpoint'),
      skipped: delta('skipped'),
    }).toEqual({ delivered: 3, retry: 3, failed: 3, 'disable-endpoint': 1, skipped: 1 });

    // Ten requests were sent (the skipped delivery made none), all answered quickly by a local receiver.
    const h = after.histogram('herald_attempt_duration_seconds');
    const h0 = before.histogram('herald_attempt_duration_seconds');
    expect(h.count - h0.count).toBe(10);
    expect(h.buckets.get('+Inf')! - h0.buckets.get('+Inf')!).toBe(10);
    expect(new Set(h.buckets.keys())).toEqual(new Set(['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '15', '30', '60', '+Inf']));
    expect(after.family('herald_attempt_duration_seconds').type).toBe('HISTOGRAM');
  });

  it('reads the queue, the oldest due delivery and the breakers from the database at scrape time', async () => {
    // A paused endpoint holds its delivery on purpose: counted as pending, never as overdue.
    const c = await t.makeApp('Paused');
    await t.makeEndpoint(c.id, { url: `${rx.url}/ok`, disabled: true });
    await send(c.id, 1);

    const now = await scrape();
    expect(now.value('herald_database_up')).toBe(1);
    expect(now.value('herald_queue_pending')).toBe(4); // three retries of /down, one held by the pause
    expect(now.value('herald_queue_pending_exact')).toBe(1);
    expect(now.value('herald_queue_sending')).toBe(0);
    expect(now.value('herald_queue_oldest_due_age_seconds')).toBe(0); // the retries are due in 5 s
    // /down and /bad failed three times in a row: their breakers are open for 5 s.
    expect(now.value('herald_endpoint_breakers', { state: 'open' })).toBe(2);
    expect(now.value('herald_endpoint_breakers', { state: 'half-open' })).toBe(0);
    expect(now.value('herald_endpoint_breakers', { state: 'closed' })).toBe(1);
    expect(now.value('herald_endpoints_disabled', { by: 'auto' })).toBe(1);
    expect(now.value('herald_endpoints_disabled', { by: 'user' })).toBe(1);

    // A minute after the retries fell due (and the breakers' wait ended), nothing was sent: the
    // oldest due delivery has waited 60 s. The paused one, published earlier, does not count.
    t.clock.advance(65_000);
    const later = await scrape();
    expect(later.value('herald_queue_oldest_due_age_seconds')).toBe(60);
    expect(later.value('herald_endpoint_breakers', { state: 'open' })).toBe(0);
    expect(later.value('herald_endpoint_breakers', { state: 'half-open' })).toBe(2);
  });

  it('counts publishes and group-commit sizes reported through the named methods', async () => {
    const before = await scrape();
    t.herald.metrics.observePublishGroup(3);
    t.herald.metrics.observePublishGroup(120);
    t.herald.metrics.countPublished(123, 300);
    t.herald.metrics.countPublished(0, 0);
    const after = await scrape();
    expect(after.value('herald_messages_published_total') - before.value('herald_messages_published_total')).toBe(123);
    expect(after.value('herald_deliveries_created_total') - before.value('herald_deliveries_created_total')).toBe(300);
    const h = after.histogram('herald_publish_group_messages');
    const h0 = before.histogram('herald_publish_group_messages');
    expect(h.count - h0.count).toBe(2);
    expect(h.sum - h0.sum).toBe(123);
    expect(h.buckets.get('2')! - h0.buckets.get('2')!).toBe(0);
    expect(h.buckets.get('5')! - h0.buckets.get('5')!).toBe(1);
    expect(h.buckets.get('200')! - h0.buckets.get('200')!).toBe(2);
  });

  it('counts what herald.publish (the group commit the API uses) stores', async () => {
    const app = await t.makeApp('Published');
    for (const path of ['/ok', '/ok2']) await t.makeEndpoint(app.id, { url: `${rx.url}${path}` });
    const before = await scrape();
    const published = await Promise.all(
      Array.from({ length: 4 }, (_, i) => t.herald.publish(app.id, { eventType: 'order.paid', payload: { i }, eventId: `evt-${i}` })),
    );
    expect(published.every((m) => m.deliveries === 2)).toBe(true);
    const after = await scrape();
    expect(after.value('herald_messages_published_total') - before.value('herald_messages_published_total')).toBe(4);
    expect(after.value('herald_deliveries_created_total') - before.value('herald_deliveries_created_total')).toBe(8);
    const groups = after.histogram('herald_publish_group_messages').count - before.histogram('herald_publish_group_messages').count;
    const grouped = after.histogram('herald_publish_group_messages').sum - before.histogram('herald_publish_group_messages').sum;
    expect(groups).toBeGreaterThanOrEqual(1);
    expect(grouped).toBe(4);
  });

  it('counts SQL statements of the pool and shows its connections', async () => {
    const first = await scrape();
    await t.herald.pool.query('select 1');
    await t.herald.pool.query('select 2');
    const second = await scrape();
    // The two above plus the first scrape's own read (begin, set statement_timeout, the query, commit).
    expect(second.value('herald_db_statements_total') - first.value('herald_db_statements_total')).toBe(6);
    expect(second.value('herald_db_pool_max_connections')).toBe(20);
    expect(second.value('herald_db_pool_connections')).toBeGreaterThanOrEqual(1);
    expect(second.value('herald_db_pool_waiting_clients')).toBe(0);
  });

  it('shows the process and event loop under the herald_ prefix, and the version', async () => {
    const s = await scrape();
    expect(s.value('herald_process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(s.value('herald_process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(s.value('herald_nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(s.value('herald_process_start_time_seconds')).toBeLessThanOrEqual(Date.now() / 1000);
    for (const stat of ['mean', 'max', 'p50', 'p90', 'p99']) {
      expect(s.value(`herald_nodejs_eventloop_lag_${stat}_seconds`)).toBeGreaterThanOrEqual(0);
    }
    expect(s.family('herald_build_info').metrics[0]).toMatchObject({ value: '1', labels: { version: expect.stringMatching(/^\d+\.\d+\.\d+/) } });
    // Every family is Herald's own: nothing from prom-client's global registry leaks in.
    expect([...s.families.keys()].filter((n) => !n.startsWith('herald_'))).toEqual([]);
  });
});

describe('without HERALD_METRICS_TOKEN', () => {
  it('serves /metrics to anyone, and an unknown path next to it is a JSON 404', async () => {
    const open = await startTestHerald();
    const app = await buildApp({ herald: open.herald, options: {} });
    try {
      const res = await app.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(new Scrape(res.body).value('herald_database_up')).toBe(1);
      const other = await app.inject({ method: 'GET', url: '/metrics/extra', headers: { accept: 'text/html' } });
      expect(other.statusCode).toBe(404);
      expect(other.json().code).toBe('not_found');
    } finally {
      await app.close();
      await open.close();
    }
  });
});

describe('when the database does not answer', () => {
  it('answers without the queue and endpoint figures, and says so with herald_database_up 0', async () => {
    // A real pool pointed at a port nothing listens on: every connection is refused.
    const pool = new pg.Pool({ connectionString: 'postgres://herald@127.0.0.1:1/none', connectionTimeoutMillis: 2_000 });
    const metrics = new HeraldMetrics({ pool, clock: { now: () => new Date() }, breakerFailures: 5, log: silentLogger });
    try {
      const s = new Scrape(await metrics.scrape());
      expect(s.value('herald_database_up')).toBe(0);
      expect(s.families.has('herald_queue_pending')).toBe(false);
      expect(s.families.has('herald_endpoint_breakers')).toBe(false);
      expect(s.value('herald_db_pool_waiting_clients')).toBe(0);
      expect(s.value('herald_delivery_attempts_total', { outcome: 'delivered' })).toBe(0);
    } finally {
      metrics.close();
      await pool.end();
    }
  });
});

describe('queueStats', () => {
  it('counts pending deliveries exactly up to the cap, then reports the planner estimate', async () => {
    const now = t.clock.now();
    const { rows } = await t.herald.pool.query<{ n: number }>("select count(*)::int as n from delivery where state = 'pending'");
    const pending = rows[0]!.n;
    expect(pending).toBeGreaterThan(2);
    expect(await queueStats(t.herald.pool, { now, breakerFailures: 3 })).toMatchObject({ pending, pendingExact: true });
    // ANALYZE reads every row of a table this small, so the estimate is exact here.
    await t.herald.pool.query('analyze delivery');
    expect(await queueStats(t.herald.pool, { now, breakerFailures: 3, exactPendingCap: 2 })).toMatchObject({ pending, pendingExact: false });
    expect(await queueStats(t.herald.pool, { now, breakerFailures: 3, exactPendingCap: pending + 1 })).toMatchObject({ pending, pendingExact: true });
  });
});
