/**
 * Delivery-policy overrides through the API (in-flight cap, timeout, retry schedule, ordering,
 * throttle rate) on applications and endpoints, their bounds from the server's settings, and the
 * read-only state an endpoint shows: breaker, paused with held deliveries, effective policy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish } from '../../src/engine/publish.js';
import { startApi, type ApiHarness } from '../support/api.js';

let api: ApiHarness;
beforeAll(async () => {
  // Bounds and defaults of this server, so the test shows they come from the configuration.
  api = await startApi({
    HERALD_MAX_IN_FLIGHT_LIMIT: '40',
    HERALD_ENDPOINT_MAX_IN_FLIGHT: '8',
    HERALD_MAX_REQUEST_TIMEOUT: '20s',
    HERALD_REQUEST_TIMEOUT: '7s',
    HERALD_MAX_RETRY_ATTEMPTS: '4',
    HERALD_MAX_RETRY_DELAY: '1h',
    HERALD_RETRY_SCHEDULE: '0,5s,1m',
    HERALD_BREAKER_FAILURES: '3',
  });
  await api.call('POST', '/api/v1/event-type', { body: { name: 'order.paid', description: '' } });
});
afterAll(async () => {
  await api.close();
});

type Detail = { loc: (string | number)[]; msg: string };
const locs = (body: { detail: Detail[] }) => body.detail.map((d) => d.loc.join('.'));
const epBase = (appId: string) => `/api/v1/app/${appId}/endpoint`;
const createEp = (appId: string, body: Record<string, unknown> = {}) => api.call('POST', epBase(appId), { body: { url: 'https://hooks.example.com/in', ...body } });

describe('endpoint policy fields', () => {
  it('creates with every override, answers them with the effective policy, and inherits where null', async () => {
    const app = await api.makeApp();
    const res = await createEp(app.id, { maxInFlight: 4, timeoutMs: 10_000, retrySchedule: [60, 300, 1800], ordering: 'strict', throttleRate: 9 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      maxInFlight: 4,
      timeoutMs: 10_000,
      retrySchedule: [60, 300, 1800],
      ordering: 'strict',
      throttleRate: 9,
      rateLimit: 9,
      paused: false,
      held: 0,
      breaker: { state: 'closed', consecutiveFailures: 0, openUntil: null },
      effectivePolicy: { maxInFlight: 4, timeoutMs: 10_000, retrySchedule: [60, 300, 1800], throttleRate: 9 },
    });

    const plain = await createEp(app.id);
    expect(plain.body).toMatchObject({
      maxInFlight: null,
      timeoutMs: null,
      retrySchedule: null,
      ordering: 'parallel',
      throttleRate: null,
      // The operator defaults: HERALD_ENDPOINT_MAX_IN_FLIGHT, HERALD_REQUEST_TIMEOUT, HERALD_RETRY_SCHEDULE after its first 0.
      effectivePolicy: { maxInFlight: 8, timeoutMs: 7_000, retrySchedule: [5, 60], throttleRate: null },
    });
  });

  it('PATCH changes only the given policy fields, null goes back to inheriting, and GET shows the result', async () => {
    const app = await api.makeApp();
    const ep = (await createEp(app.id, { maxInFlight: 4, timeoutMs: 10_000, ordering: 'strict' })).body;
    const patched = await api.call('PATCH', `${epBase(app.id)}/${ep.id}`, { body: { retrySchedule: [30], maxInFlight: null } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ maxInFlight: null, timeoutMs: 10_000, retrySchedule: [30], ordering: 'strict' });
    expect(patched.body.effectivePolicy).toMatchObject({ maxInFlight: 8, retrySchedule: [30] });
    const got = await api.call('GET', `${epBase(app.id)}/${ep.id}`);
    expect(got.body).toMatchObject({ maxInFlight: null, timeoutMs: 10_000, retrySchedule: [30], ordering: 'strict' });
    // PUT replaces: policy fields left out are reset to inherit (as Svix resets every field PUT leaves out).
    const put = await api.call('PUT', `${epBase(app.id)}/${ep.id}`, { body: { url: ep.url } });
    expect(put.body).toMatchObject({ maxInFlight: null, timeoutMs: null, retrySchedule: null, ordering: 'parallel' });
  });

  it('inherits the application overrides, then the operator defaults', async () => {
    const app = (await api.call('POST', '/api/v1/app', { body: { name: 'Inherits', maxInFlight: 12, timeoutMs: 15_000, retrySchedule: [10, 20], throttleRate: 3 } })).body;
    const ep = (await createEp(app.id, { timeoutMs: 2_000 })).body;
    expect(ep).toMatchObject({ maxInFlight: null, timeoutMs: 2_000, throttleRate: null });
    expect(ep.effectivePolicy).toEqual({ maxInFlight: 12, timeoutMs: 2_000, retrySchedule: [10, 20], throttleRate: 3 });
  });

  it('refuses values outside the server bounds with a 422 naming each field', async () => {
    const app = await api.makeApp();
    const res = await createEp(app.id, { maxInFlight: 41, timeoutMs: 20_001, retrySchedule: [60, 3601] });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('validation');
    expect(locs(res.body)).toEqual(['body.maxInFlight', 'body.timeoutMs', 'body.retrySchedule.1']);
    expect(res.body.detail[0].msg).toContain('from 1 to 40');
    expect(res.body.detail[2].msg).toContain('from 1 to 3600');

    const tooMany = await createEp(app.id, { retrySchedule: [1, 2, 3, 4] }); // 5 attempts; the server allows 4
    expect(tooMany.status).toBe(422);
    expect(locs(tooMany.body)).toEqual(['body.retrySchedule']);
    expect(tooMany.body.detail[0].msg).toContain('1 to 3 retry delays');

    // Shape checks come from the schema, with the field's path too.
    for (const [field, value] of [['maxInFlight', 0], ['timeoutMs', 999], ['retrySchedule', []], ['retrySchedule', [1.5]], ['ordering', 'random'], ['maxInFlight', 2.5]] as const) {
      const bad = await createEp(app.id, { [field]: value });
      expect({ field, status: bad.status }).toEqual({ field, status: 422 });
      expect(locs(bad.body).some((l) => l.startsWith(`body.${field}`))).toBe(true);
    }

    const ep = (await createEp(app.id)).body;
    const patch = await api.call('PATCH', `${epBase(app.id)}/${ep.id}`, { body: { maxInFlight: 100 } });
    expect(patch.status).toBe(422);
    expect(locs(patch.body)).toEqual(['body.maxInFlight']);
  });

  it('takes rateLimit as an alias of throttleRate, answers both, and refuses both with different values', async () => {
    const app = await api.makeApp();
    const viaAlias = await createEp(app.id, { rateLimit: 5 });
    expect(viaAlias.body).toMatchObject({ rateLimit: 5, throttleRate: 5, effectivePolicy: { throttleRate: 5 } });
    const same = await createEp(app.id, { rateLimit: 6, throttleRate: 6 });
    expect(same.body).toMatchObject({ rateLimit: 6, throttleRate: 6 });
    const differ = await createEp(app.id, { rateLimit: 5, throttleRate: 7 });
    expect(differ.status).toBe(422);
    expect(locs(differ.body)).toEqual(['body.throttleRate', 'body.rateLimit']);
    const patched = await api.call('PATCH', `${epBase(app.id)}/${viaAlias.body.id}`, { body: { throttleRate: null } });
    expect(patched.body).toMatchObject({ rateLimit: null, throttleRate: null });
  });
});

describe('endpoint state', () => {
  it('counts the deliveries held while paused; resuming releases them (held goes back to 0)', async () => {
    const app = await api.makeApp();
    const ep = (await createEp(app.id, { disabled: true })).body;
    expect(ep).toMatchObject({ disabled: true, disabledBy: 'user', paused: true, held: 0 });
    const pool = api.t.herald.pool;
    for (const n of [1, 2, 3]) await publish(pool, app.id, { eventType: 'order.paid', payload: { n } }, { now: api.t.clock.now() });
    const paused = (await api.call('GET', `${epBase(app.id)}/${ep.id}`)).body;
    expect(paused).toMatchObject({ paused: true, held: 3 });
    const listed = (await api.call('GET', epBase(app.id))).body.data.find((e: { id: string }) => e.id === ep.id);
    expect(listed).toMatchObject({ paused: true, held: 3 });

    const resumed = await api.call('PATCH', `${epBase(app.id)}/${ep.id}`, { body: { disabled: false } });
    expect(resumed.body).toMatchObject({ disabled: false, paused: false, held: 0 });
    // The deliveries were held, not dropped: still pending, now for the workers to send.
    const { rows } = await pool.query("select count(*)::int as n from delivery where endpoint_id = $1 and state = 'pending'", [ep.id]);
    expect(rows[0].n).toBe(3);
  });

  it('is not paused when disabled automatically, and holds nothing then', async () => {
    const app = await api.makeApp();
    const ep = (await createEp(app.id)).body;
    // A delivery left pending when it was disabled automatically (the engine marks them skipped; the API must not call it held either way).
    await publish(api.t.herald.pool, app.id, { eventType: 'order.paid', payload: { n: 1 } }, { now: api.t.clock.now() });
    await api.t.herald.pool.query("update endpoint set disabled = true, disabled_by = 'auto', disabled_reason = 'HTTP 410 Gone' where id = $1", [ep.id]);
    const got = (await api.call('GET', `${epBase(app.id)}/${ep.id}`)).body;
    expect(got).toMatchObject({ disabled: true, disabledBy: 'auto', paused: false, held: 0 });
  });

  it('shows the breaker open until breaker_until, then half-open, and closed below the failure count', async () => {
    const app = await api.makeApp();
    const ep = (await createEp(app.id)).body;
    const pool = api.t.herald.pool;
    const until = new Date(api.t.clock.now().getTime() + 60_000);
    await pool.query('update endpoint set consecutive_failures = 3 where id = $1', [ep.id]);
    await pool.query('update endpoint_lane set breaker_until = $2 where endpoint_id = $1', [ep.id, until]);
    const open = (await api.call('GET', `${epBase(app.id)}/${ep.id}`)).body;
    expect(open.breaker).toEqual({ state: 'open', consecutiveFailures: 3, openUntil: until.toISOString() });

    api.t.clock.advance(60_001);
    const half = (await api.call('GET', `${epBase(app.id)}/${ep.id}`)).body;
    expect(half.breaker).toEqual({ state: 'half-open', consecutiveFailures: 3, openUntil: null });

    await pool.query('update endpoint set consecutive_failures = 2 where id = $1', [ep.id]);
    expect((await api.call('GET', `${epBase(app.id)}/${ep.id}`)).body.breaker).toEqual({ state: 'closed', consecutiveFailures: 2, openUntil: null });
  });
});

describe('application policy fields', () => {
  it('creates, gets, patches and lists applications with the overrides and their effective policy', async () => {
    const res = await api.call('POST', '/api/v1/app', { body: { name: 'Policy Co', maxInFlight: 20, timeoutMs: 9_000, retrySchedule: [60, 600], rateLimit: 4 } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      maxInFlight: 20,
      timeoutMs: 9_000,
      retrySchedule: [60, 600],
      rateLimit: 4,
      throttleRate: 4,
      effectivePolicy: { maxInFlight: 20, timeoutMs: 9_000, retrySchedule: [60, 600], throttleRate: 4 },
    });
    const id = res.body.id as string;
    const patched = await api.call('PATCH', `/api/v1/app/${id}`, { body: { timeoutMs: null, retrySchedule: [5] } });
    expect(patched.body).toMatchObject({ name: 'Policy Co', maxInFlight: 20, timeoutMs: null, retrySchedule: [5], throttleRate: 4 });
    expect(patched.body.effectivePolicy).toEqual({ maxInFlight: 20, timeoutMs: 7_000, retrySchedule: [5], throttleRate: 4 });
    expect((await api.call('GET', `/api/v1/app/${id}`)).body).toMatchObject({ maxInFlight: 20, retrySchedule: [5] });
    const listed = (await api.call('GET', '/api/v1/app?limit=250')).body.data.find((a: { id: string }) => a.id === id);
    expect(listed).toMatchObject({ maxInFlight: 20, retrySchedule: [5] });
    // PUT resets what it leaves out.
    const put = await api.call('PUT', `/api/v1/app/${id}`, { body: { name: 'Policy Co' } });
    expect(put.body).toMatchObject({ maxInFlight: null, timeoutMs: null, retrySchedule: null, throttleRate: null });
  });

  it('refuses values outside the bounds and conflicting rate names with a 422 naming the field', async () => {
    const res = await api.call('POST', '/api/v1/app', { body: { name: 'Too much', maxInFlight: 41, retrySchedule: [7200] } });
    expect(res.status).toBe(422);
    expect(locs(res.body)).toEqual(['body.maxInFlight', 'body.retrySchedule.0']);
    const differ = await api.call('POST', '/api/v1/app', { body: { name: 'Two rates', rateLimit: 1, throttleRate: 2 } });
    expect(differ.status).toBe(422);
    expect(locs(differ.body)).toContain('body.throttleRate');
    const app = await api.makeApp();
    const patch = await api.call('PATCH', `/api/v1/app/${app.id}`, { body: { timeoutMs: 60_000 } });
    expect(patch.status).toBe(422);
    expect(locs(patch.body)).toEqual(['body.timeoutMs']);
  });
});
