-- Status pages: the public platform page (org NULL, scope '') and one per dedicated or
-- federal org (scope = its slug); their components and groups; each component's status
-- history as intervals (one open interval, until_at NULL, while it is not operational);
-- incidents and scheduled maintenances (kind), the components they concern, and their
-- updates with the components each changed (affected: JSON, old and new status).
CREATE TABLE status_pages (
    id TEXT PRIMARY KEY,
    scope TEXT NOT NULL UNIQUE,
    org TEXT REFERENCES orgs(slug),
    name TEXT NOT NULL,
    host TEXT UNIQUE,
    time_zone TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE status_components (
    id TEXT PRIMARY KEY,
    page_id TEXT NOT NULL REFERENCES status_pages(id),
    group_id TEXT REFERENCES status_components(id),
    name TEXT NOT NULL,
    description TEXT,
    position BIGINT NOT NULL,
    is_group BIGINT NOT NULL,
    only_show_if_degraded BIGINT NOT NULL,
    showcase BIGINT NOT NULL,
    status TEXT NOT NULL,
    alert_key TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX status_components_page ON status_components(page_id, position);
CREATE INDEX status_components_alert_key ON status_components(alert_key);
CREATE TABLE status_intervals (
    component_id TEXT NOT NULL REFERENCES status_components(id),
    from_at BIGINT NOT NULL,
    until_at BIGINT,
    status TEXT NOT NULL
);
CREATE INDEX status_intervals_component ON status_intervals(component_id, until_at);
CREATE TABLE status_incidents (
    id TEXT PRIMARY KEY,
    page_id TEXT NOT NULL REFERENCES status_pages(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    impact TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    monitoring_at BIGINT,
    resolved_at BIGINT,
    scheduled_for BIGINT,
    scheduled_until BIGINT,
    ticket_id TEXT REFERENCES tickets(id),
    reminded_at BIGINT
);
CREATE INDEX status_incidents_page ON status_incidents(page_id, kind, created_at);
CREATE INDEX status_incidents_due ON status_incidents(kind, status, scheduled_for);
CREATE TABLE status_incident_components (
    incident_id TEXT NOT NULL REFERENCES status_incidents(id),
    component_id TEXT NOT NULL REFERENCES status_components(id),
    PRIMARY KEY (incident_id, component_id)
);
CREATE TABLE status_updates (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES status_incidents(id),
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    affected TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX status_updates_incident ON status_updates(incident_id, created_at);
CREATE INDEX status_incidents_ticket ON status_incidents(ticket_id);
-- Subscribers (mail after double opt-in, webhooks, the org's Slack channel) and the notices
-- due to them: written with the update, reminder or subscription they tell of, claimed by
-- the engine with a lease, sent, retried with back-off. A maintenance's reminded_at says its
-- reminders were written.
CREATE TABLE status_subscribers (
    id TEXT PRIMARY KEY,
    page_id TEXT NOT NULL REFERENCES status_pages(id),
    kind TEXT NOT NULL,
    address TEXT NOT NULL,
    components TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    confirmed_at BIGINT,
    unsubscribed_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX status_subscribers_page ON status_subscribers(page_id, kind, address);
CREATE TABLE status_notices (
    id TEXT PRIMARY KEY,
    subscriber_id TEXT NOT NULL REFERENCES status_subscribers(id),
    kind TEXT NOT NULL,
    incident_id TEXT REFERENCES status_incidents(id),
    update_id TEXT,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    sent_at BIGINT,
    error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX status_notices_due ON status_notices(next_attempt_at);
