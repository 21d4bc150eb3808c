/**
 * The signing-contract fields shared by applications, endpoints and event types (Herald extras):
 * `signature` (how deliveries are signed), `deliveryHeaders` (event type and delivery id header
 * names, User-Agent) and `envelope` (a JSON template around payloads), with the public-key answer.
 * The schemas check shape only and let unknown keys through: profileProblems, deliveryHeadersProblems
 * and envelopeProblems (src/core) judge combinations, reserved names and unknown fields, so the 422
 * names the exact field (["body", "signature", "timestampHeader"]) with a sentence saying why.
 */
import { z } from 'zod';
import { ENVELOPE_PLACEHOLDERS, MAX_ENVELOPE_BYTES } from '../../core/envelope.js';
import type { SignatureProfile } from '../../core/signature-profile.js';
import type { ResolvedDeliveryHeaders } from '../../engine/applications.js';
import { containsNul, JsonObject, Timestamp } from './common.js';

/** Two profiles as platforms moving to Herald commonly define theirs, for the descriptions and examples. */
const HEX_BODY_EXAMPLE = { scheme: 'hmac-sha256', header: 'X-Acme-Signature', content: 'body', encoding: 'hex', key: 'utf8' } as const;
const HEX_TIMESTAMP_EXAMPLE = {
  scheme: 'hmac-sha256',
  header: 'X-Acme-Signature',
  timestampHeader: 'X-Acme-Timestamp',
  content: 'timestamp.body',
  encoding: 'hex',
  key: 'hex',
} as const;

const PROFILE_FIELDS = {
  scheme:
    '"standard" (Standard Webhooks: webhook-id, webhook-timestamp and webhook-signature "v1,<base64 HMAC-SHA256>"), "hmac-sha256" (an HMAC in a header you name) or "ed25519" (Standard Webhooks "v1a,<base64 Ed25519 signature>", verified with the endpoint\'s public key).',
  header: 'hmac-sha256: header carrying the digest, e.g. X-Acme-Signature. Not a webhook-* name, nor one HTTP or Herald sets (content-type, host, user-agent…).',
  timestampHeader:
    'hmac-sha256: header carrying the attempt\'s Unix time in seconds, e.g. X-Acme-Timestamp; null or absent = not sent. Required when content is "timestamp.body".',
  content: 'hmac-sha256: what is signed: "body" (the raw body bytes) or "timestamp.body" (`{timestamp}.{raw body}`, the timestamp being the value of timestampHeader).',
  encoding: 'hmac-sha256: how the digest is written: "hex" (lower case) or "base64".',
  key: 'hmac-sha256: the HMAC key: "utf8" (the secret string\'s own bytes; any secret of at least 16 characters) or "hex" (the bytes the secret encodes in hex; generated secrets are 64 hex characters).',
};

/** A header name in a profile or delivery headers (the rules are checked by the core). */
const HeaderName = z.string().max(256);

/**
 * An object whose unknown keys reach the core's checks (which refuse them by name) instead of being
 * dropped; documented as closed, which is what the API enforces.
 */
const checkedObject = <T extends z.core.$ZodLooseShape>(shape: T) => z.looseObject(shape).meta({ additionalProperties: false });

/** A profile in a request body (shape; see the module comment). */
export const SignatureProfileIn = z
  .discriminatedUnion('scheme', [
    checkedObject({ scheme: z.literal('standard').describe(PROFILE_FIELDS.scheme) }),
    checkedObject({ scheme: z.literal('ed25519').describe(PROFILE_FIELDS.scheme) }),
    checkedObject({
      scheme: z.literal('hmac-sha256').describe(PROFILE_FIELDS.scheme),
      header: HeaderName.describe(PROFILE_FIELDS.header),
      timestampHeader: HeaderName.nullish().describe(PROFILE_FIELDS.timestampHeader),
      content: z.enum(['body', 'timestamp.body']).describe(PROFILE_FIELDS.content),
      encoding: z.enum(['hex', 'base64']).describe(PROFILE_FIELDS.encoding),
      key: z.enum(['utf8', 'hex']).describe(PROFILE_FIELDS.key),
    }),
  ])
  .meta({ id: 'SignatureProfileIn', examples: [HEX_BODY_EXAMPLE, HEX_TIMESTAMP_EXAMPLE, { scheme: 'ed25519' }] });

/** A profile in an answer. */
export const SignatureProfileOut = z
  .discriminatedUnion('scheme', [
    z.object({ scheme: z.literal('standard').describe(PROFILE_FIELDS.scheme) }),
    z.object({ scheme: z.literal('ed25519').describe(PROFILE_FIELDS.scheme) }),
    z.object({
      scheme: z.literal('hmac-sha256').describe(PROFILE_FIELDS.scheme),
      header: z.string().describe(PROFILE_FIELDS.header),
      timestampHeader: z.string().nullable().describe(PROFILE_FIELDS.timestampHeader),
      content: z.enum(['body', 'timestamp.body']).describe(PROFILE_FIELDS.content),
      encoding: z.enum(['hex', 'base64']).describe(PROFILE_FIELDS.encoding),
      key: z.enum(['utf8', 'hex']).describe(PROFILE_FIELDS.key),
    }),
  ])
  .meta({ id: 'SignatureProfileOut', examples: [HEX_BODY_EXAMPLE, HEX_TIMESTAMP_EXAMPLE, { scheme: 'standard' }] });

const DELIVERY_HEADER_FIELDS = {
  eventType: 'Header carrying the event type, e.g. X-Acme-Event-Type; null = not sent.',
  deliveryId: 'Header carrying the delivery id (dlv_…: the same on every retry and resend of a message to this endpoint, different per endpoint), e.g. X-Acme-Delivery-Id; null = not sent.',
  userAgent: "The User-Agent value, 1-256 visible ASCII characters, e.g. Acme-Webhooks/1.0; null = Herald's own.",
};

/** Delivery headers in a request body. */
export const DeliveryHeadersIn = checkedObject({
    eventType: HeaderName.nullish().describe(DELIVERY_HEADER_FIELDS.eventType),
    deliveryId: HeaderName.nullish().describe(DELIVERY_HEADER_FIELDS.deliveryId),
    userAgent: z.string().max(256).nullish().describe(DELIVERY_HEADER_FIELDS.userAgent),
}).meta({ id: 'DeliveryHeadersIn', examples: [{ eventType: 'X-Acme-Event-Type', deliveryId: 'X-Acme-Delivery-Id', userAgent: 'Acme-Webhooks/1.0' }] });

/** Delivery headers in an answer, every field present. */
export const DeliveryHeadersOut = z.object({
  eventType: z.string().nullable().describe(DELIVERY_HEADER_FIELDS.eventType),
  deliveryId: z.string().nullable().describe(DELIVERY_HEADER_FIELDS.deliveryId),
  userAgent: z.string().nullable().describe(DELIVERY_HEADER_FIELDS.userAgent),
}).meta({ id: 'DeliveryHeadersOut' });

/** An envelope template. */
export const Envelope = JsonObject.refine((t) => !containsNul(t), 'must not contain NUL characters').meta({
  examples: [{ id: '{{message.id}}', type: '{{message.eventType}}', created_at: '{{message.timestamp}}', data: '{{payload}}' }],
});

/** What each field means, for the OpenAPI document (endpoint wording; applications and event types have theirs). */
export const CONTRACT_DOCS = {
  signature:
    'Herald: how deliveries to this endpoint are signed, to keep a contract your receivers already verify. null = inherit the application\'s signature, else "standard" (Standard Webhooks). ' +
    `Examples: a hex HMAC-SHA256 of the raw body in a named header: ${JSON.stringify(HEX_BODY_EXAMPLE)}; a hex HMAC-SHA256 of "{timestamp}.{body}" keyed with the hex-decoded secret: ${JSON.stringify(HEX_TIMESTAMP_EXAMPLE)}; Ed25519: {"scheme":"ed25519"}. ` +
    'The secret must fit the profile: changing it so that the current secret does not fit is a 422 unless a fitting `secret` comes in the same request.',
  deliveryHeaders:
    "Herald: extra delivery headers: {eventType, deliveryId, userAgent}, each a header name (or the User-Agent value), null = not sent. The whole object replaces the application's; null = inherit it. Names may not collide with each other or with the profile's headers.",
  appSignature:
    'Herald: signature profile of this application\'s endpoints (each may set its own); null = "standard" (Standard Webhooks). ' +
    `Examples: ${JSON.stringify(HEX_BODY_EXAMPLE)} (hex HMAC of the body in a named header); ${JSON.stringify(HEX_TIMESTAMP_EXAMPLE)} (hex HMAC of "{timestamp}.{body}" with a hex-decoded key). ` +
    "Refused (422) while an endpoint that inherits it has a secret that does not fit it.",
  appDeliveryHeaders: "Herald: delivery headers of this application's endpoints ({eventType, deliveryId, userAgent}; each endpoint may set its own object); null = none.",
  envelope:
    `Herald: a JSON object that wraps each published payload, rendered once at publish (the stored body is what every endpoint receives and every signature covers). A string value that is exactly a placeholder is replaced: ${ENVELOPE_PLACEHOLDERS.join(', ')}; a key "..." with the value "{{payload}}" merges the payload's fields in. Must use {{payload}}; at most ${MAX_ENVELOPE_BYTES} bytes. ` +
    'Example: {"id": "{{message.id}}", "type": "{{message.eventType}}", "created_at": "{{message.timestamp}}", "data": "{{payload}}"}.',
  appEnvelope: "null = payloads are sent as published. An event type's own envelope replaces it for that type.",
  eventTypeEnvelope: "null = the application's envelope (if any) applies to this type.",
};

/** GET …/public-key and the receivers' URL. */
export const PublicKeysOut = z.object({
  keys: z
    .array(
      z.object({
        key: z.string().describe('Ed25519 public key: whpk_ + base64 of the 32-byte key (Standard Webhooks).'),
        expiresAt: Timestamp.nullable().describe('null for the current key; a rotated-out key verifies until then.'),
      }),
    )
    .describe('Every key that still verifies, current first: accept a signature made with any of them.'),
}).meta({ id: 'PublicKeysOut' });

/** A stored profile as the API shows it (timestampHeader always present for hmac-sha256). */
export function toProfileOut(p: SignatureProfile): z.output<typeof SignatureProfileOut> {
  return p.scheme === 'hmac-sha256' ? { ...p, timestampHeader: p.timestampHeader ?? null } : { scheme: p.scheme };
}

/** Stored delivery headers as the API shows them. */
export function toDeliveryHeadersOut(h: ResolvedDeliveryHeaders): z.output<typeof DeliveryHeadersOut> {
  return { eventType: h.eventType, deliveryId: h.deliveryId, userAgent: h.userAgent };
}
