//! "Page on-call now" pages once (docs/contract.md, "Paging and escalation"): a customer page
//! is in flight from the moment it pages until the ticket is next acknowledged or resolved;
//! another press meanwhile pages nobody and is told when on-call was paged and when the
//! escalation's next step pages someone else.

use jiff::{SignedDuration, Timestamp};
use stringer_core::contract::Contract;
use stringer_core::event::{Event, EventKind, NoticeBody};
use stringer_core::ids::{Deployment, OrgSlug, Severity, TicketId, Tier};
use stringer_core::ticket::{OrgProfile, Ticket};

const OPENED: &str = "2026-11-27T10:00:00Z";

fn minutes(m: i64) -> Timestamp {
    OPENED.parse::<Timestamp>().unwrap() + SignedDuration::from_mins(m)
}

/// What each customer press (and the other events) decided, in words, at minutes after opening.
fn run(tier: &str, severity: &str, steps: &[(i64, EventKind)]) -> Vec<String> {
    let contract = Contract::default_contract();
    let org = OrgProfile { slug: OrgSlug::from("acme"), tier: Tier::from(tier), deployment: Deployment::Shared };
    let open =
        EventKind::Opened { org: org.slug.clone(), severity: Severity::from(severity), intake: None, security: false };
    let (mut t, _) = Ticket::open(&contract, &org, &Event::new(minutes(0), TicketId::from("T1"), open)).unwrap();
    let mut said = Vec::new();
    let m = |at: Timestamp| (at.as_second() - minutes(0).as_second()) / 60;
    for (at, kind) in steps {
        let d = t.apply(&contract, &Event::new(minutes(*at), TicketId::from("T1"), kind.clone())).unwrap();
        for n in d.notices {
            said.push(match n.body {
                NoticeBody::Page { role, .. } => format!("+{at} page {}", role.as_str()),
                NoticeBody::CustomerPageInFlight { paged_at, escalates_at } => format!(
                    "+{at} in flight since +{}{}",
                    m(paged_at),
                    escalates_at.map(|e| format!(", escalates +{}", m(e))).unwrap_or_default()
                ),
                other => format!("+{at} {}", other.kind()),
            });
        }
    }
    said
}

/// (the promise, tier, severity, what happens, what was decided)
type Case = (&'static str, &'static str, &'static str, Vec<(i64, EventKind)>, Vec<&'static str>);

#[test]
fn a_customer_page_pages_once_until_answered() {
    let press = || EventKind::CustomerPageRequested;
    let ack = || EventKind::Acknowledged { by: "eve".into() };
    let cases: Vec<Case> = vec![
        (
            "Enterprise P3: the first press pages; the next ones, unanswered, are told when the TAM's step comes",
            "enterprise",
            "P3",
            vec![(2, press()), (3, press()), (10, press())],
            vec!["+2 page oncall", "+3 in flight since +2, escalates +17", "+10 in flight since +2, escalates +17"],
        ),
        (
            "answered (acknowledged): the next press pages again",
            "enterprise",
            "P3",
            vec![(2, press()), (5, ack()), (6, press()), (7, press())],
            vec!["+2 page oncall", "+5 sla.met", "+6 page oncall", "+7 in flight since +6, escalates +21"],
        ),
        (
            "Pro P1 past 30 minutes: the press pages on-call; again, no further step to tell of",
            "pro",
            "P1",
            vec![(31, press()), (32, press())],
            vec!["+31 page oncall", "+32 in flight since +31"],
        ),
        (
            "resolved and reopened: the old page is over, a press pages again",
            "enterprise",
            "P3",
            vec![(2, press()), (4, EventKind::Resolved { by_customer: false }), (5, EventKind::Reopened), (6, press())],
            vec!["+2 page oncall", "+4 sla.met", "+6 page oncall"],
        ),
    ];
    for (promise, tier, severity, steps, expected) in cases {
        assert_eq!(run(tier, severity, &steps), expected, "{promise}");
    }
}
