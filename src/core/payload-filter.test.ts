import { describe, expect, it } from 'vitest';
import { explainPayloadFilter, matchesPayloadFilter, parsePayloadFilter, PAYLOAD_FILTER_LIMITS, payloadFilterProblems, toJsonPath, type FilterNode } from './payload-filter.js';

/** Parses a filter that must be valid. */
function parse(raw: unknown): FilterNode | null {
  const r = parsePayloadFilter(raw);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.filter;
}
const matches = (raw: unknown, body: unknown) => matchesPayloadFilter(parse(raw), body);
const problems = (raw: unknown) => payloadFilterProblems(raw).map((p) => ({ loc: p.segments, msg: p.message }));

const order = { status: 'paid', total_pence: 1500, gift: false, note: null, customer: { country: 'GB', tier: 2, tags: ['vip'] }, items: [{ sku: 'a' }] };

describe('matchesPayloadFilter', () => {
  it('matches everything without a filter, and {} is no filter', () => {
    expect(matchesPayloadFilter(null, order)).toBe(true);
    expect(parse({})).toBeNull();
    expect(matches({}, {})).toBe(true);
  });

  it('compares plain values and $eq by JSON type and value', () => {
    expect(matches({ status: 'paid' }, order)).toBe(true);
    expect(matches({ status: 'refunded' }, order)).toBe(false);
    expect(matches({ total_pence: 1500 }, order)).toBe(true);
    expect(matches({ total_pence: '1500' }, order)).toBe(false);
    expect(matches({ total_pence: 1500.0 }, { total_pence: 1500 })).toBe(true);
    expect(matches({ gift: false }, order)).toBe(true);
    expect(matches({ gift: 0 }, order)).toBe(false);
    expect(matches({ status: { $eq: 'paid' } }, order)).toBe(true);
    expect(matches({ customer: { $eq: 'GB' } }, order)).toBe(false); // an object equals nothing
    expect(matches({ 'customer.tags': 'vip' }, order)).toBe(false); // no implicit array matching
  });

  it('matches null only for an explicit null', () => {
    expect(matches({ note: null }, order)).toBe(true);
    expect(matches({ missing: null }, order)).toBe(false);
    expect(matches({ gift: null }, order)).toBe(false);
    expect(matches({ missing: { $ne: null } }, order)).toBe(true);
  });

  it('negates with $ne and $nin, which missing values match', () => {
    expect(matches({ status: { $ne: 'refunded' } }, order)).toBe(true);
    expect(matches({ status: { $ne: 'paid' } }, order)).toBe(false);
    expect(matches({ nothing: { $ne: 'paid' } }, order)).toBe(true);
    expect(matches({ total_pence: { $ne: '1500' } }, order)).toBe(true);
    expect(matches({ status: { $nin: ['refunded', 'void'] } }, order)).toBe(true);
    expect(matches({ status: { $nin: ['paid'] } }, order)).toBe(false);
    expect(matches({ nothing: { $nin: ['paid'] } }, order)).toBe(true);
  });

  it('matches $in with values of any scalar type', () => {
    expect(matches({ status: { $in: ['paid', 'refunded'] } }, order)).toBe(true);
    expect(matches({ status: { $in: ['void'] } }, order)).toBe(false);
    expect(matches({ total_pence: { $in: ['1500', 1500] } }, order)).toBe(true);
    expect(matches({ note: { $in: [null, 1] } }, order)).toBe(true);
    expect(matches({ nothing: { $in: [null] } }, order)).toBe(false);
    expect(matches({ items: { $in: [1] } }, order)).toBe(false);
  });

  it('compares numbers only with $gt, $gte, $lt, $lte', () => {
    expect(matches({ total_pence: { $gte: 1000 } }, order)).toBe(true);
    expect(matches({ total_pence: { $gte: 1500 } }, order)).toBe(true);
    expect(matches({ total_pence: { $gt: 1500 } }, order)).toBe(false);
    expect(matches({ total_pence: { $lt: 1500.5 } }, order)).toBe(true);
    expect(matches({ total_pence: { $lte: -1 } }, order)).toBe(false);
    expect(matches({ total_pence: { $gt: 1000, $lt: 2000 } }, order)).toBe(true);
    expect(matches({ total_pence: { $gt: 1000, $lt: 1200 } }, order)).toBe(false);
    expect(matches({ status: { $gt: 0 } }, order)).toBe(false);
    expect(matches({ n: { $gt: 0 } }, { n: '5' })).toBe(false);
    expect(matches({ n: { $lt: 0 } }, {})).toBe(false);
    expect(matches({ n: { $gt: -1e-7 } }, { n: 0 })).toBe(true);
  });

  it('tests presence with $exists, null counting as present', () => {
    expect(matches({ note: { $exists: true } }, order)).toBe(true);
    expect(matches({ nothing: { $exists: true } }, order)).toBe(false);
    expect(matches({ nothing: { $exists: false } }, order)).toBe(true);
    expect(matches({ 'customer.country': { $exists: true } }, order)).toBe(true);
    expect(matches({ 'items.0': { $exists: true } }, order)).toBe(false); // paths do not enter arrays
  });

  it('follows dotted paths and nested objects through objects only', () => {
    expect(matches({ 'customer.country': 'GB' }, order)).toBe(true);
    expect(matches({ customer: { country: 'GB' } }, order)).toBe(true);
    expect(matches({ customer: { country: 'GB', tier: { $gte: 2 } } }, order)).toBe(true);
    expect(matches({ customer: { 'tier': { $gt: 2 } } }, order)).toBe(false);
    expect(matches({ 'status.x': { $exists: false } }, order)).toBe(true);
    expect(matches({ 'a.b': 1 }, { a: [{ b: 1 }] })).toBe(false);
    expect(matches({ 'a.b': 1 }, { 'a.b': 1 })).toBe(false); // a dotted key is a path, never one key
    expect(matches({ toString: { $exists: true } }, {})).toBe(false); // own keys only
  });

  it('combines with $and, $or and $not, at the top and under a path', () => {
    expect(matches({ $or: [{ status: 'refunded' }, { total_pence: { $gte: 1000 } }] }, order)).toBe(true);
    expect(matches({ $or: [{ status: 'refunded' }, { total_pence: { $gte: 2000 } }] }, order)).toBe(false);
    expect(matches({ $and: [{ status: 'paid' }, { gift: true }] }, order)).toBe(false);
    expect(matches({ $not: { status: 'paid' } }, order)).toBe(false);
    expect(matches({ $not: { nothing: 1 } }, order)).toBe(true);
    expect(matches({ total_pence: { $not: { $gt: 2000 } } }, order)).toBe(true);
    expect(matches({ nothing: { $not: { $gt: 2000 } } }, order)).toBe(true);
    expect(matches({ customer: { $not: { country: 'FR' } } }, order)).toBe(true);
    expect(matches({ customer: { $or: [{ country: 'FR' }, { tier: 2 }] } }, order)).toBe(true);
    expect(matches({ status: 'paid', $or: [{ gift: true }, { 'customer.country': { $in: ['GB'] } }] }, order)).toBe(true);
  });

  it('matches no filter when the body holds NUL or a lone surrogate', () => {
    expect(matches({ $not: { a: 1 } }, { note: 'a\u0000b' })).toBe(false);
    expect(matches({ $not: { a: 1 } }, { ['k\ud800']: 1 })).toBe(false);
    expect(matches({ $not: { a: 1 } }, { ok: '😀' })).toBe(true);
    expect(matchesPayloadFilter(null, { note: '\u0000' })).toBe(true);
  });
});

describe('parsePayloadFilter', () => {
  it('names the bad part of a filter', () => {
    expect(problems({ total_pence: { $gte: '1000' } })).toEqual([
      { loc: ['payloadFilter', 'total_pence', '$gte'], msg: 'must be a number (comparisons apply to numbers only); got string "1000"' },
    ]);
    expect(problems({ 'customer.country': { $in: ['GB', { x: 1 }] } })).toEqual([
      { loc: ['payloadFilter', 'customer.country', '$in', 1], msg: 'must be a string, number, boolean or null; got an object' },
    ]);
    expect(problems({ a: { $regex: 'x' } })[0]).toMatchObject({ loc: ['payloadFilter', 'a', '$regex'], msg: expect.stringContaining('unknown operator $regex') });
    expect(problems({ $where: 'x' })[0]!.loc).toEqual(['payloadFilter', '$where']);
    expect(problems({ $gt: 1 })[0]!.msg).toMatch(/applies to a field/);
    expect(problems({ $or: [{ a: 1 }, 'b'] })[0]!.loc).toEqual(['payloadFilter', '$or', 1]);
    expect(problems({ $or: [] })[0]!.msg).toMatch(/non-empty array/);
    expect(problems({ $and: {} })[0]!.loc).toEqual(['payloadFilter', '$and']);
    expect(problems({ $not: [] })[0]!.loc).toEqual(['payloadFilter', '$not']);
    expect(problems({ a: [1, 2] })[0]!.msg).toMatch(/use \{"\$in"/);
    expect(problems({ a: {} })[0]!.msg).toMatch(/must not be empty/);
    expect(problems({ a: { $gt: 1, b: 2 } })[0]!.msg).toMatch(/mixes operators/);
    expect(problems({ 'a..b': 1 })[0]!.msg).toMatch(/single dots/);
    expect(problems({ '.a': 1 })[0]!.loc).toEqual(['payloadFilter', '.a']);
    expect(problems({ a: { $in: [] } })[0]!.msg).toMatch(/non-empty array/);
    expect(problems({ a: { $exists: 'yes' } })[0]!.msg).toMatch(/true or false/);
    expect(problems({ a: { $eq: [1] } })[0]!.msg).toMatch(/string, number, boolean or null/);
    expect(problems({ a: { $not: {} } })[0]!.loc).toEqual(['payloadFilter', 'a', '$not']);
    expect(problems({ a: 'x\u0000' })[0]!.msg).toMatch(/NUL/);
    expect(problems({ ['k\udc00']: 1 })[0]!.msg).toMatch(/lone surrogate/);
    expect(problems('status=paid')[0]).toEqual({ loc: ['payloadFilter'], msg: 'must be an object of conditions, e.g. {"status": "paid"}; got string "status=paid"' });
    expect(problems([{ a: 1 }])[0]!.msg).toMatch(/got an array/);
    expect(payloadFilterProblems(null)).toEqual([]);
  });

  it('reports every problem at once, with dotted paths in `path`', () => {
    const r = parsePayloadFilter({ a: { $gt: 'x' }, $or: [{ b: { $in: 1 } }] }, 'payloadFilter');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems.map((p) => p.path)).toEqual(['payloadFilter.a.$gt', 'payloadFilter.$or[0].b.$in']);
  });

  it('enforces the limits', () => {
    const { maxBytes, maxDepth, maxConditions, maxInValues, maxPathKeys } = PAYLOAD_FILTER_LIMITS;
    expect(problems({ a: 'x'.repeat(maxBytes) })[0]!.msg).toMatch(/bytes of JSON/);
    let deep: Record<string, unknown> = { z: 1 };
    for (let i = 0; i < maxDepth; i++) deep = { [`k${i}`]: deep };
    expect(problems(deep)[0]!.msg).toMatch(/deeper than/);
    const many = Object.fromEntries(Array.from({ length: maxConditions + 1 }, (_, i) => [`f${i}`, i]));
    expect(problems(many)[0]!.msg).toMatch(/conditions; at most/);
    expect(problems(Object.fromEntries(Array.from({ length: maxConditions }, (_, i) => [`f${i}`, i])))).toEqual([]);
    expect(problems({ a: { $in: Array.from({ length: maxInValues + 1 }, (_, i) => i) } })[0]!.msg).toMatch(/values; at most/);
    expect(problems({ [Array.from({ length: maxPathKeys + 1 }, (_, i) => `k${i}`).join('.')]: 1 })[0]!.msg).toMatch(/keys; at most/);
  });
});

describe('explainPayloadFilter', () => {
  it('lists each condition with what the body holds', () => {
    const filter = parse({ total_pence: { $gte: 1000 }, 'customer.country': { $in: ['FR'] }, gift: { $exists: true } });
    expect(explainPayloadFilter(filter, order)).toEqual({
      matches: false,
      unreadable: false,
      checks: [
        { condition: 'total_pence ≥ 1000', found: '1500', holds: true },
        { condition: 'customer.country is one of "FR"', found: '"GB"', holds: false },
        { condition: 'gift is present', found: 'false', holds: true },
      ],
    });
    expect(explainPayloadFilter(parse({ x: { $ne: 1 } }), {}).checks).toEqual([{ condition: 'x ≠ 1', found: 'missing', holds: true }]);
    expect(explainPayloadFilter(parse({ x: 1 }), { x: '\u0000' })).toMatchObject({ matches: false, unreadable: true });
  });
});

describe('toJsonPath', () => {
  it('compiles to a strict jsonpath predicate, quoting keys and strings as JSON does', () => {
    expect(toJsonPath(parse({ 'customer.country': 'G"B' })!)).toBe(
      'strict exists($ ? (exists(@."customer"))."customer" ? (exists(@."country"))."country" ? (@ == "G\\"B"))',
    );
    expect(toJsonPath(parse({ n: { $gte: 10, $lt: 1e21 } })!)).toBe(
      'strict (exists($ ? (exists(@."n"))."n" ? (@.type() == "number" && @ >= 10)) && exists($ ? (exists(@."n"))."n" ? (@.type() == "number" && @ < 1e+21)))',
    );
    expect(toJsonPath(parse({ $or: [{ a: { $nin: [1, null] } }, { $not: { b: { $exists: false } } }] })!)).toBe(
      'strict (!(exists($ ? (exists(@."a"))."a" ? (@ == 1 || @ == null))) || !(!(exists($ ? (exists(@."b"))."b"))))',
    );
  });
});
