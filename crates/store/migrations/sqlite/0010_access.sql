-- The access-policy issue's schema.
-- 1. An address may have one account per customer org and one among staff, so creating a
--    user never reveals whether the address has an account in another org. SQLite cannot
--    drop a column's UNIQUE constraint, so the table is rebuilt (foreign keys are off while a
--    migration runs and checked before it commits).
CREATE TABLE users_new (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    org TEXT NULL REFERENCES orgs(slug),
    federal_cleared BIGINT NOT NULL,
    password_hash TEXT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NULL,
    ics_secret_hash TEXT NULL,
    updated_at BIGINT NULL,
    updated_by TEXT NULL
);
INSERT INTO users_new (id, email, name, role, org, federal_cleared, password_hash, created_at, created_by, ics_secret_hash)
    SELECT id, email, name, role, org, federal_cleared, password_hash, created_at, created_by, ics_secret_hash FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE UNIQUE INDEX users_email_per_org ON users(COALESCE(org, ''), LOWER(email));
CREATE INDEX users_email ON users(LOWER(email));
-- 2. A Slack member ID belongs to one user: later duplicates (the probe's claimed IDs) go.
DELETE FROM notification_rules WHERE method_id IN (
    SELECT m.id FROM contact_methods m WHERE m.kind = 'slack' AND EXISTS (
        SELECT 1 FROM contact_methods o WHERE o.kind = 'slack' AND o.address = m.address
            AND (o.created_at < m.created_at OR (o.created_at = m.created_at AND o.id < m.id))));
DELETE FROM contact_methods WHERE kind = 'slack' AND EXISTS (
    SELECT 1 FROM contact_methods o WHERE o.kind = 'slack' AND o.address = contact_methods.address
        AND (o.created_at < contact_methods.created_at OR (o.created_at = contact_methods.created_at AND o.id < contact_methods.id)));
CREATE UNIQUE INDEX contact_methods_slack_member ON contact_methods(address) WHERE kind = 'slack';
-- 3. Idempotency keys: a response that carried a one-time secret is kept without it
--    (`redacted`); keys expire, so the table is purged by age.
ALTER TABLE idempotency_keys ADD COLUMN redacted BIGINT NOT NULL DEFAULT 0;
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
-- 4. Signed requests already accepted (Slack), refused if replayed while still fresh.
CREATE TABLE seen_requests (
    key TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX seen_requests_expiry ON seen_requests(expires_at);
-- 5. Failed sign-ins per client address and account, with the back-off they earned.
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    locked_until BIGINT NOT NULL,
    last_at BIGINT NOT NULL
);
CREATE INDEX login_failures_last ON login_failures(last_at);
