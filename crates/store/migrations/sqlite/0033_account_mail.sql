-- Account mail through the outbox: a password link's mail, an org's invitation and the notice
-- to an address already held are written with the link (or invitation) in one transaction and
-- sent later by the engine's courier, claimed with a lease and retried like the letters. A row
-- holds no secret: the link's id and expiry only; the mail is written, its link signed, when
-- it is sent.
CREATE TABLE account_mail (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    link TEXT NOT NULL,
    expires_at BIGINT,
    org TEXT REFERENCES orgs(slug),
    recipient TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    sent_at BIGINT,
    error TEXT
);
CREATE INDEX account_mail_due ON account_mail(next_attempt_at);
