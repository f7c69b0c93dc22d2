//! SLA clocks: one per contract target per ticket. A clock knows its target (length and
//! calendar), when it started counting, the spans it was paused, and whether it was met or
//! breached. Due times follow docs/contract.md: the last instant still within the target.

use crate::contract::{Contract, Measure, Target};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// Where a clock stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    /// Counting towards `due`.
    Running,
    /// Stopped for now (the ticket waits on the customer).
    Paused,
    /// Stopped in time.
    Met,
    /// The due time passed first.
    Breached,
    /// The request was withdrawn before the promise was kept or broken: the customer
    /// resolved the ticket before any response. Neither met nor breached; a reopening makes
    /// it run again (docs/contract.md, "Responding").
    Withdrawn,
}

/// What stopping a clock amounted to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// In time.
    Met,
    /// Past this due time, before its breach was noticed.
    Late(Timestamp),
    /// Withdrawn in time: neither met nor breached.
    Withdrawn,
    /// Nothing new: the clock was met or breached before.
    NothingNew,
}

/// A span during which the clock did not count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    /// From.
    pub from: Timestamp,
    /// Until; `None` while still paused.
    pub to: Option<Timestamp>,
}

/// One target's clock on one ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaClock {
    /// The contract target's name, e.g. "response".
    pub target: String,
    /// What it measures.
    pub measures: Measure,
    /// Whether waiting on the customer pauses it.
    pub pause_while_waiting: bool,
    /// The current cell: length and calendar.
    pub cell: Target,
    /// When counting for the current cell began: the run's start, or the instant a raise of
    /// the severity started the new, shorter target.
    pub anchor: Timestamp,
    /// When this run of the clock began (the ticket's opening; a customer message for
    /// `next_reply`; a reopening for `resolution`): lowering the severity counts from here.
    /// `None` in states stored before it was kept, where it is `anchor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_start: Option<Timestamp>,
    /// Spans not counted, since the run began.
    pub pauses: Vec<Pause>,
    /// The due instant while running; kept once met or breached.
    pub due: Option<Timestamp>,
    /// State.
    pub state: ClockState,
    /// When it was met or (late) stopped.
    pub stopped_at: Option<Timestamp>,
    /// The breach instant: the first second after `due`.
    pub breached_at: Option<Timestamp>,
}

/// The breach instant of a due time: the first whole second past it.
pub fn breach_instant(due: Timestamp) -> Timestamp {
    due + SignedDuration::from_secs(1)
}

impl SlaClock {
    /// A running clock started at `at`.
    pub fn start(
        contract: &Contract,
        target: &str,
        measures: Measure,
        pause_while_waiting: bool,
        cell: Target,
        at: Timestamp,
    ) -> SlaClock {
        let mut clock = SlaClock {
            target: target.to_string(),
            measures,
            pause_while_waiting,
            cell,
            anchor: at,
            run_start: Some(at),
            pauses: Vec::new(),
            due: None,
            state: ClockState::Running,
            stopped_at: None,
            breached_at: None,
        };
        clock.recompute(contract);
        clock
    }

    /// Whether the clock still counts (running or paused).
    pub fn is_active(&self) -> bool {
        matches!(self.state, ClockState::Running | ClockState::Paused)
    }

    /// Target time used between `anchor` and `until`, not counting pauses.
    pub fn consumed(&self, contract: &Contract, until: Timestamp) -> i64 {
        let mut used = contract.elapsed(&self.cell, self.anchor, until);
        for p in &self.pauses {
            let from = p.from.max(self.anchor).min(until);
            let to = p.to.unwrap_or(until).min(until);
            if to > from {
                used -= contract.elapsed(&self.cell, from, to);
            }
        }
        used
    }

    /// Target time left at `now`; negative once past due.
    pub fn remaining(&self, contract: &Contract, now: Timestamp) -> i64 {
        self.cell.within.seconds - self.consumed(contract, now)
    }

    fn recompute(&mut self, contract: &Contract) {
        if self.state != ClockState::Running {
            return;
        }
        let resumed = self.pauses.last().and_then(|p| p.to).unwrap_or(self.anchor).max(self.anchor);
        let consumed = self.consumed(contract, resumed);
        self.due = Some(contract.due_after(&self.cell, resumed, consumed));
    }

    /// Stops counting while the ticket waits.
    pub fn pause(&mut self, at: Timestamp) {
        if self.state == ClockState::Running {
            self.pauses.push(Pause { from: at, to: None });
            self.state = ClockState::Paused;
            self.due = None;
        }
    }

    /// Counts again after a pause.
    pub fn resume(&mut self, contract: &Contract, at: Timestamp) {
        if self.state == ClockState::Paused {
            if let Some(p) = self.pauses.last_mut() {
                p.to = Some(at);
            }
            self.state = ClockState::Running;
            self.recompute(contract);
        }
    }

    /// The clock's promise was fulfilled at `at`: met, or — when `at` is already past due and
    /// the breach timer has not run yet — breached. A breached clock just records when it stopped.
    pub fn stop(&mut self, at: Timestamp) -> Stopped {
        match self.state {
            ClockState::Running | ClockState::Paused => {
                if let Some(p) = self.pauses.last_mut().filter(|p| p.to.is_none()) {
                    p.to = Some(at);
                }
                self.stopped_at = Some(at);
                match self.due {
                    Some(due) if self.state == ClockState::Running && at > due => {
                        self.state = ClockState::Breached;
                        self.breached_at = Some(breach_instant(due));
                        Stopped::Late(due)
                    }
                    _ => {
                        self.state = ClockState::Met;
                        Stopped::Met
                    }
                }
            }
            ClockState::Breached if self.stopped_at.is_none() => {
                self.stopped_at = Some(at);
                Stopped::NothingNew
            }
            _ => Stopped::NothingNew,
        }
    }

    /// The customer withdrew the request at `at` (they resolved the ticket before this
    /// promise was kept): withdrawn, keeping the due time it had (a paused clock's as if it
    /// resumed at `at`) — or breached when `at` is already past due.
    pub fn withdraw(&mut self, contract: &Contract, at: Timestamp) -> Stopped {
        match self.state {
            ClockState::Running if self.due.is_some_and(|due| at > due) => self.stop(at),
            ClockState::Running | ClockState::Paused => {
                if self.state == ClockState::Paused {
                    self.resume(contract, at);
                }
                self.state = ClockState::Withdrawn;
                self.stopped_at = Some(at);
                Stopped::Withdrawn
            }
            _ => self.stop(at),
        }
    }

    /// The ticket was reopened at `at`: a withdrawn clock runs again, due at its original
    /// time if that is still ahead, else a whole target from the reopening. Any other clock
    /// is left as it is.
    pub fn reinstate(&mut self, contract: &Contract, at: Timestamp) {
        if self.state != ClockState::Withdrawn {
            return;
        }
        if self.due.is_some_and(|due| due >= at) {
            self.state = ClockState::Running;
            self.stopped_at = None;
        } else {
            self.restart(contract, at);
        }
    }

    /// Starts counting anew from `at` (a new customer message for `next_reply`, a reopened
    /// ticket for `resolution`): keeps nothing of the previous run.
    pub fn restart(&mut self, contract: &Contract, at: Timestamp) {
        self.anchor = at;
        self.run_start = Some(at);
        self.pauses.clear();
        self.state = ClockState::Running;
        self.stopped_at = None;
        self.breached_at = None;
        self.recompute(contract);
    }

    /// Marks the breach if the clock is running and past due at `now`.
    pub fn check_breach(&mut self, now: Timestamp) -> Option<Timestamp> {
        let due = self.due?;
        if self.state == ClockState::Running && now > due {
            self.state = ClockState::Breached;
            self.breached_at = Some(breach_instant(due));
            return Some(due);
        }
        None
    }

    /// When this run of the clock began.
    pub fn run_started_at(&self) -> Timestamp {
        self.run_start.unwrap_or(self.anchor)
    }

    /// Applies a severity change at `at` (docs/contract.md): a more severe target starts from
    /// the change unless the running due time is earlier; a less severe one counts from the
    /// run's start (the opening) with the new length — also after an earlier raise, whose
    /// starting point it gives up.
    pub fn change_severity(&mut self, contract: &Contract, new_cell: Target, raised: bool, at: Timestamp) {
        if !self.is_active() || new_cell == self.cell {
            return;
        }
        if raised {
            let mut candidate = self.clone();
            candidate.cell = new_cell;
            candidate.anchor = at;
            candidate.recompute(contract);
            let keep_old = if self.state == ClockState::Paused {
                self.remaining(contract, at) <= candidate.cell.within.seconds
            } else {
                self.due <= candidate.due
            };
            if !keep_old {
                *self = candidate;
            }
        } else {
            self.cell = new_cell;
            self.anchor = self.run_started_at();
            self.recompute(contract);
        }
    }
}
