-- The ledger's audit (issue 28, docs/ledger.md "Audit"): one row.
-- * backfilled: 1 once every timeline row written before migration 41 has its leaf (the
--   backfill appends them in row order); from then on a row without a leaf is an audit
--   finding. A database with no such row needs no backfill.
-- * audited_size, frontier: the prefix of the log the engine's auditor has verified (leaves
--   recomputed from their rows, stored subtrees compared) and that prefix's frontier, which
--   it extends.
-- * rolling_from: where its slow re-check of already audited leaves goes on.
-- * finding, finding_leaf, found_at: the first mismatch it met (Unix seconds), shown on the
--   admin pages until the log is repaired and the row reset.
CREATE TABLE ledger_audit (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    backfilled BIGINT NOT NULL,
    audited_size BIGINT NOT NULL,
    frontier BLOB NOT NULL,
    rolling_from BIGINT NOT NULL,
    finding TEXT,
    finding_leaf BIGINT,
    found_at BIGINT
);
INSERT INTO ledger_audit (id, backfilled, audited_size, frontier, rolling_from)
    SELECT 1, CASE WHEN EXISTS (SELECT 1 FROM timeline WHERE leaf IS NULL) THEN 0 ELSE 1 END, 0, x'', 0;
