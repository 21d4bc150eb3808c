/**
 * Turns a claimed delivery into the signed HTTP request Herald sends: the endpoint's signature
 * profile (Standard Webhooks by default), the platform's delivery header names, and its User-Agent.
 */
import { CustomHeaderCache, type StoredHeaders } from '../core/custom-headers.js';
import { deliveryId } from '../core/delivery-headers.js';
import type { SecretBox } from '../core/secret-box.js';
import { signatureHeaders, signingKeyOf, STANDARD_PROFILE, type SignatureProfile, type SigningKey } from '../core/signature-profile.js';
import type { ClaimedDelivery } from '../store/deliveries.js';
import { HERALD_VERSION } from '../version.js';

/** Sent as user-agent unless the platform set its own, so receivers can allow-list and debug Herald's traffic. */
export const USER_AGENT = `Herald-Webhooks/${HERALD_VERSION}`;

/**
 * Opens sealed secrets once and keeps the keys: decrypting on every attempt would cost an AES-GCM
 * open per request on the hot path. Keyed by secret and profile kind (the same secret is a
 * different key under `key: "hex"`). Bounded so a huge endpoint count cannot grow it forever.
 * Custom header values, sealed too, are opened once per endpoint the same way.
 */
export class SecretKeyCache {
  private readonly keys = new Map<string, SigningKey>();
  private readonly headers: CustomHeaderCache;
  constructor(
    private readonly box: SecretBox,
    private readonly max = 50_000,
  ) {
    this.headers = new CustomHeaderCache(box, max);
  }

  /** An endpoint's custom headers in clear; throws (saying which header and how to fix it) when one cannot be sent. */
  headersOf(endpointId: string, stored: StoredHeaders): Record<string, string> {
    return this.headers.headersOf(endpointId, stored);
  }

  /** The signing key of a sealed secret under a profile; throws when the secret does not fit it. */
  keyOf(sealed: string, endpointId: string, profile: SignatureProfile = STANDARD_PROFILE): SigningKey {
    const kind = profile.scheme === 'hmac-sha256' ? `hmac-${profile.key}` : profile.scheme;
    const id = `${kind}:${sealed}`;
    let key = this.keys.get(id);
    if (!key) {
      key = signingKeyOf(profile, this.box.open(sealed, endpointId));
      if (this.keys.size >= this.max) this.keys.clear();
      this.keys.set(id, key);
    }
    return key;
  }
}

/** Headers and body of one attempt. */
export interface SignedRequest {
  /** Every header sent. */
  headers: Record<string, string>;
  /**
   * The headers as the attempt log keeps them: custom header values replaced by {@link REDACTED}, since
   * they are the receiver's credentials (sealed at rest on the endpoint, so never in clear in a row).
   */
  recorded: Record<string, string>;
  /** Exact body. */
  body: Buffer;
}

/** What the attempt log shows in place of a custom header value. */
export const REDACTED = '[redacted]';

/**
 * Builds the request: custom headers first, then Herald's own, so a custom header can never replace
 * a signature or delivery header (the API also refuses such names). `keys` are the valid keys,
 * newest first; `custom` the endpoint's custom headers in clear (CustomHeaderCache).
 */
export function buildSignedRequest(d: ClaimedDelivery & { payload: Buffer }, keys: SigningKey[], now: Date, custom: Record<string, string> = {}): SignedRequest {
  const timestamp = Math.floor(now.getTime() / 1000);
  const names = d.deliveryHeaders ?? {};
  const own: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': names.userAgent ?? USER_AGENT,
  };
  if (names.eventType) own[names.eventType] = d.eventType;
  if (names.deliveryId) own[names.deliveryId] = deliveryId(d.msgId, d.endpointId);
  Object.assign(own, signatureHeaders(d.signature ?? STANDARD_PROFILE, keys, d.msgId, timestamp, d.payload));
  const recorded: Record<string, string> = {};
  for (const name in custom) recorded[name] = REDACTED;
  return { headers: { ...custom, ...own }, recorded: Object.assign(recorded, own), body: d.payload };
}
