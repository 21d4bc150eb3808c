/**
 * Names and labels a dashboard shows refuse control, bidirectional and zero-width characters, with a
 * 422 whose `loc` names the field and whose message names the code point (issue 13): otherwise one
 * customer's endpoint can be labelled to read as another's ("billing\u200B", "gpj.\u202Eexe").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type ApiHarness } from '../support/api.js';

let api: ApiHarness;
let appId: string;
let endpointId: string;
beforeAll(async () => {
  api = await startApi();
  appId = (await api.makeApp()).id;
  endpointId = (await api.call('POST', `/api/v1/app/${appId}/endpoint`, { body: { url: 'https://a.example.com/hook' } })).body.id;
  await api.call('POST', '/api/v1/event-type', { body: { name: 'order.paid', description: 'An order was paid' } });
});
afterAll(async () => {
  await api.close();
});

/** Every refused kind, with the code point the message must name. */
const CHARACTERS: [string, string][] = [
  ['\u202E', 'U+202E'], // right-to-left override
  ['\u202A', 'U+202A'], // left-to-right embedding
  ['\u2066', 'U+2066'], // left-to-right isolate
  ['\u2069', 'U+2069'], // pop directional isolate
  ['\u200E', 'U+200E'], // left-to-right mark
  ['\u200F', 'U+200F'], // right-to-left mark
  ['\u061C', 'U+061C'], // Arabic letter mark
  ['\u200B', 'U+200B'], // zero-width space
  ['\u200D', 'U+200D'], // zero-width joiner
  ['\u2060', 'U+2060'], // word joiner
  ['\uFEFF', 'U+FEFF'], // zero-width no-break space
  ['\u0007', 'U+0007'], // bell (C0)
  ['\u009B', 'U+009B'], // control sequence introducer (C1)
];

/** Where each name lives: a request that carries `value` in that field, and the field's `loc`. */
const FIELDS: { label: string; method: string; url: () => string; body: (value: string) => unknown; loc: (string | number)[] }[] = [
  { label: 'application name', method: 'POST', url: () => '/api/v1/app', body: (v) => ({ name: `Acme${v}` }), loc: ['body', 'name'] },
  { label: 'application uid', method: 'POST', url: () => '/api/v1/app', body: (v) => ({ name: 'Acme', uid: `acme${v}` }), loc: ['body', 'uid'] },
  { label: 'application rename', method: 'PATCH', url: () => `/api/v1/app/${appId}`, body: (v) => ({ name: `Acme${v}` }), loc: ['body', 'name'] },
  { label: 'endpoint description', method: 'POST', url: () => `/api/v1/app/${appId}/endpoint`, body: (v) => ({ url: 'https://b.example.com', description: `billing${v}` }), loc: ['body', 'description'] },
  { label: 'endpoint uid', method: 'POST', url: () => `/api/v1/app/${appId}/endpoint`, body: (v) => ({ url: 'https://b.example.com', uid: `ep${v}1` }), loc: ['body', 'uid'] },
  { label: 'endpoint filter type', method: 'POST', url: () => `/api/v1/app/${appId}/endpoint`, body: (v) => ({ url: 'https://b.example.com', filterTypes: [`order${v}.paid`] }), loc: ['body', 'filterTypes', 0] },
  { label: 'endpoint channel', method: 'POST', url: () => `/api/v1/app/${appId}/endpoint`, body: (v) => ({ url: 'https://b.example.com', channels: [`eu${v}`] }), loc: ['body', 'channels', 0] },
  { label: 'endpoint description edit', method: 'PATCH', url: () => `/api/v1/app/${appId}/endpoint/${endpointId}`, body: (v) => ({ description: `${v}billing` }), loc: ['body', 'description'] },
  { label: 'metadata key', method: 'POST', url: () => '/api/v1/app', body: (v) => ({ name: 'Acme', metadata: { [`team${v}`]: 'x' } }), loc: ['body', 'metadata', `team`] },
  { label: 'event type name', method: 'POST', url: () => '/api/v1/event-type', body: (v) => ({ name: `order${v}.refunded`, description: '' }), loc: ['body', 'name'] },
  { label: 'event type description', method: 'POST', url: () => '/api/v1/event-type', body: (v) => ({ name: 'order.shipped', description: `Shipped${v}` }), loc: ['body', 'description'] },
  { label: 'event type group', method: 'POST', url: () => '/api/v1/event-type', body: (v) => ({ name: 'order.held', description: '', groupName: `orders${v}` }), loc: ['body', 'groupName'] },
  { label: 'message channel', method: 'POST', url: () => `/api/v1/app/${appId}/msg`, body: (v) => ({ eventType: 'order.paid', payload: {}, channels: [`eu${v}`] }), loc: ['body', 'channels', 0] },
  { label: 'message tag', method: 'POST', url: () => `/api/v1/app/${appId}/msg`, body: (v) => ({ eventType: 'order.paid', payload: {}, tags: [`vip${v}`] }), loc: ['body', 'tags', 0] },
  { label: 'API key name', method: 'POST', url: () => '/api/v1/api-key', body: (v) => ({ name: `ci${v}`, permissions: ['read'] }), loc: ['body', 'name'] },
];

describe('names refuse invisible and reordering characters', () => {
  it('answers 422 naming the field and the code point, for every name field and every refused character', async () => {
    const wrong: string[] = [];
    for (const f of FIELDS) {
      for (const [ch, codePoint] of CHARACTERS) {
        const res = await api.call(f.method, f.url(), { body: f.body(ch) });
        const item = res.status === 422 ? (res.body.detail as { loc: unknown[]; msg: string }[]).find((d) => d.msg.includes(codePoint)) : undefined;
        // A metadata key's loc ends with the key itself, which holds the character.
        const loc = item ? item.loc.map((l) => (typeof l === 'string' ? l.replace(ch, '') : l)) : null;
        if (res.status !== 422 || !item || JSON.stringify(loc) !== JSON.stringify(f.loc)) {
          wrong.push(`${f.label} with ${codePoint}: ${res.status} ${JSON.stringify(res.body)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('says which kind of character it is and why it is refused', async () => {
    const res = await api.call('POST', '/api/v1/app', { body: { name: 'gpj.\u202Eexe' } });
    expect(res.body.detail[0].msg).toBe(
      'must not contain U+202E (a bidirectional control character): control, bidirectional and zero-width characters can make one name look like another',
    );
    const zw = await api.call('POST', '/api/v1/app', { body: { name: 'billing\u200B' } });
    expect(zw.body.detail[0].msg).toMatch(/^must not contain U\+200B \(a zero-width character\)/);
  });

  it('keeps accepting ordinary text in any script, emoji included', async () => {
    for (const name of ['Café Müller', '東京ストア', 'متجر', 'Shop 🛒', 'O’Brien & Sons — EU']) {
      const res = await api.call('POST', '/api/v1/app', { body: { name } });
      expect({ name, status: res.status }).toEqual({ name, status: 201 });
      expect(res.body.name).toBe(name);
    }
    const ep = await api.call('POST', `/api/v1/app/${appId}/endpoint`, { body: { url: 'https://c.example.com', description: 'Facturación 📦' } });
    expect(ep.status).toBe(201);
  });
});
