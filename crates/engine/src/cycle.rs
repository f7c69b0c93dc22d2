//! The one shape of the engine's background work: a [`Cycle`] is a name, one step and a
//! pacing, and [`drive`] is the one loop that runs any of them — step, count, rest as the
//! pacing says (woken early by the cycle's doorbell), until told to stop. Every cycle so has
//! the same metrics (`stringer_cycle_steps_total`, `…_items_total`, `…_errors_total`,
//! `…_lag_seconds`, by cycle), the same progress reports to the [`Supervisor`] and the same
//! clean stop; a cycle holds only its own work.
//!
//! [`Supervisor`]: crate::Supervisor

use crate::metrics;
use crate::pacing::{Pacing, Round};
use crate::supervisor::{Pulse, Supervisor};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// One kind of background work, run by [`drive`] under the supervisor.
pub(crate) trait Cycle: Send + 'static {
    /// The cycle's name in logs, metrics and `/readyz`.
    fn name(&self) -> &'static str;

    /// How the cycle rests between steps; its idle pause is also its period for the
    /// supervisor (a cycle quiet for two periods and the grace is stalled).
    fn pacing(&self) -> Pacing;

    /// The doorbell that ends a rest early (work this process stored for the cycle), if any.
    fn wake(&self) -> Option<Wake> {
        None
    }

    /// Does one step of the work. Failures are logged by the step, with what failed, and
    /// counted in [`Step::errors`]; the work comes back by its lease.
    fn step(&mut self, pulse: &Pulse) -> impl Future<Output = Step> + Send;

    /// Ends when a piece of work the cycle started in a step and left running (a send)
    /// ends, having recorded it: the rest ends then, so the room it frees is used at once.
    /// Never ends for a cycle that leaves nothing running.
    fn under_way(&mut self, _pulse: &Pulse) -> impl Future<Output = ()> + Send {
        std::future::pending()
    }

    /// Finishes what the cycle started and has not seen end (sends under way) when told to
    /// stop.
    fn finish(&mut self) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// A doorbell: rung when this process stored work for a cycle.
#[derive(Clone)]
pub(crate) struct Wake {
    /// The bell.
    pub(crate) bell: Arc<Notify>,
    /// Whether the bell ends a rest at once. Otherwise not sooner than the busy pause after
    /// the step: under a stream of stored work a bell rung per commit must not turn the cycle
    /// into one small step per item, whose claims would compete with the doors' own inserts
    /// for the writer.
    pub(crate) at_once: bool,
}

/// What one step did.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Step {
    /// Pieces of work handled (timers run, messages claimed, rows sent…).
    pub(crate) items: usize,
    /// How full the step was, for the pacing.
    pub(crate) round: Round,
    /// Parts of the step that failed (each logged by the step).
    pub(crate) errors: usize,
    /// Whether the step did its work (a failed claim or store is no progress; one message
    /// that failed among others is).
    pub(crate) progress: bool,
    /// How late the step's oldest piece of work was picked up, when the cycle knows.
    pub(crate) lag: Option<Duration>,
    /// A rest the cycle asks for instead of its pacing's (the sweep: until the next timer).
    pub(crate) rest: Option<Duration>,
}

impl Step {
    /// A step that handled `items` of a batch of at most `batch`.
    pub(crate) fn of(items: usize, batch: i64) -> Step {
        Step { items, round: Round::of(items, batch), errors: 0, progress: true, lag: None, rest: None }
    }

    /// A step that did nothing and failed nothing.
    pub(crate) fn empty() -> Step {
        Step::of(0, 1)
    }

    /// A step whose work failed (logged by the step): no progress, tried again after the
    /// busy pause.
    pub(crate) fn failed() -> Step {
        Step { items: 0, round: Round::Worked, errors: 1, progress: false, lag: None, rest: None }
    }

    /// A step that handled `items` and had more waiting (go again at once).
    pub(crate) fn more(items: usize) -> Step {
        Step { round: Round::Full, ..Step::of(items, i64::MAX) }
    }

    /// This step and another part of the same step, as one.
    pub(crate) fn and(self, other: Step) -> Step {
        Step {
            items: self.items + other.items,
            round: self.round.and(other.round),
            errors: self.errors + other.errors,
            progress: self.progress && other.progress,
            lag: self.lag.max(other.lag),
            rest: match (self.rest, other.rest) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        }
    }

    /// The step with `errors` more failed pieces of work (each logged; they come back by
    /// their lease), still progress: a retry is asked for soon.
    pub(crate) fn with_errors(self, errors: usize) -> Step {
        if errors == 0 {
            return self;
        }
        Step { errors: self.errors + errors, round: self.round.and(Round::Worked), ..self }
    }

    /// The step, with how late its oldest piece of work was picked up.
    pub(crate) fn with_lag(self, lag: Option<Duration>) -> Step {
        Step { lag, ..self }
    }

    /// The step, resting `rest` afterwards whatever the pacing says.
    pub(crate) fn resting(self, rest: Duration) -> Step {
        Step { rest: Some(rest), ..self }
    }
}

/// Runs `cycle` until `stop` is set: a step, its metrics and progress (a step without
/// errors is progress), then a rest — the step's own, else its pacing's, cut short by the
/// cycle's doorbell — and on stop, [`Cycle::finish`].
pub(crate) async fn drive<C: Cycle>(mut cycle: C, pulse: Pulse, mut stop: watch::Receiver<bool>) {
    let name = cycle.name();
    let mut pacing = cycle.pacing();
    let wake = cycle.wake();
    while !*stop.borrow() {
        let started = tokio::time::Instant::now();
        let step = cycle.step(&pulse).await;
        metrics::record_step(name, step.items, step.errors, step.lag, started.elapsed());
        if step.progress {
            pulse.beat();
        }
        let pause = pacing.after(step.round);
        let pause = step.rest.unwrap_or(pause);
        let least = match &wake {
            Some(w) if w.at_once => Duration::ZERO,
            _ => pacing.busy().min(pause),
        };
        if rest(least, &mut stop).await {
            break;
        }
        let more = pause - least;
        let woken = async {
            match &wake {
                Some(w) => w.bell.notified().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(more) => {}
            _ = woken => {}
            _ = cycle.under_way(&pulse) => {}
            _ = stop.changed() => break,
        }
    }
    cycle.finish().await;
}

/// Runs a [`Cycle`] made by `make` (made again after a panic) under `supervisor`, as
/// [`Supervisor::spawn`] runs a cycle function, with its pacing's longest pause as its period.
pub(crate) fn supervise<C: Cycle>(
    supervisor: &Supervisor,
    stop: watch::Receiver<bool>,
    mut make: impl FnMut() -> C + Send + 'static,
) -> JoinHandle<()> {
    let first = make();
    let (name, period) = (first.name(), first.pacing().longest());
    let mut spare = Some(first);
    let stopped = stop.clone();
    supervisor.spawn(name, period, stop, move |pulse| {
        let cycle = spare.take().unwrap_or_else(&mut make);
        drive(cycle, pulse, stopped.clone())
    })
}

/// Waits `pause`, or until told to stop; true when told to stop.
pub(crate) async fn rest(pause: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    if *stop.borrow() {
        return true;
    }
    if pause.is_zero() {
        return false;
    }
    tokio::select! {
        _ = tokio::time::sleep(pause) => false,
        _ = stop.changed() => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A cycle that replays a script of steps and records when each ran.
    struct Scripted {
        steps: Vec<Step>,
        ran_at: Arc<Mutex<Vec<u128>>>,
        started: tokio::time::Instant,
        wake: Option<Wake>,
    }

    impl Cycle for Scripted {
        fn name(&self) -> &'static str {
            "scripted"
        }
        fn pacing(&self) -> Pacing {
            Pacing::new(Duration::from_millis(100), Duration::from_millis(800))
        }
        fn wake(&self) -> Option<Wake> {
            self.wake.clone()
        }
        async fn step(&mut self, _pulse: &Pulse) -> Step {
            self.ran_at.lock().unwrap().push(self.started.elapsed().as_millis());
            if self.steps.is_empty() { Step::empty() } else { self.steps.remove(0) }
        }
    }

    fn scripted(steps: Vec<Step>, wake: Option<Wake>) -> (Scripted, Arc<Mutex<Vec<u128>>>) {
        let ran_at = Arc::new(Mutex::new(Vec::new()));
        let cycle = Scripted { steps, ran_at: ran_at.clone(), started: tokio::time::Instant::now(), wake };
        (cycle, ran_at)
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_step_goes_again_at_once_work_rests_busy_and_empty_steps_slow_down() {
        let (cycle, ran_at) = scripted(vec![Step::of(10, 10), Step::of(3, 10), Step::failed()], None);
        let (stop, stopped) = watch::channel(false);
        let pulse = Pulse::new("scripted", Duration::from_secs(5));
        let task = tokio::spawn(drive(cycle, pulse, stopped));
        tokio::time::sleep(Duration::from_millis(2000)).await;
        stop.send(true).unwrap();
        task.await.unwrap();
        // full → 0, worked → 100, failed → 100, then empty: 100, 200, 400, 800.
        assert_eq!(*ran_at.lock().unwrap(), [0, 0, 100, 200, 300, 500, 900, 1700]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_doorbell_ends_a_rest_after_the_busy_pause_or_at_once_when_asked() {
        for (at_once, expected) in [(false, [0, 100, 200]), (true, [0, 100, 130])] {
            let bell = Arc::new(Notify::new());
            let (cycle, ran_at) = scripted(vec![], Some(Wake { bell: bell.clone(), at_once }));
            let (stop, stopped) = watch::channel(false);
            let pulse = Pulse::new("scripted", Duration::from_secs(5));
            let task = tokio::spawn(drive(cycle, pulse, stopped));
            // Empty steps rest 100, 200, …: the third step is due at 300 ms; rung at 130 ms.
            tokio::time::sleep(Duration::from_millis(130)).await;
            bell.notify_one();
            tokio::time::sleep(Duration::from_millis(90)).await;
            stop.send(true).unwrap();
            task.await.unwrap();
            assert_eq!(*ran_at.lock().unwrap(), expected, "at once: {at_once}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_step_may_ask_for_its_own_rest() {
        let (cycle, ran_at) = scripted(vec![Step::empty().resting(Duration::from_millis(50))], None);
        let (stop, stopped) = watch::channel(false);
        let pulse = Pulse::new("scripted", Duration::from_secs(5));
        let task = tokio::spawn(drive(cycle, pulse, stopped));
        tokio::time::sleep(Duration::from_millis(120)).await;
        stop.send(true).unwrap();
        task.await.unwrap();
        assert_eq!(*ran_at.lock().unwrap(), [0, 50]);
    }

    #[test]
    fn two_parts_of_a_step_add_up_to_the_busier_one() {
        let a = Step::of(3, 10).with_lag(Some(Duration::from_millis(5)));
        let b = Step::of(10, 10).resting(Duration::from_secs(1)).with_errors(1);
        let both = a.and(b);
        assert_eq!((both.items, both.round, both.errors, both.progress), (13, Round::Full, 1, true));
        assert!(!Step::failed().and(Step::more(2)).progress);
        assert_eq!((both.lag, both.rest), (Some(Duration::from_millis(5)), Some(Duration::from_secs(1))));
        assert_eq!(Step::empty().with_errors(2).round, Round::Worked);
    }
}
