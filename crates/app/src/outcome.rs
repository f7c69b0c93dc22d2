//! What a change to tickets answers: the change as committed ([`Recorded`]), or why it did
//! not happen ([`AppError`]). Every port and desk speaks of these, so they stand apart from
//! the [`crate::Desk`] that makes them.

use crate::store::StoreError;
use stringer_core::contract::Uncovered;
use stringer_core::event::Notice;
use stringer_core::ids::TicketId;
use stringer_core::ticket::{Rejected, RuleError, Ticket};

/// How many times a change is retried when another writer got there first.
pub(crate) const MAX_ATTEMPTS: usize = 8;

/// Why a use case did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A business rule refused the event (bad name, wrong state); nothing was written.
    #[error("{0}")]
    Rejected(String),
    /// No such ticket.
    #[error("unknown ticket {0}")]
    UnknownTicket(String),
    /// No such org.
    #[error("unknown org {0}")]
    UnknownOrg(String),
    /// The contract in force does not cover the ticket or org (its tier or severity was
    /// renamed or removed since it was written); nothing was written.
    #[error("{0}; the ticket cannot change until the contract covers it again")]
    Uncovered(Uncovered),
    /// The ticket kept changing under every attempt; nothing was written, a retry may pass.
    #[error("ticket {0} kept changing; gave up after {MAX_ATTEMPTS} attempts")]
    Busy(TicketId),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Rejected> for AppError {
    fn from(r: Rejected) -> Self {
        AppError::Rejected(r.0)
    }
}

impl From<RuleError> for AppError {
    fn from(e: RuleError) -> Self {
        match e {
            RuleError::Rejected(r) => r.into(),
            RuleError::Uncovered(u) => AppError::Uncovered(u),
        }
    }
}

impl From<Uncovered> for AppError {
    fn from(u: Uncovered) -> Self {
        AppError::Uncovered(u)
    }
}

/// Events as committed: the ticket's new state and version, and the notices they caused.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The ticket after the events.
    pub ticket: Ticket,
    /// Its version after the events.
    pub version: u64,
    /// What the rules decided to say (routed).
    pub notices: Vec<Notice>,
}
