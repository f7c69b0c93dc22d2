//! The ledger's format (issue 28, docs/ledger.md): one append-only RFC 9162 Merkle tree of every
//! timeline entry, with signed tree heads, inclusion and consistency proofs, and the bundle a
//! customer verifies offline.
//!
//! - [`encode`]: an entry's canonical fields, salted per field, and its leaf;
//! - [`tree`]: leaf and node hashes, the Merkle Tree Hash, the frontier a store appends to, and
//!   proofs assembled from a [`tree::NodeSource`] of complete subtrees;
//! - [`verify`]: RFC 9162's inclusion and consistency checks;
//! - [`head`]: the 104-byte signed head, Ed25519 keys and rotations;
//! - [`bundle`]: the JSON bundle and [`bundle::verify_bundle`].
//!
//! Pure: no IO, no clock reads, no randomness, no async. Secrets, keys and instants are passed
//! in; every failure is a value, never a panic.

#![warn(missing_docs)]

pub mod bundle;
pub mod encode;
pub mod head;
pub mod tree;
pub mod verify;
pub mod wire;

pub use tree::Hash;
