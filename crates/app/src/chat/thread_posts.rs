//! Thread posts: what a ticket's thread in its org's shared channel is told of the ticket —
//! its public comments written elsewhere (portal, console, API, mail) and its changes of
//! state. An outbox kind: the desk decides the [`ThreadNote`]s of a change ([`crate::thread_notes`]),
//! the change's transaction writes one [`ThreadPost`] per note when the ticket has a thread
//! (so a ticket whose thread is bound later is told only of what changed after), and the
//! engine sends them through [`ChatDesk`] as a [`Carrier`].

use super::{ChatDesk, MAX_TEXT};
use crate::desk::AppError;
use crate::outbox::{Carrier, Claimable, Policy, SendError, Sendings, Tried, send_due};
use crate::store::ThreadNote;
use async_trait::async_trait;
use stringer_core::ids::{TicketId, UserId};

/// A note owed to a ticket's thread, as claimed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadPost {
    /// The post's id (also its mark in the thread).
    pub id: String,
    /// The ticket.
    pub ticket: TicketId,
    /// Who made the change.
    pub actor: Option<UserId>,
    /// What the thread is told.
    pub note: ThreadNote,
    /// The thread's channel.
    pub channel: String,
    /// The thread's id.
    pub thread: String,
    /// Attempts so far.
    pub attempts: i64,
}

impl Claimable for ThreadPost {
    fn id(&self) -> &str {
        &self.id
    }
    fn attempts(&self) -> i64 {
        self.attempts
    }
}

/// How thread posts are claimed and retried: 128 a round, a minute's lease, 30 s doubling to
/// an hour, given up after 8 attempts.
pub const THREAD_POSTS: Policy =
    Policy { name: "thread post", batch: 128, lease_seconds: 60, first_wait: 30, longest_wait: 3600, attempts: 8 };

impl ChatDesk {
    /// Posts the thread posts due at `now` into their threads, each once (claimed with a
    /// lease, retried with back-off); answers how many were claimed.
    pub async fn post_due(&self, now: i64) -> Result<usize, AppError> {
        let posts: &dyn Sendings<ThreadPost> = self.ports.chat.as_ref();
        Ok(send_due(posts, self, &THREAD_POSTS, now).await?.claimed)
    }

    /// The text of a post: the ticket's key with its change, or the comment's author (staff
    /// marked as support) and body.
    async fn thread_text(&self, p: &ThreadPost) -> Result<String, AppError> {
        Ok(match &p.note {
            ThreadNote::Acknowledged => {
                let who = match &p.actor {
                    Some(id) => self.ports.accounts.user(id).await?.map_or_else(|| id.to_string(), |u| u.name),
                    None => "support".into(),
                };
                format!("{} was acknowledged by {who}, who is on it.", self.key_of(&p.ticket).await?)
            }
            ThreadNote::WaitingOnCustomer => {
                format!("{} waits on your answer: reply in this thread.", self.key_of(&p.ticket).await?)
            }
            ThreadNote::SeverityChanged { severity } => format!("{} is now {severity}.", self.key_of(&p.ticket).await?),
            ThreadNote::Resolved => {
                format!("{} was resolved. If it is not, reply in this thread.", self.key_of(&p.ticket).await?)
            }
            ThreadNote::Reopened => format!("{} was reopened.", self.key_of(&p.ticket).await?),
            ThreadNote::Comment { author, body } => {
                let who = self.ports.accounts.user(author).await?.map_or_else(
                    || author.to_string(),
                    |a| if a.org.is_some() { a.name } else { format!("{} (support)", a.name) },
                );
                format!("{}: {}", self.directory.bold(&who), body.chars().take(MAX_TEXT).collect::<String>())
            }
        })
    }

    /// A ticket's key (its id when it is gone).
    async fn key_of(&self, ticket: &TicketId) -> Result<String, AppError> {
        Ok(match self.ports.queries.ticket(ticket).await? {
            Some((t, _)) => t.key().to_string(),
            None => ticket.to_string(),
        })
    }
}

/// A thread post, rendered and posted once into its thread (see `post_in_thread`); the
/// channel failing is tried again later.
#[async_trait]
impl Carrier<ThreadPost> for ChatDesk {
    type Error = AppError;
    async fn carry(&self, p: &ThreadPost, _now: i64) -> Result<Tried, AppError> {
        let text = self.thread_text(p).await?;
        Ok(match self.post_in_thread(&p.channel, &p.thread, &text, &p.id).await {
            Ok(()) => Tried::Sent(None),
            Err(e) => Tried::Failed(SendError::Temporary(e.to_string())),
        })
    }
}
