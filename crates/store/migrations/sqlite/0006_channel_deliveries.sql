-- Deliveries to an org's shared Slack channel rather than to a person's contact method.
ALTER TABLE deliveries ADD COLUMN channel_address TEXT NULL;
