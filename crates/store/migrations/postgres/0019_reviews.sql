-- Quarterly operational reviews and letters to an org's people: the recommendations a TAM
-- writes for an org's quarter; the review rounds mailed when a quarter ends (one per org and
-- quarter, written once, with its letters); and the letters themselves — a quarterly review
-- or a welcome packet for one address — claimed with a lease and retried like the report
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
CREATE TABLE org_letters (
    id TEXT PRIMARY KEY,
    org TEXT NOT NULL REFERENCES orgs(slug),
    kind TEXT NOT NULL,
    quarter TEXT,
    recipient TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    sent_at BIGINT,
    error TEXT
);
CREATE INDEX org_letters_due ON org_letters(next_attempt_at);
