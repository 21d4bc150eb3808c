import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/engine/auth-tokens.js';
import { eventually, startLogFixture, type LogFixture } from './log-fixtures.js';

let f: LogFixture;
beforeAll(async () => {
  f = await startLogFixture();
});
afterAll(async () => {
  await f.close();
});

/** A port nothing listens on: connecting fails at once with ECONNREFUSED. */
async function closedPort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function publish(appId: string, body: Record<string, unknown>): Promise<{ id: string; timestamp: string }> {
  const res = await f.call('POST', `/api/v1/app/${appId}/msg`, body);
  expect(res.status).toBe(202);
  return res.body;
}

/** Attempts of a message, once at least `n` exist. */
function attemptsOf(appId: string, msgId: string, n: number, query = '') {
  return eventually(async () => {
    const res = await f.call('GET', `/api/v1/app/${appId}/attempt/msg/${msgId}${query}`);
    return res.body.data.length >= n ? (res.body.data as any[]) : undefined;
  }, `${n} attempts of ${msgId}`);
}

describe('attempt lists and the attempt detail', () => {
  it('shows status code, response body, headers and error for a receiver that answers 500, newest first', async () => {
    const app = await f.makeApp();
    const ep = await f.makeEndpoint(app.id, { path: '/fails', headers: { authorization: 'Bearer receiver-secret', 'x-team': 'billing' } });
    f.rx.respondWith((req) =>
      req.path === '/fails' ? { status: 500, headers: { 'x-trace': 't1' }, body: 'boom, "quoted"' } : { status: 200 },
    );
    const msg = await publish(app.id, { eventType: 'order.paid', payload: { amount: 5 } });
    const attempts = await attemptsOf(app.id, msg.id, 2);
    expect(attempts.map((a) => a.attemptNumber)).toEqual([...attempts.map((a) => a.attemptNumber)].sort((a, b) => b - a));
    const first = attempts.at(-1);
    expect(first).toMatchObject({
      msgId: msg.id,
      endpointId: ep.id,
      url: `${f.rx.url}/fails`,
      status: 2,
      statusText: 'fail',
      responseStatusCode: 500,
      response: 'boom, "quoted"',
      triggerType: 0,
      attemptNumber: 1,
      eventType: 'order.paid',
      errorStage: null,
      responseTruncated: false,
    });
    expect(first.errorMessage).toMatch(/500/);
    expect(first.responseHeaders['x-trace']).toBe('t1');
    expect(typeof first.responseDurationMs).toBe('number');
    expect(first.msg).toBeUndefined();

    const detail = await f.call('GET', `/api/v1/app/${app.id}/msg/${msg.id}/attempt/${first.id}`);
    expect(detail.status).toBe(200);
    expect(detail.body.requestBody).toBe('{"amount":5}');
    expect(detail.body.requestHeaders['webhook-id']).toBe(msg.id);
    expect(detail.body.requestHeaders['webhook-signature']).toMatch(/^v1,/);
    // Custom header values are the receiver's: the log shows that they were sent, never their value.
    expect(detail.body.requestHeaders['x-team']).toBe('[redacted]');
    expect(detail.body.requestHeaders.authorization).toBe('[redacted]');
    expect(JSON.stringify(detail.body)).not.toContain('receiver-secret');
  });

  it('records the failing stage when nothing answers', async () => {
    const app = await f.makeApp();
    const ep = await f.makeEndpoint(app.id, { url: `http://127.0.0.1:${await closedPort()}/hook` });
    const msg = await publish(app.id, { eventType: 'x', payload: {} });
    const [latest] = await attemptsOf(app.id, msg.id, 1);
    expect(latest).toMatchObject({ endpointId: ep.id, status: 2, responseStatusCode: 0, response: '', errorStage: 'connect' });
    expect(latest.errorMessage).toBeTruthy();
  });

  it('lists by endpoint with filters (status, event type, status code class, with_msg, with_content) and pages', async () => {
    const app = await f.makeApp();
    const ep = await f.makeEndpoint(app.id, { path: '/mixed' });
    f.rx.respondWith((req) => (req.path === '/mixed' && req.body.includes('"fail":true') ? { status: 404, body: 'nope' } : { status: 200 }));
    const ok = await publish(app.id, { eventType: 'user.created', payload: { fail: false } });
    const bad = await publish(app.id, { eventType: 'user.deleted', payload: { fail: true } });
    const base = `/api/v1/app/${app.id}/attempt/endpoint/${ep.id}`;
    await eventually(async () => (await f.call('GET', base)).body.data.length === 2 || undefined, 'two attempts');
    const list = async (query: string) => (await f.call('GET', `${base}?${query}`)).body.data as any[];

    expect((await list('status=0')).map((a) => a.msgId)).toEqual([ok.id]);
    expect((await list('status=2')).map((a) => a.msgId)).toEqual([bad.id]);
    expect(await list('status=1')).toEqual([]);
    expect((await list('event_types=user.deleted')).map((a) => a.msgId)).toEqual([bad.id]);
    expect((await list('status_code_class=400')).map((a) => a.responseStatusCode)).toEqual([404]);
    expect((await list('status_code_class=200')).map((a) => a.responseStatusCode)).toEqual([200]);
    expect(await list('status_code_class=0')).toEqual([]);
    const withMsg = await list('with_msg=true&status=2');
    expect(withMsg[0].msg).toMatchObject({ id: bad.id, eventType: 'user.deleted', payload: { fail: true } });
    expect((await list('with_content=false&status=2'))[0].response).toBe('');

    const page1 = await f.call('GET', `${base}?limit=1`);
    expect(page1.body.done).toBe(false);
    const page2 = await f.call('GET', `${base}?limit=1&iterator=${page1.body.iterator}`);
    expect(page2.body.done).toBe(true);
    expect([page1.body.data[0].msgId, page2.body.data[0].msgId]).toEqual([bad.id, ok.id]);
    expect((await f.call('GET', `${base}?status=9`)).status).toBe(422);
    expect((await f.call('GET', `${base}?status_code_class=250`)).status).toBe(422);
  });

  it("lists a message's endpoints and an endpoint's messages with their delivery status", async () => {
    const app = await f.makeApp();
    const good = await f.makeEndpoint(app.id, { path: '/good', description: 'CRM sync' });
    const down = await f.makeEndpoint(app.id, { path: '/down' });
    f.rx.respondWith((req) => (req.path === '/down' ? { status: 503 } : { status: 200 }));
    const msg = await publish(app.id, { eventType: 'x', payload: {} });
    const dests = await eventually(async () => {
      const res = await f.call('GET', `/api/v1/app/${app.id}/msg/${msg.id}/endpoint`);
      const byId = new Map<string, any>(res.body.data.map((d: any) => [d.id, d]));
      return byId.get(good.id)?.status === 0 && byId.get(down.id)?.attempts >= 1 ? byId : undefined;
    }, 'delivery statuses');
    expect(dests.get(good.id)).toMatchObject({ url: `${f.rx.url}/good`, description: 'CRM sync', statusText: 'success', attempts: 1 });
    expect(dests.get(down.id)).toMatchObject({ lastResponseStatusCode: 503 });
    expect([1, 2, 3]).toContain(dests.get(down.id).status);

    const msgs = await f.call('GET', `/api/v1/app/${app.id}/endpoint/${good.id}/msg`);
    expect(msgs.body.data).toHaveLength(1);
    expect(msgs.body.data[0]).toMatchObject({ id: msg.id, status: 0, statusText: 'success', nextAttempt: null, payload: {} });
    expect((await f.call('GET', `/api/v1/app/${app.id}/endpoint/${good.id}/msg?status=2`)).body.data).toEqual([]);
  });

  it('404s for unknown messages, endpoints and attempts', async () => {
    const app = await f.makeApp();
    const ep = await f.makeEndpoint(app.id);
    const msg = await publish(app.id, { eventType: 'x', payload: {} });
    expect((await f.call('GET', `/api/v1/app/${app.id}/attempt/msg/msg_nope`)).status).toBe(404);
    expect((await f.call('GET', `/api/v1/app/${app.id}/attempt/endpoint/ep_nope`)).status).toBe(404);
    expect((await f.call('GET', `/api/v1/app/${app.id}/msg/${msg.id}/attempt/atmpt_nope`)).status).toBe(404);
    expect((await f.call('GET', `/api/v1/app/${app.id}/attempt/msg/${msg.id}?endpoint_id=ep_nope`)).status).toBe(404);
    expect((await f.call('POST', `/api/v1/app/${app.id}/msg/${msg.id}/endpoint/ep_nope/resend`)).status).toBe(404);
    expect((await f.call('POST', `/api/v1/app/${app.id}/msg/msg_nope/endpoint/${ep.id}/resend`)).status).toBe(404);
  });
});

describe('resend', () => {
  it('queues a manual attempt with the same webhook-id, shown with triggerType 1 and the next attempt number', async () => {
    const app = await f.makeApp();
    const ep = await f.makeEndpoint(app.id, { path: '/resend' });
    f.rx.respondWith({ status: 200 });
    const msg = await publish(app.id, { eventType: 'x', payload: { n: 1 } });
    await attemptsOf(app.id, msg.id, 1);
    const res = await f.call('POST', `/api/v1/app/${app.id}/msg/${msg.id}/endpoint/${ep.id}/resend`);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({});
    const [latest, original] = await attemptsOf(app.id, msg.id, 2);
    expect(latest).toMatchObject({ triggerType: 1, attemptNumber: 2, status: 0 });
    expect(original).toMatchObject({ triggerType: 0, attemptNumber: 1 });
    const received = f.rx.requests.filter((r) => r.path === '/resend');
    expect(received.map((r) => r.headers['webhook-id'])).toEqual([msg.id, msg.id]);
  });

  it('answers 409 while the delivery is being sent, and for a disabled endpoint', async () => {
    const app = await f.makeApp();
    const ep = await f.makeEndpoint(app.id, { path: '/slow' });
    let release: () => void = () => undefined;
    f.rx.respondWith((req) =>
      req.path === '/slow' ? new Promise<{ status: number }>((r) => (release = () => r({ status: 200 }))) : { status: 200 },
    );
    const msg = await publish(app.id, { eventType: 'x', payload: {} });
    await eventually(async () => {
      const res = await f.call('GET', `/api/v1/app/${app.id}/msg/${msg.id}/endpoint`);
      return res.body.data[0]?.status === 3 || undefined;
    }, 'the delivery to be sending');
    const busy = await f.call('POST', `/api/v1/app/${app.id}/msg/${msg.id}/endpoint/${ep.id}/resend`);
    expect(busy.status).toBe(409);
    expect(busy.body.detail).toMatch(/being sent .* right now/);
    release();
    await attemptsOf(app.id, msg.id, 1);
    f.rx.respondWith({ status: 200 });

    const paused = await f.makeEndpoint(app.id, { disabled: true });
    const res = await f.call('POST', `/api/v1/app/${app.id}/msg/${msg.id}/endpoint/${paused.id}/resend`);
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/disabled/);
  });
});

describe('CSV export', () => {
  it("streams the endpoint's filtered history, newest first, with a header row", async () => {
    const app = await f.makeApp();
    const ep = await f.makeEndpoint(app.id, { path: '/csv' });
    f.rx.respondWith((req) => (req.path === '/csv' && req.body.includes('"fail"') ? { status: 400 } : { status: 200 }));
    const a = await publish(app.id, { eventType: 'order.paid', eventId: '-2.3', payload: {} });
    const b = await publish(app.id, { eventType: 'order.refunded', payload: { fail: 1 } });
    const base = `/api/v1/app/${app.id}/attempt/endpoint/${ep.id}`;
    await eventually(async () => (await f.call('GET', base)).body.data.length === 2 || undefined, 'two attempts');

    const res = await f.call('GET', `${base}/export.csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename="attempts-ep_.*\.csv"/);
    const lines = (res.body as string).split('\r\n');
    expect(lines.at(-1)).toBe('');
    expect(lines[0]).toBe(
      'timestamp,attempt_id,attempt_number,trigger,status,response_status_code,duration_ms,error_stage,error_message,event_type,msg_id,event_id,endpoint_id,url',
    );
    const rows = lines.slice(1, -1);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain(`,fail,400,`);
    expect(rows[0]).toContain(`,order.refunded,${b.id},,${ep.id},${f.rx.url}/csv`);
    expect(rows[1]).toContain(`,success,200,`);
    expect(rows[1]).toContain(`,order.paid,${a.id},'-2.3,`);

    const filtered = await f.call('GET', `${base}/export.csv?status=0&event_types=order.paid`);
    expect((filtered.body as string).split('\r\n').slice(1, -1)).toHaveLength(1);
  });
});

describe('permissions and scope', () => {
  it('reads need read, resend needs update, and a key for another application gets 404', async () => {
    const app = await f.makeApp();
    const other = await f.makeApp();
    const ep = await f.makeEndpoint(app.id);
    const msg = await publish(app.id, { eventType: 'x', payload: {} });
    const [attempt] = await attemptsOf(app.id, msg.id, 1);
    const key = async (appId: string | null, permissions: ('read' | 'update')[]) =>
      (await issueToken(f.server.herald.pool, { kind: 'api_key', name: 't', permissions, appId, expiresAt: null, createdBy: null, now: new Date() }))!
        .token;
    const reader = await key(app.id, ['read']);
    const reads = [
      `/api/v1/app/${app.id}/attempt/endpoint/${ep.id}`,
      `/api/v1/app/${app.id}/attempt/endpoint/${ep.id}/export.csv`,
      `/api/v1/app/${app.id}/attempt/msg/${msg.id}`,
      `/api/v1/app/${app.id}/msg/${msg.id}/attempt/${attempt.id}`,
      `/api/v1/app/${app.id}/msg/${msg.id}/endpoint`,
      `/api/v1/app/${app.id}/endpoint/${ep.id}/msg`,
    ];
    for (const path of reads) expect((await f.call('GET', path, undefined, reader)).status, path).toBe(200);
    const resend = `/api/v1/app/${app.id}/msg/${msg.id}/endpoint/${ep.id}/resend`;
    expect((await f.call('POST', resend, undefined, reader)).status).toBe(403);

    const outsider = await key(other.id, ['read', 'update']);
    for (const path of reads) expect((await f.call('GET', path, undefined, outsider)).status, path).toBe(404);
    expect((await f.call('POST', resend, undefined, outsider)).status).toBe(404);
    expect((await f.call('GET', reads[0]!, undefined, null)).status).toBe(401);
  });
});
