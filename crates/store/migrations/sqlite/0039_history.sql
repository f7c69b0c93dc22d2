-- What a replay of history needs that the store did not keep (see docs/contract.md, "What-if
-- on history"):
-- * timeline.version: the ticket's version the change that wrote the row made it, so the
--   events recorded in one change (which no timer could come between) are replayed as one.
--   Rows written before this migration have none; the replay then infers the boundaries.
-- * contract_history: the contract the server ran under, its text and digest, recorded by
--   `stringer serve` at start when it differs from the last one recorded, with the Stringer
--   version whose rules applied it: the baseline a replay compares against.
ALTER TABLE timeline ADD COLUMN version BIGINT;
CREATE TABLE contract_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    source TEXT NOT NULL,
    stringer_version TEXT NOT NULL
);
