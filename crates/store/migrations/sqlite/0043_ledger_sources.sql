-- The ledger's other sources (issue 28, docs/ledger.md §1): status-page updates, report
-- publications and quarterly-review figure sets are leaves of the one tree too, each appended
-- in the transaction that writes it, through the same append as timeline rows (the
-- ledger_state lock taken last). ledger_leaves.source names the kind ('status_update',
-- 'report', 'review'); each source row keeps its leaf's index.
-- * status_updates.leaf: the update's leaf. An update has a text id, so its leaf's
--   source_id is the leaf's own index and the update is found by this column.
-- * report_publications: each publication of a report's text (the first, and a re-publication
--   with a new text version), once per text version, with its leaf (source_id = id). The
--   text is the one stored in report_versions at that version; the leaf is recomputed from it.
-- * review_figures: a quarterly review's figure set, frozen when its round is written:
--   integers only (counts and seconds; readers derive percentages), as canonical JSON text.
--   Written once per org and quarter, with its leaf (source_id = id).
ALTER TABLE status_updates ADD COLUMN leaf BIGINT;
CREATE UNIQUE INDEX status_updates_leaf ON status_updates (leaf);
CREATE TABLE report_publications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id TEXT NOT NULL REFERENCES reports(ticket_id),
    text_version BIGINT NOT NULL,
    at BIGINT NOT NULL,
    leaf BIGINT NOT NULL UNIQUE
);
CREATE UNIQUE INDEX report_publications_ticket ON report_publications (ticket_id, text_version);
CREATE TABLE review_figures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org TEXT NOT NULL REFERENCES orgs(slug),
    quarter TEXT NOT NULL,
    at BIGINT NOT NULL,
    figures TEXT NOT NULL,
    leaf BIGINT NOT NULL UNIQUE,
    UNIQUE (org, quarter)
);
