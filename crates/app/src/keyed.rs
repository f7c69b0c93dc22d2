//! Keyed writes: the `Idempotency-Key` a request runs under, handed to the write it guards so
//! that the write and the key's outcome commit in one transaction. A request killed after its
//! write committed then leaves its key "written", never "in progress": a retry replays the
//! outcome instead of writing again.
//!
//! The web front runs each keyed request with its key at hand (a task-local there: the
//! application holds no runtime). Whatever writes for a request asks a function it was given
//! for the running request's key ([`CurrentKey`]): the [`crate::Desk`]
//! ([`crate::Desk::keyed_by`]) puts it on every [`crate::Change`] it commits, and the SQL
//! store (given the same function) marks it in the transaction of every other write a keyed
//! request answers with — an org, a user, a token, an integration key, a
//! schedule or override, a contact method, a status component, incident or update, a
//! subscriber, a report or a comment on it, an attachment, a received message or its routing,
//! an inquiry's answer, a confirmed phone number or an org's PIN, a calendar feed, a welcome
//! packet. No port method takes the key. The mark is one statement (`… WHERE user_id, key,
//! claim AND status = 0`): when it finds its claim gone (a retry took the key over), the
//! write is rolled back and writes nothing.
//!
//! A request that writes more than once is not refused by its own mark: its first write marks
//! the key and what follows (a mail queued, a ticket noted) leaves the mark alone, since the
//! first is what the request answers with. A write refused after all (a ticket that moved on)
//! takes back the mark it set.
//!
//! Two keyed writes mark nothing: a password link and an org admin's invitation, each mailed
//! straight to the relay once stored — marked, a crash (or a relay failure) between the two
//! would leave a link whose mail was never sent answered as done. Run again, a password link
//! mails a fresh one; an invitation is refused as already pending (409), never made twice.

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

/// Where a writer learns the running request's key: `None` outside a keyed request.
pub type CurrentKey = fn() -> Option<KeyedWrite>;

/// No request is ever keyed (the CLI, simulations, background work).
pub fn never() -> Option<KeyedWrite> {
    None
}

/// How a retry of a request whose write committed (but whose answer was never stored) is
/// answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replay {
    /// With what was written, read again as the caller may see it now.
    Reread,
    /// With 409 naming what was created: its answer held a one-time secret, shown only once.
    Secret,
    /// With the recorded status and a body saying the request was done (an action with
    /// nothing to read back: a mail sent, a link issued).
    Done,
}

impl Replay {
    /// The name the store keeps.
    pub fn as_str(self) -> &'static str {
        match self {
            Replay::Reread => "reread",
            Replay::Secret => "secret",
            Replay::Done => "done",
        }
    }

    /// The replay a stored name stands for (`None` for an unknown name).
    pub fn parse(name: &str) -> Option<Replay> {
        [Replay::Reread, Replay::Secret, Replay::Done].into_iter().find(|r| r.as_str() == name)
    }
}

/// What a keyed write recorded with its change: what it wrote (a kind and an id), the HTTP
/// status the request answers with, and how a retry replays it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// How a retry is answered.
    pub replay: Replay,
    /// What was written: `ticket`, `user`, `schedule`, `component`…
    pub kind: String,
    /// Its id (for a ticket change, the ticket's).
    pub id: String,
    /// The HTTP status the request answers with (201 when it created something, …).
    pub status: i64,
}

impl Written {
    /// A ticket opened or commented on (201) or changed (200): replayed as the ticket now.
    pub fn ticket(id: impl Into<String>, status: i64) -> Written {
        Written::resource("ticket", id, status)
    }

    /// Something created (201) or changed (200), replayed by reading it again.
    pub fn resource(kind: &str, id: impl Into<String>, status: i64) -> Written {
        Written { replay: Replay::Reread, kind: kind.to_string(), id: id.into(), status }
    }

    /// Something created whose answer held a one-time secret: replayed as 409 naming it.
    pub fn secret(kind: &str, id: impl Into<String>) -> Written {
        Written { replay: Replay::Secret, kind: kind.to_string(), id: id.into(), status: 201 }
    }

    /// An action done (`status`: 202, 204…), replayed as done.
    pub fn done(kind: &str, id: impl Into<String>, status: i64) -> Written {
        Written { replay: Replay::Done, kind: kind.to_string(), id: id.into(), status }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_keep_their_names() {
        for replay in [Replay::Reread, Replay::Secret, Replay::Done] {
            assert_eq!(Replay::parse(replay.as_str()), Some(replay));
        }
        assert_eq!(Replay::parse("ticket"), None);
    }
}
