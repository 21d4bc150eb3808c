/**
 * A platform's existing webhook contract through the API: signature profiles, delivery headers and
 * envelopes on applications, endpoints and event types; their 422s; inheritance; secrets generated
 * and checked per profile; Ed25519 public keys for API callers and, without a token, for receivers.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519PublicKeyOf, generateProfileSecret } from '../../src/core/signature-profile.js';
import { startApi, type ApiHarness } from '../support/api.js';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api.close();
});

type Detail = { loc: (string | number)[]; msg: string };
const locs = (body: { detail: Detail[] }) => body.detail.map((d) => d.loc.join('.'));
const msgOf = (body: { detail: Detail[] }, loc: string) => body.detail.find((d) => d.loc.join('.') === loc)?.msg ?? '';
const epBase = (appId: string) => `/api/v1/app/${appId}/endpoint`;
const createEp = (appId: string, body: Record<string, unknown> = {}) => api.call('POST', epBase(appId), { body: { url: 'https://hooks.example.com/in', ...body } });
const patchEp = (appId: string, epId: string, body: Record<string, unknown>) => api.call('PATCH', `${epBase(appId)}/${epId}`, { body });

/** Hex HMAC of the body in a named header. */
const HEX_BODY = { scheme: 'hmac-sha256', header: 'X-Acme-Signature', content: 'body', encoding: 'hex', key: 'utf8' };
/** Hex HMAC of `{timestamp}.{body}` keyed with the hex-decoded secret. */
const HEX_TS = { scheme: 'hmac-sha256', header: 'X-Northwind-Signature', timestampHeader: 'X-Northwind-Timestamp', content: 'timestamp.body', encoding: 'hex', key: 'hex' };
const NO_HEADERS = { eventType: null, deliveryId: null, userAgent: null };

describe('signature profiles on endpoints', () => {
  it('creates, gets and patches an endpoint with each scheme, showing its own and the effective profile', async () => {
    const app = await api.makeApp();
    const standard = await createEp(app.id);
    expect(standard.status).toBe(201);
    expect(standard.body).toMatchObject({ signature: null, deliveryHeaders: null, effectiveSignature: { scheme: 'standard' }, effectiveDeliveryHeaders: NO_HEADERS });
    expect(standard.body.secret).toMatch(/^whsec_/);

    const hmac = await createEp(app.id, { signature: HEX_BODY, deliveryHeaders: { eventType: 'X-Acme-Event', userAgent: 'Acme-Webhooks/1.0' } });
    expect(hmac.status).toBe(201);
    const hmacOut = { ...HEX_BODY, timestampHeader: null };
    expect(hmac.body).toMatchObject({
      signature: hmacOut,
      effectiveSignature: hmacOut,
      deliveryHeaders: { eventType: 'X-Acme-Event', deliveryId: null, userAgent: 'Acme-Webhooks/1.0' },
      effectiveDeliveryHeaders: { eventType: 'X-Acme-Event', deliveryId: null, userAgent: 'Acme-Webhooks/1.0' },
    });
    const got = await api.call('GET', `${epBase(app.id)}/${hmac.body.id}`);
    expect(got.body.signature).toEqual(hmacOut);
    expect(got.body.deliveryHeaders).toEqual({ eventType: 'X-Acme-Event', deliveryId: null, userAgent: 'Acme-Webhooks/1.0' });

    const ed = await createEp(app.id, { signature: { scheme: 'ed25519' } });
    expect(ed.status).toBe(201);
    expect(ed.body.effectiveSignature).toEqual({ scheme: 'ed25519' });
    expect(ed.body.secret).toMatch(/^whsk_/);

    // PATCH: a whsec_ secret is at least 16 characters, so it fits hmac-sha256 with a utf8 key as it is.
    const patched = await patchEp(app.id, standard.body.id, { signature: HEX_BODY, deliveryHeaders: { deliveryId: 'X-Acme-Delivery' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ signature: hmacOut, effectiveDeliveryHeaders: { eventType: null, deliveryId: 'X-Acme-Delivery', userAgent: null } });
    const back = await patchEp(app.id, standard.body.id, { signature: null, deliveryHeaders: null });
    expect(back.body).toMatchObject({ signature: null, deliveryHeaders: null, effectiveSignature: { scheme: 'standard' } });
    // PUT replaces: the contract fields left out go back to inheriting.
    const put = await api.call('PUT', `${epBase(app.id)}/${hmac.body.id}`, { body: { url: 'https://hooks.example.com/in' } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ signature: null, deliveryHeaders: null, effectiveSignature: { scheme: 'standard' } });
  });

  it('refuses invalid profiles with a 422 naming the field', async () => {
    const app = await api.makeApp();
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ ...HEX_BODY, header: 'content-type' }, 'body.signature.header', /set by Herald or by HTTP/],
      [{ ...HEX_BODY, header: 'webhook-signature' }, 'body.signature.header', /set by Herald or by HTTP/],
      [{ ...HEX_BODY, header: 'User-Agent' }, 'body.signature.header', /deliveryHeaders\.userAgent/],
      [{ ...HEX_TS, timestampHeader: undefined }, 'body.signature.timestampHeader', /required when content is timestamp\.body/],
      [{ ...HEX_BODY, encoding: 'base32' }, 'body.signature.encoding', /./],
      [{ ...HEX_BODY, algorithm: 'sha512' }, 'body.signature.algorithm', /not a field/],
      [{ scheme: 'ed25519', header: 'X-Sig' }, 'body.signature.header', /not used by the ed25519 scheme/],
      [{ ...HEX_BODY, timestampHeader: 'x-acme-signature' }, 'body.signature.timestampHeader', /already used/],
    ];
    for (const [signature, loc, why] of cases) {
      const res = await createEp(app.id, { signature });
      expect({ loc, status: res.status }).toEqual({ loc, status: 422 });
      expect(res.body.code).toBe('validation');
      expect(locs(res.body)).toContain(loc);
      expect(msgOf(res.body, loc)).toMatch(why);
    }
    const badScheme = await createEp(app.id, { signature: { scheme: 'rsa' } });
    expect(badScheme.status).toBe(422);
    expect(locs(badScheme.body).some((l) => l.startsWith('body.signature'))).toBe(true);
    // Nothing was created by any of them.
    expect((await api.call('GET', epBase(app.id))).body.data).toHaveLength(0);
  });

  it('refuses colliding or invalid delivery header names, and User-Agent stays refused as a custom header', async () => {
    const app = await api.makeApp();
    const collide = await createEp(app.id, { deliveryHeaders: { eventType: 'X-Acme', deliveryId: 'x-acme' } });
    expect(collide.status).toBe(422);
    expect(locs(collide.body)).toEqual(['body.deliveryHeaders.deliveryId']);
    const withProfile = await createEp(app.id, { signature: HEX_BODY, deliveryHeaders: { eventType: 'X-Acme-Signature' } });
    expect(locs(withProfile.body)).toEqual(['body.deliveryHeaders.eventType']);
    expect(msgOf(withProfile.body, 'body.deliveryHeaders.eventType')).toMatch(/already used by this profile/);
    const bad = await createEp(app.id, { deliveryHeaders: { eventType: 'bad name', userAgent: 'line\nbreak', extra: 'x' } });
    expect(locs(bad.body).sort()).toEqual(['body.deliveryHeaders.eventType', 'body.deliveryHeaders.extra', 'body.deliveryHeaders.userAgent']);
    const custom = await createEp(app.id, { headers: { 'User-Agent': 'Acme/1.0' } });
    expect(locs(custom.body)).toEqual(['body.headers.User-Agent']);
    // A custom header may not overwrite what the profile sends either.
    const overwrite = await createEp(app.id, { signature: HEX_BODY, headers: { 'x-acme-signature': 'forged' } });
    expect(locs(overwrite.body)).toEqual(['body.headers.x-acme-signature']);
    const signed = (await createEp(app.id, { signature: HEX_BODY, deliveryHeaders: { eventType: 'X-Acme-Event' } })).body;
    for (const method of ['PUT', 'PATCH']) {
      const res = await api.call(method, `${epBase(app.id)}/${signed.id}/headers`, { body: { headers: { 'X-Acme-Event': 'forged', 'X-Fine': '1' } } });
      expect({ method, locs: locs(res.body) }).toEqual({ method, locs: ['body.headers.X-Acme-Event'] });
    }
    expect((await createEp(app.id, { deliveryHeaders: { userAgent: 'Acme-Webhooks/1.0' } })).status).toBe(201);
  });
});

describe('inheritance from the application', () => {
  it("gives an endpoint without its own profile the application's, and its own wins", async () => {
    const res = await api.call('POST', '/api/v1/app', {
      body: { name: 'Northwind', signature: HEX_TS, deliveryHeaders: { eventType: 'X-Northwind-Event', deliveryId: 'X-Northwind-Delivery' } },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ signature: HEX_TS, deliveryHeaders: { eventType: 'X-Northwind-Event', deliveryId: 'X-Northwind-Delivery', userAgent: null }, envelope: null });
    const app = res.body;
    const inherits = await createEp(app.id);
    expect(inherits.status).toBe(201);
    expect(inherits.body).toMatchObject({ signature: null, deliveryHeaders: null, effectiveSignature: HEX_TS });
    expect(inherits.body.effectiveDeliveryHeaders).toEqual({ eventType: 'X-Northwind-Event', deliveryId: 'X-Northwind-Delivery', userAgent: null });
    // The generated secret fits the inherited hex key: 32 random bytes in hex.
    expect(inherits.body.secret).toMatch(/^[0-9a-f]{64}$/);

    const own = await createEp(app.id, { signature: { scheme: 'standard' }, deliveryHeaders: {} });
    expect(own.body).toMatchObject({ effectiveSignature: { scheme: 'standard' }, effectiveDeliveryHeaders: NO_HEADERS });
    expect(own.body.secret).toMatch(/^whsec_/);

    // The application's delivery header names may not collide with an endpoint's own profile.
    const clash = await createEp(app.id, { signature: { ...HEX_BODY, header: 'X-Northwind-Event' } });
    expect(clash.status).toBe(422);
    expect(locs(clash.body)).toEqual(['body.signature']);
    expect(msgOf(clash.body, 'body.signature')).toMatch(/application's deliveryHeaders\.eventType/);
  });

  it("refuses an application profile change that an inheriting endpoint's secret does not fit", async () => {
    const app = await api.makeApp();
    const ep = (await createEp(app.id)).body; // whsec_
    const hex = await api.call('PATCH', `/api/v1/app/${app.id}`, { body: { signature: HEX_TS } });
    expect(hex.status).toBe(422);
    expect(locs(hex.body)).toEqual(['body.signature']);
    expect(msgOf(hex.body, 'body.signature')).toContain(ep.id);
    expect(msgOf(hex.body, 'body.signature')).toMatch(/rotate/);
    // A whsec_ secret fits a utf8-keyed HMAC, so that change is accepted.
    const utf8 = await api.call('PATCH', `/api/v1/app/${app.id}`, { body: { signature: HEX_BODY } });
    expect(utf8.status).toBe(200);
    expect((await api.call('GET', `${epBase(app.id)}/${ep.id}`)).body.effectiveSignature).toMatchObject({ header: 'X-Acme-Signature' });
    // New delivery headers may not collide with the profile the endpoints use.
    const clash = await api.call('PATCH', `/api/v1/app/${app.id}`, { body: { deliveryHeaders: { eventType: 'X-Acme-Signature' } } });
    expect(clash.status).toBe(422);
    expect(locs(clash.body)).toEqual(['body.deliveryHeaders.eventType']);
  });

  it("refuses application delivery headers that would collide with an endpoint's own profile, naming the endpoint", async () => {
    const app = await api.makeApp();
    const ep = (await createEp(app.id, { signature: { ...HEX_BODY, header: 'X-Own-Signature' } })).body;
    const res = await api.call('PATCH', `/api/v1/app/${app.id}`, { body: { deliveryHeaders: { eventType: 'X-Own-Signature' } } });
    expect(res.status).toBe(422);
    expect(locs(res.body)).toEqual(['body.deliveryHeaders']);
    expect(msgOf(res.body, 'body.deliveryHeaders')).toContain(ep.id);
    expect((await api.call('GET', `/api/v1/app/${app.id}`)).body.deliveryHeaders).toBeNull(); // unchanged
    expect((await api.call('PATCH', `/api/v1/app/${app.id}`, { body: { deliveryHeaders: { eventType: 'X-Own-Event' } } })).status).toBe(200);
  });
});

describe('secrets per profile', () => {
  it('generates a hex secret for a hex key and refuses a given one that is not hex', async () => {
    const app = await api.makeApp();
    const ep = await createEp(app.id, { signature: HEX_TS });
    expect(ep.body.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(ep.body.secretHint).toBe(ep.body.secret.slice(-4));
    const notHex = await createEp(app.id, { signature: HEX_TS, secret: 'this is not hex at all, sorry' });
    expect(notHex.status).toBe(422);
    expect(locs(notHex.body)).toEqual(['body.secret']);
    expect(msgOf(notHex.body, 'body.secret')).toMatch(/hex/);
    const given = randomBytes(32).toString('hex');
    expect((await createEp(app.id, { signature: HEX_TS, secret: given })).body.secret).toBe(given);
    const rotate = await api.call('POST', `${epBase(app.id)}/${ep.body.id}/secret/rotate`, { body: { key: 'whsec_' + randomBytes(24).toString('base64') } });
    expect(rotate.status).toBe(422);
    expect(locs(rotate.body)).toEqual(['body.key']);
  });

  it("accepts a platform's own secret of 16+ characters for a utf8 key, exactly as given", async () => {
    const app = await api.makeApp();
    const imported = 'comps_secret_2f9d8c7b6a5e4d3c';
    const ep = await createEp(app.id, { signature: HEX_BODY, secret: imported });
    expect(ep.status).toBe(201);
    expect(ep.body.secret).toBe(imported);
    expect((await api.call('GET', `${epBase(app.id)}/${ep.body.id}/secret`)).body.key).toBe(imported);
    const short = await createEp(app.id, { signature: HEX_BODY, secret: 'too-short' });
    expect(locs(short.body)).toEqual(['body.secret']);
    // The standard profile still wants whsec_ + base64, and still adds the prefix when it is left out.
    expect(locs((await createEp(app.id, { secret: imported })).body)).toEqual(['body.secret']);
    const raw = Buffer.alloc(32, 3).toString('base64');
    expect((await createEp(app.id, { secret: raw })).body.secret).toBe(`whsec_${raw}`);
  });

  it('refuses switching a whsec_ endpoint to ed25519 without a fitting secret, and switches with one', async () => {
    const app = await api.makeApp();
    const ep = (await createEp(app.id)).body;
    const refused = await patchEp(app.id, ep.id, { signature: { scheme: 'ed25519' } });
    expect(refused.status).toBe(422);
    expect(locs(refused.body)).toEqual(['body.signature']);
    expect(msgOf(refused.body, 'body.signature')).toMatch(/rotate to a fitting secret/);
    expect((await api.call('GET', `${epBase(app.id)}/${ep.id}`)).body.signature).toBeNull(); // unchanged
    // PUT is checked the same way.
    expect((await api.call('PUT', `${epBase(app.id)}/${ep.id}`, { body: { url: ep.url, signature: { scheme: 'ed25519' } } })).status).toBe(422);
    const wrongKind = await patchEp(app.id, ep.id, { signature: { scheme: 'ed25519' }, secret: ep.secret });
    expect(locs(wrongKind.body)).toEqual(['body.secret']);

    const { secret, publicKey } = generateProfileSecret({ scheme: 'ed25519' });
    const switched = await patchEp(app.id, ep.id, { signature: { scheme: 'ed25519' }, secret });
    expect(switched.status).toBe(200);
    expect(switched.body.effectiveSignature).toEqual({ scheme: 'ed25519' });
    // The whsec_ secret could not sign under ed25519, so it stopped at once: one key, the new one.
    const keys = await api.call('GET', `${epBase(app.id)}/${ep.id}/public-key`);
    expect(keys.body).toEqual({ keys: [{ key: publicKey, expiresAt: null }] });
  });
});

describe('Ed25519 public keys', () => {
  it('serves the public key to API callers and, without a token, to receivers; 404 for other schemes', async () => {
    const app = await api.makeApp();
    const ed = (await createEp(app.id, { signature: { scheme: 'ed25519' } })).body;
    const publicKey = ed25519PublicKeyOf(ed.secret);
    expect(publicKey).toMatch(/^whpk_/);

    const authed = await api.call('GET', `${epBase(app.id)}/${ed.id}/public-key`);
    expect(authed.status).toBe(200);
    expect(authed.body).toEqual({ keys: [{ key: publicKey, expiresAt: null }] });
    expect((await api.call('GET', `${epBase(app.id)}/${ed.id}/public-key`, { token: null })).status).toBe(401);

    const open = await api.call('GET', `/api/v1/public/endpoint/${ed.id}/keys`, { token: null });
    expect(open.status).toBe(200);
    expect(open.body).toEqual(authed.body);
    expect(open.headers['cache-control']).toBe('public, max-age=60');

    const standard = (await createEp(app.id)).body;
    const notEd = await api.call('GET', `${epBase(app.id)}/${standard.id}/public-key`);
    expect(notEd.status).toBe(404);
    expect(notEd.body.detail).toMatch(/standard scheme/);
    expect((await api.call('GET', `/api/v1/public/endpoint/${standard.id}/keys`, { token: null })).status).toBe(404);
    expect((await api.call('GET', '/api/v1/public/endpoint/ep_01HZZZZZZZZZZZZZZZZZZZZZZZ/keys', { token: null })).status).toBe(404);
    expect((await api.call('GET', '/api/v1/public/endpoint/some-uid/keys', { token: null })).status).toBe(404);
    // A token scoped to another application learns nothing through the authenticated route.
    const other = await api.makeApp();
    const scoped = await api.makeKey(['read'], other.id);
    expect((await api.call('GET', `${epBase(app.id)}/${ed.id}/public-key`, { token: scoped })).status).toBe(404);
  });

  it('inherits ed25519 from the application, and a rotation with grace gives two keys, current first', async () => {
    const app = (await api.call('POST', '/api/v1/app', { body: { name: 'Signed', signature: { scheme: 'ed25519' } } })).body;
    const ep = (await createEp(app.id)).body;
    expect(ep.secret).toMatch(/^whsk_/);
    const rotated = await api.call('POST', `${epBase(app.id)}/${ep.id}/secret/rotate`, { body: { gracePeriodSeconds: 3600 } });
    expect(rotated.status).toBe(204);
    const { keys } = (await api.call('GET', `/api/v1/public/endpoint/${ep.id}/keys`, { token: null })).body;
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatchObject({ key: expect.stringMatching(/^whpk_/), expiresAt: null });
    expect(keys[1]).toEqual({ key: ed25519PublicKeyOf(ep.secret), expiresAt: new Date(api.t.clock.now().getTime() + 3_600_000).toISOString() });
    const current = (await api.call('GET', `${epBase(app.id)}/${ep.id}/secret`)).body.key;
    expect(keys[0].key).toBe(ed25519PublicKeyOf(current));
    api.t.clock.advance(3_600_001);
    expect((await api.call('GET', `${epBase(app.id)}/${ep.id}/public-key`)).body.keys).toHaveLength(1);
  });
});

describe('envelopes', () => {
  const ENVELOPE = { id: '{{message.id}}', type: '{{message.eventType}}', created_at: '{{message.timestamp}}', data: '{{payload}}' };

  it('stores an envelope on applications and event types, and clears it with null', async () => {
    const app = await api.call('POST', '/api/v1/app', { body: { name: 'Enveloped', envelope: ENVELOPE } });
    expect(app.status).toBe(201);
    expect(app.body.envelope).toEqual(ENVELOPE);
    expect((await api.call('GET', `/api/v1/app/${app.body.id}`)).body.envelope).toEqual(ENVELOPE);
    expect((await api.call('PATCH', `/api/v1/app/${app.body.id}`, { body: { name: 'Renamed' } })).body.envelope).toEqual(ENVELOPE);
    expect((await api.call('PATCH', `/api/v1/app/${app.body.id}`, { body: { envelope: null } })).body.envelope).toBeNull();

    const spread = { action: '{{message.eventType}}', '...': '{{payload}}' };
    const type = await api.call('POST', '/api/v1/event-type', { body: { name: 'ticket.sold', description: '', envelope: spread } });
    expect(type.status).toBe(201);
    expect(type.body.envelope).toEqual(spread);
    expect((await api.call('GET', '/api/v1/event-type/ticket.sold')).body.envelope).toEqual(spread);
    expect((await api.call('PATCH', '/api/v1/event-type/ticket.sold', { body: { envelope: ENVELOPE } })).body.envelope).toEqual(ENVELOPE);
    expect((await api.call('PUT', '/api/v1/event-type/ticket.sold', { body: { description: 'x' } })).body.envelope).toBeNull();
  });

  it('refuses an unknown placeholder, a template without {{payload}}, and a bad spread, naming the path', async () => {
    const bad = await api.call('POST', '/api/v1/app', { body: { name: 'Bad', envelope: { data: '{{payload}}', meta: { at: '{{message.createdAt}}' } } } });
    expect(bad.status).toBe(422);
    expect(locs(bad.body)).toEqual(['body.envelope.meta.at']);
    expect(msgOf(bad.body, 'body.envelope.meta.at')).toMatch(/unknown placeholder/);
    const noPayload = await api.call('POST', '/api/v1/event-type', { body: { name: 'no.payload', description: '', envelope: { id: '{{message.id}}' } } });
    expect(noPayload.status).toBe(422);
    expect(locs(noPayload.body)).toEqual(['body.envelope']);
    expect(msgOf(noPayload.body, 'body.envelope')).toMatch(/\{\{payload\}\}/);
    const spread = await api.call('PATCH', '/api/v1/event-type/ticket.sold', { body: { envelope: { '...': '{{message.id}}', data: '{{payload}}' } } });
    expect(spread.status).toBe(422);
    expect(locs(spread.body)).toEqual(['body.envelope....']);
    expect((await api.call('POST', '/api/v1/app', { body: { name: 'Arr', envelope: ['{{payload}}'] } })).status).toBe(422);
  });
});
