-- Background tasks (Svix's QueueBackgroundTask): recover, replay-missing and bulk replay of an
-- endpoint, and the usage counts over applications, answer 202 at once and run here, in a Herald process that holds the task's lease. A task
-- moves forward a batch at a time, and each batch's changes commit with the task's new cursor, so a
-- task whose process died is taken over when its lease expires and resumes after its last batch:
-- nothing is queued twice, nothing is skipped. With several Herald processes exactly one holds a lease.
create table background_task (
  id           text primary key,                       -- qtask_…
  app_id       text references application(id) on delete cascade, -- tenant the task works on; null for one over many
  endpoint_id  text,                                   -- endpoint the task works on, or null
  task         text not null check (task in ('endpoint.recover', 'endpoint.replay', 'endpoint.bulk-replay', 'application.stats', 'event-type.aggregate')), -- Svix BackgroundTaskType
  status       text not null check (status in ('running', 'finished', 'failed')), -- Svix BackgroundTaskStatus
  params       jsonb not null,                         -- what the request asked for (since, until, filters)
  data         jsonb not null default '{}',            -- progress and result, shown as BackgroundTaskOut.data
  cursor       jsonb,                                  -- where the next batch starts; null = at the beginning
  lease_owner  text,                                   -- the process running it now, or null
  lease_until  timestamptz,                            -- that process's lease expiry; after it another may take over
  runs         integer not null default 0,             -- how many times a process started (or resumed) it
  created_at   timestamptz not null,                   -- when it was asked for
  updated_at   timestamptz not null                    -- last progress or status change
);
-- The list (newest first, optionally per application) and the runners' search for work.
create index background_task_created_idx on background_task (created_at desc, id desc);
create index background_task_app_created_idx on background_task (app_id, created_at desc, id desc);
create index background_task_running_idx on background_task (lease_until) where status = 'running';

-- Svix MessageIn.tags: free-form labels a message list can filter by (?tag=).
alter table message add column tags text[];        -- up to five tags given at publish, or null

-- Svix expunge-content: the payload is replaced and the time recorded, so resend and replays refuse it.
alter table message add column expunged_at timestamptz; -- when the payload was expunged, or null
