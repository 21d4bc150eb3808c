-- Worker liveness (issue 13, chaos): a delivery worker killed with its requests in flight used to
-- hold their leases until they expired (30 s), and a lane probing its breaker could not send while
-- a dead worker's lease counted as in flight. Every worker now holds a session-level advisory lock on
-- its LISTEN connection and registers here; PostgreSQL drops the lock the moment the worker's
-- connection goes away (a kill, a crash, a lost network), and the live workers then expire the dead
-- one's leases at once instead of waiting for them. Forward-only.
create table worker_session (
  -- The lease owner written on the deliveries this worker claims (delivery.lease_owner).
  owner text primary key,
  -- Second key of pg_advisory_lock(<Herald's worker class>, lock_key), held by the worker's session.
  -- Unique per registration, so two workers never share a lock; positive, so it reads back from
  -- pg_locks.objid unchanged.
  lock_key int not null generated always as identity (minvalue 1 maxvalue 2147483647 cycle) unique,
  registered_at timestamptz not null default now()
);
