-- Indexes for the operator's health view (GET /api/v1/stats/health).
-- The delivery log lists need none: they page by (created_at, id) on the 0001 indexes
-- attempt (endpoint_id, created_at desc), attempt (msg_id, created_at desc),
-- message (app_id, created_at desc) and delivery (endpoint_id, created_at desc).

-- Failing endpoints, worst first. Partial, so healthy endpoints (almost all of them) are not in it
-- and the success path, which never writes consecutive_failures while it is 0, pays nothing.
create index endpoint_failing_idx on endpoint (consecutive_failures desc, id) where consecutive_failures > 0;
