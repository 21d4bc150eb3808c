/**
 * Ed25519 end to end: an endpoint created through the API with the ed25519 profile, a message
 * published through the API and delivered by the worker, and a receiver that fetches the public key
 * from Herald's documented unauthenticated URL over real HTTP and verifies with it — with the receiver
 * library and with node:crypto alone, following the Standard Webhooks v1a definition. Through a
 * rotation, a receiver holding only the old or only the new public key verifies.
 */
import { createPublicKey, verify } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../src/sdk/verify.js';
import { startReceiver, type ReceivedRequest, type Receiver } from '../support/receiver.js';
import { startApi, type ApiHarness } from '../support/api.js';

let api: ApiHarness;
let rx: Receiver;
let base: string;
beforeAll(async () => {
  api = await startApi();
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  rx = await startReceiver();
});
afterAll(async () => {
  await rx.close();
  await api.close();
});

/** What a receiver does: fetch the endpoint's public keys from the documented URL, without a token. */
async function fetchPublicKeys(endpointId: string): Promise<string[]> {
  const res = await fetch(`${base}/api/v1/public/endpoint/${endpointId}/keys`);
  expect(res.status).toBe(200);
  const { keys } = (await res.json()) as { keys: { key: string }[] };
  return keys.map((k) => k.key);
}

/** v1a by hand: Ed25519 over `{webhook-id}.{webhook-timestamp}.{raw body}` with a `whpk_` key. */
function verifiesByHand(r: ReceivedRequest, publicKey: string): boolean {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey.slice('whpk_'.length), 'base64').toString('base64url') }, format: 'jwk' });
  const content = Buffer.concat([Buffer.from(`${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.`), r.body]);
  return String(r.headers['webhook-signature'])
    .split(' ')
    .filter((s) => s.startsWith('v1a,'))
    .some((s) => verify(null, content, key, Buffer.from(s.slice(4), 'base64')));
}

async function publishAndDeliver(appId: string, payload: object): Promise<ReceivedRequest> {
  const before = rx.requests.length;
  const res = await api.call('POST', `/api/v1/app/${appId}/msg`, { body: { eventType: 'order.paid', payload } });
  expect(res.status).toBe(202);
  await api.t.herald.createWorker().drain();
  expect(rx.requests.length).toBe(before + 1);
  return rx.requests.at(-1)!;
}

describe('ed25519 deliveries', () => {
  it('verify with the public key fetched from the documented URL, and keep verifying through a rotation', async () => {
    const app = await api.makeApp({ name: 'Asymmetric', signature: { scheme: 'ed25519' } });
    const created = await api.call('POST', `/api/v1/app/${app.id}/endpoint`, { body: { url: `${rx.url}/ed25519` } });
    expect(created.status).toBe(201);
    const ep = created.body as { id: string; secret: string };
    expect(ep.secret).toMatch(/^whsk_/); // the signing key stays with Herald; receivers need only the public key

    const [oldKey] = await fetchPublicKeys(ep.id);
    const first = await publishAndDeliver(app.id, { n: 1 });
    const now = Math.floor(api.t.clock.now().getTime() / 1000);
    expect(verifyWebhook({ profile: { scheme: 'ed25519' }, publicKeys: [oldKey!], headers: first.headers, body: first.body, nowSeconds: now })).toMatchObject({ ok: true });
    expect(verifiesByHand(first, oldKey!)).toBe(true);
    const tampered = Buffer.from(first.body.toString().replace('1', '2'));
    expect(verifyWebhook({ profile: { scheme: 'ed25519' }, publicKeys: [oldKey!], headers: first.headers, body: tampered, nowSeconds: now })).toMatchObject({ ok: false, reason: 'no_matching_signature' });

    const rotated = await api.call('POST', `/api/v1/app/${app.id}/endpoint/${ep.id}/secret/rotate`, { body: { gracePeriodSeconds: 3600 } });
    expect(rotated.status).toBe(204);
    const keys = await fetchPublicKeys(ep.id);
    expect(keys).toHaveLength(2);
    const newKey = keys[0]!;
    expect(keys[1]).toBe(oldKey);
    const during = await publishAndDeliver(app.id, { n: 2 });
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2); // one v1a per valid key
    expect(verifiesByHand(during, oldKey!)).toBe(true); // a receiver that has not fetched the new key yet
    expect(verifiesByHand(during, newKey)).toBe(true);

    api.t.clock.advance(3_600_001);
    expect(await fetchPublicKeys(ep.id)).toEqual([newKey]);
    const after = await publishAndDeliver(app.id, { n: 3 });
    expect(verifiesByHand(after, newKey)).toBe(true);
    expect(verifiesByHand(after, oldKey!)).toBe(false);
  });
});
