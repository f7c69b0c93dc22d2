//! A security incident is P1 for every tier (docs/contract.md, "Security incidents"): the
//! seed's "Page our on-call line first (Enterprise) or open a P1 ticket (Pro)". Whatever
//! severity is asked for, the ticket opens at `[security] severity` (P1 by default; a tier's
//! rule may name another), so its response target and bridge deadline are a P1's.

use jiff::{SignedDuration, Timestamp};
use stringer_core::contract::{Contract, DEFAULT_CONTRACT};
use stringer_core::event::{Event, EventKind, NoticeBody};
use stringer_core::ids::{Deployment, OrgSlug, Severity, TicketId, Tier};
use stringer_core::ticket::{OrgProfile, Ticket};

const OPENED: &str = "2026-11-27T20:00:00Z";

fn open(contract: &Contract, tier: &str, asked: &str) -> (Ticket, Vec<&'static str>) {
    let org = OrgProfile { slug: OrgSlug::from("acme"), tier: Tier::from(tier), deployment: Deployment::Shared };
    let kind =
        EventKind::Opened { org: org.slug.clone(), severity: Severity::from(asked), intake: None, security: true };
    let (t, d) =
        Ticket::open(contract, &org, &Event::new(OPENED.parse().unwrap(), TicketId::from("T1"), kind)).unwrap();
    let pages = d.notices.iter().filter(|n| matches!(n.body, NoticeBody::Page { .. })).map(|n| n.body.kind()).collect();
    (t, pages)
}

fn after(hours: i64) -> Timestamp {
    OPENED.parse::<Timestamp>().unwrap() + SignedDuration::from_hours(hours)
}

#[test]
fn every_tier_opens_a_security_incident_as_p1() {
    let contract = Contract::default_contract();
    // (tier, severity asked, response and bridge due in hours, pages at once)
    let cases = [
        ("enterprise", "P4", 1, 1, "an Enterprise P4 report is a P1: due in an hour, not a business day"),
        ("enterprise", "P1", 1, 1, "asked as P1: the same"),
        ("pro", "P3", 4, 1, "a Pro P3 report is a P1: 4 clock hours, on-call paged at once"),
    ];
    for (tier, asked, hours, pages, words) in cases {
        let (t, paged) = open(&contract, tier, asked);
        assert_eq!(t.severity, Severity::from("P1"), "{words}");
        assert_eq!(t.clocks[0].due, Some(after(hours)), "{words}");
        assert_eq!(t.bridge.as_ref().map(|b| b.due), Some(after(hours)), "{words}");
        assert_eq!(paged.len(), pages, "{words}");
    }
}

#[test]
fn the_contract_names_the_security_severity_and_check_refuses_an_unknown_one() {
    let another = DEFAULT_CONTRACT.replacen("[security]\n", "[security]\nseverity = \"P2\"\n", 1).replacen(
        "severity = \"P1\"\n\n[security.tiers",
        "\n[security.tiers",
        1,
    );
    let c = Contract::from_toml(&another, "c.toml").unwrap();
    assert_eq!(open(&c, "enterprise", "P4").0.severity, Severity::from("P2"));
    assert_eq!(c.security_severity(&Tier::from("pro")), &Severity::from("P2"));

    let unknown = DEFAULT_CONTRACT.replacen("[security]\n", "[security]\nseverity = \"P9\"\n", 1).replacen(
        "severity = \"P1\"\n\n[security.tiers",
        "\n[security.tiers",
        1,
    );
    let problems = Contract::from_toml(&unknown, "c.toml").expect_err("an unknown severity").diagnostics;
    let said: Vec<String> = problems.iter().map(|d| d.to_string()).collect();
    assert!(said.iter().any(|p| p.contains("security.severity") && p.contains("unknown severity \"P9\"")), "{said:?}");

    let none = DEFAULT_CONTRACT.replacen("severity = \"P1\"\n\n[security.tiers", "\n[security.tiers", 1);
    let c = Contract::from_toml(&none, "c.toml").unwrap();
    assert_eq!(c.security.severity, Severity::from("P1"), "without the line: the most severe");
}

#[test]
fn another_severity_is_refused_in_the_contracts_words() {
    let c = Contract::default_contract();
    let tier = Tier::from("enterprise");
    assert_eq!(c.security_severity_refusal(&tier, &Severity::from("P1")), None);
    let refusal = c.security_severity_refusal(&tier, &Severity::from("P4")).unwrap();
    assert!(refusal.contains("opened as P1") && refusal.contains("security rule"), "{refusal}");
}
