/**
 * Endpoint signing secrets encrypted at rest with AES-256-GCM, so a database dump alone cannot forge
 * webhooks. Each sealed value names the key that sealed it; the key id is derived from the key itself
 * (nothing to configure, nothing to get out of sync). Rotation: configure the new key as current and the
 * old one as previous; `open` reads both, `needsReseal` finds rows to re-encrypt, then drop the old key.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { HeraldError } from './errors.js';

/** One encryption key. */
export interface SecretKey {
  /** First 8 hex characters of sha256(key): identifies the key in sealed values without revealing it. */
  id: string;
  /** The 32 raw key bytes (AES-256). */
  key: Buffer;
}

const KEY_BYTES = 32;
/** 96-bit IVs are GCM's native size (NIST SP 800-38D §8.2); random IVs are safe far beyond our volumes. */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';
const HOW_TO_GENERATE = 'generate one with `openssl rand -base64 32`';

function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/** Builds a SecretKey from raw bytes (e.g. read from a KMS). */
export function keyFromBytes(key: Uint8Array): SecretKey {
  if (key.length !== KEY_BYTES) {
    throw new HeraldError('config', `the encryption key must be ${KEY_BYTES} bytes; got ${key.length}; ${HOW_TO_GENERATE}`);
  }
  const bytes = Buffer.from(key);
  return { id: keyId(bytes), key: bytes };
}

/**
 * Parses a configured key: 64 hex characters or base64 (standard or URL-safe) of exactly 32 bytes.
 * Hex is tried first because 64 hex characters are also valid base64 (of 48 bytes). Never echoes the key.
 */
export function keyFromString(s: string): SecretKey {
  const text = s.trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return keyFromBytes(Buffer.from(text, 'hex'));
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (/^[A-Za-z0-9+/]+$/.test(b64)) {
    const bytes = Buffer.from(b64, 'base64');
    // The round trip rejects truncated input whose leftover bits Node would silently drop.
    const canonical = bytes.toString('base64').replace(/=+$/, '') === b64;
    if (canonical && bytes.length === KEY_BYTES) return keyFromBytes(bytes);
    if (canonical) {
      throw new HeraldError('config', `the encryption key decodes to ${bytes.length} bytes but must be ${KEY_BYTES}; ${HOW_TO_GENERATE}`);
    }
  }
  throw new HeraldError('config', `the encryption key must be base64 or hex of ${KEY_BYTES} bytes; ${HOW_TO_GENERATE}`);
}

/** A fresh key as base64, for `herald init` and docs. */
export function generateKeyString(random: (n: number) => Uint8Array = randomBytes): string {
  return keyFromBytes(random(KEY_BYTES)).key.toString('base64');
}

interface Parsed {
  keyId: string;
  iv: Buffer;
  sealed: Buffer;
}

function parse(sealed: string): Parsed {
  const parts = sealed.split('.');
  const bad = (why: string) =>
    new HeraldError('config', `stored secret is not a sealed value (${why}); expected "${VERSION}.<keyId>.<iv>.<ciphertext>"`);
  if (parts.length !== 4) throw bad(`${parts.length} dot-separated parts instead of 4`);
  const [version, id, iv, ct] = parts as [string, string, string, string];
  if (version !== VERSION) throw bad(`unknown format version "${version.slice(0, 16)}"`);
  if (!/^[0-9a-f]{8}$/.test(id)) throw bad('malformed key id');
  const ivBytes = Buffer.from(iv, 'base64');
  const ctBytes = Buffer.from(ct, 'base64');
  if (ivBytes.length !== IV_BYTES) throw bad(`IV is ${ivBytes.length} bytes instead of ${IV_BYTES}`);
  if (ctBytes.length < TAG_BYTES) throw bad('ciphertext shorter than the authentication tag');
  return { keyId: id, iv: ivBytes, sealed: ctBytes };
}

/** Encrypts and decrypts secrets with the current key, and decrypts with previous keys during rotation. */
export class SecretBox {
  readonly #current: SecretKey;
  readonly #keys = new Map<string, SecretKey>();

  constructor(current: SecretKey, previous: SecretKey[] = []) {
    this.#current = current;
    for (const k of [current, ...previous]) {
      if (k.key.length !== KEY_BYTES) {
        throw new HeraldError('config', `encryption key ${k.id} is ${k.key.length} bytes; it must be ${KEY_BYTES}`);
      }
      const existing = this.#keys.get(k.id);
      if (existing !== undefined && !existing.key.equals(k.key)) {
        // 32-bit ids collide with probability ~n²/2^33; refuse rather than decrypt with the wrong key.
        throw new HeraldError('config', `two different encryption keys share the id ${k.id}; replace one of them`);
      }
      this.#keys.set(k.id, k);
    }
  }

  /** Id of the key new values are sealed with. */
  get currentKeyId(): string {
    return this.#current.id;
  }

  /**
   * Encrypts `plaintext`. `aad` (e.g. the endpoint id) is authenticated but not stored: the value then only
   * opens with the same aad, so a ciphertext copied to another row is useless. No aad equals aad ''.
   */
  seal(plaintext: string, aad?: string, random: (n: number) => Uint8Array = randomBytes): string {
    const iv = Buffer.from(random(IV_BYTES));
    if (iv.length !== IV_BYTES) throw new HeraldError('internal', `randomness source returned ${iv.length} bytes for the IV`);
    const cipher = createCipheriv('aes-256-gcm', this.#current.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad ?? '', 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${this.#current.id}.${iv.toString('base64')}.${ct.toString('base64')}`;
  }

  /** Decrypts a value sealed by any configured key; HeraldError('config') says which key or row is wrong. */
  open(sealed: string, aad?: string): string {
    const p = parse(sealed);
    const key = this.#keys.get(p.keyId);
    if (key === undefined) {
      throw new HeraldError(
        'config',
        `secret was encrypted with key ${p.keyId} which is not configured; add that key to the previous encryption keys (configured: ${[...this.#keys.keys()].join(', ')})`,
      );
    }
    const decipher = createDecipheriv('aes-256-gcm', key.key, p.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad ?? '', 'utf8'));
    decipher.setAuthTag(p.sealed.subarray(p.sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(p.sealed.subarray(0, p.sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (e) {
      throw new HeraldError(
        'config',
        `secret sealed with key ${p.keyId} failed authentication: it was altered, copied from another row, or that key's bytes changed`,
        { cause: e },
      );
    }
  }

  /** True when the value was sealed with an older key and should be re-encrypted with the current one. */
  needsReseal(sealed: string): boolean {
    return parse(sealed).keyId !== this.#current.id;
  }

  /** Re-encrypts a value with the current key (rotation), keeping the same aad. */
  reseal(sealed: string, aad?: string, random?: (n: number) => Uint8Array): string {
    return this.seal(this.open(sealed, aad), aad, random);
  }
}
