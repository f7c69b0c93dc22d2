//! The ways in whose input the doors stored before they answered: the **mailroom** (received
//! mail into tickets, replies and inquiries), the **alert intake** (monitoring signals) and
//! the **chat intake** (messages from the orgs' shared channels). Each step is one round of
//! the application's one inbox ([`inbox::round`]): claim a batch with a lease, one key's
//! items in order and different keys' at once (so the group committer batches their
//! changes), settle in one write. What failed comes back when its lease ends; processing
//! twice is harmless, as every id is derived from the stored item. Beside the chat intake,
//! the **thread poster** sends the thread posts the outbox owes tickets' threads.

use crate::SystemClock;
use crate::cycle::{Cycle, Step, Wake};
use crate::cycles::publishing::{Sending, SendsDue};
use crate::metrics;
use crate::pacing::Pacing;
use crate::supervisor::Pulse;
use std::sync::Arc;
use std::time::Duration;
use stringer_app::Clock;
use stringer_app::alerts::AlertDesk;
use stringer_app::chat::{ChatDesk, KICKOFF_BATCH, THREAD_POSTS};
use stringer_app::inbox::{self, Report, Runner, WayIn, Work};
use stringer_app::mail::intake::MailDesk;
use tokio::sync::Notify;

/// Received messages claimed per mailroom step (different senders' processed at once).
pub(crate) const MAIL_BATCH: i64 = 128;
/// Monitoring signals claimed per step (different alerts processed at once).
pub(crate) const SIGNAL_BATCH: i64 = 256;
/// Channel messages claimed per chat step (one channel's in order).
const CHAT_BATCH: i64 = 128;
/// How long claimed items of every intake stay hidden from other instances: far longer than
/// a round takes (well under a second), short enough that a crashed instance's claims come
/// back soon.
const LEASE_SECONDS: i64 = 15;
/// The intakes' pacing: woken by their doorbells, polling for what other instances stored at
/// most a second apart.
const INTAKE_PACE: Pacing = Pacing::new(Duration::from_millis(100), Duration::from_secs(1));

/// Runs an inbox round's keys as tasks of the runtime (one key's slow message delays no
/// other, and CPU work such as mail authentication uses every core); a task that panicked is
/// counted as the cycle's, and its items come back by their lease.
struct Tasks(Pulse);

impl Runner for Tasks {
    fn run<T: Send + 'static>(&self, work: Work<T>) -> Work<Option<T>> {
        let (task, pulse) = (tokio::spawn(work), self.0.clone());
        Box::pin(async move {
            match task.await {
                Ok(done) => Some(done),
                Err(e) => {
                    pulse.task_failed(e);
                    None
                }
            }
        })
    }
}

/// One inbox round of `way`: up to `batch` items leased for [`LEASE_SECONDS`], processed and
/// settled, what failed logged (it comes back when its lease ends), `counted` recording the
/// round's metrics.
async fn round<I: WayIn>(way: &Arc<I>, what: &str, batch: i64, counted: fn(&Report<I>), pulse: &Pulse) -> Step {
    let now = SystemClock.now().as_second();
    let report = inbox::round(way, &Tasks(pulse.clone()), now, now + LEASE_SECONDS, batch).await;
    let mut failures = 0;
    for (id, e) in report.failures() {
        tracing::warn!(error = %e, item = id, "processing {what} failed; it comes back");
        failures += 1;
    }
    counted(&report);
    let step = Step::of(report.claimed, batch).with_errors(failures + report.lost);
    match &report.error {
        Some(e) => {
            tracing::warn!(error = %e, "a round of {what} failed; its items come back");
            step.and(Step::failed())
        }
        None => step,
    }
}

/// An intake over one way in (received mail, monitoring signals): a round per step.
pub(crate) struct Intake<I: WayIn> {
    /// The cycle's name.
    pub(crate) name: &'static str,
    /// The way in.
    pub(crate) way: Arc<I>,
    /// What one item is, in logs ("a received message").
    pub(crate) what: &'static str,
    /// Items claimed per round.
    pub(crate) batch: i64,
    /// Records a round's metrics.
    pub(crate) counted: fn(&Report<I>),
    /// Rung when this process stored an item.
    pub(crate) stored: Arc<Notify>,
}

impl<I: WayIn> Cycle for Intake<I> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn pacing(&self) -> Pacing {
        INTAKE_PACE
    }

    fn wake(&self) -> Option<Wake> {
        Some(Wake { bell: self.stored.clone(), at_once: false })
    }

    async fn step(&mut self, pulse: &Pulse) -> Step {
        round(&self.way, self.what, self.batch, self.counted, pulse).await
    }
}

/// The mailroom: received mail, one sender's in the order received.
pub(crate) fn mailroom(mail: Arc<MailDesk>, stored: Arc<Notify>) -> Intake<MailDesk> {
    Intake { name: "mailroom", way: mail, what: "a received message", batch: MAIL_BATCH, counted: count_mail, stored }
}

/// The alert intake: monitoring signals, one alert's in order.
pub(crate) fn alert_intake(alerts: Arc<AlertDesk>, stored: Arc<Notify>) -> Intake<AlertDesk> {
    Intake {
        name: "alert_intake",
        way: alerts,
        what: "a monitoring signal",
        batch: SIGNAL_BATCH,
        counted: count_signals,
        stored,
    }
}

/// A mail round's metrics: each message processed, by the state it was left in.
fn count_mail(report: &Report<MailDesk>) {
    report.settled().for_each(|(outcome, _)| metrics::record_mail(outcome.state().as_str()));
}

/// A signal round's metrics: the signals processed.
fn count_signals(report: &Report<AlertDesk>) {
    metrics::record_signals(report.settled().count());
}

/// Messages from the orgs' shared channels (one channel's in the order posted, so a reply
/// follows the message that opened its thread's ticket), then the channels owed a kickoff.
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
        let claimed = round(&self.chat, "a channel message", CHAT_BATCH, |_| {}, pulse).await;
        let kicked = match self.chat.kick_off_due(SystemClock.now().as_second()).await {
            Ok(n) => Step::of(n, KICKOFF_BATCH),
            Err(e) => {
                tracing::warn!(error = %e, "running owed channel kickoffs failed; retrying");
                Step::failed()
            }
        };
        claimed.and(kicked)
    }
}

/// The outbox kind of thread posts, sent through the chat desk.
pub(crate) struct ThreadPosts(Arc<ChatDesk>);

impl SendsDue for ThreadPosts {
    async fn send_due(&self, now: i64) -> Result<usize, String> {
        self.0.post_due(now).await.map_err(|e| e.to_string())
    }
}

/// The thread poster: what tickets' threads in their orgs' shared channels are owed (public
/// comments written elsewhere, changes of state), posted at the intakes' pace.
pub(crate) fn thread_poster(chat: Arc<ChatDesk>) -> Sending<ThreadPosts> {
    Sending {
        name: "thread_poster",
        what: "thread posts",
        batch: THREAD_POSTS.batch,
        pacing: INTAKE_PACE,
        sender: ThreadPosts(chat),
    }
}
