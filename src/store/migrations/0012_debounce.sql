-- Debounced event types (docs/debounce.md): messages of such a type are stored but not fanned out;
-- they are merged into an open window per (application, event type, group), and when the window's
-- quiet period or cap passes one consolidated message, holding only what changed, is published.

-- The type's debounce settings ({quietPeriodSeconds, maxDelaySeconds, groupBy, entityKey, state});
-- null = every message is sent at once.
alter table event_type add column debounce jsonb;

-- What became of a published message of a debounced type, and what a consolidated message consolidates.
alter table message
  add column debounce_state text check (debounce_state in ('waiting', 'consolidated', 'unchanged')), -- null = not debounced; waiting = in an open window; consolidated = sent within consolidated_into; unchanged = its window changed nothing, so nothing was sent
  add column consolidated_into text,                   -- the consolidated message that carried this one's change (debounce_state = consolidated)
  add column consolidates text[],                      -- on a consolidated message: the published messages it consolidates, oldest first
  add column debounce_group text;                      -- debounced type: JSON text of its window's grouping value
-- The messages of a window, found when it is flushed: the window itself does not list them, so that
-- merging into a busy window rewrites its entities (one per entity), not an ever longer list of ids.
create index message_debounce_waiting_idx on message (app_id, event_type, debounce_group) where debounce_state = 'waiting';

-- One open window per (application, event type, group). Written by the publish statement itself
-- (insert ... on conflict do update), so a stored message is always in its window; deleted by the
-- flush that publishes its consolidated message, in the same transaction.
create table debounce_window (
  app_id         text not null references application(id) on delete cascade, -- owning tenant
  event_type     text not null,                        -- the debounced event type
  group_key      text not null,                        -- JSON text of the grouping value ('null' = one group per application)
  opened_at      timestamptz not null,                 -- publish time of the window's first message
  last_change_at timestamptz not null,                 -- publish time of its latest message
  quiet_ms       integer not null,                     -- quiet period in force (the type's setting at the latest message)
  max_delay_ms   integer not null,                     -- cap from opened_at (the type's setting at the latest message)
  due_at         timestamptz not null,                 -- least(last_change_at + quiet_ms, opened_at + max_delay_ms): when it flushes
  entities       jsonb not null,                       -- {"<entity key as JSON>": latest state}
  messages       integer not null,                     -- published messages merged into it (they are message rows with debounce_state = 'waiting')
  channels       text[],                               -- union of their channels (the consolidated message's channels)
  primary key (app_id, event_type, group_key)
);
create index debounce_window_due_idx on debounce_window (due_at);

-- The state last sent for each entity: the diff of the next consolidated message is taken against it.
create table debounce_entity (
  app_id      text not null references application(id) on delete cascade, -- owning tenant
  event_type  text not null,                           -- the debounced event type
  group_key   text not null,                           -- JSON text of the grouping value
  entity_key  text not null,                           -- JSON text of the entity's key
  state       jsonb not null,                          -- the entity's state as of the consolidated message that last sent a change
  msg_id      text not null,                           -- that consolidated message
  sent_at     timestamptz not null,                    -- when it was published
  primary key (app_id, event_type, group_key, entity_key)
);
