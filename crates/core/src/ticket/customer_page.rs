//! The customer's page: for which severities and from when a customer may page the on-call
//! line themselves (Pro: a P1 still unacknowledged 30 minutes after opening; Enterprise: any
//! open ticket at any time), the refusal that says when it opens, the notice once it has, and
//! the page in flight that another press does not repeat.

use super::{Status, Ticket, later};
use crate::contract::{Contract, Uncovered};
use crate::event::{Decision, NoticeBody, TimerKind, TimerOp};
use crate::ids::Severity;
use jiff::Timestamp;
use serde::Serialize;

/// A customer page not answered yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PageInFlight {
    /// When on-call was paged.
    pub paged_at: Timestamp,
    /// When the escalation's next step pages someone else, if one will.
    pub escalates_at: Option<Timestamp>,
}

impl Ticket {
    /// At opening: when the customer may page, with a timer for the moment it opens.
    pub(super) fn open_customer_page(
        &mut self,
        contract: &Contract,
        at: Timestamp,
        d: &mut Decision,
    ) -> Result<(), Uncovered> {
        let cp = &contract.escalation(&self.tier)?.customer_page;
        if cp.severities.contains(&self.severity) {
            let opens = later(at, cp.opens_after.seconds);
            self.customer_page_opens_at = Some(opens);
            if opens > at {
                d.timers.push(TimerOp::Set { kind: TimerKind::CustomerPageOpens, at: opens });
            }
        }
        Ok(())
    }

    /// After a severity change: a severity the customer may not page for cancels the
    /// opening; one they may page for sets it (counted from opening, never before now).
    pub(super) fn reconsider_customer_page(
        &mut self,
        contract: &Contract,
        raised: bool,
        at: Timestamp,
        d: &mut Decision,
    ) -> Result<(), Uncovered> {
        let cp = &contract.escalation(&self.tier)?.customer_page;
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
        Ok(())
    }

    /// Why the customer may not page on-call at `at`, with when it opens if it will (`None`:
    /// they may). The portal asks this to show the button only when it works. A ticket whose
    /// tier the contract in force lacks is refused, saying so.
    pub fn customer_page_refusal(&self, contract: &Contract, at: Timestamp) -> Option<(Option<Timestamp>, String)> {
        let rule = match contract.escalation(&self.tier) {
            Ok(policy) => &policy.customer_page,
            Err(uncovered) => return Some((None, uncovered.to_string())),
        };
        if self.status == Status::Resolved {
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
        }
    }

    /// The customer's page still in flight, if one is: a customer page is in flight from the
    /// moment it pages until the ticket is next acknowledged (someone answered) or resolved.
    /// While it is, another press pages nobody: it is told when on-call was paged and when
    /// the escalation's next step will page someone else, if one will (docs/contract.md).
    pub fn customer_page_in_flight(&self, contract: &Contract) -> Result<Option<PageInFlight>, Uncovered> {
        let Some(paged_at) = self.customer_paged_at else { return Ok(None) };
        Ok(Some(PageInFlight { paged_at, escalates_at: self.next_escalation_at(contract)? }))
    }

    /// The customer asks to page on-call: refused (with when it opens, if ever), told that
    /// their page is still in flight, or paged.
    pub(super) fn customer_page(
        &mut self,
        contract: &Contract,
        at: Timestamp,
        d: &mut Decision,
    ) -> Result<(), Uncovered> {
        if let Some((opens_at, reason)) = self.customer_page_refusal(contract, at) {
            d.notices.push(self.notice(at, NoticeBody::CustomerPageRefused { opens_at, reason }));
        } else if let Some(PageInFlight { paged_at, escalates_at }) = self.customer_page_in_flight(contract)? {
            d.notices.push(self.notice(at, NoticeBody::CustomerPageInFlight { paged_at, escalates_at }));
        } else {
            self.page_for_customer(contract, at, d)?;
            self.customer_paged_at = Some(at);
        }
        Ok(())
    }

    /// The opening timer: tells that the customer may now page, if it still matters.
    pub(super) fn customer_page_opens(&mut self, now: Timestamp, d: &mut Decision) {
        if let Some(opens) = self.customer_page_opens_at
            && now >= opens
            && self.acknowledged.is_none()
            && self.status != Status::Resolved
        {
            d.notices.push(self.notice(opens, NoticeBody::CustomerPageAvailable));
        }
    }
}
