/**
 * Signing secrets made in the browser for "create" and "rotate": the UI sends the secret it will show,
 * so it can show it exactly once even where the operator forbids reading secrets back
 * (HERALD_ALLOW_SECRET_READ=false, the compliance platform's rule). crypto.getRandomValues is a CSPRNG.
 */

/** A Standard Webhooks secret: `whsec_` + base64 of 24 random bytes (Svix's default length). */
export function generateSecret(): string {
  const bytes = new Uint8Array(24);
  crypto.getRandomValues(bytes);
  let binary = '';
  bytes.forEach((b) => (binary += String.fromCharCode(b)));
  return `whsec_${btoa(binary)}`;
}
