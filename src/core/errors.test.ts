import { describe, it, expect } from 'vitest';
import { coerceError, ERROR_CODES, HeraldError, httpStatusOf, isHeraldError, type ErrorCode } from './errors.js';

describe('httpStatusOf', () => {
  it('maps every code to the agreed status', () => {
    const expected: Record<ErrorCode, number> = {
      validation: 422,
      not_found: 404,
      conflict: 409,
      unauthorized: 401,
      forbidden: 403,
      payload_too_large: 413,
      rate_limited: 429,
      idempotency_conflict: 409,
      unprocessable: 422,
      internal: 500,
      unavailable: 503,
      config: 500,
      misdirected_request: 421,
    };
    expect(httpStatusOf).toEqual(expected);
  });

  it('lists every code once in ERROR_CODES, each with a 4xx or 5xx status', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    expect(ERROR_CODES.sort()).toEqual(Object.keys(httpStatusOf).sort());
    for (const code of ERROR_CODES) {
      expect(httpStatusOf[code]).toBeGreaterThanOrEqual(400);
      expect(httpStatusOf[code]).toBeLessThan(600);
    }
  });
});

describe('HeraldError', () => {
  it('carries code, detail, status and message', () => {
    const e = new HeraldError('not_found', 'endpoint ep_1 not found');
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(HeraldError);
    expect(e.name).toBe('HeraldError');
    expect(e.code).toBe('not_found');
    expect(e.detail).toBe('endpoint ep_1 not found');
    expect(e.message).toBe('endpoint ep_1 not found');
    expect(e.status).toBe(404);
    expect(e.fields).toBeUndefined();
    expect(e.cause).toBeUndefined();
    expect(e.stack).toContain('HeraldError');
  });

  it('keeps the cause and field errors', () => {
    const cause = new Error('duplicate key');
    const fields = [{ path: 'uid', message: 'already taken' }];
    const e = new HeraldError('conflict', 'uid already exists', { cause, fields });
    expect(e.cause).toBe(cause);
    expect(e.fields).toEqual(fields);
    expect(e.status).toBe(409);
  });

  it('keeps a falsy non-undefined cause', () => {
    expect(new HeraldError('internal', 'x', { cause: 0 }).cause).toBe(0);
    expect(new HeraldError('internal', 'x', { cause: null }).cause).toBeNull();
  });
});

describe('isHeraldError', () => {
  it('narrows by class and optionally by code', () => {
    const e = new HeraldError('validation', 'bad');
    expect(isHeraldError(e)).toBe(true);
    expect(isHeraldError(e, 'validation')).toBe(true);
    expect(isHeraldError(e, 'config')).toBe(false);
    expect(isHeraldError(new Error('bad'))).toBe(false);
    expect(isHeraldError({ code: 'validation', detail: 'bad' })).toBe(false);
    expect(isHeraldError(undefined)).toBe(false);
  });
});

describe('coerceError', () => {
  it('returns Errors unchanged', () => {
    const e = new TypeError('boom');
    expect(coerceError(e)).toBe(e);
    const h = new HeraldError('internal', 'x');
    expect(coerceError(h)).toBe(h);
  });

  it('keeps errors from another realm', async () => {
    const { runInNewContext } = await import('node:vm');
    const foreign = runInNewContext('new Error("from vm")') as unknown;
    expect(foreign instanceof Error).toBe(false);
    expect(coerceError(foreign)).toBe(foreign);
    expect(coerceError(foreign).message).toBe('from vm');
  });

  it('wraps strings, using them as the message', () => {
    const e = coerceError('socket hang up');
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toBe('socket hang up');
    expect(e.cause).toBe('socket hang up');
  });

  it('uses the message of error-like objects', () => {
    const thrown = { message: 'pg said no', code: '23505' };
    const e = coerceError(thrown);
    expect(e.message).toBe('pg said no');
    expect(e.cause).toBe(thrown);
  });

  it('describes other values', () => {
    expect(coerceError(42).message).toBe('a non-Error value was thrown: 42');
    expect(coerceError(undefined).message).toBe('a non-Error value was thrown: undefined');
    expect(coerceError(null).message).toBe('a non-Error value was thrown: null');
    expect(coerceError({ a: 1 }).message).toBe('a non-Error value was thrown: {"a":1}');
    expect(coerceError({ message: 5 }).message).toBe('a non-Error value was thrown: {"message":5}');
    expect(coerceError(Symbol('s')).message).toBe('a non-Error value was thrown: Symbol(s)');
    expect(coerceError(10n).message).toBe('a non-Error value was thrown: 10');
  });

  it('never throws while describing hostile values', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(coerceError(circular).message).toBe('a non-Error value was thrown: [object Object]');
    expect(coerceError(Object.create(null)).message).toBe('a non-Error value was thrown: {}');
    const bigint = { n: 1n };
    expect(coerceError(bigint).message).toBe('a non-Error value was thrown: [object Object]');
    expect(coerceError(() => 1).message).toMatch(/^a non-Error value was thrown: /);
  });

  it('truncates long descriptions', () => {
    const e = coerceError({ data: 'x'.repeat(1000) });
    expect(e.message.length).toBeLessThan(260);
    expect(e.message.endsWith('…')).toBe(true);
    expect((e.cause as { data: string }).data).toHaveLength(1000);
  });
});
