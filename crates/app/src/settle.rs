//! Settling sent messages: once paging for a ticket is over — acknowledged, resolved or its
//! severity lowered below paging, by whatever door — the messages that paged for it and can
//! still be changed (Slack messages today) are changed to say who took the page or why paging
//! stopped, and lose their buttons, as paging tools do.
//!
//! Durable: the change that ended paging also wrote a job to the outbox (see
//! [`crate::store::PagingEnded`]); a worker claims jobs with a lease, settles each message,
//! records each one settled, and only then finishes the job. An instance dying mid-way loses
//! nothing: the job comes back when its lease ends, and messages already settled are not
//! touched again.

use crate::delivery::SendError;
use crate::store::{PagingEnded, StoreError};
use jiff::{SignedDuration, Timestamp};
use std::future::Future;
use stringer_core::ids::{TicketId, UserId};

/// How long a claimed job stays hidden from other workers: longer than the Slack client's
/// timeout (10 s), so a live worker finishes first; a dead one's job is back this soon.
pub const SETTLE_LEASE_SECONDS: i64 = 15;

/// A ticket whose page messages are to be settled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettleJob {
    /// The outbox row.
    pub id: i64,
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

/// Persistence the settle worker needs.
pub trait SettleStore: Send + Sync {
    /// Claims up to `limit` unfinished jobs not claimed by another worker, oldest first,
    /// hiding them until `lease_until`.
    fn claim_settle_jobs(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<SettleJob>, StoreError>> + Send;
    /// The ticket's sent messages that can still be changed and are not settled.
    fn unsettled_messages(
        &self,
        ticket: &TicketId,
    ) -> impl Future<Output = Result<Vec<SentMessage>, StoreError>> + Send;
    /// Records a message settled at `at`.
    fn mark_settled(&self, delivery: &str, at: Timestamp) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Records a job done at `at`.
    fn finish_settle_job(&self, id: i64, at: Timestamp) -> impl Future<Output = Result<(), StoreError>> + Send;
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

/// What a round of [`settle`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settled {
    /// Jobs claimed.
    pub jobs: usize,
    /// Messages changed.
    pub messages: usize,
    /// Messages that can never be changed (deleted, or their channel archived), with why;
    /// they count as settled, so their job does not come back forever.
    pub given_up: Vec<(String, String)>,
}

/// Settles the messages of up to `limit` jobs. A job with a message that failed for now is
/// left to come back after its lease.
pub async fn settle<S: SettleStore, M: Messenger>(
    store: &S,
    messenger: &M,
    now: Timestamp,
    limit: i64,
) -> Result<Settled, StoreError> {
    let lease = now + SignedDuration::from_secs(SETTLE_LEASE_SECONDS);
    let mut report = Settled::default();
    for job in store.claim_settle_jobs(now, lease, limit).await? {
        report.jobs += 1;
        let name = match actor(&job.ended) {
            Some(user) => store.display_name(user).await?,
            None => None,
        };
        let outcome = outcome(&job.ended, name.as_deref());
        let mut done = true;
        for message in store.unsettled_messages(&job.ticket).await? {
            match messenger.settle(&message, &job.ticket, &outcome).await {
                Ok(()) => {
                    store.mark_settled(&message.id, now).await?;
                    report.messages += 1;
                }
                Err(SendError::Permanent(e)) => {
                    store.mark_settled(&message.id, now).await?;
                    report.given_up.push((message.id, e));
                }
                Err(SendError::Temporary(_)) => done = false,
            }
        }
        if done {
            store.finish_settle_job(job.id, now).await?;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_say_who_and_why() {
        let by = Some(UserId::from("usr_1"));
        assert_eq!(outcome(&PagingEnded::Acknowledged { by: by.clone() }, Some("Sia")), "Acknowledged by Sia");
        assert_eq!(outcome(&PagingEnded::Resolved { by: None }, None), "Resolved");
        let lowered = PagingEnded::SeverityLowered { severity: "P3".into(), by };
        assert_eq!(outcome(&lowered, Some("Nico")), "Paging stopped: severity changed to P3 by Nico");
    }
}
