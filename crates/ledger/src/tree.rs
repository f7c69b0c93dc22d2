//! The RFC 9162 Merkle tree (§2.1): leaf and node hashes, the Merkle Tree Hash, and inclusion
//! and consistency proofs assembled from a [`NodeSource`] of complete-subtree hashes.
//!
//! Every value a proof needs is the hash of a run of leaves `[a, b)` that RFC 9162's recursive
//! split yields: either an aligned complete subtree, or a run that ends at the tree's right edge.
//! The latter is the right fold of the complete subtrees its length's set bits name, largest
//! first, so a store that keeps complete subtrees (never right-edge nodes, whose value depends on
//! the tree size) can answer any proof. [`plan_inclusion`] and [`plan_consistency`] list the
//! subtrees a proof needs, so a store can fetch them in one query before assembling.

use sha2_11::{Digest, Sha256};
use std::collections::HashMap;

/// A SHA-256 output: a leaf hash, a node hash or a root.
pub type Hash = [u8; 32];

/// SHA-256 over the concatenation of `parts`.
pub fn sha256(parts: &[&[u8]]) -> Hash {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// A leaf's hash, `SHA-256(0x00 || leaf_data)` (RFC 9162 §2.1.1).
pub fn leaf_hash(leaf_data: &[u8]) -> Hash {
    sha256(&[&[0x00], leaf_data])
}

/// An interior node's hash, `SHA-256(0x01 || left || right)` (RFC 9162 §2.1.1).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    sha256(&[&[0x01], left, right])
}

/// The root of the empty tree, `SHA-256()` of no bytes.
pub fn empty_root() -> Hash {
    sha256(&[])
}

/// A complete subtree: the `2^level` leaves from `index << level`. Level 0 is a leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Node {
    /// Its height: it spans `2^level` leaves.
    pub level: u8,
    /// Its position among the subtrees of its level, left to right.
    pub index: u64,
}

impl Node {
    /// The index of its first leaf, if it fits a `u64`.
    pub fn first_leaf(&self) -> Option<u64> {
        let first = self.index.checked_shl(self.level.into())?;
        (first >> self.level == self.index).then_some(first)
    }

    /// The index of its last leaf (the one whose append completes it), if it fits a `u64`.
    pub fn last_leaf(&self) -> Option<u64> {
        self.first_leaf()?.checked_add((1u64 << self.level) - 1)
    }
}

/// What can go wrong building a tree or a proof; never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// The leaf index is not below the tree size.
    #[error("leaf {index} is not in a tree of {size} leaves")]
    IndexBeyond {
        /// The index asked for.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A consistency proof needs `0 < from < to`.
    #[error("a consistency proof runs from a size of 1 or more to a larger one, not from {from} to {to}")]
    BadSizes {
        /// The older size.
        from: u64,
        /// The newer size.
        to: u64,
    },
    /// The node source does not hold a subtree the proof needs.
    #[error("no hash for the subtree of level {} at index {}", .0.level, .0.index)]
    MissingNode(Node),
    /// A size beyond what the source holds or what a `u64` counts.
    #[error("a tree of {0} leaves is larger than this source holds")]
    TooLarge(u64),
    /// A stored frontier whose length does not fit its size.
    #[error("a frontier of {bytes} bytes does not fit a tree of {size} leaves")]
    BadFrontier {
        /// Its length in bytes.
        bytes: usize,
        /// The size it claims.
        size: u64,
    },
}

/// Where proofs read complete-subtree hashes from: the store's leaf and node tables, a map of
/// prefetched nodes, or a [`MemoryTree`].
pub trait NodeSource {
    /// The hash of the complete subtree `node`, or `None` if the source does not hold it.
    fn node(&self, node: Node) -> Option<Hash>;
}

/// Prefetched subtrees, e.g. the rows a store read for a [`plan_inclusion`].
impl NodeSource for HashMap<Node, Hash> {
    fn node(&self, node: Node) -> Option<Hash> {
        self.get(&node).copied()
    }
}

/// The largest power of two strictly below `n` (RFC 9162's `k`), for `n >= 2`.
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The complete subtrees that make up `[a, b)`, largest first, by the set bits of `b - a`.
/// Every run RFC 9162's split yields starts on a boundary of its largest part, so each part is
/// aligned.
fn cover(a: u64, b: u64) -> Vec<Node> {
    let mut nodes = Vec::new();
    let mut start = a;
    let len = b - a;
    for level in (0..64u8).rev() {
        if len & (1 << level) != 0 {
            nodes.push(Node { level, index: start >> level });
            start += 1 << level;
        }
    }
    nodes
}

/// `MTH(D[a:b])` from the source, for a run that RFC 9162's split yields (`a < b`).
fn run_hash(source: &impl NodeSource, a: u64, b: u64) -> Result<Hash, TreeError> {
    let mut hashes = Vec::new();
    for node in cover(a, b) {
        hashes.push(source.node(node).ok_or(TreeError::MissingNode(node))?);
    }
    Ok(fold_right(&hashes))
}

/// `H(h0, H(h1, … H(hn-2, hn-1)))`: the root over complete subtrees listed largest first;
/// the empty root for none.
fn fold_right(hashes: &[Hash]) -> Hash {
    match hashes.split_last() {
        None => empty_root(),
        Some((last, rest)) => rest.iter().rev().fold(*last, |acc, h| node_hash(h, &acc)),
    }
}

/// The runs whose hashes make `PATH(m, D[a:b])` (RFC 9162 §2.1.3.1), bottom to top.
fn path_runs(m: u64, a: u64, b: u64, out: &mut Vec<(u64, u64)>) {
    if b - a <= 1 {
        return;
    }
    let k = split(b - a);
    if m < a + k {
        path_runs(m, a, a + k, out);
        out.push((a + k, b));
    } else {
        path_runs(m, a + k, b, out);
        out.push((a, a + k));
    }
}

/// The runs whose hashes make `SUBPROOF(m - a, D[a:b], complete)` (RFC 9162 §2.1.4.1), where
/// `m` is the older tree's size, `a < m <= b`.
fn subproof_runs(m: u64, a: u64, b: u64, complete: bool, out: &mut Vec<(u64, u64)>) {
    if m == b {
        if !complete {
            out.push((a, b));
        }
        return;
    }
    let k = split(b - a);
    if m - a <= k {
        subproof_runs(m, a, a + k, complete, out);
        out.push((a + k, b));
    } else {
        subproof_runs(m, a + k, b, false, out);
        out.push((a, a + k));
    }
}

fn inclusion_runs(index: u64, size: u64) -> Result<Vec<(u64, u64)>, TreeError> {
    if index >= size {
        return Err(TreeError::IndexBeyond { index, size });
    }
    let mut runs = Vec::new();
    path_runs(index, 0, size, &mut runs);
    Ok(runs)
}

fn consistency_runs(from: u64, to: u64) -> Result<Vec<(u64, u64)>, TreeError> {
    if from == 0 || from >= to {
        return Err(TreeError::BadSizes { from, to });
    }
    let mut runs = Vec::new();
    subproof_runs(from, 0, to, true, &mut runs);
    Ok(runs)
}

fn plan(runs: &[(u64, u64)]) -> Vec<Node> {
    let mut nodes: Vec<Node> = runs.iter().flat_map(|&(a, b)| cover(a, b)).collect();
    nodes.sort();
    nodes.dedup();
    nodes
}

/// The complete subtrees an inclusion proof of leaf `index` in a tree of `size` reads, sorted.
pub fn plan_inclusion(index: u64, size: u64) -> Result<Vec<Node>, TreeError> {
    Ok(plan(&inclusion_runs(index, size)?))
}

/// The complete subtrees a consistency proof from size `from` to size `to` reads, sorted.
pub fn plan_consistency(from: u64, to: u64) -> Result<Vec<Node>, TreeError> {
    Ok(plan(&consistency_runs(from, to)?))
}

/// The inclusion proof (audit path, RFC 9162 §2.1.3.1) of leaf `index` in the tree of the first
/// `size` leaves, bottom to top.
pub fn inclusion_proof(source: &impl NodeSource, index: u64, size: u64) -> Result<Vec<Hash>, TreeError> {
    inclusion_runs(index, size)?.into_iter().map(|(a, b)| run_hash(source, a, b)).collect()
}

/// The consistency proof (RFC 9162 §2.1.4.1) that the tree of `to` leaves extends the tree of
/// its first `from` leaves; `0 < from < to`.
pub fn consistency_proof(source: &impl NodeSource, from: u64, to: u64) -> Result<Vec<Hash>, TreeError> {
    consistency_runs(from, to)?.into_iter().map(|(a, b)| run_hash(source, a, b)).collect()
}

/// The complete subtrees [`root`] reads for a tree of `size` leaves (its frontier's nodes,
/// largest first; none for the empty tree): what a store fetches to give the root of an
/// earlier size.
pub fn plan_root(size: u64) -> Vec<Node> {
    if size == 0 { Vec::new() } else { cover(0, size) }
}

/// `MTH` of the first `size` leaves, read from the source (the empty root for 0).
pub fn root(source: &impl NodeSource, size: u64) -> Result<Hash, TreeError> {
    if size == 0 {
        return Ok(empty_root());
    }
    run_hash(source, 0, size)
}

/// The Merkle Tree Hash of a list of leaf hashes (RFC 9162 §2.1.1).
pub fn mth(leaves: &[Hash]) -> Hash {
    let mut frontier = Frontier::new();
    for leaf in leaves {
        frontier.push_leaf(*leaf);
    }
    frontier.root()
}

/// The right edge of a growing tree: the roots of the complete subtrees for the set bits of its
/// size, largest first. Appending a leaf costs one node hash on average, and the root is their
/// right fold, so the store keeps this (32 bytes a subtree) beside its size.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    roots: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// A stored frontier: `size` and its subtree roots concatenated, largest first.
    pub fn from_bytes(size: u64, bytes: &[u8]) -> Result<Frontier, TreeError> {
        if bytes.len() != size.count_ones() as usize * 32 {
            return Err(TreeError::BadFrontier { bytes: bytes.len(), size });
        }
        let roots = bytes
            .chunks_exact(32)
            .map(|c| {
                let mut hash = [0; 32];
                hash.copy_from_slice(c);
                hash
            })
            .collect();
        Ok(Frontier { size, roots })
    }

    /// The stored form: the subtree roots concatenated, largest first.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.roots.concat()
    }

    /// The number of leaves appended.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The complete subtrees of the right edge, largest first, with their hashes.
    pub fn subtrees(&self) -> Vec<(Node, Hash)> {
        cover(0, self.size).into_iter().zip(self.roots.iter().copied()).collect()
    }

    /// Appends a leaf hash and answers every complete subtree it completes, the leaf itself
    /// (level 0) first; refused once the size would overflow.
    pub fn push(&mut self, leaf: Hash) -> Result<Vec<(Node, Hash)>, TreeError> {
        if self.size == u64::MAX {
            return Err(TreeError::TooLarge(self.size));
        }
        Ok(self.push_leaf(leaf))
    }

    fn push_leaf(&mut self, leaf: Hash) -> Vec<(Node, Hash)> {
        let mut node = Node { level: 0, index: self.size };
        let mut hash = leaf;
        let mut completed = vec![(node, hash)];
        while node.index & 1 == 1 {
            let Some(left) = self.roots.pop() else { break };
            hash = node_hash(&left, &hash);
            node = Node { level: node.level + 1, index: node.index >> 1 };
            completed.push((node, hash));
        }
        self.roots.push(hash);
        self.size += 1;
        completed
    }

    /// `MTH` of the leaves appended.
    pub fn root(&self) -> Hash {
        fold_right(&self.roots)
    }
}

/// A whole tree in memory: every complete subtree's hash, level by level. For tests, tools and
/// small logs; the store answers the same [`NodeSource`] questions from its tables.
#[derive(Clone, Debug, Default)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// The empty tree.
    pub fn new() -> MemoryTree {
        MemoryTree::default()
    }

    /// A tree of these leaf hashes, in order.
    pub fn from_leaves(leaves: impl IntoIterator<Item = Hash>) -> MemoryTree {
        let mut tree = MemoryTree::new();
        for leaf in leaves {
            tree.push(leaf);
        }
        tree
    }

    /// Appends a leaf hash and the complete subtrees it completes.
    pub fn push(&mut self, leaf: Hash) {
        let mut level = 0;
        let mut hash = leaf;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(hash);
            let row = &self.levels[level];
            if row.len() % 2 == 1 {
                return;
            }
            hash = node_hash(&row[row.len() - 2], &row[row.len() - 1]);
            level += 1;
        }
    }

    /// The number of leaves.
    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Whether it has no leaves.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `MTH` of all its leaves.
    pub fn root(&self) -> Hash {
        root(self, self.len()).unwrap_or_else(|_| empty_root())
    }
}

impl NodeSource for MemoryTree {
    fn node(&self, node: Node) -> Option<Hash> {
        self.levels.get(node.level as usize)?.get(usize::try_from(node.index).ok()?).copied()
    }
}
