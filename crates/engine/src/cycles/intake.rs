//! The ways in whose input the doors stored before they answered: the **mailroom** (received
//! mail into tickets, replies and inquiries), the **alert intake** (monitoring signals) and
//! the **chat intake** (messages from the orgs' shared channels). Each claims a batch with a
//! lease, processes one key's messages in order and different keys' at once (so the group
//! committer batches their changes), and goes again at once after a full batch. A message
//! whose processing failed comes back when its lease ends; processing twice is harmless, as
//! every id is derived from the message.

use crate::SystemClock;
use crate::cycle::{Cycle, Step, Wake};
use crate::metrics;
use crate::pacing::Pacing;
use crate::supervisor::Pulse;
use std::sync::Arc;
use std::time::Duration;
use stringer_app::Clock;
use stringer_app::alerts::AlertDesk;
use stringer_app::chat::{ChatDesk, KICKOFF_BATCH};
use stringer_app::mail::intake::MailDesk;
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// Received messages claimed per mailroom step (processed concurrently).
const MAIL_BATCH: i64 = 128;
/// Monitoring signals claimed per step (different alerts processed at once).
const SIGNAL_BATCH: i64 = 256;
/// Channel messages claimed per chat step (one channel's in order), and thread updates
/// posted per step.
const CHAT_BATCH: i64 = 128;
/// How long a claimed message stays hidden from other instances: far longer than a batch
/// takes (well under a second), short enough that a crashed instance's claims come back
/// soon.
const LEASE_SECONDS: i64 = 15;
/// The intakes' pacing: woken by their doorbells, polling for what other instances stored at
/// most a second apart.
const INTAKE_PACE: Pacing = Pacing::new(Duration::from_millis(100), Duration::from_secs(1));

/// Waits for the tasks of a step, counting a panicked one as the cycle's.
async fn join_all(mut work: JoinSet<()>, pulse: &Pulse) {
    while let Some(done) = work.join_next().await {
        if let Err(e) = done {
            pulse.task_failed(e);
        }
    }
}

/// Groups `items` by `key`, keeping their order within a key.
fn by_key<T>(items: Vec<T>, key: impl Fn(&T) -> String) -> Vec<Vec<T>> {
    let mut groups: Vec<(String, Vec<T>)> = Vec::new();
    for item in items {
        let k = key(&item);
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, list)) => list.push(item),
            None => groups.push((k, vec![item])),
        }
    }
    groups.into_iter().map(|(_, list)| list).collect()
}

/// Processes received mail: one sender's messages in the order received (a reply after the
/// message it answers), different senders' at once.
pub(crate) struct Mailroom {
    pub(crate) mail: Arc<MailDesk>,
    /// Rung when this process stored received mail.
    pub(crate) stored: Arc<Notify>,
}

impl Cycle for Mailroom {
    fn name(&self) -> &'static str {
        "mailroom"
    }

    fn pacing(&self) -> Pacing {
        INTAKE_PACE
    }

    fn wake(&self) -> Option<Wake> {
        Some(Wake { bell: self.stored.clone(), at_once: false })
    }

    async fn step(&mut self, pulse: &Pulse) -> Step {
        let now = SystemClock.now_precise().as_second();
        let claimed = match self.mail.ports.mailroom.claim_inbound(now, now + LEASE_SECONDS, MAIL_BATCH).await {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = %e, "claiming received mail failed; retrying");
                return Step::failed();
            }
        };
        let step = Step::of(claimed.len(), MAIL_BATCH);
        let letters = claimed.into_iter().map(|message| {
            let letter = self.mail.read(&message);
            (message, letter)
        });
        let mut work = JoinSet::new();
        let failed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for messages in by_key(letters.collect(), |(_, letter)| letter.from.clone()) {
            let (mail, failed) = (self.mail.clone(), failed.clone());
            work.spawn(async move {
                for (message, letter) in messages {
                    match mail.process(&message, &letter).await {
                        Ok(outcome) => metrics::record_mail(outcome.state().as_str()),
                        Err(e) => {
                            tracing::warn!(error = %e, message = message.id, "processing a received message failed; it comes back");
                            failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            return;
                        }
                    }
                }
            });
        }
        join_all(work, pulse).await;
        step.with_errors(failed.load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// Processes monitoring signals: each alert's in order, different alerts at once, and every
/// outcome written in one transaction.
pub(crate) struct AlertIntake {
    pub(crate) alerts: Arc<AlertDesk>,
    /// Rung when this process stored signals.
    pub(crate) stored: Arc<Notify>,
}

impl Cycle for AlertIntake {
    fn name(&self) -> &'static str {
        "alert_intake"
    }

    fn pacing(&self) -> Pacing {
        INTAKE_PACE
    }

    fn wake(&self) -> Option<Wake> {
        Some(Wake { bell: self.stored.clone(), at_once: false })
    }

    async fn step(&mut self, pulse: &Pulse) -> Step {
        let now = SystemClock.now_precise().as_second();
        let claimed = match self.alerts.ports.alerts.claim_signals(now, now + LEASE_SECONDS, SIGNAL_BATCH).await {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = %e, "claiming monitoring signals failed; retrying");
                Vec::new()
            }
        };
        let step = Step::of(claimed.len(), SIGNAL_BATCH);
        let prepared = match self.alerts.prepare(claimed).await {
            Ok(prepared) => prepared,
            Err(e) => {
                tracing::warn!(error = %e, "reading the alerts of monitoring signals failed; they come back");
                Vec::new()
            }
        };
        let mut work = JoinSet::new();
        for group in prepared {
            let alerts = self.alerts.clone();
            work.spawn(async move { alerts.process_alert(group).await });
        }
        let mut processed = Vec::new();
        while let Some(done) = work.join_next().await {
            match done {
                Ok(p) => processed.push(p),
                Err(e) => pulse.task_failed(e),
            }
        }
        let mut errors = 0;
        for why in processed.iter().filter_map(|p| p.failed.as_deref()) {
            tracing::warn!(error = why, "processing monitoring signals failed; they come back");
            errors += 1;
        }
        match self.alerts.finish(&processed).await {
            Ok(n) => {
                metrics::record_signals(n);
                step.with_errors(errors)
            }
            Err(e) => {
                tracing::warn!(error = %e, "recording processed monitoring signals failed; they come back");
                step.and(Step::failed())
            }
        }
    }
}

/// Processes messages from the orgs' shared channels (one channel's in the order posted: a
/// reply after the message that opened its thread's ticket; different channels' at once),
/// kicks off the channels owed a kickoff, and posts the public comments written elsewhere
/// into their tickets' threads.
pub(crate) struct ChatIntake {
    pub(crate) chat: Arc<ChatDesk>,
    /// Rung when this process stored a channel message.
    pub(crate) stored: Arc<Notify>,
}

impl Cycle for ChatIntake {
    fn name(&self) -> &'static str {
        "chat_intake"
    }

    fn pacing(&self) -> Pacing {
        INTAKE_PACE
    }

    fn wake(&self) -> Option<Wake> {
        Some(Wake { bell: self.stored.clone(), at_once: false })
    }

    async fn step(&mut self, pulse: &Pulse) -> Step {
        let now = SystemClock.now_precise().as_second();
        let claimed = match self.chat.ports.chat.claim_messages(now, now + LEASE_SECONDS, CHAT_BATCH).await {
            Ok(claimed) => Step::of(claimed.len(), CHAT_BATCH).and(self.process(claimed, pulse).await),
            Err(e) => {
                tracing::warn!(error = %e, "claiming channel messages failed; retrying");
                Step::failed()
            }
        };
        let kicked = match self.chat.kick_off_due(SystemClock.now_precise().as_second()).await {
            Ok(n) => Step::of(n, KICKOFF_BATCH),
            Err(e) => {
                tracing::warn!(error = %e, "running owed channel kickoffs failed; retrying");
                Step::failed()
            }
        };
        let posted = match self.chat.post_updates(CHAT_BATCH).await {
            Ok(n) => Step::of(n, CHAT_BATCH),
            Err(e) => {
                tracing::warn!(error = %e, "posting ticket updates into Slack threads failed; retrying");
                Step::failed()
            }
        };
        claimed.and(kicked).and(posted)
    }
}

impl ChatIntake {
    /// Processes claimed messages, each channel's in order: the messages that failed (they
    /// come back), as errors of an empty step.
    async fn process(&self, claimed: Vec<stringer_app::chat::ChatRecord>, pulse: &Pulse) -> Step {
        let failed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut work = JoinSet::new();
        for messages in by_key(claimed, |m| m.message.channel.clone()) {
            let (chat, failed) = (self.chat.clone(), failed.clone());
            work.spawn(async move {
                for m in messages {
                    if let Err(e) = chat.process(&m).await {
                        tracing::warn!(error = %e, message = m.id, "processing a channel message failed; it comes back");
                        failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        return;
                    }
                }
            });
        }
        join_all(work, pulse).await;
        Step::empty().with_errors(failed.load(std::sync::atomic::Ordering::Relaxed))
    }
}
