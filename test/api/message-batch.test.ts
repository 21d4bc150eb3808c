/**
 * Batch publish (Herald extension): one request, one result per message, in order; a message the
 * single publish would refuse is refused on its own with the same error, and the others are stored
 * and delivered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { startApi, type ApiHarness } from '../support/api.js';

let api: ApiHarness;
let rx: Receiver;
beforeAll(async () => {
  api = await startApi({ HERALD_MAX_PAYLOAD_BYTES: '200' });
  rx = await startReceiver();
});
afterAll(async () => {
  await rx.close();
  await api.close();
});

describe('POST /api/v1/app/{app_id}/msg/batch', () => {
  it('stores the good messages and refuses each bad one with its own error', async () => {
    const app = await api.makeApp();
    expect((await api.call('POST', `/api/v1/app/${app.id}/endpoint`, { body: { url: `${rx.url}/batch` } })).status).toBe(201);
    const first = await api.call('POST', `/api/v1/app/${app.id}/msg`, { body: { eventType: 'order.paid', eventId: 'evt-1', payload: { n: 1 } } });
    expect(first.status).toBe(202);

    const res = await api.call('POST', `/api/v1/app/${app.id}/msg/batch`, {
      body: {
        messages: [
          { eventType: 'order.paid', payload: { n: 2 } },
          { eventType: 'not a type!', payload: {} },
          { eventType: 'order.paid', payload: { big: 'x'.repeat(500) } },
          { eventType: 'order.paid', eventId: 'evt-1', payload: { n: 'other' } },
          { eventType: 'order.paid', eventId: 'evt-1', payload: { n: 1 } },
          { eventType: 'order.paid', payload: { n: 3 }, channels: ['eu'] },
        ],
      },
    });
    expect(res.status).toBe(200);
    const data = res.body.data as { status: number; message: { id: string; channels: string[] | null } | null; error: { code: string; detail: unknown } | null }[];
    expect(data.map((d) => d.status)).toEqual([202, 422, 413, 409, 202, 202]);
    expect(data[1]!.error).toMatchObject({ code: 'validation', detail: [expect.objectContaining({ loc: ['body', 'messages', 1, 'eventType'] })] });
    expect(data[2]!.error!.code).toBe('payload_too_large');
    expect(data[3]!.error!.code).toBe('conflict');
    expect(data[4]!.message!.id).toBe(first.body.id); // the same event again: the first message, nothing sent
    expect(data[5]!.message!.channels).toEqual(['eu']);

    await api.t.herald.createWorker().drain();
    const bodies = rx.requests.map((r) => JSON.parse(r.body.toString()));
    expect(bodies).toEqual(expect.arrayContaining([{ n: 1 }, { n: 2 }, { n: 3 }]));
    expect(bodies).toHaveLength(3);
  });

  it('refuses more than 1,000 messages, or none, as a whole', async () => {
    const app = await api.makeApp();
    const many = Array.from({ length: 1001 }, () => ({ eventType: 'a.b', payload: {} }));
    expect((await api.call('POST', `/api/v1/app/${app.id}/msg/batch`, { body: { messages: many } })).status).toBe(422);
    expect((await api.call('POST', `/api/v1/app/${app.id}/msg/batch`, { body: { messages: [] } })).status).toBe(422);
  });
});
