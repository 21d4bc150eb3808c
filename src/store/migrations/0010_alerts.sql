-- Alerts: operational events that people and systems hear about.
--
-- Each operational event names the endpoint and message it concerns, and whether it is one a person
-- should be told about by email (`notify`: a message failing or failed for good, an endpoint disabled
-- automatically, a recovery); the email sender marks what it has sent (`emailed_at`).
alter table operational_event
  add column endpoint_id text,
  add column msg_id text,
  add column notify boolean not null default false,
  add column emailed_at timestamptz;
create index operational_event_app_idx on operational_event (app_id, id desc);
create index operational_event_type_idx on operational_event (type, id desc);
create index operational_event_unsent_idx on operational_event (id) where notify and emailed_at is null;
-- The email sender tells two audiences apart (src/alerts/email-sender.ts): `emailed_at` is when the
-- operators' email covered the event, `contact_emailed_at` when the application's contact's did (or
-- when there was nobody to tell), so a customer address that bounces never holds up the operators.
alter table operational_event add column contact_emailed_at timestamptz;
create index operational_event_contact_unsent_idx on operational_event (id) where notify and contact_emailed_at is null;

-- When each endpoint's last alert email went out: one broken endpoint sends at most one email per window.
-- One row per endpoint and audience (operators, or the application's contact): each has its own window.
create table alert_email_state (
  endpoint_id     text not null,                       -- the endpoint the emails were about
  audience        text not null check (audience in ('operators', 'contact')), -- who the emails went to
  last_emailed_at timestamptz,                         -- when its last email was sent; null = never
  failures        integer not null default 0,          -- SMTP failures in a row for its pending email
  retry_at        timestamptz,                         -- after an SMTP failure: not before then
  primary key (endpoint_id, audience)
);

-- Settings an operator edits at run time (the dashboard's alert settings); environment variables
-- give their defaults.
create table herald_setting (
  name        text primary key,                        -- e.g. alerts
  value       jsonb not null,                          -- the setting's document
  updated_at  timestamptz not null default now()       -- last change
);

-- The address that hears about this application's broken integrations (the platform's customer).
alter table application add column alert_email text;

-- Herald's own application: its endpoints are the operational webhook endpoints, so operational
-- events are signed, delivered, retried and logged by the same pipeline as every other message.
-- Hidden from application lists; nobody publishes to it but Herald.
insert into application (id, name, metadata) values ('app_herald0operational0webhooks', 'Operational webhooks', '{}')
  on conflict (id) do nothing;
