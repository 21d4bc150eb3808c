import { describe, it, expect, vi, afterEach } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { HeraldError } from './errors.js';
import {
  generateSecret,
  parseSecret,
  signatureHeader,
  signPayload,
  verifySignature,
  webhookHeaders,
  type VerifyOptions,
} from './signing.js';

// Test vector from the Standard Webhooks / Svix documentation.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  msgId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const bytes = (n: number, v = 7) => Buffer.alloc(n, v);
const secretOf = (n: number, v = 7) => `whsec_${bytes(n, v).toString('base64')}`;

/** The vector's headers, with any of them replaced (undefined removes one). */
function headers(o: VerifyOptions['headers'] = {}): VerifyOptions['headers'] {
  const base = { 'webhook-id': VECTOR.msgId, 'webhook-timestamp': String(VECTOR.timestamp), 'webhook-signature': VECTOR.signature };
  return { ...base, ...o };
}
const headersWith = (signature: string) => headers({ 'webhook-signature': signature });

function verify(overrides: Partial<VerifyOptions> = {}) {
  return verifySignature({ secrets: [VECTOR.secret], headers: headers(), body: VECTOR.body, nowSeconds: VECTOR.timestamp, ...overrides });
}

function expectFailure(result: ReturnType<typeof verifySignature>, reason: string) {
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error('unreachable');
  expect(result.reason).toBe(reason);
  return result.detail;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('generateSecret', () => {
  it('is whsec_ + base64 of 24 bytes by default', () => {
    const s = generateSecret(undefined, bytes);
    expect(s).toBe(`whsec_${bytes(24).toString('base64')}`);
    expect(parseSecret(s)).toEqual(bytes(24));
  });

  it('accepts 24..64 bytes and uses real randomness by default', () => {
    expect(parseSecret(generateSecret(64))).toHaveLength(64);
    expect(parseSecret(generateSecret(32))).toHaveLength(32);
    expect(generateSecret()).not.toBe(generateSecret());
  });

  it('rejects sizes outside 24..64 and non-integers', () => {
    for (const n of [0, 23, 65, 24.5, Number.NaN]) expect(() => generateSecret(n), String(n)).toThrow(HeraldError);
  });

  it('rejects a randomness source that returns too few bytes', () => {
    expect(() => generateSecret(24, () => bytes(10))).toThrow(/returned 10 bytes/);
  });

  it('is usable by the official library', () => {
    const s = generateSecret(32);
    expect(() => new Webhook(s)).not.toThrow();
  });
});

describe('parseSecret', () => {
  it('decodes the key with or without the whsec_ prefix', () => {
    expect(parseSecret(VECTOR.secret)).toEqual(Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'));
    expect(parseSecret('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toEqual(parseSecret(VECTOR.secret));
  });

  it('accepts padded base64 at the bounds', () => {
    expect(parseSecret(secretOf(25))).toHaveLength(25);
    expect(parseSecret(secretOf(64))).toHaveLength(64);
  });

  it.each([
    ['empty', 'whsec_'],
    ['too short', secretOf(23)],
    ['too long', secretOf(65)],
    ['not base64', 'whsec_not*base64*at*all*but*long*enough!!'],
    ['url-safe base64', `whsec_${Buffer.alloc(24, 0xfb).toString('base64url')}`],
    ['missing padding', secretOf(25).replace(/=+$/, '')],
    ['whitespace inside', `whsec_${bytes(24).toString('base64').slice(0, 16)} ${bytes(24).toString('base64').slice(16)}`],
    ['non-canonical trailing bits', `whsec_${bytes(25).toString('base64').replace(/w==$/, 'x==')}`],
    ['hex', `whsec_${'ab'.repeat(32)}x`],
  ])('rejects %s with a validation error that never echoes the secret', (_name, value) => {
    try {
      parseSecret(value);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(HeraldError);
      expect((e as HeraldError).code).toBe('validation');
      expect((e as HeraldError).detail).toMatch(/whsec_.*base64 of 24 to 64 random bytes/);
      const body = value.slice('whsec_'.length);
      if (body.length > 8) expect((e as HeraldError).detail).not.toContain(body);
    }
  });

  it('says how many bytes a wrong-length secret decodes to', () => {
    expect(() => parseSecret(secretOf(16))).toThrow(/decodes to 16 bytes/);
  });
});

describe('signPayload', () => {
  it('matches the published test vector', () => {
    expect(signPayload(parseSecret(VECTOR.secret), VECTOR.msgId, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
  });

  it('signs the body bytes exactly: a string and its UTF-8 buffer give the same signature', () => {
    const key = parseSecret(VECTOR.secret);
    const body = '{"name":"Zoë 🎉"}';
    expect(signPayload(key, 'msg_1', 1, Buffer.from(body, 'utf8'))).toBe(signPayload(key, 'msg_1', 1, body));
  });

  it('changes with every input', () => {
    const key = parseSecret(VECTOR.secret);
    const base = signPayload(key, 'msg_1', 100, '{}');
    expect(signPayload(key, 'msg_2', 100, '{}')).not.toBe(base);
    expect(signPayload(key, 'msg_1', 101, '{}')).not.toBe(base);
    expect(signPayload(key, 'msg_1', 100, '{ }')).not.toBe(base);
    expect(signPayload(bytes(24, 1), 'msg_1', 100, '{}')).not.toBe(base);
  });

  it('hashes non-UTF-8 bodies byte for byte', () => {
    const key = parseSecret(VECTOR.secret);
    const a = signPayload(key, 'm', 1, Buffer.from([0xff, 0xfe]));
    const b = signPayload(key, 'm', 1, Buffer.from([0xff, 0xfd]));
    expect(a).not.toBe(b);
  });

  it('refuses fractional or negative timestamps', () => {
    const key = parseSecret(VECTOR.secret);
    expect(() => signPayload(key, 'm', 1.5, '')).toThrow(HeraldError);
    expect(() => signPayload(key, 'm', -1, '')).toThrow(HeraldError);
  });
});

describe('signatureHeader and webhookHeaders', () => {
  it('emits one space-separated signature per key, in order', () => {
    const keys = [parseSecret(VECTOR.secret), bytes(32, 3)];
    const header = signatureHeader(keys, VECTOR.msgId, VECTOR.timestamp, VECTOR.body);
    const parts = header.split(' ');
    expect(parts).toHaveLength(2);
    expect(parts[0]).toBe(VECTOR.signature);
    expect(parts[1]).toBe(signPayload(keys[1]!, VECTOR.msgId, VECTOR.timestamp, VECTOR.body));
  });

  it('refuses to sign without a key', () => {
    expect(() => signatureHeader([], 'm', 1, '')).toThrow(HeraldError);
  });

  it('builds the three headers', () => {
    expect(webhookHeaders([parseSecret(VECTOR.secret)], VECTOR.msgId, VECTOR.timestamp, VECTOR.body)).toEqual({
      'webhook-id': VECTOR.msgId,
      'webhook-timestamp': String(VECTOR.timestamp),
      'webhook-signature': VECTOR.signature,
    });
  });
});

describe('verifySignature', () => {
  it('accepts the test vector, as a string or a Buffer body', () => {
    expect(verify()).toEqual({ ok: true, msgId: VECTOR.msgId, timestamp: VECTOR.timestamp });
    expect(verify({ body: Buffer.from(VECTOR.body) }).ok).toBe(true);
  });

  const id = VECTOR.msgId;
  const ts = String(VECTOR.timestamp);
  const sig = VECTOR.signature;
  it.each([
    ['mixed-case names', { 'Webhook-Id': id, 'WEBHOOK-TIMESTAMP': ts, 'webhook-Signature': sig }],
    ['svix-* names', { 'svix-id': id, 'Svix-Timestamp': ts, 'svix-signature': sig }],
    ['webhook-* preferred over svix-*', { 'svix-id': 'msg_other', 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sig }],
    ['array values (repeated headers)', { 'webhook-id': [id], 'webhook-timestamp': [ts], 'webhook-signature': ['v1,AAAA', sig] }],
    ['a padded timestamp', { 'webhook-id': id, 'webhook-timestamp': ` ${ts} `, 'webhook-signature': sig }],
  ])('accepts %s', (_name, h: VerifyOptions['headers']) => {
    expect(verify({ headers: h })).toEqual({ ok: true, msgId: id, timestamp: VECTOR.timestamp });
  });

  it('finds the matching signature among several (rotation), in any position', () => {
    const other = signPayload(bytes(24, 9), VECTOR.msgId, VECTOR.timestamp, VECTOR.body);
    expect(verify({ headers: headersWith(`${other} ${sig}`) }).ok).toBe(true);
    expect(verify({ headers: headersWith(`${sig} ${other}`) }).ok).toBe(true);
    expect(verify({ headers: headersWith(`${other},  ${sig}`) }).ok).toBe(true); // joined by a proxy with ", "
  });

  it('accepts when any of several secrets matches (receiver side rotation)', () => {
    expect(verify({ secrets: [secretOf(24, 1), VECTOR.secret] }).ok).toBe(true);
  });

  it('ignores signatures of other versions', () => {
    const v1a = sig.replace('v1,', 'v1a,');
    expect(expectFailure(verify({ headers: headersWith(v1a) }), 'no_matching_signature')).toContain('no v1 signature');
    expect(verify({ headers: headersWith(`v1a,xyz ${sig}`) }).ok).toBe(true);
    expectFailure(verify({ headers: headersWith(sig.slice(3)) }), 'no_matching_signature');
  });

  it('rejects a modified body, id or timestamp with a helpful detail', () => {
    expect(expectFailure(verify({ body: '{"test":2432232314}' }), 'no_matching_signature')).toBe(
      "the signature did not match any secret: check the secret is the endpoint's current one and that the body is the raw bytes, not re-serialised JSON",
    );
    expectFailure(verify({ headers: headers({ 'webhook-id': 'msg_x' }) }), 'no_matching_signature');
    expectFailure(verify({ headers: headers({ 'webhook-timestamp': String(VECTOR.timestamp + 1) }) }), 'no_matching_signature');
  });

  it('rejects a wrong secret and truncated or extended signatures', () => {
    expectFailure(verify({ secrets: [secretOf(24, 1)] }), 'no_matching_signature');
    expectFailure(verify({ headers: headersWith(sig.slice(0, -1)) }), 'no_matching_signature');
    expectFailure(verify({ headers: headersWith(`${sig}A`) }), 'no_matching_signature');
  });

  it('reports missing headers by name', () => {
    const detail = expectFailure(verify({ headers: { 'webhook-id': VECTOR.msgId } }), 'missing_headers');
    expect(detail).toContain('missing header(s) webhook-timestamp, webhook-signature:');
    expectFailure(verify({ headers: {} }), 'missing_headers');
    for (const blank of ['  ', undefined, []]) {
      expectFailure(verify({ headers: headers({ 'webhook-id': blank }) }), 'missing_headers');
    }
  });

  it.each(['abc', '1614265330.5', '-1614265330', '1e9', '0x60383cf2', '16142653301234567'])(
    'rejects timestamp %j as bad_timestamp',
    (bad) => {
      const detail = expectFailure(verify({ headers: headers({ 'webhook-timestamp': bad }) }), 'bad_timestamp');
      expect(detail).toContain('integer Unix seconds');
    },
  );

  it('enforces the tolerance window at its exact edges (default 300 s)', () => {
    expect(verify({ nowSeconds: VECTOR.timestamp + 300 }).ok).toBe(true);
    expect(verify({ nowSeconds: VECTOR.timestamp - 300 }).ok).toBe(true);
    const old = expectFailure(verify({ nowSeconds: VECTOR.timestamp + 301 }), 'timestamp_too_old');
    expect(old).toContain('301 s ago');
    expect(old).toContain('clock');
    const future = expectFailure(verify({ nowSeconds: VECTOR.timestamp - 301 }), 'timestamp_too_new');
    expect(future).toContain('301 s in the future');
  });

  it('honours a custom tolerance', () => {
    expect(verify({ nowSeconds: VECTOR.timestamp + 10, toleranceSeconds: 10 }).ok).toBe(true);
    expectFailure(verify({ nowSeconds: VECTOR.timestamp + 11, toleranceSeconds: 10 }), 'timestamp_too_old');
    expectFailure(verify({ nowSeconds: VECTOR.timestamp + 1, toleranceSeconds: 0 }), 'timestamp_too_old');
  });

  it('checks the timestamp before the signature, so replays are reported as such', () => {
    expectFailure(verify({ nowSeconds: VECTOR.timestamp + 3600, body: 'tampered' }), 'timestamp_too_old');
  });

  it('reports unusable secrets as bad_secret, by position and without echoing them', () => {
    expect(expectFailure(verify({ secrets: [] }), 'bad_secret')).toContain('no secret');
    const detail = expectFailure(verify({ secrets: [VECTOR.secret, 'whsec_c2hvcnQ='] }), 'bad_secret');
    expect(detail).toContain('secret #2');
    expect(detail).not.toContain('c2hvcnQ');
  });
});

describe('interoperability with the official standardwebhooks package', () => {
  const FIXED_NOW = new Date('2024-05-01T12:00:00Z');
  const nowSeconds = Math.floor(FIXED_NOW.getTime() / 1000);
  const body = JSON.stringify({ type: 'order.paid', data: { id: 'ord_1', total: 4200, note: 'café ✓' } });

  it('a Herald signature verifies with standardwebhooks', () => {
    vi.useFakeTimers({ now: FIXED_NOW, toFake: ['Date'] });
    const secret = generateSecret(32);
    const headers = webhookHeaders([parseSecret(secret)], 'msg_herald_1', nowSeconds, body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(secret).verify(Buffer.from(body), headers)).toEqual(JSON.parse(body));
  });

  it('a rotation header (two keys) verifies with standardwebhooks holding either secret', () => {
    vi.useFakeTimers({ now: FIXED_NOW, toFake: ['Date'] });
    const oldSecret = generateSecret();
    const newSecret = generateSecret(48);
    const headers = webhookHeaders([parseSecret(newSecret), parseSecret(oldSecret)], 'msg_rot', nowSeconds, body);
    expect(() => new Webhook(oldSecret).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(newSecret).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow();
  });

  it('a standardwebhooks signature verifies with verifySignature', () => {
    const secret = generateSecret(64);
    const signature = new Webhook(secret).sign('msg_theirs', FIXED_NOW, body);
    const result = verifySignature({
      secrets: [secret],
      headers: { 'webhook-id': 'msg_theirs', 'webhook-timestamp': String(nowSeconds), 'webhook-signature': signature },
      body: Buffer.from(body),
      nowSeconds,
    });
    expect(result).toEqual({ ok: true, msgId: 'msg_theirs', timestamp: nowSeconds });
    expect(signature).toBe(signPayload(parseSecret(secret), 'msg_theirs', nowSeconds, body));
  });

  it('agrees with standardwebhooks on the published test vector', () => {
    const theirs = new Webhook(VECTOR.secret).sign(VECTOR.msgId, new Date(VECTOR.timestamp * 1000), VECTOR.body);
    expect(theirs).toBe(VECTOR.signature);
  });
});
