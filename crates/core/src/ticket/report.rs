//! Post-incident reports: owed when a qualifying ticket (the contract's severities, and every
//! security incident) is resolved, due on the contract's calendar, overdue alerts when
//! unpublished past the due time, dropped when the ticket is reopened before publishing.

use super::{Rejected, Ticket};
use crate::contract::Contract;
use crate::event::{Decision, NoticeBody, TimerKind, TimerOp};
use crate::sla::breach_instant;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

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

impl Ticket {
    /// At resolution: a qualifying ticket owes a report (unless one is published already).
    pub(super) fn owe_report(&mut self, contract: &Contract, at: Timestamp, d: &mut Decision) {
        let rule = &contract.post_incident;
        let owed = rule.severities.contains(&self.severity) || (self.security && rule.security);
        if owed && self.report.as_ref().is_none_or(|r| r.published_at.is_none()) {
            let due = contract.due(&rule.within, at);
            self.report = Some(Report { due, published_at: None, overdue_alerted: false });
            d.notices.push(self.notice(at, NoticeBody::ReportDue { due }));
            d.timers.push(TimerOp::Set { kind: TimerKind::ReportOverdue, at: breach_instant(due) });
        }
    }

    /// At reopening: an unpublished report is owed again only after the next resolution.
    pub(super) fn drop_unpublished_report(&mut self, d: &mut Decision) {
        if self.report.as_ref().is_some_and(|r| r.published_at.is_none()) {
            self.report = None;
            d.timers.push(TimerOp::Cancel { kind: TimerKind::ReportOverdue });
        }
    }

    /// The report was published: the overdue alert is off.
    pub(super) fn publish_report(&mut self, at: Timestamp, d: &mut Decision) -> Result<(), Rejected> {
        match self.report.as_mut() {
            Some(r) if r.published_at.is_none() => {
                r.published_at = Some(at);
                d.timers.push(TimerOp::Cancel { kind: TimerKind::ReportOverdue });
                Ok(())
            }
            Some(_) => Err(Rejected("the report is already published".into())),
            None => Err(Rejected(
                "no post-incident report is owed for this ticket (it is owed once a qualifying ticket is resolved)"
                    .into(),
            )),
        }
    }

    /// The overdue timer: alerts the contract's roles once, if still unpublished.
    pub(super) fn report_deadline(&mut self, contract: &Contract, now: Timestamp, d: &mut Decision) {
        if let Some(r) = self.report.as_mut()
            && r.published_at.is_none()
            && !r.overdue_alerted
            && now > r.due
        {
            r.overdue_alerted = true;
            let (due, notify) = (r.due, contract.post_incident.overdue_notify.clone());
            d.notices.push(self.notice(breach_instant(due), NoticeBody::ReportOverdue { due, notify, to: Vec::new() }));
        }
    }
}
