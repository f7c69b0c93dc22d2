-- Quarterly operational reviews: the recommendations a TAM writes for an org's quarter, and
-- the reviews mailed when a quarter ends — one round per org and quarter (written once, with
-- its letters), one letter per recipient, claimed with a lease and retried like the report
-- announcements.
CREATE TABLE review_recommendations (
    org TEXT NOT NULL REFERENCES orgs(slug),
    quarter TEXT NOT NULL,
    body TEXT NOT NULL,
    author TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org, quarter)
);
CREATE TABLE review_rounds (
    org TEXT NOT NULL REFERENCES orgs(slug),
    quarter TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org, quarter)
);
CREATE INDEX review_rounds_quarter ON review_rounds(quarter);
CREATE TABLE review_letters (
    id TEXT PRIMARY KEY,
    org TEXT NOT NULL REFERENCES orgs(slug),
    quarter TEXT NOT NULL,
    recipient TEXT NOT NULL,
    tam BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    sent_at BIGINT,
    error TEXT
);
CREATE INDEX review_letters_due ON review_letters(next_attempt_at);
