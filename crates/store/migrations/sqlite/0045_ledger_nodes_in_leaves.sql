-- The ledger's stored subtrees move into the rows of the leaves that complete them (issue 28,
-- docs/ledger.md "Storage"): ledger_leaves.nodes holds, for a leaf whose append completes
-- subtrees of level 4 and up (the 16th leaf of each block and so on), their hashes in level
-- order, 32 bytes each; NULL for the others. A subtree of level L and index j is kept by
-- leaf ((j + 1) << L) - 1. An append so writes nothing but its leaf rows, each at the end of
-- one B-tree, where ledger_nodes took an insert in the middle of its key space per level.
ALTER TABLE ledger_leaves ADD COLUMN nodes BLOB;
UPDATE ledger_leaves SET nodes = (
    SELECT CAST(group_concat(n.hash, '' ORDER BY n.id) AS BLOB) FROM ledger_nodes n
    WHERE ((((n.id & 72057594037927935) + 1) << (n.id >> 56)) - 1) = ledger_leaves.idx
)
WHERE idx IN (SELECT (((id & 72057594037927935) + 1) << (id >> 56)) - 1 FROM ledger_nodes);
DROP TABLE ledger_nodes;
