-- The ledger (issue 28, docs/ledger.md): one append-only Merkle tree (RFC 9162) of every
-- timeline row, appended in the transaction that writes the row (crates/store/src/commit.rs).
-- * ledger_state: one row, the lock that orders appends (taken last in a transaction): the
--   number of leaves, the frontier (the roots of the complete subtrees of that size, largest
--   first, 32 bytes each) and 32 random bytes naming this log.
-- * ledger_leaves: each leaf's hash, its secret (the field salts derive from it) and what it
--   stands for: the source ('timeline') and that row's id.
--   Neither this table's source_id nor timeline.leaf is indexed, so an append costs no
--   B-tree insert beyond the rows themselves: a proof reaches a ticket's leaves through its
--   timeline rows (indexed by ticket), the audit reaches a leaf's row through source_id (the
--   row's key), and that the pointers agree and are unique is one of the audit's checks.
-- * ledger_nodes: the complete subtrees of level 4 and up (16 leaves and more), keyed
--   level << 56 | index, so that a proof reads O(log n) rows; lower levels are recomputed
--   from one block of 16 leaves.
-- * timeline.leaf: the leaf of each row. Rows written before this migration have none (a
--   later backfill appends them).
CREATE TABLE ledger_state (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL,
    frontier BYTEA NOT NULL,
    log_id BYTEA NOT NULL
);
INSERT INTO ledger_state (id, size, frontier, log_id) VALUES (1, 0, decode('', 'hex'), sha256(decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex')));
CREATE TABLE ledger_leaves (
    idx BIGINT PRIMARY KEY,
    hash BYTEA NOT NULL,
    secret BYTEA NOT NULL,
    source TEXT NOT NULL,
    source_id BIGINT NOT NULL
);
CREATE TABLE ledger_nodes (
    id BIGINT PRIMARY KEY,
    hash BYTEA NOT NULL
);
ALTER TABLE timeline ADD COLUMN leaf BIGINT;
