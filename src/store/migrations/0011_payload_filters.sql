-- Payload filters: an endpoint may receive only the messages whose body matches its filter
-- (src/core/payload-filter.ts, docs/payload-filters.md).
--
-- The filter is kept as given (what the API returns) and, beside it, compiled once when the endpoint
-- is saved into the jsonpath predicate the fan-out evaluates (`body @@ payload_filter_path`), so a
-- publish never parses a filter. Both are null for an endpoint without a filter, which is then
-- skipped by the fan-out's `payload_filter_path is null` test without its message body being read.
alter table endpoint
  add column payload_filter jsonb,          -- the filter as the API took it; null = every message
  add column payload_filter_path jsonpath;  -- payload_filter compiled (strict mode); null exactly when payload_filter is
alter table endpoint add constraint endpoint_payload_filter_compiled
  check ((payload_filter is null) = (payload_filter_path is null));
