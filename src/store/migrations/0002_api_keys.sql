-- Credentials of the management API, idempotent POST responses, and the Svix event type fields the
-- first schema lacked. Forward-only: never edit a migration that has shipped; add the next number instead.

-- Every bearer token Herald issued: API keys, customer-portal tokens, and the operator token generated
-- at first start when HERALD_ADMIN_TOKEN is unset. Only a hash of each token is kept (docs/api.md).
create table auth_token (
  id           text primary key,                        -- key_… (time-sortable); shown in lists, used to revoke
  kind         text not null check (kind in ('admin', 'api_key', 'portal')), -- what issued it and what it may become
  name         text not null default '',                -- label chosen at creation ("billing service")
  prefix       text not null unique,                    -- public lookup part of the token (hk_<prefix>_…); not a secret
  token_hash   bytea not null,                          -- sha256 of the whole token; the token itself is never stored
  permissions  text[] not null,                         -- subset of {read, create, update, delete}
  app_id       text references application(id) on delete cascade, -- scope: null = every application
  session_id   text,                                    -- portal tokens: caller's session id, for expire-all by session
  expires_at   timestamptz,                             -- null = never (API keys); portal tokens always expire
  revoked_at   timestamptz,                             -- set by revoke / logout / expire-all; the token stops working
  last_used_at timestamptz,                             -- last authenticated request (updated at most once a minute)
  created_by   text,                                    -- id of the principal that issued it (audit)
  created_at   timestamptz not null,                    -- when issued
  check (kind <> 'portal' or (app_id is not null and expires_at is not null)),
  check (permissions <@ array['read', 'create', 'update', 'delete'])
);
-- At most one live generated operator token: two nodes starting together cannot both print one.
create unique index auth_token_one_admin_idx on auth_token (kind) where kind = 'admin' and revoked_at is null;
create index auth_token_app_idx on auth_token (app_id, kind) where app_id is not null;

-- Responses to POST requests that carried an Idempotency-Key: the same key and body within 24 h get the
-- stored response again instead of a second side effect (Stripe and Svix semantics).
create table idempotency_key (
  principal_id text not null,                           -- whose key space: the token's id (keys are per credential)
  key          text not null,                           -- the Idempotency-Key header value
  request_hash bytea not null,                          -- sha256 of method, URL and raw body: detects reuse with another request
  state        text not null check (state in ('pending', 'done')), -- pending while the first request runs
  status       integer,                                 -- HTTP status of the stored response
  response     text,                                    -- sealed (HERALD_SECRET_KEY) body: it can hold a new key or secret
  created_at   timestamptz not null,                    -- when the first request arrived; replays stop 24 h later
  primary key (principal_id, key)
);
create index idempotency_key_created_idx on idempotency_key (created_at);

-- Svix EventTypeOut fields that the first schema did not store.
alter table event_type
  add column deprecated    boolean not null default false, -- still valid, but the UI marks it as going away
  add column group_name    text,                           -- groups types in the UI (Svix groupName)
  add column feature_flags text[];                          -- Svix featureFlags; stored and returned, not enforced
