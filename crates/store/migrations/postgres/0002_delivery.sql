-- Paging delivery: contact methods, notification rules, and the deliveries made from the
-- outbox (one row per person × method × page, keyed for idempotency), with every attempt.
CREATE TABLE contact_methods (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    address TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX contact_methods_user ON contact_methods(user_id);
CREATE TABLE notification_rules (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    method_id TEXT NOT NULL REFERENCES contact_methods(id),
    after_seconds BIGINT NOT NULL
);
CREATE INDEX notification_rules_user ON notification_rules(user_id);
ALTER TABLE outbox ADD COLUMN dispatched_at BIGINT NULL;
CREATE INDEX outbox_undispatched ON outbox(dispatched_at, id);
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    outbox_id BIGINT NOT NULL,
    ticket_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    method_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT NULL,
    last_error TEXT NULL
);
CREATE INDEX deliveries_due ON deliveries(status, next_attempt_at);
CREATE TABLE delivery_attempts (
    delivery_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts(delivery_id);
