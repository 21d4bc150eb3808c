-- Herald's first schema: tenants, event types, endpoints, messages, deliveries, attempts.
-- Forward-only: never edit a migration that has shipped; add the next number instead.

-- An application is a tenant: one of the platform's customers, owning endpoints and messages.
create table application (
  id          text primary key,                        -- app_… (time-sortable)
  uid         text unique,                             -- the platform's own id for this tenant, optional
  name        text not null,                           -- display name
  metadata    jsonb not null default '{}'::jsonb,      -- free-form key/value pairs from the platform
  rate_limit  integer,                                 -- default per-endpoint requests/s for this tenant, null = none
  created_at  timestamptz not null default now(),      -- when created
  updated_at  timestamptz not null default now()       -- last change
);

-- The catalogue of event types endpoints can subscribe to (global, like Svix's per-environment list).
create table event_type (
  name        text primary key,                        -- e.g. order.paid
  description text not null default '',                -- shown beside the checkbox in the UI
  schemas     jsonb,                                   -- optional JSON Schema per version: {"1": {...}}
  archived    boolean not null default false,          -- archived types stay valid but are hidden
  created_at  timestamptz not null default now(),      -- when created
  updated_at  timestamptz not null default now()       -- last change
);

-- A customer's receiving URL and what it subscribed to.
create table endpoint (
  id                   text primary key,                -- ep_…
  app_id               text not null references application(id) on delete cascade, -- owning tenant
  uid                  text,                            -- the platform's own id, unique per application
  url                  text not null,                   -- where deliveries are POSTed
  description          text not null default '',        -- free text (the UI shows it as the name)
  filter_types         text[],                          -- subscribed event types; null = every type; `p.*` wildcards
  channels             text[],                          -- reserved for channel filtering
  disabled             boolean not null default false,  -- true = receives nothing
  disabled_by          text check (disabled_by in ('user', 'auto')), -- who disabled it
  disabled_reason      text,                            -- why, in words a user can act on
  disabled_at          timestamptz,                     -- when it was disabled
  headers              jsonb not null default '{}'::jsonb, -- custom headers sent with every delivery
  metadata             jsonb not null default '{}'::jsonb, -- free-form key/value pairs
  rate_limit           integer,                         -- max requests/s, null = unlimited
  consecutive_failures integer not null default 0,      -- failed attempts in a row (auto-disable)
  first_failure_at     timestamptz,                     -- first failure of the current run of failures
  last_error           text,                            -- most recent failure reason, for the disable message
  created_at           timestamptz not null default now(), -- when created
  updated_at           timestamptz not null default now(), -- last change
  unique (app_id, uid)
);
create index endpoint_app_idx on endpoint (app_id, id);

-- Signing secrets, encrypted with HERALD_SECRET_KEY (AES-256-GCM, key id inside `sealed`).
-- The current secret has expires_at null; rotated-out secrets keep signing until expires_at.
create table endpoint_secret (
  id          bigint generated always as identity primary key, -- row id
  endpoint_id text not null references endpoint(id) on delete cascade, -- owner
  sealed      text not null,                           -- "v1.<keyId>.<iv>.<ciphertext>"; never the plain secret
  hint        text not null,                           -- last four characters, for "•••• abcd"
  expires_at  timestamptz,                             -- null = current; otherwise valid until then
  created_at  timestamptz not null default now()       -- when created
);
create index endpoint_secret_endpoint_idx on endpoint_secret (endpoint_id);

-- A published event for one application. The payload is stored as the exact bytes that are sent.
create table message (
  id           text primary key,                       -- msg_… ; also the webhook-id header
  app_id       text not null references application(id) on delete cascade, -- owning tenant
  event_type   text not null,                          -- e.g. order.paid
  event_id     text,                                   -- the publisher's idempotency key, optional
  payload      bytea not null,                         -- exact request body
  payload_hash bytea not null,                         -- sha256(payload), to detect an eventId reused with other data
  channels     text[],                                 -- reserved for channel filtering
  created_at   timestamptz not null                    -- publish time (also the message's timestamp in the API)
);
create unique index message_event_id_idx on message (app_id, event_id) where event_id is not null;
create index message_app_created_idx on message (app_id, created_at desc);

-- One delivery per (message, endpoint): the unit of work of the queue.
create table delivery (
  id              bigint generated always as identity primary key, -- row id
  app_id          text not null,                       -- owning tenant (denormalised for tenant-scoped queries)
  msg_id          text not null references message(id) on delete cascade, -- what is delivered
  endpoint_id     text not null references endpoint(id) on delete cascade, -- where
  state           text not null check (state in ('pending', 'sending', 'succeeded', 'failed', 'skipped')), -- lifecycle
  next_attempt_at timestamptz not null,                -- due time; while sending, the lease expiry
  attempts_made   integer not null default 0,          -- attempts so far (scheduled and manual)
  run_attempts    integer not null default 0,          -- attempts in the current retry run (a resend starts a new run)
  next_trigger    text not null default 'scheduled' check (next_trigger in ('scheduled', 'manual')), -- what the next attempt is
  one_shot        boolean not null default false,      -- a resend of a finished delivery: one attempt, no retries
  lease_owner     text,                                -- worker holding the lease while sending
  lease_version   integer not null default 0,          -- bumped at every claim; a stale worker's write is refused
  last_status     integer,                             -- HTTP status of the latest attempt
  last_error      text,                                -- why the latest attempt failed / why skipped
  last_attempt_at timestamptz,                         -- when the latest attempt ran
  created_at      timestamptz not null,                -- = message publish time
  updated_at      timestamptz not null default now(),  -- last change
  unique (msg_id, endpoint_id)
);
-- The queue: only rows that can become due are indexed, so finished rows cost the claim nothing.
create index delivery_due_idx on delivery (next_attempt_at) where state in ('pending', 'sending');
create index delivery_endpoint_idx on delivery (endpoint_id, created_at desc);
create index delivery_failed_idx on delivery (endpoint_id, created_at) where state = 'failed';

-- One row per attempt, the delivery log.
create table attempt (
  id               text primary key,                   -- atmpt_…
  delivery_id      bigint not null references delivery(id) on delete cascade, -- which delivery
  app_id           text not null,                      -- owning tenant
  msg_id           text not null,                      -- message
  endpoint_id      text not null,                      -- endpoint
  attempt_number   integer not null,                   -- 1-based across the delivery's life
  trigger          text not null check (trigger in ('scheduled', 'manual')), -- retry schedule or a person
  url              text not null,                      -- URL the request went to
  request_headers  jsonb not null,                     -- headers sent (signature included; it is not a secret)
  response_status  integer,                            -- HTTP status, null when no response arrived
  response_headers jsonb,                              -- response headers (lower-cased)
  response_body    text,                               -- first 64 KiB of the body, decompressed
  response_truncated boolean not null default false,   -- true when the body was longer than stored
  duration_ms      integer not null,                   -- time from start to end of the attempt
  error_stage      text check (error_stage in ('dns', 'connect', 'tls', 'timeout', 'response', 'blocked')), -- where it failed
  error_message    text,                               -- what went wrong and what to fix
  succeeded        boolean not null,                   -- 2xx in time
  created_at       timestamptz not null                -- when the attempt started
);
create index attempt_delivery_idx on attempt (delivery_id, attempt_number);
create index attempt_endpoint_idx on attempt (endpoint_id, created_at desc);
create index attempt_msg_idx on attempt (msg_id, created_at desc);

-- Operational events (exhausted deliveries, disabled endpoints) for alerting and the health view.
create table operational_event (
  id          bigint generated always as identity primary key, -- row id
  app_id      text,                                    -- tenant concerned, if any
  type        text not null,                           -- e.g. message.attempt.exhausted, endpoint.disabled
  data        jsonb not null,                          -- details (ids, reason)
  created_at  timestamptz not null                     -- when it happened
);
create index operational_event_created_idx on operational_event (created_at desc);
