-- Stringer schema, SQLite flavour. Instants are Unix seconds (BIGINT); booleans 0/1;
-- structured values JSON text. Keep in step with ../postgres/0001_init.sql.
CREATE TABLE orgs (
    slug TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    tier TEXT NOT NULL,
    deployment TEXT NOT NULL,
    tam TEXT NULL,
    named_engineers TEXT NOT NULL,
    slack_channel TEXT NULL,
    email_tag TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    created_by TEXT NULL
);
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    org TEXT NULL REFERENCES orgs(slug),
    federal_cleared BIGINT NOT NULL,
    password_hash TEXT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NULL
);
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NULL,
    revoked_at BIGINT NULL,
    created_by TEXT NULL,
    revoked_by TEXT NULL
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);
CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    org TEXT NOT NULL REFERENCES orgs(slug),
    requester TEXT NULL REFERENCES users(id),
    subject TEXT NOT NULL,
    description TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    security BIGINT NOT NULL,
    channel TEXT NULL,
    opened_at BIGINT NOT NULL,
    next_due BIGINT NULL,
    sla_state TEXT NOT NULL,
    state TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX tickets_org ON tickets(org, id);
CREATE INDEX tickets_next_due ON tickets(next_due);
CREATE TABLE comments (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    author TEXT NOT NULL,
    public BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX comments_ticket ON comments(ticket_id, created_at);
CREATE TABLE timeline (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NULL,
    body TEXT NOT NULL
);
CREATE INDEX timeline_ticket ON timeline(ticket_id, id);
CREATE TABLE timers (
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    kind TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, kind)
);
CREATE INDEX timers_at ON timers(at);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, key)
);
