//! The vocabulary shared by `stringer simulate`, the ticket timeline and the server: events that
//! happen to a ticket (input), notices the rules produce (output), and timers the rules ask for.

use crate::ids::{Intake, OrgSlug, Role, Severity, TicketId, Via};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Something that happened to a ticket: when, to which ticket, and what.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// When it happened.
    pub at: Timestamp,
    /// The ticket it happened to.
    pub ticket: TicketId,
    /// What happened.
    pub kind: EventKind,
}

/// What happened to a ticket.
#[derive(Clone, Debug, PartialEq)]
pub enum EventKind {
    /// The ticket was opened.
    Opened {
        /// The customer org.
        org: OrgSlug,
        /// Its severity.
        severity: Severity,
        /// Where it came in.
        intake: Option<Intake>,
        /// A security incident.
        security: bool,
    },
    /// A staff member acknowledged the ticket (and so its pages).
    Acknowledged {
        /// Who.
        by: String,
    },
    /// A staff member replied; only a public reply counts as a response.
    Replied {
        /// Who.
        by: String,
        /// Visible to the customer.
        public: bool,
    },
    /// The severity was changed.
    SeverityChanged {
        /// The new severity.
        severity: Severity,
    },
    /// The ticket now waits on the customer.
    WaitingOnCustomer,
    /// Staff ended the wait on the customer themselves (the customer answered another way).
    StoppedWaiting,
    /// The customer wrote.
    CustomerReplied,
    /// The ticket was resolved.
    Resolved {
        /// By the customer (who thereby withdraws a request not yet responded to), not staff.
        by_customer: bool,
    },
    /// A resolved ticket was reopened.
    Reopened,
    /// The customer asked to page the on-call engineer.
    CustomerPageRequested,
    /// Someone joined the customer's incident bridge.
    BridgeJoined {
        /// Who.
        by: String,
        /// In which staff role.
        role: String,
        /// Where the bridge is (a meeting link), when given.
        url: Option<String>,
    },
    /// The customer said where their incident bridge is (a meeting link or a phone bridge),
    /// when reporting a security incident.
    BridgeGiven {
        /// The address, checked at the edge.
        url: String,
    },
    /// The post-incident report was published.
    ReportPublished,
    /// The ticket was given to a staff member to work (`None`: given back to the queue).
    Assigned {
        /// Who works it now.
        to: Option<String>,
    },
}

impl Event {
    /// An event of `kind` on `ticket` at `at`.
    pub fn new(at: Timestamp, ticket: TicketId, kind: EventKind) -> Event {
        Event { at, ticket, kind }
    }

    /// Drops any fraction of a second from the instant: the domain counts whole seconds.
    pub fn truncate_to_second(&mut self) {
        self.at = Timestamp::from_second(self.at.as_second()).expect("a valid timestamp truncated stays valid");
    }

    /// The `kind` name as written in JSON, e.g. `ticket.opened`.
    pub fn name(&self) -> &'static str {
        match self.kind {
            EventKind::Opened { .. } => "ticket.opened",
            EventKind::Acknowledged { .. } => "ticket.acknowledged",
            EventKind::Replied { .. } => "ticket.replied",
            EventKind::SeverityChanged { .. } => "ticket.severity_changed",
            EventKind::WaitingOnCustomer => "ticket.waiting_on_customer",
            EventKind::StoppedWaiting => "ticket.stopped_waiting",
            EventKind::CustomerReplied => "ticket.customer_replied",
            EventKind::Resolved { .. } => "ticket.resolved",
            EventKind::Reopened => "ticket.reopened",
            EventKind::CustomerPageRequested => "customer.page_requested",
            EventKind::BridgeJoined { .. } => "bridge.joined",
            EventKind::BridgeGiven { .. } => "bridge.given",
            EventKind::ReportPublished => "report.published",
            EventKind::Assigned { .. } => "ticket.assigned",
        }
    }
}

/// The `kind` names of events, as [`Event::name`] writes them: what a timeline row holds
/// when it records something done (the other rows are notices, what the rules decided).
pub const EVENT_KINDS: [&str; 14] = [
    "ticket.opened",
    "ticket.acknowledged",
    "ticket.replied",
    "ticket.severity_changed",
    "ticket.waiting_on_customer",
    "ticket.stopped_waiting",
    "ticket.customer_replied",
    "ticket.resolved",
    "ticket.reopened",
    "customer.page_requested",
    "bridge.joined",
    "bridge.given",
    "report.published",
    "ticket.assigned",
];

/// Whether a timeline row of `kind` records an event (else a notice).
pub fn is_event_kind(kind: &str) -> bool {
    EVENT_KINDS.contains(&kind)
}

/// The JSON form of an event (a scenario line, a timeline entry): `at`, `ticket` and `kind`
/// side by side with the kind's fields, as written; [`Fields`] reads it back.
#[derive(Serialize)]
#[serde(tag = "kind")]
enum Wire {
    #[serde(rename = "ticket.opened")]
    Opened {
        at: Timestamp,
        ticket: TicketId,
        org: OrgSlug,
        severity: Severity,
        #[serde(skip_serializing_if = "Option::is_none")]
        channel: Option<Intake>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        security: bool,
    },
    #[serde(rename = "ticket.acknowledged")]
    Acknowledged { at: Timestamp, ticket: TicketId, by: String },
    #[serde(rename = "ticket.replied")]
    Replied { at: Timestamp, ticket: TicketId, by: String, public: bool },
    #[serde(rename = "ticket.severity_changed")]
    SeverityChanged { at: Timestamp, ticket: TicketId, severity: Severity },
    #[serde(rename = "ticket.waiting_on_customer")]
    WaitingOnCustomer { at: Timestamp, ticket: TicketId },
    #[serde(rename = "ticket.stopped_waiting")]
    StoppedWaiting { at: Timestamp, ticket: TicketId },
    #[serde(rename = "ticket.customer_replied")]
    CustomerReplied { at: Timestamp, ticket: TicketId },
    #[serde(rename = "ticket.resolved")]
    Resolved {
        at: Timestamp,
        ticket: TicketId,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        by_customer: bool,
    },
    #[serde(rename = "ticket.reopened")]
    Reopened { at: Timestamp, ticket: TicketId },
    #[serde(rename = "customer.page_requested")]
    CustomerPageRequested { at: Timestamp, ticket: TicketId },
    #[serde(rename = "bridge.joined")]
    BridgeJoined {
        at: Timestamp,
        ticket: TicketId,
        by: String,
        role: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        url: Option<String>,
    },
    #[serde(rename = "bridge.given")]
    BridgeGiven { at: Timestamp, ticket: TicketId, url: String },
    #[serde(rename = "report.published")]
    ReportPublished { at: Timestamp, ticket: TicketId },
    #[serde(rename = "ticket.assigned")]
    Assigned { at: Timestamp, ticket: TicketId, to: Option<String> },
}

impl From<&Event> for Wire {
    fn from(e: &Event) -> Wire {
        let (at, ticket) = (e.at, e.ticket.clone());
        match e.kind.clone() {
            EventKind::Opened { org, severity, intake, security } => {
                Wire::Opened { at, ticket, org, severity, channel: intake, security }
            }
            EventKind::Acknowledged { by } => Wire::Acknowledged { at, ticket, by },
            EventKind::Replied { by, public } => Wire::Replied { at, ticket, by, public },
            EventKind::SeverityChanged { severity } => Wire::SeverityChanged { at, ticket, severity },
            EventKind::WaitingOnCustomer => Wire::WaitingOnCustomer { at, ticket },
            EventKind::StoppedWaiting => Wire::StoppedWaiting { at, ticket },
            EventKind::CustomerReplied => Wire::CustomerReplied { at, ticket },
            EventKind::Resolved { by_customer } => Wire::Resolved { at, ticket, by_customer },
            EventKind::Reopened => Wire::Reopened { at, ticket },
            EventKind::CustomerPageRequested => Wire::CustomerPageRequested { at, ticket },
            EventKind::BridgeJoined { by, role, url } => Wire::BridgeJoined { at, ticket, by, role, url },
            EventKind::BridgeGiven { url } => Wire::BridgeGiven { at, ticket, url },
            EventKind::ReportPublished => Wire::ReportPublished { at, ticket },
            EventKind::Assigned { to } => Wire::Assigned { at, ticket, to },
        }
    }
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Wire::from(self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Event, D::Error> {
        Fields::deserialize(deserializer)?.event()
    }
}

/// The kinds of event by their names in JSON (`kind`).
#[derive(Clone, Copy, Deserialize)]
enum Kind {
    #[serde(rename = "ticket.opened")]
    Opened,
    #[serde(rename = "ticket.acknowledged")]
    Acknowledged,
    #[serde(rename = "ticket.replied")]
    Replied,
    #[serde(rename = "ticket.severity_changed")]
    SeverityChanged,
    #[serde(rename = "ticket.waiting_on_customer")]
    WaitingOnCustomer,
    #[serde(rename = "ticket.stopped_waiting")]
    StoppedWaiting,
    #[serde(rename = "ticket.customer_replied")]
    CustomerReplied,
    #[serde(rename = "ticket.resolved")]
    Resolved,
    #[serde(rename = "ticket.reopened")]
    Reopened,
    #[serde(rename = "customer.page_requested")]
    CustomerPageRequested,
    #[serde(rename = "bridge.joined")]
    BridgeJoined,
    #[serde(rename = "bridge.given")]
    BridgeGiven,
    #[serde(rename = "report.published")]
    ReportPublished,
    #[serde(rename = "ticket.assigned")]
    Assigned,
}

impl Kind {
    /// The fields an event of this kind may have besides `kind`, as [`Wire`] writes them.
    fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Opened => &["at", "ticket", "org", "severity", "channel", "security"],
            Kind::Acknowledged => &["at", "ticket", "by"],
            Kind::Replied => &["at", "ticket", "by", "public"],
            Kind::SeverityChanged => &["at", "ticket", "severity"],
            Kind::Resolved => &["at", "ticket", "by_customer"],
            Kind::BridgeJoined => &["at", "ticket", "by", "role", "url"],
            Kind::BridgeGiven => &["at", "ticket", "url"],
            Kind::Assigned => &["at", "ticket", "to"],
            Kind::WaitingOnCustomer
            | Kind::StoppedWaiting
            | Kind::CustomerReplied
            | Kind::Reopened
            | Kind::CustomerPageRequested
            | Kind::ReportPublished => &["at", "ticket"],
        }
    }
}

/// An event's JSON read in one pass: every field some kind has, each then taken or refused by
/// the event's kind. (A tagged enum makes serde buffer each object before reading it by its
/// tag, which a what-if pays for millions of timeline rows.) A field given as `null` stays apart
/// from one left out: `null` is refused where the kind's field is not optional.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fields {
    kind: Kind,
    #[serde(default, deserialize_with = "given")]
    at: Option<Timestamp>,
    #[serde(default, deserialize_with = "given")]
    ticket: Option<TicketId>,
    #[serde(default, deserialize_with = "given")]
    org: Option<OrgSlug>,
    #[serde(default, deserialize_with = "given")]
    severity: Option<Severity>,
    #[serde(default, deserialize_with = "given")]
    channel: Option<Option<Intake>>,
    #[serde(default, deserialize_with = "given")]
    security: Option<bool>,
    #[serde(default, deserialize_with = "given")]
    by: Option<String>,
    #[serde(default, deserialize_with = "given")]
    public: Option<bool>,
    #[serde(default, deserialize_with = "given")]
    by_customer: Option<bool>,
    #[serde(default, deserialize_with = "given")]
    role: Option<String>,
    #[serde(default, deserialize_with = "given")]
    url: Option<Option<String>>,
    #[serde(default, deserialize_with = "given")]
    to: Option<Option<String>>,
}

/// A field that is there: its value read as `T` (so `null` only where `T` takes it).
fn given<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// `field`'s value, or the error of a field left out.
fn needed<T, E: serde::de::Error>(value: Option<T>, field: &'static str) -> Result<T, E> {
    value.ok_or_else(|| E::missing_field(field))
}

impl Fields {
    /// The event these fields make, or the error serde gives for a field the kind does not
    /// have or one it needs and lacks.
    fn event<E: serde::de::Error>(self) -> Result<Event, E> {
        let allowed = self.kind.fields();
        let given = [
            ("at", self.at.is_some()),
            ("ticket", self.ticket.is_some()),
            ("org", self.org.is_some()),
            ("severity", self.severity.is_some()),
            ("channel", self.channel.is_some()),
            ("security", self.security.is_some()),
            ("by", self.by.is_some()),
            ("public", self.public.is_some()),
            ("by_customer", self.by_customer.is_some()),
            ("role", self.role.is_some()),
            ("url", self.url.is_some()),
            ("to", self.to.is_some()),
        ];
        if let Some((field, _)) = given.iter().find(|(field, there)| *there && !allowed.contains(field)) {
            return Err(E::unknown_field(field, allowed));
        }
        let (at, ticket) = (needed(self.at, "at")?, needed(self.ticket, "ticket")?);
        use EventKind as K;
        let kind = match self.kind {
            Kind::Opened => K::Opened {
                org: needed(self.org, "org")?,
                severity: needed(self.severity, "severity")?,
                intake: self.channel.flatten(),
                security: self.security.unwrap_or(false),
            },
            Kind::Acknowledged => K::Acknowledged { by: needed(self.by, "by")? },
            Kind::Replied => K::Replied { by: needed(self.by, "by")?, public: needed(self.public, "public")? },
            Kind::SeverityChanged => K::SeverityChanged { severity: needed(self.severity, "severity")? },
            Kind::WaitingOnCustomer => K::WaitingOnCustomer,
            Kind::StoppedWaiting => K::StoppedWaiting,
            Kind::CustomerReplied => K::CustomerReplied,
            Kind::Resolved => K::Resolved { by_customer: self.by_customer.unwrap_or(false) },
            Kind::Reopened => K::Reopened,
            Kind::CustomerPageRequested => K::CustomerPageRequested,
            Kind::BridgeJoined => K::BridgeJoined {
                by: needed(self.by, "by")?,
                role: needed(self.role, "role")?,
                url: self.url.flatten(),
            },
            Kind::BridgeGiven => match self.url {
                Some(Some(url)) => K::BridgeGiven { url },
                Some(None) => return Err(E::invalid_type(serde::de::Unexpected::Unit, &"a string")),
                None => return Err(E::missing_field("url")),
            },
            Kind::ReportPublished => K::ReportPublished,
            Kind::Assigned => K::Assigned { to: self.to.flatten() },
        };
        Ok(Event { at, ticket, kind })
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
    /// Page whoever holds `role` now; `to` names the people it was routed to.
    #[serde(rename = "page")]
    Page {
        role: Role,
        reason: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty", with = "one_or_many")]
        to: Vec<String>,
        via: Vec<Via>,
        severity: Severity,
    },
    /// The customer may now page the on-call line.
    #[serde(rename = "customer_page.available")]
    CustomerPageAvailable,
    /// A customer page was asked for while the last one is still in flight (unanswered): it
    /// was made at `paged_at`, and the escalation's next step pages at `escalates_at`, if any.
    /// Nothing new is paged.
    #[serde(rename = "customer_page.in_flight")]
    CustomerPageInFlight { paged_at: Timestamp, escalates_at: Option<Timestamp> },
    /// A customer page was refused; `opens_at` says when it will be accepted, if ever.
    #[serde(rename = "customer_page.refused")]
    CustomerPageRefused { opens_at: Option<Timestamp>, reason: String },
    /// A target was missed.
    #[serde(rename = "sla.breached")]
    SlaBreached { target: String, due: Timestamp },
    /// A target was met.
    #[serde(rename = "sla.met")]
    SlaMet { target: String, due: Timestamp },
    /// A target was withdrawn: the customer resolved the ticket before it was met.
    #[serde(rename = "sla.withdrawn")]
    SlaWithdrawn { target: String, due: Timestamp },
    /// A post-incident report is now owed.
    #[serde(rename = "report.due")]
    ReportDue { due: Timestamp },
    /// A post-incident report is past due and unpublished; `to` names the people alerted.
    #[serde(rename = "report.overdue")]
    ReportOverdue {
        due: Timestamp,
        notify: Vec<Role>,
        #[serde(default, skip_serializing_if = "Vec::is_empty", with = "one_or_many")]
        to: Vec<String>,
    },
    /// Nobody of the required role joined the incident bridge in time; `notify` names the
    /// roles told of it and `to` the people they were routed to.
    #[serde(rename = "bridge.overdue")]
    BridgeOverdue {
        due: Timestamp,
        role: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        notify: Vec<Role>,
        #[serde(default, skip_serializing_if = "Vec::is_empty", with = "one_or_many")]
        to: Vec<String>,
    },
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
            NoticeBody::CustomerPageInFlight { .. } => "customer_page.in_flight",
            NoticeBody::SlaBreached { .. } => "sla.breached",
            NoticeBody::SlaMet { .. } => "sla.met",
            NoticeBody::SlaWithdrawn { .. } => "sla.withdrawn",
            NoticeBody::ReportDue { .. } => "report.due",
            NoticeBody::ReportOverdue { .. } => "report.overdue",
            NoticeBody::BridgeOverdue { .. } => "bridge.overdue",
            NoticeBody::QueueNotified { .. } => "queue.notified",
        }
    }
}

impl NoticeBody {
    /// The roles a notice asks people of, if it asks anyone: who routing must find.
    pub fn roles(&self) -> Vec<Role> {
        match self {
            NoticeBody::Page { role, .. } => vec![*role],
            NoticeBody::ReportOverdue { notify, .. } | NoticeBody::BridgeOverdue { notify, .. } => notify.clone(),
            _ => Vec::new(),
        }
    }

    /// The people a notice was routed to (empty for notices that reach nobody in person).
    pub fn recipients(&self) -> &[String] {
        match self {
            NoticeBody::Page { to, .. }
            | NoticeBody::ReportOverdue { to, .. }
            | NoticeBody::BridgeOverdue { to, .. } => to,
            _ => &[],
        }
    }

    /// Sets the people the notice was routed to.
    pub fn route_to(&mut self, people: Vec<String>) {
        if let NoticeBody::Page { to, .. }
        | NoticeBody::ReportOverdue { to, .. }
        | NoticeBody::BridgeOverdue { to, .. } = self
        {
            *to = people;
        }
    }
}

/// `to` as written: one person as a string, several as a list.
mod one_or_many {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(people: &[String], serializer: S) -> Result<S::Ok, S::Error> {
        match people {
            [one] => one.serialize(serializer),
            many => many.serialize(serializer),
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
        Ok(match OneOrMany::deserialize(deserializer)? {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        })
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

impl TimerOp {
    /// The timer this op sets or cancels.
    pub fn kind(&self) -> &TimerKind {
        match self {
            TimerOp::Set { kind, .. } | TimerOp::Cancel { kind } => kind,
        }
    }
}

/// Applies timer changes, in order, to one ticket's pending timers (one instant per kind): the
/// last op on a kind wins. The stores keep their timers by this rule (the memory store through
/// this function, the SQL committer in its own statements), and the replay keeps its own with
/// it, so both agree on what is pending.
pub fn apply_timer_ops(timers: &mut BTreeMap<TimerKind, Timestamp>, ops: &[TimerOp]) {
    for op in ops {
        match op {
            TimerOp::Set { kind, at } => {
                timers.insert(kind.clone(), *at);
            }
            TimerOp::Cancel { kind } => {
                timers.remove(kind);
            }
        }
    }
}

/// What a decision produced besides the new ticket state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decision {
    /// Notices to record and deliver, in order.
    pub notices: Vec<Notice>,
    /// Timer changes, in order (a later op on the same kind wins).
    pub timers: Vec<TimerOp>,
}

impl Decision {
    /// Appends a later decision's notices and timer changes to this one's, as one change
    /// records them.
    pub fn merge(&mut self, later: Decision) {
        self.notices.extend(later.notices);
        self.timers.extend(later.timers);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_timer_op_on_a_kind_wins() {
        let at = |s: &str| -> Timestamp { s.parse().unwrap() };
        let breach = || TimerKind::Breach { target: "response".into() };
        let mut timers = BTreeMap::from([(TimerKind::Escalation, at("2026-11-27T10:00:00Z"))]);
        apply_timer_ops(
            &mut timers,
            &[
                TimerOp::Set { kind: breach(), at: at("2026-11-27T11:00:00Z") },
                TimerOp::Cancel { kind: TimerKind::Escalation },
                TimerOp::Set { kind: TimerKind::Escalation, at: at("2026-11-27T10:15:00Z") },
                TimerOp::Set { kind: breach(), at: at("2026-11-27T12:00:00Z") },
                TimerOp::Set { kind: TimerKind::QueueNotify, at: at("2026-11-27T09:00:00Z") },
                TimerOp::Cancel { kind: TimerKind::QueueNotify },
                TimerOp::Cancel { kind: TimerKind::ReportOverdue },
            ],
        );
        let expected = BTreeMap::from([
            (breach(), at("2026-11-27T12:00:00Z")),
            (TimerKind::Escalation, at("2026-11-27T10:15:00Z")),
        ]);
        assert_eq!(timers, expected);
    }

    /// Every kind written and read back is the same event, whatever optional fields it has.
    #[test]
    fn every_kind_reads_back_as_written() {
        let at: Timestamp = "2026-11-27T10:00:00Z".parse().unwrap();
        let kinds = [
            EventKind::Opened { org: "acme".into(), severity: "P1".into(), intake: None, security: false },
            EventKind::Opened {
                org: "acme".into(),
                severity: "P2".into(),
                intake: Some(Intake::Slack),
                security: true,
            },
            EventKind::Acknowledged { by: "usr_1".into() },
            EventKind::Replied { by: "usr_1".into(), public: true },
            EventKind::SeverityChanged { severity: "P3".into() },
            EventKind::WaitingOnCustomer,
            EventKind::StoppedWaiting,
            EventKind::CustomerReplied,
            EventKind::Resolved { by_customer: true },
            EventKind::Resolved { by_customer: false },
            EventKind::Reopened,
            EventKind::CustomerPageRequested,
            EventKind::BridgeJoined { by: "usr_1".into(), role: "on_call".into(), url: None },
            EventKind::BridgeJoined { by: "usr_1".into(), role: "tam".into(), url: Some("https://meet/x".into()) },
            EventKind::BridgeGiven { url: "https://meet/x".into() },
            EventKind::ReportPublished,
            EventKind::Assigned { to: Some("usr_2".into()) },
            EventKind::Assigned { to: None },
        ];
        for kind in kinds {
            let event = Event::new(at, "T1".into(), kind);
            let json = serde_json::to_string(&event).unwrap();
            assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), event, "{json}");
        }
    }

    /// What an event's JSON may not be, and the error that says so: a field the kind lacks, a
    /// needed field left out, `null` where the field is not optional; `null` is taken where it
    /// is.
    #[test]
    fn events_are_read_strictly() {
        let head = r#""at":"2026-11-27T10:00:00Z","ticket":"T1""#;
        let refused = [
            (
                r#""kind":"ticket.acknowledged","by":"u","org":"acme""#,
                "unknown field `org`, expected one of `at`, `ticket`, `by`",
            ),
            (r#""kind":"ticket.acknowledged""#, "missing field `by`"),
            (r#""kind":"ticket.replied","by":"u""#, "missing field `public`"),
            (
                r#""kind":"ticket.opened","org":"acme","severity":"P1","security":null"#,
                "invalid type: null, expected a boolean",
            ),
            (r#""kind":"ticket.acknowledged","by":null"#, "invalid type: null, expected a string"),
            (r#""kind":"bridge.given","url":null"#, "invalid type: null, expected a string"),
            (r#""kind":"bridge.given""#, "missing field `url`"),
            (r#""kind":"ticket.reopened","colour":"red""#, "unknown field `colour`"),
            (r#""kind":"ticket.exploded""#, "unknown variant `ticket.exploded`"),
            (r#""kind":"ticket.reopened","at":"2026-11-27T11:00:00Z""#, "duplicate field `at`"),
        ];
        for (fields, error) in refused {
            let json = format!("{{{head},{fields}}}");
            let e = serde_json::from_str::<Event>(&json).expect_err(&json).to_string();
            assert!(e.contains(error), "{json}: {e}");
        }
        assert!(
            serde_json::from_str::<Event>(r#"{"kind":"ticket.reopened","ticket":"T1"}"#)
                .unwrap_err()
                .to_string()
                .contains("missing field `at`")
        );
        let taken = [
            (r#""kind":"ticket.opened","org":"acme","severity":"P1","channel":null"#, "ticket.opened"),
            (r#""kind":"bridge.joined","by":"u","role":"tam","url":null"#, "bridge.joined"),
            (r#""kind":"ticket.assigned","to":null"#, "ticket.assigned"),
            (r#""kind":"ticket.assigned""#, "ticket.assigned"),
        ];
        for (fields, name) in taken {
            let json = format!("{{{head},{fields}}}");
            assert_eq!(serde_json::from_str::<Event>(&json).expect(&json).name(), name);
        }
    }
}
