//! The **auditor**: the ledger's incremental audit (docs/ledger.md "Audit";
//! `stringer_app::ledger_audit::Auditor`). Each step verifies up to [`EXTEND`] leaves appended
//! since the last (each recomputed from its event, the tree from the leaves, the stored
//! subtrees and frontier compared) and re-checks [`RECHECK`] leaves verified before against
//! their events, going round the log. Its progress is a database row, so a restarted or second
//! instance goes on where it was. A mismatch sets `stringer_ledger_audit_mismatch` to 1, is
//! logged as an error naming the event, and is stored for the admin pages' banner.
//!
//! Pacing: a step every [`BUSY`] while new leaves wait — never at once, so under a burst of
//! writes the audit takes at most [`EXTEND`] leaves a second and falls behind rather than
//! competing with intake for the CPU (it re-hashes every leaf, as the append did), and catches
//! up when the burst is over — then slowing to [`IDLE`]; the re-check is not work for the
//! pacing, so an idle server re-reads [`RECHECK`] leaves per [`IDLE`] (a million leaves about
//! every three hours), not the whole log each step.

use crate::SystemClock;
use crate::cycle::{Cycle, Step};
use crate::metrics;
use crate::pacing::{Pacing, Round};
use crate::supervisor::Pulse;
use std::time::Duration;
use stringer_app::ledger_audit::Auditor;
use stringer_app::{Clock, StoreError};

/// New leaves verified per step, at most.
pub(crate) const EXTEND: u64 = 2_000;
/// Leaves verified before re-checked per step.
pub(crate) const RECHECK: u64 = 1_000;
/// The pause after a step that found new leaves.
const BUSY: Duration = Duration::from_secs(1);
/// The longest pause.
const IDLE: Duration = Duration::from_secs(10);

/// The incremental audit, as a cycle.
pub(crate) struct LedgerAuditor {
    pub(crate) auditor: Auditor,
    /// Whether this process has logged the stored finding.
    pub(crate) reported: bool,
}

impl Cycle for LedgerAuditor {
    fn name(&self) -> &'static str {
        "auditor"
    }

    fn pacing(&self) -> Pacing {
        Pacing::new(BUSY, IDLE)
    }

    async fn step(&mut self, _pulse: &Pulse) -> Step {
        // A step re-hashes thousands of leaves: on a runtime worker that would hold the
        // requests and the committer scheduled there for milliseconds at a time, so it runs
        // on a blocking thread (its reads still go through the runtime's driver).
        let (auditor, now) = (self.auditor.clone(), SystemClock.now_precise().as_second());
        let stepped =
            tokio::task::spawn_blocking(move || tokio::runtime::Handle::current().block_on(auditor.step(now))).await;
        let stepped =
            stepped.unwrap_or_else(|e| Err(StoreError::Backend(format!("the ledger audit's step stopped: {e}"))));
        match stepped {
            Ok(stepped) => {
                metrics::set_ledger_audit_mismatch(stepped.finding.is_some());
                if let Some(finding) = &stepped.finding
                    && !self.reported
                {
                    tracing::error!(finding = %finding, "the ledger no longer matches the stored events");
                    self.reported = true;
                }
                let round = match stepped.extended {
                    0 => Round::Empty,
                    _ => Round::Worked,
                };
                Step { round, ..Step::of((stepped.extended + stepped.rechecked) as usize, i64::MAX) }
            }
            Err(e) => {
                tracing::warn!(error = %e, "the ledger audit could not read the database");
                Step::failed()
            }
        }
    }
}
