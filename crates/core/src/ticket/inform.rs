//! What the customer is told, and when: the acknowledgement of a new ticket, each public
//! reply, the resolution, and the moment the on-call line opens for them. The rule only
//! names the occasion; who receives it (the requester, as their preferences allow) and over
//! which channel is the application's business.

use crate::event::{Event, EventKind, Notice, NoticeBody};
use serde::{Deserialize, Serialize};

/// An occasion to keep the customer informed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Inform {
    /// The ticket was received: its key, severity and when a response is due.
    Received,
    /// Staff replied publicly: the reply itself.
    Replied,
    /// The ticket was resolved.
    Resolved,
    /// The customer may now page the on-call engineer (Pro P1 outside coverage).
    LineOpen,
}

impl Inform {
    /// The name used in JSON, the database and preferences.
    pub fn as_str(self) -> &'static str {
        match self {
            Inform::Received => "received",
            Inform::Replied => "replied",
            Inform::Resolved => "resolved",
            Inform::LineOpen => "line_open",
        }
    }

    /// Every occasion, in the order a ticket meets them.
    pub const ALL: [Inform; 4] = [Inform::Received, Inform::Replied, Inform::Resolved, Inform::LineOpen];

    /// Whether the message is automatic (`Auto-Submitted: auto-replied`) rather than a
    /// person's words.
    pub fn automatic(self) -> bool {
        !matches!(self, Inform::Replied)
    }
}

/// The occasions one change gives: from its events and the notices it decided.
pub fn informs(events: &[Event], notices: &[Notice]) -> Vec<Inform> {
    let from_events = events.iter().filter_map(|e| match e.kind {
        EventKind::Opened { .. } => Some(Inform::Received),
        EventKind::Replied { public: true, .. } => Some(Inform::Replied),
        EventKind::Resolved { .. } => Some(Inform::Resolved),
        _ => None,
    });
    let from_notices =
        notices.iter().filter(|n| matches!(n.body, NoticeBody::CustomerPageAvailable)).map(|_| Inform::LineOpen);
    let mut out: Vec<Inform> = Vec::new();
    for i in from_events.chain(from_notices) {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{OrgSlug, Severity, TicketId};
    use jiff::Timestamp;

    fn event(kind: EventKind) -> Event {
        Event::new(Timestamp::UNIX_EPOCH, TicketId("t".into()), kind)
    }

    #[test]
    fn customers_hear_of_receipt_public_replies_resolution_and_the_line() {
        let opened = event(EventKind::Opened {
            org: OrgSlug("acme".into()),
            severity: Severity("P1".into()),
            intake: None,
            security: false,
        });
        let cases: Vec<(Vec<Event>, Vec<Notice>, Vec<Inform>)> = vec![
            (vec![opened.clone()], vec![], vec![Inform::Received]),
            (vec![event(EventKind::Replied { by: "e".into(), public: true })], vec![], vec![Inform::Replied]),
            (vec![event(EventKind::Replied { by: "e".into(), public: false })], vec![], vec![]),
            (vec![event(EventKind::Acknowledged { by: "e".into() })], vec![], vec![]),
            (vec![event(EventKind::CustomerReplied)], vec![], vec![]),
            (vec![event(EventKind::Resolved { by_customer: false })], vec![], vec![Inform::Resolved]),
            (
                vec![],
                vec![Notice {
                    at: Timestamp::UNIX_EPOCH,
                    ticket: TicketId("t".into()),
                    body: NoticeBody::CustomerPageAvailable,
                }],
                vec![Inform::LineOpen],
            ),
        ];
        for (events, notices, want) in cases {
            assert_eq!(informs(&events, &notices), want, "{events:?} {notices:?}");
        }
    }
}
