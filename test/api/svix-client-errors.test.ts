/**
 * Contract: every kind of error Herald answers, driven through the official `svix` npm client, is an
 * `ApiException` whose body has the shape of the Svix class for it: `HTTPValidationError` for 422
 * (`detail` always a list of `ValidationError`), `HttpErrorOut` for every other 4xx. The shapes are
 * checked against the attribute maps the svix package itself ships, so a field Svix's typed clients
 * in other languages expect cannot go missing unnoticed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiException, HTTPValidationError, HttpErrorOut, Svix, ValidationError } from 'svix';
import { startTestServer, type TestServer } from '../support/server.js';

/** A class of the svix package that describes its JSON fields. */
interface SvixModel {
  getAttributeTypeMap(): { baseName: string; type: string }[];
}

/**
 * What is wrong with `value` as an instance of `model` (empty when nothing): every attribute present
 * with its declared type. Array indexes in `loc` may be numbers (`["body", "filterTypes", 1]`).
 */
function problems(value: unknown, model: SvixModel, at = ''): string[] {
  if (typeof value !== 'object' || value === null) return [`${at || 'body'} is not an object`];
  const out: string[] = [];
  for (const { baseName, type } of model.getAttributeTypeMap()) {
    const v = (value as Record<string, unknown>)[baseName];
    const where = `${at}${baseName}`;
    if (type === 'string') {
      if (typeof v !== 'string') out.push(`${where} is not a string`);
    } else if (type === 'Array<string>') {
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' && typeof x !== 'number')) out.push(`${where} is not a list of strings`);
    } else if (type === 'Array<ValidationError>') {
      if (!Array.isArray(v) || v.length === 0) out.push(`${where} is not a non-empty list`);
      else v.forEach((item, i) => out.push(...problems(item, ValidationError, `${where}[${i}].`)));
    } else {
      out.push(`${where} has a type this test does not know: ${type}`);
    }
  }
  return out;
}

/** Runs a svix client call that must fail; returns the ApiException. */
async function refused(call: () => Promise<unknown>): Promise<ApiException<unknown>> {
  const e = await call().then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ApiException);
  return e as ApiException<unknown>;
}

/** Checks an HttpErrorOut answer of `status` with Herald's `code`. */
function expectHttpError(e: ApiException<unknown>, status: number, code: string): void {
  expect({ status: e.code, problems: problems(e.body, HttpErrorOut) }).toEqual({ status, problems: [] });
  expect((e.body as HttpErrorOut).code).toBe(code);
}

/** Checks an HTTPValidationError answer and returns its `loc`s. */
function expectValidationError(e: ApiException<unknown>): (string | number)[][] {
  expect({ status: e.code, problems: problems(e.body, HTTPValidationError) }).toEqual({ status: 422, problems: [] });
  return (e.body as HTTPValidationError).detail.map((d) => d.loc);
}

let server: TestServer;
let svix: Svix;
let appId: string;
beforeAll(async () => {
  // A small payload limit makes 413 reachable; a rate limit of 1/s (bursts of 2) for scoped tokens makes 429 reachable.
  server = await startTestServer({ HERALD_MAX_PAYLOAD_BYTES: '1KiB', HERALD_API_RATE_LIMIT: '1' }, { worker: false });
  svix = new Svix(server.adminToken, { serverUrl: server.url });
  appId = (await svix.application.create({ name: 'Errors', uid: 'errors' })).id;
  await svix.eventType.create({ name: 'order.paid', description: 'An order was paid' });
});
afterAll(async () => {
  await server.close();
});

/** An API key with these permissions, scoped to the test application. */
async function scopedKey(permissions: string[]): Promise<string> {
  const res = await fetch(`${server.url}/api/v1/api-key`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `errors-${permissions.join('-')}`, permissions, appId }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { key: string }).key;
}

describe("Herald's errors through the official svix client", () => {
  it('401: an unknown token is HttpErrorOut', async () => {
    const stranger = new Svix('hk_not_a_real_key', { serverUrl: server.url });
    expectHttpError(await refused(() => stranger.application.get(appId)), 401, 'unauthorized');
  });

  it('403: a token without the permission is HttpErrorOut', async () => {
    const reader = new Svix(await scopedKey(['read']), { serverUrl: server.url });
    expectHttpError(await refused(() => reader.endpoint.create(appId, { url: 'https://hooks.example.com/in' })), 403, 'forbidden');
  });

  it('404: a missing application, endpoint or message is HttpErrorOut', async () => {
    expectHttpError(await refused(() => svix.application.get('no-such-app')), 404, 'not_found');
    expectHttpError(await refused(() => svix.endpoint.get(appId, 'ep_missing')), 404, 'not_found');
    expectHttpError(await refused(() => svix.message.get(appId, 'msg_missing')), 404, 'not_found');
  });

  it('409: a uid already taken is HttpErrorOut', async () => {
    expectHttpError(await refused(() => svix.application.create({ name: 'Again', uid: 'errors' })), 409, 'conflict');
  });

  it('413: a payload over the limit is HttpErrorOut', async () => {
    const payload = { blob: 'x'.repeat(4096) };
    expectHttpError(await refused(() => svix.message.create(appId, { eventType: 'order.paid', payload })), 413, 'payload_too_large');
  });

  it('422 in the body: every field the schema refuses, in a list, with array indexes split out of the path', async () => {
    const e = await refused(() => svix.endpoint.create(appId, { url: 'https://hooks.example.com/in', rateLimit: 0, channels: ['ok', 'bad channel'] }));
    const locs = expectValidationError(e);
    expect(locs).toContainEqual(['body', 'rateLimit']);
    expect(locs).toContainEqual(['body', 'channels', 1]);
  });

  it("422 from Herald's own checks (URL, event type names) has the same shape, `filterTypes[1]` as [\"filterTypes\", 1]", async () => {
    const e = await refused(() => svix.endpoint.create(appId, { url: 'ftp://hooks.example.com/in', filterTypes: ['order.paid', 'bad name'] }));
    const locs = expectValidationError(e);
    expect(locs).toContainEqual(['body', 'url']);
    expect(locs).toContainEqual(['body', 'filterTypes', 1]);
  });

  it('422 for an event type that does not exist is a list too', async () => {
    const e = await refused(() => svix.endpoint.create(appId, { url: 'https://hooks.example.com/in', filterTypes: ['order.paid', 'no.such.type'] }));
    expect(expectValidationError(e)[0]![0]).toBe('body');
  });

  it('422 in the query: a bad iterator or limit is a list with loc ["query", …]', async () => {
    expect(expectValidationError(await refused(() => svix.message.list(appId, { iterator: 'not-an-iterator' })))).toEqual([['query', 'iterator']]);
    expect(expectValidationError(await refused(() => svix.application.list({ limit: 0 })))).toEqual([['query', 'limit']]);
    // Herald's own check of a query window names the query too.
    const ep = await svix.endpoint.create(appId, { url: 'https://hooks.example.com/stats' });
    const window = { since: new Date('2026-01-02T00:00:00Z'), until: new Date('2026-01-01T00:00:00Z') };
    expect(expectValidationError(await refused(() => svix.endpoint.getStats(appId, ep.id, window)))).toEqual([['query', 'since']]);
  });

  it('422 in the path: an id with characters ids never have', async () => {
    expect(expectValidationError(await refused(() => svix.application.get('a b')))).toEqual([['path', 'app_id']]);
  });

  it('429: a scoped token over its rate limit is HttpErrorOut', async () => {
    const busy = new Svix(await scopedKey(['read']), { serverUrl: server.url });
    let limited: ApiException<unknown> | null = null;
    // The limit is 1 request a second with bursts of 2: a few requests in a row are enough.
    for (let i = 0; i < 20 && limited === null; i++) {
      limited = await busy.application.get(appId).then(
        () => null,
        (err: unknown) => (err instanceof ApiException && err.code === 429 ? err : Promise.reject(err)),
      );
    }
    expect(limited).not.toBeNull();
    expectHttpError(limited!, 429, 'rate_limited');
  });
});
