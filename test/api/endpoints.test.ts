import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/core/signing.js';
import { publish } from '../../src/engine/publish.js';
import { disableEndpoints } from '../../src/store/endpoints.js';
import { startApi, type ApiHarness } from '../support/api.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

let api: ApiHarness;
let appId: string;
beforeAll(async () => {
  api = await startApi();
  appId = (await api.makeApp({ uid: 'ep-tests' })).id;
  for (const name of ['order.paid', 'order.refunded', 'user.created']) {
    await api.call('POST', '/api/v1/event-type', { body: { name, description: name } });
  }
});
afterAll(async () => {
  await api.close();
});

const base = () => `/api/v1/app/${appId}/endpoint`;
const create = (body: Record<string, unknown>) => api.call('POST', base(), { body: { url: 'https://hooks.example.com/in', ...body } });

describe('endpoints', () => {
  it('creates an endpoint with every Svix field and answers EndpointOut plus Herald extras', async () => {
    const res = await create({
      description: 'Billing',
      filterTypes: ['order.paid', 'order.*'],
      channels: ['project_1'],
      uid: 'billing',
      metadata: { team: 'payments' },
      rateLimit: 20,
      headers: { 'X-Tenant': 'acme' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      url: 'https://hooks.example.com/in',
      description: 'Billing',
      filterTypes: ['order.paid', 'order.*'],
      eventTypes: ['order.paid', 'order.*'],
      channels: ['project_1'],
      uid: 'billing',
      metadata: { team: 'payments' },
      rateLimit: 20,
      throttleRate: 20,
      version: 1,
      disabled: false,
      disabledBy: null,
      disabledReason: null,
      lastDelivery: null,
    });
    expect(res.body.id).toMatch(/^ep_/);
    expect(res.body.secret).toMatch(/^whsec_/);
    expect(res.body.secretHint).toBe(res.body.secret.slice(-4));
    const got = await api.call('GET', `${base()}/billing`);
    expect(got.body.id).toBe(res.body.id);
    expect(got.body.secret).toBeUndefined();
    expect((await api.call('GET', `${base()}/${res.body.id}/headers`)).body).toEqual({ headers: { 'x-tenant': 'acme' }, sensitive: [] });
  });

  it('accepts a given secret (with or without whsec_) and rejects a malformed one', async () => {
    const raw = Buffer.alloc(32, 7).toString('base64');
    const res = await create({ secret: raw });
    expect(res.body.secret).toBe(`whsec_${raw}`);
    const bad = await create({ secret: 'whsec_tooshort' });
    expect(bad.status).toBe(422);
    expect(bad.body.detail[0].loc).toEqual(['body', 'secret']);
  });

  it('refuses filters naming event types that do not exist, listing them; wildcards are fine', async () => {
    const res = await create({ filterTypes: ['order.paid', 'order.shipped', 'nope.x', 'user.*'] });
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body.detail)).toContain('nope.x, order.shipped');
    expect((await create({ eventTypes: ['user.created'] })).body.filterTypes).toEqual(['user.created']);
    expect((await create({ filterTypes: [] })).body.filterTypes).toBeNull();
  });

  it('409s on a duplicate uid within the application', async () => {
    await create({ uid: 'same-uid' });
    const again = await create({ uid: 'same-uid' });
    expect(again.status).toBe(409);
  });

  it('lists endpoints of the application, paginated', async () => {
    const fresh = (await api.makeApp()).id;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++, api.t.clock.advance(1)) {
      ids.push((await api.call('POST', `/api/v1/app/${fresh}/endpoint`, { body: { url: `https://h.example.com/${i}` } })).body.id);
    }
    const p1 = await api.call('GET', `/api/v1/app/${fresh}/endpoint?limit=2`);
    expect(p1.body.data.map((e: { id: string }) => e.id)).toEqual(ids.slice(0, 2));
    expect(p1.body.data[0].secret).toBeUndefined();
    const p2 = await api.call('GET', `/api/v1/app/${fresh}/endpoint?limit=2&iterator=${p1.body.iterator}`);
    expect(p2.body).toMatchObject({ done: true });
    expect(p2.body.data.map((e: { id: string }) => e.id)).toEqual(ids.slice(2));
  });

  it('PUT replaces settings but keeps headers and secret; PUT creates a missing endpoint', async () => {
    const ep = (await create({ description: 'old', headers: { 'x-a': '1' }, metadata: { m: '1' } })).body;
    const res = await api.call('PUT', `${base()}/${ep.id}`, { body: { url: 'https://new.example.com/hook', description: 'new' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ url: 'https://new.example.com/hook', description: 'new', metadata: {}, secretHint: ep.secretHint });
    expect((await api.call('GET', `${base()}/${ep.id}/headers`)).body.headers).toEqual({ 'x-a': '1' });
    const made = await api.call('PUT', `${base()}/put-created`, { body: { url: 'https://p.example.com' } });
    expect(made.status).toBe(201);
    expect(made.body.uid).toBe('put-created');
  });

  it('PATCH changes only what is given; disabling records the user, enabling clears the failure run', async () => {
    const ep = (await create({ description: 'keep me', filterTypes: ['order.paid'] })).body;
    const off = await api.call('PATCH', `${base()}/${ep.id}`, { body: { disabled: true } });
    expect(off.body).toMatchObject({ disabled: true, disabledBy: 'user', description: 'keep me', filterTypes: ['order.paid'] });
    expect(off.body.disabledAt).not.toBeNull();
    const cleared = await api.call('PATCH', `${base()}/${ep.id}`, { body: { filterTypes: null, disabled: false } });
    expect(cleared.body).toMatchObject({ disabled: false, disabledBy: null, disabledAt: null, filterTypes: null });

    // Auto-disabled after failures: enabling starts the count again.
    await api.t.herald.pool.query('update endpoint set consecutive_failures = 12, first_failure_at = now() where id = $1', [ep.id]);
    await disableEndpoints(api.t.herald.pool, [{ endpointId: ep.id, reason: 'failing for 2 h' }], 'auto', api.t.clock.now());
    expect((await api.call('GET', `${base()}/${ep.id}`)).body).toMatchObject({ disabled: true, disabledBy: 'auto', disabledReason: 'failing for 2 h' });
    await api.call('PATCH', `${base()}/${ep.id}`, { body: { disabled: false } });
    const { rows } = await api.t.herald.pool.query('select consecutive_failures, first_failure_at from endpoint where id = $1', [ep.id]);
    expect(rows[0]).toEqual({ consecutive_failures: 0, first_failure_at: null });
  });

  it('deletes an endpoint', async () => {
    const ep = (await create({})).body;
    expect((await api.call('DELETE', `${base()}/${ep.id}`)).status).toBe(204);
    expect((await api.call('GET', `${base()}/${ep.id}`)).status).toBe(404);
    expect((await api.call('DELETE', `${base()}/${ep.id}`)).status).toBe(404);
  });
});

describe('secrets', () => {
  it('reads the secret, rotates with a grace period (both sign), with grace 0, and to a given key', async () => {
    const ep = (await create({})).body;
    const first = (await api.call('GET', `${base()}/${ep.id}/secret`)).body.key;
    expect(first).toBe(ep.secret);

    expect((await api.call('POST', `${base()}/${ep.id}/secret/rotate`, { body: {} })).status).toBe(204);
    const second = (await api.call('GET', `${base()}/${ep.id}/secret`)).body.key;
    expect(second).not.toBe(first);
    const { rows } = await api.t.herald.pool.query('select expires_at from endpoint_secret where endpoint_id = $1 order by id', [ep.id]);
    expect(rows.map((r: { expires_at: Date | null }) => r.expires_at && r.expires_at.getTime() - api.t.clock.now().getTime())).toEqual([86_400_000, null]);
    expect((await api.call('GET', `${base()}/${ep.id}`)).body.secretHint).toBe(second.slice(-4));

    const given = `whsec_${Buffer.alloc(24, 9).toString('base64')}`;
    await api.call('POST', `${base()}/${ep.id}/secret/rotate`, { body: { key: given, gracePeriodSeconds: 0 } });
    expect((await api.call('GET', `${base()}/${ep.id}/secret`)).body.key).toBe(given);
    const live = await api.t.herald.pool.query('select count(*)::int as n from endpoint_secret where endpoint_id = $1 and (expires_at is null or expires_at > $2)', [
      ep.id,
      api.t.clock.now(),
    ]);
    expect(live.rows[0].n).toBe(1);
    expect((await api.call('POST', `${base()}/${ep.id}/secret/rotate`, { body: { gracePeriodSeconds: 604_801 } })).status).toBe(422);
  });

  it('hides sensitive custom header values and supports PUT and PATCH of headers', async () => {
    const ep = (await create({})).body;
    const put = await api.call('PUT', `${base()}/${ep.id}/headers`, { body: { headers: { Authorization: 'Bearer s3cret', 'X-Env': 'prod', 'X-Api-Key': 'k' } } });
    expect(put.status).toBe(204);
    const got = (await api.call('GET', `${base()}/${ep.id}/headers`)).body;
    expect(got).toEqual({ headers: { 'x-env': 'prod' }, sensitive: ['authorization', 'x-api-key'] });
    expect(JSON.stringify(got)).not.toContain('s3cret');
    await api.call('PATCH', `${base()}/${ep.id}/headers`, { body: { headers: { 'X-Env': 'staging', 'x-api-key': null, 'X-New': 'n' }, deleteHeaders: ['Authorization'] } });
    expect((await api.call('GET', `${base()}/${ep.id}/headers`)).body).toEqual({ headers: { 'x-env': 'staging', 'x-new': 'n' }, sensitive: [] });
  });
});

describe('last delivery', () => {
  let rx: Receiver | undefined;
  afterEach(async () => {
    await rx?.close();
  });

  it('shows the latest attempt of an endpoint', async () => {
    rx = await startReceiver();
    const ep = (await create({ url: `${rx.url}/hook` })).body;
    const worker = api.t.herald.createWorker();
    await worker.start();
    try {
      await publish(api.t.herald.pool, appId, { eventType: 'order.paid', payload: { n: 1 } }, { now: api.t.clock.now() });
      const [req] = await rx.waitFor(1);
      expect(verifySignature({ secrets: [ep.secret], headers: req!.headers, body: req!.body, nowSeconds: Math.floor(api.t.clock.now().getTime() / 1000) }).ok).toBe(true);
      let out;
      for (let i = 0; i < 100 && !out?.lastDelivery; i++) {
        out = (await api.call('GET', `${base()}/${ep.id}`)).body;
        if (!out.lastDelivery) await new Promise((r) => setTimeout(r, 20));
      }
      expect(out.lastDelivery).toEqual({ at: api.t.clock.now().toISOString(), succeeded: true });
    } finally {
      await worker.stop();
    }
  });
});
