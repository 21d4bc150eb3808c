/**
 * Event type schemas enforced: invalid schemas refused when saved, payloads checked at publish
 * (single, batch, library, send-example) against the newest version, the publisher's per-call opt-out,
 * the operator's switch, and validators following a schema change at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, publishMany } from '../../src/engine/publish.js';
import { startApi, type ApiHarness } from '../support/api.js';

let api: ApiHarness;
let off: ApiHarness;
beforeAll(async () => {
  [api, off] = await Promise.all([startApi(), startApi({ HERALD_SCHEMA_ENFORCEMENT: 'false' })]);
});
afterAll(async () => {
  await Promise.all([api.close(), off.close()]);
});

const orderSchema = {
  type: 'object',
  required: ['orderId', 'total_pence'],
  properties: {
    orderId: { type: 'string' },
    total_pence: { type: 'integer', minimum: 0 },
    customer: { $ref: '#/$defs/Customer' },
  },
  $defs: { Customer: { type: 'object', required: ['country'], properties: { country: { enum: ['GB', 'FR'] } } } },
};

async function makeType(h: ApiHarness, name: string, schemas: Record<string, unknown>) {
  const res = await h.call('POST', '/api/v1/event-type', { body: { name, description: name, schemas } });
  expect(res.status).toBe(201);
}

describe('saving schemas', () => {
  it('refuses an invalid schema on create, update, patch and import with a 422 naming the bad value', async () => {
    const bad = { '1': { type: 'object', properties: { total_pence: { type: 'integr' } } } };
    const created = await api.call('POST', '/api/v1/event-type', { body: { name: 'bad.schema', description: '', schemas: bad } });
    expect(created.status).toBe(422);
    expect(created.body.detail[0]).toMatchObject({ loc: ['body', 'schemas', '1', 'properties', 'total_pence', 'type'], msg: expect.stringContaining('allowed values') });
    const put = await api.call('PUT', '/api/v1/event-type/bad.schema', { body: { description: '', schemas: { '1': { $ref: '#/$defs/Nope' } } } });
    expect(put.status).toBe(422);
    expect(put.body.detail[0]).toMatchObject({ loc: ['body', 'schemas', '1'], msg: expect.stringContaining('cannot be compiled') });
    await makeType(api, 'good.schema', { '1': { type: 'object' } });
    const patch = await api.call('PATCH', '/api/v1/event-type/good.schema', { body: { schemas: { one: { type: 'object' } } } });
    expect(patch.status).toBe(422);
    expect(patch.body.detail[0].loc).toEqual(['body', 'schemas', 'one']);
    const draft7 = await api.call('PATCH', '/api/v1/event-type/good.schema', { body: { schemas: { '1': { $schema: 'http://json-schema.org/draft-07/schema#' } } } });
    expect(draft7.body.detail[0]).toMatchObject({ loc: ['body', 'schemas', '1', '$schema'], msg: expect.stringContaining('2020-12') });
    const spec = {
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      webhooks: { 'imported.bad': { post: { requestBody: { content: { 'application/json': { schema: { type: 'object', minProperties: -1 } } } } } } },
    };
    const imported = await api.call('POST', '/api/v1/event-type/import/openapi', { body: { spec } });
    expect(imported.status).toBe(422);
    expect(JSON.stringify(imported.body.detail)).toContain('imported.bad');
    expect((await api.call('GET', '/api/v1/event-type/imported.bad')).status).toBe(404);
  });
});

describe('publishing against a schema', () => {
  it('refuses a payload that does not match with a 422 naming the failing path, and accepts one that does', async () => {
    await makeType(api, 'order.paid', { '1': { type: 'object', required: ['old'] }, '2': orderSchema });
    const app = await api.makeApp();
    const url = `/api/v1/app/${app.id}/msg`;
    const good = await api.call('POST', url, { body: { eventType: 'order.paid', payload: { orderId: 'o_1', total_pence: 1200, customer: { country: 'GB' } } } });
    expect(good.status).toBe(202);
    const missing = await api.call('POST', url, { body: { eventType: 'order.paid', payload: { orderId: 'o_1' } } });
    expect(missing.status).toBe(422);
    expect(missing.body.detail).toEqual([{ loc: ['body', 'payload', 'total_pence'], msg: "is required (must have required property 'total_pence')", type: 'value_error' }]);
    const several = await api.call('POST', url, { body: { eventType: 'order.paid', payload: { orderId: 1, total_pence: -5, customer: { country: 'DE' } } } });
    expect(several.body.detail).toEqual(
      expect.arrayContaining([
        { loc: ['body', 'payload', 'orderId'], msg: 'must be string', type: 'value_error' },
        { loc: ['body', 'payload', 'total_pence'], msg: 'must be >= 0', type: 'value_error' },
        { loc: ['body', 'payload', 'customer', 'country'], msg: 'must be equal to one of the allowed values: "GB", "FR"', type: 'value_error' },
      ]),
    );
    expect(several.body.detail).toHaveLength(3);
    // Types without a schema, and unknown types, are not checked.
    expect((await api.call('POST', url, { body: { eventType: 'no.schema', payload: { anything: true } } })).status).toBe(202);
    // Nothing was stored for the refused ones.
    const list = await api.call('GET', `${url}?event_types=order.paid`);
    expect(list.body.data).toHaveLength(1);
  });

  it('opts out for one call with ?validate_schema=false', async () => {
    await makeType(api, 'optout.type', { '1': orderSchema });
    const app = await api.makeApp();
    const body = { eventType: 'optout.type', payload: { orderId: 'o_1' } };
    expect((await api.call('POST', `/api/v1/app/${app.id}/msg`, { body })).status).toBe(422);
    expect((await api.call('POST', `/api/v1/app/${app.id}/msg?validate_schema=false`, { body })).status).toBe(202);
    const batch = await api.call('POST', `/api/v1/app/${app.id}/msg/batch?validate_schema=false`, { body: { messages: [body] } });
    expect(batch.body.data[0].status).toBe(202);
  });

  it('answers per message in a batch: one bad payload never fails the others', async () => {
    await makeType(api, 'batch.type', { '1': orderSchema });
    const app = await api.makeApp();
    const res = await api.call('POST', `/api/v1/app/${app.id}/msg/batch`, {
      body: {
        messages: [
          { eventType: 'batch.type', payload: { orderId: 'a', total_pence: 1 } },
          { eventType: 'batch.type', payload: { orderId: 'b', total_pence: 'ten' } },
          { eventType: 'batch.type', payload: { orderId: 'c', total_pence: 3 } },
        ],
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.data.map((r: { status: number }) => r.status)).toEqual([202, 422, 202]);
    expect(res.body.data[1].error.detail).toEqual([{ loc: ['body', 'messages', 1, 'payload', 'total_pence'], msg: 'must be integer', type: 'value_error' }]);
  });

  it('follows a schema change at once, and a removed schema stops being enforced', async () => {
    await makeType(api, 'change.type', { '1': { type: 'object', required: ['a'] } });
    const app = await api.makeApp();
    const send = (payload: Record<string, unknown>) => api.call('POST', `/api/v1/app/${app.id}/msg`, { body: { eventType: 'change.type', payload } });
    expect((await send({ a: 1 })).status).toBe(202);
    expect((await send({ b: 1 })).status).toBe(422);
    expect((await api.call('PATCH', '/api/v1/event-type/change.type', { body: { schemas: { '1': { type: 'object', required: ['a'] }, '2': { type: 'object', required: ['b'] } } } })).status).toBe(200);
    expect((await send({ a: 1 })).status).toBe(422);
    expect((await send({ b: 1 })).status).toBe(202);
    expect((await api.call('PATCH', '/api/v1/event-type/change.type', { body: { schemas: null } })).status).toBe(200);
    expect((await send({ c: 1 })).status).toBe(202);
  });

  it('applies to the library publish, with its own opt-out, and names the index inside publishMany', async () => {
    await makeType(api, 'lib.type', { '1': orderSchema });
    const app = await api.makeApp();
    const pool = api.t.herald.pool;
    await expect(publish(pool, app.id, { eventType: 'lib.type', payload: { orderId: 'x' } })).rejects.toMatchObject({
      code: 'validation',
      fields: [{ path: 'payload.total_pence' }],
    });
    await expect(publishMany(pool, app.id, [{ eventType: 'lib.type', payload: { orderId: 'x', total_pence: 1 } }, { eventType: 'lib.type', payload: {} }])).rejects.toMatchObject({
      fields: [{ path: '[1].payload.orderId' }, { path: '[1].payload.total_pence' }],
    });
    expect((await publish(pool, app.id, { eventType: 'lib.type', payload: {}, validateSchema: false })).deliveries).toBe(0);
    expect((await publish(pool, app.id, { eventType: 'lib.type', payload: {} }, { enforceSchemas: false })).duplicate).toBe(false);
  });

  it('is off everywhere with HERALD_SCHEMA_ENFORCEMENT=false', async () => {
    await makeType(off, 'order.paid', { '1': orderSchema });
    const app = await off.makeApp();
    expect((await off.call('POST', `/api/v1/app/${app.id}/msg`, { body: { eventType: 'order.paid', payload: { nothing: 1 } } })).status).toBe(202);
    // Saving an invalid schema is still refused: the switch is about payloads.
    expect((await off.call('POST', '/api/v1/event-type', { body: { name: 'x.y', description: '', schemas: { '1': { type: 7 } } } })).status).toBe(422);
  });
});

describe('send-example against a schema', () => {
  it('sends an example built from the schema, which passes the check; refuses one the sampler cannot make match', async () => {
    await makeType(api, 'sample.type', { '1': orderSchema });
    await makeType(api, 'unsampled.type', { '1': { type: 'object', required: ['n'], properties: { n: { type: 'integer', exclusiveMinimum: 10, multipleOf: 7 } } } });
    const app = await api.makeApp();
    const ep = await api.call('POST', `/api/v1/app/${app.id}/endpoint`, { body: { url: 'http://127.0.0.1:9/never' } });
    const url = `/api/v1/app/${app.id}/endpoint/${ep.body.id}/send-example`;
    const sent = await api.call('POST', url, { body: { eventType: 'sample.type' } });
    expect(sent.status).toBe(202);
    expect(sent.body.payload).toMatchObject({ orderId: expect.any(String), total_pence: 0, customer: { country: 'GB' } });
    const refused = await api.call('POST', url, { body: { eventType: 'unsampled.type' } });
    expect(refused.status).toBe(422);
    expect(refused.body.detail[0]).toMatchObject({ loc: ['body', 'eventType'], msg: expect.stringContaining('add a matching "examples" entry') });
  });
});
