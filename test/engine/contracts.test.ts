/**
 * A platform's existing webhook contract, reproduced exactly: for each kind of contract platforms moving
 * to Herald already have (signature scheme, headers, body shape), a receiver that verifies exactly as
 * such a platform tells its customers to, against real deliveries from Herald's worker, including during
 * a secret rotation. The header names appear here only as what a platform configures; Herald defaults to
 * none of them.
 */
import crypto, { createHmac, timingSafeEqual } from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { publish } from '../../src/engine/publish.js';
import { rotateEndpointSecret } from '../../src/engine/endpoints.js';
import { deliveryId } from '../../src/core/delivery-headers.js';
import type { ReceivedRequest, Receiver } from '../support/receiver.js';
import { useHeraldWithReceiver, type TestHerald } from '../support/herald.js';

const fx = useHeraldWithReceiver();
let t: TestHerald;
let rx: Receiver;
beforeAll(() => {
  ({ t, rx } = fx);
});
beforeEach(() => {
  rx.requests.length = 0;
  rx.respondWith({ status: 200 });
});

/** An application and endpoint configured with a platform's contract (columns set as the API stores them). */
async function contract(opts: {
  path: string;
  secret: string;
  signature: object;
  deliveryHeaders?: object;
  envelope?: object;
  appUid?: string;
}) {
  const app = await t.makeApp(opts.path);
  // The application's profile is its endpoints' default, so the endpoint's imported secret is
  // checked against it when the endpoint is created.
  await t.herald.pool.query('update application set uid = $2, envelope = $3, delivery_headers = $4, signature = $5 where id = $1', [
    app.id,
    opts.appUid ?? null,
    opts.envelope ? JSON.stringify(opts.envelope) : null,
    opts.deliveryHeaders ? JSON.stringify(opts.deliveryHeaders) : null,
    JSON.stringify(opts.signature),
  ]);
  const ep = await t.makeEndpoint(app.id, { url: `${rx.url}${opts.path}`, secret: opts.secret });
  return { app, ep };
}

async function deliver(appId: string, eventType: string, payload: object, eventId?: string): Promise<ReceivedRequest> {
  const before = rx.requests.length;
  await publish(t.herald.pool, appId, { eventType, payload, eventId }, { now: t.clock.now() });
  await t.herald.createWorker().drain();
  expect(rx.requests.length).toBe(before + 1);
  return rx.requests.at(-1)!;
}

const header = (r: ReceivedRequest, name: string) => String(r.headers[name.toLowerCase()] ?? '');

describe('existing webhook contracts a platform keeps', () => {
  it('hex HMAC-SHA256 of the raw body in a named header, with an envelope', async () => {
    const secret = 'tit_whsec_8f2c1e9a7b6d5c4e3f2a1b0c';
    const { app } = await contract({
      path: '/raffle',
      secret,
      signature: { scheme: 'hmac-sha256', header: 'X-Body-Signature', content: 'body', encoding: 'hex', key: 'utf8' },
      envelope: { id: '{{message.eventId}}', type: '{{message.eventType}}', created_at: '{{message.timestamp}}', data: '{{payload}}' },
    });
    const r = await deliver(app.id, 'order.paid', { order_id: 'ord_01', total_pence: 4900 }, 'evt_01HZX');
    // "an HMAC-SHA256 of the raw body using your secret"
    const expected = createHmac('sha256', secret).update(r.body).digest('hex');
    expect(timingSafeEqual(Buffer.from(header(r, 'X-Body-Signature')), Buffer.from(expected))).toBe(true);
    const body = JSON.parse(r.body.toString());
    expect(body).toEqual({ id: 'evt_01HZX', type: 'order.paid', created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/), data: { order_id: 'ord_01', total_pence: 4900 } });
    expect(r.headers['webhook-signature']).toBeUndefined(); // only the platform's own contract is sent
  });

  it("hex HMAC-SHA256 of the body with a timestamp header: the receiver's Node verify() passes, X-Comps-Timestamp is sent, and rotation keeps it passing", async () => {
    const oldSecret = 'comps_secret_2f9d8c7b6a5e4d3c';
    const { app, ep } = await contract({
      path: '/comps',
      secret: oldSecret,
      signature: { scheme: 'hmac-sha256', header: 'X-Comps-Signature', timestampHeader: 'X-Comps-Timestamp', content: 'body', encoding: 'hex', key: 'utf8' },
    });
    // The document's code, verbatim.
    function verify(rawBody: Buffer, signatureHeader: string, secret: string) {
      const expected = crypto
        .createHmac('sha256', secret)
        .update(rawBody)
        .digest('hex')
      return crypto.timingSafeEqual(
        Buffer.from(signatureHeader, 'hex'),
        Buffer.from(expected, 'hex')
      )
    }
    const first = await deliver(app.id, 'winner.drawn', { competition: 'cmp_1', winner: 'usr_9' });
    expect(verify(first.body, header(first, 'X-Comps-Signature'), oldSecret)).toBe(true);
    const ts = Number(header(first, 'X-Comps-Timestamp'));
    expect(Math.abs(ts - t.clock.now().getTime() / 1000)).toBeLessThanOrEqual(1); // "reject deliveries older than a few minutes"

    // Rotation with a one-hour grace period: the receiver that still has the old secret keeps verifying.
    const newSecret = await rotateEndpointSecret(t.herald.pool, t.herald.secretBox, app.id, ep.id, { key: 'comps_secret_new_7e6d5c4b3a2f1e0d', graceMs: 3_600_000, now: t.clock.now() });
    const during = await deliver(app.id, 'winner.drawn', { n: 2 });
    expect(verify(during.body, header(during, 'X-Comps-Signature'), oldSecret)).toBe(true);
    t.clock.advance(3_600_001);
    const after = await deliver(app.id, 'winner.drawn', { n: 3 });
    expect(verify(after.body, header(after, 'X-Comps-Signature'), newSecret)).toBe(true);
    expect(verify(after.body, header(after, 'X-Comps-Signature'), oldSecret)).toBe(false);
  });

  it('X-Webhook-Signature and X-Webhook-Timestamp, with an action/eventable body', async () => {
    const secret = 'tix_9c8b7a6f5e4d3c2b1a0f';
    const { app } = await contract({
      path: '/ticketing',
      secret,
      signature: { scheme: 'hmac-sha256', header: 'X-Webhook-Signature', timestampHeader: 'X-Webhook-Timestamp', content: 'body', encoding: 'hex', key: 'utf8' },
      envelope: { action: '{{message.eventType}}', created_at: '{{message.timestamp}}', '...': '{{payload}}' },
    });
    const r = await deliver(app.id, 'order.paid', { eventable: { id: 'abc123', type: 'Order' }, account: { subdomain: 'cool-events' } });
    expect(header(r, 'X-Webhook-Signature')).toBe(createHmac('sha256', secret).update(r.body).digest('hex'));
    expect(header(r, 'X-Webhook-Timestamp')).toMatch(/^\d{10}$/);
    expect(Object.keys(JSON.parse(r.body.toString()))).toEqual(['action', 'created_at', 'eventable', 'account']);
  });

  it('a hex-decoded key over {timestamp}.{raw body}: hex digest, timing-safe compare, stale refused', async () => {
    const secret = crypto.randomBytes(32).toString('hex');
    const { app, ep } = await contract({
      path: '/compliance',
      secret,
      appUid: 'org_4411',
      signature: { scheme: 'hmac-sha256', header: 'X-Northwind-Signature', timestampHeader: 'X-Northwind-Timestamp', content: 'timestamp.body', encoding: 'hex', key: 'hex' },
      envelope: { webhookType: '{{message.eventType}}', upstreamEntityId: '{{application.uid}}', payload: '{{payload}}' },
    });
    const r = await deliver(app.id, 'agency.compliance_status.changed', { agencies: [{ id: 'ag_1' }] });
    // The receiver, step by step as the document says.
    const receive = (req: ReceivedRequest, nowSeconds: number, toleranceSeconds = 300, storedSecret = secret): boolean => {
      const timestamp = header(req, 'X-Northwind-Timestamp');
      if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) return false; // stale: refused
      const key = Buffer.from(storedSecret, 'hex'); // "the signing key is the secret decoded from hexadecimal"
      const message = Buffer.concat([Buffer.from(`${timestamp}.`), req.body]); // "{timestamp}.{raw request body}"
      const expected = Buffer.from(createHmac('sha256', key).update(message).digest('hex'));
      const given = Buffer.from(header(req, 'X-Northwind-Signature'));
      return given.length === expected.length && timingSafeEqual(given, expected);
    };
    const now = Math.floor(t.clock.now().getTime() / 1000);
    expect(receive(r, now)).toBe(true);
    expect(receive(r, now + 600)).toBe(false); // the same request replayed ten minutes later
    // The literal characters of the secret as key — the document's "most common mistake" — do not verify.
    expect(header(r, 'X-Northwind-Signature')).not.toBe(createHmac('sha256', secret).update(`${header(r, 'X-Northwind-Timestamp')}.${r.body}`).digest('hex'));
    expect(JSON.parse(r.body.toString())).toEqual({ webhookType: 'agency.compliance_status.changed', upstreamEntityId: 'org_4411', payload: { agencies: [{ id: 'ag_1' }] } });

    // The document's rotation: "switch your handler to accept both old and new secrets briefly".
    // Herald generates the new secret as hex, since the key is hex-decoded.
    const next = await rotateEndpointSecret(t.herald.pool, t.herald.secretBox, app.id, ep.id, { graceMs: 600_000, now: t.clock.now() });
    expect(next).toMatch(/^[0-9a-f]{64}$/);
    const acceptsBoth = (req: ReceivedRequest, at: number) => receive(req, at, 300, secret) || receive(req, at, 300, next);
    const during = await deliver(app.id, 'agency.compliance_status.changed', { agencies: [{ id: 'ag_2' }] });
    expect(receive(during, Math.floor(t.clock.now().getTime() / 1000), 300, secret)).toBe(true); // not switched yet: still verifies
    t.clock.advance(600_001);
    const after = await deliver(app.id, 'agency.compliance_status.changed', { agencies: [{ id: 'ag_3' }] });
    const at = Math.floor(t.clock.now().getTime() / 1000);
    expect(receive(after, at, 300, next)).toBe(true);
    expect(receive(after, at, 300, secret)).toBe(false);
    expect(acceptsBoth(after, at)).toBe(true);
  });

  it('five named headers, a User-Agent and an envelope; the delivery id is stable across retries', async () => {
    const secret = 'contoso_whsec_1a2b3c4d5e6f7a8b';
    const { app, ep } = await contract({
      path: '/drops',
      secret,
      appUid: 'org_contoso_77',
      signature: { scheme: 'hmac-sha256', header: 'X-Contoso-Signature', timestampHeader: 'X-Contoso-Timestamp', content: 'timestamp.body', encoding: 'hex', key: 'utf8' },
      deliveryHeaders: { eventType: 'X-Contoso-Event-Type', deliveryId: 'X-Contoso-Delivery-Id', userAgent: 'Contoso-Webhooks/1.0' },
      envelope: { id: '{{message.id}}', type: '{{message.eventType}}', timestamp: '{{message.timestampMillis}}', organizationId: '{{application.uid}}', data: '{{payload}}' },
    });
    rx.respondOnce({ status: 503 });
    const msg = await publish(t.herald.pool, app.id, { eventType: 'queue.consumer.admitted', payload: { consumerId: 'c_1' } }, { now: t.clock.now() });
    const worker = t.herald.createWorker();
    await worker.drain();
    t.clock.advance(5_000);
    await worker.drain();
    expect(rx.requests).toHaveLength(2);
    for (const r of rx.requests) {
      expect(header(r, 'X-Contoso-Event-Type')).toBe('queue.consumer.admitted');
      expect(header(r, 'User-Agent')).toBe('Contoso-Webhooks/1.0');
      const ts = header(r, 'X-Contoso-Timestamp');
      expect(header(r, 'X-Contoso-Signature')).toBe(createHmac('sha256', secret).update(`${ts}.${r.body}`).digest('hex'));
      const body = JSON.parse(r.body.toString());
      expect(body).toMatchObject({ id: msg.id, type: 'queue.consumer.admitted', organizationId: 'org_contoso_77', data: { consumerId: 'c_1' } });
    }
    const ids = rx.requests.map((r) => header(r, 'X-Contoso-Delivery-Id'));
    expect(ids[0]).toBe(ids[1]); // the same delivery, retried
    expect(ids[0]).toBe(deliveryId(msg.id, ep.id));
    expect(rx.requests[0]!.body.equals(rx.requests[1]!.body)).toBe(true); // the exact bytes, every time
  });
});
