-- The web pages' schema: human ticket keys (a number per org), the ticket's owner, the
-- console queue's sort key, full-text search, people's time zones and deactivation, and
-- browser sessions.

-- Ticket numbers per org: taken by the group committer from orgs.ticket_seq.
ALTER TABLE orgs ADD COLUMN ticket_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN number BIGINT NULL;
UPDATE tickets SET number = (
    SELECT n FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY org ORDER BY opened_at, id) AS n FROM tickets) r
    WHERE r.id = tickets.id);
UPDATE orgs SET ticket_seq = COALESCE((SELECT MAX(number) FROM tickets WHERE tickets.org = orgs.slug), 0);
CREATE UNIQUE INDEX tickets_org_number ON tickets(org, number);

-- Who works the ticket.
ALTER TABLE tickets ADD COLUMN assignee TEXT NULL;
CREATE INDEX tickets_assignee ON tickets(assignee) WHERE status <> 'resolved';

-- The queue's order as one integer (breached first, then by due time, then the rest by
-- opening); the committer keeps it. Existing rows: breached and running by next_due, the
-- rest by opening.
ALTER TABLE tickets ADD COLUMN queue_key BIGINT NOT NULL DEFAULT 0;
UPDATE tickets SET queue_key = CASE
    WHEN sla_state = 'breached' THEN COALESCE(next_due, opened_at) + 4294967296
    WHEN next_due IS NOT NULL THEN 17179869184 + next_due + 4294967296
    ELSE 34359738368 + opened_at + 4294967296 END;
CREATE INDEX tickets_queue ON tickets(queue_key, id) WHERE status <> 'resolved';

-- Full-text search over subjects, descriptions and comments; internal notes are rows with
-- public = 0, searched by staff only.
CREATE VIRTUAL TABLE ticket_search USING fts5(ticket_id UNINDEXED, public UNINDEXED, body);
INSERT INTO ticket_search (ticket_id, public, body) SELECT id, 1, subject || ' ' || description FROM tickets;
INSERT INTO ticket_search (ticket_id, public, body) SELECT ticket_id, public, body FROM comments;

-- Orgs are edited (admin pages, PATCH); who changed one last is kept like for users.
ALTER TABLE orgs ADD COLUMN updated_at BIGINT NULL;
ALTER TABLE orgs ADD COLUMN updated_by TEXT NULL;

ALTER TABLE users ADD COLUMN time_zone TEXT NULL;
ALTER TABLE users ADD COLUMN deactivated_at BIGINT NULL;
ALTER TABLE users ADD COLUMN deactivated_by TEXT NULL;

-- Browser sessions: the cookie's SHA-256 is the key; the CSRF token travels in every form.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);

-- The console reads a ticket's deliveries and the pages a person received.
CREATE INDEX deliveries_ticket ON deliveries (ticket_id, created_at);
CREATE INDEX deliveries_user ON deliveries (user_id, created_at);

-- "Contact us": general inquiries from anyone, due on the contract's general-inquiry target.
CREATE TABLE inquiries (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    company TEXT NULL,
    body TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    due_at BIGINT NOT NULL,
    answered_at BIGINT NULL,
    answered_by TEXT NULL,
    answer TEXT NULL
);
CREATE INDEX inquiries_queue ON inquiries (due_at) WHERE answered_at IS NULL;

-- One-time "set your password" links (invitations and resets). The link carries the id and
-- expiry signed with the server's key; nothing secret is stored. Used once.
CREATE TABLE password_links (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    purpose TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT NULL
);
CREATE INDEX password_links_user ON password_links (user_id);

-- Files attached to tickets, kept with them in the database (at most 10 MiB each).
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    public BIGINT NOT NULL,
    uploaded_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX attachments_ticket ON attachments (ticket_id, created_at);
