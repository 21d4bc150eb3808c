/** An endpoint's payloadFilter through the API: stored, returned, changed, cleared, and refused with the bad part named. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type ApiHarness } from '../support/api.js';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi({ HERALD_ALLOW_HTTP: 'true' });
});
afterAll(async () => {
  await api.close();
});

const url = 'http://127.0.0.1:9/hook';

describe('payloadFilter on endpoints', () => {
  it('is stored and returned on create, kept by PATCH without it, replaced by PUT, cleared by null and by {}', async () => {
    const app = await api.makeApp();
    const filter = { total_pence: { $gte: 1000 }, 'customer.country': { $in: ['GB', 'IE'] } };
    const created = await api.call('POST', `/api/v1/app/${app.id}/endpoint`, { body: { url, payloadFilter: filter } });
    expect(created.status).toBe(201);
    expect(created.body.payloadFilter).toEqual(filter);
    const path = `/api/v1/app/${app.id}/endpoint/${created.body.id}`;
    expect((await api.call('GET', path)).body.payloadFilter).toEqual(filter);
    expect((await api.call('PATCH', path, { body: { description: 'renamed' } })).body.payloadFilter).toEqual(filter);
    expect((await api.call('PATCH', path, { body: { payloadFilter: { status: 'paid' } } })).body.payloadFilter).toEqual({ status: 'paid' });
    expect((await api.call('PUT', path, { body: { url } })).body.payloadFilter).toBeNull();
    expect((await api.call('PUT', path, { body: { url, payloadFilter: { a: 1 } } })).body.payloadFilter).toEqual({ a: 1 });
    expect((await api.call('PATCH', path, { body: { payloadFilter: null } })).body.payloadFilter).toBeNull();
    expect((await api.call('PATCH', path, { body: { payloadFilter: {} } })).body.payloadFilter).toBeNull();
    const list = await api.call('GET', `/api/v1/app/${app.id}/endpoint`);
    expect(list.body.data[0]).toHaveProperty('payloadFilter', null);
  });

  it('refuses an invalid filter with a 422 naming the bad part, with the other bad fields, and writes nothing', async () => {
    const app = await api.makeApp();
    const bad = await api.call('POST', `/api/v1/app/${app.id}/endpoint`, {
      body: { url: 'ftp://nope', payloadFilter: { total_pence: { $gte: '1000' }, 'customer.country': { $in: [] }, $or: [{ a: [1] }] } },
    });
    expect(bad.status).toBe(422);
    const locs = bad.body.detail.map((d: { loc: unknown[] }) => d.loc);
    expect(locs).toEqual(
      expect.arrayContaining([
        ['body', 'url'],
        ['body', 'payloadFilter', 'total_pence', '$gte'],
        ['body', 'payloadFilter', 'customer.country', '$in'],
        ['body', 'payloadFilter', '$or', 0, 'a'],
      ]),
    );
    expect(bad.body.detail.find((d: { loc: unknown[] }) => d.loc.at(-1) === '$gte').msg).toMatch(/must be a number/);
    expect((await api.call('GET', `/api/v1/app/${app.id}/endpoint`)).body.data).toEqual([]);
    const ep = await api.call('POST', `/api/v1/app/${app.id}/endpoint`, { body: { url } });
    const patch = await api.call('PATCH', `/api/v1/app/${app.id}/endpoint/${ep.body.id}`, { body: { payloadFilter: { $where: 'x' } } });
    expect(patch.status).toBe(422);
    expect(patch.body.detail[0]).toMatchObject({ loc: ['body', 'payloadFilter', '$where'], msg: expect.stringContaining('unknown operator') });
    expect((await api.call('POST', `/api/v1/app/${app.id}/endpoint`, { body: { url, payloadFilter: 'status=paid' } })).status).toBe(422);
  });

  it('delivers through the API only what matches', async () => {
    const app = await api.makeApp();
    const ep = await api.call('POST', `/api/v1/app/${app.id}/endpoint`, { body: { url, payloadFilter: { total_pence: { $gte: 1000 } } } });
    const send = async (payload: Record<string, unknown>) => {
      const res = await api.call('POST', `/api/v1/app/${app.id}/msg`, { body: { eventType: 'order.paid', payload } });
      expect(res.status).toBe(202);
      return (await api.call('GET', `/api/v1/app/${app.id}/msg/${res.body.id}/endpoint`)).body.data.map((d: { id: string }) => d.id);
    };
    expect(await send({ total_pence: 999 })).toEqual([]);
    expect(await send({ total_pence: 1000 })).toEqual([ep.body.id]);
  });
});
