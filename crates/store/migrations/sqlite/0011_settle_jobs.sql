-- Settle jobs: the change that ends paging for a ticket writes an outbox record of kind
-- 'paging.ended'; the engine's settle worker claims it with a lease (claimed_until), changes
-- the ticket's sent page messages, and marks it done (dispatched_at).
ALTER TABLE outbox ADD COLUMN claimed_until BIGINT NULL;
CREATE INDEX outbox_kind_pending ON outbox(kind, dispatched_at, id);
