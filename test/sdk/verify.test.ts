/**
 * herald/verify: the receiver library. The old call shape keeps working; options take a profile,
 * one or several secrets or public keys, a tolerance; the throwing variant names the check that failed.
 * No database, no network: requests are signed with the core's signatureHeaders().
 */
import { describe, expect, it } from 'vitest';
import { generateProfileSecret, signatureHeaders, signingKeyOf, type SignatureProfile } from '../../src/core/signature-profile.js';
import { generateSecret, parseSecret, webhookHeaders, type VerifyResult } from '../../src/core/signing.js';
import {
  assertVerifyOptions,
  STATUS_OF,
  verifyWebhook,
  verifyWebhookOrThrow,
  WebhookVerificationError,
  type HmacProfile,
  type WebhookVerifyResult,
} from '../../src/sdk/verify.js';

const NOW = 1_700_000_000;
const body = JSON.stringify({ type: 'order.paid', data: { id: 'o_1', amount: 4200, note: 'café' } });
const HMAC_BODY: HmacProfile = { scheme: 'hmac-sha256', header: 'X-Comps-Signature', timestampHeader: 'X-Comps-Timestamp', content: 'body', encoding: 'hex', key: 'utf8' };
const HMAC_HEX: HmacProfile = { scheme: 'hmac-sha256', header: 'X-Northwind-Signature', timestampHeader: 'X-Northwind-Timestamp', content: 'timestamp.body', encoding: 'hex', key: 'hex' };
const HMAC_NO_TS: HmacProfile = { scheme: 'hmac-sha256', header: 'X-Body-Signature', content: 'body', encoding: 'base64', key: 'utf8' };
const ED25519 = { scheme: 'ed25519' } as const;

function signed(profile: SignatureProfile, secrets: string[], ts = NOW, text = body) {
  return signatureHeaders(profile, secrets.map((s) => signingKeyOf(profile, s)), 'msg_sdk_1', ts, Buffer.from(text));
}

/** Runs the throwing variant and returns the error it raised. */
function thrown(fn: () => unknown): WebhookVerificationError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WebhookVerificationError);
    return e as WebhookVerificationError;
  }
  throw new Error('expected a WebhookVerificationError');
}

describe('verifyWebhook: backward compatible', () => {
  it('takes the old input (secrets array, headers, body) and returns the old result shape', () => {
    const secret = generateSecret();
    const headers = webhookHeaders([parseSecret(secret)], 'msg_old', Math.floor(Date.now() / 1000), body);
    const result: VerifyResult = verifyWebhook({ secrets: [secret], headers, body });
    expect(result).toEqual({ ok: true, msgId: 'msg_old', timestamp: Number(headers['webhook-timestamp']) });
    if (result.ok) expect(result.msgId.startsWith('msg_')).toBe(true); // typed string, not string | null
    expect(verifyWebhook({ secrets: [generateSecret()], headers, body })).toMatchObject({ ok: false, reason: 'no_matching_signature' });
    expect(verifyWebhook({ secrets: [secret], headers, body: Buffer.from(body), toleranceSeconds: 10 }).ok).toBe(true);
  });

  it('accepts a single secret string, a Uint8Array body, and the receiver clock as nowSeconds', () => {
    const secret = generateSecret();
    const headers = signed({ scheme: 'standard' }, [secret]);
    expect(verifyWebhook({ secrets: secret, headers, body: new TextEncoder().encode(body), nowSeconds: NOW }).ok).toBe(true);
    expect(verifyWebhook({ secrets: secret, headers, body, nowSeconds: NOW + 301 })).toMatchObject({ ok: false, reason: 'timestamp_too_old' });
  });
});

describe('verifyWebhook: profiles', () => {
  it('hmac-sha256 with a named header, a timestamp header and UTF-8 key; no message id', () => {
    const secret = 'comps_secret_2f9d8c7b6a5e4d3c';
    const result = verifyWebhook({ profile: HMAC_BODY, secrets: secret, headers: signed(HMAC_BODY, [secret]), body, nowSeconds: NOW });
    expect(result).toEqual({ ok: true, msgId: null, timestamp: NOW });
  });

  it('hmac-sha256 of {timestamp}.{body} with a hex-decoded key', () => {
    const { secret } = generateProfileSecret(HMAC_HEX);
    expect(verifyWebhook({ profile: HMAC_HEX, secrets: [secret], headers: signed(HMAC_HEX, [secret]), body, nowSeconds: NOW }).ok).toBe(true);
  });

  it('hmac-sha256 without a timestamp header has no timestamp and no replay window', () => {
    const secret = 'body_whsec_8f2c1e9a7b6d5c4e';
    const r = verifyWebhook({ profile: HMAC_NO_TS, secrets: secret, headers: signed(HMAC_NO_TS, [secret], 0), body, nowSeconds: NOW });
    expect(r).toEqual({ ok: true, msgId: null, timestamp: null });
  });

  it('ed25519 verifies with publicKeys (one or several) and also takes whpk_ keys passed as secrets', () => {
    const a = generateProfileSecret(ED25519);
    const b = generateProfileSecret(ED25519);
    const headers = signed(ED25519, [a.secret, b.secret]);
    expect(verifyWebhook({ profile: ED25519, publicKeys: a.publicKey!, headers, body, nowSeconds: NOW })).toEqual({ ok: true, msgId: 'msg_sdk_1', timestamp: NOW });
    expect(verifyWebhook({ profile: ED25519, publicKeys: [generateProfileSecret(ED25519).publicKey!, b.publicKey!], headers, body, nowSeconds: NOW }).ok).toBe(true);
    expect(verifyWebhook({ profile: ED25519, secrets: [b.publicKey!], headers, body, nowSeconds: NOW }).ok).toBe(true);
  });

  it('a result typed for a profile variable is the union of both shapes', () => {
    const profile: SignatureProfile = HMAC_BODY;
    const secret = 'comps_secret_2f9d8c7b6a5e4d3c';
    const r: WebhookVerifyResult = verifyWebhook({ profile, secrets: secret, headers: signed(profile, [secret]), body, nowSeconds: NOW });
    expect(r.ok && r.msgId).toBeNull();
  });
});

describe('verifyWebhook: what to verify with', () => {
  it('an ed25519 signing key (whsk_) is refused, and the detail gives its public key', () => {
    const { secret, publicKey } = generateProfileSecret(ED25519);
    const r = verifyWebhook({ profile: ED25519, secrets: secret, headers: signed(ED25519, [secret]), body, nowSeconds: NOW });
    expect(r).toMatchObject({ ok: false, reason: 'bad_secret' });
    expect(r.ok || r.detail).toContain(publicKey!);
  });

  it('ed25519 with nothing to verify with points at the public keys URL', () => {
    const r = verifyWebhook({ profile: ED25519, headers: {}, body, nowSeconds: NOW });
    expect(r).toMatchObject({ ok: false, reason: 'bad_secret' });
    expect(r.ok || r.detail).toContain('/api/v1/public/endpoint/{endpoint_id}/keys');
  });

  it('a whpk_ key under an HMAC profile, or publicKeys under one, says to use the ed25519 profile', () => {
    const { publicKey } = generateProfileSecret(ED25519);
    const a = verifyWebhook({ secrets: [publicKey!], headers: {}, body, nowSeconds: NOW });
    expect(a).toMatchObject({ ok: false, reason: 'bad_secret' });
    expect(a.ok || a.detail).toContain("scheme: 'ed25519'");
    const b = verifyWebhook({ profile: HMAC_BODY, publicKeys: [publicKey!], headers: {}, body, nowSeconds: NOW });
    expect(b).toMatchObject({ ok: false, reason: 'bad_secret' });
    expect(b.ok || b.detail).toContain('pass secrets');
    expect(verifyWebhook({ headers: {}, body })).toMatchObject({ ok: false, reason: 'bad_secret' });
  });

  it('an invalid profile or tolerance is a programming error: TypeError naming the field', () => {
    const bad = { scheme: 'hmac-sha256', header: 'X-Sig', content: 'timestamp.body', encoding: 'hex', key: 'hex' } as HmacProfile;
    expect(() => verifyWebhook({ profile: bad, secrets: 'x', headers: {}, body })).toThrow(/invalid profile: timestampHeader/);
    expect(() => verifyWebhook({ secrets: 'x', headers: {}, body, toleranceSeconds: -1 })).toThrow(TypeError);
  });

  it('assertVerifyOptions tries every secret under the profile', () => {
    expect(() => assertVerifyOptions({ secrets: [generateSecret()] })).not.toThrow();
    expect(() => assertVerifyOptions({ profile: HMAC_HEX, secrets: ['not-hex-not-hex-not-hex-not-hex!'] })).toThrow(/secret #1 is unusable: .*hex/);
    expect(() => assertVerifyOptions({ profile: ED25519, publicKeys: ['whpk_abc'] })).toThrow(/public key #1/);
    expect(() => assertVerifyOptions({ profile: HMAC_BODY })).toThrow(WebhookVerificationError);
  });
});

describe('verifyWebhookOrThrow: each failed check has its reason and what to do', () => {
  const secret = generateSecret();
  const headers = signed({ scheme: 'standard' }, [secret]);
  const input = { secrets: secret, headers, body, nowSeconds: NOW };

  it('returns the verified id and timestamp', () => {
    expect(verifyWebhookOrThrow(input)).toEqual({ ok: true, msgId: 'msg_sdk_1', timestamp: NOW });
  });

  it('missing header', () => {
    const e = thrown(() => verifyWebhookOrThrow({ ...input, headers: { 'webhook-id': 'msg_sdk_1' } }));
    expect(e).toMatchObject({ reason: 'missing_headers', status: 401, name: 'WebhookVerificationError' });
    expect(e.detail).toContain('webhook-timestamp, webhook-signature');
    expect(e.message).toContain('missing_headers');
  });

  it('stale timestamp', () => {
    const e = thrown(() => verifyWebhookOrThrow({ ...input, nowSeconds: NOW + 600 }));
    expect(e.reason).toBe('timestamp_too_old');
    expect(e.detail).toContain('NTP');
  });

  it('future timestamp', () => {
    expect(thrown(() => verifyWebhookOrThrow({ ...input, nowSeconds: NOW - 600 })).reason).toBe('timestamp_too_new');
  });

  it('wrong secret', () => {
    const e = thrown(() => verifyWebhookOrThrow({ ...input, secrets: generateSecret() }));
    expect(e).toMatchObject({ reason: 'no_matching_signature', bodyAltered: false });
    expect(e.detail).toContain("endpoint's current one");
  });

  it('body altered: re-serialised JSON is named as such (the secret is right)', () => {
    const reserialised = JSON.stringify(JSON.parse(body), null, 2);
    const e = thrown(() => verifyWebhookOrThrow({ ...input, body: reserialised }));
    expect(e).toMatchObject({ reason: 'no_matching_signature', bodyAltered: true });
    expect(e.detail).toContain('compact JSON form verifies');
    // The same for the hmac profiles.
    const s = 'comps_secret_2f9d8c7b6a5e4d3c';
    const h = verifyWebhook({ profile: HMAC_BODY, secrets: s, headers: signed(HMAC_BODY, [s]), body: reserialised, nowSeconds: NOW });
    expect(h).toMatchObject({ ok: false, reason: 'no_matching_signature', bodyAltered: true });
    // A body changed in content is not mistaken for a re-serialisation.
    const changed = verifyWebhook({ ...input, body: body.replace('4200', '4201') });
    expect(changed).toMatchObject({ ok: false, reason: 'no_matching_signature' });
    expect(changed).not.toHaveProperty('bodyAltered');
  });

  it('unusable secret, with the status telling Herald to retry once fixed', () => {
    const e = thrown(() => verifyWebhookOrThrow({ ...input, secrets: 'whsec_nope' }));
    expect(e).toMatchObject({ reason: 'bad_secret', status: 500 });
    expect(e.detail).toContain('secret #1 is unusable');
  });

  it('every reason has a status: 401 for a request that fails, 5xx for receiver misconfiguration', () => {
    expect(STATUS_OF).toMatchObject({ missing_headers: 401, no_matching_signature: 401, timestamp_too_old: 401, bad_secret: 500, raw_body_unavailable: 500, body_too_large: 413 });
  });
});
