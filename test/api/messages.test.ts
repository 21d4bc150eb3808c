import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken, type Permission } from '../../src/engine/auth-tokens.js';
import { startLogFixture, type LogFixture } from './log-fixtures.js';

let f: LogFixture;
beforeAll(async () => {
  // No worker: these tests are about what the API stores and returns, not about delivery.
  f = await startLogFixture({ HERALD_MAX_PAYLOAD_BYTES: '2048' }, { worker: false });
});
afterAll(async () => {
  await f.close();
});

async function keyFor(appId: string | null, permissions: Permission[]): Promise<string> {
  const issued = await issueToken(f.server.herald.pool, {
    kind: 'api_key',
    name: 'test',
    permissions,
    appId,
    expiresAt: null,
    createdBy: null,
    now: new Date(),
  });
  return issued!.token;
}

describe('POST /api/v1/app/{app_id}/msg', () => {
  it('publishes, answers 202 with MessageOut, and queues a delivery per subscribed endpoint', async () => {
    const app = await f.makeApp();
    await f.makeEndpoint(app.id, { filterTypes: ['order.paid'] });
    await f.makeEndpoint(app.id, { filterTypes: ['order.refunded'] });
    const res = await f.call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'order.paid', payload: { amount: 5, note: 'é' } });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ eventType: 'order.paid', eventId: null, payload: { amount: 5, note: 'é' }, channels: null });
    expect(res.body.id).toMatch(/^msg_/);
    expect(new Date(res.body.timestamp).getTime()).not.toBeNaN();
    const { rows } = await f.server.herald.pool.query('select count(*)::int as n from delivery where msg_id = $1', [res.body.id]);
    expect(rows[0].n).toBe(1);
  });

  it('omits the payload with with_content=false and stores channels', async () => {
    const app = await f.makeApp();
    const res = await f.call('POST', `/api/v1/app/${app.id}/msg?with_content=false`, {
      eventType: 'a.b',
      payload: { x: 1 },
      channels: ['project_1'],
    });
    expect(res.status).toBe(202);
    expect(res.body.payload).toEqual({});
    expect(res.body.channels).toEqual(['project_1']);
    const got = await f.call('GET', `/api/v1/app/${app.id}/msg/${res.body.id}`);
    expect(got.body).toMatchObject({ payload: { x: 1 }, channels: ['project_1'] });
  });

  it('returns the first message for a repeated eventId, and 409 when its payload differs', async () => {
    const app = await f.makeApp();
    const body = { eventType: 'order.paid', eventId: 'order-1', payload: { n: 1 }, channels: ['c1'] };
    const first = await f.call('POST', `/api/v1/app/${app.id}/msg`, body);
    const again = await f.call('POST', `/api/v1/app/${app.id}/msg`, { ...body, channels: ['other'] });
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.channels).toEqual(['c1']);
    const conflict = await f.call('POST', `/api/v1/app/${app.id}/msg`, { ...body, payload: { n: 2 } });
    expect(conflict.status).toBe(409);
    expect(conflict.body.code).toBe('conflict');
  });

  it('replays the stored answer for a repeated Idempotency-Key', async () => {
    const app = await f.makeApp();
    const send = () =>
      fetch(`${f.server.url}/api/v1/app/${app.id}/msg`, {
        method: 'POST',
        headers: { authorization: `Bearer ${f.server.adminToken}`, 'content-type': 'application/json', 'idempotency-key': 'k-1' },
        body: JSON.stringify({ eventType: 'x', payload: {} }),
      });
    const a = await send();
    const b = await send();
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect((await b.json()).id).toBe((await a.json()).id);
  });

  it('rejects bad input with the path of each bad field', async () => {
    const app = await f.makeApp();
    const url = `/api/v1/app/${app.id}/msg`;
    const badType = await f.call('POST', url, { eventType: 'has space', payload: {} });
    expect(badType.status).toBe(422);
    expect(badType.body.detail[0].loc).toEqual(['body', 'eventType']);
    const arrayPayload = await f.call('POST', url, { eventType: 'x', payload: [1] });
    expect(arrayPayload.status).toBe(422);
    expect(arrayPayload.body.detail[0].loc).toEqual(['body', 'payload']);
    const scheduled = await f.call('POST', url, { eventType: 'x', payload: {}, deliverAt: '2030-01-01T00:00:00Z' });
    expect(scheduled.status).toBe(422);
    expect(JSON.stringify(scheduled.body.detail)).toContain('deliverAt');
    const badEventId = await f.call('POST', url, { eventType: 'x', payload: {}, eventId: 'a b' });
    expect(badEventId.status).toBe(422);
  });

  it('answers 413 for a payload over HERALD_MAX_PAYLOAD_BYTES', async () => {
    const app = await f.makeApp();
    const res = await f.call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'x', payload: { big: 'y'.repeat(3000) } });
    expect(res.status).toBe(413);
    expect(res.body.detail).toMatch(/HERALD_MAX_PAYLOAD_BYTES/);
  });

  it('answers 404 for an unknown application', async () => {
    const res = await f.call('POST', '/api/v1/app/app_nope/msg', { eventType: 'x', payload: {} });
    expect(res.status).toBe(404);
  });
});

describe('GET /api/v1/app/{app_id}/msg', () => {
  it('lists newest first and pages forward and back without gaps or repeats', async () => {
    const app = await f.makeApp();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push((await f.call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'page.test', payload: { i } })).body.id);
    }
    const newestFirst = [...ids].reverse();
    const seen: string[] = [];
    const iterators: (string | null)[] = [];
    let iterator: string | null = null;
    for (;;) {
      const q: string = iterator ? `&iterator=${iterator}` : '';
      const res = await f.call('GET', `/api/v1/app/${app.id}/msg?limit=3${q}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((m: { id: string }) => m.id));
      iterators.push(res.body.prevIterator);
      if (res.body.done) break;
      iterator = res.body.iterator;
    }
    expect(seen).toEqual(newestFirst);
    // prevIterator of the last page leads back to the page before it.
    const back = await f.call('GET', `/api/v1/app/${app.id}/msg?limit=3&iterator=${iterators.at(-1)}`);
    expect(back.body.data.map((m: { id: string }) => m.id)).toEqual(newestFirst.slice(3, 6));
  });

  it('filters by event type (comma-separated, repeated or event_types[]), time and channel', async () => {
    const app = await f.makeApp();
    const post = (eventType: string, channels?: string[]) =>
      f.call('POST', `/api/v1/app/${app.id}/msg`, { eventType, payload: {}, ...(channels ? { channels } : {}) });
    const a = (await post('user.created', ['eu'])).body;
    const b = (await post('user.deleted')).body;
    const c = (await post('order.paid')).body;
    const ids = async (query: string) =>
      (await f.call('GET', `/api/v1/app/${app.id}/msg?${query}`)).body.data.map((m: { id: string }) => m.id);
    expect(await ids('event_types=user.created,order.paid')).toEqual([c.id, a.id]);
    expect(await ids('event_types=user.created&event_types=user.deleted')).toEqual([b.id, a.id]);
    expect(await ids('event_types[]=user.deleted')).toEqual([b.id]);
    expect(await ids('channel=eu')).toEqual([a.id]);
    expect(await ids(`before=${encodeURIComponent(b.timestamp)}`)).toEqual(a.timestamp < b.timestamp ? [a.id] : []);
    expect(await ids(`after=${encodeURIComponent(new Date(Date.parse(c.timestamp) + 1).toISOString())}`)).toEqual([]);
    const noContent = await f.call('GET', `/api/v1/app/${app.id}/msg?with_content=false&limit=1`);
    expect(noContent.body.data[0].payload).toEqual({});
  });

  it('rejects a malformed iterator and a bad event type filter with 422', async () => {
    const app = await f.makeApp();
    expect((await f.call('GET', `/api/v1/app/${app.id}/msg?iterator=nonsense`)).status).toBe(422);
    expect((await f.call('GET', `/api/v1/app/${app.id}/msg?event_types=bad%20name`)).status).toBe(422);
    expect((await f.call('GET', `/api/v1/app/${app.id}/msg?limit=0`)).status).toBe(422);
  });
});

describe('GET /api/v1/app/{app_id}/msg/{msg_id}', () => {
  it('finds a message by id or by eventId, and 404s otherwise', async () => {
    const app = await f.makeApp();
    const m = (await f.call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'x', eventId: 'evt-42', payload: { ok: true } })).body;
    expect((await f.call('GET', `/api/v1/app/${app.id}/msg/${m.id}`)).body).toMatchObject({ id: m.id, payload: { ok: true } });
    expect((await f.call('GET', `/api/v1/app/${app.id}/msg/evt-42`)).body.id).toBe(m.id);
    expect((await f.call('GET', `/api/v1/app/${app.id}/msg/evt-42?with_content=false`)).body.payload).toEqual({});
    expect((await f.call('GET', `/api/v1/app/${app.id}/msg/msg_missing`)).status).toBe(404);
    const other = await f.makeApp();
    expect((await f.call('GET', `/api/v1/app/${other.id}/msg/${m.id}`)).status).toBe(404);
  });
});

describe('permissions and scope', () => {
  it('needs a token, create to publish, read to list; a key for another application gets 404', async () => {
    const app = await f.makeApp();
    const other = await f.makeApp();
    const msg = (await f.call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'x', payload: {} })).body;
    expect((await f.call('GET', `/api/v1/app/${app.id}/msg`, undefined, null)).status).toBe(401);

    const reader = await keyFor(app.id, ['read']);
    expect((await f.call('GET', `/api/v1/app/${app.id}/msg`, undefined, reader)).status).toBe(200);
    expect((await f.call('GET', `/api/v1/app/${app.id}/msg/${msg.id}`, undefined, reader)).status).toBe(200);
    const denied = await f.call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'x', payload: {} }, reader);
    expect(denied.status).toBe(403);

    const writer = await keyFor(app.id, ['read', 'create']);
    expect((await f.call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'x', payload: {} }, writer)).status).toBe(202);
    for (const [method, path] of [
      ['GET', `/api/v1/app/${other.id}/msg`],
      ['POST', `/api/v1/app/${other.id}/msg`],
      ['GET', `/api/v1/app/${other.id}/msg/${msg.id}`],
    ] as const) {
      const res = await f.call(method, path, method === 'POST' ? { eventType: 'x', payload: {} } : undefined, writer);
      expect(res.status, `${method} ${path}`).toBe(404);
    }
  });
});
