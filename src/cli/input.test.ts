import { describe, expect, it } from 'vitest';
import { UsageError } from './exit-codes.js';
import { commaList, intArg, parseTimeArg } from './input.js';
import { renderTable } from './output.js';
import { parseHeaders } from './verify.js';

const NOW = new Date('2026-01-31T12:00:00Z');

describe('parseTimeArg', () => {
  it('reads durations ago and ISO times', () => {
    expect(parseTimeArg('2h', '--since', NOW).toISOString()).toBe('2026-01-31T10:00:00.000Z');
    expect(parseTimeArg('1d ago', '--since', NOW).toISOString()).toBe('2026-01-30T12:00:00.000Z');
    expect(parseTimeArg('90m', '--since', NOW).toISOString()).toBe('2026-01-31T10:30:00.000Z');
    expect(parseTimeArg('2026-01-01T00:00:00Z', '--since', NOW).toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it('refuses bare numbers and words', () => {
    for (const v of ['3600', 'yesterday', '2 hours', '']) expect(() => parseTimeArg(v, '--since', NOW)).toThrow(UsageError);
  });
});

describe('small parsers', () => {
  it('comma lists drop blanks; intArg checks bounds', () => {
    expect(commaList(' a, b,,c ')).toEqual(['a', 'b', 'c']);
    expect(intArg('250', '--limit', 1, 250)).toBe(250);
    expect(() => intArg('251', '--limit', 1, 250)).toThrow('--limit must be a whole number from 1 to 250');
    expect(() => intArg('1.5', '--limit', 1, 250)).toThrow(UsageError);
  });

  it('parseHeaders reads JSON, pairs, listen records and curl -v lines', () => {
    expect(parseHeaders('{"Webhook-Id":"m","X":["a","b"]}')).toEqual({ 'webhook-id': 'm', x: ['a', 'b'] });
    expect(parseHeaders('[["Webhook-Id","m"]]')).toEqual({ 'webhook-id': 'm' });
    expect(parseHeaders('{"method":"POST","headers":{"webhook-id":"m"}}')).toEqual({ 'webhook-id': 'm' });
    expect(parseHeaders('> POST /x HTTP/1.1\n> Webhook-Id: m\n> Webhook-Signature: v1,a\n')).toEqual({ 'webhook-id': 'm', 'webhook-signature': 'v1,a' });
    expect(() => parseHeaders('not a header')).toThrow(UsageError);
  });

  it('renderTable aligns columns and shows missing values as -', () => {
    const out = renderTable([{ a: 'x', b: null }, { a: 'longer', b: ['p', 'q'] }], [
      { header: 'a', value: (r) => r.a },
      { header: 'b', value: (r) => r.b },
    ]);
    expect(out).toBe('A       B\nx       -\nlonger  p,q\n');
  });
});
