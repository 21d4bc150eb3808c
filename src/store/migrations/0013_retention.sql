-- Retention (docs/retention.md): the purge job (src/engine/retention.ts) deletes a message with its
-- deliveries and attempts once it is older than its application's retention period, purges a
-- payload earlier when the message asked for less (Svix payloadRetentionPeriod / payloadRetentionHours),
-- and deletes expired credentials, idempotency keys, old operational events and finished background
-- tasks. Every purge statement walks one of the indexes below (or one an earlier migration made), a
-- bounded batch at a time. Forward-only.

-- The application's own retention period; null = HERALD_RETENTION_PERIOD.
alter table application add column retention_s integer check (retention_s > 0); -- seconds (the API's retentionPeriod is in days)

alter table message
  add column payload_expires_at timestamptz, -- end of the message's own payload retention; null = kept as long as the message
  add column payload_purged_at  timestamptz; -- when the purge replaced the payload with {} (expunged_at is set too, so nothing resends it)

-- Payloads due for an early purge, oldest expiry first. Partial: messages without a retention of
-- their own (nearly all) are not in it, and a purged payload leaves it.
create index message_payload_expiry_idx on message (payload_expires_at, id)
  where payload_expires_at is not null and payload_purged_at is null;

-- Expired and revoked credentials; and the tokens a credential minted, which keep it from being
-- deleted while any of them is alive.
create index auth_token_expires_idx on auth_token (expires_at) where expires_at is not null;
create index auth_token_revoked_idx on auth_token (revoked_at) where revoked_at is not null;
create index auth_token_created_by_idx on auth_token (created_by) where created_by is not null;

-- Finished and failed background tasks, by when they ended.
create index background_task_ended_idx on background_task (updated_at) where status <> 'running';

-- The last state sent of each debounced entity, by age, per application (its retention applies).
create index debounce_entity_sent_idx on debounce_entity (app_id, sent_at);

-- Rotated-out signing secrets, by when they stopped signing.
create index endpoint_secret_expired_idx on endpoint_secret (expires_at) where expires_at is not null;
