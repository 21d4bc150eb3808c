/**
 * Debounced event types through the API: the `debounce` settings (defaults, 422s, patch), the message
 * view (debounceState, consolidatedInto, consolidates), and once end to end: the real worker and
 * flusher on their timers, a real receiver, the consolidated payload arriving signed while a type
 * that is not debounced goes out at once.
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type ApiHarness } from '../support/api.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

let api: ApiHarness;
let rx: Receiver;
beforeAll(async () => {
  api = await startApi();
  rx = await startReceiver();
});
afterAll(async () => {
  await rx?.close();
  await api?.close();
});

const SECOND = 1_000;

describe('debounce settings', () => {
  it('fills the defaults, returns them, and clears them with null', async () => {
    const res = await api.call('POST', '/api/v1/event-type', { body: { name: 'agent.status.changed', debounce: { entityKey: '/agentId' } } });
    expect(res.status).toBe(201);
    expect(res.body.debounce).toEqual({ quietPeriodSeconds: 60, maxDelaySeconds: 600, groupBy: null, entityKey: '/agentId', state: null });
    const patched = await api.call('PATCH', '/api/v1/event-type/agent.status.changed', { body: { debounce: { groupBy: '/agencyId', entityKey: '/agentId', state: '/status', quietPeriodSeconds: 5 } } });
    expect(patched.body.debounce).toEqual({ quietPeriodSeconds: 5, maxDelaySeconds: 600, groupBy: '/agencyId', entityKey: '/agentId', state: '/status' });
    const kept = await api.call('PATCH', '/api/v1/event-type/agent.status.changed', { body: { description: 'Agent status' } });
    expect(kept.body.debounce.state).toBe('/status');
    const cleared = await api.call('PUT', '/api/v1/event-type/agent.status.changed', { body: { description: 'x', debounce: null } });
    expect(cleared.body.debounce).toBeNull();
    const plain = await api.call('GET', '/api/v1/event-type/agent.status.changed');
    expect(plain.body.debounce).toBeNull();
  });

  it.each([
    [{ entityKey: 'agentId' }, 'entityKey', /JSON pointer \(RFC 6901\)/],
    [{ entityKey: '' }, 'entityKey', /JSON pointer/],
    [{ entityKey: '/a', groupBy: '/x~2' }, 'groupBy', /JSON pointer/],
    [{ entityKey: '/a', state: 'status' }, 'state', /JSON pointer/],
    [{}, 'entityKey', /./],
    [{ entityKey: '/a', quietPeriodSeconds: 0 }, 'quietPeriodSeconds', /./],
    [{ entityKey: '/a', quietPeriodSeconds: 1.5 }, 'quietPeriodSeconds', /./],
    [{ entityKey: '/a', quietPeriodSeconds: 120, maxDelaySeconds: 60 }, 'maxDelaySeconds', /at least quietPeriodSeconds/],
    [{ entityKey: '/a', maxDelaySeconds: 10_000_000 }, 'maxDelaySeconds', /./],
  ])('refuses %j with a 422 naming debounce.%s', async (debounce, field, message) => {
    const res = await api.call('POST', '/api/v1/event-type', { body: { name: 'bad.debounce', debounce } });
    expect(res.status).toBe(422);
    expect(res.body.detail).toEqual(expect.arrayContaining([expect.objectContaining({ loc: ['body', 'debounce', field], msg: expect.stringMatching(message) })]));
  });
});

describe('end to end', () => {
  it('delivers one signed consolidated message after the quiet period, and other types at once', { timeout: 30_000 }, async () => {
    const { t } = api;
    const worker = t.herald.createWorker();
    const flusher = t.herald.createDebounceFlusher({ maxSleepMs: 20 });
    await worker.start();
    flusher.start();
    try {
      expect(
        (await api.call('POST', '/api/v1/event-type', {
          body: { name: 'agency.compliance.changed', debounce: { groupBy: '/agencyId', entityKey: '/agentId', state: '/states', quietPeriodSeconds: 60 } },
        })).status,
      ).toBe(201);
      expect((await api.call('POST', '/api/v1/event-type', { body: { name: 'producer.agreement.executed' } })).status).toBe(201);
      const app = await api.makeApp();
      const ep = await api.call('POST', `/api/v1/app/${app.id}/endpoint`, { body: { url: `${rx.url}/hook` } });
      expect(ep.status).toBe(201);
      const secret = (await api.call('GET', `/api/v1/app/${app.id}/endpoint/${ep.body.id}/secret`)).body.key as string;

      const publish = (eventType: string, payload: Record<string, unknown>) => api.call('POST', `/api/v1/app/${app.id}/msg`, { body: { eventType, payload } });
      const a = await publish('agency.compliance.changed', { agencyId: 'ag_9', agentId: 'agent_1', states: { CA: 'pending', NY: 'compliant' } });
      expect(a.status).toBe(202);
      expect(a.body).toMatchObject({ debounceState: 'waiting', consolidatedInto: null });
      t.clock.advance(10 * SECOND);
      const b = await publish('agency.compliance.changed', { agencyId: 'ag_9', agentId: 'agent_1', states: { CA: 'compliant', NY: 'compliant' } });
      const plain = await publish('producer.agreement.executed', { agreementId: 'pa_1' });
      expect(plain.status).toBe(202);

      // The type that is not debounced arrives at once; the debounced one waits for the fake clock.
      const [first] = await rx.waitFor(1);
      expect(first!.headers['webhook-id']).toBe(plain.body.id);
      expect((await api.call('GET', `/api/v1/app/${app.id}/msg/${b.body.id}`)).body.debounceState).toBe('waiting');

      t.clock.advance(60 * SECOND);
      const [, second] = await rx.waitFor(2);
      const body = new Webhook(secret).verify(second!.body.toString(), second!.headers as Record<string, string>) as Record<string, unknown>;
      expect(body).toMatchObject({
        type: 'agency.compliance.changed',
        group: 'ag_9',
        entities: [{ key: 'agent_1', changes: { CA: 'compliant', NY: 'compliant' } }],
        consolidates: [a.body.id, b.body.id],
      });
      const consolidatedId = second!.headers['webhook-id'] as string;
      const view = await api.call('GET', `/api/v1/app/${app.id}/msg/${consolidatedId}`);
      expect(view.body).toMatchObject({ eventType: 'agency.compliance.changed', consolidates: [a.body.id, b.body.id], debounceState: null });
      const list = await api.call('GET', `/api/v1/app/${app.id}/msg?with_content=false`);
      const states = Object.fromEntries(list.body.data.map((m: { id: string; debounceState: string | null; consolidatedInto: string | null }) => [m.id, [m.debounceState, m.consolidatedInto]]));
      expect(states).toEqual({
        [a.body.id]: ['consolidated', consolidatedId],
        [b.body.id]: ['consolidated', consolidatedId],
        [plain.body.id]: [null, null],
        [consolidatedId]: [null, null],
      });
      expect(rx.requests).toHaveLength(2);
    } finally {
      await flusher.stop();
      await worker.stop();
    }
  });
});
