-- The integration keys an admin granted leave to set a status page's components from their
-- monitoring alerts. A tenant page's own org's keys need none; every other key, above all
-- on the vendor's public page, sets nothing unless granted here.
CREATE TABLE status_alert_grants (
    page_id TEXT NOT NULL REFERENCES status_pages(id),
    key_id TEXT NOT NULL REFERENCES integration_keys(id),
    granted_by TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (page_id, key_id)
);
