-- Alerts from monitoring: integration keys (the secret's SHA-256 only), every signal a door
-- accepted (stored before it answers, processed from here once), and each deduplication
-- key's alert with the ticket it opened; change events (deploys, configuration changes) shown
-- beside the tickets of the same org.
CREATE TABLE integration_keys (
    id TEXT PRIMARY KEY,
    org TEXT NOT NULL REFERENCES orgs(slug),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    severity_map TEXT NULL,
    on_resolve TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT NULL
);
CREATE INDEX integration_keys_org ON integration_keys(org, created_at);
CREATE TABLE alert_signals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id TEXT NOT NULL,
    action TEXT NOT NULL,
    dedup_key TEXT NOT NULL,
    summary TEXT NOT NULL,
    source TEXT NOT NULL,
    level TEXT NULL,
    details TEXT NOT NULL,
    received_at_ms BIGINT NOT NULL,
    state TEXT NOT NULL,
    outcome TEXT NULL,
    ticket_id TEXT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    claimed_until BIGINT NULL,
    settled_at BIGINT NULL
);
-- The claim takes pending signals in id order: an index of exactly those, so it never walks
-- the settled ones.
CREATE INDEX alert_signals_pending ON alert_signals(id) WHERE state = 'pending';
CREATE TABLE alerts (
    key_id TEXT NOT NULL,
    dedup_key TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    open BIGINT NOT NULL,
    acknowledged BIGINT NOT NULL,
    count BIGINT NOT NULL,
    summary TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    PRIMARY KEY (key_id, dedup_key)
);
CREATE INDEX alerts_ticket ON alerts(ticket_id);
CREATE TABLE change_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id TEXT NOT NULL,
    org TEXT NOT NULL,
    summary TEXT NOT NULL,
    source TEXT NOT NULL,
    at BIGINT NOT NULL,
    details TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX change_events_org ON change_events(org, at);
-- Received mail is claimed the same way; its first index (claimed_until, id) left the claim
-- walking every settled message in id order.
DROP INDEX inbound_mail_pending;
CREATE INDEX inbound_mail_pending ON inbound_mail(id) WHERE state = 'pending';
