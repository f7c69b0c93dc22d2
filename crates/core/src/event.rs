//! The vocabulary shared by `stringer simulate`, the ticket timeline and the server: events that
//! happen to a ticket (input), notices the rules produce (output), and timers the rules ask for.

use crate::ids::{Channel, OrgSlug, Role, Severity, TicketId, Via};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Something that happened to a ticket, with the instant it happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
#[allow(missing_docs)]
pub enum Event {
    /// A ticket was opened.
    #[serde(rename = "ticket.opened")]
    Opened {
        at: Timestamp,
        ticket: TicketId,
        org: OrgSlug,
        severity: Severity,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel: Option<Channel>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        security: bool,
    },
    /// A staff member acknowledged the ticket (and so its pages).
    #[serde(rename = "ticket.acknowledged")]
    Acknowledged { at: Timestamp, ticket: TicketId, by: String },
    /// A staff member replied; only a public reply counts as a response.
    #[serde(rename = "ticket.replied")]
    Replied { at: Timestamp, ticket: TicketId, by: String, public: bool },
    /// The severity was changed.
    #[serde(rename = "ticket.severity_changed")]
    SeverityChanged { at: Timestamp, ticket: TicketId, severity: Severity },
    /// The ticket now waits on the customer.
    #[serde(rename = "ticket.waiting_on_customer")]
    WaitingOnCustomer { at: Timestamp, ticket: TicketId },
    /// The customer wrote.
    #[serde(rename = "ticket.customer_replied")]
    CustomerReplied { at: Timestamp, ticket: TicketId },
    /// The ticket was resolved.
    #[serde(rename = "ticket.resolved")]
    Resolved { at: Timestamp, ticket: TicketId },
    /// A resolved ticket was reopened.
    #[serde(rename = "ticket.reopened")]
    Reopened { at: Timestamp, ticket: TicketId },
    /// The customer asked to page the on-call engineer.
    #[serde(rename = "customer.page_requested")]
    CustomerPageRequested { at: Timestamp, ticket: TicketId },
    /// Someone joined the customer's incident bridge.
    #[serde(rename = "bridge.joined")]
    BridgeJoined { at: Timestamp, ticket: TicketId, by: String, role: String },
    /// The post-incident report was published.
    #[serde(rename = "report.published")]
    ReportPublished { at: Timestamp, ticket: TicketId },
}

impl Event {
    /// When it happened.
    pub fn at(&self) -> Timestamp {
        match self {
            Event::Opened { at, .. }
            | Event::Acknowledged { at, .. }
            | Event::Replied { at, .. }
            | Event::SeverityChanged { at, .. }
            | Event::WaitingOnCustomer { at, .. }
            | Event::CustomerReplied { at, .. }
            | Event::Resolved { at, .. }
            | Event::Reopened { at, .. }
            | Event::CustomerPageRequested { at, .. }
            | Event::BridgeJoined { at, .. }
            | Event::ReportPublished { at, .. } => *at,
        }
    }

    /// Drops any fraction of a second from the instant: the domain counts whole seconds.
    pub fn truncate_to_second(&mut self) {
        let whole =
            jiff::Timestamp::from_second(self.at().as_second()).expect("a valid timestamp truncated stays valid");
        match self {
            Event::Opened { at, .. }
            | Event::Acknowledged { at, .. }
            | Event::Replied { at, .. }
            | Event::SeverityChanged { at, .. }
            | Event::WaitingOnCustomer { at, .. }
            | Event::CustomerReplied { at, .. }
            | Event::Resolved { at, .. }
            | Event::Reopened { at, .. }
            | Event::CustomerPageRequested { at, .. }
            | Event::BridgeJoined { at, .. }
            | Event::ReportPublished { at, .. } => *at = whole,
        }
    }

    /// The ticket it happened to.
    pub fn ticket(&self) -> &TicketId {
        match self {
            Event::Opened { ticket, .. }
            | Event::Acknowledged { ticket, .. }
            | Event::Replied { ticket, .. }
            | Event::SeverityChanged { ticket, .. }
            | Event::WaitingOnCustomer { ticket, .. }
            | Event::CustomerReplied { ticket, .. }
            | Event::Resolved { ticket, .. }
            | Event::Reopened { ticket, .. }
            | Event::CustomerPageRequested { ticket, .. }
            | Event::BridgeJoined { ticket, .. }
            | Event::ReportPublished { ticket, .. } => ticket,
        }
    }
}

/// Something the rules decided must be known or done: a page, a breach, a report due date.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// When.
    pub at: Timestamp,
    /// About which ticket.
    pub ticket: TicketId,
    /// What.
    #[serde(flatten)]
    pub body: NoticeBody,
}

/// The kinds of notice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
#[allow(missing_docs)]
pub enum NoticeBody {
    /// Page a person in `role` now.
    #[serde(rename = "page")]
    Page {
        role: Role,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        via: Vec<Via>,
        severity: Severity,
    },
    /// The customer may now page the on-call line.
    #[serde(rename = "customer_page.available")]
    CustomerPageAvailable,
    /// A customer page was refused; `opens_at` says when it will be accepted, if ever.
    #[serde(rename = "customer_page.refused")]
    CustomerPageRefused { opens_at: Option<Timestamp>, reason: String },
    /// A target was missed.
    #[serde(rename = "sla.breached")]
    SlaBreached { target: String, due: Timestamp },
    /// A target was met.
    #[serde(rename = "sla.met")]
    SlaMet { target: String, due: Timestamp },
    /// A post-incident report is now owed.
    #[serde(rename = "report.due")]
    ReportDue { due: Timestamp },
    /// A post-incident report is past due and unpublished.
    #[serde(rename = "report.overdue")]
    ReportOverdue { due: Timestamp, notify: Vec<Role> },
    /// Nobody of the required role joined the incident bridge in time.
    #[serde(rename = "bridge.overdue")]
    BridgeOverdue { due: Timestamp, role: String },
    /// The support queue was told about a ticket that does not page.
    #[serde(rename = "queue.notified")]
    QueueNotified { severity: Severity },
}

impl NoticeBody {
    /// The `kind` name as written in JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            NoticeBody::Page { .. } => "page",
            NoticeBody::CustomerPageAvailable => "customer_page.available",
            NoticeBody::CustomerPageRefused { .. } => "customer_page.refused",
            NoticeBody::SlaBreached { .. } => "sla.breached",
            NoticeBody::SlaMet { .. } => "sla.met",
            NoticeBody::ReportDue { .. } => "report.due",
            NoticeBody::ReportOverdue { .. } => "report.overdue",
            NoticeBody::BridgeOverdue { .. } => "bridge.overdue",
            NoticeBody::QueueNotified { .. } => "queue.notified",
        }
    }
}

/// What a ticket's timer is for. A ticket has at most one timer of each kind.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "timer", rename_all = "snake_case")]
pub enum TimerKind {
    /// The breach of the named target.
    Breach {
        /// The contract target's name.
        target: String,
    },
    /// The next escalation step (or the start of a deferred escalation).
    Escalation,
    /// The customer-page opening.
    CustomerPageOpens,
    /// The bridge-join deadline.
    BridgeDeadline,
    /// The post-incident report deadline.
    ReportOverdue,
    /// Telling the queue once coverage opens.
    QueueNotify,
}

/// A change to a ticket's timers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimerOp {
    /// Set (or move) the timer of this kind to fire at `at`.
    Set {
        /// Which timer.
        kind: TimerKind,
        /// When it fires.
        at: Timestamp,
    },
    /// Remove the timer of this kind, if any.
    Cancel {
        /// Which timer.
        kind: TimerKind,
    },
}

/// What a decision produced besides the new ticket state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decision {
    /// Notices to record and deliver, in order.
    pub notices: Vec<Notice>,
    /// Timer changes, in order (a later op on the same kind wins).
    pub timers: Vec<TimerOp>,
}
