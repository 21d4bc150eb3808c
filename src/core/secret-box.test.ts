import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { HeraldError } from './errors.js';
import { generateKeyString, keyFromBytes, keyFromString, SecretBox } from './secret-box.js';

const raw = (v: number) => Buffer.alloc(32, v);
const KEY_A = keyFromBytes(raw(1));
const KEY_B = keyFromBytes(raw(2));
const fixedIv = (n: number) => new Uint8Array(n).fill(0xab);
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

function configError(fn: () => unknown): HeraldError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HeraldError);
    expect((e as HeraldError).code).toBe('config');
    return e as HeraldError;
  }
  throw new Error('expected a config error');
}

describe('keyFromString', () => {
  it('derives the id from sha256 of the key', () => {
    const k = keyFromString(raw(1).toString('base64'));
    expect(k.key).toEqual(raw(1));
    expect(k.id).toBe(createHash('sha256').update(raw(1)).digest('hex').slice(0, 8));
    expect(k.id).toMatch(/^[0-9a-f]{8}$/);
    expect(keyFromString(raw(2).toString('base64')).id).not.toBe(k.id);
  });

  it('accepts base64, unpadded base64, base64url and hex (either case) of 32 bytes', () => {
    const bytes = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 8 + 3));
    for (const text of [
      bytes.toString('base64'),
      bytes.toString('base64').replace(/=+$/, ''),
      bytes.toString('base64url'),
      bytes.toString('hex'),
      bytes.toString('hex').toUpperCase(),
      `  ${bytes.toString('base64')}\n`,
    ]) {
      expect(keyFromString(text).key, text).toEqual(bytes);
    }
  });

  it('prefers hex for 64 hex characters (which are also valid base64)', () => {
    expect(keyFromString('00'.repeat(32)).key).toEqual(Buffer.alloc(32));
  });

  it.each([
    ['empty', ''],
    ['16 bytes', Buffer.alloc(16, 1).toString('base64')],
    ['33 bytes', Buffer.alloc(33, 1).toString('base64')],
    ['63 hex chars', 'a'.repeat(63)],
    ['garbage', 'not a key at all!'],
    ['a passphrase', 'correct horse battery staple'],
    ['truncated base64', raw(5).toString('base64').slice(0, 41)],
  ])('rejects %s with advice and without echoing the value', (_name, text) => {
    const e = configError(() => keyFromString(text));
    expect(e.detail).toContain('openssl rand -base64 32');
    if (text.length > 8) expect(e.detail).not.toContain(text);
  });

  it('says how many bytes a wrong-length key decodes to', () => {
    expect(configError(() => keyFromString(Buffer.alloc(16, 1).toString('base64'))).detail).toContain('decodes to 16 bytes');
  });
});

describe('keyFromBytes and generateKeyString', () => {
  it('rejects keys of the wrong size', () => {
    expect(configError(() => keyFromBytes(Buffer.alloc(31))).detail).toContain('got 31');
  });

  it('generates a parseable base64 key', () => {
    const s = generateKeyString();
    expect(keyFromString(s).key).toHaveLength(32);
    expect(generateKeyString()).not.toBe(s);
    expect(generateKeyString(() => raw(7))).toBe(raw(7).toString('base64'));
  });

  it('copies the bytes so later changes to the input do not change the key', () => {
    const input = raw(3);
    const k = keyFromBytes(input);
    input.fill(0);
    expect(k.key).toEqual(raw(3));
  });
});

describe('SecretBox', () => {
  it('round-trips, with and without associated data', () => {
    const box = new SecretBox(KEY_A);
    expect(box.open(box.seal(SECRET))).toBe(SECRET);
    expect(box.open(box.seal(SECRET, 'ep_1'), 'ep_1')).toBe(SECRET);
    expect(box.open(box.seal(''))).toBe('');
    const unicode = 'clé secrète 🔑';
    expect(box.open(box.seal(unicode, 'ep_2'), 'ep_2')).toBe(unicode);
    const big = 'x'.repeat(100_000);
    expect(box.open(box.seal(big))).toBe(big);
  });

  it('writes v1.<keyId>.<iv>.<ciphertext+tag> and is deterministic with a fixed IV', () => {
    const box = new SecretBox(KEY_A);
    const sealed = box.seal('hello', 'ep_1', fixedIv);
    const [v, id, iv, ct] = sealed.split('.');
    expect(v).toBe('v1');
    expect(id).toBe(KEY_A.id);
    expect(Buffer.from(iv!, 'base64')).toEqual(Buffer.alloc(12, 0xab));
    expect(Buffer.from(ct!, 'base64')).toHaveLength(5 + 16);
    expect(box.seal('hello', 'ep_1', fixedIv)).toBe(sealed);
    expect(sealed).not.toContain('hello');
  });

  it('uses a fresh random IV each time by default', () => {
    const box = new SecretBox(KEY_A);
    const a = box.seal(SECRET);
    const b = box.seal(SECRET);
    expect(a).not.toBe(b);
    expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
  });

  it('rejects an IV source returning the wrong length', () => {
    expect(() => new SecretBox(KEY_A).seal('x', undefined, () => new Uint8Array(8))).toThrow(HeraldError);
  });

  it('binds the associated data: a ciphertext cannot move to another row', () => {
    const box = new SecretBox(KEY_A);
    const sealed = box.seal(SECRET, 'ep_1');
    const e = configError(() => box.open(sealed, 'ep_2'));
    expect(e.detail).toContain(`secret sealed with key ${KEY_A.id} failed authentication`);
    expect(e.cause).toBeInstanceOf(Error);
    configError(() => box.open(sealed));
    configError(() => box.open(box.seal(SECRET), 'ep_1'));
  });

  it('treats no associated data like an empty string', () => {
    const box = new SecretBox(KEY_A);
    expect(box.open(box.seal(SECRET), '')).toBe(SECRET);
    expect(box.open(box.seal(SECRET, ''))).toBe(SECRET);
  });

  it('detects tampering with the ciphertext, the tag or the IV', () => {
    const box = new SecretBox(KEY_A);
    const sealed = box.seal(SECRET, 'ep_1', fixedIv);
    const [v, id, iv, ct] = sealed.split('.') as [string, string, string, string];
    const flip = (b64: string, index: number) => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[index] = bytes[index]! ^ 1;
      return bytes.toString('base64');
    };
    configError(() => box.open([v, id, iv, flip(ct, 0)].join('.'), 'ep_1'));
    configError(() => box.open([v, id, iv, flip(ct, Buffer.from(ct, 'base64').length - 1)].join('.'), 'ep_1'));
    configError(() => box.open([v, id, flip(iv, 0), ct].join('.'), 'ep_1'));
  });

  it('names an unknown key id and how to fix it', () => {
    const sealed = new SecretBox(KEY_B).seal(SECRET);
    const e = configError(() => new SecretBox(KEY_A).open(sealed));
    expect(e.detail).toContain(`secret was encrypted with key ${KEY_B.id} which is not configured`);
    expect(e.detail).toContain(KEY_A.id);
  });

  it('reports a key whose bytes changed under the same id as an authentication failure', () => {
    const sealed = new SecretBox(KEY_A).seal(SECRET);
    const forged = { id: KEY_A.id, key: raw(9) };
    expect(configError(() => new SecretBox(forged).open(sealed)).detail).toContain('failed authentication');
  });

  it.each([
    ['too few parts', 'v1.abcdef12.AAAA'],
    ['too many parts', 'v1.abcdef12.a.b.c'],
    ['unknown version', 'v2.abcdef12.q6urq6urq6urq6ur.AAAAAAAAAAAAAAAAAAAAAA=='],
    ['bad key id', 'v1.ABCDEF12.q6urq6urq6urq6ur.AAAAAAAAAAAAAAAAAAAAAA=='],
    ['short IV', 'v1.abcdef12.q6ur.AAAAAAAAAAAAAAAAAAAAAA=='],
    ['ciphertext shorter than the tag', 'v1.abcdef12.q6urq6urq6urq6ur.AAAA'],
    ['a plaintext secret stored by mistake', SECRET],
    ['empty', ''],
  ])('rejects a malformed value (%s)', (_name, value) => {
    const box = new SecretBox(KEY_A);
    expect(configError(() => box.open(value)).detail).toContain('not a sealed value');
    configError(() => box.needsReseal(value));
  });

  describe('rotation', () => {
    it('opens values sealed with a previous key and seals with the current one', () => {
      const old = new SecretBox(KEY_A);
      const sealedOld = old.seal(SECRET, 'ep_1');
      const rotated = new SecretBox(KEY_B, [KEY_A]);
      expect(rotated.currentKeyId).toBe(KEY_B.id);
      expect(rotated.open(sealedOld, 'ep_1')).toBe(SECRET);
      expect(rotated.seal(SECRET).split('.')[1]).toBe(KEY_B.id);
    });

    it('flags values that need resealing and reseals them', () => {
      const sealedOld = new SecretBox(KEY_A).seal(SECRET, 'ep_1');
      const rotated = new SecretBox(KEY_B, [KEY_A]);
      expect(rotated.needsReseal(sealedOld)).toBe(true);
      const fresh = rotated.reseal(sealedOld, 'ep_1');
      expect(rotated.needsReseal(fresh)).toBe(false);
      expect(rotated.open(fresh, 'ep_1')).toBe(SECRET);
      // Once every row is resealed the old key can go.
      expect(new SecretBox(KEY_B).open(fresh, 'ep_1')).toBe(SECRET);
      // Resealing keeps the binding to the row.
      configError(() => rotated.open(fresh, 'ep_2'));
    });

    it('does not flag values of a previous key id that is also current', () => {
      const box = new SecretBox(KEY_A, [KEY_A]);
      expect(box.needsReseal(box.seal(SECRET))).toBe(false);
    });

    it('refuses two different keys with the same id', () => {
      const clash = { id: KEY_A.id, key: raw(9) };
      expect(configError(() => new SecretBox(KEY_A, [clash])).detail).toContain(`share the id ${KEY_A.id}`);
    });

    it('refuses keys of the wrong size', () => {
      configError(() => new SecretBox({ id: 'deadbeef', key: Buffer.alloc(16) }));
      configError(() => new SecretBox(KEY_A, [{ id: 'deadbeef', key: Buffer.alloc(31) }]));
    });
  });
});
