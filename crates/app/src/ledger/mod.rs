//! The ledger's use cases (issue 28, docs/ledger.md §6): the [`notary`] signs tree heads with
//! the log's key, and the [`desk`] answers what readers ask — a ticket's bundle with its
//! proofs, consistency proofs, the published key and heads — each asked of the access policy.
//! The store appends the leaves (in each timeline row's transaction) and keeps keys and heads
//! behind the [`LedgerBook`] port; the format is the pure `stringer-ledger` crate.

pub mod cover;
pub mod desk;
pub mod notary;

use crate::store::StoreError;
use async_trait::async_trait;
use std::collections::HashMap;
use stringer_core::ids::TicketId;
use stringer_ledger::Hash;
use stringer_ledger::encode::Secret;
use stringer_ledger::head::{PublicKey, Rotation, SignedHead};
use stringer_ledger::tree::Node;

pub use cover::Cover;
pub use desk::LedgerDesk;
pub use notary::Notary;

/// The log as it stands: its name, how many leaves it holds and their root (one consistent
/// read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogState {
    /// The 32 random bytes naming the log.
    pub log_id: [u8; 32],
    /// Leaves appended.
    pub size: u64,
    /// `MTH` of them.
    pub root: Hash,
}

/// A key of the log, in the order they signed: the first key, then each one a rotation
/// endorsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogKey {
    /// Its public half.
    pub public_key: PublicKey,
    /// When it was recorded (Unix seconds).
    pub added_at: i64,
    /// The previous key's endorsement of it; `None` for the log's first key.
    pub rotation: Option<Rotation>,
}

/// A timeline row with its leaf, as a ticket's proof reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct LeafRow {
    /// The row's position in the timeline (its `seq`).
    pub seq: i64,
    /// The ticket version the change that wrote it made.
    pub version: Option<i64>,
    /// Unix seconds.
    pub at: i64,
    /// Its kind.
    pub kind: String,
    /// Who acted.
    pub actor: Option<String>,
    /// The body as written.
    pub body: serde_json::Value,
    /// Its leaf's index and secret; `None` for a row written before the ledger (it awaits a
    /// backfill).
    pub leaf: Option<(u64, Secret)>,
}

/// What the ledger's use cases read and write: the log's state and subtrees, a ticket's rows
/// with their leaves, the log's keys and its signed heads.
#[async_trait]
pub trait LedgerBook: Send + Sync {
    /// The log's id, size and root now.
    async fn log_state(&self) -> Result<LogState, StoreError>;

    /// The hashes of complete subtrees a proof plan lists (those the store holds).
    async fn subtrees(&self, nodes: &[Node]) -> Result<HashMap<Node, Hash>, StoreError>;

    /// A ticket's timeline rows in order, each with its leaf.
    async fn ticket_leaves(&self, ticket: &TicketId) -> Result<Vec<LeafRow>, StoreError>;

    /// A ticket's report publications in leaf order, each with its leaf's index and secret.
    async fn report_leaves(
        &self,
        ticket: &TicketId,
    ) -> Result<Vec<(crate::ledger_sources::PublicationRow, u64, Secret)>, StoreError>;

    /// An org's frozen review figures of a quarter, with their leaf's index and secret.
    async fn review_leaf(
        &self,
        org: &str,
        quarter: &str,
    ) -> Result<Option<(crate::ledger_sources::FiguresRow, u64, Secret)>, StoreError>;

    /// The log's keys, oldest first.
    async fn log_keys(&self) -> Result<Vec<LogKey>, StoreError>;

    /// Records `key` as the log's `position`-th key (0: the first, which has no rotation);
    /// `false` when that position is already taken (another key got there first).
    async fn add_log_key(&self, position: u64, key: &LogKey) -> Result<bool, StoreError>;

    /// The signed head of the largest tree size.
    async fn latest_head(&self) -> Result<Option<SignedHead>, StoreError>;

    /// The signed head of the largest tree size among those signed at or before `at` (Unix
    /// seconds): the latest head as it stood then, which a document written then covers.
    async fn head_signed_by(&self, at: u64) -> Result<Option<SignedHead>, StoreError>;

    /// Up to `limit` signed heads of tree sizes above `after` (all when `None`), smallest
    /// first.
    async fn heads_after(&self, after: Option<u64>, limit: u64) -> Result<Vec<SignedHead>, StoreError>;

    /// Stores a signed head; a head of that tree size already stored is kept (two
    /// instances signing the same size at once store one).
    async fn record_head(&self, head: &SignedHead) -> Result<(), StoreError>;
}

/// Why a ledger request was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// No such ticket — or one the reader may not see, answered exactly the same.
    #[error("no such ticket")]
    NotFound,
    /// The policy refused, with its reason.
    #[error("{0}")]
    Forbidden(String),
    /// Sizes that name no proof (`from` 0, past the log, not below `to`).
    #[error("{0}")]
    BadRange(String),
    /// The key is not the log's to sign with: another key is current, or it was rotated out.
    #[error("{0}")]
    KeyRefused(String),
    /// No figures frozen for that org and quarter (none written yet, or before the ledger
    /// kept them).
    #[error("no review figures of that quarter are in the ledger")]
    NoFigures,
    /// Nothing signed yet, or no key to sign with on this server.
    #[error("{0}")]
    Unavailable(String),
    /// The store failed, or holds what the ledger cannot read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<crate::act::ActError> for LedgerError {
    fn from(e: crate::act::ActError) -> LedgerError {
        use crate::act::ActError;
        match e {
            ActError::NotFound => LedgerError::NotFound,
            ActError::Forbidden(why) => LedgerError::Forbidden(why),
            ActError::App(crate::AppError::Store(e)) => LedgerError::Store(e),
            other => LedgerError::Store(StoreError::Backend(other.to_string())),
        }
    }
}

/// A ledger failure the store's data explains (a subtree missing, a key unknown).
pub(crate) fn broken(what: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("the ledger's stored data is inconsistent: {what}"))
}
