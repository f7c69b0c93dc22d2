-- The ledger's stored subtrees move into the rows of the leaves that complete them (issue 28,
-- docs/ledger.md "Storage"): ledger_leaves.nodes holds, for a leaf whose append completes
-- subtrees of level 4 and up (the 16th leaf of each block and so on), their hashes in level
-- order, 32 bytes each; NULL for the others. A subtree of level L and index j is kept by
-- leaf ((j + 1) << L) - 1. An append so writes nothing but its leaf rows, each at the end of
-- one B-tree, where ledger_nodes took an insert in the middle of its key space per level.
ALTER TABLE ledger_leaves ADD COLUMN nodes BYTEA;
UPDATE ledger_leaves l SET nodes = n.nodes FROM (
    SELECT (((id & 72057594037927935) + 1) << (id >> 56)::integer) - 1 AS leaf,
           string_agg(hash, ''::bytea ORDER BY id) AS nodes
    FROM ledger_nodes GROUP BY 1
) n
WHERE l.idx = n.leaf;
DROP TABLE ledger_nodes;
