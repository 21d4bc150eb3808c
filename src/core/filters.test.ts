import { describe, it, expect } from 'vitest';
import { HeraldError } from './errors.js';
import {
  EVENT_TYPE_NAME_MAX_LENGTH,
  EVENT_TYPE_NAME_PATTERN,
  matchesEventType,
  validateEventTypeName,
  validateFilterPattern,
  validateFilterTypes,
} from './filters.js';

describe('matchesEventType', () => {
  it('treats null, undefined and [] as "every type"', () => {
    for (const filter of [null, undefined, []]) {
      expect(matchesEventType(filter, 'order.paid')).toBe(true);
      expect(matchesEventType(filter, 'x')).toBe(true);
    }
  });

  it('matches exact names, case-sensitively', () => {
    expect(matchesEventType(['order.paid'], 'order.paid')).toBe(true);
    expect(matchesEventType(['order.paid'], 'order.refunded')).toBe(false);
    expect(matchesEventType(['order.paid'], 'Order.Paid')).toBe(false);
    expect(matchesEventType(['order.paid'], 'order.paid.v2')).toBe(false);
    expect(matchesEventType(['order.paid'], 'order')).toBe(false);
  });

  it('matches when any entry matches', () => {
    const filter = ['invoice.created', 'order.paid', 'user.*'];
    expect(matchesEventType(filter, 'order.paid')).toBe(true);
    expect(matchesEventType(filter, 'user.deleted')).toBe(true);
    expect(matchesEventType(filter, 'invoice.paid')).toBe(false);
  });

  it('matches prefix.* wildcards at any depth below the prefix', () => {
    expect(matchesEventType(['order.*'], 'order.paid')).toBe(true);
    expect(matchesEventType(['order.*'], 'order.item.added')).toBe(true);
    expect(matchesEventType(['order.item.*'], 'order.item.added')).toBe(true);
    expect(matchesEventType(['order.item.*'], 'order.paid')).toBe(false);
  });

  it('does not match the prefix itself or a longer sibling name', () => {
    expect(matchesEventType(['order.*'], 'order')).toBe(false);
    expect(matchesEventType(['order.*'], 'orders.paid')).toBe(false);
    expect(matchesEventType(['order.*'], 'orderpaid')).toBe(false);
    expect(matchesEventType(['order.*'], 'my.order.paid')).toBe(false);
  });

  it('matches everything with *', () => {
    expect(matchesEventType(['*'], 'anything.at.all')).toBe(true);
    expect(matchesEventType(['nope', '*'], 'x')).toBe(true);
  });

  it('treats a bare trailing * (not .*) literally', () => {
    expect(matchesEventType(['order*'], 'order.paid')).toBe(false);
    expect(matchesEventType(['order*'], 'order*')).toBe(true);
  });

  it('agrees with the fan-out SQL on the degenerate name "order."', () => {
    // FILTER_MATCH_SQL uses starts_with(type, 'order.'), so the two must agree here too.
    expect(matchesEventType(['order.*'], 'order.')).toBe(true);
  });

  it('accepts readonly arrays', () => {
    const filter: readonly string[] = Object.freeze(['a.*']);
    expect(matchesEventType(filter, 'a.b')).toBe(true);
  });
});

function validationError(fn: () => void): HeraldError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HeraldError);
    expect((e as HeraldError).code).toBe('validation');
    return e as HeraldError;
  }
  throw new Error('expected a validation error');
}

describe('validateEventTypeName', () => {
  it('exposes the Svix pattern', () => {
    expect(EVENT_TYPE_NAME_PATTERN.source).toBe('^[a-zA-Z0-9\\-_.]+$');
    expect(EVENT_TYPE_NAME_MAX_LENGTH).toBe(256);
  });

  it.each(['order.paid', 'a', 'Order-Paid_v2', 'user.created.v1', '123', '-_.', 'x'.repeat(256)])('accepts %j', (name) => {
    expect(() => validateEventTypeName(name)).not.toThrow();
  });

  it('names the allowed characters for an invalid name', () => {
    const e = validationError(() => validateEventTypeName('order paid'));
    expect(e.detail).toBe(`an event type name "order paid" may only contain letters, digits, '-', '_' and '.' (e.g. "order.paid")`);
  });

  it.each(['order/paid', 'order:paid', 'ordér', 'order.*', '*', 'tab\there', 'new\nline', 'emoji🎉'])('rejects %j', (name) => {
    validationError(() => validateEventTypeName(name));
  });

  it('rejects empty and over-long names with specific messages', () => {
    expect(validationError(() => validateEventTypeName('')).detail).toContain('must not be empty');
    expect(validationError(() => validateEventTypeName('x'.repeat(257))).detail).toContain('257 characters long; at most 256');
  });

  it('rejects non-strings arriving from untyped input', () => {
    expect(validationError(() => validateEventTypeName(42 as unknown as string)).detail).toContain('must be a string');
  });

  it('clips a long invalid name in the message', () => {
    const e = validationError(() => validateEventTypeName(`${'a'.repeat(100)} b`));
    expect(e.detail.length).toBeLessThan(200);
  });
});

describe('validateFilterPattern', () => {
  it.each(['*', 'order.paid', 'order.*', 'order.item.*', 'a.*', 'x'.repeat(256) + '.*'])('accepts %j', (p) => {
    expect(() => validateFilterPattern(p)).not.toThrow();
  });

  it.each([
    ['order*', 'wrong place'],
    ['*.paid', 'wrong place'],
    ['order.*.added', 'wrong place'],
    ['**', 'wrong place'],
    ['order.**', 'wrong place'],
    ['.*', 'must not be empty'],
    ['order.*.*', 'only allowed as "*" or a trailing ".*"'],
    ['bad name.*', 'only allowed as "*" or a trailing ".*"'],
    ['', 'must not be empty'],
    ['order paid', "'-', '_' and '.'"],
    ['x'.repeat(257) + '.*', 'at most 256'],
  ])('rejects %j', (pattern, message) => {
    expect(validationError(() => validateFilterPattern(pattern)).detail).toContain(message);
  });
});

describe('validateFilterTypes', () => {
  it('accepts a valid list and an empty one', () => {
    expect(() => validateFilterTypes(['order.*', 'user.created', '*'])).not.toThrow();
    expect(() => validateFilterTypes([])).not.toThrow();
  });

  it('reports every bad entry with its index', () => {
    const e = validationError(() => validateFilterTypes(['ok.name', 'bad name', 7, 'a*b']));
    expect(e.fields?.map((f) => f.path)).toEqual(['filterTypes[1]', 'filterTypes[2]', 'filterTypes[3]']);
    expect(e.detail).toContain('filterTypes[1]: ');
  });

  it('uses the given path prefix', () => {
    const e = validationError(() => validateFilterTypes(['bad name'], 'endpoint.filterTypes'));
    expect(e.fields?.[0]?.path).toBe('endpoint.filterTypes[0]');
  });
});
