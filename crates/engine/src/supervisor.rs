//! One supervisor for the engine's cycles. Each cycle runs in a task of its own; a panic is
//! caught, counted (`stringer_cycle_panics_total{cycle}`), logged, and the cycle is started
//! again after a back-off (1 s, doubling to a minute, back to 1 s once it made progress).
//! Each cycle says when it made progress through its [`Pulse`]
//! (`stringer_cycle_last_progress_seconds{cycle}`); one that made none for longer than two
//! of its periods (one failed round is forgiven) and the supervisor's grace is *stalled*,
//! and `/readyz` answers unready naming it (through the application's [`Liveness`] port).
//! A panic in a task a cycle spawned for one piece of its work counts as the cycle's too.

use crate::metrics;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stringer_app::ports::{Liveness, Stalled};
use tokio::sync::watch;
use tokio::task::{JoinError, JoinHandle};
use tokio::time::Instant;

/// The first pause before a panicked cycle starts again.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest pause before a panicked cycle starts again.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The engine's cycles and their progress; cloned handles share them.
#[derive(Clone)]
pub struct Supervisor {
    grace: Duration,
    cycles: Arc<Mutex<BTreeMap<&'static str, Pulse>>>,
}

/// A cycle's progress: it calls [`Pulse::beat`] after each round that did its work.
#[derive(Clone)]
pub struct Pulse {
    cycle: &'static str,
    /// How long the cycle may go without progress (two of its periods and the supervisor's
    /// grace).
    allowed: Duration,
    last: Arc<Mutex<Instant>>,
    beats: Arc<AtomicU64>,
}

impl Pulse {
    pub(crate) fn new(cycle: &'static str, allowed: Duration) -> Pulse {
        Pulse { cycle, allowed, last: Arc::new(Mutex::new(Instant::now())), beats: Arc::default() }
    }

    /// Records that the cycle made progress now: a round ran to its end without failing.
    pub fn beat(&self) {
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        self.beats.fetch_add(1, Ordering::Relaxed);
        metrics::record_progress(self.cycle);
    }

    /// Records a task the cycle spawned for one piece of its work (a send, a sender's mail)
    /// that ended without finishing: a panic is counted and logged as the cycle's; the work
    /// comes back by its lease.
    pub fn task_failed(&self, error: JoinError) {
        if !error.is_panic() {
            tracing::warn!(cycle = self.cycle, error = %error, "a task of a cycle was cancelled; its work comes back");
            return;
        }
        metrics::record_panic(self.cycle);
        let failure = panic_message(error.into_panic());
        tracing::error!(cycle = self.cycle, panic = failure, "a task of a cycle panicked; its work comes back");
    }

    /// How long since the last progress (or the start, before any).
    fn quiet_for(&self) -> Duration {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).elapsed()
    }

    fn beats(&self) -> u64 {
        self.beats.load(Ordering::Relaxed)
    }
}

impl Supervisor {
    /// A supervisor whose cycles are stalled once they made no progress for two of their
    /// periods plus `grace`.
    pub fn new(grace: Duration) -> Supervisor {
        Supervisor { grace, cycles: Arc::default() }
    }

    /// Runs the cycle `name` — `cycle(pulse)` runs rounds until `stop` is set, resting about
    /// `period` between them — in a task of its own until it returns. A panic is counted and
    /// logged, and `cycle` is called again after the back-off (unless `stop` was set
    /// meanwhile).
    pub(crate) fn spawn<F, Fut>(
        &self,
        name: &'static str,
        period: Duration,
        mut stop: watch::Receiver<bool>,
        mut cycle: F,
    ) -> JoinHandle<()>
    where
        F: FnMut(Pulse) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let pulse = Pulse::new(name, period * 2 + self.grace);
        self.cycles.lock().unwrap_or_else(|e| e.into_inner()).insert(name, pulse.clone());
        metrics::register_cycle(name);
        tokio::spawn(async move {
            let mut backoff = FIRST_BACKOFF;
            loop {
                let beats = pulse.beats();
                let failure = match tokio::spawn(cycle(pulse.clone())).await {
                    Ok(()) => return,
                    Err(e) if e.is_panic() => panic_message(e.into_panic()),
                    // Cancelled: the runtime is shutting down.
                    Err(_) => return,
                };
                if pulse.beats() > beats {
                    backoff = FIRST_BACKOFF;
                }
                metrics::record_panic(name);
                tracing::error!(cycle = name, panic = failure, restart_in = ?backoff, "a cycle panicked; it starts again");
                if *stop.borrow() {
                    return;
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => return,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        })
    }
}

impl Liveness for Supervisor {
    fn stalled(&self) -> Vec<Stalled> {
        let cycles = self.cycles.lock().unwrap_or_else(|e| e.into_inner());
        cycles
            .values()
            .filter_map(|p| {
                let quiet = p.quiet_for();
                (quiet > p.allowed).then(|| Stalled {
                    cycle: p.cycle.to_string(),
                    quiet_seconds: quiet.as_secs(),
                    allowed_seconds: p.allowed.as_secs(),
                })
            })
            .collect()
    }
}

/// What a panic said, when it said it in words.
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(text) => *text,
        Err(payload) => payload.downcast_ref::<&str>().map_or_else(|| "(no message)".into(), |s| (*s).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// The process-wide recorder, installed once for this test binary.
    fn scrape() -> String {
        static HANDLE: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> = std::sync::OnceLock::new();
        HANDLE.get_or_init(|| crate::metrics::install().expect("the recorder installs")).render()
    }

    fn series(text: &str, name: &str) -> Option<f64> {
        text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    }

    #[tokio::test(start_paused = true)]
    async fn a_cycle_that_panics_starts_again_after_a_back_off_and_is_counted() {
        scrape();
        let supervisor = Supervisor::new(Duration::from_secs(5));
        let (stop, stopped) = watch::channel(false);
        let (runs, ran_at) = (Arc::new(AtomicUsize::new(0)), Arc::new(Mutex::new(Vec::new())));
        let started = Instant::now();
        let cycle = {
            let (runs, ran_at, stopped) = (runs.clone(), ran_at.clone(), stopped.clone());
            move |pulse: Pulse| {
                let (runs, ran_at, mut stop) = (runs.clone(), ran_at.clone(), stopped.clone());
                async move {
                    ran_at.lock().unwrap().push(started.elapsed().as_secs());
                    if runs.fetch_add(1, Ordering::SeqCst) < 3 {
                        panic!("injected fault");
                    }
                    loop {
                        pulse.beat();
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                            _ = stop.changed() => return,
                        }
                    }
                }
            }
        };
        let task = supervisor.spawn("flaky", Duration::from_secs(1), stopped, cycle);
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 4, "three panics, three restarts, then it runs");
        assert_eq!(*ran_at.lock().unwrap(), [0, 1, 3, 7], "restarted after 1 s, 2 s, 4 s");
        let text = scrape();
        assert_eq!(series(&text, "stringer_cycle_panics_total{cycle=\"flaky\"}"), Some(3.0), "{text}");
        assert!(series(&text, "stringer_cycle_last_progress_seconds{cycle=\"flaky\"}").is_some_and(|t| t > 0.0));
        assert!(supervisor.stalled().is_empty(), "it makes progress again");
        stop.send(true).unwrap();
        task.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_cycle_without_progress_past_its_allowance_is_stalled() {
        scrape();
        let supervisor = Supervisor::new(Duration::from_secs(5));
        let (stop, stopped) = watch::channel(false);
        let hung = stopped.clone();
        let task = supervisor.spawn("hung", Duration::from_secs(10), stopped, move |_pulse| {
            let mut stop = hung.clone();
            async move {
                let _ = stop.wait_for(|s| *s).await;
            }
        });
        tokio::time::sleep(Duration::from_secs(24)).await;
        assert!(supervisor.stalled().is_empty(), "within two periods and the grace");
        tokio::time::sleep(Duration::from_secs(2)).await;
        let stalled = supervisor.stalled();
        assert_eq!(stalled.len(), 1);
        assert_eq!((stalled[0].cycle.as_str(), stalled[0].allowed_seconds), ("hung", 25));
        assert!(stalled[0].quiet_seconds >= 26);
        stop.send(true).unwrap();
        task.await.unwrap();
    }
}
