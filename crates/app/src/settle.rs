//! Settling sent messages: once paging for a ticket is over — acknowledged, resolved or its
//! severity lowered below paging, by whatever door — the messages that paged for it and can
//! still be changed (Slack messages today) are changed to say who took the page or why paging
//! stopped, and lose their buttons, as paging tools do.
//!
//! Durable: the change that ended paging also wrote a job to the outbox (see
//! [`crate::store::PagingEnded`]). Settle jobs are an outbox kind: the engine's settler runs
//! the outbox's one loop over them under [`SETTLE`] — claims jobs with a lease, and the
//! [`Settler`] settles each message and records each one settled; a job is sent once all its
//! messages are settled, and comes back for those that failed for now. An instance dying
//! mid-way loses nothing: the job comes back when its lease ends, and messages already
//! settled are not touched again.

use crate::outbox::{Carrier, Claimable, Policy, Round, SendError, Sendings, Tried, send_due};
use crate::store::{PagingEnded, StoreError};
use async_trait::async_trait;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use stringer_core::ids::{TicketId, UserId};

/// How long a claimed job stays hidden from other workers: longer than the Slack client's
/// timeout (10 s), so a live worker finishes first; a dead one's job is back this soon.
pub const SETTLE_LEASE_SECONDS: i64 = 15;

/// How settle jobs are claimed and retried: 20 a round under a lease of
/// [`SETTLE_LEASE_SECONDS`]; a job with a message that failed for now is tried again that
/// long after, for as long as it takes (a message that can never be changed counts as
/// settled, so every job ends).
pub const SETTLE: Policy = Policy {
    name: "settle",
    batch: 20,
    lease_seconds: SETTLE_LEASE_SECONDS,
    first_wait: SETTLE_LEASE_SECONDS,
    longest_wait: SETTLE_LEASE_SECONDS,
    attempts: i64::MAX,
};

/// A ticket whose page messages are to be settled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettleJob {
    /// The outbox row's id.
    pub id: String,
    /// The ticket.
    pub ticket: TicketId,
    /// How paging ended.
    pub ended: PagingEnded,
}

/// A sent message of a ticket that can still be changed and is not settled yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentMessage {
    /// The delivery (its idempotency key).
    pub id: String,
    /// The provider's receipt (for Slack, the message's channel and timestamp as JSON).
    pub receipt: String,
    /// What was sent (JSON), to say it again with the outcome.
    pub payload: String,
}

impl Claimable for SettleJob {
    fn id(&self) -> &str {
        &self.id
    }
    /// A job keeps no count of its tries: it is never given up (see [`SETTLE`]).
    fn attempts(&self) -> i64 {
        0
    }
}

/// Persistence the settle worker needs: the outbox's [`Sendings`] of settle jobs, and the
/// messages each settles.
pub trait SettleStore: Sendings<SettleJob> + Send + Sync {
    /// The ticket's sent messages that can still be changed and are not settled.
    fn unsettled_messages(
        &self,
        ticket: &TicketId,
    ) -> impl Future<Output = Result<Vec<SentMessage>, StoreError>> + Send;
    /// Records a message settled at `at` (Unix seconds).
    fn mark_settled(&self, delivery: &str, at: i64) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// A user's display name.
    fn display_name(&self, user: &UserId) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
}

/// Changes a sent message.
pub trait Messenger: Send + Sync {
    /// Changes `message` of `ticket` to say `outcome` (e.g. "Acknowledged by Sia").
    fn settle(
        &self,
        message: &SentMessage,
        ticket: &TicketId,
        outcome: &str,
    ) -> impl Future<Output = Result<(), SendError>> + Send;
}

/// What a settled message says happened.
pub fn outcome(ended: &PagingEnded, by_name: Option<&str>) -> String {
    let done = match ended {
        PagingEnded::Acknowledged { .. } => "Acknowledged".to_string(),
        PagingEnded::Resolved { .. } => "Resolved".to_string(),
        PagingEnded::SeverityLowered { severity, .. } => format!("Paging stopped: severity changed to {severity}"),
    };
    by_name.map_or_else(|| done.clone(), |name| format!("{done} by {name}"))
}

fn actor(ended: &PagingEnded) -> Option<&UserId> {
    match ended {
        PagingEnded::Acknowledged { by } | PagingEnded::Resolved { by } | PagingEnded::SeverityLowered { by, .. } => {
            by.as_ref()
        }
    }
}

/// Settles sent page messages through a [`Messenger`]: the carrier of settle jobs.
#[derive(Debug)]
pub struct Settler<S, M> {
    /// Where the jobs and messages are.
    pub store: S,
    /// The way to change a sent message.
    pub messenger: M,
    /// Messages changed since [`Settler::take_settled`] was last asked.
    settled: AtomicUsize,
}

impl<S: SettleStore, M: Messenger> Settler<S, M> {
    /// A settler of `store`'s jobs through `messenger`.
    pub fn new(store: S, messenger: M) -> Self {
        Settler { store, messenger, settled: AtomicUsize::new(0) }
    }

    /// Settles the messages of the jobs due at `now` (Unix seconds).
    pub async fn send_due(&self, now: i64) -> Result<Round, StoreError> {
        send_due(&self.store, self, &SETTLE, now).await
    }

    /// How many messages were changed since this was last asked.
    pub fn take_settled(&self) -> usize {
        self.settled.swap(0, Ordering::Relaxed)
    }
}

#[async_trait]
impl<S: SettleStore, M: Messenger> Carrier<SettleJob> for Settler<S, M> {
    type Error = StoreError;
    /// Settles the job's messages: sent once none is left for later. A message that can
    /// never be changed (deleted, or its channel archived) counts as settled, so the job does
    /// not come back forever.
    async fn carry(&self, job: &SettleJob, now: i64) -> Result<Tried, StoreError> {
        let name = match actor(&job.ended) {
            Some(user) => self.store.display_name(user).await?,
            None => None,
        };
        let outcome = outcome(&job.ended, name.as_deref());
        let mut later = None;
        for message in self.store.unsettled_messages(&job.ticket).await? {
            match self.messenger.settle(&message, &job.ticket, &outcome).await {
                Ok(()) => {
                    self.store.mark_settled(&message.id, now).await?;
                    self.settled.fetch_add(1, Ordering::Relaxed);
                }
                Err(SendError::Permanent(why)) => {
                    self.store.mark_settled(&message.id, now).await?;
                    tracing::warn!(delivery = message.id, reason = why, "a page message could not be settled");
                }
                Err(SendError::Temporary(why)) => later = Some(why),
            }
        }
        Ok(match later {
            None => Tried::Sent(None),
            Some(why) => Tried::Failed(SendError::Temporary(why)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::Room;
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    /// One job's row and its ticket's messages, in memory, as the SQL tables behave.
    #[derive(Default)]
    struct Memory {
        /// The job: claimable from (`None`: ended).
        due: Mutex<Option<i64>>,
        /// Each message: settled at.
        messages: Mutex<BTreeMap<String, Option<i64>>>,
    }

    fn job() -> SettleJob {
        SettleJob {
            id: "7".into(),
            ticket: TicketId("tkt_1".into()),
            ended: PagingEnded::Acknowledged { by: Some(UserId::from("usr_sia")) },
        }
    }

    #[async_trait]
    impl Sendings<SettleJob> for Memory {
        async fn claim(&self, now: i64, lease_until: i64, _room: &Room) -> Result<Vec<SettleJob>, StoreError> {
            let mut due = self.due.lock().unwrap();
            Ok(match *due {
                Some(at) if at <= now => {
                    *due = Some(lease_until);
                    vec![job()]
                }
                _ => Vec::new(),
            })
        }
        async fn sent(&self, _: &str, _: i64, _: Option<&str>) -> Result<(), StoreError> {
            *self.due.lock().unwrap() = None;
            Ok(())
        }
        async fn later(&self, _: &str, _: i64, next: i64, _: &str) -> Result<(), StoreError> {
            *self.due.lock().unwrap() = Some(next);
            Ok(())
        }
        async fn given_up(&self, _: &str, _: i64, _: &str) -> Result<(), StoreError> {
            *self.due.lock().unwrap() = None;
            Ok(())
        }
    }

    impl SettleStore for Memory {
        async fn unsettled_messages(&self, ticket: &TicketId) -> Result<Vec<SentMessage>, StoreError> {
            let messages = self.messages.lock().unwrap();
            let unsettled = messages.iter().filter(|(_, at)| at.is_none());
            Ok(unsettled
                .map(|(id, _)| SentMessage { id: id.clone(), receipt: ticket.to_string(), payload: String::new() })
                .collect())
        }
        async fn mark_settled(&self, delivery: &str, at: i64) -> Result<(), StoreError> {
            self.messages.lock().unwrap().insert(delivery.into(), Some(at));
            Ok(())
        }
        async fn display_name(&self, _: &UserId) -> Result<Option<String>, StoreError> {
            Ok(Some("Sia".into()))
        }
    }

    /// Slack as scripted per message: "ok", "gone" (deleted), "busy" (for now); the outcomes
    /// it was asked to show.
    #[derive(Default)]
    struct Slack {
        busy: Mutex<bool>,
        shown: Mutex<Vec<(String, String)>>,
    }

    impl Messenger for Slack {
        async fn settle(&self, message: &SentMessage, _: &TicketId, outcome: &str) -> Result<(), SendError> {
            match message.id.as_str() {
                "gone" => Err(SendError::Permanent("message_not_found".into())),
                "busy" if *self.busy.lock().unwrap() => Err(SendError::Temporary("ratelimited".into())),
                id => {
                    self.shown.lock().unwrap().push((id.into(), outcome.into()));
                    Ok(())
                }
            }
        }
    }

    fn settler(messages: &[&str]) -> Settler<Memory, Slack> {
        let memory = Memory { due: Mutex::new(Some(0)), ..Memory::default() };
        memory.messages.lock().unwrap().extend(messages.iter().map(|m| (m.to_string(), None)));
        Settler::new(memory, Slack { busy: Mutex::new(true), ..Slack::default() })
    }

    #[tokio::test]
    async fn a_job_ends_once_its_messages_are_settled_or_can_never_be() {
        let settler = settler(&["ok", "gone"]);
        assert_eq!(settler.send_due(100).await.unwrap(), Round { claimed: 1, sent: 1 });
        assert_eq!(*settler.messenger.shown.lock().unwrap(), [("ok".into(), "Acknowledged by Sia".into())]);
        assert_eq!(settler.take_settled(), 1, "the message changed counts, the gone one does not");
        assert_eq!(settler.take_settled(), 0);
        let messages = settler.store.messages.lock().unwrap().clone();
        assert!(messages.values().all(|at| *at == Some(100)), "a gone message counts as settled: {messages:?}");
        assert_eq!(*settler.store.due.lock().unwrap(), None, "the job ended");
    }

    #[tokio::test]
    async fn a_message_that_failed_for_now_brings_its_job_back_after_the_lease() {
        let settler = settler(&["busy", "ok"]);
        assert_eq!(settler.send_due(100).await.unwrap(), Round { claimed: 1, sent: 0 });
        assert_eq!(*settler.store.due.lock().unwrap(), Some(100 + SETTLE_LEASE_SECONDS));
        assert_eq!(settler.send_due(100 + SETTLE_LEASE_SECONDS - 1).await.unwrap(), Round::default());
        *settler.messenger.busy.lock().unwrap() = false;
        let again = settler.send_due(100 + SETTLE_LEASE_SECONDS).await.unwrap();
        assert_eq!(again, Round { claimed: 1, sent: 1 }, "then only the unsettled message is changed");
        let shown: Vec<String> = settler.messenger.shown.lock().unwrap().iter().map(|(id, _)| id.clone()).collect();
        assert_eq!(shown, ["ok", "busy"]);
        assert_eq!(*settler.store.due.lock().unwrap(), None);
    }

    #[test]
    fn outcomes_say_who_and_why() {
        let by = Some(UserId::from("usr_1"));
        assert_eq!(outcome(&PagingEnded::Acknowledged { by: by.clone() }, Some("Sia")), "Acknowledged by Sia");
        assert_eq!(outcome(&PagingEnded::Resolved { by: None }, None), "Resolved");
        let lowered = PagingEnded::SeverityLowered { severity: "P3".into(), by };
        assert_eq!(outcome(&lowered, Some("Nico")), "Paging stopped: severity changed to P3 by Nico");
    }
}
