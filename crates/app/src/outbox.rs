//! The outbox: messages written in the transaction of the change that causes them and sent
//! later by the engine, with one mechanism for all of them — status notices, report
//! announcements, letters, channel kickoffs, account mail, deliveries (pages and alerts per
//! person and contact method) and settle jobs (sent page messages changed once paging is over).
//!
//! - **What is sent**: an [`Outgoing`] message (a mail, a webhook, a channel post, or a
//!   delivery's [`Parcel`] to a contact method), handed to the one [`Sender`] the integrations
//!   implement, which dispatches by its variant (a parcel by its contact method's kind) and
//!   answers the provider's receipt of a message that can still be changed.
//! - **How**: a sending is a row due once its next attempt has passed; [`send_due`] claims a
//!   batch with a lease (so no other instance takes it before the lease ends), has its
//!   [`Carrier`] try it, and [`record`]s it sent, tried again later, given up, or cancelled as
//!   no longer needed. The deliverer [`claim`]s within its [`Room`] — its batch less the sends
//!   under way, a share per destination — and sends each delivery at once, concurrently,
//!   through the same [`record`].
//! - **Retries**: one [`Policy`] type whose parameters (lease, batch, back-off, attempts)
//!   are data per kind; [`decide`] and [`Policy::wait`] are the crate's one retry rule.

use crate::delivery::parcel::{Parcel, Unreadable};
use crate::store::StoreError;
use async_trait::async_trait;
use std::sync::Arc;

/// Why a send failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth retrying (timeouts, 5xx, 429).
    #[error("{0}")]
    Temporary(String),
    /// Not worth retrying (refused address, 4xx).
    #[error("{0}")]
    Permanent(String),
}

impl From<Unreadable> for SendError {
    /// A parcel whose payload does not read never will.
    fn from(e: Unreadable) -> SendError {
        SendError::Permanent(e.to_string())
    }
}

/// A message for the outside world.
#[derive(Clone, Debug, PartialEq)]
pub enum Outgoing {
    /// A mail.
    Mail {
        /// To.
        to: String,
        /// Subject.
        subject: String,
        /// Plain text.
        body: String,
        /// The one-click unsubscribe address (RFC 8058), for subscriptions.
        unsubscribe: Option<String>,
    },
    /// A webhook: JSON posted to `url`.
    Webhook {
        /// Where.
        url: String,
        /// The JSON body.
        payload: String,
    },
    /// A post in a Slack channel. Slack takes no idempotency key, so the adapter posts it
    /// under the sending's id and looks for that first: once even when a kill took the record
    /// of a try Slack had answered.
    Slack {
        /// The channel.
        channel: String,
        /// The text (Slack's mrkdwn).
        text: String,
    },
    /// A delivery's parcel — a page, an alert to staff or a letter to a customer — over one
    /// contact method or to an org's channel; shared with the claimed delivery (no copy).
    Delivery(Arc<Parcel>),
}

/// Sends outgoing messages: the one way out (the integrations implement it, one adapter per
/// kind).
#[async_trait]
pub trait Sender: Send + Sync {
    /// Sends one message; `id` is its sending's, for the receiver's idempotency. Answers the
    /// provider's receipt when what was sent can still be changed (a page posted in Slack is
    /// settled later), `None` for a message that never is.
    async fn send(&self, id: &str, message: &Outgoing) -> Result<Option<String>, SendError>;
}

/// How a kind of sending is claimed and retried: data, the same loop for every kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// What is sent, for the logs.
    pub name: &'static str,
    /// Sendings claimed at most per round; for deliveries, sent at once at most, each claim
    /// taking only the room the sends under way leave.
    pub batch: i64,
    /// How long a claimed sending stays hidden from other instances.
    pub lease_seconds: i64,
    /// The wait after the first failure; each further failure doubles it.
    pub first_wait: i64,
    /// The longest wait.
    pub longest_wait: i64,
    /// Attempts before a sending is given up.
    pub attempts: i64,
}

impl Policy {
    /// Seconds to wait after the `failures`th failed attempt: [`Policy::first_wait`],
    /// doubling, at most [`Policy::longest_wait`].
    pub fn wait(&self, failures: i64) -> i64 {
        self.first_wait.saturating_mul(1 << (failures - 1).clamp(0, 30)).min(self.longest_wait)
    }

    /// When a sending that failed for the `failures`th time at `now` is tried again; `None`
    /// once its attempts are spent.
    pub fn retry_at(&self, failures: i64, now: i64) -> Option<i64> {
        (failures < self.attempts).then(|| now + self.wait(failures))
    }
}

/// Messages to people and systems outside (status notices, report announcements, letters):
/// 50 a round, a minute's lease, 30 s doubling to an hour, 8 attempts.
pub const MESSAGES: Policy =
    Policy { name: "message", batch: 50, lease_seconds: 60, first_wait: 30, longest_wait: 3600, attempts: 8 };

/// A claimed sending: what the loop needs of any kind's row.
pub trait Claimable: Send + Sync {
    /// Its id.
    fn id(&self) -> &str;
    /// Its attempts before this one.
    fn attempts(&self) -> i64;
}

/// How much one claim may take: `limit` sendings in all and, for a kind whose sendings go to
/// different receivers (deliveries), at most `per_destination` to one receiver, counting the
/// sends this worker has `under_way` to it — so a slow receiver ties up only its own share.
/// A kind with no receivers of its own reads the limit alone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Room {
    /// Sendings claimed at most.
    pub limit: i64,
    /// Sendings to one destination at most, counting those under way; `None`: no bound.
    pub per_destination: Option<i64>,
    /// The destinations this worker is sending to, with how many sends each.
    pub under_way: Vec<(String, i64)>,
}

impl Room {
    /// Room for a batch of `limit` sendings, whatever their receivers.
    pub fn batch(limit: i64) -> Room {
        Room { limit, ..Room::default() }
    }
}

/// Where sendings of one kind wait (the store implements it over that kind's table).
#[async_trait]
pub trait Sendings<T: Claimable>: Send + Sync {
    /// Claims sendings due at `now` until `lease_until`, as many as `room` takes, oldest first
    /// (deliveries: most urgent first).
    async fn claim(&self, now: i64, lease_until: i64, room: &Room) -> Result<Vec<T>, StoreError>;
    /// A sending sent at `at`, with the provider's `receipt` when what was sent can still be
    /// changed (kinds whose messages are never changed have none).
    async fn sent(&self, id: &str, at: i64, receipt: Option<&str>) -> Result<(), StoreError>;
    /// A sending that failed at `at` for now: tried again at `next`.
    async fn later(&self, id: &str, at: i64, next: i64, why: &str) -> Result<(), StoreError>;
    /// A sending given up at `at` with `why`.
    async fn given_up(&self, id: &str, at: i64, why: &str) -> Result<(), StoreError>;
    /// A sending not sent at `at` because it was no longer needed (`why`); a kind that does
    /// not tell this apart records it given up.
    async fn cancelled(&self, id: &str, at: i64, why: &str) -> Result<(), StoreError> {
        self.given_up(id, at, why).await
    }
}

/// How a carrier's try of one sending ended.
#[derive(Debug)]
pub enum Tried {
    /// Sent, with the provider's receipt when what was sent can still be changed (a Slack
    /// message's channel and timestamp), so it can be settled later.
    Sent(Option<String>),
    /// Not sent.
    Failed(SendError),
    /// Not sent, and no longer needed (a page whose paging is over): not an attempt.
    Moot(String),
}

impl From<Result<Option<String>, SendError>> for Tried {
    /// How a [`Sender::send`] went.
    fn from(sent: Result<Option<String>, SendError>) -> Tried {
        match sent {
            Ok(receipt) => Tried::Sent(receipt),
            Err(e) => Tried::Failed(e),
        }
    }
}

/// Carries out claimed sendings of one kind: renders and sends them.
#[async_trait]
pub trait Carrier<T: Claimable>: Send + Sync {
    /// The error of a failure that is not the sending's (the store, a read): the round stops.
    type Error: From<StoreError> + Send;
    /// Tries one sending at `now` (a sending whose subject is gone is a permanent failure).
    async fn carry(&self, sending: &T, now: i64) -> Result<Tried, Self::Error>;
}

/// How one try ended, as the sending's row records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Sent, with the provider's receipt if any.
    Sent(Option<String>),
    /// Failed for now: tried again at `next`.
    Later {
        /// When.
        next: i64,
        /// Why it failed.
        why: String,
    },
    /// Given up: it cannot be sent, or its attempts are spent.
    GivenUp(String),
    /// Not sent: no longer needed.
    Cancelled(String),
}

/// What a try of a sending `attempts` times tried before means at `now` under `policy`.
pub fn decide(policy: &Policy, tried: Tried, attempts: i64, now: i64) -> Decision {
    match tried {
        Tried::Sent(receipt) => Decision::Sent(receipt),
        Tried::Failed(SendError::Temporary(why)) => match policy.retry_at(attempts + 1, now) {
            Some(next) => Decision::Later { next, why },
            None => Decision::GivenUp(why),
        },
        Tried::Failed(SendError::Permanent(why)) => Decision::GivenUp(why),
        Tried::Moot(why) => Decision::Cancelled(why),
    }
}

/// Records how a try of `sending` that ended at `now` went, under `policy`: the decision.
pub async fn record<T: Claimable>(
    sendings: &dyn Sendings<T>,
    policy: &Policy,
    sending: &T,
    tried: Tried,
    now: i64,
) -> Result<Decision, StoreError> {
    let decision = decide(policy, tried, sending.attempts(), now);
    let id = sending.id();
    match &decision {
        Decision::Sent(receipt) => sendings.sent(id, now, receipt.as_deref()).await?,
        Decision::Later { next, why } => {
            tracing::warn!(kind = policy.name, id, error = %why, "sending failed; it is tried again");
            sendings.later(id, now, *next, why).await?;
        }
        Decision::GivenUp(why) => {
            tracing::warn!(kind = policy.name, id, error = %why, "sending given up");
            sendings.given_up(id, now, why).await?;
        }
        Decision::Cancelled(why) => sendings.cancelled(id, now, why).await?,
    }
    Ok(decision)
}

/// What a round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    /// Sendings claimed.
    pub claimed: usize,
    /// Sendings sent.
    pub sent: usize,
}

/// Claims the sendings due at `now` that fit `room`, leased for the `policy`'s lease.
pub async fn claim<T: Claimable>(
    sendings: &dyn Sendings<T>,
    policy: &Policy,
    now: i64,
    room: &Room,
) -> Result<Vec<T>, StoreError> {
    sendings.claim(now, now + policy.lease_seconds, room).await
}

/// One round of a kind of sendings at `now`: claims a batch with a lease, tries each through
/// `carrier`, and records how it went.
pub async fn send_due<T, C>(
    sendings: &dyn Sendings<T>,
    carrier: &C,
    policy: &Policy,
    now: i64,
) -> Result<Round, C::Error>
where
    T: Claimable,
    C: Carrier<T> + ?Sized,
{
    let due = claim(sendings, policy, now, &Room::batch(policy.batch)).await?;
    let mut round = Round { claimed: due.len(), sent: 0 };
    for sending in &due {
        let tried = carrier.carry(sending, now).await?;
        if let Decision::Sent(_) = record(sendings, policy, sending, tried, now).await? {
            round.sent += 1;
        }
    }
    Ok(round)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    /// A row of the in-memory table.
    #[derive(Clone, Debug, PartialEq, Eq)]
    struct Row {
        /// What the scripted carrier answers: "ok", "down", "refused".
        script: String,
        attempts: i64,
        next: Option<i64>,
        sent_at: Option<i64>,
        error: Option<String>,
    }

    /// A claimed row.
    struct Item {
        id: String,
        attempts: i64,
        script: String,
    }

    impl Claimable for Item {
        fn id(&self) -> &str {
            &self.id
        }
        fn attempts(&self) -> i64 {
            self.attempts
        }
    }

    /// The sendings port in memory, as the SQL tables behave.
    #[derive(Default)]
    struct Memory(Mutex<BTreeMap<String, Row>>);

    impl Memory {
        fn with(rows: &[(&str, &str, i64)]) -> Memory {
            let table = rows
                .iter()
                .map(|(id, script, attempts)| {
                    let row = Row {
                        script: script.to_string(),
                        attempts: *attempts,
                        next: Some(0),
                        sent_at: None,
                        error: None,
                    };
                    (id.to_string(), row)
                })
                .collect();
            Memory(Mutex::new(table))
        }

        fn row(&self, id: &str) -> Row {
            self.0.lock().unwrap()[id].clone()
        }
    }

    #[async_trait]
    impl Sendings<Item> for Memory {
        async fn claim(&self, now: i64, lease_until: i64, room: &Room) -> Result<Vec<Item>, StoreError> {
            let mut table = self.0.lock().unwrap();
            let mut due: Vec<(&String, &mut Row)> =
                table.iter_mut().filter(|(_, r)| r.next.is_some_and(|n| n <= now)).collect();
            due.sort_by_key(|(id, r)| (r.next, (*id).clone()));
            Ok(due
                .into_iter()
                .take(room.limit as usize)
                .map(|(id, r)| {
                    r.next = Some(lease_until);
                    Item { id: id.clone(), attempts: r.attempts, script: r.script.clone() }
                })
                .collect())
        }
        async fn sent(&self, id: &str, at: i64, _receipt: Option<&str>) -> Result<(), StoreError> {
            let mut table = self.0.lock().unwrap();
            let r = table.get_mut(id).unwrap();
            (r.next, r.sent_at, r.error, r.attempts) = (None, Some(at), None, r.attempts + 1);
            Ok(())
        }
        async fn later(&self, id: &str, _at: i64, next: i64, why: &str) -> Result<(), StoreError> {
            let mut table = self.0.lock().unwrap();
            let r = table.get_mut(id).unwrap();
            (r.next, r.error, r.attempts) = (Some(next), Some(why.into()), r.attempts + 1);
            Ok(())
        }
        async fn given_up(&self, id: &str, _at: i64, why: &str) -> Result<(), StoreError> {
            let mut table = self.0.lock().unwrap();
            let r = table.get_mut(id).unwrap();
            (r.next, r.error, r.attempts) = (None, Some(why.into()), r.attempts + 1);
            Ok(())
        }
    }

    /// Answers each sending with the outcome its script names.
    struct Scripted;

    #[async_trait]
    impl Carrier<Item> for Scripted {
        type Error = StoreError;
        async fn carry(&self, sending: &Item, _now: i64) -> Result<Tried, StoreError> {
            Ok(match sending.script.as_str() {
                "down" => Tried::Failed(SendError::Temporary("down".into())),
                "refused" => Tried::Failed(SendError::Permanent("refused".into())),
                _ => Tried::Sent(None),
            })
        }
    }

    async fn round(memory: &Memory, now: i64) -> Round {
        send_due(memory, &Scripted, &MESSAGES, now).await.unwrap()
    }

    #[tokio::test]
    async fn a_sending_that_goes_through_is_sent() {
        let memory = Memory::with(&[("a", "ok", 0)]);
        assert_eq!(round(&memory, 100).await, Round { claimed: 1, sent: 1 });
        let row = memory.row("a");
        assert_eq!((row.sent_at, row.next, row.attempts, row.error), (Some(100), None, 1, None));
        assert_eq!(round(&memory, 10_000).await, Round::default(), "a sent one is never claimed again");
    }

    #[tokio::test]
    async fn a_temporary_failure_is_tried_again_after_the_policys_wait() {
        let memory = Memory::with(&[("a", "down", 0), ("b", "down", 3)]);
        assert_eq!(round(&memory, 100).await, Round { claimed: 2, sent: 0 });
        let (a, b) = (memory.row("a"), memory.row("b"));
        assert_eq!((a.next, a.attempts, a.error.as_deref()), (Some(130), 1, Some("down")));
        assert_eq!((b.next, b.attempts), (Some(100 + 240), 4), "the fourth failure waits 30 s doubled three times");
        assert_eq!(a.sent_at, None);
        assert_eq!(round(&memory, 129).await, Round::default(), "not before its wait");
        assert_eq!(round(&memory, 130).await.claimed, 1);
    }

    #[tokio::test]
    async fn a_permanent_failure_is_given_up_at_once() {
        let memory = Memory::with(&[("a", "refused", 0)]);
        assert_eq!(round(&memory, 100).await, Round { claimed: 1, sent: 0 });
        let row = memory.row("a");
        assert_eq!((row.next, row.sent_at, row.error.as_deref()), (None, None, Some("refused")));
        assert_eq!(round(&memory, 100_000).await, Round::default());
    }

    #[tokio::test]
    async fn a_sending_whose_attempts_are_spent_is_given_up() {
        let memory = Memory::with(&[("a", "down", MESSAGES.attempts - 1)]);
        round(&memory, 100).await;
        let row = memory.row("a");
        assert_eq!((row.next, row.attempts, row.error.as_deref()), (None, MESSAGES.attempts, Some("down")));
    }

    #[tokio::test]
    async fn a_claimed_sending_is_not_claimed_again_before_its_lease_ends() {
        let memory = Memory::with(&[("a", "ok", 0)]);
        let claimed = memory.claim(100, 100 + MESSAGES.lease_seconds, &Room::batch(MESSAGES.batch)).await.unwrap();
        assert_eq!(claimed.len(), 1, "an instance claims it and stops before sending");
        assert_eq!(round(&memory, 100 + MESSAGES.lease_seconds - 1).await, Round::default(), "leased to it");
        assert_eq!(round(&memory, 100 + MESSAGES.lease_seconds).await, Round { claimed: 1, sent: 1 }, "then due again");
    }

    #[tokio::test]
    async fn a_round_claims_at_most_a_batch() {
        let rows: Vec<(String, &str, i64)> = (0..MESSAGES.batch + 3).map(|i| (format!("{i:03}"), "ok", 0)).collect();
        let rows: Vec<(&str, &str, i64)> = rows.iter().map(|(id, s, n)| (id.as_str(), *s, *n)).collect();
        let memory = Memory::with(&rows);
        assert_eq!(round(&memory, 100).await.claimed, MESSAGES.batch as usize);
        assert_eq!(round(&memory, 100).await.claimed, 3);
    }

    #[test]
    fn retries_back_off_and_end() {
        assert_eq!(MESSAGES.retry_at(1, 0), Some(30));
        assert_eq!(MESSAGES.retry_at(2, 0), Some(60));
        assert_eq!(MESSAGES.retry_at(7, 0), Some(1920));
        assert_eq!(MESSAGES.retry_at(MESSAGES.attempts, 0), None);
        let waits: Vec<i64> = (1..10).map(|n| MESSAGES.wait(n)).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600], "30 s doubling to an hour");
    }

    #[test]
    fn a_try_is_sent_tried_later_or_given_up() {
        let p = &MESSAGES;
        assert_eq!(decide(p, Tried::Sent(None), 0, 100), Decision::Sent(None));
        let down = || Tried::Failed(SendError::Temporary("down".into()));
        assert_eq!(decide(p, down(), 0, 100), Decision::Later { next: 130, why: "down".into() });
        assert_eq!(decide(p, down(), p.attempts - 1, 100), Decision::GivenUp("down".into()), "its attempts spent");
        let refused = Tried::Failed(SendError::Permanent("refused".into()));
        assert_eq!(decide(p, refused, 0, 100), Decision::GivenUp("refused".into()));
    }
}
