/** Turns a claimed delivery into the signed HTTP request Herald sends (Standard Webhooks headers). */
import { parseSecret, signatureHeader } from '../core/signing.js';
import type { SecretBox } from '../core/secret-box.js';
import type { ClaimedDelivery } from '../store/deliveries.js';
import { HERALD_VERSION } from '../version.js';

/** Sent as user-agent so receivers can allow-list and debug Herald's traffic. */
export const USER_AGENT = `Herald-Webhooks/${HERALD_VERSION}`;

/**
 * Opens sealed secrets once and keeps the raw keys: decrypting on every attempt would cost an
 * AES-GCM open per request on the hot path. Bounded so a huge endpoint count cannot grow it forever.
 */
export class SecretKeyCache {
  private readonly keys = new Map<string, Buffer>();
  constructor(
    private readonly box: SecretBox,
    private readonly max = 50_000,
  ) {}

  /** The HMAC key of a sealed `whsec_` secret. */
  keyOf(sealed: string, endpointId: string): Buffer {
    let key = this.keys.get(sealed);
    if (!key) {
      key = parseSecret(this.box.open(sealed, endpointId));
      if (this.keys.size >= this.max) this.keys.clear();
      this.keys.set(sealed, key);
    }
    return key;
  }
}

/** Headers and body of one attempt. */
export interface SignedRequest {
  /** Every header sent. */
  headers: Record<string, string>;
  /** Exact body. */
  body: Buffer;
}

/**
 * Builds the request: custom headers first, then Herald's own, so a custom header can never replace
 * a signature header (the API also refuses such names). One signature per valid secret, so a
 * receiver that has either the old or the new secret during rotation verifies the request.
 */
export function buildSignedRequest(d: ClaimedDelivery & { payload: Buffer }, keys: Buffer[], now: Date): SignedRequest {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    headers: {
      ...d.headers,
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': d.msgId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(keys, d.msgId, timestamp, d.payload),
    },
    body: d.payload,
  };
}
