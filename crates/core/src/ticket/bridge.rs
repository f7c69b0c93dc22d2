//! The security-incident bridge: "we will join your incident bridge within the SLA window
//! with at least one platform engineer". The deadline is the due time of the contract's
//! named target; a join in the required role keeps the promise; a miss is noticed.

use super::{Rejected, Status, Ticket};
use crate::contract::Contract;
use crate::event::{Decision, NoticeBody, TimerKind, TimerOp};
use crate::sla::{ClockState, breach_instant};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The incident-bridge promise of a security incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bridge {
    /// Join by then.
    pub due: Timestamp,
    /// Who joined in the required role, and when.
    pub joined: Option<(Timestamp, String)>,
    /// Where the bridge is (a meeting link or a phone bridge), once the customer or a joiner
    /// said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Ticket {
    /// At opening: a security incident owes a bridge by its target's due time.
    pub(super) fn open_bridge(&mut self, contract: &Contract, d: &mut Decision) {
        if !self.security {
            return;
        }
        let target = &contract.security.bridge.within_target;
        if let Some(due) = self.clocks.iter().find(|c| &c.target == target).and_then(|c| c.due) {
            self.bridge = Some(Bridge { due, joined: None, url: None });
            d.timers.push(TimerOp::Set { kind: TimerKind::BridgeDeadline, at: breach_instant(due) });
        }
    }

    /// The customer said where their bridge is.
    pub(super) fn give_bridge(&mut self, url: &str) -> Result<(), Rejected> {
        let b =
            self.bridge.as_mut().ok_or_else(|| Rejected("only a security incident has an incident bridge".into()))?;
        b.url = Some(url.to_string());
        Ok(())
    }

    /// Someone joined: the first join in the required role keeps the promise.
    pub(super) fn join_bridge(
        &mut self,
        contract: &Contract,
        at: Timestamp,
        by: &str,
        role: &str,
        url: &Option<String>,
        d: &mut Decision,
    ) {
        if let (Some(b), Some(url)) = (self.bridge.as_mut(), url) {
            b.url = Some(url.clone());
        }
        if let Some(b) = self.bridge.as_mut()
            && b.joined.is_none()
            && role == contract.security.bridge.role
        {
            b.joined = Some((at, by.to_string()));
            d.timers.push(TimerOp::Cancel { kind: TimerKind::BridgeDeadline });
        }
    }

    /// After a severity change: the deadline follows the target's new due time.
    pub(super) fn move_bridge_deadline(&mut self, contract: &Contract, d: &mut Decision) {
        let Some(b) = self.bridge.as_mut().filter(|b| b.joined.is_none()) else { return };
        let target = &contract.security.bridge.within_target;
        if let Some(due) =
            self.clocks.iter().find(|c| &c.target == target && c.state == ClockState::Running).and_then(|c| c.due)
        {
            b.due = due;
            d.timers.push(TimerOp::Set { kind: TimerKind::BridgeDeadline, at: breach_instant(due) });
        }
    }

    /// At resolution: a bridge nobody joined is no longer awaited.
    pub(super) fn close_bridge(&mut self, d: &mut Decision) {
        if self.bridge.as_ref().is_some_and(|b| b.joined.is_none()) {
            d.timers.push(TimerOp::Cancel { kind: TimerKind::BridgeDeadline });
        }
    }

    /// The deadline timer: nobody of the required role joined in time.
    pub(super) fn bridge_deadline(&mut self, contract: &Contract, now: Timestamp, d: &mut Decision) {
        if let Some(b) = &self.bridge
            && b.joined.is_none()
            && self.status != Status::Resolved
            && now > b.due
        {
            let rule = &contract.security.bridge;
            let body = NoticeBody::BridgeOverdue {
                due: b.due,
                role: rule.role.clone(),
                notify: rule.overdue_notify.clone(),
                to: Vec::new(),
            };
            d.notices.push(self.notice(breach_instant(b.due), body));
        }
    }
}
