//! Keyed writes: the `Idempotency-Key` a request runs under, handed to the write it guards so
//! that the write and the key's outcome commit in one transaction. A request killed after its
//! write committed then leaves its key "written", never "in progress": a retry replays the
//! outcome instead of writing again.
//!
//! The web front runs each keyed request with its key at hand (a task-local there: the
//! application holds no runtime); the [`crate::Desk`] asks the function it was given
//! ([`crate::Desk::keyed_by`]) for the running request's key and puts it on every
//! [`crate::Change`] it commits, and the store records the key's outcome with the change (or
//! refuses the change when a retry took the key over).

use stringer_core::ids::UserId;

/// The key a write answers to: whose key, the key, and the claim the request holds on it (a
/// retry that takes an abandoned key over makes a new claim, so the old request's late write
/// finds its claim gone and writes nothing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyedWrite {
    /// The user who sent the key.
    pub user: UserId,
    /// The `Idempotency-Key`.
    pub key: String,
    /// The claim this request holds.
    pub claim: String,
}

/// Where a desk learns the running request's key: `None` outside a keyed request.
pub type CurrentKey = fn() -> Option<KeyedWrite>;

/// No request is ever keyed (the CLI, simulations, background work).
pub fn never() -> Option<KeyedWrite> {
    None
}

/// What a keyed write recorded with its change: the ticket it wrote, and whether it created
/// something (a ticket or a comment: answered 201) or changed the ticket (answered 200).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// The ticket the write changed or opened.
    pub ticket: String,
    /// The HTTP status the write answers with: 201 when it created something, else 200.
    pub status: i64,
}
