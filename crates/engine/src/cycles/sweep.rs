//! The timer sweep: runs due timers through the [`Desk`] (breaches, escalation steps, report
//! and bridge deadlines), a batch per step, again at once while timers are due; then rests
//! until the next timer falls due, but never longer than its tick, so timers written by other
//! instances (or by requests on this one) are seen within the tick. Each batch commits per
//! ticket, so a stop between steps leaves nothing half-done, and the next start catches up.

use crate::SystemClock;
use crate::cycle::{Cycle, Step};
use crate::metrics;
use crate::pacing::Pacing;
use crate::supervisor::Pulse;
use std::sync::Arc;
use std::time::Duration;
use stringer_app::Clock;
use stringer_app::{Desk, Store};

/// The shortest rest between two sweeps, whatever the next timer's instant.
const LEAST_REST: Duration = Duration::from_millis(20);

/// The sweep over `desk`'s timers.
pub(crate) struct Sweep<S: Store + 'static> {
    pub(crate) desk: Arc<Desk<S, SystemClock>>,
    /// The longest rest.
    pub(crate) tick: Duration,
}

impl<S: Store + 'static> Cycle for Sweep<S> {
    fn name(&self) -> &'static str {
        "sweep"
    }

    fn pacing(&self) -> Pacing {
        Pacing::new(LEAST_REST, self.tick)
    }

    async fn step(&mut self, _pulse: &Pulse) -> Step {
        match self.desk.run_due_batch().await {
            Ok(fired) if !fired.is_empty() => {
                let now = SystemClock.now_precise();
                metrics::record_sweep(&fired, now);
                let lag = fired.iter().map(|f| now.duration_since(f.timer.at).as_secs_f64().max(0.0)).reduce(f64::max);
                Step::more(fired.len()).with_lag(lag.map(Duration::from_secs_f64))
            }
            Ok(_) => {
                let rest = match self.desk.next_timer_at().await {
                    Ok(Some(next)) => {
                        let until = next.duration_since(SystemClock.now_precise()).as_secs_f64().max(0.0);
                        self.tick.min(Duration::from_secs_f64(until))
                    }
                    _ => self.tick,
                };
                Step::empty().resting(rest.max(LEAST_REST))
            }
            Err(e) => {
                tracing::warn!(error = %e, "timer sweep failed; retrying");
                Step::failed().resting(self.tick)
            }
        }
    }
}
