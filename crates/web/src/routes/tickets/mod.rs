//! Tickets: [`views`] (list, read), [`commands`] (create, change severity or status,
//! comment, acknowledge, resolve, reopen, page) and [`timeline`] (comments and the
//! append-only timeline). Every read is one read of the read port; every change goes through
//! `Commands` with the caller as actor; every permission is the access policy's.

pub mod commands;
pub mod files;
pub mod timeline;
pub mod views;

use crate::error::ApiError;
use jiff::Timestamp;
use serde::Serialize;
use stringer_app::records::TicketRecord;
use stringer_core::contract::Contract;
use stringer_core::ids::Severity;
use stringer_core::sla::ClockState;
use stringer_core::ticket::Status;
use utoipa::ToSchema;

/// One SLA clock as shown with a ticket.
#[derive(Serialize, ToSchema)]
pub struct SlaView {
    /// The contract target, e.g. "response".
    target: String,
    /// Its length as the contract writes it.
    within: String,
    /// The calendar it counts on ("clock" for clock time).
    calendar: String,
    /// running | paused | met | breached | withdrawn (the customer resolved the ticket before a response).
    state: String,
    /// RFC 3339; absent while paused.
    due: Option<String>,
    /// Wall-clock seconds until due (negative once past); absent unless running.
    seconds_left: Option<i64>,
    /// Target time left on its calendar; absent once stopped.
    business_seconds_left: Option<i64>,
    /// When it was met or stopped.
    stopped_at: Option<String>,
    /// When it was breached.
    breached_at: Option<String>,
}

/// A security incident's bridge.
#[derive(Serialize, ToSchema)]
pub struct BridgeView {
    /// Someone of the contract's bridge role must have joined by then (RFC 3339).
    due: String,
    /// Who joined in that role, once someone did.
    joined_by: Option<String>,
    /// When.
    joined_at: Option<String>,
    /// Where the bridge is, once someone said.
    url: Option<String>,
}

/// A ticket with its live SLA clocks.
#[derive(Serialize, ToSchema)]
pub struct TicketView {
    id: String,
    /// The human key, e.g. `ACME-42`, accepted wherever the id is.
    key: String,
    org: String,
    /// The staff member working the ticket.
    assignee: Option<String>,
    requester: Option<String>,
    subject: String,
    description: String,
    severity: String,
    status: String,
    security: bool,
    channel: Option<String>,
    opened_at: String,
    acknowledged_at: Option<String>,
    acknowledged_by: Option<String>,
    resolved_at: Option<String>,
    version: i64,
    sla: Vec<SlaView>,
    /// Security incidents: the bridge the contract requires.
    bridge: Option<BridgeView>,
}

fn enum_name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

/// A ticket as shown at `now`.
pub fn view(contract: &Contract, t: TicketRecord, now: Timestamp) -> TicketView {
    let s = &t.state;
    let sla = s
        .clocks
        .iter()
        .map(|c| SlaView {
            target: c.target.clone(),
            within: c.cell.within.to_string(),
            calendar: c.cell.calendar.clone().unwrap_or_else(|| "clock".into()),
            state: enum_name(&c.state),
            due: c.due.map(|d| d.to_string()),
            seconds_left: c.due.filter(|_| c.state == ClockState::Running).map(|d| d.as_second() - now.as_second()),
            business_seconds_left: c.is_active().then(|| c.remaining(contract, now)),
            stopped_at: c.stopped_at.map(|d| d.to_string()),
            breached_at: c.breached_at.map(|d| d.to_string()),
        })
        .collect();
    TicketView {
        key: t.key().to_string(),
        assignee: s.assignee.clone(),
        id: t.id.0,
        org: t.org.0,
        requester: t.requester.map(|r| r.0),
        subject: t.subject,
        description: t.description,
        severity: s.severity.to_string(),
        status: enum_name(&s.status),
        security: s.security,
        channel: s.intake.map(|c| enum_name(&c)),
        opened_at: s.opened_at.to_string(),
        acknowledged_at: s.acknowledged.as_ref().map(|(at, _)| at.to_string()),
        acknowledged_by: s.acknowledged.as_ref().map(|(_, by)| by.clone()),
        resolved_at: s.resolved_at.map(|d| d.to_string()),
        version: t.version,
        sla,
        bridge: s.bridge.as_ref().map(|b| BridgeView {
            due: b.due.to_string(),
            joined_by: b.joined.as_ref().map(|(_, by)| by.clone()),
            joined_at: b.joined.as_ref().map(|(at, _)| at.to_string()),
            url: b.url.clone(),
        }),
    }
}

fn parse_status(s: &str) -> Result<Status, ApiError> {
    serde_json::from_value(serde_json::Value::String(s.into())).map_err(|_| {
        ApiError::bad_request(format!("unknown status {s:?}; statuses are open, waiting_on_customer, resolved"))
    })
}

fn check_severity(contract: &Contract, s: &str) -> Result<Severity, ApiError> {
    contract.severity(s).ok_or_else(|| {
        let list: Vec<&str> = contract.severities.keys().map(|s| s.as_str()).collect();
        ApiError::unprocessable(format!("unknown severity {s:?}; severities are {}", list.join(", ")))
    })
}
