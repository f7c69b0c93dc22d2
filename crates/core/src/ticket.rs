//! A ticket's state and the rules that move it: SLA clocks, escalation (pages), customer pages,
//! security-incident bridges and post-incident reports. Pure: every function takes the contract,
//! the org and the current instant, mutates the ticket and returns a [`Decision`] (notices to
//! record and deliver, timers to set or cancel).

use crate::contract::{Contract, EscalationPolicy, Measure};
use crate::event::{Decision, Event, Notice, NoticeBody, TimerKind, TimerOp};
use crate::ids::{Channel, Deployment, OrgSlug, Role, Severity, TicketId, Tier};
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
    /// Its TAM, paged by name when escalation reaches the TAM.
    pub tam: Option<String>,
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
}

/// The incident-bridge promise of a security incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bridge {
    /// Join by then.
    pub due: Timestamp,
    /// Who joined in the required role, and when.
    pub joined: Option<(Timestamp, String)>,
}

/// A post-incident report owed for the ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Publish by then.
    pub due: Timestamp,
    /// When it was published.
    pub published_at: Option<Timestamp>,
    /// Whether the overdue alert went out.
    pub overdue_alerted: bool,
}

/// Why an event cannot apply to a ticket.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Rejected(pub String);

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
    pub channel: Option<Channel>,
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
}

fn later(at: Timestamp, span_seconds: i64) -> Timestamp {
    at + SignedDuration::from_secs(span_seconds)
}

impl Ticket {
    /// Whether paging for this ticket is over: it is resolved, or its escalation has ended (or
    /// never started), so a page not yet sent is moot and one already sent is settled.
    pub fn paging_over(&self) -> bool {
        self.status == Status::Resolved || self.escalation.as_ref().is_none_or(|e| e.ended_at.is_some())
    }

    /// Opens a ticket from a `ticket.opened` event. The severity must be one of the contract's
    /// and the org's tier one of its tiers (checked at the edge).
    pub fn open(contract: &Contract, org: &OrgProfile, event: &Event) -> Result<(Ticket, Decision), Rejected> {
        let Event::Opened { at, ticket, org: org_slug, severity, channel, security } = event else {
            return Err(Rejected("a ticket starts with ticket.opened".into()));
        };
        if *org_slug != org.slug {
            return Err(Rejected(format!("ticket.opened names org {org_slug}, not {}", org.slug)));
        }
        let at = *at;
        let security_rule = if *security {
            contract.security.tiers.get(&org.tier).cloned().unwrap_or_default()
        } else {
            Default::default()
        };
        let severity = security_rule.severity.clone().unwrap_or_else(|| severity.clone());
        let clocks = contract
            .targets
            .iter()
            .map(|(name, def)| {
                let cell = contract.target(name, &org.tier, &severity).clone();
                SlaClock::start(contract, name, def.measures, def.pause_while_waiting, cell, at)
            })
            .collect();
        let mut t = Ticket {
            id: ticket.clone(),
            org: org.slug.clone(),
            tier: org.tier.clone(),
            severity,
            security: *security,
            channel: *channel,
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
        };
        let mut d = Decision::default();
        t.set_breach_timers(&mut d);

        let policy = contract.escalation(&t.tier);
        let cp = &policy.customer_page;
        if cp.severities.contains(&t.severity) {
            let opens = later(at, cp.opens_after.seconds);
            t.customer_page_opens_at = Some(opens);
            if opens > at {
                d.timers.push(TimerOp::Set { kind: TimerKind::CustomerPageOpens, at: opens });
            }
        }
        if t.security {
            let target = &contract.security.bridge.within_target;
            if let Some(due) = t.clocks.iter().find(|c| &c.target == target).and_then(|c| c.due) {
                t.bridge = Some(Bridge { due, joined: None });
                d.timers.push(TimerOp::Set { kind: TimerKind::BridgeDeadline, at: breach_instant(due) });
            }
        }
        let page_severity = t.page_severity(contract, security_rule.page_as.as_ref());
        if policy.page_on_open.contains(&page_severity) {
            let reason = if t.security {
                format!("security incident opened ({page_severity})")
            } else {
                format!("new {page_severity} ticket")
            };
            let start = contract.next_covered(&t.tier, &page_severity, at);
            t.escalation =
                Some(Escalation { started_at: start, reason, next_step: 0, ended_at: None, by_customer: false });
            t.advance_escalation(contract, org, at, &mut d);
        } else if policy.queue_notify.contains(&t.severity) {
            let when = contract.next_covered(&t.tier, &t.severity, at);
            if when == at {
                d.notices.push(t.notice(at, NoticeBody::QueueNotified { severity: t.severity.clone() }));
            } else {
                d.timers.push(TimerOp::Set { kind: TimerKind::QueueNotify, at: when });
            }
        }
        Ok((t, d))
    }

    /// The severity escalation steps are filtered by: the ticket's, or the security rule's
    /// `page_as` when that is more severe.
    fn page_severity(&self, contract: &Contract, page_as: Option<&Severity>) -> Severity {
        match page_as {
            Some(p) if contract.rank(p) < contract.rank(&self.severity) => p.clone(),
            _ => self.severity.clone(),
        }
    }

    fn security_page_as<'c>(&self, contract: &'c Contract) -> Option<&'c Severity> {
        if self.security { contract.security.tiers.get(&self.tier).and_then(|r| r.page_as.as_ref()) } else { None }
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

    /// Applies an event to the ticket at the event's instant.
    pub fn apply(&mut self, contract: &Contract, org: &OrgProfile, event: &Event) -> Result<Decision, Rejected> {
        let at = event.at();
        let mut d = Decision::default();
        let resolved = self.status == Status::Resolved;
        let refuse_resolved = |what: &str| {
            if resolved { Err(Rejected(format!("cannot {what} a resolved ticket; reopen it first"))) } else { Ok(()) }
        };
        match event {
            Event::Opened { .. } => return Err(Rejected(format!("ticket {} is already open", self.id))),
            Event::Acknowledged { by, .. } => {
                refuse_resolved("acknowledge")?;
                if self.acknowledged.is_none() {
                    self.acknowledged = Some((at, by.clone()));
                }
                self.end_escalation(at, &mut d);
                self.respond(at, false, &mut d);
            }
            Event::Replied { public, .. } => {
                if *public && !resolved {
                    self.respond(at, true, &mut d);
                }
            }
            Event::SeverityChanged { severity, .. } => {
                refuse_resolved("change the severity of")?;
                if *severity != self.severity {
                    self.change_severity(contract, org, severity.clone(), at, &mut d);
                }
            }
            Event::WaitingOnCustomer { .. } => {
                if self.status != Status::Open {
                    return Err(Rejected("only an open ticket can wait on the customer".into()));
                }
                self.status = Status::WaitingOnCustomer;
                for c in self.clocks.iter_mut().filter(|c| c.pause_while_waiting) {
                    c.pause(at);
                }
            }
            Event::CustomerReplied { .. } => {
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
            Event::Resolved { .. } => {
                refuse_resolved("resolve")?;
                self.resolve(contract, at, &mut d);
            }
            Event::Reopened { .. } => {
                if !resolved {
                    return Err(Rejected("only a resolved ticket can be reopened".into()));
                }
                self.status = Status::Open;
                for c in self.clocks.iter_mut().filter(|c| c.measures == Measure::Resolution) {
                    c.restart(contract, at);
                }
                if self.report.as_ref().is_some_and(|r| r.published_at.is_none()) {
                    self.report = None;
                    d.timers.push(TimerOp::Cancel { kind: TimerKind::ReportOverdue });
                }
            }
            Event::CustomerPageRequested { .. } => self.customer_page(contract, org, at, &mut d),
            Event::BridgeJoined { by, role, .. } => {
                if let Some(b) = self.bridge.as_mut()
                    && b.joined.is_none()
                    && *role == contract.security.bridge.role
                {
                    b.joined = Some((at, by.clone()));
                    d.timers.push(TimerOp::Cancel { kind: TimerKind::BridgeDeadline });
                }
            }
            Event::ReportPublished { .. } => match self.report.as_mut() {
                Some(r) if r.published_at.is_none() => {
                    r.published_at = Some(at);
                    d.timers.push(TimerOp::Cancel { kind: TimerKind::ReportOverdue });
                }
                Some(_) => return Err(Rejected("the report is already published".into())),
                None => return Err(Rejected(
                    "no post-incident report is owed for this ticket (it is owed once a qualifying ticket is resolved)"
                        .into(),
                )),
            },
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
        let mut notices = Vec::new();
        for c in self.clocks.iter_mut().filter(|c| which(c)) {
            match c.stop(at) {
                Stopped::Met => {
                    notices.push((at, NoticeBody::SlaMet { target: c.target.clone(), due: c.due.unwrap_or(at) }))
                }
                Stopped::Late(due) => {
                    notices.push((breach_instant(due), NoticeBody::SlaBreached { target: c.target.clone(), due }))
                }
                Stopped::NothingNew => {}
            }
        }
        d.notices.extend(notices.into_iter().map(|(at, b)| self.notice(at, b)));
    }

    fn resolve(&mut self, contract: &Contract, at: Timestamp, d: &mut Decision) {
        self.status = Status::Resolved;
        self.resolved_at = Some(at);
        self.stop_clocks(at, |_| true, d);
        self.end_escalation(at, d);
        if self.bridge.as_ref().is_some_and(|b| b.joined.is_none()) {
            d.timers.push(TimerOp::Cancel { kind: TimerKind::BridgeDeadline });
        }
        d.timers.push(TimerOp::Cancel { kind: TimerKind::QueueNotify });
        let rule = &contract.post_incident;
        let owed = rule.severities.contains(&self.severity) || (self.security && rule.security);
        if owed && self.report.as_ref().is_none_or(|r| r.published_at.is_none()) {
            let due = contract.due(&rule.within, at);
            self.report = Some(Report { due, published_at: None, overdue_alerted: false });
            d.notices.push(self.notice(at, NoticeBody::ReportDue { due }));
            d.timers.push(TimerOp::Set { kind: TimerKind::ReportOverdue, at: breach_instant(due) });
        }
    }

    /// Stops paging: cancels the next step and the customer-page opening.
    fn end_escalation(&mut self, at: Timestamp, d: &mut Decision) {
        if let Some(e) = self.escalation.as_mut().filter(|e| e.ended_at.is_none()) {
            e.ended_at = Some(at);
        }
        d.timers.push(TimerOp::Cancel { kind: TimerKind::Escalation });
        d.timers.push(TimerOp::Cancel { kind: TimerKind::CustomerPageOpens });
    }

    /// Whether an escalation is under way (started, or deferred to coverage) and not ended.
    fn is_paging(&self) -> bool {
        self.escalation.as_ref().is_some_and(|e| e.ended_at.is_none()) && self.status != Status::Resolved
    }

    /// Fires every step of the running escalation that is due at `now`, then sets the timer
    /// for the next one.
    fn advance_escalation(&mut self, contract: &Contract, org: &OrgProfile, now: Timestamp, d: &mut Decision) {
        if !self.is_paging() {
            return;
        }
        let severity = self.page_severity(contract, self.security_page_as(contract));
        let policy: &EscalationPolicy = contract.escalation(&self.tier);
        let Some(e) = self.escalation.as_mut() else { return };
        let mut pages = Vec::new();
        while let Some(step) = policy.steps.get(e.next_step) {
            let at = later(e.started_at, step.after.seconds);
            if at > now {
                d.timers.push(TimerOp::Set { kind: TimerKind::Escalation, at });
                break;
            }
            e.next_step += 1;
            if step.severities.as_ref().is_some_and(|s| !s.contains(&severity)) {
                continue;
            }
            let reason = if step.after.seconds == 0 {
                e.reason.clone()
            } else {
                format!("{severity} unacknowledged {} after the page", step.after)
            };
            let to = if step.notify == Role::Tam { org.tam.clone() } else { None };
            pages.push(NoticeBody::Page {
                role: step.notify,
                reason,
                to,
                via: step.via.clone(),
                severity: severity.clone(),
            });
        }
        d.notices.extend(pages.into_iter().map(|b| self.notice(now, b)));
    }

    fn change_severity(
        &mut self,
        contract: &Contract,
        org: &OrgProfile,
        severity: Severity,
        at: Timestamp,
        d: &mut Decision,
    ) {
        let raised = contract.rank(&severity) < contract.rank(&self.severity);
        self.severity = severity;
        for c in &mut self.clocks {
            let cell = contract.target(&c.target, &self.tier, &self.severity).clone();
            c.change_severity(contract, cell, raised, at);
        }
        if let Some(b) = self.bridge.as_mut().filter(|b| b.joined.is_none()) {
            let target = &contract.security.bridge.within_target;
            if let Some(due) =
                self.clocks.iter().find(|c| &c.target == target && c.state == ClockState::Running).and_then(|c| c.due)
            {
                b.due = due;
                d.timers.push(TimerOp::Set { kind: TimerKind::BridgeDeadline, at: breach_instant(due) });
            }
        }
        let policy = contract.escalation(&self.tier);
        let page_severity = self.page_severity(contract, self.security_page_as(contract));
        if raised
            && self.escalation.is_none()
            && self.acknowledged.is_none()
            && policy.page_on_open.contains(&page_severity)
        {
            let start = contract.next_covered(&self.tier, &page_severity, at);
            self.escalation = Some(Escalation {
                started_at: start,
                reason: format!("severity raised to {page_severity}"),
                next_step: 0,
                ended_at: None,
                by_customer: false,
            });
            d.timers.push(TimerOp::Cancel { kind: TimerKind::QueueNotify });
            self.advance_escalation(contract, org, at, d);
        }
        let by_severity = self.escalation.as_ref().is_some_and(|e| !e.by_customer);
        if !raised && by_severity && !policy.page_on_open.contains(&page_severity) {
            self.end_escalation(at, d);
        }
        let cp = &policy.customer_page;
        if !raised && !cp.severities.contains(&self.severity) {
            d.timers.push(TimerOp::Cancel { kind: TimerKind::CustomerPageOpens });
        }
        if self.customer_page_opens_at.is_none() && cp.severities.contains(&self.severity) {
            let opens = later(self.opened_at, cp.opens_after.seconds).max(at);
            self.customer_page_opens_at = Some(opens);
            if opens > at && self.acknowledged.is_none() {
                d.timers.push(TimerOp::Set { kind: TimerKind::CustomerPageOpens, at: opens });
            }
        }
    }

    fn customer_page(&mut self, contract: &Contract, org: &OrgProfile, at: Timestamp, d: &mut Decision) {
        let rule = &contract.escalation(&self.tier).customer_page;
        let refusal = if self.status == Status::Resolved {
            Some((None, "the ticket is resolved".to_string()))
        } else if !rule.severities.contains(&self.severity) {
            let list: Vec<&str> = rule.severities.iter().map(Severity::as_str).collect();
            Some((None, format!("customers of this tier may page for {} tickets only", list.join("/"))))
        } else if rule.while_unacknowledged && self.acknowledged.is_some() {
            Some((None, "the ticket is already acknowledged".to_string()))
        } else {
            let opens = self.customer_page_opens_at.unwrap_or(self.opened_at);
            (at < opens).then(|| {
                (
                    Some(opens),
                    format!(
                        "the on-call line opens for this ticket at {opens}, {} after opening, if still unacknowledged",
                        rule.opens_after
                    ),
                )
            })
        };
        if let Some((opens_at, reason)) = refusal {
            d.notices.push(self.notice(at, NoticeBody::CustomerPageRefused { opens_at, reason }));
            return;
        }
        let running = self.is_paging() && self.escalation.as_ref().is_some_and(|e| e.started_at <= at);
        if running {
            let policy = contract.escalation(&self.tier);
            let first = policy.steps.first().map(|s| (s.notify, s.via.clone()));
            if let Some((role, via)) = first {
                let severity = self.severity.clone();
                d.notices.push(
                    self.notice(at, NoticeBody::Page { role, reason: "customer page".into(), to: None, via, severity }),
                );
            }
        } else {
            self.escalation = Some(Escalation {
                started_at: at,
                reason: "customer page".into(),
                next_step: 0,
                ended_at: None,
                by_customer: true,
            });
            self.advance_escalation(contract, org, at, d);
        }
    }

    /// Runs a timer of this ticket at `now` (its due instant or later). Stale timers (the
    /// state moved on) do nothing, so running a timer twice is harmless.
    pub fn on_timer(&mut self, contract: &Contract, org: &OrgProfile, kind: &TimerKind, now: Timestamp) -> Decision {
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
            TimerKind::Escalation => self.advance_escalation(contract, org, now, &mut d),
            TimerKind::CustomerPageOpens => {
                if let Some(opens) = self.customer_page_opens_at
                    && now >= opens
                    && self.acknowledged.is_none()
                    && self.status != Status::Resolved
                {
                    d.notices.push(self.notice(opens, NoticeBody::CustomerPageAvailable));
                }
            }
            TimerKind::BridgeDeadline => {
                if let Some(b) = &self.bridge
                    && b.joined.is_none()
                    && self.status != Status::Resolved
                    && now > b.due
                {
                    let body = NoticeBody::BridgeOverdue { due: b.due, role: contract.security.bridge.role.clone() };
                    d.notices.push(self.notice(breach_instant(b.due), body));
                }
            }
            TimerKind::ReportOverdue => {
                if let Some(r) = self.report.as_mut()
                    && r.published_at.is_none()
                    && !r.overdue_alerted
                    && now > r.due
                {
                    r.overdue_alerted = true;
                    let (due, notify) = (r.due, contract.post_incident.overdue_notify.clone());
                    d.notices.push(self.notice(breach_instant(due), NoticeBody::ReportOverdue { due, notify }));
                }
            }
            TimerKind::QueueNotify => {
                if self.status != Status::Resolved && self.acknowledged.is_none() {
                    d.notices.push(self.notice(now, NoticeBody::QueueNotified { severity: self.severity.clone() }));
                }
            }
        }
        d
    }
}
