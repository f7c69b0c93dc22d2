//! The Store port: what the use cases need from persistence. Implementations: [`crate::MemoryStore`]
//! (the simulator's) and the SQL stores of the server. Every change of a ticket — new state,
//! timeline entries, notices (the outbox) and timer changes — is committed as one atomic
//! [`Change`], guarded by the ticket's version so concurrent writers cannot lose updates.

use crate::keyed::{KeyedWrite, Written};
use jiff::Timestamp;
use std::future::Future;
use std::sync::Arc;
use stringer_core::event::{Event, Notice, TimerKind, TimerOp};
use stringer_core::ids::{OrgSlug, Severity, TicketId, UserId};
use stringer_core::routing::Roster;
use stringer_core::ticket::inform::Inform;
use stringer_core::ticket::{OrgProfile, Ticket};

/// A ticket as stored, with the version its next change must name.
#[derive(Clone, Debug)]
pub struct StoredTicket {
    /// The rules' state.
    pub ticket: Ticket,
    /// Incremented by every committed change.
    pub version: u64,
}

/// A pending timer of a ticket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timer {
    /// The ticket.
    pub ticket: TicketId,
    /// What the timer is for.
    pub kind: TimerKind,
    /// When it falls due.
    pub at: Timestamp,
}

/// A new ticket's descriptive fields: what people read, not what the rules need.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TicketDetails {
    /// One-line summary.
    pub subject: String,
    /// The request as written.
    pub description: String,
    /// The customer user who asked, if known.
    pub requester: Option<UserId>,
}

/// A comment written with the change (a reply, a note, a customer message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewComment {
    /// Its identifier.
    pub id: String,
    /// Who wrote it.
    pub author: UserId,
    /// Visible to the customer.
    pub public: bool,
    /// The text.
    pub body: String,
    /// Written in the ticket's thread in its org's shared channel: never posted back there.
    pub in_thread: bool,
}

/// What an event carries besides the rules' input: who did it, and the words.
#[derive(Clone, Debug, Default)]
pub struct Extras {
    /// The user who caused the change (recorded on the timeline).
    pub actor: Option<UserId>,
    /// Fields of a new ticket.
    pub details: Option<TicketDetails>,
    /// A comment to store with the change.
    pub comment: Option<NewComment>,
    /// The receipt of the inbox item this change applies (an id derived from the stored
    /// item, see [`crate::inbox`]): it commits with the change, and a change whose receipt
    /// committed before is not written ([`StoreError::Applied`]), so an item processed again
    /// after its change committed (the server stopped before the item was settled) changes
    /// its ticket once.
    pub applies: Option<String>,
}

/// Everything one decision changes, committed atomically.
#[derive(Clone, Debug)]
pub struct Change {
    /// When the change was decided.
    pub at: Timestamp,
    /// The ticket's new state.
    pub ticket: Ticket,
    /// The version read before deciding; `None` when the ticket is new.
    pub expected_version: Option<u64>,
    /// The events that caused the change, for the timeline (none for a timer).
    pub events: Vec<Event>,
    /// Notices to append to the timeline and the outbox.
    pub notices: Vec<Notice>,
    /// Paging for the ticket ended with this change: its sent page messages are to be
    /// settled (an outbox record the settle worker consumes).
    pub paging_ended: Option<PagingEnded>,
    /// Timer changes, applied in order.
    pub timers: Vec<TimerOp>,
    /// Who, new-ticket fields and a comment.
    pub extras: Extras,
    /// What the customer is to be told of this change (outbox records the letters worker
    /// consumes).
    pub informs: Vec<Inform>,
    /// What the ticket's thread in its org's shared channel is to be told of this change
    /// (thread posts, outbox records written only when the ticket has a thread).
    pub thread_notes: Vec<ThreadNote>,
    /// The `Idempotency-Key` the request that made this change runs under: its outcome is
    /// recorded in the change's transaction (see [`crate::keyed`]).
    pub keyed: Option<KeyedWrite>,
    /// The org's roster the change's notices were routed with, when one asked for people: a
    /// store that keeps the roster history records it when it differs from the last one.
    pub roster: Option<Arc<Roster>>,
}

impl Change {
    /// What a keyed change records for its key: the ticket, answered 201 when the change
    /// opened it or added a comment, else 200.
    pub fn written(&self) -> Written {
        let created = self.expected_version.is_none() || self.extras.comment.is_some();
        Written::ticket(self.ticket.id.to_string(), if created { 201 } else { 200 })
    }
}

/// What a ticket's thread is told of one change.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum ThreadNote {
    /// Someone acknowledged the ticket.
    Acknowledged,
    /// The ticket waits on the customer.
    WaitingOnCustomer,
    /// The ticket's severity changed.
    SeverityChanged {
        /// The new severity.
        severity: Severity,
    },
    /// The ticket was resolved.
    Resolved,
    /// The ticket was reopened.
    Reopened,
    /// A public comment written elsewhere than the thread.
    Comment {
        /// Who wrote it.
        author: UserId,
        /// What it says.
        body: String,
    },
}

/// How paging for a ticket ended, for the messages that paged to say so.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum PagingEnded {
    /// Someone acknowledged the ticket.
    Acknowledged {
        /// Who.
        by: Option<UserId>,
    },
    /// The ticket was resolved.
    Resolved {
        /// Who.
        by: Option<UserId>,
    },
    /// Its severity was lowered below paging.
    SeverityLowered {
        /// The new severity.
        severity: Severity,
        /// Who.
        by: Option<UserId>,
    },
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The ticket changed (or was created) since it was read; read again and retry.
    #[error("ticket {0} was changed concurrently")]
    Conflict(TicketId),
    /// A row with the same unique key exists.
    #[error("{0} already exists")]
    Duplicate(String),
    /// A row this one refers to does not exist.
    #[error("{0} refers to something that does not exist")]
    Missing(String),
    /// The request's `Idempotency-Key` was taken over by a retry (the request outlived its
    /// lease); its change was not written, since the retry writes it.
    #[error("a retry with this Idempotency-Key took the request over")]
    KeyTakenOver,
    /// The change applies an inbox item whose change committed before (its receipt is
    /// stored); nothing was written.
    #[error("inbox item {0} was applied before")]
    Applied(String),
    /// The backend failed.
    #[error("store failure: {0}")]
    Backend(String),
}

/// Persistence for the use cases.
pub trait Store: Send + Sync {
    /// Adds or replaces an org's profile.
    fn put_org(&self, org: OrgProfile) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// An org's profile.
    fn org(&self, slug: &OrgSlug) -> impl Future<Output = Result<Option<OrgProfile>, StoreError>> + Send;
    /// A ticket with its version.
    fn ticket(&self, id: &TicketId) -> impl Future<Output = Result<Option<StoredTicket>, StoreError>> + Send;
    /// The tickets with these ids that exist, in any order.
    fn tickets(&self, ids: &[TicketId]) -> impl Future<Output = Result<Vec<StoredTicket>, StoreError>> + Send;
    /// Commits a change atomically, or fails with [`StoreError::Conflict`] when the ticket's
    /// version is not `expected_version`.
    fn commit(&self, change: Change) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Commits several changes, each as [`Store::commit`] would (one failing leaves the others
    /// committed), with outcomes in the same order; a store may group them into fewer writes.
    fn commit_all(&self, changes: Vec<Change>) -> impl Future<Output = Vec<Result<(), StoreError>>> + Send;
    /// Claims up to `limit` timers due at or before `now` and not claimed by another sweep,
    /// earliest first (ties by ticket, then kind), hiding them from other sweeps until
    /// `lease_until` (a crashed sweep's timers come back then). Committing a change that sets
    /// or cancels a timer ends its claim.
    fn claim_due_timers(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Timer>, StoreError>> + Send;
    /// Gives a claimed timer back at once (its ticket changed under the sweep).
    fn release_timer(&self, timer: &Timer) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The earliest pending timer.
    fn next_timer(&self) -> impl Future<Output = Result<Option<Timer>, StoreError>> + Send;
    /// Who an org's pages may reach: its TAM and named engineers, the schedules that may
    /// cover it (its own first, then platform-wide ones) and the staff with their roles. A
    /// store may answer a copy up to a second old, but never one older than its own writes.
    fn roster(&self, org: &OrgSlug) -> impl Future<Output = Result<Roster, StoreError>> + Send;
}
