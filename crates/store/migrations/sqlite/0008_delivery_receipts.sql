-- A sent message that can still be changed (a Slack message) keeps the provider's receipt,
-- so once its ticket's paging is over the message is settled: updated to say who took it.
ALTER TABLE deliveries ADD COLUMN receipt TEXT NULL;
ALTER TABLE deliveries ADD COLUMN settled_at BIGINT NULL;
CREATE INDEX deliveries_unsettled ON deliveries(ticket_id) WHERE receipt IS NOT NULL AND settled_at IS NULL;
