//! Escalation: the pages a ticket's severity (or a customer page) starts, the steps of the
//! tier's policy that follow while nobody acknowledges, and telling the queue about tickets
//! that do not page. Pages name a role; routing names the people (see [`crate::routing`]).

use super::{Status, Ticket, later};
use crate::contract::{Contract, EscalationPolicy, Uncovered};
use crate::event::{Decision, NoticeBody, TimerKind, TimerOp};
use crate::ids::Severity;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A running escalation: steps of the tier's policy counted from `started_at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    /// The instant of the page that started it (in the future while deferred to coverage).
    pub started_at: Timestamp,
    /// Why it started, repeated in the first page.
    pub reason: String,
    /// Index of the next step to consider.
    pub next_step: usize,
    /// When it ended (acknowledged, resolved, or its severity lowered below paging); no step
    /// fires after that.
    pub ended_at: Option<Timestamp>,
    /// Started by the customer's page rather than by the ticket's severity.
    pub by_customer: bool,
    /// Steps whose time came while the ticket's severity was not one they list: each fires
    /// at once if the ticket is raised to a severity it lists while still unacknowledged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<usize>,
}

impl Ticket {
    /// Whether paging for this ticket is over: it is resolved, or its escalation has ended (or
    /// never started), so a page not yet sent is moot and one already sent is settled.
    pub fn paging_over(&self) -> bool {
        self.status == Status::Resolved || self.escalation.as_ref().is_none_or(|e| e.ended_at.is_some())
    }

    /// The severity escalation steps are filtered by: the ticket's, or the security rule's
    /// `page_as` when that is more severe.
    pub(super) fn page_severity(&self, contract: &Contract, page_as: Option<&Severity>) -> Result<Severity, Uncovered> {
        Ok(match page_as {
            Some(p) if contract.rank(p)? < contract.rank(&self.severity)? => p.clone(),
            _ => self.severity.clone(),
        })
    }

    fn security_page_as<'c>(&self, contract: &'c Contract) -> Option<&'c Severity> {
        if self.security { contract.security.tiers.get(&self.tier).and_then(|r| r.page_as.as_ref()) } else { None }
    }

    /// A new ticket pages at once (from the next covered instant) when its severity — or its
    /// security rule's `page_as` — pages on open; otherwise the queue is told, during
    /// coverage.
    pub(super) fn start_paging_on_open(
        &mut self,
        contract: &Contract,
        page_as: Option<&Severity>,
        at: Timestamp,
        d: &mut Decision,
    ) -> Result<(), Uncovered> {
        let policy = contract.escalation(&self.tier)?;
        let page_severity = self.page_severity(contract, page_as)?;
        if policy.page_on_open.contains(&page_severity) {
            let reason = if self.security {
                format!("security incident opened ({page_severity})")
            } else {
                format!("new {page_severity} ticket")
            };
            self.start_escalation(contract, &page_severity, reason, at, d)
        } else {
            self.announce_to_queue(contract, at, d)
        }
    }

    fn start_escalation(
        &mut self,
        contract: &Contract,
        page_severity: &Severity,
        reason: String,
        at: Timestamp,
        d: &mut Decision,
    ) -> Result<(), Uncovered> {
        let start = contract.next_covered(&self.tier, page_severity, at)?;
        self.escalation = Some(Escalation {
            started_at: start,
            reason,
            next_step: 0,
            ended_at: None,
            by_customer: false,
            skipped: Vec::new(),
        });
        self.advance_escalation(contract, at, d)
    }

    /// Stops paging: cancels the next step and the customer-page opening.
    pub(super) fn end_escalation(&mut self, at: Timestamp, d: &mut Decision) {
        if let Some(e) = self.escalation.as_mut().filter(|e| e.ended_at.is_none()) {
            e.ended_at = Some(at);
        }
        d.timers.push(TimerOp::Cancel { kind: TimerKind::Escalation });
        d.timers.push(TimerOp::Cancel { kind: TimerKind::CustomerPageOpens });
    }

    /// Whether an escalation is under way (started, or deferred to coverage) and not ended.
    pub(super) fn is_paging(&self) -> bool {
        self.escalation.as_ref().is_some_and(|e| e.ended_at.is_none()) && self.status != Status::Resolved
    }

    /// When the running escalation's next step will page someone, if one will: the first
    /// step still to come that lists the severity it pages at.
    pub(super) fn next_escalation_at(&self, contract: &Contract) -> Result<Option<Timestamp>, Uncovered> {
        let Some(e) = self.escalation.as_ref().filter(|_| self.is_paging()) else { return Ok(None) };
        let severity = self.page_severity(contract, self.security_page_as(contract))?;
        let steps = contract.escalation(&self.tier)?.steps.iter().skip(e.next_step);
        Ok(steps
            .filter(|step| step.severities.as_ref().is_none_or(|s| s.contains(&severity)))
            .map(|step| later(e.started_at, step.after.seconds))
            .next())
    }

    /// Fires every step of the running escalation that is due at `now`, then sets the timer
    /// for the next one.
    pub(super) fn advance_escalation(
        &mut self,
        contract: &Contract,
        now: Timestamp,
        d: &mut Decision,
    ) -> Result<(), Uncovered> {
        if !self.is_paging() {
            return Ok(());
        }
        let severity = self.page_severity(contract, self.security_page_as(contract))?;
        let policy: &EscalationPolicy = contract.escalation(&self.tier)?;
        let Some(e) = self.escalation.as_mut() else { return Ok(()) };
        let mut pages = Vec::new();
        while let Some(step) = policy.steps.get(e.next_step) {
            let at = later(e.started_at, step.after.seconds);
            if at > now {
                d.timers.push(TimerOp::Set { kind: TimerKind::Escalation, at });
                break;
            }
            let index = e.next_step;
            e.next_step += 1;
            if step.severities.as_ref().is_some_and(|s| !s.contains(&severity)) {
                e.skipped.push(index);
                continue;
            }
            let reason = if step.after.seconds == 0 {
                e.reason.clone()
            } else {
                format!("{severity} unacknowledged {} after the page", step.after)
            };
            pages.push(NoticeBody::Page {
                role: step.notify,
                reason,
                to: Vec::new(),
                via: step.via.clone(),
                severity: severity.clone(),
            });
        }
        d.notices.extend(pages.into_iter().map(|b| self.notice(now, b)));
        Ok(())
    }

    /// After a severity change (docs/contract.md, "Paging and escalation"):
    /// - raised, unacknowledged and paging: the steps passed over because of the old
    ///   severity whose time has come and which list the new one fire at once;
    /// - raised to a paging severity, unacknowledged and not paging (never paged, or paging
    ///   stopped by an earlier lowering): paging starts again, on-call at once and the steps
    ///   timed from this page;
    /// - lowered below paging: paging its severity started stops, and the queue hears of the
    ///   ticket as of one opened at the new severity.
    pub(super) fn repage_for_severity(
        &mut self,
        contract: &Contract,
        raised: bool,
        at: Timestamp,
        d: &mut Decision,
    ) -> Result<(), Uncovered> {
        let policy = contract.escalation(&self.tier)?;
        let page_severity = self.page_severity(contract, self.security_page_as(contract))?;
        let unacknowledged = self.acknowledged.is_none();
        if raised && unacknowledged && self.is_paging() {
            self.fire_skipped_steps(policy, &page_severity, at, d);
        } else if raised && unacknowledged && policy.page_on_open.contains(&page_severity) {
            d.timers.push(TimerOp::Cancel { kind: TimerKind::QueueNotify });
            self.start_escalation(contract, &page_severity, format!("severity raised to {page_severity}"), at, d)?;
        }
        let by_severity = self.is_paging() && self.escalation.as_ref().is_some_and(|e| !e.by_customer);
        if !raised && by_severity && !policy.page_on_open.contains(&page_severity) {
            self.end_escalation(at, d);
            if unacknowledged {
                self.announce_to_queue(contract, at, d)?;
            }
        }
        Ok(())
    }

    /// Fires, at `at`, the steps of the running escalation that were passed over because of
    /// the severity and list `severity`.
    fn fire_skipped_steps(&mut self, policy: &EscalationPolicy, severity: &Severity, at: Timestamp, d: &mut Decision) {
        let Some(e) = self.escalation.as_mut().filter(|e| e.started_at <= at) else { return };
        let mut pages = Vec::new();
        e.skipped.retain(|&index| {
            let Some(step) = policy.steps.get(index) else { return false };
            if step.severities.as_ref().is_some_and(|s| !s.contains(severity)) {
                return true;
            }
            pages.push(NoticeBody::Page {
                role: step.notify,
                reason: format!("raised to {severity}, unacknowledged {} after the page", step.after),
                to: Vec::new(),
                via: step.via.clone(),
                severity: severity.clone(),
            });
            false
        });
        d.notices.extend(pages.into_iter().map(|b| self.notice(at, b)));
    }

    /// Tells the queue of a ticket that does not page, when its severity is one the queue
    /// hears of: at once during coverage, else when coverage opens.
    pub(super) fn announce_to_queue(
        &mut self,
        contract: &Contract,
        at: Timestamp,
        d: &mut Decision,
    ) -> Result<(), Uncovered> {
        if !contract.escalation(&self.tier)?.queue_notify.contains(&self.severity) {
            return Ok(());
        }
        let when = contract.next_covered(&self.tier, &self.severity, at)?;
        if when == at {
            d.notices.push(self.notice(at, NoticeBody::QueueNotified { severity: self.severity.clone() }));
        } else {
            d.timers.push(TimerOp::Set { kind: TimerKind::QueueNotify, at: when });
        }
        Ok(())
    }

    /// A customer page: joins the running escalation with an extra first-step page, or starts
    /// one of its own.
    pub(super) fn page_for_customer(
        &mut self,
        contract: &Contract,
        at: Timestamp,
        d: &mut Decision,
    ) -> Result<(), Uncovered> {
        let running = self.is_paging() && self.escalation.as_ref().is_some_and(|e| e.started_at <= at);
        if running {
            let policy = contract.escalation(&self.tier)?;
            if let Some(step) = policy.steps.first() {
                let body = NoticeBody::Page {
                    role: step.notify,
                    reason: "customer page".into(),
                    to: Vec::new(),
                    via: step.via.clone(),
                    severity: self.severity.clone(),
                };
                d.notices.push(self.notice(at, body));
            }
            Ok(())
        } else {
            self.escalation = Some(Escalation {
                started_at: at,
                reason: "customer page".into(),
                next_step: 0,
                ended_at: None,
                by_customer: true,
                skipped: Vec::new(),
            });
            self.advance_escalation(contract, at, d)
        }
    }

    /// The queue-notify timer: the queue hears of an open, unacknowledged ticket once coverage
    /// opens.
    pub(super) fn notify_queue_now(&mut self, now: Timestamp, d: &mut Decision) {
        if self.status != Status::Resolved && self.acknowledged.is_none() {
            d.notices.push(self.notice(now, NoticeBody::QueueNotified { severity: self.severity.clone() }));
        }
    }
}
