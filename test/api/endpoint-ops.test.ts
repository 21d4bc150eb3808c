import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleFor } from '../../src/api/routes/endpoint-ops.js';
import { compileLatestSchema } from '../../src/core/json-schema.js';
import { issueToken, type Permission } from '../../src/engine/auth-tokens.js';
import { insertEventType } from '../../src/store/event-types.js';
import { startApi } from '../support/api.js';
import { startReceiver } from '../support/receiver.js';
import { eventually, startLogFixture, type LogFixture } from './log-fixtures.js';

let f: LogFixture;
beforeAll(async () => {
  f = await startLogFixture();
});
afterAll(async () => {
  await f.close();
});

async function keyFor(appId: string | null, permissions: Permission[]): Promise<string> {
  const issued = await issueToken(f.server.herald.pool, { kind: 'api_key', name: 't', permissions, appId, expiresAt: null, createdBy: null, now: new Date() });
  return issued!.token;
}

async function publish(appId: string, body: Record<string, unknown>): Promise<{ id: string; timestamp: string }> {
  const res = await f.call('POST', `/api/v1/app/${appId}/msg`, body);
  expect(res.status).toBe(202);
  return res.body;
}

/** Svix EndpointStats. */
interface Stats {
  success: number;
  fail: number;
  pending: number;
  sending: number;
  canceled: number;
}

/** Endpoint stats once `ready` accepts them. */
function statsWhen(appId: string, epId: string, ready: (s: Stats) => boolean, query = '') {
  return eventually(async () => {
    const res = await f.call('GET', `/api/v1/app/${appId}/endpoint/${epId}/stats${query}`);
    return ready(res.body) ? (res.body as Stats) : undefined;
  }, `stats of ${epId}`);
}

describe('recover', () => {
  it('queues one manual attempt of every failed message since the given time, and only those', async () => {
    const app = await f.makeApp();
    const ep = await f.makeEndpoint(app.id, { path: '/recover' });
    f.rx.respondWith((req) => (req.path === '/recover' ? { status: 400 } : { status: 200 }));
    const before = await publish(app.id, { eventType: 'x', payload: { old: true } });
    await statsWhen(app.id, ep.id, (s) => s.fail === 1);
    const failed = [await publish(app.id, { eventType: 'x', payload: { i: 1 } }), await publish(app.id, { eventType: 'x', payload: { i: 2 } })];
    const since = failed[0]!.timestamp;
    await statsWhen(app.id, ep.id, (s) => s.fail === 3);

    f.rx.respondWith({ status: 200 });
    const res = await f.call('POST', `/api/v1/app/${app.id}/endpoint/${ep.id}/recover`, { since });
    expect(res.status).toBe(202);
    // The first batch (up to 500) is queued before the answer: this recover is already finished.
    expect(res.body).toMatchObject({ status: 'finished', task: 'endpoint.recover', count: 2 });
    expect(res.body.id).toMatch(/^qtask_/);
    const task = await eventually(async () => {
      const t = await f.call('GET', `/api/v1/background-task/${res.body.id}`);
      return t.body.status === 'finished' ? t.body : undefined;
    }, 'the recover task to finish');
    expect(task).toMatchObject({ id: res.body.id, task: 'endpoint.recover', data: { messagesSent: 2, count: 2 } });
    await statsWhen(app.id, ep.id, (s) => s.success === 2 && s.fail === 1);
    for (const m of failed) {
      const attempts = (await f.call('GET', `/api/v1/app/${app.id}/attempt/msg/${m.id}`)).body.data;
      expect(attempts.map((a: any) => [a.attemptNumber, a.triggerType, a.status])).toEqual([
        [2, 1, 0],
        [1, 0, 2],
      ]);
    }
    const old = (await f.call('GET', `/api/v1/app/${app.id}/attempt/msg/${before.id}`)).body.data;
    expect(old).toHaveLength(1);
  });

  it('rejects a bad window, a disabled endpoint, and callers without update', async () => {
    const app = await f.makeApp();
    const ep = await f.makeEndpoint(app.id);
    const url = `/api/v1/app/${app.id}/endpoint/${ep.id}/recover`;
    const now = Date.now();
    expect((await f.call('POST', url, {})).status).toBe(422);
    expect((await f.call('POST', url, { since: 'yesterday' })).status).toBe(422);
    expect((await f.call('POST', url, { since: new Date(now + 3_600_000).toISOString() })).status).toBe(422);
    const inverted = await f.call('POST', url, { since: new Date(now - 60_000).toISOString(), until: new Date(now - 120_000).toISOString() });
    expect(inverted.status).toBe(422);
    expect(inverted.body.detail[0].loc).toEqual(['body', 'until']);
    const paused = await f.makeEndpoint(app.id, { disabled: true });
    const disabled = await f.call('POST', `/api/v1/app/${app.id}/endpoint/${paused.id}/recover`, { since: new Date(now - 60_000).toISOString() });
    expect(disabled.status).toBe(409);
    expect((await f.call('POST', `/api/v1/app/${app.id}/endpoint/ep_nope/recover`, { since: new Date(now).toISOString() })).status).toBe(404);
    const reader = await keyFor(app.id, ['read']);
    expect((await f.call('POST', url, { since: new Date(now - 60_000).toISOString() }, reader)).status).toBe(403);
  });
});

describe('send-example', () => {
  it("sends the event type's example to the chosen endpoint only, even when others subscribe", async () => {
    await insertEventType(
      f.server.herald.pool,
      'ticket.sold',
      {
        description: 'A ticket was sold',
        schemas: { '1': { type: 'object', properties: { ticketId: { type: 'string' } }, examples: [{ ticketId: 'tkt_1' }, { ticketId: 'tkt_2' }] } },
      },
      new Date(),
    );
    const app = await f.makeApp();
    const chosen = await f.makeEndpoint(app.id, { path: '/example-chosen', filterTypes: ['order.paid'] });
    const sameType = await f.makeEndpoint(app.id, { path: '/example-same', filterTypes: ['ticket.sold'] });
    const everything = await f.makeEndpoint(app.id, { path: '/example-all' });
    f.rx.respondWith({ status: 200 });

    const res = await f.call('POST', `/api/v1/app/${app.id}/endpoint/${chosen.id}/send-example`, { eventType: 'ticket.sold' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ eventType: 'ticket.sold', payload: { ticketId: 'tkt_1' } });
    await eventually(async () => f.rx.requests.some((r) => r.path === '/example-chosen') || undefined, 'the test event');
    const arrived = f.rx.requests.find((r) => r.path === '/example-chosen')!;
    expect(arrived.headers['webhook-id']).toBe(res.body.id);
    expect(JSON.parse(arrived.body.toString())).toEqual({ ticketId: 'tkt_1' });
    const dests = (await f.call('GET', `/api/v1/app/${app.id}/msg/${res.body.id}/endpoint`)).body.data;
    expect(dests.map((d: any) => d.id)).toEqual([chosen.id]);
    expect(f.rx.requests.filter((r) => r.path === '/example-same' || r.path === '/example-all')).toEqual([]);
    expect([sameType.id, everything.id]).not.toContain(dests[0].id);

    const second = await f.call('POST', `/api/v1/app/${app.id}/endpoint/${chosen.id}/send-example`, { eventType: 'ticket.sold', exampleIndex: 1 });
    expect(second.body.payload).toEqual({ ticketId: 'tkt_2' });
    const beyond = await f.call('POST', `/api/v1/app/${app.id}/endpoint/${chosen.id}/send-example`, { eventType: 'ticket.sold', exampleIndex: 2 });
    expect(beyond.status).toBe(422);
    expect(beyond.body.detail[0].loc).toEqual(['body', 'exampleIndex']);
  });

  it("wraps the example in the application's envelope, as a publish does", async () => {
    const created = await f.call('POST', '/api/v1/app', {
      name: 'Enveloped',
      envelope: { id: '{{message.id}}', type: '{{message.eventType}}', data: '{{payload}}' },
    });
    expect(created.status).toBe(201);
    const ep = await f.makeEndpoint(created.body.id, { path: '/example-envelope' });
    f.rx.respondWith({ status: 200 });
    const res = await f.call('POST', `/api/v1/app/${created.body.id}/endpoint/${ep.id}/send-example`, { eventType: 'svix.ping' });
    expect(res.status).toBe(202);
    const body = { id: res.body.id, type: 'svix.ping', data: { success: true } };
    expect(res.body.payload).toEqual(body);
    await eventually(async () => f.rx.requests.some((r) => r.path === '/example-envelope') || undefined, 'the enveloped test event');
    expect(JSON.parse(f.rx.requests.find((r) => r.path === '/example-envelope')!.body.toString())).toEqual(body);
  });

  it('sends svix.ping and generated examples; 404 for unknown types; 409 for a disabled endpoint; 403 without update', async () => {
    await insertEventType(
      f.server.herald.pool,
      'draw.completed',
      { description: '', schemas: { '1': { type: 'object', properties: { drawId: { type: 'string' }, winners: { type: 'integer' } } } } },
      new Date(),
    );
    const app = await f.makeApp();
    const ep = await f.makeEndpoint(app.id, { path: '/example2' });
    const url = `/api/v1/app/${app.id}/endpoint/${ep.id}/send-example`;
    expect((await f.call('POST', url, { eventType: 'svix.ping' })).body.payload).toEqual({ success: true });
    expect((await f.call('POST', url, { eventType: 'draw.completed' })).body.payload).toEqual({ drawId: 'string', winners: 0 });
    expect((await f.call('POST', url, { eventType: 'no.such.type' })).status).toBe(404);
    expect((await f.call('POST', url, { eventType: 'bad name' })).status).toBe(422);
    const paused = await f.makeEndpoint(app.id, { disabled: true });
    expect((await f.call('POST', `/api/v1/app/${app.id}/endpoint/${paused.id}/send-example`, { eventType: 'svix.ping' })).status).toBe(409);
    const reader = await keyFor(app.id, ['read']);
    expect((await f.call('POST', url, { eventType: 'svix.ping' }, reader)).status).toBe(403);
  });

  it('builds examples from schemas without examples that match them, and falls back to a small object', () => {
    const schema = {
      type: 'object',
      required: ['id', 'at', 'kind', 'customer', 'payment', 'line'],
      properties: {
        id: { type: 'string', format: 'uuid' },
        at: { type: 'string', format: 'date-time' },
        email: { type: 'string', format: 'email' },
        site: { type: 'string', format: 'uri' },
        kind: { enum: ['a', 'b'] },
        code: { type: 'string', pattern: '^[A-Z]{3}-[0-9]{4}$' },
        tags: { type: 'array', items: { type: 'string' }, minItems: 1 },
        customer: { $ref: '#/$defs/Customer' },
        payment: { oneOf: [{ $ref: '#/$defs/Card' }, { $ref: '#/$defs/Transfer' }] },
        line: { allOf: [{ $ref: '#/$defs/Priced' }, { type: 'object', required: ['sku'], properties: { sku: { type: 'string', minLength: 3 } } }] },
        nested: { type: 'object', properties: { ok: { type: 'boolean' }, n: { type: 'number', minimum: 3 } } },
        given: { type: 'string', example: 'hello' },
        internal: { type: 'string', readOnly: true },
      },
      additionalProperties: false,
      $defs: {
        Customer: { type: 'object', required: ['country'], properties: { country: { enum: ['GB', 'FR'] }, name: { type: 'string' } } },
        Card: { type: 'object', required: ['card'], properties: { card: { type: 'string', pattern: '^[0-9]{4}$' } }, additionalProperties: false },
        Transfer: { type: 'object', required: ['iban'], properties: { iban: { type: 'string' } }, additionalProperties: false },
        Priced: { type: 'object', required: ['pence'], properties: { pence: { type: 'integer', minimum: 1 } } },
      },
    };
    const example = exampleFor('t', { '1': schema }, null);
    expect(compileLatestSchema({ '1': schema })!.validate(example)).toEqual([]);
    expect(example).toMatchObject({ kind: 'a', customer: { country: 'GB' }, payment: { card: expect.stringMatching(/^[0-9]{4}$/) }, line: { pence: 1 }, given: 'hello' });
    expect(example).not.toHaveProperty('internal');
    for (const s of [
      { type: 'object', required: ['a'], properties: { a: { type: 'integer', exclusiveMinimum: 10, maximum: 20 } } },
      { type: 'object', properties: { list: { type: 'array', items: { $ref: '#/$defs/N' }, minItems: 2 } }, $defs: { N: { type: 'number', maximum: -1 } } },
      { type: 'object', properties: { d: { type: 'string', format: 'date' }, ip: { type: 'string', format: 'ipv4' }, len: { type: 'string', minLength: 12 } } },
      { allOf: [{ type: 'object', properties: { a: { const: 'x' } }, required: ['a'] }, { required: ['b'], properties: { b: { type: ['string', 'null'] } } }] },
    ]) {
      expect(compileLatestSchema({ '1': s })!.validate(exampleFor('t', { '1': s }, null))).toEqual([]);
    }
    expect(exampleFor('t', { '1': { examples: [{ a: 1 }] }, '2': { examples: [{ b: 2 }] } }, null)).toEqual({ b: 2 });
    expect(exampleFor('order.paid', null, null)).toEqual({ test: true, eventType: 'order.paid' });
    expect(exampleFor('order.paid', { '1': { type: 'string' } }, 0)).toEqual({ test: true, eventType: 'order.paid' });
    expect(() => exampleFor('t', null, 1)).toThrow(/exampleIndex/);
  });
});

describe('stats', () => {
  it('counts deliveries by status in the window', async () => {
    const app = await f.makeApp();
    const ep = await f.makeEndpoint(app.id, { path: '/stats' });
    f.rx.respondWith((req) => (req.path === '/stats' && req.body.includes('"bad"') ? { status: 400 } : { status: 200 }));
    await publish(app.id, { eventType: 'x', payload: { good: 1 } });
    await publish(app.id, { eventType: 'x', payload: { good: 2 } });
    await publish(app.id, { eventType: 'x', payload: { bad: 1 } });
    const s = await statsWhen(app.id, ep.id, (s) => s.success + s.fail === 3);
    expect(s).toEqual({ success: 2, fail: 1, pending: 0, sending: 0, canceled: 0 });

    const url = `/api/v1/app/${app.id}/endpoint/${ep.id}/stats`;
    const past = new Date(Date.now() - 10 * 86_400_000).toISOString();
    const earlier = new Date(Date.now() - 11 * 86_400_000).toISOString();
    expect((await f.call('GET', `${url}?since=${earlier}&until=${past}`)).body).toEqual({ success: 0, fail: 0, pending: 0, sending: 0, canceled: 0 });
    expect((await f.call('GET', `${url}?since=${new Date(Date.now() - 40 * 86_400_000).toISOString()}`)).status).toBe(422);
    expect((await f.call('GET', `${url}?since=${past}&until=${earlier}`)).status).toBe(422);
    expect((await f.call('GET', `/api/v1/app/${app.id}/endpoint/ep_nope/stats`)).status).toBe(404);
    const outsider = await keyFor((await f.makeApp()).id, ['read']);
    expect((await f.call('GET', url, undefined, outsider)).status).toBe(404);
  });
});

describe('GET /api/v1/stats/health', () => {
  it('shows the queue, the delivery rate and failing endpoints, to global readers only', async () => {
    const app = await f.makeApp();
    const ep = await f.makeEndpoint(app.id, { path: '/health-down' });
    f.rx.respondWith((req) => (req.path === '/health-down' ? { status: 400, body: 'bad request' } : { status: 200 }));
    await publish(app.id, { eventType: 'x', payload: {} });
    await publish(app.id, { eventType: 'x', payload: {} });
    const health = await eventually(async () => {
      const res = await f.call('GET', '/api/v1/stats/health');
      const mine = res.body.failingEndpoints?.find((e: any) => e.endpointId === ep.id);
      return mine?.consecutiveFailures >= 2 ? res.body : undefined;
    }, 'the failing endpoint in the health view');
    const mine = health.failingEndpoints.find((e: any) => e.endpointId === ep.id);
    expect(mine).toMatchObject({ appId: app.id, url: `${f.rx.url}/health-down`, disabled: false, disabledReason: null });
    expect(mine.lastError).toMatch(/400/);
    expect(mine.failingSince).toBeTruthy();
    expect(health.deliveriesPerMinute).toBeGreaterThan(0);
    expect(health.failedLast5m).toBeGreaterThanOrEqual(2);
    for (const k of ['queueDepth', 'inFlight', 'scheduledRetries']) expect(Number.isInteger(health[k])).toBe(true);

    expect((await f.call('GET', '/api/v1/stats/health', undefined, await keyFor(null, ['read']))).status).toBe(200);
    expect((await f.call('GET', '/api/v1/stats/health', undefined, await keyFor(app.id, ['read']))).status).toBe(403);
    expect((await f.call('GET', '/api/v1/stats/health', undefined, await keyFor(null, ['create']))).status).toBe(403);
    expect((await f.call('GET', '/api/v1/stats/health', undefined, null)).status).toBe(401);
  });

  it('counts due, in-flight and scheduled deliveries', async () => {
    const app = await f.makeApp();
    await f.makeEndpoint(app.id, { path: '/retry-later' });
    // A Retry-After far in the future parks the delivery as a scheduled retry.
    f.rx.respondWith((req) => (req.path === '/retry-later' ? { status: 503, headers: { 'retry-after': '3600' } } : { status: 200 }));
    const before = (await f.call('GET', '/api/v1/stats/health')).body.scheduledRetries;
    await publish(app.id, { eventType: 'x', payload: {} });
    await eventually(async () => (await f.call('GET', '/api/v1/stats/health')).body.scheduledRetries > before || undefined, 'a scheduled retry');
  });
});

describe('time windows follow the server clock (fake clock, inject)', () => {
  it('stats, message time filters, queue depth and the delivery rate', async () => {
    const api = await startApi();
    const rx = await startReceiver();
    try {
      const { t } = api;
      const app = await api.makeApp();
      const ep = await t.makeEndpoint(app.id, { url: `${rx.url}/clock` });
      const publishNow = async () => (await api.call('POST', `/api/v1/app/${app.id}/msg`, { body: { eventType: 'x', payload: {} } })).body;
      const old = await publishNow();
      const t0 = t.clock.now().getTime();
      t.clock.advance(30 * 86_400_000);
      const recent = await publishNow();

      const health = (await api.call('GET', '/api/v1/stats/health')).body;
      expect(health).toMatchObject({ queueDepth: 2, inFlight: 0, scheduledRetries: 0, deliveriesPerMinute: 0 });
      const stats = (q = '') => api.call('GET', `/api/v1/app/${app.id}/endpoint/${ep.id}/stats${q}`).then((r) => r.body);
      expect(await stats()).toMatchObject({ pending: 1 });
      const around = (from: number, to: number) => `?since=${new Date(from).toISOString()}&until=${new Date(to).toISOString()}`;
      expect(await stats(around(t0 - 1000, t0 + 1000))).toMatchObject({ pending: 1 });
      const split = new Date(t0 + 86_400_000).toISOString();
      const ids = async (q: string) => (await api.call('GET', `/api/v1/app/${app.id}/msg?${q}`)).body.data.map((m: { id: string }) => m.id);
      expect(await ids(`before=${split}`)).toEqual([old.id]);
      expect(await ids(`after=${split}`)).toEqual([recent.id]);

      await t.herald.createWorker().drain();
      const after = (await api.call('GET', '/api/v1/stats/health')).body;
      expect(after).toMatchObject({ queueDepth: 0, succeededLast5m: 2, deliveriesPerMinute: 0.4 });
      t.clock.advance(6 * 60_000);
      expect((await api.call('GET', '/api/v1/stats/health')).body).toMatchObject({ succeededLast5m: 0, deliveriesPerMinute: 0 });
      expect(await stats()).toMatchObject({ success: 1, pending: 0 });
    } finally {
      await rx.close();
      await api.close();
    }
  });
});
