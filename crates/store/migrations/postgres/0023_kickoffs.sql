-- Kickoffs of orgs' shared Slack channels owed since their channel was set or changed:
-- durable work, claimed with a lease and retried with back-off by the chat intake, so a
-- restart or a Slack outage loses none.
CREATE TABLE channel_kickoffs (
    id TEXT PRIMARY KEY,
    org TEXT NOT NULL REFERENCES orgs(slug),
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    sent_at BIGINT,
    error TEXT
);
CREATE INDEX channel_kickoffs_due ON channel_kickoffs(next_attempt_at);
