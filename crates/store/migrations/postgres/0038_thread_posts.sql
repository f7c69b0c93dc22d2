-- Thread posts: what a ticket's thread in its org's shared channel is told (its public
-- comments written elsewhere, its changes of state), written in the transaction of the
-- change that causes it when the ticket has a thread, claimed with a lease and retried with
-- back-off by the engine: the outbox kind that replaces scanning the timeline and comments
-- for what a thread was not told yet. `note` is the JSON of what it is told.
CREATE TABLE thread_posts (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    channel TEXT NOT NULL,
    thread TEXT NOT NULL,
    actor TEXT,
    note TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    sent_at BIGINT,
    error TEXT
);
CREATE INDEX thread_posts_due ON thread_posts(next_attempt_at);
