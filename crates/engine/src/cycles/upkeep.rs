//! Keeping the house: the **janitor** forgets expired idempotency keys; the **gauges** count
//! open tickets by SLA state and the backlog (timers due, outbox records pending) for
//! `/metrics`, from the database, so every instance reports the same truth.

use crate::SystemClock;
use crate::cycle::{Cycle, Step};
use crate::metrics;
use crate::pacing::Pacing;
use crate::supervisor::Pulse;
use std::time::{Duration, Instant};
use stringer_app::Clock;
use stringer_app::ports::{Queries, Safeguards};

/// How often the janitor runs.
const JANITOR_PERIOD: Duration = Duration::from_secs(600);
/// How often the gauges look at the database.
const GAUGES_PERIOD: Duration = Duration::from_secs(2);
/// The longest the open-ticket count goes without a recount, moved timeline or not.
const RECOUNT_PERIOD: Duration = Duration::from_secs(60);

/// Purges idempotency keys past their expiry, so the table does not grow without bound.
pub(crate) struct Janitor<S> {
    pub(crate) store: S,
    /// How long a finished key is remembered, in seconds.
    pub(crate) expiry: i64,
}

impl<S: Safeguards + 'static> Cycle for Janitor<S> {
    fn name(&self) -> &'static str {
        "janitor"
    }

    fn pacing(&self) -> Pacing {
        Pacing::new(JANITOR_PERIOD, JANITOR_PERIOD)
    }

    async fn step(&mut self, _pulse: &Pulse) -> Step {
        let before = SystemClock.now_precise().as_second() - self.expiry;
        match self.store.purge_idempotency_keys(before).await {
            Ok(n) => {
                if n > 0 {
                    tracing::info!(purged = n, "expired idempotency keys purged");
                }
                Step { items: n as usize, ..Step::empty() }
            }
            Err(e) => {
                tracing::warn!(error = %e, "purging idempotency keys failed");
                Step::failed()
            }
        }
    }
}

/// Counts the backlog every look and open tickets by SLA state when they may have changed
/// (indexed counts). A ticket's state changes only with an entry on its timeline, so open
/// tickets are counted again only when the timeline's newest entry moved during the last two
/// looks (on PostgreSQL an entry numbered earlier may commit a little later), and at least
/// every [`RECOUNT_PERIOD`]: an idle server does not count its open tickets every look.
pub(crate) struct Gauges<S> {
    pub(crate) store: S,
    /// The timeline's newest entry at the last two looks.
    pub(crate) marks: [Option<i64>; 2],
    /// When open tickets were last counted.
    pub(crate) counted_at: Option<Instant>,
}

impl<S> Gauges<S> {
    /// Gauges over `store`, counting at the first look.
    pub(crate) fn new(store: S) -> Self {
        Gauges { store, marks: [None, None], counted_at: None }
    }
}

impl<S: Queries + 'static> Cycle for Gauges<S> {
    fn name(&self) -> &'static str {
        "gauges"
    }

    fn pacing(&self) -> Pacing {
        Pacing::new(GAUGES_PERIOD, GAUGES_PERIOD)
    }

    async fn step(&mut self, _pulse: &Pulse) -> Step {
        let mark = self
            .store
            .timeline_mark()
            .await
            .map_err(|e| tracing::warn!(error = %e, "could not read the timeline's newest entry"))
            .ok();
        let moved = mark.is_none() || self.marks.iter().any(|m| *m != mark);
        self.marks = [self.marks[1], mark];
        let due = self.counted_at.is_none_or(|at| at.elapsed() >= RECOUNT_PERIOD);
        let counted = if moved || due {
            match self.store.open_tickets_by_sla_state().await {
                Ok(counts) => {
                    metrics::set_open_tickets(&counts);
                    self.counted_at = Some(Instant::now());
                    Step::empty()
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not count open tickets for /metrics");
                    // The timeline may have moved meanwhile: count again at the next look.
                    self.marks = [None, None];
                    Step::failed()
                }
            }
        } else {
            Step::empty()
        };
        let backlog = match self.store.backlog(SystemClock.now_precise().as_second()).await {
            Ok(backlog) => {
                metrics::set_backlog(backlog);
                Step::empty()
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not count the backlog for /metrics");
                Step::failed()
            }
        };
        counted.and(backlog)
    }
}
