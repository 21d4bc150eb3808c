/**
 * Publish group commit: concurrent single publishes share one statement, each is answered after its
 * own commit with its own result, and one bad message never fails the others.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeraldError } from '../../src/core/errors.js';
import { PublishGroupCommit } from '../../src/engine/publish-group.js';
import { silentLogger } from '../../src/logger.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { startApi, type ApiHarness } from '../support/api.js';

let t: TestHerald;
beforeAll(async () => {
  t = await startTestHerald({ HERALD_MAX_PAYLOAD_BYTES: '1KiB' });
});
afterAll(async () => {
  await t.close();
});

/** A group commit on the test database that records every group it writes. */
function recordingGroup(pool: pg.Pool = t.herald.pool, maxMessages = 500) {
  const groups: { messages: number; stored: number; deliveries: number }[] = [];
  let statements = 0;
  const counted = new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop === 'query') {
        return (...args: Parameters<pg.Pool['query']>) => {
          statements++;
          return (target.query as (...a: unknown[]) => unknown)(...args);
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  const group = new PublishGroupCommit({
    pool: counted,
    maxMessages,
    now: () => t.clock.now(),
    maxPayloadBytes: 1024,
    onGroup: (messages, stored, deliveries) => groups.push({ messages, stored, deliveries }),
    log: silentLogger,
  });
  return { group, groups, statements: () => statements };
}

const settle = <T>(p: Promise<T>) => p.then((v) => ({ ok: true as const, v }), (e: unknown) => ({ ok: false as const, e: e as HeraldError }));

describe('publish group commit', () => {
  it('writes concurrent publishes of several applications in one statement, each with its own deliveries', async () => {
    const a = await t.makeApp('A');
    const b = await t.makeApp('B');
    await t.makeEndpoint(a.id, { url: 'http://127.0.0.1:9/a1' });
    await t.makeEndpoint(a.id, { url: 'http://127.0.0.1:9/a2' });
    await t.makeEndpoint(b.id, { url: 'http://127.0.0.1:9/b1', filterTypes: ['invoice.*'] });
    const { group, groups, statements } = recordingGroup();
    const published = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        group.publish(i % 2 ? a.id : b.id, { eventType: i % 3 ? 'order.paid' : 'invoice.sent', payload: { i }, channels: i === 4 ? ['eu', 'eu', 'us'] : null }),
      ),
    );
    // All 60 were queued before the group started: one group, one lookup and one insert.
    expect(groups).toEqual([{ messages: 60, stored: 60, deliveries: published.reduce((n, m) => n + m.deliveries, 0) }]);
    expect(statements()).toBe(2);
    for (const [i, m] of published.entries()) {
      expect(m.payload).toEqual({ i });
      // Application A: both endpoints; B: only invoice.* reaches its one endpoint.
      expect(m.deliveries).toBe(i % 2 ? 2 : i % 3 ? 0 : 1);
    }
    expect(published[4]!.channels).toEqual(['eu', 'us']);
    const stored = await t.herald.pool.query('select app_id, channels from message where id = $1', [published[4]!.id]);
    expect(stored.rows[0]).toEqual({ app_id: b.id, channels: ['eu', 'us'] });
    const rows = await t.herald.pool.query('select count(*)::int as n from delivery where msg_id = any($1)', [published.map((m) => m.id)]);
    expect(rows.rows[0].n).toBe(published.reduce((n, m) => n + m.deliveries, 0));
  });

  it('reuses the applications an earlier group found (one statement per group), and looks them up again when told to or when one is gone', async () => {
    const app = await t.makeApp();
    await t.makeEndpoint(app.id, { url: 'http://127.0.0.1:9/x' });
    const { group, statements } = recordingGroup();
    await group.publish(app.id, { eventType: 'order.paid', payload: { n: 1 } });
    expect(statements()).toBe(2); // lookup + insert
    await group.publish(app.id, { eventType: 'order.paid', payload: { n: 2 } });
    expect(statements()).toBe(3); // insert only
    await group.publish(app.id, { eventType: 'order.shipped', payload: { n: 3 } });
    expect(statements()).toBe(5); // a type it has not looked up: its envelope may differ
    group.forgetTargets();
    await group.publish(app.id, { eventType: 'order.paid', payload: { n: 4 } });
    expect(statements()).toBe(7);
    await t.herald.pool.query('delete from application where id = $1', [app.id]);
    const gone = await settle(group.publish(app.id, { eventType: 'order.paid', payload: { n: 5 } }));
    expect(gone.ok).toBe(false);
    expect((gone as { e: HeraldError }).e.code).toBe('not_found');
    const again = await settle(group.publish(app.id, { eventType: 'order.paid', payload: { n: 6 } }));
    expect((again as { e: HeraldError }).e.detail).toBe(`application ${app.id} not found`);
  });

  it('answers each message on its own: invalid, too large, unknown application, refused, reused eventId', async () => {
    const app = await t.makeApp();
    const other = await t.makeApp();
    await t.makeEndpoint(app.id, { url: 'http://127.0.0.1:9/x' });
    const first = await t.herald.publish(app.id, { eventType: 'order.paid', eventId: 'evt-1', payload: { n: 1 } });
    const { group, groups } = recordingGroup();
    const results = await Promise.all([
      settle(group.publish(app.id, { eventType: 'order.paid', payload: { ok: 1 } })),
      settle(group.publish(app.id, { eventType: 'not a type!', payload: {} })),
      settle(group.publish(app.id, { eventType: 'order.paid', payload: { big: 'x'.repeat(2000) } })),
      settle(group.publish('app_missing', { eventType: 'order.paid', payload: {} })),
      settle(group.publish(other.id, { eventType: 'order.paid', payload: {} }, () => new HeraldError('forbidden', 'not yours'))),
      settle(group.publish(app.id, { eventType: 'order.paid', eventId: 'evt-1', payload: { n: 'other' } })),
      settle(group.publish(app.id, { eventType: 'order.paid', eventId: 'evt-1', payload: { n: 1 } })),
      settle(group.publish(app.id, { eventType: 'order.paid', eventId: 'evt-2', payload: { n: 2 } })),
      settle(group.publish(app.id, { eventType: 'order.paid', eventId: 'evt-2', payload: { n: 2 } })),
      settle(group.publish(app.id, { eventType: 'order.paid', payload: {}, channels: ['bad,channel'] })),
    ]);
    expect(groups.map((g) => [g.messages, g.stored])).toEqual([[10, 2]]);
    const codes = results.map((r) => (r.ok ? 'ok' : r.e.code));
    expect(codes).toEqual(['ok', 'validation', 'payload_too_large', 'not_found', 'forbidden', 'conflict', 'ok', 'ok', 'ok', 'validation']);
    const value = (i: number) => (results[i] as { ok: true; v: { id: string; duplicate: boolean; deliveries: number } }).v;
    expect(value(6)).toMatchObject({ id: first.id, duplicate: true, deliveries: 0 });
    // The same eventId twice in one group: one message, the second publish is told it is the first.
    expect(value(8).id).toBe(value(7).id);
    expect([value(7).duplicate, value(8).duplicate]).toEqual([false, true]);
    const n = await t.herald.pool.query('select count(*)::int as n from message where app_id = $1', [app.id]);
    expect(n.rows[0].n).toBe(3); // evt-1, the ok one, evt-2
  });

  it('finds the one message PostgreSQL refuses and stores the others', async () => {
    const app = await t.makeApp();
    await t.makeEndpoint(app.id, { url: 'http://127.0.0.1:9/x' });
    // A constraint stands for any value the database refuses that Herald's own checks let through.
    await t.herald.pool.query(`alter table message add constraint no_poison check (event_type <> 'poison.event') not valid`);
    try {
      const { group, groups, statements } = recordingGroup();
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) => settle(group.publish(app.id, { eventType: i === 11 ? 'poison.event' : 'order.paid', payload: { i } }))),
      );
      expect(results.map((r) => r.ok)).toEqual(Array.from({ length: 16 }, (_, i) => i !== 11));
      const refused = results[11] as { ok: false; e: HeraldError };
      expect(refused.e.code).toBe('validation');
      expect(refused.e.detail).toContain('no_poison');
      expect(groups).toEqual([{ messages: 16, stored: 15, deliveries: 15 }]);
      // Halving 16 down to the one row: 1 lookup, then 1 + 2 + 2 + 2 + 2 inserts.
      expect(statements()).toBe(10);
      const n = await t.herald.pool.query('select count(*)::int as n from delivery where app_id = $1', [app.id]);
      expect(n.rows[0].n).toBe(15);
    } finally {
      await t.herald.pool.query('alter table message drop constraint no_poison');
    }
  });

  it('fails the whole group at once with 503 when the database does not answer, without retrying row by row', async () => {
    const dead = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 2_000 });
    dead.on('error', () => {});
    try {
      const { group, statements } = recordingGroup(dead);
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => settle(group.publish('app_x', { eventType: 'order.paid', payload: { i } }))));
      for (const r of results) {
        expect(r.ok).toBe(false);
        expect((r as { e: HeraldError }).e.code).toBe('unavailable');
        expect((r as { e: HeraldError }).e.detail).toMatch(/publish it again/);
      }
      expect(statements()).toBe(1);
    } finally {
      await dead.end();
    }
  });

  it('splits a group larger than its limit, and answers everything queued before it closes', async () => {
    const app = await t.makeApp();
    const { group, groups } = recordingGroup(t.herald.pool, 7);
    const pending = Array.from({ length: 20 }, (_, i) => group.publish(app.id, { eventType: 'order.paid', payload: { i } }));
    await group.close();
    const done = await Promise.all(pending);
    expect(done).toHaveLength(20);
    expect(groups.map((g) => g.messages).sort((x, y) => y - x)).toEqual([7, 7, 6]);
    const late = await settle(group.publish(app.id, { eventType: 'order.paid', payload: {} }));
    expect(late.ok).toBe(false);
    expect((late as { e: HeraldError }).e.code).toBe('unavailable');
  });
});

describe('publishing through the API goes through the group commit', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(async () => {
    await api.close();
  });

  it('answers concurrent requests of a scoped key each on its own: its application 202, another 404, without create 403', async () => {
    const mine = await api.makeApp();
    const theirs = await api.makeApp();
    const key = await api.makeKey(['read', 'create'], mine.id);
    const readOnly = await api.makeKey(['read'], mine.id);
    const send = (appId: string, token: string, n: number) =>
      api.call('POST', `/api/v1/app/${appId}/msg`, { token, body: { eventType: 'order.paid', payload: { n }, channels: ['eu'] } });
    const replies = await Promise.all([send(mine.id, key, 1), send(theirs.id, key, 2), send(mine.id, readOnly, 3), send(mine.id, key, 4), send('app_nope', api.admin, 5)]);
    expect(replies.map((r) => r.status)).toEqual([202, 404, 403, 202, 404]);
    expect(replies[0]!.body).toMatchObject({ eventType: 'order.paid', payload: { n: 1 }, channels: ['eu'] });
    const listed = await api.call('GET', `/api/v1/app/${mine.id}/msg`);
    expect(listed.body.data.map((m: { payload: { n: number } }) => m.payload.n).sort()).toEqual([1, 4]);
    const other = await api.call('GET', `/api/v1/app/${theirs.id}/msg`);
    expect(other.body.data).toEqual([]);
  });

  it('applies an envelope changed through the API to the very next publish', async () => {
    const app = await api.makeApp();
    const before = await api.call('POST', `/api/v1/app/${app.id}/msg`, { body: { eventType: 'order.paid', payload: { n: 1 } } });
    expect(before.body.payload).toEqual({ n: 1 });
    const patched = await api.call('PATCH', `/api/v1/app/${app.id}`, { body: { envelope: { data: '{{payload}}', kind: '{{message.eventType}}' } } });
    expect(patched.status).toBe(200);
    const after = await api.call('POST', `/api/v1/app/${app.id}/msg`, { body: { eventType: 'order.paid', payload: { n: 2 } } });
    expect(after.body.payload).toEqual({ data: { n: 2 }, kind: 'order.paid' });
  });
});
