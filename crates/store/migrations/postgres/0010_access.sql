-- The access-policy issue's schema (see ../sqlite/0010_access.sql for the reasons).
ALTER TABLE users DROP CONSTRAINT users_email_key;
CREATE UNIQUE INDEX users_email_per_org ON users (COALESCE(org, ''), LOWER(email));
CREATE INDEX users_email ON users (LOWER(email));
ALTER TABLE users ADD COLUMN updated_at BIGINT NULL;
ALTER TABLE users ADD COLUMN updated_by TEXT NULL;
DELETE FROM notification_rules WHERE method_id IN (
    SELECT m.id FROM contact_methods m WHERE m.kind = 'slack' AND EXISTS (
        SELECT 1 FROM contact_methods o WHERE o.kind = 'slack' AND o.address = m.address
            AND (o.created_at < m.created_at OR (o.created_at = m.created_at AND o.id < m.id))));
DELETE FROM contact_methods m WHERE m.kind = 'slack' AND EXISTS (
    SELECT 1 FROM contact_methods o WHERE o.kind = 'slack' AND o.address = m.address
        AND (o.created_at < m.created_at OR (o.created_at = m.created_at AND o.id < m.id)));
CREATE UNIQUE INDEX contact_methods_slack_member ON contact_methods (address) WHERE kind = 'slack';
ALTER TABLE idempotency_keys ADD COLUMN redacted BIGINT NOT NULL DEFAULT 0;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
CREATE TABLE seen_requests (
    key TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX seen_requests_expiry ON seen_requests (expires_at);
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    locked_until BIGINT NOT NULL,
    last_at BIGINT NOT NULL
);
CREATE INDEX login_failures_last ON login_failures (last_at);
