//! When the data no longer fits the contract (docs/contract.md, "When the data no longer
//! fits"): every lookup by a tier, severity or target the contract lacks answers
//! `Uncovered`, naming it; the rules refuse such a ticket as a whole and leave it as it was.

use jiff::{SignedDuration, Timestamp};
use stringer_core::contract::{Contract, DEFAULT_CONTRACT, Uncovered};
use stringer_core::event::{Event, EventKind, TimerKind};
use stringer_core::ids::{Deployment, OrgSlug, Severity, TicketId, Tier};
use stringer_core::ticket::{OrgProfile, RuleError, Ticket};

const OPENED: &str = "2026-11-25T15:00:00Z";

fn minutes(m: i64) -> Timestamp {
    OPENED.parse::<Timestamp>().unwrap() + SignedDuration::from_mins(m)
}

/// The seed's contract with the `pro` tier renamed `professional`.
fn renamed() -> Contract {
    let text = DEFAULT_CONTRACT
        .replace("tiers.pro]", "tiers.professional]")
        .replace("[escalation.pro]", "[escalation.professional]");
    Contract::from_toml(&text, "renamed.toml").expect("the renamed contract is valid")
}

fn pro_p2() -> Ticket {
    let contract = Contract::default_contract();
    let org = OrgProfile { slug: OrgSlug::from("bolt"), tier: Tier::from("pro"), deployment: Deployment::Shared };
    let open =
        EventKind::Opened { org: org.slug.clone(), severity: Severity::from("P2"), intake: None, security: false };
    Ticket::open(&contract, &org, &Event::new(minutes(0), TicketId::from("T1"), open)).unwrap().0
}

#[test]
fn lookups_name_what_the_contract_lacks() {
    let c = renamed();
    let (pro, p1, p9) = (Tier::from("pro"), Severity::from("P1"), Severity::from("P9"));
    assert_eq!(c.escalation(&pro).err(), Some(Uncovered::Tier(pro.clone())));
    assert_eq!(c.target("response", &pro, &p1).err(), Some(Uncovered::Tier(pro.clone())));
    assert_eq!(c.covered(&pro, &p1, minutes(0)).err(), Some(Uncovered::Tier(pro.clone())));
    assert_eq!(c.next_covered(&pro, &p1, minutes(0)).err(), Some(Uncovered::Tier(pro.clone())));
    assert_eq!(c.rank(&p9).err(), Some(Uncovered::Severity(p9.clone())));
    assert_eq!(c.target("nothing", &pro, &p1).err(), Some(Uncovered::Target("nothing".into())));
    let professional = Tier::from("professional");
    assert_eq!(c.target("response", &professional, &p9).err(), Some(Uncovered::Severity(p9)));
    assert_eq!(Uncovered::Tier(pro).to_string(), "the contract in force has no tier \"pro\"");
}

#[test]
fn a_ticket_of_a_removed_tier_is_refused_and_left_as_it_was() {
    let contract = renamed();
    let mut ticket = pro_p2();
    let before = ticket.clone();
    let raise = Event::new(minutes(5), ticket.id.clone(), EventKind::SeverityChanged { severity: "P1".into() });
    assert_eq!(ticket.apply(&contract, &raise), Err(RuleError::Uncovered(Uncovered::Tier(Tier::from("pro")))));
    assert_eq!(ticket.on_timer(&contract, &TimerKind::Escalation, minutes(20)), Err(Uncovered::Tier("pro".into())));
    assert_eq!(ticket.on_timer(&contract, &TimerKind::QueueNotify, minutes(20)), Err(Uncovered::Tier("pro".into())));
    assert_eq!(ticket, before);
    let (_, why_not) = ticket.customer_page_refusal(&contract, minutes(20)).unwrap();
    assert_eq!(why_not, "the contract in force has no tier \"pro\"");
}

#[test]
fn a_ticket_of_a_removed_severity_is_refused() {
    let contract = Contract::from_toml(
        &DEFAULT_CONTRACT
            .replace("[severities.P2]", "[severities.P2x]")
            .replace("\"P2\"", "\"P2x\"")
            .replace("P2 = {", "P2x = {"),
        "p2x.toml",
    )
    .expect("valid");
    let mut ticket = pro_p2();
    let ack = Event::new(minutes(5), ticket.id.clone(), EventKind::Acknowledged { by: "eve".into() });
    assert_eq!(ticket.apply(&contract, &ack), Err(RuleError::Uncovered(Uncovered::Severity(Severity::from("P2")))));
}

#[test]
fn opening_at_a_removed_tier_is_refused() {
    let contract = renamed();
    let org = OrgProfile { slug: OrgSlug::from("bolt"), tier: Tier::from("pro"), deployment: Deployment::Shared };
    let open =
        EventKind::Opened { org: org.slug.clone(), severity: Severity::from("P1"), intake: None, security: false };
    let opened = Ticket::open(&contract, &org, &Event::new(minutes(0), TicketId::from("T2"), open));
    assert_eq!(opened.err(), Some(RuleError::Uncovered(Uncovered::Tier(Tier::from("pro")))));
}
