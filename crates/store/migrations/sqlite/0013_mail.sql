-- Email as a channel: every received message is stored before its door answers (SMTP 250,
-- HTTP 2xx) and processed from here, once; addresses that bounced; what each user gets by
-- mail; each org's rules for mail.
CREATE TABLE inbound_mail (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    door TEXT NOT NULL,
    envelope_from TEXT NULL,
    envelope_to TEXT NOT NULL,
    raw BLOB NOT NULL,
    received_at_ms BIGINT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NULL,
    ticket_id TEXT NULL,
    org TEXT NULL,
    routed_to TEXT NULL,
    routed_by TEXT NULL,
    sender TEXT NULL,
    subject TEXT NULL,
    message_id TEXT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    claimed_until BIGINT NULL,
    settled_at BIGINT NULL
);
CREATE INDEX inbound_mail_pending ON inbound_mail(claimed_until, id) WHERE state = 'pending';
CREATE INDEX inbound_mail_state ON inbound_mail(state, id);
CREATE INDEX inbound_mail_message ON inbound_mail(message_id) WHERE message_id IS NOT NULL;
CREATE INDEX inbound_mail_ticket ON inbound_mail(ticket_id) WHERE ticket_id IS NOT NULL;
CREATE TABLE mail_suppressions (
    address TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE TABLE mail_preferences (
    user_id TEXT PRIMARY KEY,
    updates TEXT NOT NULL
);
ALTER TABLE orgs ADD COLUMN mail_unknown_senders TEXT NOT NULL DEFAULT 'hold';
ALTER TABLE orgs ADD COLUMN mail_subject_severity BIGINT NOT NULL DEFAULT 1;
CREATE INDEX outbox_informs ON outbox(kind, id) WHERE dispatched_at IS NULL;
