/**
 * Every list route refuses a malformed `iterator` with a 422 naming `["query", "iterator"]`, never a
 * 500 and never a silently wrong page (issue 13). The routes come from the OpenAPI document the app
 * serves: every GET whose 200 answer is a `ListResponse_…`, so a list added later is walked too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type ApiHarness } from '../support/api.js';

let api: ApiHarness;
let lists: string[];
/** Values of the path parameters of the list routes: real rows, so a 404 cannot hide the answer. */
let params: Record<string, string>;

beforeAll(async () => {
  api = await startApi();
  const doc = (await api.call('GET', '/api/openapi.json', { token: null })).body;
  lists = Object.entries(doc.paths as Record<string, Record<string, any>>)
    .filter(([, item]) => String(item.get?.responses?.['200']?.content?.['application/json']?.schema?.$ref ?? '').includes('/ListResponse_'))
    .map(([path]) => path);
  const app = await api.makeApp();
  const ep = await api.call('POST', `/api/v1/app/${app.id}/endpoint`, { body: { url: 'http://127.0.0.1:9/hook' } });
  const et = await api.call('POST', '/api/v1/event-type', { body: { name: 'order.paid', description: 'paid' } });
  const msg = await api.call('POST', `/api/v1/app/${app.id}/msg`, { body: { eventType: 'order.paid', payload: { a: 1 } } });
  expect([ep.status, et.status, msg.status]).toEqual([201, 201, 202]);
  params = { app_id: app.id, endpoint_id: ep.body.id, msg_id: msg.body.id };
});
afterAll(async () => {
  await api.close();
});

/** The path with its `{param}`s filled in from {@link params}. */
function fill(path: string): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (!value) throw new Error(`no value for path parameter ${name} of ${path}: add one to the fixture`);
    return encodeURIComponent(value);
  });
}

/** Iterators no list ever returns; each must be a 422, whatever the list is keyed on. */
const MALFORMED: [string, string][] = [
  ['a NUL', '%00'],
  ['a NUL inside an id', 'app_%00abc'],
  ['a control character', '%01%1F'],
  ['invalid UTF-8', '%FF%FE'],
  ['a lone surrogate', '%ED%A0%80'],
  ['garbage', 'not%20a%20cursor!'],
  ['a "-" alone', '-'],
  ['too long', 'a'.repeat(300)],
];

describe('iterator query parameter', () => {
  it('finds the list routes in the OpenAPI document', () => {
    // The walk below is only as good as this list: the main lists must be in it.
    for (const p of ['/api/v1/app', '/api/v1/app/{app_id}/endpoint', '/api/v1/event-type', '/api/v1/app/{app_id}/msg', '/api/v1/api-key']) {
      expect(lists).toContain(p);
    }
    expect(lists.length).toBeGreaterThan(10);
  });

  for (const [what, raw] of MALFORMED) {
    it(`answers 422 at ["query", "iterator"] on every list for ${what}`, async () => {
      const answers: string[] = [];
      for (const path of lists) {
        const res = await api.call('GET', `${fill(path)}?iterator=${raw}`);
        // One item per problem (too long and bad characters are two), each at the iterator.
        const loc = Array.isArray(res.body?.detail) ? [...new Set(res.body.detail.map((d: { loc: unknown[] }) => d.loc.join('.')))] : res.body?.detail;
        answers.push(`${path} ${res.status} ${JSON.stringify(loc)}`);
      }
      expect(answers).toEqual(lists.map((path) => `${path} 422 ["query.iterator"]`));
    });
  }

  it('says what an iterator must be', async () => {
    const res = await api.call('GET', '/api/v1/app?iterator=ep_00000000000000000000000000');
    expect(res.status).toBe(422);
    expect(res.body.detail[0].msg).toMatch(/iterator or prevIterator \(a app_ id/);
    const nul = await api.call('GET', '/api/v1/event-type?iterator=a%00b');
    expect(nul.body).toMatchObject({ code: 'validation', detail: [{ loc: ['query', 'iterator'] }] });
  });

  it('still pages with the iterators a list returns, and ignores an empty one', async () => {
    for (let i = 0; i < 3; i++) await api.makeApp();
    const first = await api.call('GET', '/api/v1/app?limit=2');
    expect(first.status).toBe(200);
    const next = await api.call('GET', `/api/v1/app?limit=2&iterator=${first.body.iterator}`);
    expect(next.status).toBe(200);
    expect(next.body.data[0].id > first.body.data[1].id).toBe(true);
    const back = await api.call('GET', `/api/v1/app?limit=2&iterator=${next.body.prevIterator}`);
    expect(back.body.data.map((a: { id: string }) => a.id)).toEqual(first.body.data.map((a: { id: string }) => a.id));
    expect((await api.call('GET', '/api/v1/app?iterator=')).status).toBe(200);
    // Event types are keyed on their name: any well-formed name is a position, as in Svix.
    const types = await api.call('GET', '/api/v1/event-type?iterator=a.b');
    expect(types.status).toBe(200);
    expect(types.body.data.map((t: { name: string }) => t.name)).toEqual(['order.paid']);
  });
});
