-- A "Contact us" inquiry's answer is a letter in the same outbox as the quarterly reviews
-- and welcome packets: written with the answer, in one transaction, and sent by the postman.
-- Such a letter is to someone of no org, so `org` may be empty; `inquiry` names the
-- inquiry it answers. SQLite cannot drop a NOT NULL, so the table is rebuilt.
CREATE TABLE org_letters_next (
    id TEXT PRIMARY KEY,
    org TEXT REFERENCES orgs(slug),
    kind TEXT NOT NULL,
    quarter TEXT,
    recipient TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    sent_at BIGINT,
    error TEXT,
    inquiry TEXT REFERENCES inquiries(id)
);
INSERT INTO org_letters_next (id, org, kind, quarter, recipient, created_at, attempts, next_attempt_at, sent_at, error)
    SELECT id, org, kind, quarter, recipient, created_at, attempts, next_attempt_at, sent_at, error FROM org_letters;
DROP TABLE org_letters;
ALTER TABLE org_letters_next RENAME TO org_letters;
CREATE INDEX org_letters_due ON org_letters(next_attempt_at);
