/**
 * Signature profiles: every scheme and option signs and verifies, digests match an independent
 * computation (the contract receivers already implement), rotation follows the file header, and each
 * way a request fails to verify has its reason. `standard` is checked against the official
 * `standardwebhooks` package both ways; `ed25519` against node:crypto over the spec's `{id}.{timestamp}.{body}`
 * (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md, "Signature scheme").
 */
import { createHmac, createPublicKey, verify } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  ed25519PublicKeyOf,
  generateProfileSecret,
  parseEd25519PublicKey,
  profileProblems,
  signatureHeaders,
  signingKeyOf,
  verifyWithProfile,
  type ProfileVerifyInput,
  type SignatureProfile,
} from './signature-profile.js';
import { generateSecret, parseSecret } from './signing.js';

type HmacProfile = Extract<SignatureProfile, { scheme: 'hmac-sha256' }>;

const NOW = 1_700_000_000;
const MSG = 'msg_2Zp0w5b1nT6dE7Qy';
/** Non-ASCII and a slash, so any re-encoding of the body shows. */
const BODY = Buffer.from('{"type":"order.paid","data":{"id":"o_1","customer":"Zoë","url":"https://x/y","amount":4200}}', 'utf8');

const STANDARD: SignatureProfile = { scheme: 'standard' };
const ED25519: SignatureProfile = { scheme: 'ed25519' };

/** Every hmac-sha256 combination (timestamp.body needs a timestamp header, see profileProblems). */
const HMAC_PROFILES: HmacProfile[] = [];
for (const content of ['body', 'timestamp.body'] as const) {
  for (const encoding of ['hex', 'base64'] as const) {
    for (const key of ['utf8', 'hex'] as const) {
      for (const timestampHeader of content === 'body' ? [null, 'X-Comps-Timestamp'] : ['X-Comps-Timestamp']) {
        HMAC_PROFILES.push({ scheme: 'hmac-sha256', header: 'X-Comps-Signature', timestampHeader, content, encoding, key });
      }
    }
  }
}
const ALL: SignatureProfile[] = [STANDARD, ED25519, ...HMAC_PROFILES];

const label = (p: SignatureProfile) =>
  p.scheme === 'hmac-sha256' ? `hmac-sha256 ${p.content} ${p.encoding} key=${p.key} ts=${p.timestampHeader ?? 'none'}` : p.scheme;

/** A secret for `p` and what a receiver verifies with (the public key for ed25519, else the secret). */
function credentials(p: SignatureProfile): { secret: string; verifier: string } {
  const { secret, publicKey } = generateProfileSecret(p);
  return { secret, verifier: publicKey ?? secret };
}

function sign(p: SignatureProfile, secrets: string[], timestamp = NOW, body: Buffer = BODY, msgId = MSG): Record<string, string> {
  return signatureHeaders(p, secrets.map((s) => signingKeyOf(p, s)), msgId, timestamp, body);
}

function check(p: SignatureProfile, verifiers: string[], headers: ProfileVerifyInput['headers'], extra: Partial<ProfileVerifyInput> = {}) {
  return verifyWithProfile({ profile: p, secrets: verifiers, headers, body: BODY, nowSeconds: NOW, ...extra });
}

/** The hmac-sha256 digest as a platform's receiver computes it, without Herald's code. */
function independentDigest(p: HmacProfile, secret: string, timestamp: number, body: Buffer): string {
  const key = p.key === 'hex' ? Buffer.from(secret, 'hex') : Buffer.from(secret, 'utf8');
  const message = p.content === 'body' ? body : Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), body]);
  return createHmac('sha256', key).update(message).digest(p.encoding);
}

/** An Ed25519 public key from `whpk_<base64 of 32 raw bytes>`, via SPKI DER (RFC 8410), not Herald's parser. */
function independentPublicKey(whpk: string) {
  const raw = Buffer.from(whpk.slice('whpk_'.length), 'base64');
  expect(raw.length).toBe(32);
  return createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]), format: 'der', type: 'spki' });
}

describe.each(ALL.map((p) => [label(p), p] as const))('%s', (_name, p) => {
  const timed = p.scheme !== 'hmac-sha256' || p.timestampHeader !== null;

  it('signs and verifies, returning the signed timestamp and message id', () => {
    const { secret, verifier } = credentials(p);
    const result = check(p, [verifier], sign(p, [secret]));
    expect(result).toEqual({ ok: true, timestamp: timed ? NOW : null, msgId: p.scheme === 'hmac-sha256' ? null : MSG });
  });

  it('verifies a body given as a string the same as its bytes, with headers in any casing or as arrays', () => {
    const { secret, verifier } = credentials(p);
    const headers = Object.fromEntries(Object.entries(sign(p, [secret])).map(([k, v]) => [k.toUpperCase(), [v]]));
    expect(check(p, [verifier], headers, { body: BODY.toString('utf8') }).ok).toBe(true);
  });

  it('rejects a tampered body, and a body re-serialised with other spacing', () => {
    const { secret, verifier } = credentials(p);
    const headers = sign(p, [secret]);
    const tampered = Buffer.from(BODY.toString('utf8').replace('4200', '4201'), 'utf8');
    expect(check(p, [verifier], headers, { body: tampered })).toMatchObject({ ok: false, reason: 'no_matching_signature' });
    const reserialised = JSON.stringify(JSON.parse(BODY.toString('utf8')), null, 2);
    const r = check(p, [verifier], headers, { body: reserialised });
    expect(r).toMatchObject({ ok: false, reason: 'no_matching_signature' });
    expect(r.ok || r.detail).toContain('raw bytes');
  });

  it('rejects a wrong secret (or key) that is well formed', () => {
    const { secret } = credentials(p);
    expect(check(p, [credentials(p).verifier], sign(p, [secret]))).toMatchObject({ ok: false, reason: 'no_matching_signature' });
  });

  it('names every missing header', () => {
    const { secret, verifier } = credentials(p);
    const r = check(p, [verifier], {});
    expect(r).toMatchObject({ ok: false, reason: 'missing_headers' });
    const names = p.scheme === 'hmac-sha256' ? [p.header, p.timestampHeader].filter(Boolean) : ['webhook-id', 'webhook-timestamp', 'webhook-signature'];
    for (const n of names) expect(r.ok || r.detail).toContain(n!);
    // Each header alone missing is reported too.
    const headers = sign(p, [secret]);
    for (const name of Object.keys(headers)) {
      const { [name]: _dropped, ...rest } = headers;
      const one = check(p, [verifier], rest);
      expect(one).toMatchObject({ ok: false, reason: 'missing_headers' });
      expect(one.ok || one.detail).toContain(name);
    }
  });

  if (timed) {
    it('accepts a timestamp exactly at the tolerance, rejects one second beyond either way', () => {
      const { secret, verifier } = credentials(p);
      expect(check(p, [verifier], sign(p, [secret], NOW - 300)).ok).toBe(true);
      expect(check(p, [verifier], sign(p, [secret], NOW + 300)).ok).toBe(true);
      const stale = check(p, [verifier], sign(p, [secret], NOW - 301));
      expect(stale).toMatchObject({ ok: false, reason: 'timestamp_too_old' });
      expect(stale.ok || stale.detail).toContain('301 s ago');
      const future = check(p, [verifier], sign(p, [secret], NOW + 301));
      expect(future).toMatchObject({ ok: false, reason: 'timestamp_too_new' });
      expect(future.ok || future.detail).toContain('301 s in the future');
    });

    it('honours toleranceSeconds', () => {
      const { secret, verifier } = credentials(p);
      const headers = sign(p, [secret], NOW - 3_600);
      expect(check(p, [verifier], headers).ok).toBe(false);
      expect(check(p, [verifier], headers, { toleranceSeconds: 3_600 }).ok).toBe(true);
      expect(check(p, [verifier], sign(p, [secret], NOW - 1), { toleranceSeconds: 0 })).toMatchObject({ reason: 'timestamp_too_old' });
    });

    it('rejects a timestamp that is not integer Unix seconds', () => {
      const { secret, verifier } = credentials(p);
      const headers = sign(p, [secret]);
      const name = p.scheme === 'hmac-sha256' ? p.timestampHeader! : 'webhook-timestamp';
      for (const bad of ['1700000000.5', '2023-11-14T22:13:20Z', '-5']) {
        expect(check(p, [verifier], { ...headers, [name]: bad })).toMatchObject({ ok: false, reason: 'bad_timestamp' });
      }
    });
  } else {
    it('has no timestamp, so neither the clock nor the tolerance matters', () => {
      const { secret, verifier } = credentials(p);
      const headers = sign(p, [secret], NOW - 86_400);
      expect(check(p, [verifier], headers)).toEqual({ ok: true, timestamp: null, msgId: null });
      expect(check(p, [verifier], headers, { nowSeconds: NOW + 10 * 86_400, toleranceSeconds: 0 }).ok).toBe(true);
    });
  }

  it('reports bad_secret when nothing is given to verify with', () => {
    const { secret } = credentials(p);
    expect(check(p, [], sign(p, [secret]))).toMatchObject({ ok: false, reason: 'bad_secret' });
  });
});

describe('hmac-sha256: the digest is what a platform receiver computes', () => {
  it.each(HMAC_PROFILES.map((p) => [label(p), p] as const))('%s', (_name, p) => {
    const { secret } = credentials(p);
    const headers = sign(p, [secret]);
    expect(headers['X-Comps-Signature']).toBe(independentDigest(p, secret, NOW, BODY));
    expect(headers['X-Comps-Signature']).toMatch(p.encoding === 'hex' ? /^[0-9a-f]{64}$/ : /^[A-Za-z0-9+/]{43}=$/);
    if (p.timestampHeader) expect(headers[p.timestampHeader]).toBe(String(NOW));
    expect(Object.keys(headers).sort()).toEqual(['X-Comps-Signature', ...(p.timestampHeader ? [p.timestampHeader] : [])].sort());
  });

  it('a hex key is generated as 64 hex characters and keys HMAC with the decoded bytes, not the text', () => {
    const p = HMAC_PROFILES.find((x) => x.key === 'hex' && x.content === 'timestamp.body' && x.encoding === 'hex')!;
    const { secret } = generateProfileSecret(p);
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    const digest = sign(p, [secret])['X-Comps-Signature'];
    const asText = createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${NOW}.`).update(BODY).digest('hex');
    expect(digest).not.toBe(asText);
    // A receiver that verifies with the same secret under key=utf8 does not match: the classic mistake.
    expect(check({ ...p, key: 'utf8' }, [secret], sign(p, [secret]))).toMatchObject({ ok: false, reason: 'no_matching_signature' });
  });

  it('the timestamp is signed in timestamp.body: changing it breaks the signature', () => {
    const p = HMAC_PROFILES.find((x) => x.content === 'timestamp.body')!;
    const { secret } = credentials(p);
    const headers = sign(p, [secret]);
    expect(check(p, [secret], { ...headers, 'X-Comps-Timestamp': String(NOW - 1) })).toMatchObject({ ok: false, reason: 'no_matching_signature' });
  });

  it('with content body, the timestamp header is checked for freshness but not signed', () => {
    const p = HMAC_PROFILES.find((x) => x.content === 'body' && x.timestampHeader !== null)!;
    const { secret } = credentials(p);
    const headers = sign(p, [secret]);
    expect(check(p, [secret], { ...headers, 'X-Comps-Timestamp': String(NOW - 1) }).ok).toBe(true);
    expect(check(p, [secret], { ...headers, 'X-Comps-Timestamp': String(NOW - 1_000) })).toMatchObject({ reason: 'timestamp_too_old' });
  });

  it('a hex-key profile with a non-hex secret is bad_secret, saying the secret must be hex', () => {
    for (const p of HMAC_PROFILES.filter((x) => x.key === 'hex')) {
      const headers = sign(p, [generateProfileSecret(p).secret]);
      for (const bad of [generateSecret(), 'abc', 'zz'.repeat(32), `${'ab'.repeat(32)}f`, 'ab'.repeat(15)]) {
        const r = check(p, [bad], headers);
        expect(r).toMatchObject({ ok: false, reason: 'bad_secret' });
        expect(r.ok || r.detail).toContain('hex');
      }
      expect(() => signingKeyOf(p, 'not hex at all, not at all')).toThrow(/hex/);
    }
  });

  it('a utf8-key secret shorter than 16 characters is bad_secret', () => {
    const p = HMAC_PROFILES.find((x) => x.key === 'utf8')!;
    const headers = sign(p, [generateProfileSecret(p).secret]);
    expect(check(p, ['short'], headers)).toMatchObject({ ok: false, reason: 'bad_secret' });
    expect(() => signingKeyOf(p, 'short')).toThrow(/16/);
  });
});

describe('rotation', () => {
  it.each([
    ['standard', STANDARD],
    ['ed25519', ED25519],
  ] as const)('%s carries one signature per key; the receiver verifies with either', (_n, p) => {
    const newer = credentials(p);
    const older = credentials(p);
    const headers = sign(p, [newer.secret, older.secret]);
    const sigs = headers['webhook-signature']!.split(' ');
    expect(sigs).toHaveLength(2);
    expect(sigs.every((s) => s.startsWith(p.scheme === 'ed25519' ? 'v1a,' : 'v1,'))).toBe(true);
    expect(check(p, [newer.verifier], headers).ok).toBe(true);
    expect(check(p, [older.verifier], headers).ok).toBe(true);
    expect(check(p, [credentials(p).verifier, older.verifier], headers).ok).toBe(true);
    expect(check(p, [credentials(p).verifier], headers)).toMatchObject({ ok: false, reason: 'no_matching_signature' });
    // A proxy that joins a repeated header with ", " still verifies.
    expect(check(p, [newer.verifier], { ...headers, 'webhook-signature': [sigs[1]!, sigs[0]!] }).ok).toBe(true);
    expect(check(p, [older.verifier], { ...headers, 'webhook-signature': sigs.join(', ') }).ok).toBe(true);
  });

  it.each(HMAC_PROFILES.map((p) => [label(p), p] as const))('%s carries exactly one digest, made with the oldest key (last in the list)', (_n, p) => {
    const newest = credentials(p);
    const middle = credentials(p);
    const oldest = credentials(p);
    const headers = sign(p, [newest.secret, middle.secret, oldest.secret]);
    expect(headers['X-Comps-Signature']).toBe(independentDigest(p, oldest.secret, NOW, BODY));
    expect(headers['X-Comps-Signature']).not.toContain(' ');
    // Receivers that have not switched keep verifying; those holding both secrets verify too.
    expect(check(p, [oldest.verifier], headers).ok).toBe(true);
    expect(check(p, [newest.verifier, oldest.verifier], headers).ok).toBe(true);
    expect(check(p, [newest.verifier], headers)).toMatchObject({ ok: false, reason: 'no_matching_signature' });
    // Once the grace period ends, the new key alone signs.
    expect(check(p, [newest.verifier, oldest.verifier], sign(p, [newest.secret])).ok).toBe(true);
  });
});

describe('ed25519 (v1a)', () => {
  it('verifies with node:crypto directly over "{id}.{timestamp}.{body}" with the whpk_ public key', () => {
    const { secret, publicKey } = generateProfileSecret(ED25519);
    expect(secret).toMatch(/^whsk_[A-Za-z0-9+/]{43}=$/);
    expect(publicKey).toMatch(/^whpk_[A-Za-z0-9+/]{43}=$/);
    expect(ed25519PublicKeyOf(secret)).toBe(publicKey);
    const headers = sign(ED25519, [secret]);
    expect(headers['webhook-id']).toBe(MSG);
    expect(headers['webhook-timestamp']).toBe(String(NOW));
    const [version, b64] = headers['webhook-signature']!.split(',');
    expect(version).toBe('v1a');
    const signature = Buffer.from(b64!, 'base64');
    expect(signature).toHaveLength(64);
    const content = Buffer.concat([Buffer.from(`${MSG}.${NOW}.`, 'utf8'), BODY]);
    expect(verify(null, content, independentPublicKey(publicKey!), signature)).toBe(true);
    expect(verify(null, content, parseEd25519PublicKey(publicKey!), signature)).toBe(true);
    // Not over the body alone, nor without the id.
    expect(verify(null, BODY, independentPublicKey(publicKey!), signature)).toBe(false);
    expect(verify(null, Buffer.concat([Buffer.from(`${NOW}.`), BODY]), independentPublicKey(publicKey!), signature)).toBe(false);
  });

  it('is deterministic (Ed25519, RFC 8032) and accepts a 64-byte seed+public secret', () => {
    const { secret, publicKey } = generateProfileSecret(ED25519);
    expect(sign(ED25519, [secret])).toEqual(sign(ED25519, [secret]));
    const seed = Buffer.from(secret.slice(5), 'base64');
    const long = `whsk_${Buffer.concat([seed, Buffer.from(publicKey!.slice(5), 'base64')]).toString('base64')}`;
    expect(sign(ED25519, [long])).toEqual(sign(ED25519, [secret]));
  });

  it('a whsk_ secret, an HMAC secret or a malformed key is bad_secret, not a mismatch', () => {
    const { secret } = generateProfileSecret(ED25519);
    const headers = sign(ED25519, [secret]);
    for (const bad of [secret, generateSecret(), 'whpk_abc', 'whpk_']) {
      const r = check(ED25519, [bad], headers);
      expect(r).toMatchObject({ ok: false, reason: 'bad_secret' });
      expect(r.ok || r.detail).toContain('public key #1');
    }
  });

  it('a malformed or truncated v1a signature is a mismatch, not an error', () => {
    const { secret, publicKey } = generateProfileSecret(ED25519);
    const headers = sign(ED25519, [secret]);
    for (const sig of ['v1a,abc', 'v1a,', `v1a,${Buffer.alloc(64).toString('base64')}`, `${headers['webhook-signature']!.slice(0, 40)}`]) {
      expect(check(ED25519, [publicKey!], { ...headers, 'webhook-signature': sig })).toMatchObject({ ok: false, reason: 'no_matching_signature' });
    }
  });
});

describe('schemes do not cross', () => {
  it('a standard v1 signature does not satisfy ed25519, and the detail names the profile', () => {
    const secret = generateSecret();
    const r = check(ED25519, [generateProfileSecret(ED25519).publicKey!], sign(STANDARD, [secret]));
    expect(r).toMatchObject({ ok: false, reason: 'no_matching_signature' });
    expect(r.ok || r.detail).toContain('v1a');
  });

  it('a v1a signature does not satisfy standard', () => {
    const r = check(STANDARD, [generateSecret()], sign(ED25519, [generateProfileSecret(ED25519).secret]));
    expect(r).toMatchObject({ ok: false, reason: 'no_matching_signature' });
    expect(r.ok || r.detail).toContain('v1,');
  });

  it('signing with a key of another scheme throws, saying to rotate', () => {
    const hmac = signingKeyOf(STANDARD, generateSecret());
    const ed = signingKeyOf(ED25519, generateProfileSecret(ED25519).secret);
    expect(() => signatureHeaders(ED25519, [hmac], MSG, NOW, BODY)).toThrow(/rotate/);
    expect(() => signatureHeaders(STANDARD, [ed], MSG, NOW, BODY)).toThrow(/rotate/);
    expect(() => signatureHeaders(HMAC_PROFILES[0]!, [ed], MSG, NOW, BODY)).toThrow(/rotate/);
    expect(() => signatureHeaders(STANDARD, [], MSG, NOW, BODY)).toThrow(/no valid signing key/);
  });
});

describe('standard: interoperates with the official standardwebhooks package', () => {
  // standardwebhooks checks the timestamp against the real clock, so these sign at the current time.
  const now = () => Math.floor(Date.now() / 1000);

  it('Herald-signed headers verify with standardwebhooks, with either secret during a rotation', () => {
    const a = generateSecret();
    const b = generateSecret();
    const headers = sign(STANDARD, [a, b], now());
    expect(new Webhook(a).verify(BODY.toString('utf8'), headers)).toEqual(JSON.parse(BODY.toString('utf8')));
    expect(new Webhook(b).verify(BODY, headers)).toEqual(JSON.parse(BODY.toString('utf8')));
    expect(() => new Webhook(generateSecret()).verify(BODY, headers)).toThrow();
    expect(() => new Webhook(a).verify(`${BODY.toString('utf8')} `, headers)).toThrow();
  });

  it('standardwebhooks-signed headers verify with verifyWithProfile', () => {
    const secret = generateSecret();
    const ts = now();
    const signature = new Webhook(secret).sign(MSG, new Date(ts * 1000), BODY.toString('utf8'));
    const headers = { 'webhook-id': MSG, 'webhook-timestamp': String(ts), 'webhook-signature': signature };
    expect(sign(STANDARD, [secret], ts)['webhook-signature']).toBe(signature);
    expect(verifyWithProfile({ profile: STANDARD, secrets: [secret], headers, body: BODY, nowSeconds: ts })).toEqual({ ok: true, timestamp: ts, msgId: MSG });
  });

  it('svix-* header names are accepted, and a bare-base64 secret keys the same HMAC', () => {
    const secret = generateSecret();
    const h = sign(STANDARD, [secret]);
    const svix = { 'svix-id': h['webhook-id'], 'svix-timestamp': h['webhook-timestamp'], 'svix-signature': h['webhook-signature'] };
    expect(check(STANDARD, [secret], svix).ok).toBe(true);
    expect(check(STANDARD, [secret.slice('whsec_'.length)], h).ok).toBe(true);
    expect(parseSecret(secret)).toHaveLength(24);
  });

  it('a profile left out means standard', () => {
    const secret = generateSecret();
    expect(verifyWithProfile({ secrets: [secret], headers: sign(STANDARD, [secret]), body: BODY, nowSeconds: NOW }).ok).toBe(true);
  });

  it('a malformed whsec_ secret is bad_secret', () => {
    const r = check(STANDARD, ['whsec_nope'], sign(STANDARD, [generateSecret()]));
    expect(r).toMatchObject({ ok: false, reason: 'bad_secret' });
    expect(r.ok || r.detail).toContain('secret #1');
  });
});

describe('profileProblems', () => {
  it('accepts every profile tested here', () => {
    for (const p of ALL) expect(profileProblems(p)).toEqual([]);
  });

  it('names the field that is wrong', () => {
    const paths = (p: unknown) => profileProblems(p).map((e) => e.path);
    expect(paths(null)).toEqual(['']);
    expect(paths({ scheme: 'rsa' })).toEqual(['scheme']);
    expect(paths({ scheme: 'standard', header: 'X-Sig' })).toEqual(['header']);
    expect(paths({ scheme: 'hmac-sha256', header: 'X-Sig', content: 'timestamp.body', encoding: 'hex', key: 'hex' })).toEqual(['timestampHeader']);
    expect(paths({ scheme: 'hmac-sha256', header: 'webhook-signature', content: 'body', encoding: 'hex', key: 'hex' })).toEqual(['header']);
    expect(paths({ scheme: 'hmac-sha256', header: 'X-Sig', timestampHeader: 'x-sig', content: 'body', encoding: 'hex', key: 'hex' })).toEqual(['timestampHeader']);
    expect(paths({ scheme: 'hmac-sha256', header: 'X Sig', content: 'raw', encoding: 'b32', key: 'bin', extra: 1 })).toEqual(['header', 'content', 'encoding', 'key', 'extra']);
  });
});
