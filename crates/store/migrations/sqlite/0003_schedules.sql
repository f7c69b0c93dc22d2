-- On-call schedules (the written form, with overrides, as JSON) and calendar-feed secrets.
CREATE TABLE schedules (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    org TEXT NULL REFERENCES orgs(slug),
    spec TEXT NOT NULL,
    ics_secret_hash TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NULL
);
CREATE INDEX schedules_org ON schedules(org);
ALTER TABLE users ADD COLUMN ics_secret_hash TEXT NULL;
