//! Signed tree heads (docs/ledger.md §4): a documented 104-byte layout of (log id, tree size,
//! root, time) signed with Ed25519, the public key's written form and id, and key rotations
//! endorsed by the key they retire.

use crate::tree::{Hash, sha256};
use crate::wire;
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

pub use ed25519_dalek::SigningKey;

/// The domain label that starts a head's signed bytes.
pub const HEAD_LABEL: &[u8] = b"stringer-ledger/v1 head\0";
/// The domain label that starts a rotation's endorsed bytes.
pub const ROTATE_LABEL: &[u8] = b"stringer-ledger/v1 rotate\0";
/// The length of a head's signed bytes.
pub const HEAD_LEN: usize = 104;

/// Why a key, head or rotation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    /// A public key not written `ed25519:<base64 of 32 bytes>`, or not a curve point.
    #[error("not an Ed25519 public key: {0}")]
    BadKey(String),
    /// Signed bytes of the wrong length or label.
    #[error("not a head's 104 signed bytes")]
    BadLayout,
    /// The head names another key than the one it is checked with.
    #[error("the head is signed by key {signed_by}, not by key {expected}")]
    OtherKey {
        /// The key id the head names.
        signed_by: String,
        /// The id of the key it was checked with.
        expected: String,
    },
    /// The signature does not verify.
    #[error("the signature does not verify")]
    BadSignature,
}

/// An Ed25519 public key, written `ed25519:<base64 of its 32 bytes>`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(pub [u8; 32]);

impl PublicKey {
    /// The public half of a signing key.
    pub fn of(key: &SigningKey) -> PublicKey {
        PublicKey(key.verifying_key().to_bytes())
    }

    /// `SHA-256` of its 32 bytes: how heads and rotations name it.
    pub fn key_id(&self) -> Hash {
        sha256(&[&self.0])
    }

    /// What people compare: the first 16 bytes of the key id in groups of four hex digits.
    pub fn fingerprint(&self) -> String {
        let id = hex::encode(&self.key_id()[..16]);
        id.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
    }

    /// Checks an Ed25519 signature with RFC 8032's strict rules (no small-order keys, canonical
    /// encodings).
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> Result<(), HeadError> {
        let key = VerifyingKey::from_bytes(&self.0).map_err(|_| HeadError::BadKey(self.to_string()))?;
        key.verify_strict(message, &Signature::from_bytes(signature)).map_err(|_| HeadError::BadSignature)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ed25519:{}", wire::to_base64(&self.0))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for PublicKey {
    type Err = HeadError;

    fn from_str(s: &str) -> Result<PublicKey, HeadError> {
        let b64 = s.trim().strip_prefix("ed25519:").ok_or_else(|| HeadError::BadKey(s.to_owned()))?;
        let bytes = wire::parse_base64::<32>(b64).map_err(HeadError::BadKey)?;
        VerifyingKey::from_bytes(&bytes).map_err(|_| HeadError::BadKey(s.to_owned()))?;
        Ok(PublicKey(bytes))
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<PublicKey, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// What a head states: the log's tree of `tree_size` leaves had this root at `timestamp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeHead {
    /// The 32 random bytes naming the log.
    pub log_id: [u8; 32],
    /// The number of leaves covered.
    pub tree_size: u64,
    /// `MTH` of those leaves.
    pub root_hash: Hash,
    /// When it was signed, in Unix seconds (UTC).
    pub timestamp: u64,
}

impl TreeHead {
    /// The signed bytes: `HEAD_LABEL || log_id || u64be(tree_size) || root_hash ||
    /// u64be(timestamp)`, 104 bytes.
    pub fn to_bytes(&self) -> [u8; HEAD_LEN] {
        let mut out = [0; HEAD_LEN];
        out[..24].copy_from_slice(HEAD_LABEL);
        out[24..56].copy_from_slice(&self.log_id);
        out[56..64].copy_from_slice(&self.tree_size.to_be_bytes());
        out[64..96].copy_from_slice(&self.root_hash);
        out[96..].copy_from_slice(&self.timestamp.to_be_bytes());
        out
    }

    /// A head read back from its signed bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<TreeHead, HeadError> {
        if bytes.len() != HEAD_LEN || &bytes[..24] != HEAD_LABEL {
            return Err(HeadError::BadLayout);
        }
        let word = |at: usize| {
            let mut out = [0; 8];
            out.copy_from_slice(&bytes[at..at + 8]);
            u64::from_be_bytes(out)
        };
        let hash = |at: usize| {
            let mut out = [0; 32];
            out.copy_from_slice(&bytes[at..at + 32]);
            out
        };
        Ok(TreeHead { log_id: hash(24), tree_size: word(56), root_hash: hash(64), timestamp: word(96) })
    }

    /// The head signed with `key` (Ed25519, RFC 8032 pure).
    pub fn sign(&self, key: &SigningKey) -> SignedHead {
        let signature = key.sign(&self.to_bytes()).to_bytes();
        SignedHead { head: *self, key_id: PublicKey::of(key).key_id(), signature }
    }
}

/// A head with its signature, in its JSON form `{log_id, tree_size, root_hash, timestamp,
/// key_id, signature}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "HeadJson", into = "HeadJson")]
pub struct SignedHead {
    /// What is signed.
    pub head: TreeHead,
    /// The id of the key that signed it.
    pub key_id: Hash,
    /// The Ed25519 signature over `head.to_bytes()`.
    pub signature: [u8; 64],
}

impl SignedHead {
    /// Checks that `key` signed this head (and that the head names it).
    pub fn verify(&self, key: &PublicKey) -> Result<(), HeadError> {
        if self.key_id != key.key_id() {
            return Err(HeadError::OtherKey {
                signed_by: hex::encode(self.key_id),
                expected: hex::encode(key.key_id()),
            });
        }
        key.verify(&self.head.to_bytes(), &self.signature)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeadJson {
    #[serde(with = "wire::hex32")]
    log_id: [u8; 32],
    tree_size: u64,
    #[serde(with = "wire::hex32")]
    root_hash: Hash,
    timestamp: u64,
    #[serde(with = "wire::hex32")]
    key_id: Hash,
    #[serde(with = "wire::sig64")]
    signature: [u8; 64],
}

impl From<HeadJson> for SignedHead {
    fn from(j: HeadJson) -> SignedHead {
        SignedHead {
            head: TreeHead { log_id: j.log_id, tree_size: j.tree_size, root_hash: j.root_hash, timestamp: j.timestamp },
            key_id: j.key_id,
            signature: j.signature,
        }
    }
}

impl From<SignedHead> for HeadJson {
    fn from(s: SignedHead) -> HeadJson {
        HeadJson {
            log_id: s.head.log_id,
            tree_size: s.head.tree_size,
            root_hash: s.head.root_hash,
            timestamp: s.head.timestamp,
            key_id: s.key_id,
            signature: s.signature,
        }
    }
}

/// A key rotation: the retiring key endorses its successor at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// The key retired.
    pub old_key: PublicKey,
    /// The key that signs from then on.
    pub new_key: PublicKey,
    /// When, in Unix seconds (UTC).
    pub at: u64,
    /// The old key's signature over [`Rotation::endorsed_bytes`].
    #[serde(with = "wire::sig64")]
    pub endorsement: [u8; 64],
}

impl Rotation {
    /// `old` endorses `new` at `at`.
    pub fn endorse(old: &SigningKey, new: &PublicKey, at: u64) -> Rotation {
        let old_key = PublicKey::of(old);
        let endorsement = old.sign(&Rotation::bytes(&old_key, new, at)).to_bytes();
        Rotation { old_key, new_key: *new, at, endorsement }
    }

    fn bytes(old: &PublicKey, new: &PublicKey, at: u64) -> Vec<u8> {
        [ROTATE_LABEL, &old.key_id(), &new.0, &at.to_be_bytes()].concat()
    }

    /// The endorsed bytes: `ROTATE_LABEL || old key_id || new public key || u64be(at)`.
    pub fn endorsed_bytes(&self) -> Vec<u8> {
        Rotation::bytes(&self.old_key, &self.new_key, self.at)
    }

    /// Checks that the old key signed the endorsement.
    pub fn verify(&self) -> Result<(), HeadError> {
        self.old_key.verify(&self.endorsed_bytes(), &self.endorsement)
    }
}
