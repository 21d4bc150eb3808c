/**
 * Unit tests of the browser app's logic (web/src/lib), run in Node: no browser (the API client's test
 * answers it from a local HTTP server). They live here because the root Vitest config collects only
 * src/ and test/; the modules import only each other and src/api-client, so the root TypeScript
 * program checks them too.
 */
import { describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, HeraldClient, ok } from '../../web/src/lib/api.js';
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
import { breakerBadge, breakerSentence, draftOf, formatSchedule, heldText, parseDurationText, parseRetrySchedule, policyBody, policyProblems } from '../../web/src/lib/policy.js';

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
  it('sends the token, encodes path segments, repeats array query parameters, and throws refusals as ApiError', async () => {
    const seen: { url: string; authorization: string | undefined }[] = [];
    const server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
      const refused = req.url?.includes('refuse');
      res.writeHead(refused ? 422 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(refused ? { code: 'validation', detail: [{ loc: ['query', 'iterator'], msg: 'bad cursor', type: 'value_error' }] } : { data: [], iterator: null, done: true }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const unauthorized: ApiError[] = [];
    try {
      const client = new HeraldClient('hk_test', (e) => unauthorized.push(e), base);
      const query = { limit: 100, status: 2 as const, event_types: ['a.b', 'c.d'], iterator: undefined };
      const page = await ok(client.api.GET('/api/v1/app/{app_id}/endpoint/{endpoint_id}/msg', { params: { path: { app_id: 'acme.eu', endpoint_id: 'a/b' }, query } }));
      expect(page.done).toBe(true);
      expect(seen[0]).toEqual({ url: '/api/v1/app/acme.eu/endpoint/a%2Fb/msg?limit=100&status=2&event_types=a.b&event_types=c.d', authorization: 'Bearer hk_test' });
      const e = await ok(client.api.GET('/api/v1/app/{app_id}', { params: { path: { app_id: 'refuse' } } })).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).fieldErrors()).toEqual({ iterator: 'bad cursor' });
      expect(unauthorized).toEqual([]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
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

describe('delivery policy', () => {
  it('parses retry schedules written with units into seconds, and says what is wrong otherwise', () => {
    expect(parseRetrySchedule('1m, 5m,30m ,2h,24h')).toEqual({ seconds: [60, 300, 1800, 7200, 86_400] });
    expect(parseRetrySchedule('  ')).toEqual({ seconds: null });
    expect(parseRetrySchedule('1m, 5')).toEqual({ error: expect.stringContaining('“5” is not a duration') });
    expect(parseRetrySchedule('1m,,5m')).toEqual({ error: expect.stringContaining('is not a duration') });
    expect(parseRetrySchedule('1500ms')).toEqual({ error: expect.stringContaining('whole number of seconds') });
    expect(parseDurationText('1.5m')).toBe(90_000);
    expect(parseDurationText('10')).toBeNull();
    expect(formatSchedule([30, 60, 7200, 86_400, 90])).toBe('30s, 1m, 2h, 1d, 90s');
  });

  it('turns stored overrides into a draft and back; empty fields inherit (null)', () => {
    const draft = draftOf({ maxInFlight: 4, timeoutMs: 10_000, retrySchedule: [60, 300], throttleRate: null, ordering: 'strict' });
    expect(draft).toEqual({ maxInFlight: '4', timeout: '10s', retrySchedule: '1m, 5m', throttleRate: '', ordering: 'strict' });
    expect(policyBody(draft, true)).toEqual({ maxInFlight: 4, timeoutMs: 10_000, retrySchedule: [60, 300], throttleRate: null, ordering: 'strict' });
    expect(policyBody(draftOf({}), false)).toEqual({ maxInFlight: null, timeoutMs: null, retrySchedule: null, throttleRate: null });
    expect(policyProblems({ ...draftOf({}), maxInFlight: '0', timeout: '500ms', throttleRate: '1.5', retrySchedule: 'soon' })).toEqual({
      maxInFlight: expect.any(String),
      timeout: 'At least 1s.',
      throttleRate: expect.any(String),
      retrySchedule: expect.stringContaining('not a duration'),
    });
  });

  it('words the pause and the breaker', () => {
    expect(heldText(1)).toBe('Paused — 1 delivery held');
    expect(heldText(3)).toBe('Paused — 3 deliveries held');
    expect(breakerBadge('half-open')).toEqual({ label: 'Half-open', tone: 'warn' });
    expect(breakerSentence({ state: 'open', consecutiveFailures: 5 }, '12:00')).toMatch(/^5 failed attempts in a row\. Nothing is attempted until 12:00/);
    expect(breakerSentence({ state: 'closed', consecutiveFailures: 0 }, null)).toBe('Sending normally.');
  });
});
