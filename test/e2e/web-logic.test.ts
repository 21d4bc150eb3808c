/**
 * Unit tests of the browser app's pure logic (web/src/lib), run in Node: no browser, no server. They
 * live here because the root Vitest config collects only src/ and test/; the modules have no imports,
 * so the root TypeScript program checks them too.
 */
import { describe, expect, it } from 'vitest';
import { ApiError, toQueryString } from '../../web/src/lib/api.js';
import {
  attemptResult,
  attemptStatusName,
  endpointStatus,
  eventTypeNameProblem,
  formatDate,
  formatDuration,
  formatTime,
  groupEventTypes,
  maskedSecret,
  urlProblem,
  zoneLabel,
} from '../../web/src/lib/format.js';
import { headerNameProblem, headersPatch } from '../../web/src/lib/headers.js';

describe('format', () => {
  const at = '2026-07-01T17:05:09Z';

  it("shows times in the viewer's zone, with the zone", () => {
    expect(formatTime(at, 'Europe/London', 'en-GB')).toBe('18:05:09');
    expect(formatTime(at, 'America/New_York', 'en-GB')).toBe('13:05:09');
    expect(formatDate(at, 'Asia/Tokyo', 'en-GB')).toBe('2 Jul 2026');
    expect(zoneLabel('Europe/London', new Date(at))).toBe('Europe/London (GMT+1)');
    expect(zoneLabel('UTC', new Date(at))).toMatch(/^UTC \(GMT(\+0)?\)$/); // ICU versions differ
    expect(formatTime('not a date', 'UTC')).toBe('—');
  });

  it('formats durations and masks secrets as •••• abcd', () => {
    expect(formatDuration(87)).toBe('87 ms');
    expect(formatDuration(1450)).toBe('1.4 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    expect(formatDuration(undefined)).toBe('—');
    expect(maskedSecret('abcd')).toBe('•••• abcd');
    expect(maskedSecret(null)).toBe('••••');
  });

  it('groups event types by their dotted prefix, "other" last', () => {
    const groups = groupEventTypes([{ name: 'queue.left' }, { name: 'order.paid' }, { name: 'ping' }, { name: 'order.created' }, { name: 'draw.completed' }]);
    expect(groups.map((g) => g.prefix)).toEqual(['draw', 'order', 'queue', 'other']);
    expect(groups[1]!.types.map((t) => t.name)).toEqual(['order.created', 'order.paid']);
  });

  it('tells Active, Paused and Disabled automatically (with the reason) apart', () => {
    expect(endpointStatus({ disabled: false })).toMatchObject({ label: 'Active' });
    expect(endpointStatus({ disabled: true, disabledBy: 'user' })).toMatchObject({ label: 'Paused', reason: null });
    expect(endpointStatus({ disabled: true, disabledBy: 'auto', disabledReason: '10 failures in 1 h' })).toEqual({
      label: 'Disabled automatically',
      tone: 'bad',
      reason: '10 failures in 1 h',
    });
  });

  it('shows the HTTP status, else the error', () => {
    expect(attemptResult({ responseStatusCode: 503, status: 2 })).toBe('HTTP 503');
    expect(attemptResult({ responseStatusCode: 0, status: 2, errorMessage: 'connection refused' })).toBe('connection refused');
    expect(attemptResult({ responseStatusCode: 0, status: 2, errorStage: 'timeout' })).toBe('timeout error');
    expect(attemptStatusName(0)).toBe('success');
    expect(attemptStatusName(2)).toBe('failed');
    expect(attemptStatusName(4)).toBe('canceled');
  });

  it('checks URLs and event type names before the API does', () => {
    expect(urlProblem('https://example.com/hooks')).toBeNull();
    expect(urlProblem('')).toMatch(/Enter the URL/);
    expect(urlProblem('example.com')).toMatch(/https:\/\//);
    expect(urlProblem('ftp://example.com')).toMatch(/https:\/\//);
    expect(urlProblem('https://user:pw@example.com')).toMatch(/user name and password/);
    expect(eventTypeNameProblem('order.paid')).toBeNull();
    expect(eventTypeNameProblem('order paid')).toMatch(/letters, digits/);
  });
});

describe('api client helpers', () => {
  it('repeats array query parameters and leaves empty ones out', () => {
    expect(toQueryString({ limit: 100, status: 2, event_types: ['a.b', 'c.d'], iterator: undefined, x: '' })).toBe(
      '?limit=100&status=2&event_types=a.b&event_types=c.d',
    );
    expect(toQueryString({})).toBe('');
  });

  it('maps validation errors onto form fields', () => {
    const e = new ApiError(422, 'validation', [
      { loc: ['body', 'url'], msg: 'must be https', type: 'value_error' },
      { loc: ['body', 'filterTypes', 0], msg: 'unknown event type', type: 'value_error' },
      { loc: ['body', 'url'], msg: 'no credentials', type: 'value_error' },
    ]);
    expect(e.fieldErrors()).toEqual({ url: 'must be https; no credentials', filterTypes: 'unknown event type' });
    expect(new ApiError(409, 'conflict', 'endpoint is disabled').fieldErrors()).toEqual({ '': 'endpoint is disabled' });
  });
});

describe('custom headers', () => {
  it('refuses names Herald sets and malformed names', () => {
    expect(headerNameProblem('X-Tenant')).toBeNull();
    expect(headerNameProblem('webhook-signature')).toMatch(/set by Herald/);
    expect(headerNameProblem('Content-Length')).toMatch(/set by Herald/);
    expect(headerNameProblem('X Bad')).toMatch(/letters, digits/);
  });

  it('keeps hidden values unless replaced, and deletes removed headers', () => {
    const loaded = ['x-tenant', 'authorization', 'x-old'];
    const rows = [
      { name: 'X-Tenant', value: 'blue', hidden: false },
      { name: 'authorization', value: '', hidden: true },
      { name: 'X-New', value: '1', hidden: false },
    ];
    expect(headersPatch(loaded, rows)).toEqual({ headers: { 'x-old': null, 'X-Tenant': 'blue', 'X-New': '1' } });
    expect(headersPatch(['authorization'], [{ name: 'authorization', value: 'Bearer 2', hidden: true }])).toEqual({ headers: { authorization: 'Bearer 2' } });
  });
});
