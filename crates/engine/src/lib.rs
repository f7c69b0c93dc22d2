//! The engine: the background work of a running desk, as GoAlert's engine does it — one
//! cycle per kind of work, each taking its work from database rows with a lease, so a
//! restarted or second instance simply catches up and nothing lives only in memory:
//!
//! - the **timer sweep** runs due timers through the [`Desk`] (breaches, escalation steps,
//!   report and bridge deadlines), recording escalation lag;
//! - the **dispatcher** turns outbox notices into deliveries (and customer updates into
//!   letters), as soon as the sweep or a request wrote them;
//! - the **deliverer** sends due deliveries, many at once and a few per destination, pages
//!   first, so a slow receiver delays no one else's page;
//! - the **settler** settles sent page messages once paging is over (the outbox's settle
//!   jobs);
//! - the **mailroom** processes received mail (stored by the doors before they answered)
//!   into tickets, replies and inquiries, many at once so the group committer batches them;
//! - the **alert intake** and the **chat intake** process monitoring signals and messages
//!   from the orgs' shared Slack channels the same way;
//! - the **status clock** starts and completes scheduled maintenances on time (each move an
//!   update derived from the maintenance and its new status, so two instances write one),
//!   writes reminders an hour before one begins, and sends subscribers their notices;
//! - the **report herald** announces published post-incident reports (a post in the org's
//!   Slack channel, a mail to each of its admins);
//! - the **janitor** forgets expired idempotency keys;
//! - the **gauges** count open tickets by SLA state and the backlog (timers due, outbox
//!   records pending) for `/metrics`.
//!
//! The polling cycles pace themselves ([`pacing`]): at once while work waits, slowing down to
//! an idle pause (a second or two) when there is none, and woken at once by the store's
//! doorbells ([`Bells`]) when this process stored work for them; the gauges recount open
//! tickets only when the timeline moved. An idle server so costs little whatever it holds.
//!
//! Every cycle runs under one [`Supervisor`]: a panic is caught, counted and logged, and the
//! cycle starts again after a back-off; each says when it made progress, and one that made
//! none for too long is reported stalled (`/readyz` answers unready).
//!
//! It reads the system clock ([`SystemClock`]) and registers its metrics ([`metrics`]). The
//! binary builds an [`Engine`] from the store and the outside systems and starts it beside
//! the web front.

#![warn(missing_docs)]

mod clock;
pub mod metrics;
mod pacing;
pub mod supervisor;

pub use clock::SystemClock;
pub use supervisor::{Pulse, Supervisor};

use jiff::Timestamp;
use std::sync::Arc;
use std::time::Duration;
use stringer_app::alerts::AlertDesk;
use stringer_app::chat::ChatDesk;
use stringer_app::delivery::{DeliveryStore, Dispatched, InFlight, Sender, claim_due, dispatch, send};
use stringer_app::inbox::{self, Report, Runner, WayIn, Work};
use stringer_app::letters::Postman;
use stringer_app::links::AckLinks;
use stringer_app::mail::intake::MailDesk;
use stringer_app::mail::letters::{Correspondence, dispatch_letters};
use stringer_app::ports::{Queries, Safeguards};
use stringer_app::postmortem::herald::Herald;
use stringer_app::settle::{Messenger, SettleStore, settle};
use stringer_app::status::subscribers::Notifier;
use stringer_app::{Desk, Store};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use pacing::{Pacing, Round};

/// Outbox notices turned into deliveries per round.
const DISPATCH_BATCH: i64 = 200;
/// Sends under way at once on one instance.
const DELIVERY_CONCURRENCY: usize = 64;
/// Sends under way at once to one destination (a contact method, a channel, an address).
const PER_DESTINATION: usize = 2;
/// Settle jobs claimed per round.
const SETTLE_BATCH: i64 = 20;
/// The pacing of the dispatcher and the deliverer: woken at once by work (the outbox's
/// doorbell, new deliveries), polling for other instances' work at most a second apart.
const OUTBOX_PACE: Pacing = Pacing::new(Duration::from_millis(200), Duration::from_secs(1));
/// The pacing of the settler (settling is tidying up, never urgent).
const SETTLE_PACE: Pacing = Pacing::new(Duration::from_millis(200), Duration::from_secs(2));
/// How often the janitor runs.
const JANITOR_PERIOD: Duration = Duration::from_secs(600);
/// Received messages claimed per mailroom round (different senders' processed at once).
const MAIL_BATCH: i64 = 128;
/// How long claimed items of every intake (mail, signals, channel messages) stay hidden from
/// other instances: far longer than a round takes (well under a second), short enough that a
/// crashed instance's claims come back soon. Processing twice is harmless (every id is
/// derived from the stored item).
const INTAKE_LEASE_SECONDS: i64 = 15;
/// The intakes' pacing (mail, alerts, chat): woken at once by their doorbells, polling for
/// what other instances stored at most a second apart.
const INTAKE_PACE: Pacing = Pacing::new(Duration::from_millis(100), Duration::from_secs(1));
/// Monitoring signals claimed per round (different alerts processed at once).
const SIGNAL_BATCH: i64 = 256;
/// Channel messages claimed per chat round (one channel's in order), and thread updates
/// posted per round.
const CHAT_BATCH: i64 = 128;
/// The pacing of the status clock (maintenances to start or complete, notices to send), the
/// report herald and the postman's letters: every second while there is work, every two
/// when there is none.
const CLOCK_PACE: Pacing = Pacing::new(Duration::from_secs(1), Duration::from_secs(2));
/// How often the postman looks for a quarter that has ended (letters it looks for every
/// second).
const REVIEW_PERIOD: Duration = Duration::from_secs(30);
/// How often the gauges look at the database.
const GAUGES_PERIOD: Duration = Duration::from_secs(2);
/// The longest the open-ticket count goes without a recount, moved timeline or not.
const RECOUNT_PERIOD: Duration = Duration::from_secs(60);

/// How the engine runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// The longest pause of the timer sweep: timers written by other instances are seen
    /// within it.
    pub tick: Duration,
    /// Whether pages routed via an org's Slack channel are posted there (a Slack app is
    /// configured).
    pub slack_channels: bool,
    /// How long a finished idempotency key is remembered.
    pub idempotency_expiry_seconds: i64,
    /// Our mail domains and reply-address signer: customer letters are sent when set.
    pub correspondence: Option<Correspondence>,
    /// How long a cycle may go without progress beyond its own period before it is
    /// reported stalled.
    pub stall_grace: Duration,
}

/// The engine over a store `S` (every persistence port) and the outside systems `T`.
pub struct Engine<S, T> {
    desk: Arc<Desk<S, SystemClock>>,
    store: S,
    outside: T,
    links: AckLinks,
    config: Config,
    intakes: Intakes,
}

/// The ways in whose stored input the engine processes.
pub struct Intakes {
    /// Received mail.
    pub mail: Arc<MailDesk>,
    /// Monitoring signals.
    pub alerts: Arc<AlertDesk>,
    /// Messages from the orgs' shared Slack channels (when the Slack app has a bot token).
    pub chat: Option<Arc<ChatDesk>>,
    /// Status pages: the clock starts and completes their scheduled maintenances, reminds
    /// subscribers of those about to begin, and sends subscribers their notices.
    pub status: Notifier,
    /// Post-incident reports: the herald announces published ones (the org's Slack
    /// channel, its admins' mail).
    pub reports: Herald,
    /// Letters to orgs' people: quarterly reviews mailed when a quarter ends, welcome packets.
    pub letters: Postman,
    /// The doorbells the store rings when this process stored work for a cycle.
    pub bells: Bells,
}

/// The doorbells of the cycles that wait for stored work: each rung by the store when a
/// commit of this process left some (see [`pacing`]).
#[derive(Clone, Debug, Default)]
pub struct Bells {
    /// Outbox records were committed: the dispatcher's.
    pub outbox: Arc<Notify>,
    /// Received mail was stored: the mailroom's.
    pub mail: Arc<Notify>,
    /// Monitoring signals were stored: the alert intake's.
    pub signals: Arc<Notify>,
    /// A channel message was stored: the chat intake's.
    pub chat: Arc<Notify>,
}

/// A started engine; [`Running::stop`] ends its cycles between rounds.
pub struct Running {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    supervisor: Supervisor,
}

impl Running {
    /// The supervisor of the cycles: which of them stalled (for `/readyz`).
    pub fn supervisor(&self) -> Supervisor {
        self.supervisor.clone()
    }

    /// Stops every cycle after its current round and waits for them.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

impl<S, T> Engine<S, T>
where
    S: Store + DeliveryStore + SettleStore + Safeguards + Queries + Clone + 'static,
    T: Sender + Messenger + Clone + 'static,
{
    /// An engine running `desk`'s timers, processing what the `intakes` stored (mail,
    /// monitoring signals, channel messages), and delivering through `outside`.
    pub fn new(
        desk: Arc<Desk<S, SystemClock>>,
        store: S,
        outside: T,
        links: AckLinks,
        config: Config,
        intakes: Intakes,
    ) -> Self {
        Engine { desk, store, outside, links, config, intakes }
    }

    /// Starts every cycle on the current runtime, each under the supervisor.
    pub fn start(self) -> Running {
        let (stop, stopped) = watch::channel(false);
        let Engine { desk, store, outside, links, config, intakes } = self;
        let Intakes { mail, alerts, chat, status, reports, letters: mailbag, bells } = intakes;
        let letters =
            Letters { links, correspondence: config.correspondence.clone(), slack_channels: config.slack_channels };
        let dispatched = Arc::new(Notify::new());
        let supervisor = Supervisor::new(config.stall_grace);
        let (sup, s) = (&supervisor, &stopped);
        let tick = config.tick;
        let mut tasks = vec![
            sup.spawn("sweep", tick, s.clone(), {
                let s = s.clone();
                move |p| sweep(desk.clone(), tick, s.clone(), p)
            }),
            sup.spawn("dispatcher", OUTBOX_PACE.longest(), s.clone(), {
                let (store, written, dispatched, s) =
                    (store.clone(), bells.outbox.clone(), dispatched.clone(), s.clone());
                move |p| dispatcher(store.clone(), letters.clone(), written.clone(), dispatched.clone(), s.clone(), p)
            }),
            sup.spawn("deliverer", OUTBOX_PACE.longest(), s.clone(), {
                let (store, outside, s) = (store.clone(), outside.clone(), s.clone());
                move |p| deliverer(store.clone(), outside.clone(), dispatched.clone(), s.clone(), p)
            }),
            sup.spawn("settler", SETTLE_PACE.longest(), s.clone(), {
                let (store, s) = (store.clone(), s.clone());
                move |p| settler(store.clone(), outside.clone(), s.clone(), p)
            }),
            sup.spawn("mailroom", INTAKE_PACE.longest(), s.clone(), {
                let (s, bell) = (s.clone(), bells.mail.clone());
                move |p| intake(mail.clone(), "a received message", MAIL_BATCH, count_mail, bell.clone(), s.clone(), p)
            }),
            sup.spawn("alert_intake", INTAKE_PACE.longest(), s.clone(), {
                let (s, bell) = (s.clone(), bells.signals.clone());
                move |p| {
                    intake(
                        alerts.clone(),
                        "a monitoring signal",
                        SIGNAL_BATCH,
                        count_signals,
                        bell.clone(),
                        s.clone(),
                        p,
                    )
                }
            }),
            sup.spawn("status_clock", CLOCK_PACE.longest(), s.clone(), {
                let s = s.clone();
                move |p| status_clock(status.clone(), s.clone(), p)
            }),
            sup.spawn("report_herald", CLOCK_PACE.longest(), s.clone(), {
                let s = s.clone();
                move |p| report_herald(reports.clone(), s.clone(), p)
            }),
            sup.spawn("postman", CLOCK_PACE.longest(), s.clone(), {
                let s = s.clone();
                move |p| postman(mailbag.clone(), s.clone(), p)
            }),
            sup.spawn("janitor", JANITOR_PERIOD, s.clone(), {
                let (store, s, expiry) = (store.clone(), s.clone(), config.idempotency_expiry_seconds);
                move |p| janitor(store.clone(), expiry, s.clone(), p)
            }),
            sup.spawn("gauges", GAUGES_PERIOD, s.clone(), {
                let s = s.clone();
                move |p| gauges(store.clone(), s.clone(), p)
            }),
        ];
        // Without a Slack bot token channel messages wait, stored: there is no chat cycle.
        if let Some(chat) = chat {
            tasks.push(sup.spawn("chat_intake", INTAKE_PACE.longest(), s.clone(), {
                let (s, bell) = (s.clone(), bells.chat.clone());
                move |p| chat_intake(chat.clone(), bell.clone(), s.clone(), p)
            }));
        }
        Running { stop, tasks, supervisor }
    }
}

/// Waits `pause`, or until told to stop; true when told to stop.
async fn rest(pause: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    if *stop.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(pause) => false,
        _ = stop.changed() => true,
    }
}

/// Rests after a round as `pacing` says, woken early by `wake` (a doorbell), but never
/// sooner than the busy pause after a round that was not full: under a stream of stored work
/// a doorbell rung per commit must not turn the cycle into one small round per item, whose
/// claims would compete with the doors' own inserts for the writer. True when told to stop.
async fn rest_or_wake(pacing: &mut Pacing, round: Round, wake: &Notify, stop: &mut watch::Receiver<bool>) -> bool {
    let pause = pacing.after(round);
    let least = pacing.busy().min(pause);
    if rest(least, stop).await {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(pause - least) => false,
        _ = wake.notified() => false,
        _ = stop.changed() => true,
    }
}

/// Runs due timers until told to stop: a sweep runs batches until none is due (each batch's
/// lag is recorded as soon as it is committed), then sleeps until the next timer falls due,
/// but never longer than `every`, so timers written by other instances (or by requests on
/// this one) are seen within `every`. Each batch commits per ticket, so a stop between
/// batches leaves nothing half-done, and the next start catches up.
async fn sweep<S: Store + 'static>(
    desk: Arc<Desk<S, SystemClock>>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
    pulse: Pulse,
) {
    loop {
        let mut pause = every;
        let swept = loop {
            match desk.run_due_batch().await {
                Ok(fired) if fired.is_empty() => {
                    pulse.beat();
                    break true;
                }
                Ok(fired) => {
                    metrics::record_sweep(&fired, Timestamp::now());
                    pulse.beat();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "timer sweep failed; retrying");
                    break false;
                }
            }
            if *stop.borrow() {
                return;
            }
        };
        if swept && let Ok(Some(next)) = desk.next_timer_at().await {
            let until = next.duration_since(Timestamp::now()).as_secs_f64().max(0.0);
            pause = pause.min(Duration::from_secs_f64(until));
        }
        if rest(pause.max(Duration::from_millis(20)), &mut stop).await {
            return;
        }
    }
}

/// Turns outbox notices into deliveries and customer updates into letters, as soon as a
/// commit of this process wrote some (the outbox's doorbell, `written`), at once again after
/// a full round, and otherwise at [`OUTBOX_PACE`] (other instances' notices); wakes the
/// deliverer whenever it made some. It only reads and writes the database, so no receiver
/// can hold it up.
async fn dispatcher<S: DeliveryStore>(
    store: S,
    letters: Letters,
    written: Arc<Notify>,
    dispatched: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
    pulse: Pulse,
) {
    let Letters { links, correspondence, slack_channels } = letters;
    let mut pacing = OUTBOX_PACE;
    loop {
        let now = Timestamp::now();
        let mut failed = false;
        let pages = match dispatch(&store, &links, slack_channels, now, DISPATCH_BATCH).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "dispatching notices failed; retrying");
                failed = true;
                Dispatched::default()
            }
        };
        let letters = match dispatch_letters(&store, &links, correspondence.as_ref(), now, DISPATCH_BATCH).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "dispatching customer letters failed; retrying");
                failed = true;
                Dispatched::default()
            }
        };
        if !failed {
            pulse.beat();
        }
        // The deliverer claims only when there is something new to send.
        if pages.deliveries + letters.deliveries > 0 {
            dispatched.notify_one();
        }
        // A full round means more may be waiting: go again at once.
        let round = Round::of(pages.notices, DISPATCH_BATCH).and(Round::of(letters.notices, DISPATCH_BATCH));
        let round = if failed { round.and(Round::Worked) } else { round };
        if rest_or_wake(&mut pacing, round, &written, &mut stop).await {
            return;
        }
    }
}

/// Sends due deliveries until told to stop: claims as many as there is room for (at most
/// [`DELIVERY_CONCURRENCY`] under way, [`PER_DESTINATION`] to one receiver, pages first)
/// and sends each at once in a task of its own; claims again whenever a send ends, the
/// dispatcher made deliveries, or its pause ([`OUTBOX_PACE`]: retries falling due) passed. A claim's lease covers its one send, so a
/// crash mid-send leaves the delivery to be retried (with the same idempotency key) once the
/// lease ends. On stop, the sends under way are finished first.
async fn deliverer<S, T>(store: S, outside: T, dispatched: Arc<Notify>, mut stop: watch::Receiver<bool>, pulse: Pulse)
where
    S: DeliveryStore + Clone + 'static,
    T: Sender + Clone + 'static,
{
    let mut in_flight = InFlight::new(DELIVERY_CONCURRENCY, PER_DESTINATION);
    let mut sends = tokio::task::JoinSet::new();
    let mut destinations = std::collections::HashMap::new();
    let mut pacing = OUTBOX_PACE;
    while !*stop.borrow() {
        let now = Timestamp::now();
        let claimed = match claim_due(&store, &mut in_flight, now).await {
            Ok(claimed) => {
                pulse.beat();
                claimed
            }
            Err(e) => {
                tracing::warn!(error = %e, "claiming deliveries failed; retrying");
                Vec::new()
            }
        };
        let pause = pacing.after(if claimed.is_empty() && sends.is_empty() { Round::Empty } else { Round::Worked });
        for d in claimed {
            metrics::record_delivery_start(d.urgency, d.due, now);
            let (store, outside) = (store.clone(), outside.clone());
            let destination = d.destination.clone();
            let task =
                sends.spawn(async move { (d.id.clone(), d.kind, send(&store, &outside, &SystemClock, &d).await) });
            destinations.insert(task.id(), destination);
        }
        // Claim again when a send ends (room for one more), when new deliveries were made, or
        // after the pause (retries falling due, deliveries of other instances' notices).
        tokio::select! {
            Some(done) = sends.join_next_with_id(), if !sends.is_empty() => {
                let task = match &done {
                    Ok((task, _)) => *task,
                    Err(e) => e.id(),
                };
                if let Some(destination) = destinations.remove(&task) {
                    in_flight.done(&destination);
                }
                match done {
                    Ok((_, (_, kind, Ok(outcome)))) => metrics::record_delivery(kind, &outcome),
                    Ok((_, (id, _, Err(e)))) => {
                        tracing::warn!(error = %e, delivery = id, "recording a delivery failed; it is sent again after its lease");
                    }
                    Err(e) => pulse.task_failed(e),
                }
            }
            _ = dispatched.notified() => {}
            _ = tokio::time::sleep(pause) => {}
            _ = stop.changed() => {}
        }
    }
    while sends.join_next().await.is_some() {}
}

/// Settles sent page messages once paging is over, at [`SETTLE_PACE`] (at once after a full
/// round). A crash mid-settle leaves the job to come back when its lease ends.
async fn settler<S: SettleStore, T: Messenger>(store: S, outside: T, mut stop: watch::Receiver<bool>, pulse: Pulse) {
    let mut pacing = SETTLE_PACE;
    loop {
        let round = match settle(&store, &outside, Timestamp::now(), SETTLE_BATCH).await {
            Ok(report) => {
                pulse.beat();
                metrics::record_settled(report.messages);
                for (delivery, why) in &report.given_up {
                    tracing::warn!(delivery, reason = why, "a page message could not be settled");
                }
                Round::of(report.jobs, SETTLE_BATCH)
            }
            Err(e) => {
                tracing::warn!(error = %e, "settling page messages failed; retrying");
                Round::Worked
            }
        };
        if rest(pacing.after(round), &mut stop).await {
            return;
        }
    }
}

/// What the dispatcher needs besides the store.
#[derive(Clone)]
struct Letters {
    links: AckLinks,
    correspondence: Option<Correspondence>,
    slack_channels: bool,
}

/// Runs an intake round's keys as tasks of the runtime (one key's slow message delays no
/// other, and CPU work such as mail authentication uses every core); a task that panicked
/// is counted as the cycle's, and its items come back by their lease.
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

/// One intake round of `way` ([`inbox::round`]): claims up to `batch` items leased for
/// [`INTAKE_LEASE_SECONDS`], processes and settles them, and logs what failed (it comes
/// back when its lease ends). Tasks that panicked are counted on `pulse`.
async fn intake_round<I: WayIn>(way: &Arc<I>, what: &str, batch: i64, pulse: &Pulse) -> (Report<I>, Round) {
    let now = Timestamp::now().as_second();
    let report = inbox::round(way, &Tasks(pulse.clone()), now, now + INTAKE_LEASE_SECONDS, batch).await;
    for (id, e) in report.failures() {
        tracing::warn!(error = %e, item = id, "processing {what} failed; it comes back");
    }
    if let Some(e) = &report.error {
        tracing::warn!(error = %e, "a round of {what} failed; its items come back");
    }
    let round = Round::of(report.claimed, batch);
    (report, round)
}

/// Processes what one way in stored (received mail, monitoring signals) until told to stop:
/// an intake round at a time ([`intake_round`]), again at once after a full batch; woken by
/// its doorbell (`stored`), else at [`INTAKE_PACE`]. `counted` records a round's metrics.
async fn intake<I: WayIn>(
    way: Arc<I>,
    what: &'static str,
    batch: i64,
    counted: fn(&Report<I>),
    stored: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
    pulse: Pulse,
) {
    let mut pacing = INTAKE_PACE;
    loop {
        let (report, round) = intake_round(&way, what, batch, &pulse).await;
        if report.error.is_none() {
            pulse.beat();
        }
        counted(&report);
        if rest_or_wake(&mut pacing, round, &stored, &mut stop).await {
            return;
        }
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

/// Processes messages from the orgs' shared channels until told to stop: an intake round
/// ([`intake_round`]: one channel's messages in the order posted, so a reply follows the
/// message that opened its thread's ticket; different channels' at once); then posts the public comments
/// written elsewhere into their tickets' threads. Woken by the chat doorbell (`stored`), else
/// at [`INTAKE_PACE`].
async fn chat_intake(chat: Arc<ChatDesk>, stored: Arc<Notify>, mut stop: watch::Receiver<bool>, pulse: Pulse) {
    let mut pacing = INTAKE_PACE;
    loop {
        let (report, claimed_round) = intake_round(&chat, "a channel message", CHAT_BATCH, &pulse).await;
        let mut failed = report.error.is_some();
        // Channels owed a kickoff are kicked off.
        let kicked = match chat.kick_off_due(Timestamp::now().as_second()).await {
            Ok(n) => Round::of(n, stringer_app::chat::KICKOFF_BATCH),
            Err(e) => {
                tracing::warn!(error = %e, "running owed channel kickoffs failed; retrying");
                failed = true;
                Round::Worked
            }
        };
        // Public comments written elsewhere go into their tickets' threads.
        let posted = match chat.post_updates(CHAT_BATCH).await {
            Ok(n) => Round::of(n, CHAT_BATCH),
            Err(e) => {
                tracing::warn!(error = %e, "posting ticket updates into Slack threads failed; retrying");
                failed = true;
                Round::Worked
            }
        };
        if !failed {
            pulse.beat();
        }
        if rest_or_wake(&mut pacing, claimed_round.and(kicked).and(posted), &stored, &mut stop).await {
            return;
        }
    }
}

/// Starts and completes scheduled maintenances when their time comes, reminds their
/// subscribers, and sends due notices: at [`CLOCK_PACE`], or at once while notices wait.
async fn status_clock(status: Notifier, mut stop: watch::Receiver<bool>, pulse: Pulse) {
    let mut pacing = CLOCK_PACE;
    loop {
        let now = Timestamp::now().as_second();
        let mut failed = false;
        let mut round = Round::Empty;
        match status.desk.run_due(now).await {
            Ok(n) if n > 0 => {
                tracing::info!(moved = n, "scheduled maintenances moved on by the clock");
                round = Round::Worked;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "moving scheduled maintenances on failed; retrying");
                failed = true;
            }
        }
        if let Err(e) = status.remind_due(now).await {
            tracing::warn!(error = %e, "writing maintenance reminders failed; retrying");
            failed = true;
        }
        round = round.and(match status.send_due(now).await {
            Ok(n) => Round::of(n, stringer_app::status::subscribers::NOTICE_BATCH),
            Err(e) => {
                tracing::warn!(error = %e, "sending status notices failed; retrying");
                failed = true;
                Round::Worked
            }
        });
        if !failed {
            pulse.beat();
        }
        if rest(pacing.after(round), &mut stop).await {
            return;
        }
    }
}

/// Sends the announcements of published post-incident reports: at [`CLOCK_PACE`], or at
/// once while more wait.
async fn report_herald(herald: Herald, mut stop: watch::Receiver<bool>, pulse: Pulse) {
    let mut pacing = CLOCK_PACE;
    loop {
        let round = match herald.send_due(Timestamp::now().as_second()).await {
            Ok(n) => {
                pulse.beat();
                Round::of(n, stringer_app::status::subscribers::NOTICE_BATCH)
            }
            Err(e) => {
                tracing::warn!(error = %e, "sending report announcements failed; retrying");
                Round::Worked
            }
        };
        if rest(pacing.after(round), &mut stop).await {
            return;
        }
    }
}

/// Writes the quarterly reviews owed once a quarter has ended (every 30 seconds) and sends
/// the letters waiting (at [`CLOCK_PACE`], or at once while more wait).
async fn postman(postman: Postman, mut stop: watch::Receiver<bool>, pulse: Pulse) {
    let mut pacing = CLOCK_PACE;
    let mut reviews_read: Option<std::time::Instant> = None;
    loop {
        let now = Timestamp::now().as_second();
        let mut failed = false;
        if reviews_read.is_none_or(|at| at.elapsed() >= REVIEW_PERIOD) {
            match postman.owe_reviews(now).await {
                Ok(_) => reviews_read = Some(std::time::Instant::now()),
                Err(e) => {
                    tracing::warn!(error = %e, "writing the quarterly reviews owed failed; retrying");
                    failed = true;
                }
            }
        }
        let round = match postman.send_due(now).await {
            Ok(n) => Round::of(n, stringer_app::status::subscribers::NOTICE_BATCH),
            Err(e) => {
                tracing::warn!(error = %e, "sending letters failed; retrying");
                failed = true;
                Round::Worked
            }
        };
        if !failed {
            pulse.beat();
        }
        if rest(pacing.after(round), &mut stop).await {
            return;
        }
    }
}

/// Purges idempotency keys past their expiry, every ten minutes, so the table does not grow
/// without bound.
async fn janitor<S: Safeguards>(store: S, expiry: i64, mut stop: watch::Receiver<bool>, pulse: Pulse) {
    loop {
        let before = Timestamp::now().as_second() - expiry;
        match store.purge_idempotency_keys(before).await {
            Ok(n) => {
                pulse.beat();
                if n > 0 {
                    tracing::info!(purged = n, "expired idempotency keys purged");
                }
            }
            Err(e) => tracing::warn!(error = %e, "purging idempotency keys failed"),
        }
        if rest(JANITOR_PERIOD, &mut stop).await {
            return;
        }
    }
}

/// Counts the backlog every two seconds and open tickets by SLA state when they may have
/// changed (indexed counts), so `/metrics` reports the database's truth on every instance.
/// A ticket's state changes only with an entry on its timeline, so open tickets are counted
/// again only when the timeline's newest entry moved during the last two looks (on
/// PostgreSQL an entry numbered earlier may commit a little later), and at least every
/// [`RECOUNT_PERIOD`]: an idle server does not count its open tickets every two seconds.
async fn gauges<S: Queries>(store: S, mut stop: watch::Receiver<bool>, pulse: Pulse) {
    let mut marks: [Option<i64>; 2] = [None, None];
    let mut counted_at: Option<std::time::Instant> = None;
    loop {
        let mark = store
            .timeline_mark()
            .await
            .map_err(|e| tracing::warn!(error = %e, "could not read the timeline's newest entry"))
            .ok();
        let moved = mark.is_none() || marks.iter().any(|m| *m != mark);
        marks = [marks[1], mark];
        let due = counted_at.is_none_or(|at| at.elapsed() >= RECOUNT_PERIOD);
        let counted = if moved || due {
            match store.open_tickets_by_sla_state().await {
                Ok(counts) => {
                    metrics::set_open_tickets(&counts);
                    counted_at = Some(std::time::Instant::now());
                    true
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not count open tickets for /metrics");
                    // The timeline may have moved meanwhile: count again at the next look.
                    marks = [None, None];
                    false
                }
            }
        } else {
            true
        };
        match store.backlog(Timestamp::now().as_second()).await {
            Ok(backlog) => {
                metrics::set_backlog(backlog);
                if counted {
                    pulse.beat();
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not count the backlog for /metrics"),
        }
        if rest(GAUGES_PERIOD, &mut stop).await {
            return;
        }
    }
}
