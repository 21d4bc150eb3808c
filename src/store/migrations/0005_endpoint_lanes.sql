-- The endpoint-aware delivery pipeline (isolation: one slow endpoint never delays the others). Every endpoint is a lane with its own
-- in-flight cap, throttle, circuit breaker and optional strict ordering; claims are spread fairly over
-- lanes and applications instead of taking the globally oldest rows. Forward-only.

-- Delivery policy overrides. null = inherit (endpoint -> application -> operator default), always
-- within the bounds the operator sets (HERALD_MAX_IN_FLIGHT_LIMIT, HERALD_MAX_REQUEST_TIMEOUT,
-- HERALD_MAX_RETRY_ATTEMPTS, HERALD_MAX_RETRY_DELAY).
alter table application
  add column max_in_flight integer check (max_in_flight > 0),          -- default in-flight cap of its endpoints
  add column timeout_ms    integer check (timeout_ms > 0),             -- default per-attempt deadline of its endpoints
  add column retry_delays  integer[] check (cardinality(retry_delays) > 0); -- default retry delays in seconds (after the first attempt)

alter table endpoint
  add column max_in_flight integer check (max_in_flight > 0),          -- requests in flight at most, across all workers
  add column timeout_ms    integer check (timeout_ms > 0),             -- per-attempt deadline
  add column retry_delays  integer[] check (cardinality(retry_delays) > 0), -- retry delays in seconds (after the first attempt)
  add column ordering      text not null default 'parallel' check (ordering in ('parallel', 'strict')); -- strict = one at a time, in publish order

-- Scheduling state of one endpoint, kept apart from `endpoint` so claims and results write a narrow
-- row instead of the endpoint's configuration. Claims lock it (FOR UPDATE SKIP LOCKED), which is what
-- makes the cap, the throttle and strict ordering hold across every worker process.
create table endpoint_lane (
  endpoint_id     text primary key references endpoint(id) on delete cascade, -- the endpoint
  app_id          text not null,                      -- owning tenant (fair share is per application)
  last_claimed_at timestamptz not null default '-infinity', -- last claim that took work from it: least recent is served first
  tokens          double precision,                   -- throttle bucket (requests it may start now); null = full
  tokens_at       timestamptz,                        -- when `tokens` was computed
  hold_until      timestamptz,                        -- strict ordering: the head delivery waits for its retry until then
  breaker_until   timestamptz,                        -- circuit breaker open until then; null = closed
  breaker_trips   integer not null default 0,         -- times the breaker opened in a row (the backoff doubles with each)
  breaker_opened_at timestamptz                       -- when the current run of trips began
);
insert into endpoint_lane (endpoint_id, app_id) select id, app_id from endpoint;

-- The queue, per lane. Pending rows by due time for parallel lanes and for finding lanes with work
-- (a skip scan over endpoint_id); sending rows (leases) to count what is in flight and to find
-- expired leases. Replaces the global due-time index, which could only answer "oldest N overall".
drop index delivery_due_idx;
create index delivery_pending_idx on delivery (endpoint_id, next_attempt_at, id) where state = 'pending';
create index delivery_sending_idx on delivery (endpoint_id, next_attempt_at) where state = 'sending';

-- Response bodies whose bytes were not valid UTF-8 text (NUL, invalid sequences, binary) are stored
-- with those bytes replaced by U+FFFD; this says so, so the log never pretends the text is exact.
alter table attempt add column response_lossy boolean not null default false; -- body or headers had bytes text cannot hold
