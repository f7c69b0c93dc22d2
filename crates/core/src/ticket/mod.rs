//! A ticket's state and the rules that move it. Pure: every function takes the contract,
//! the org and the current instant, mutates the ticket and returns a [`Decision`] (notices to
//! record and deliver, timers to set or cancel).
//!
//! The rules by concern: SLA clocks and responses here; [`escalation`] (pages and the queue),
//! [`customer_page`] (when the customer may page on-call), [`bridge`] (the security-incident
//! bridge promise) and [`report`] (post-incident reports).

mod bridge;
mod customer_page;
mod escalation;
pub mod inform;
mod report;

pub use bridge::Bridge;
pub use customer_page::PageInFlight;
pub use escalation::Escalation;
pub use report::Report;

use crate::contract::{Contract, Measure, Uncovered};
use crate::event::{Decision, Event, EventKind, Notice, NoticeBody, TimerKind, TimerOp};
use crate::ids::{Deployment, Intake, OrgSlug, Severity, TicketId, Tier};
use crate::sla::{ClockState, SlaClock, Stopped, breach_instant};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// What the rules need to know about a ticket's org.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgProfile {
    /// The org's slug.
    pub slug: OrgSlug,
    /// Its tier.
    pub tier: Tier,
    /// How its platform is deployed.
    pub deployment: Deployment,
}

/// A ticket's lifecycle status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being worked on.
    Open,
    /// Waiting for the customer's answer.
    WaitingOnCustomer,
    /// Resolved.
    Resolved,
}

/// Why an event cannot apply to a ticket.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Rejected(pub String);

/// Why the rules did not open a ticket or apply an event to it: the event is refused, or the
/// contract in force does not cover the ticket (its data no longer fits the contract).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The event does not apply.
    #[error(transparent)]
    Rejected(#[from] Rejected),
    /// The contract lacks the ticket's tier, severity, target or calendar.
    #[error(transparent)]
    Uncovered(#[from] Uncovered),
}

/// The state the rules keep per ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// Identifier.
    pub id: TicketId,
    /// The customer org.
    pub org: OrgSlug,
    /// The org's tier when the ticket was opened.
    pub tier: Tier,
    /// Current severity.
    pub severity: Severity,
    /// A security incident.
    pub security: bool,
    /// Where it came in.
    #[serde(rename = "channel")]
    pub intake: Option<Intake>,
    /// Lifecycle status.
    pub status: Status,
    /// When it was opened.
    pub opened_at: Timestamp,
    /// First acknowledgement: when and by whom.
    pub acknowledged: Option<(Timestamp, String)>,
    /// First response (acknowledgement or public staff reply).
    pub responded_at: Option<Timestamp>,
    /// When it was last resolved.
    pub resolved_at: Option<Timestamp>,
    /// One clock per contract target.
    pub clocks: Vec<SlaClock>,
    /// The escalation, once one started.
    pub escalation: Option<Escalation>,
    /// When the customer may page (None: never on this ticket).
    pub customer_page_opens_at: Option<Timestamp>,
    /// The bridge promise (security incidents).
    pub bridge: Option<Bridge>,
    /// The report owed.
    pub report: Option<Report>,
    /// The staff member working the ticket, if it has been taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// When the customer's page still in flight was made (see [`Ticket::customer_page_in_flight`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_paged_at: Option<Timestamp>,
}

fn later(at: Timestamp, span_seconds: i64) -> Timestamp {
    at + SignedDuration::from_secs(span_seconds)
}

impl Ticket {
    /// Opens a ticket from a `ticket.opened` event. A severity or tier the contract lacks is
    /// [`RuleError::Uncovered`] (the edge refuses unknown names before this).
    pub fn open(contract: &Contract, org: &OrgProfile, event: &Event) -> Result<(Ticket, Decision), RuleError> {
        let EventKind::Opened { org: org_slug, severity, intake, security } = &event.kind else {
            return Err(Rejected("a ticket starts with ticket.opened".into()).into());
        };
        if *org_slug != org.slug {
            return Err(Rejected(format!("ticket.opened names org {org_slug}, not {}", org.slug)).into());
        }
        let at = event.at;
        let security_rule = if *security {
            contract.security.tiers.get(&org.tier).cloned().unwrap_or_default()
        } else {
            Default::default()
        };
        let severity = if *security { contract.security_severity(&org.tier).clone() } else { severity.clone() };
        contract.covers(&org.tier, &severity)?;
        let clocks = contract
            .targets
            .iter()
            .map(|(name, def)| {
                let cell = contract.target(name, &org.tier, &severity)?.clone();
                Ok(SlaClock::start(contract, name, def.measures, def.pause_while_waiting, cell, at))
            })
            .collect::<Result<_, Uncovered>>()?;
        let mut t = Ticket {
            id: event.ticket.clone(),
            org: org.slug.clone(),
            tier: org.tier.clone(),
            severity,
            security: *security,
            intake: *intake,
            status: Status::Open,
            opened_at: at,
            acknowledged: None,
            responded_at: None,
            resolved_at: None,
            clocks,
            escalation: None,
            customer_page_opens_at: None,
            bridge: None,
            report: None,
            assignee: None,
            customer_paged_at: None,
        };
        let mut d = Decision::default();
        t.set_breach_timers(&mut d);
        t.open_customer_page(contract, at, &mut d)?;
        t.open_bridge(contract, &mut d);
        t.start_paging_on_open(contract, security_rule.page_as.as_ref(), at, &mut d)?;
        Ok((t, d))
    }

    fn notice(&self, at: Timestamp, body: NoticeBody) -> Notice {
        Notice { at, ticket: self.id.clone(), body }
    }

    fn set_breach_timers(&self, d: &mut Decision) {
        for c in &self.clocks {
            let kind = TimerKind::Breach { target: c.target.clone() };
            match (c.state, c.due) {
                (ClockState::Running, Some(due)) => d.timers.push(TimerOp::Set { kind, at: breach_instant(due) }),
                _ => d.timers.push(TimerOp::Cancel { kind }),
            }
        }
    }

    /// Whether the contract in force still covers this ticket: its tier and severity, and
    /// the target and calendar of each of its clocks. Checked before any rule runs on it, so
    /// a ticket written under another contract is refused as a whole, never half changed.
    pub fn fits(&self, contract: &Contract) -> Result<(), Uncovered> {
        contract.covers(&self.tier, &self.severity)?;
        for c in &self.clocks {
            contract.target(&c.target, &self.tier, &self.severity)?;
            if let Some(name) = &c.cell.calendar
                && !contract.calendars.contains_key(name)
            {
                return Err(Uncovered::Calendar(name.clone()));
            }
        }
        Ok(())
    }

    /// Applies an event to the ticket at the event's instant.
    pub fn apply(&mut self, contract: &Contract, event: &Event) -> Result<Decision, RuleError> {
        self.fits(contract)?;
        let at = event.at;
        let mut d = Decision::default();
        let resolved = self.status == Status::Resolved;
        let refuse_resolved = |what: &str| {
            if resolved {
                Err(RuleError::Rejected(Rejected(format!("cannot {what} a resolved ticket; reopen it first"))))
            } else {
                Ok(())
            }
        };
        match &event.kind {
            EventKind::Opened { .. } => return Err(Rejected(format!("ticket {} is already open", self.id)).into()),
            EventKind::Acknowledged { by } => {
                refuse_resolved("acknowledge")?;
                if self.acknowledged.is_none() {
                    self.acknowledged = Some((at, by.clone()));
                }
                self.customer_paged_at = None;
                self.end_escalation(at, &mut d);
                self.respond(at, false, &mut d);
            }
            EventKind::Replied { public, .. } => {
                if *public && !resolved {
                    self.respond(at, true, &mut d);
                }
            }
            EventKind::SeverityChanged { severity } => {
                refuse_resolved("change the severity of")?;
                if *severity != self.severity {
                    self.change_severity(contract, severity.clone(), at, &mut d)?;
                }
            }
            EventKind::WaitingOnCustomer => {
                if self.status != Status::Open {
                    return Err(Rejected("only an open ticket can wait on the customer".into()).into());
                }
                self.status = Status::WaitingOnCustomer;
                for c in self.clocks.iter_mut().filter(|c| c.pause_while_waiting) {
                    c.pause(at);
                }
            }
            EventKind::StoppedWaiting => {
                if self.status != Status::WaitingOnCustomer {
                    return Err(Rejected("the ticket is not waiting on the customer".into()).into());
                }
                self.status = Status::Open;
                for c in self.clocks.iter_mut() {
                    c.resume(contract, at);
                }
            }
            EventKind::CustomerReplied => {
                if self.status == Status::WaitingOnCustomer {
                    self.status = Status::Open;
                    for c in self.clocks.iter_mut() {
                        c.resume(contract, at);
                    }
                }
                if !resolved {
                    for c in self.clocks.iter_mut().filter(|c| c.measures == Measure::NextReply && !c.is_active()) {
                        c.restart(contract, at);
                    }
                }
            }
            EventKind::Resolved { by_customer } => {
                refuse_resolved("resolve")?;
                self.resolve(contract, at, *by_customer, &mut d);
            }
            EventKind::Reopened => {
                if !resolved {
                    return Err(Rejected("only a resolved ticket can be reopened".into()).into());
                }
                self.status = Status::Open;
                for c in self.clocks.iter_mut() {
                    if c.measures == Measure::Resolution {
                        c.restart(contract, at);
                    } else {
                        c.reinstate(contract, at);
                    }
                }
                self.drop_unpublished_report(&mut d);
            }
            EventKind::CustomerPageRequested => self.customer_page(contract, at, &mut d)?,
            EventKind::BridgeJoined { by, role, url } => self.join_bridge(contract, at, by, role, url, &mut d),
            EventKind::BridgeGiven { url } => self.give_bridge(url)?,
            EventKind::ReportPublished => self.publish_report(at, &mut d)?,
            EventKind::Assigned { to } => {
                refuse_resolved("assign")?;
                self.assignee = to.clone();
            }
        }
        self.set_breach_timers(&mut d);
        Ok(d)
    }

    /// A first acknowledgement or public reply: stops first-response clocks (and next-reply
    /// clocks for a public reply).
    fn respond(&mut self, at: Timestamp, public: bool, d: &mut Decision) {
        if self.responded_at.is_none() {
            self.responded_at = Some(at);
        }
        let stops = |c: &SlaClock| c.measures == Measure::FirstResponse || (public && c.measures == Measure::NextReply);
        self.stop_clocks(at, stops, d);
    }

    /// Stops the clocks `which` selects, noting each one met or (late) breached.
    fn stop_clocks(&mut self, at: Timestamp, which: impl Fn(&SlaClock) -> bool, d: &mut Decision) {
        self.end_clocks(at, which, |c| c.stop(at), d);
    }

    /// Ends the clocks `which` selects with `end`, noting what each came to.
    fn end_clocks(
        &mut self,
        at: Timestamp,
        which: impl Fn(&SlaClock) -> bool,
        mut end: impl FnMut(&mut SlaClock) -> Stopped,
        d: &mut Decision,
    ) {
        let mut notices = Vec::new();
        for c in self.clocks.iter_mut().filter(|c| which(c)) {
            match end(c) {
                Stopped::Met => {
                    notices.push((at, NoticeBody::SlaMet { target: c.target.clone(), due: c.due.unwrap_or(at) }))
                }
                Stopped::Late(due) => {
                    notices.push((breach_instant(due), NoticeBody::SlaBreached { target: c.target.clone(), due }))
                }
                Stopped::Withdrawn => {
                    notices.push((at, NoticeBody::SlaWithdrawn { target: c.target.clone(), due: c.due.unwrap_or(at) }))
                }
                Stopped::NothingNew => {}
            }
        }
        d.notices.extend(notices.into_iter().map(|(at, b)| self.notice(at, b)));
    }

    /// Resolves the ticket. Staff resolving tell the customer (by letter): that is a response
    /// too. A customer resolving before any response withdraws the request, so the response
    /// clocks still counting are withdrawn, not met (docs/contract.md, "Responding").
    fn resolve(&mut self, contract: &Contract, at: Timestamp, by_customer: bool, d: &mut Decision) {
        self.status = Status::Resolved;
        self.resolved_at = Some(at);
        self.customer_paged_at = None;
        if !by_customer && self.responded_at.is_none() {
            self.responded_at = Some(at);
        }
        if by_customer {
            let responses = |c: &SlaClock| matches!(c.measures, Measure::FirstResponse | Measure::NextReply);
            self.end_clocks(at, responses, |c| c.withdraw(contract, at), d);
        }
        self.stop_clocks(at, |_| true, d);
        self.end_escalation(at, d);
        self.close_bridge(d);
        d.timers.push(TimerOp::Cancel { kind: TimerKind::QueueNotify });
        self.owe_report(contract, at, d);
    }

    fn change_severity(
        &mut self,
        contract: &Contract,
        severity: Severity,
        at: Timestamp,
        d: &mut Decision,
    ) -> Result<(), Uncovered> {
        let raised = contract.rank(&severity)? < contract.rank(&self.severity)?;
        let cells = self
            .clocks
            .iter()
            .map(|c| contract.target(&c.target, &self.tier, &severity).cloned())
            .collect::<Result<Vec<_>, _>>()?;
        self.severity = severity;
        for (c, cell) in self.clocks.iter_mut().zip(cells) {
            c.change_severity(contract, cell, raised, at);
        }
        // A lowering counts from the opening, so it may put a due time in the past: that
        // target is breached (its breach instant stays the second after the due time), and the
        // notice comes now, with the change that reveals it, not before what came earlier.
        let late: Vec<(String, Timestamp)> =
            self.clocks.iter_mut().filter_map(|c| c.check_breach(at).map(|due| (c.target.clone(), due))).collect();
        for (target, due) in late {
            d.notices.push(self.notice(at, NoticeBody::SlaBreached { target, due }));
        }
        self.move_bridge_deadline(contract, d);
        self.repage_for_severity(contract, raised, at, d)?;
        self.reconsider_customer_page(contract, raised, at, d)
    }

    /// Runs a timer of this ticket at `now` (its due instant or later). Stale timers (the
    /// state moved on) do nothing, so running a timer twice is harmless. A ticket the
    /// contract no longer covers is left as it was: [`Uncovered`] names what is missing.
    pub fn on_timer(&mut self, contract: &Contract, kind: &TimerKind, now: Timestamp) -> Result<Decision, Uncovered> {
        self.fits(contract)?;
        let mut d = Decision::default();
        match kind {
            TimerKind::Breach { target } => {
                let mut breached = None;
                if let Some(c) = self.clocks.iter_mut().find(|c| &c.target == target)
                    && let Some(due) = c.check_breach(now)
                {
                    breached = Some((c.target.clone(), due, c.breached_at.expect("just breached")));
                }
                if let Some((target, due, at)) = breached {
                    d.notices.push(self.notice(at, NoticeBody::SlaBreached { target, due }));
                }
            }
            TimerKind::Escalation => self.advance_escalation(contract, now, &mut d)?,
            TimerKind::CustomerPageOpens => self.customer_page_opens(now, &mut d),
            TimerKind::BridgeDeadline => self.bridge_deadline(contract, now, &mut d),
            TimerKind::ReportOverdue => self.report_deadline(contract, now, &mut d),
            TimerKind::QueueNotify => self.notify_queue_now(now, &mut d),
        }
        Ok(d)
    }
}

/// What a change's events apply to: nothing yet (they open a ticket for an org), or the
/// ticket as it stands.
#[derive(Clone, Copy, Debug)]
pub enum Before<'a> {
    /// No ticket yet: the first event must be `ticket.opened`, for this org.
    New(&'a OrgProfile),
    /// The ticket as last committed.
    Existing(&'a Ticket),
}

/// Decides what one change's events do: opens the ticket (for [`Before::New`]) or starts
/// from it as it stands, then applies every event in order, merging their decisions. Every
/// event applies or none does: the first refusal is the answer. The server's desk and the
/// replay both decide a change through this, so they cannot disagree on it.
pub fn decide_events(
    contract: &Contract,
    before: Before<'_>,
    events: &[Event],
) -> Result<(Ticket, Decision), RuleError> {
    let (mut ticket, mut decision, rest) = match before {
        Before::New(org) => {
            let Some((first, rest)) = events.split_first() else {
                return Err(Rejected("a ticket starts with ticket.opened".into()).into());
            };
            let (ticket, decision) = Ticket::open(contract, org, first)?;
            (ticket, decision, rest)
        }
        Before::Existing(ticket) => (ticket.clone(), Decision::default(), events),
    };
    for event in rest {
        decision.merge(ticket.apply(contract, event)?);
    }
    Ok((ticket, decision))
}

/// What one due timer did to its ticket.
#[derive(Clone, Debug, PartialEq)]
pub struct TimerRun {
    /// The timer changes: this timer's removal first, then what its rule set or cancelled.
    pub ops: Vec<TimerOp>,
    /// The notices it caused, not yet routed (often none: the state had moved on).
    pub notices: Vec<Notice>,
    /// Why the timer was dropped without running: the contract does not cover the ticket.
    /// Its removal still applies, so it is not run again and again.
    pub dropped: Option<Uncovered>,
}

/// Runs a ticket's due timers at `now`, in the order given (a sweep gives them by due
/// instant, then kind), one [`TimerRun`] per timer in that order. The ticket moves on with
/// each; one the contract does not cover is dropped and leaves the ticket as its rule left
/// it. The server's sweep and the replay both run timers through this.
pub fn decide_timers<'k>(
    contract: &Contract,
    ticket: &mut Ticket,
    due: impl IntoIterator<Item = &'k TimerKind>,
    now: Timestamp,
) -> Vec<TimerRun> {
    due.into_iter()
        .map(|kind| {
            let mut ops = vec![TimerOp::Cancel { kind: kind.clone() }];
            match ticket.on_timer(contract, kind, now) {
                Ok(decision) => {
                    ops.extend(decision.timers);
                    TimerRun { ops, notices: decision.notices, dropped: None }
                }
                Err(uncovered) => TimerRun { ops, notices: Vec::new(), dropped: Some(uncovered) },
            }
        })
        .collect()
}
