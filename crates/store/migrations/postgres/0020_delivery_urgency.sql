-- Deliveries are claimed most urgent first (0: pages, 1: alerts to staff, 2: letters to
-- customers), so a backlog of letters never holds up a page. Rows from before are ranked by
-- the outbox record they came from.
ALTER TABLE deliveries ADD COLUMN urgency BIGINT NOT NULL DEFAULT 2;
UPDATE deliveries SET urgency = 0 WHERE outbox_id IN (SELECT id FROM outbox WHERE kind = 'page');
UPDATE deliveries SET urgency = 1 WHERE outbox_id IN (SELECT id FROM outbox WHERE kind IN ('report.overdue', 'bridge.overdue'));
