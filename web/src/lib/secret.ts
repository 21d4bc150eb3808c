/**
 * Signing secrets made in the browser for "rotate" and for a profile change: the UI sends the secret
 * it will show, so it can show it exactly once even where the operator forbids reading secrets back
 * (HERALD_ALLOW_SECRET_READ=false: a secret is shown once, when it is made). Each is in the form the profile
 * signs with (src/core/signature-profile.ts generateProfileSecret). crypto.getRandomValues and
 * crypto.subtle are CSPRNG-backed.
 */
import type { SignatureProfile } from './signature';

function randomBytes(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  crypto.getRandomValues(bytes);
  return bytes;
}

function base64(bytes: Uint8Array): string {
  let binary = '';
  bytes.forEach((b) => (binary += String.fromCharCode(b)));
  return btoa(binary);
}

/** A Standard Webhooks secret: `whsec_` + base64 of 24 random bytes (Svix's default length). */
export function generateSecret(): string {
  return `whsec_${base64(randomBytes(24))}`;
}

/** A secret for a hex-decoded HMAC key: 32 random bytes as 64 hex characters. */
export function generateHexSecret(): string {
  return Array.from(randomBytes(32), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * An Ed25519 signing key, `whsk_` + base64 of its 32-byte seed: the PKCS#8 export is a fixed 16-byte
 * header followed by the seed (RFC 8410). Only Herald needs it; receivers get the public key.
 */
export async function generateEd25519Secret(): Promise<string> {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  return `whsk_${base64(pkcs8.slice(-32))}`;
}

/** A new secret in the form `profile` signs with. */
export async function secretForProfile(profile: SignatureProfile): Promise<string> {
  if (profile.scheme === 'ed25519') return generateEd25519Secret();
  if (profile.scheme === 'hmac-sha256' && profile.key === 'hex') return generateHexSecret();
  return generateSecret();
}
