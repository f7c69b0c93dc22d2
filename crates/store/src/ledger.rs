//! The ledger's storage (issue 28, docs/ledger.md; migration 41): every timeline row is a leaf
//! of one append-only RFC 9162 tree, appended by the committer in the row's own transaction
//! (`commit.rs`). This module holds what an append computes before it takes the ledger's lock
//! (the leaf of a row, under a fresh secret), how a subtree is keyed, and the reads that proofs
//! are assembled from.
//!
//! Stored: one `ledger_state` row (size, frontier, log id) and one `ledger_leaves` row per leaf
//! (hash, secret, source and its row id, and the complete subtrees of level [`STORED_LEVEL`]
//! and up that the leaf completes: see [`completed_nodes`]). The levels below are recomputed
//! from one block of leaves, so any proof reads one block and O(log n) leaf rows.

use crate::SqlStore;
use crate::rows::RowExt;
use std::collections::HashMap;
use stringer_app::StoreError;
use stringer_ledger::Hash;
use stringer_ledger::encode::{EncodeError, Secret, TimelineEntry};
use stringer_ledger::tree::{Frontier, Node, node_hash};

/// The lowest level of the complete subtrees kept in leaf rows (16 leaves); the levels below
/// are recomputed from a block of `2^STORED_LEVEL` leaves.
pub(crate) const STORED_LEVEL: u8 = 4;

/// The `source` of a leaf that stands for a timeline row.
pub(crate) const TIMELINE: &str = stringer_app::ledger_audit::TIMELINE;

/// A leaf computed before the append: its hash and the secret its field salts derive from.
pub(crate) struct NewLeaf {
    pub(crate) hash: Hash,
    pub(crate) secret: Secret,
}

impl NewLeaf {
    /// The leaf of a timeline entry under a fresh random secret; refused (as the whole
    /// append) for a value the ledger cannot encode, e.g. a float.
    pub(crate) fn timeline(entry: &TimelineEntry<'_>) -> Result<NewLeaf, EncodeError> {
        let secret: Secret = rand::random();
        Ok(NewLeaf { hash: entry.leaf(&secret)?.hash(), secret })
    }
}

/// The `nodes` column of a leaf's row (migration 45), from what appending the leaf completed
/// (`Frontier::push`, lowest level first): the hashes of levels [`STORED_LEVEL`] and up,
/// concatenated in level order; `None` for a leaf that completes none (15 in 16). Kept in the
/// leaf's own row, an append writes no other row and stays at the end of one B-tree.
pub(crate) fn completed_nodes(completed: &[(Node, Hash)]) -> Option<Vec<u8>> {
    let stored: Vec<u8> = completed.iter().filter(|(n, _)| n.level >= STORED_LEVEL).flat_map(|(_, h)| *h).collect();
    (!stored.is_empty()).then_some(stored)
}

/// The stored subtrees a leaf row's `nodes` column holds (see [`completed_nodes`]): level
/// [`STORED_LEVEL`] first, then one level up per 32 bytes. A short last piece is left out.
pub(crate) fn nodes_of(leaf: i64, nodes: &[u8]) -> impl Iterator<Item = (Node, Hash)> + '_ {
    let end = leaf as u64 + 1;
    nodes.chunks_exact(32).zip(STORED_LEVEL..).map(move |(hash, level)| {
        let node = Node { level, index: (end >> level).saturating_sub(1) };
        let mut h = [0; 32];
        h.copy_from_slice(hash);
        (node, h)
    })
}

/// A stored leaf, as the future proof reads and the audit use it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredLeaf {
    /// Its 0-based index in the tree.
    pub index: u64,
    /// Its leaf hash, `SHA-256(0x00 || leaf_data)`.
    pub hash: Hash,
    /// The secret its field salts derive from (never published; salts are disclosed).
    pub secret: Secret,
    /// What it stands for: `timeline`.
    pub source: String,
    /// The id of the source row (`timeline.id`).
    pub source_id: i64,
}

pub(crate) fn hash_of(bytes: Vec<u8>) -> Result<Hash, StoreError> {
    bytes.try_into().map_err(|b: Vec<u8>| StoreError::Backend(format!("a stored hash of {} bytes", b.len())))
}

impl SqlStore {
    /// The ledger's size and its root, `MTH` of every leaf appended (from the stored frontier).
    pub async fn ledger_head(&self) -> Result<(u64, Hash), StoreError> {
        let (size, frontier) = self
            .row(sqlx::query("SELECT size, frontier FROM ledger_state WHERE id = 1"), |r| {
                Ok((r.col::<i64>("size")?, r.col::<Vec<u8>>("frontier")?))
            })
            .await?
            .ok_or_else(|| StoreError::Backend("the ledger has no state row".into()))?;
        let frontier = Frontier::from_bytes(size as u64, &frontier).map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok((frontier.size(), frontier.root()))
    }

    /// Up to `limit` stored leaves from index `from` on, in index order.
    pub async fn ledger_leaves(&self, from: u64, limit: u64) -> Result<Vec<StoredLeaf>, StoreError> {
        let query = sqlx::query(
            "SELECT idx, hash, secret, source, source_id FROM ledger_leaves WHERE idx >= $1 ORDER BY idx LIMIT $2",
        )
        .bind(from as i64)
        .bind(limit as i64);
        self.rows(query, |r| {
            let secret = hash_of(r.col("secret")?)?;
            Ok(StoredLeaf {
                index: r.col::<i64>("idx")? as u64,
                hash: hash_of(r.col("hash")?)?,
                secret,
                source: r.col("source")?,
                source_id: r.col("source_id")?,
            })
        })
        .await
    }

    /// The hashes of complete subtrees, as a proof plan (`tree::plan_inclusion`,
    /// `tree::plan_consistency`) lists them: those of level [`STORED_LEVEL`] and up read from
    /// the rows of the leaves that completed them in one query, the lower ones recomputed from
    /// their block of `2^STORED_LEVEL` leaves, one query per block (an inclusion proof's lie
    /// in one). A subtree not (yet) complete in the store is left out.
    pub async fn ledger_nodes(&self, nodes: &[Node]) -> Result<HashMap<Node, Hash>, StoreError> {
        let mut found = HashMap::new();
        let (stored, low): (Vec<Node>, Vec<Node>) = nodes.iter().partition(|n| n.level >= STORED_LEVEL);
        if !stored.is_empty() {
            let wanted: std::collections::HashSet<Node> = stored.iter().copied().collect();
            let rows: std::collections::BTreeSet<i64> =
                stored.iter().filter_map(|n| Some(n.last_leaf()? as i64)).collect();
            let list = (1..=rows.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
            let sql = format!("SELECT idx, nodes FROM ledger_leaves WHERE idx IN ({list}) AND nodes IS NOT NULL");
            let mut query = sqlx::query(&sql);
            for row in &rows {
                query = query.bind(*row);
            }
            for (idx, nodes) in self.rows(query, |r| Ok((r.col::<i64>("idx")?, r.col::<Vec<u8>>("nodes")?))).await? {
                found.extend(nodes_of(idx, &nodes).filter(|(node, _)| wanted.contains(node)));
            }
        }
        let mut blocks: HashMap<u64, Vec<Hash>> = HashMap::new();
        for node in low {
            let Some(first) = node.first_leaf() else { continue };
            let block = first >> STORED_LEVEL;
            if let std::collections::hash_map::Entry::Vacant(entry) = blocks.entry(block) {
                let from = (block << STORED_LEVEL) as i64;
                let query = sqlx::query("SELECT hash FROM ledger_leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx")
                    .bind(from)
                    .bind(from + (1 << STORED_LEVEL));
                entry.insert(self.rows(query, |r| hash_of(r.col("hash")?)).await?);
            }
            let offset = (first - (block << STORED_LEVEL)) as usize;
            let Some(leaves) = blocks[&block].get(offset..offset + (1usize << node.level)) else { continue };
            let mut level = leaves.to_vec();
            while level.len() > 1 {
                level = level.chunks_exact(2).map(|pair| node_hash(&pair[0], &pair[1])).collect();
            }
            found.insert(node, level[0]);
        }
        Ok(found)
    }

    /// The 32 random bytes naming this log (in every signed head).
    pub async fn ledger_log_id(&self) -> Result<Hash, StoreError> {
        self.row(sqlx::query("SELECT log_id FROM ledger_state WHERE id = 1"), |r| hash_of(r.col("log_id")?))
            .await?
            .ok_or_else(|| StoreError::Backend("the ledger has no state row".into()))
    }
}

/// Maps a ledger error met inside a transaction onto the transaction's error type.
pub(crate) fn encode_err(e: impl std::error::Error + Send + Sync + 'static) -> sqlx::Error {
    sqlx::Error::Encode(Box::new(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leaf_row_keeps_the_subtrees_its_append_completes() {
        let mut frontier = Frontier::new();
        let mut kept = Vec::new();
        for i in 0..64u8 {
            let completed = frontier.push([i; 32]).unwrap();
            let nodes = completed_nodes(&completed);
            assert_eq!(nodes.is_some(), (i as u64 + 1).is_multiple_of(16), "leaf {i}");
            let read: Vec<(Node, Hash)> = nodes_of(i as i64, nodes.as_deref().unwrap_or_default()).collect();
            let expected: Vec<(Node, Hash)> = completed.into_iter().filter(|(n, _)| n.level >= STORED_LEVEL).collect();
            assert_eq!(read, expected, "leaf {i}");
            kept.extend(read);
        }
        let levels: Vec<(u8, u64)> = kept.iter().map(|(n, _)| (n.level, n.index)).collect();
        assert_eq!(levels, [(4, 0), (4, 1), (5, 0), (4, 2), (4, 3), (5, 1), (6, 0)]);
        for (node, _) in kept {
            assert_eq!(node.last_leaf(), Some(node.first_leaf().unwrap() + (1 << node.level) - 1));
        }
    }
}
