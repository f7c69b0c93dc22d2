//! What a delivery carries to one contact method or to an org's shared channel — a page or
//! an alert to staff, or a letter to a customer — as the one `Sender` is handed it (the
//! outbox's `Outgoing::Delivery`) and its adapters read it: typed, told apart by the
//! delivery's kind, never by the payload's shape.

use crate::mail::LetterPayload;
use crate::records::MethodKind;
use stringer_core::event::NoticeBody;
use stringer_core::ids::TicketId;

/// How urgent a delivery is: when several are due, the more urgent are claimed first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Urgency {
    /// A page: a person is asked to act now (cancelled once paging is over).
    Page,
    /// An alert to staff that is not a page (an overdue report, a missed bridge).
    Alert,
    /// A letter to a customer.
    Letter,
}

impl Urgency {
    /// The number stored with the delivery (lower is more urgent).
    pub fn rank(self) -> i64 {
        self as i64
    }

    /// The urgency a stored number names; anything unknown is the least urgent.
    pub fn from_rank(rank: i64) -> Urgency {
        match rank {
            0 => Urgency::Page,
            1 => Urgency::Alert,
            _ => Urgency::Letter,
        }
    }

    /// The urgency of deliveries made from a notice.
    pub fn of(body: &NoticeBody) -> Urgency {
        match body {
            NoticeBody::Page { .. } => Urgency::Page,
            _ => Urgency::Alert,
        }
    }
}

/// What one delivery carries, and where to: the message the adapters send. The delivery's
/// id (its idempotency key) travels beside it, as every outgoing message's does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parcel {
    /// The ticket it is about.
    pub ticket: TicketId,
    /// Over what: the contact method's kind (an org channel's is Slack).
    pub kind: MethodKind,
    /// Where: an address, a number, a URL, a channel.
    pub address: String,
    /// The contact method's signing secret (webhooks).
    pub secret: String,
    /// How urgent, which also tells what it carries: a letter, or a notice (page or alert).
    pub urgency: Urgency,
    /// What (JSON; a notice's is also the body a webhook receives).
    pub payload: String,
}

/// What a parcel carries, told by its kind ([`Parcel::urgency`]: a customer letter, or a
/// notice paging or alerting staff), read from its payload with types.
#[derive(Clone, Debug, PartialEq)]
pub enum Carried {
    /// A page or an alert to staff.
    Notice(NoticePayload),
    /// A letter to a customer.
    Letter(LetterPayload),
}

/// A notice's delivery payload as the adapters read it (it is also the JSON body a webhook
/// receives); what an older payload lacks is empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct NoticePayload {
    /// The org's slug.
    pub org: Option<String>,
    /// The notice.
    pub notice: NoticeHead,
    /// The ticket as the notice shows it.
    pub ticket: TicketHead,
    /// The person's acknowledge link (pages).
    pub ack_url: Option<String>,
}

/// What the adapters read of a delivered notice.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct NoticeHead {
    /// Its kind (`page`, `report.overdue`, …).
    pub kind: Option<String>,
    /// A page's severity.
    pub severity: Option<String>,
    /// Why a page went out.
    pub reason: Option<String>,
}

/// What the adapters read of a delivered notice's ticket.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct TicketHead {
    /// `ACME-42`.
    pub key: Option<String>,
    /// The org's name.
    pub org_name: Option<String>,
    /// The subject.
    pub subject: Option<String>,
    /// "12 min".
    pub open_for: Option<String>,
    /// The ticket in the console.
    pub url: Option<String>,
    /// A security incident's bridge.
    pub bridge: Option<String>,
}

impl NoticePayload {
    /// Reads a notice's payload; one that does not read is empty (the adapters fall back to
    /// the ticket's id).
    pub fn read(payload: &str) -> NoticePayload {
        serde_json::from_str(payload).unwrap_or_default()
    }
}

/// A letter's delivery payload: the letter, under `letter`.
#[derive(serde::Deserialize)]
struct LetterDelivery {
    letter: LetterPayload,
}

/// A letter whose payload does not read: it can never be sent (a permanent failure).
#[derive(Debug, thiserror::Error)]
#[error("the letter's payload does not read: {0}")]
pub struct Unreadable(String);

impl Parcel {
    /// What this parcel carries, by its kind.
    pub fn carried(&self) -> Result<Carried, Unreadable> {
        match self.urgency {
            Urgency::Letter => serde_json::from_str::<LetterDelivery>(&self.payload)
                .map(|l| Carried::Letter(l.letter))
                .map_err(|e| Unreadable(e.to_string())),
            Urgency::Page | Urgency::Alert => Ok(Carried::Notice(NoticePayload::read(&self.payload))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parcel(urgency: Urgency, payload: &str) -> Parcel {
        Parcel {
            ticket: TicketId("tkt_1".into()),
            kind: MethodKind::Email,
            address: "a@example.com".into(),
            secret: String::new(),
            urgency,
            payload: payload.into(),
        }
    }

    #[test]
    fn what_a_parcel_carries_is_told_by_its_kind_not_its_payloads_shape() {
        let page = r#"{"letter":{},"notice":{"kind":"page","severity":"P1"},"ack_url":"https://x/ack"}"#;
        let Ok(Carried::Notice(n)) = parcel(Urgency::Page, page).carried() else { panic!("a page is a notice") };
        assert_eq!((n.notice.severity.as_deref(), n.ack_url.as_deref()), (Some("P1"), Some("https://x/ack")));
        assert!(parcel(Urgency::Letter, page).carried().is_err(), "a letter whose payload is no letter is never sent");
        assert_eq!(
            parcel(Urgency::Alert, "not json").carried().ok(),
            Some(Carried::Notice(NoticePayload::default())),
            "an unreadable notice is an empty one"
        );
    }

    #[test]
    fn pages_are_more_urgent_than_alerts_and_letters() {
        let page = NoticeBody::Page {
            role: stringer_core::ids::Role::Oncall,
            reason: String::new(),
            to: Vec::new(),
            via: Vec::new(),
            severity: "P1".into(),
        };
        let alert = NoticeBody::ReportOverdue { due: jiff::Timestamp::UNIX_EPOCH, notify: Vec::new(), to: Vec::new() };
        assert!(Urgency::of(&page) < Urgency::of(&alert) && Urgency::of(&alert) < Urgency::Letter);
        for u in [Urgency::Page, Urgency::Alert, Urgency::Letter] {
            assert_eq!(Urgency::from_rank(u.rank()), u);
        }
    }
}
