//! Checking proofs as a verifier does, from hashes alone: RFC 9162 §2.1.3.2 (inclusion) and
//! §2.1.4.2 (consistency), step for step. Both bind the tree sizes: a path that is too short or
//! too long for them fails, whatever its hashes.

use crate::tree::{Hash, node_hash};

/// Why a proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not below the tree size.
    #[error("leaf {index} is not in a tree of {size} leaves")]
    IndexBeyond {
        /// The index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// Consistency runs from a size of 1 or more to a larger one.
    #[error("consistency runs from a size of 1 or more to a larger one, not from {from} to {to}")]
    BadSizes {
        /// The older size.
        from: u64,
        /// The newer size.
        to: u64,
    },
    /// The path has the wrong number of hashes for these sizes.
    #[error("the proof has the wrong number of hashes for these sizes")]
    WrongLength,
    /// The hashes lead to another root.
    #[error("the proof leads to another root")]
    RootMismatch,
}

/// The root an inclusion path leads to from `leaf` at `index` in a tree of `size`
/// (RFC 9162 §2.1.3.2 steps 1–4, and the check that `sn` reached 0).
pub fn root_from_inclusion(leaf: &Hash, index: u64, size: u64, path: &[Hash]) -> Result<Hash, ProofError> {
    if index >= size {
        return Err(ProofError::IndexBeyond { index, size });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    Ok(r)
}

/// Accepts iff `path` proves that `leaf` is leaf `index` of the tree of `size` leaves with this
/// `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, path: &[Hash], root: &Hash) -> Result<(), ProofError> {
    if root_from_inclusion(leaf, index, size, path)? == *root { Ok(()) } else { Err(ProofError::RootMismatch) }
}

/// Accepts iff `proof` shows that the tree of `to` leaves with root `to_root` extends the tree
/// of `from` leaves with root `from_root` (RFC 9162 §2.1.4.2), for `0 < from < to`.
pub fn verify_consistency(
    from: u64,
    to: u64,
    from_root: &Hash,
    to_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if from == 0 || from >= to {
        return Err(ProofError::BadSizes { from, to });
    }
    if proof.is_empty() {
        return Err(ProofError::WrongLength);
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if from.is_power_of_two() {
        path.push(*from_root);
    }
    path.extend_from_slice(proof);
    let (mut fn_, mut sn) = (from - 1, to - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr == *from_root && sr == *to_root { Ok(()) } else { Err(ProofError::RootMismatch) }
}
