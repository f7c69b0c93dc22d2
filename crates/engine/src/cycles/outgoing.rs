//! The pages' way out: the **dispatcher** turns outbox notices into deliveries (and customer
//! updates into letters); the **deliverer** sends due deliveries, many at once and a few per
//! destination, pages first, so a slow receiver delays no one else's page; the **settler**
//! settles sent page messages once paging is over.

use crate::SystemClock;
use crate::cycle::{Cycle, Step, Wake};
use crate::cycles::publishing::{Sending, SendsDue};
use crate::metrics;
use crate::pacing::{Pacing, Round};
use crate::supervisor::Pulse;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use stringer_app::Clock;
use stringer_app::StoreError;
use stringer_app::delivery::{
    DeliveryCarrier, DeliveryStore, Dispatched, InFlight, MethodKind, claim_due, dispatch, send,
};
use stringer_app::links::AckLinks;
use stringer_app::mail::letters::{Correspondence, InformStore, dispatch_letters};
use stringer_app::outbox::{Decision, Sender};
use stringer_app::settle::{Messenger, SETTLE, SettleStore, Settler};
use tokio::sync::Notify;
use tokio::task::{JoinError, JoinSet};

/// Outbox notices turned into deliveries per step.
const DISPATCH_BATCH: i64 = 200;
/// The pacing of the dispatcher and the deliverer: woken at once by work (the outbox's
/// doorbell, new deliveries, a send ending), polling for other instances' work at most a
/// second apart.
const OUTBOX_PACE: Pacing = Pacing::new(Duration::from_millis(200), Duration::from_secs(1));
/// The pacing of the settler (settling is tidying up, never urgent).
const SETTLE_PACE: Pacing = Pacing::new(Duration::from_millis(200), Duration::from_secs(2));

/// Turns outbox notices into deliveries and customer updates into letters, as soon as a
/// commit of this process wrote some (the outbox's doorbell), and rings the deliverer's bell
/// when it made deliveries. It only reads and writes the database, so no receiver can hold
/// it up.
pub(crate) struct Dispatcher<S> {
    pub(crate) store: S,
    pub(crate) links: AckLinks,
    /// Our mail domains and reply-address signer: customer letters are made when set.
    pub(crate) correspondence: Option<Correspondence>,
    /// Whether pages routed via an org's Slack channel are posted there.
    pub(crate) slack_channels: bool,
    /// The outbox's doorbell.
    pub(crate) written: Arc<Notify>,
    /// The deliverer's bell.
    pub(crate) dispatched: Arc<Notify>,
}

impl<S: InformStore + 'static> Cycle for Dispatcher<S> {
    fn name(&self) -> &'static str {
        "dispatcher"
    }

    fn pacing(&self) -> Pacing {
        OUTBOX_PACE
    }

    fn wake(&self) -> Option<Wake> {
        Some(Wake { bell: self.written.clone(), at_once: false })
    }

    async fn step(&mut self, _pulse: &Pulse) -> Step {
        let now = SystemClock.now_precise();
        let pages = dispatch(&self.store, &self.links, self.slack_channels, now, DISPATCH_BATCH).await;
        let letters =
            dispatch_letters(&self.store, &self.links, self.correspondence.as_ref(), now, DISPATCH_BATCH).await;
        let step = dispatched("notices", pages).and(dispatched("customer letters", letters));
        // The deliverer claims only when there is something new to send.
        if step.items > 0 {
            self.dispatched.notify_one();
        }
        step
    }
}

/// The step of one kind of dispatch: its notices against the batch, its deliveries made.
fn dispatched(what: &str, result: Result<Dispatched, StoreError>) -> Step {
    match result {
        Ok(d) => Step { items: d.deliveries, ..Step::of(d.notices, DISPATCH_BATCH) },
        Err(e) => {
            tracing::warn!(error = %e, "dispatching {what} failed; retrying");
            Step::failed()
        }
    }
}

/// What one send ended with: the delivery, its channel and the outcome recorded.
type Sent = (String, MethodKind, Result<Decision, StoreError>);

/// Sends due deliveries: claims as many as there is room for ([`InFlight::deliveries`]: at
/// most a `DELIVERIES` batch under way, `PER_DESTINATION` to one receiver, pages first) and
/// sends each at once in a task of its own, through the outbox's one [`Sender`]; claims
/// again whenever a send ends, the dispatcher made deliveries, or its pause passed (retries
/// falling due). A claim's lease covers its one send, so a crash mid-send leaves the
/// delivery to be retried (with the same idempotency key) once the lease ends. On stop, the
/// sends under way are finished first.
pub(crate) struct Deliverer<S> {
    carrier: DeliveryCarrier<S>,
    /// Rung by the dispatcher when it made deliveries.
    dispatched: Arc<Notify>,
    in_flight: InFlight,
    sends: JoinSet<Sent>,
    destinations: HashMap<tokio::task::Id, String>,
}

impl<S> Deliverer<S> {
    /// A deliverer sending `store`'s deliveries through `outside`, woken by `dispatched`.
    pub(crate) fn new(store: S, outside: Arc<dyn Sender>, dispatched: Arc<Notify>) -> Self {
        Deliverer {
            carrier: DeliveryCarrier { store, sender: outside },
            dispatched,
            in_flight: InFlight::deliveries(),
            sends: JoinSet::new(),
            destinations: HashMap::new(),
        }
    }

    /// Records a send that ended, freeing its destination's room.
    fn ended(&mut self, done: Result<(tokio::task::Id, Sent), JoinError>, pulse: &Pulse) {
        let task = match &done {
            Ok((task, _)) => *task,
            Err(e) => e.id(),
        };
        if let Some(destination) = self.destinations.remove(&task) {
            self.in_flight.done(&destination);
        }
        match done {
            Ok((_, (_, kind, Ok(outcome)))) => metrics::record_delivery(kind, &outcome),
            Ok((_, (id, _, Err(e)))) => {
                tracing::warn!(error = %e, delivery = id, "recording a delivery failed; it is sent again after its lease");
            }
            Err(e) => pulse.task_failed(e),
        }
    }
}

impl<S> Cycle for Deliverer<S>
where
    S: DeliveryStore + Clone + 'static,
{
    fn name(&self) -> &'static str {
        "deliverer"
    }

    fn pacing(&self) -> Pacing {
        OUTBOX_PACE
    }

    fn wake(&self) -> Option<Wake> {
        Some(Wake { bell: self.dispatched.clone(), at_once: true })
    }

    async fn step(&mut self, pulse: &Pulse) -> Step {
        while let Some(done) = self.sends.try_join_next_with_id() {
            self.ended(done, pulse);
        }
        let now = SystemClock.now_precise();
        let claimed = match claim_due(&self.carrier.store, &mut self.in_flight, now).await {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = %e, "claiming deliveries failed; retrying");
                return Step::failed();
            }
        };
        let busy = !claimed.is_empty() || !self.sends.is_empty();
        let lag = claimed.iter().map(|d| now.duration_since(d.due).as_secs_f64().max(0.0)).reduce(f64::max);
        let items = claimed.len();
        for d in claimed {
            metrics::record_delivery_start(d.parcel.urgency, d.due, now);
            let carrier = self.carrier.clone();
            let destination = d.destination.clone();
            let task =
                self.sends.spawn(async move { (d.id.clone(), d.parcel.kind, send(&carrier, &SystemClock, &d).await) });
            self.destinations.insert(task.id(), destination);
        }
        let step = Step { items, round: if busy { Round::Worked } else { Round::Empty }, ..Step::empty() };
        step.with_lag(lag.map(Duration::from_secs_f64))
    }

    async fn under_way(&mut self, pulse: &Pulse) {
        match self.sends.join_next_with_id().await {
            Some(done) => self.ended(done, pulse),
            None => std::future::pending().await,
        }
    }

    async fn finish(&mut self) {
        while let Some(done) = self.sends.join_next().await {
            if let Ok((id, _, Err(e))) = done {
                tracing::warn!(error = %e, delivery = id, "recording a delivery failed; it is sent again after its lease");
            }
        }
    }
}

impl<S: SettleStore + 'static, M: Messenger + 'static> SendsDue for Settler<S, M> {
    async fn send_due(&self, now: i64) -> Result<usize, String> {
        let round = Settler::send_due(self, now).await.map_err(|e| e.to_string())?;
        metrics::record_settled(self.take_settled());
        Ok(round.claimed)
    }
}

/// The settler: settles sent page messages once paging is over (the outbox's settle jobs),
/// at [`SETTLE_PACE`]. A crash mid-settle leaves the job to come back when its lease ends.
pub(crate) fn settler<S: SettleStore + 'static, M: Messenger + 'static>(
    settler: Settler<S, M>,
) -> Sending<Settler<S, M>> {
    Sending {
        name: "settler",
        what: "page message settlements",
        batch: SETTLE.batch,
        pacing: SETTLE_PACE,
        sender: settler,
    }
}
