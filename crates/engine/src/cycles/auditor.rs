//! The **auditor**: the ledger's incremental audit (docs/ledger.md "Audit";
//! `stringer_app::ledger_audit::Auditor`). Each step verifies up to [`EXTEND`] leaves appended
//! since the last (each recomputed from its event, the tree from the leaves, the stored
//! subtrees and frontier compared) and re-checks [`RECHECK`] leaves verified before against
//! their events, going round the log. Its progress is a database row, so a restarted or second
//! instance goes on where it was. A mismatch sets `stringer_ledger_audit_mismatch` to 1, is
//! logged as an error naming the event, and is stored for the admin pages' banner.
//!
//! Pacing: a step every [`BUSY`] while new leaves wait and the audit gains on them — never at
//! once. While writes outpace it (more leaves wait after a step than after the one before) it
//! yields to them: its pause doubles up to [`IDLE`], so under a burst it re-hashes at most
//! [`EXTEND`] + [`RECHECK`] leaves per [`IDLE`] instead of per second rather than competing
//! with intake for the CPU (it re-hashes every leaf, as the append did: at full pace that cost
//! ticket creation 5 % on SQLite, `bench/load_pair.sh`), and it catches up at a step a second
//! once the burst is over — then slowing to [`IDLE`]; the re-check is not work for the pacing,
//! so an idle server re-reads [`RECHECK`] leaves per [`IDLE`] (a million leaves about every
//! three hours), not the whole log each step.

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
    /// The leaves left to verify after the last step.
    pub(crate) behind: u64,
}

/// What a step that verified `extended` new leaves, leaving `behind` to verify (`was` after
/// the step before), was for the pacing: work while it gains on the writes, none when there
/// were no new leaves or the writes outpace it (the pause grows: see the module docs).
fn round(extended: u64, behind: u64, was: u64) -> Round {
    match extended {
        0 => Round::Empty,
        _ if behind > was => Round::Empty,
        _ => Round::Worked,
    }
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
                let round = round(stepped.extended, stepped.behind, self.behind);
                self.behind = stepped.behind;
                Step { round, ..Step::of((stepped.extended + stepped.rechecked) as usize, i64::MAX) }
            }
            Err(e) => {
                tracing::warn!(error = %e, "the ledger audit could not read the database");
                Step::failed()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_yields_to_writes_that_outpace_it() {
        let cases = [
            // (verified now, left to verify, left after the step before) → the round
            (0, 0, 0, Round::Empty),              // nothing new: slow down to the idle pause
            (500, 0, 0, Round::Worked),           // caught up: a step a second
            (2_000, 3_000, 5_000, Round::Worked), // gaining on the writes: keep going
            (2_000, 5_000, 5_000, Round::Worked), // keeping level
            (2_000, 9_000, 5_000, Round::Empty),  // outpaced: yield, the pause doubles
            (0, 9_000, 9_000, Round::Empty),
        ];
        for (extended, behind, was, expected) in cases {
            assert_eq!(round(extended, behind, was), expected, "{extended} verified, {behind} left (was {was})");
        }
    }
}
