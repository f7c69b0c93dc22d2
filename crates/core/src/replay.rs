//! Replaying one ticket's recorded history under a contract, as the server would have decided
//! it. The inputs are what people did — the events of each recorded change, in commit order;
//! what the rules caused (notices, timers, the ticket's state) is recomputed through the very
//! functions the server's desk decides with: [`decide_events`], [`decide_timers`],
//! [`route_notices`] and [`apply_timer_ops`]. No store, no clock: a ticket's replay needs
//! its inputs, the contract, its org and the rosters its notices are routed with, and
//! tickets never influence each other in the rules, so they replay one by one.
//!
//! [`TicketRun::ideal`] fires each timer at its due instant, as `stringer simulate` does:
//! before a change at `t`, the timers due strictly before `t`, one instant at a time; the
//! timers due at one instant run together as one sweep at that instant runs them. So at one
//! instant events come before timers, and no timer fires inside a change.
//!
//! An event the rules refuse under the replay's contract (a report the contract no longer
//! owes) is skipped and kept in [`TicketRun::skipped`], as the server would have refused it;
//! the rest of its change still applies. A ticket the contract does not cover (a tier or
//! severity it lacks) stops the run: [`TicketRun::uncovered`] says why, and the run is not
//! to be compared — never half replayed, never a panic.

use crate::contract::{Contract, Uncovered};
use crate::event::{Event, Notice, TimerKind, apply_timer_ops};
use crate::routing::{Rosters, route_notices};
use crate::ticket::{Before, OrgProfile, Rejected, RuleError, Ticket, decide_events, decide_timers};
use jiff::Timestamp;
use std::collections::BTreeMap;

/// What a ticket is replayed under.
#[derive(Clone, Copy)]
pub struct Setting<'a> {
    /// The contract whose rules decide.
    pub contract: &'a Contract,
    /// The ticket's org as it stood when the ticket was opened (its tier then).
    pub org: &'a OrgProfile,
    /// The org's roster by instant: a change's notices are routed with the roster at the
    /// change's instant, as the server routes with the roster it reads when it commits.
    pub rosters: &'a dyn Rosters,
}

/// An input the rules refused under the replay's contract, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Skipped {
    /// The event, as recorded.
    pub event: Event,
    /// The rules' refusal.
    pub reason: Rejected,
}

/// One ticket replayed: its state, pending timers and every notice its rules decided, in the
/// order they were decided (routed).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TicketRun {
    ticket: Option<Ticket>,
    timers: BTreeMap<TimerKind, Timestamp>,
    notices: Vec<Notice>,
    skipped: Vec<Skipped>,
    uncovered: Option<Uncovered>,
}

impl TicketRun {
    /// A run that has replayed nothing yet.
    pub fn new() -> TicketRun {
        TicketRun::default()
    }

    /// Replays a ticket's recorded changes (each the events recorded together, in commit
    /// order) in the ideal schedule: before each change, the timers due strictly before its
    /// first event's instant; after the last, the timers due up to `until`, inclusive.
    pub fn ideal<'e>(
        setting: Setting<'_>,
        changes: impl IntoIterator<Item = &'e [Event]>,
        until: Timestamp,
    ) -> TicketRun {
        let mut run = TicketRun::new();
        for events in changes {
            let Some(first) = events.first() else { continue };
            run.fire_before(setting, first.at);
            run.change(setting, events);
        }
        run.fire_through(setting, until);
        run
    }

    /// Applies one recorded change: its events decided as one change (opening the ticket if
    /// there is none yet), its notices routed with the roster at its last event's instant
    /// (the change's instant), its timer changes kept. An event the rules refuse is skipped
    /// and the rest of the change applied; a ticket the contract does not cover stops the run.
    pub fn change(&mut self, setting: Setting<'_>, events: &[Event]) {
        let mut kept: Option<Vec<Event>> = None;
        while self.uncovered.is_none() {
            let events = kept.as_deref().unwrap_or(events);
            let Some(last) = events.last() else { return };
            let before = match &self.ticket {
                Some(ticket) => Before::Existing(ticket),
                None => Before::New(setting.org),
            };
            match decide_events(setting.contract, before, events) {
                Ok((ticket, mut decision)) => {
                    route_notices(setting.rosters.at(last.at), &mut decision.notices);
                    apply_timer_ops(&mut self.timers, &decision.timers);
                    self.notices.extend(decision.notices);
                    self.ticket = Some(ticket);
                    return;
                }
                Err(RuleError::Uncovered(uncovered)) => self.uncovered = Some(uncovered),
                Err(RuleError::Rejected(reason)) => {
                    let mut rest = events.to_vec();
                    let event = rest.remove(self.refused(setting, events));
                    self.skipped.push(Skipped { event, reason });
                    kept = Some(rest);
                }
            }
        }
    }

    /// Which of a change's events the rules refuse first: the change applies one event
    /// after another, so it is the shortest refused beginning's last.
    fn refused(&self, setting: Setting<'_>, events: &[Event]) -> usize {
        let before = || match &self.ticket {
            Some(ticket) => Before::Existing(ticket),
            None => Before::New(setting.org),
        };
        (1..events.len())
            .find(|&n| decide_events(setting.contract, before(), &events[..n]).is_err())
            .map_or(events.len() - 1, |n| n - 1)
    }

    /// Fires the ticket's timers due strictly before `t`, earliest instant first, each
    /// instant as one sweep then.
    pub fn fire_before(&mut self, setting: Setting<'_>, t: Timestamp) {
        self.fire_while(setting, |at| at < t);
    }

    /// Fires the ticket's timers due up to `t`, inclusive, earliest instant first, each
    /// instant as one sweep then.
    pub fn fire_through(&mut self, setting: Setting<'_>, t: Timestamp) {
        self.fire_while(setting, |at| at <= t);
    }

    fn fire_while(&mut self, setting: Setting<'_>, go: impl Fn(Timestamp) -> bool) {
        while self.uncovered.is_none() {
            match self.timers.values().min() {
                Some(&next) if go(next) => self.sweep(setting, next),
                _ => return,
            }
        }
    }

    /// Runs what a sweep at `now` runs of this ticket: every timer due by then, by due
    /// instant then kind, as one change, routed with the roster at `now`; then again while
    /// that change left timers due by `now`.
    pub fn sweep(&mut self, setting: Setting<'_>, now: Timestamp) {
        while self.uncovered.is_none() {
            let mut due: Vec<(Timestamp, &TimerKind)> =
                self.timers.iter().filter(|(_, at)| **at <= now).map(|(kind, at)| (*at, kind)).collect();
            if due.is_empty() {
                return;
            }
            due.sort();
            let kinds: Vec<TimerKind> = due.into_iter().map(|(_, kind)| kind.clone()).collect();
            let Some(ticket) = self.ticket.as_mut() else { return };
            let roster = setting.rosters.at(now);
            for mut run in decide_timers(setting.contract, ticket, &kinds, now) {
                if let Some(uncovered) = run.dropped {
                    self.uncovered = Some(uncovered);
                    return;
                }
                route_notices(roster, &mut run.notices);
                apply_timer_ops(&mut self.timers, &run.ops);
                self.notices.extend(run.notices);
            }
        }
    }

    /// The ticket as replayed so far (none before its opening applied).
    pub fn ticket(&self) -> Option<&Ticket> {
        self.ticket.as_ref()
    }

    /// Its pending timers: when each kind fires.
    pub fn timers(&self) -> &BTreeMap<TimerKind, Timestamp> {
        &self.timers
    }

    /// Every notice decided so far, routed, in the order decided.
    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }

    /// The inputs the rules refused, in the order met.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// Why the contract does not cover the ticket, if it stopped the run: such a run is not
    /// comparable.
    pub fn uncovered(&self) -> Option<&Uncovered> {
        self.uncovered.as_ref()
    }
}

#[cfg(test)]
mod tests;
