-- Keeping a platform's existing webhook contract: signature profiles, delivery header names and
-- body envelopes, per application (default for its endpoints) and per endpoint (override), and
-- Ed25519 public keys. Forward-only.

alter table application
  add column signature        jsonb,   -- signature profile of its endpoints (src/core/signature-profile.ts); null = standard
  add column delivery_headers jsonb,   -- {eventType, deliveryId, userAgent} header names/value for its endpoints; null = none
  add column envelope         json;    -- JSON template wrapping published payloads (src/core/envelope.ts); null = payload as published.
                                       -- json, not jsonb: the template's key order is the body's key order

alter table endpoint
  add column signature        jsonb,   -- overrides the application's profile; null = inherit
  add column delivery_headers jsonb;   -- overrides the application's delivery headers; null = inherit

alter table event_type
  add column envelope         json;    -- overrides the application's envelope for this type; null = inherit

-- Ed25519 secrets: the public half, readable by anyone (receivers fetch it to verify). Null for HMAC secrets.
alter table endpoint_secret add column public_key text;
