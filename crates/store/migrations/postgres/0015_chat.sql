-- The orgs' shared Slack channels as a way in: every channel message the Events API door
-- accepted (stored before it answers Slack, once per Slack event id), the channel ids
-- learned for each org's channel, which thread is which ticket's, and which public comments
-- the threads have had.
CREATE TABLE chat_messages (
    id BIGSERIAL PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    signature TEXT NOT NULL,
    channel TEXT NOT NULL,
    member TEXT NOT NULL,
    ts TEXT NOT NULL,
    thread_ts TEXT NULL,
    body TEXT NOT NULL,
    received_at_ms BIGINT NOT NULL,
    state TEXT NOT NULL,
    outcome TEXT NULL,
    ticket_id TEXT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    claimed_until BIGINT NULL,
    settled_at BIGINT NULL
);
CREATE INDEX chat_messages_pending ON chat_messages(id) WHERE state = 'pending';
CREATE TABLE chat_channels (
    channel TEXT PRIMARY KEY,
    org TEXT NOT NULL REFERENCES orgs(slug)
);
CREATE TABLE chat_threads (
    channel TEXT NOT NULL,
    thread_ts TEXT NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    bound_at BIGINT NOT NULL,
    PRIMARY KEY (channel, thread_ts)
);
CREATE INDEX chat_threads_ticket ON chat_threads(ticket_id);
-- Public comments posted into their ticket's thread, or that came from it (never echoed).
CREATE TABLE chat_posts (
    comment_id TEXT PRIMARY KEY,
    at BIGINT NOT NULL
);
