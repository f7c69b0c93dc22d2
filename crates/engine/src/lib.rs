//! The engine: the background work of a running desk, as GoAlert's engine does it. Each
//! kind of work is a [`cycle`] — a name, one step and a pacing — that takes its work from
//! database rows with a lease, so a restarted or second instance simply catches up and
//! nothing lives only in memory. This file is the list of them:
//!
//! | cycle | its work | module |
//! |---|---|---|
//! | `sweep` | due timers through the [`Desk`]: breaches, escalation steps, deadlines | [`cycles::sweep`] |
//! | `dispatcher`, `deliverer`, `settler` | outbox notices into deliveries; sending them, pages first; settling sent page messages | [`cycles::outgoing`] |
//! | `mailroom`, `alert_intake`, `chat_intake`, `thread_poster` | what the doors stored: mail, monitoring signals, channel messages; what tickets' threads are owed | [`cycles::intake`] |
//! | `status_clock`, `report_herald`, `postman`, `courier` | maintenances moved on time, status notices, report announcements, letters, account mail (password links, invitations) | [`cycles::publishing`] |
//! | `auditor` | the ledger's incremental audit: new leaves verified against their events and the tree, old ones re-checked slowly | [`cycles::auditor`] |
//! | `janitor`, `gauges` | expired idempotency keys; open tickets and backlog for `/metrics` | [`cycles::upkeep`] |
//! | `notary` | the ledger's tree head signed while the log grows | [`cycles::notary`] |
//!
//! One loop, [`cycle::drive`], runs every cycle: it paces the steps ([`pacing`]: at once
//! while work waits, slowing down to an idle pause when there is none, woken by the store's
//! doorbells, [`Bells`], when this process stored work), records each cycle's steps, items,
//! errors and lag ([`metrics`]), and stops cleanly. One [`Supervisor`] runs the loops: a
//! panic is caught, counted and logged, and the cycle starts again after a back-off; a cycle
//! that made no progress for too long is reported stalled (`/readyz` answers unready).
//!
//! It reads the system clock ([`SystemClock`]). The binary builds an [`Engine`] from the
//! store and the outside systems and starts it beside the web front.

#![warn(missing_docs)]

mod clock;
mod cycle;
mod cycles;
pub mod metrics;
mod pacing;
pub mod supervisor;

pub use clock::SystemClock;
pub use supervisor::{Pulse, Supervisor};

use cycle::supervise;
use cycles::auditor::LedgerAuditor;
use cycles::intake::{ChatIntake, alert_intake, mailroom, thread_poster};
use cycles::notary::NotaryCycle;
use cycles::outgoing::{Deliverer, Dispatcher, settler};
use cycles::publishing::{Postman, StatusClock, courier, report_herald};
use cycles::sweep::Sweep;
use cycles::upkeep::{Gauges, Janitor};
use std::sync::Arc;
use std::time::Duration;
use stringer_app::accounts::mailing::Courier;
use stringer_app::alerts::AlertDesk;
use stringer_app::chat::ChatDesk;
use stringer_app::ledger_audit::{Auditor, LedgerAudit};
use stringer_app::letters::Postman as Letters;
use stringer_app::links::AckLinks;
use stringer_app::mail::intake::MailDesk;
use stringer_app::mail::letters::{Correspondence, InformStore};
use stringer_app::outbox::Sender;
use stringer_app::ports::{Queries, Safeguards};
use stringer_app::postmortem::herald::Herald;
use stringer_app::settle::{Messenger, SettleStore, Settler};
use stringer_app::status::subscribers::Notifier;
use stringer_app::{Desk, Store};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// How the engine runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// The longest pause of the timer sweep: timers written by other instances are seen
    /// within it.
    pub tick: Duration,
    /// Whether pages routed via an org's shared channel are posted there (the channel's app
    /// is configured).
    pub org_channels: bool,
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
    /// Messages from the orgs' shared channels (when the channel's app can read them).
    pub chat: Option<Arc<ChatDesk>>,
    /// Status pages: the clock starts and completes their scheduled maintenances, reminds
    /// subscribers of those about to begin, and sends subscribers their notices.
    pub status: Notifier,
    /// Post-incident reports: the herald announces published ones (the org's shared
    /// channel, its admins' mail).
    pub reports: Herald,
    /// Letters to orgs' people: quarterly reviews mailed when a quarter ends, welcome packets.
    pub letters: Letters,
    /// Account mail: password links, org invitations and their notices.
    pub account_mail: Courier,
    /// The ledger's notary: signs tree heads with the log's key.
    pub notary: Arc<stringer_app::ledger::Notary>,
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
    S: Store + InformStore + SettleStore + Safeguards + Queries + LedgerAudit + Clone + 'static,
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
        let Intakes { mail, alerts, chat, status, reports, letters, account_mail, notary, bells } = intakes;
        let supervisor = Supervisor::new(config.stall_grace);
        let dispatched = Arc::new(Notify::new());
        let (sup, s) = (&supervisor, &stopped);
        let mut tasks = vec![
            supervise(sup, s.clone(), {
                let tick = config.tick;
                move || Sweep { desk: desk.clone(), tick }
            }),
            supervise(sup, s.clone(), {
                let (store, dispatched, written) = (store.clone(), dispatched.clone(), bells.outbox.clone());
                let (correspondence, org_channels) = (config.correspondence.clone(), config.org_channels);
                move || Dispatcher {
                    store: store.clone(),
                    links: links.clone(),
                    correspondence: correspondence.clone(),
                    slack_channels: org_channels,
                    written: written.clone(),
                    dispatched: dispatched.clone(),
                }
            }),
            supervise(sup, s.clone(), {
                let (store, sender) = (store.clone(), Arc::new(outside.clone()) as Arc<dyn Sender>);
                move || Deliverer::new(store.clone(), sender.clone(), dispatched.clone())
            }),
            supervise(sup, s.clone(), {
                let store = store.clone();
                move || settler(Settler::new(store.clone(), outside.clone()))
            }),
            supervise(sup, s.clone(), move || mailroom(mail.clone(), bells.mail.clone())),
            supervise(sup, s.clone(), move || alert_intake(alerts.clone(), bells.signals.clone())),
            supervise(sup, s.clone(), move || StatusClock { status: status.clone() }),
            supervise(sup, s.clone(), move || report_herald(reports.clone())),
            supervise(sup, s.clone(), move || Postman { letters: letters.clone(), reviews_read: None }),
            supervise(sup, s.clone(), move || courier(account_mail.clone())),
            supervise(sup, s.clone(), {
                let (store, expiry) = (store.clone(), config.idempotency_expiry_seconds);
                move || Janitor { store: store.clone(), expiry }
            }),
            supervise(sup, s.clone(), {
                let port = Arc::new(store.clone()) as Arc<dyn LedgerAudit>;
                let auditor = Auditor { port, extend: cycles::auditor::EXTEND, recheck: cycles::auditor::RECHECK };
                move || LedgerAuditor { auditor: auditor.clone(), reported: false, behind: 0 }
            }),
            supervise(sup, s.clone(), move || Gauges::new(store.clone())),
            supervise(sup, s.clone(), move || NotaryCycle { notary: notary.clone() }),
        ];
        // Without the channel's app channel messages wait, stored: there are no chat cycles.
        if let Some(chat) = chat {
            let posting = chat.clone();
            tasks
                .push(supervise(sup, s.clone(), move || ChatIntake { chat: chat.clone(), stored: bells.chat.clone() }));
            tasks.push(supervise(sup, s.clone(), move || thread_poster(posting.clone())));
        }
        Running { stop, tasks, supervisor }
    }
}
