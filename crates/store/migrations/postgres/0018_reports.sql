-- Post-incident reports: one per ticket (written with the change that resolved a ticket
-- owing one, or on demand), each saved text as a version (sections and the automatic
-- timeline as JSON), comments, and the announcements a publication sends (a Slack post,
-- a mail per org admin), claimed with a lease and retried like status notices.
CREATE TABLE reports (
    ticket_id TEXT PRIMARY KEY REFERENCES tickets(id),
    org TEXT NOT NULL REFERENCES orgs(slug),
    security BIGINT NOT NULL,
    state TEXT NOT NULL,
    due BIGINT,
    revision BIGINT NOT NULL,
    text_version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    published_at BIGINT
);
CREATE INDEX reports_org ON reports(org, created_at);
CREATE INDEX reports_state ON reports(state, due);
CREATE TABLE report_versions (
    ticket_id TEXT NOT NULL REFERENCES reports(ticket_id),
    version BIGINT NOT NULL,
    author TEXT,
    at BIGINT NOT NULL,
    sections TEXT NOT NULL,
    timeline TEXT NOT NULL,
    PRIMARY KEY (ticket_id, version)
);
CREATE TABLE report_comments (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES reports(ticket_id),
    author TEXT NOT NULL,
    at BIGINT NOT NULL,
    step TEXT,
    body TEXT NOT NULL
);
CREATE INDEX report_comments_ticket ON report_comments(ticket_id, at);
CREATE TABLE report_announcements (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES reports(ticket_id),
    channel TEXT NOT NULL,
    target TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    sent_at BIGINT,
    error TEXT
);
CREATE INDEX report_announcements_due ON report_announcements(next_attempt_at);
-- The quarterly review reads one org's tickets opened in a quarter.
CREATE INDEX tickets_org_opened ON tickets(org, opened_at);
