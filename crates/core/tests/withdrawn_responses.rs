//! The response target when the customer resolves their own ticket (docs/contract.md,
//! "Responding"): the response is the first acknowledgement or public reply by staff, or a
//! staff resolution (the customer is told of it by letter). A customer who resolves the
//! ticket before any response withdraws the request: the target is withdrawn — neither met
//! nor breached. Reopened, a withdrawn target runs again, due at its original time if that is
//! still ahead, else a whole target from the reopening; a target a response met stays met.
//!
//! Enterprise P2 opened Friday 2026-11-27 20:00 UTC: the response is due in 4 hours, at 24:00.

use jiff::{SignedDuration, Timestamp};
use stringer_core::contract::Contract;
use stringer_core::event::{Event, EventKind, NoticeBody};
use stringer_core::ids::{Deployment, OrgSlug, Severity, TicketId, Tier};
use stringer_core::sla::ClockState;
use stringer_core::ticket::{OrgProfile, Ticket};

const OPENED: &str = "2026-11-27T20:00:00Z";

fn minutes(m: i64) -> Timestamp {
    OPENED.parse::<Timestamp>().unwrap() + SignedDuration::from_mins(m)
}

/// What happens, at minutes after the opening.
#[derive(Clone, Copy)]
enum Step {
    StaffAck(i64),
    StaffReply(i64),
    StaffResolve(i64),
    CustomerResolve(i64),
    Reopen(i64),
}

use Step::{CustomerResolve, Reopen, StaffAck, StaffReply, StaffResolve};

fn kind(step: Step) -> (i64, EventKind) {
    match step {
        StaffAck(m) => (m, EventKind::Acknowledged { by: "eve".into() }),
        StaffReply(m) => (m, EventKind::Replied { by: "eve".into(), public: true }),
        StaffResolve(m) => (m, EventKind::Resolved { by_customer: false }),
        CustomerResolve(m) => (m, EventKind::Resolved { by_customer: true }),
        Reopen(m) => (m, EventKind::Reopened),
    }
}

/// The response clock's state and due time (minutes after opening) after `steps`, with the
/// kinds of the response's notices on the way.
fn run(steps: &[Step]) -> (ClockState, Option<i64>, Vec<&'static str>) {
    let contract = Contract::default_contract();
    let org =
        OrgProfile { slug: OrgSlug::from("acme"), tier: Tier::from("enterprise"), deployment: Deployment::Shared };
    let open =
        EventKind::Opened { org: org.slug.clone(), severity: Severity::from("P2"), intake: None, security: false };
    let (mut ticket, _) = Ticket::open(&contract, &org, &Event::new(minutes(0), TicketId::from("T1"), open)).unwrap();
    let mut said = Vec::new();
    for step in steps {
        let (m, kind) = kind(*step);
        let d = ticket.apply(&contract, &Event::new(minutes(m), TicketId::from("T1"), kind)).unwrap();
        said.extend(d.notices.iter().filter(|n| n.body.kind().starts_with("sla.")).map(|n| n.body.kind()));
    }
    let clock = ticket.clocks.iter().find(|c| c.target == "response").unwrap();
    let due = clock.due.map(|d| (d.as_second() - minutes(0).as_second()) / 60);
    (clock.state, due, said)
}

/// (the contract's words, what happens, the response's state, its due time, notices)
type Case = (&'static str, Vec<Step>, ClockState, Option<i64>, Vec<&'static str>);

#[test]
fn the_response_target_when_the_customer_resolves() {
    use ClockState::{Met, Running, Withdrawn};
    let cases: Vec<Case> = vec![
        (
            "the customer resolves before any staff response: withdrawn, neither met nor breached",
            vec![CustomerResolve(30)],
            Withdrawn,
            Some(240),
            vec!["sla.withdrawn"],
        ),
        (
            "staff acknowledged, then the customer resolves: met by the acknowledgement",
            vec![StaffAck(10), CustomerResolve(30)],
            Met,
            Some(240),
            vec!["sla.met"],
        ),
        (
            "a public staff reply, then the customer resolves: met by the reply",
            vec![StaffReply(10), CustomerResolve(30)],
            Met,
            Some(240),
            vec!["sla.met"],
        ),
        (
            "staff resolve: the resolution tells the customer, so it is the response",
            vec![StaffResolve(30)],
            Met,
            Some(240),
            vec!["sla.met"],
        ),
        (
            "withdrawn, then reopened while the original due time is ahead: running to it",
            vec![CustomerResolve(30), Reopen(60)],
            Running,
            Some(240),
            vec!["sla.withdrawn"],
        ),
        (
            "withdrawn, then reopened after the original due time: a whole target from the reopening",
            vec![CustomerResolve(30), Reopen(300)],
            Running,
            Some(540),
            vec!["sla.withdrawn"],
        ),
        (
            "withdrawn, reopened, then acknowledged: met",
            vec![CustomerResolve(30), Reopen(60), StaffAck(90)],
            Met,
            Some(240),
            vec!["sla.withdrawn", "sla.met"],
        ),
        (
            "met, then reopened: still met, nothing restarts",
            vec![StaffAck(10), CustomerResolve(30), Reopen(60)],
            Met,
            Some(240),
            vec!["sla.met"],
        ),
        (
            "met by a staff resolution, then reopened: still met",
            vec![StaffResolve(30), Reopen(60)],
            Met,
            Some(240),
            vec!["sla.met"],
        ),
        (
            "withdrawn, reopened, withdrawn again: withdrawn",
            vec![CustomerResolve(30), Reopen(60), CustomerResolve(90)],
            Withdrawn,
            Some(240),
            vec!["sla.withdrawn", "sla.withdrawn"],
        ),
    ];
    for (words, steps, state, due, said) in cases {
        assert_eq!(run(&steps), (state, due, said), "{words}");
    }
}

#[test]
fn a_customer_resolution_after_the_due_time_is_still_a_breach() {
    // Past due before the breach timer ran: the promise was already broken.
    let (state, _, said) = run(&[CustomerResolve(300)]);
    assert_eq!((state, said), (ClockState::Breached, vec!["sla.breached"]));
}

#[test]
fn a_withdrawn_target_is_no_breach_and_no_timer() {
    let contract = Contract::default_contract();
    let org =
        OrgProfile { slug: OrgSlug::from("acme"), tier: Tier::from("enterprise"), deployment: Deployment::Shared };
    let open =
        EventKind::Opened { org: org.slug.clone(), severity: Severity::from("P2"), intake: None, security: false };
    let (mut ticket, _) = Ticket::open(&contract, &org, &Event::new(minutes(0), TicketId::from("T1"), open)).unwrap();
    let resolve = EventKind::Resolved { by_customer: true };
    ticket.apply(&contract, &Event::new(minutes(30), TicketId::from("T1"), resolve)).unwrap();
    let kind = stringer_core::event::TimerKind::Breach { target: "response".into() };
    let d = ticket.on_timer(&contract, &kind, minutes(241)).unwrap();
    assert!(d.notices.is_empty(), "a withdrawn target never breaches: {:?}", d.notices);
    assert!(!d.notices.iter().any(|n| matches!(n.body, NoticeBody::SlaBreached { .. })));
}
