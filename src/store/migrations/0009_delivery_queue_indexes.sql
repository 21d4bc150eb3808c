-- Every delivery row is inserted pending, updated to sending at its claim and updated to its result:
-- each of those writes adds an entry to every index whose columns or predicate it touches. The
-- queue index on (next_attempt_at) where state in ('pending', 'sending') is no longer read by any
-- query: claims probe delivery_pending_idx and delivery_sending_idx (per endpoint lane), and the
-- queue counts read the same two partial indexes. Dropping it saves two index writes per delivery.
drop index if exists delivery_due_idx;
