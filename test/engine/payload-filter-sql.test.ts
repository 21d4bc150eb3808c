/**
 * Payload filters in the fan-out: the SQL rule (the compiled jsonpath in PAYLOAD_MATCH_SQL) agrees
 * with the pure evaluator on many filter/body pairs; publish and replay-missing deliver only matching
 * messages to an endpoint with a filter; endpoints without one never read the body.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parsePayloadFilter, matchesPayloadFilter, toJsonPath, type FilterNode } from '../../src/core/payload-filter.js';
import { publish, publishMany } from '../../src/engine/publish.js';
import { PAYLOAD_MATCH_SQL } from '../../src/store/messages.js';
import { NO_END, replayMissingBatch } from '../../src/store/replay.js';
import type { Receiver } from '../support/receiver.js';
import { useHeraldWithReceiver, type TestHerald } from '../support/herald.js';

const fx = useHeraldWithReceiver();
let t: TestHerald;
let rx: Receiver;
beforeAll(() => {
  ({ t, rx } = fx);
});
afterEach(() => {
  rx.requests.length = 0;
});

const parse = (raw: Record<string, unknown>): FilterNode | null => {
  const r = parsePayloadFilter(raw);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.filter;
};

const FILTERS: Record<string, unknown>[] = [
  {},
  { status: 'paid' },
  { status: { $eq: 'paid' } },
  { status: { $ne: 'paid' } },
  { status: null },
  { status: { $ne: null } },
  { status: { $in: ['paid', 'refunded', 1, null, true] } },
  { status: { $nin: ['paid', 'void'] } },
  { total_pence: 1000 },
  { total_pence: '1000' },
  { total_pence: { $gte: 1000 } },
  { total_pence: { $gt: 1000 } },
  { total_pence: { $lt: 1000.5 } },
  { total_pence: { $lte: -0.000001 } },
  { total_pence: { $gt: -1e21, $lt: 1e21 } },
  { total_pence: { $in: [1000, '1000'] } },
  { total_pence: { $not: { $gte: 1000 } } },
  { flag: true },
  { flag: false },
  { flag: { $exists: true } },
  { flag: { $exists: false } },
  { 'customer.country': 'GB' },
  { customer: { country: 'GB' } },
  { customer: { country: { $in: ['GB', 'IE'] }, tier: { $gte: 2 } } },
  { 'customer.country': { $exists: true } },
  { 'customer.country.code': { $exists: false } },
  { customer: { $exists: true } },
  { customer: { $eq: 'GB' } },
  { customer: { $not: { country: 'GB' } } },
  { customer: { $or: [{ country: 'FR' }, { tier: { $lt: 2 } }] } },
  { 'items.sku': 'a' },
  { items: { $exists: true } },
  { items: { $ne: 'a' } },
  { $or: [{ status: 'paid' }, { total_pence: { $gte: 5000 } }] },
  { $and: [{ status: { $ne: 'void' } }, { $or: [{ flag: true }, { 'customer.country': 'GB' }] }] },
  { $not: { status: 'paid' } },
  { $not: { $or: [{ status: 'paid' }, { flag: { $exists: true } }] } },
  { 'weird "key"': 'x\\u0000"' },
  { 'é.ß': 'ü' },
  { text: '\\u0000' },
  { text: { $ne: 'x' } },
];

const BODIES: unknown[] = [
  {},
  { status: 'paid', total_pence: 1000 },
  { status: 'paid', total_pence: 999.99, flag: null },
  { status: 'refunded', total_pence: 1000.5, flag: true },
  { status: null, total_pence: '1000', flag: false },
  { status: 1, total_pence: -5 },
  { status: true, total_pence: 1e21 },
  { status: ['paid'], total_pence: [1000] },
  { status: { paid: true }, total_pence: { $gte: 1 } },
  { customer: { country: 'GB', tier: 2 } },
  { customer: { country: 'IE', tier: 1 }, status: 'void' },
  { customer: { country: { code: 'GB' } } },
  { customer: 'GB' },
  { customer: [{ country: 'GB' }] },
  { customer: null, items: [] },
  { items: [{ sku: 'a' }, { sku: 'b' }] },
  { items: 'a' },
  { items: { sku: 'a' } },
  { 'customer.country': 'GB' },
  { 'weird "key"': 'x\\u0000"' },
  { 'é': { 'ß': 'ü' } },
  { text: '\\u0000', status: 'paid' }, // a backslash then "u0000": text, readable
  { text: 'nul \u0000 here', status: 'paid' }, // NUL: jsonb cannot hold it
  { text: 'lone \ud800', status: 'paid' },
  { ['key \udfff']: 1 },
  { text: 'pair 😀', status: 'paid' },
  { total_pence: 0.1 + 0.2 },
  { total_pence: Number.MAX_SAFE_INTEGER + 2, status: 'paid' },
];

describe('payload filters in SQL', () => {
  it('match exactly as the pure evaluator does, on every filter/body pair', async () => {
    const pairs = FILTERS.flatMap((f) => BODIES.map((b) => ({ f, b, node: parse(f) })));
    const { rows } = await t.herald.pool.query<{ m: boolean }>(
      `select ${PAYLOAD_MATCH_SQL('e', 'x.b')} as m
       from unnest($1::text[], $2::bytea[]) with ordinality x(p, b, i)
       cross join lateral (select x.p::jsonpath as payload_filter_path) e order by x.i`,
      [pairs.map((p) => (p.node ? toJsonPath(p.node) : null)), pairs.map((p) => Buffer.from(JSON.stringify(p.b), 'utf8'))],
    );
    const disagreements = pairs
      .map((p, i) => ({ filter: p.f, body: p.b, js: matchesPayloadFilter(p.node, JSON.parse(JSON.stringify(p.b))), sql: rows[i]!.m }))
      .filter((r) => r.js !== r.sql);
    expect(disagreements).toEqual([]);
    // The pairs are not all one answer: both outcomes occur for most filters.
    const matched = pairs.filter((_, i) => rows[i]!.m).length;
    expect(matched).toBeGreaterThan(pairs.length / 5);
    expect(matched).toBeLessThan(pairs.length - pairs.length / 5);
  });

  it('reads the body only for endpoints with a filter', async () => {
    const { rows } = await t.herald.pool.query<{ 'QUERY PLAN': string }>(
      `explain (verbose, costs off) select e.id from endpoint e, (select '\\x7b7d'::bytea as b) m where ${PAYLOAD_MATCH_SQL('e', 'm.b')}`,
    );
    const filter = rows.map((r) => r['QUERY PLAN']).join('\n');
    // The null test comes first in the OR, which PostgreSQL evaluates left to right and stops at the first true.
    expect(filter).toMatch(/\(\(e\.payload_filter_path IS NULL\) OR \(/);
  });
});

describe('payload filters at fan-out', () => {
  it('delivers to an endpoint with a filter only the messages that match, and to the others everything', async () => {
    const app = await t.makeApp('filters');
    await t.makeEndpoint(app.id, { url: `${rx.url}/big`, filterTypes: ['order.paid'], payloadFilter: { total_pence: { $gte: 1000 } } });
    await t.makeEndpoint(app.id, { url: `${rx.url}/gb`, payloadFilter: { 'customer.country': 'GB' } });
    await t.makeEndpoint(app.id, { url: `${rx.url}/all` });
    const sent = await publishMany(
      t.herald.pool,
      app.id,
      [
        { eventType: 'order.paid', payload: { total_pence: 1500, customer: { country: 'FR' } } },
        { eventType: 'order.paid', payload: { total_pence: 500, customer: { country: 'GB' } } },
        { eventType: 'order.refunded', payload: { total_pence: 5000 } },
        { eventType: 'order.paid', payload: { total_pence: '2000', note: 'nul \u0000' } },
      ],
      { now: t.clock.now() },
    );
    expect(sent.map((m) => m.deliveries)).toEqual([2, 2, 1, 1]);
    await t.herald.createWorker().drain();
    const got = (path: string) => rx.requests.filter((r) => r.path === path).map((r) => JSON.parse(r.body.toString()));
    expect(got('/big')).toEqual([{ total_pence: 1500, customer: { country: 'FR' } }]);
    expect(got('/gb')).toEqual([{ total_pence: 500, customer: { country: 'GB' } }]);
    expect(got('/all')).toHaveLength(4);
  });

  it('filters the body as delivered, envelope included', async () => {
    const app = await t.makeApp('enveloped');
    await t.herald.pool.query(`update application set envelope = $2 where id = $1`, [app.id, JSON.stringify({ type: '{{message.eventType}}', data: '{{payload}}' })]);
    await t.makeEndpoint(app.id, { url: `${rx.url}/env`, payloadFilter: { 'data.total_pence': { $gte: 1000 }, type: 'order.paid' } });
    const small = await publish(t.herald.pool, app.id, { eventType: 'order.paid', payload: { total_pence: 10 } }, { now: t.clock.now() });
    const big = await publish(t.herald.pool, app.id, { eventType: 'order.paid', payload: { total_pence: 1000 } }, { now: t.clock.now() });
    expect([small.deliveries, big.deliveries]).toEqual([0, 1]);
  });

  it('replays missing messages to an endpoint under the same rule', async () => {
    const app = await t.makeApp('replay');
    const since = t.clock.now();
    await publishMany(
      t.herald.pool,
      app.id,
      [1, 2, 3, 4].map((n) => ({ eventType: 'order.paid', payload: { n } })),
      { now: t.clock.now() },
    );
    const ep = await t.makeEndpoint(app.id, { url: `${rx.url}/later`, payloadFilter: { n: { $in: [2, 4] } } });
    const batch = await replayMissingBatch(t.herald.pool, app.id, ep.id, { since, until: NO_END, after: null, limit: 100, now: t.clock.now() });
    expect(batch.queued).toBe(2);
    await t.herald.createWorker().drain();
    expect(rx.requests.filter((r) => r.path === '/later').map((r) => JSON.parse(r.body.toString()).n).sort()).toEqual([2, 4]);
  });
});
