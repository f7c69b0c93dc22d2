//! Property tests of the ticket state machine through the Desk: random event streams on
//! random tickets, with timers run between events as the simulator and server do.

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use std::sync::Arc;
use stringer_app::{Desk, MemoryStore, VirtualClock};
use stringer_core::contract::Contract;
use stringer_core::event::{Event, EventKind, Notice, NoticeBody};
use stringer_core::ids::{Deployment, OrgSlug, Severity, TicketId, Tier};
use stringer_core::ticket::OrgProfile;

#[derive(Clone, Debug)]
enum Step {
    Ack,
    Reply(bool),
    Severity(usize),
    Wait,
    CustomerReply,
    Resolve(bool),
    Reopen,
    CustomerPage,
    Bridge(bool),
    Publish,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        Just(Step::Ack),
        any::<bool>().prop_map(Step::Reply),
        (0usize..4).prop_map(Step::Severity),
        Just(Step::Wait),
        Just(Step::CustomerReply),
        any::<bool>().prop_map(Step::Resolve),
        Just(Step::Reopen),
        Just(Step::CustomerPage),
        any::<bool>().prop_map(Step::Bridge),
        Just(Step::Publish),
    ]
}

/// (tier index, severity index, security, opened offset in minutes, [(gap in minutes, step)])
type Case = (usize, usize, bool, i64, Vec<(i64, Step)>);

fn case() -> impl Strategy<Value = Case> {
    (0usize..2, 0usize..4, any::<bool>(), 0i64..20_160, prop::collection::vec((0i64..600, step()), 0..14))
}

fn event(ticket: &TicketId, at: Timestamp, step: &Step) -> Event {
    let kind = match step {
        Step::Ack => EventKind::Acknowledged { by: "eve".into() },
        Step::Reply(public) => EventKind::Replied { by: "eve".into(), public: *public },
        Step::Severity(i) => EventKind::SeverityChanged { severity: Severity(format!("P{}", i + 1)) },
        Step::Wait => EventKind::WaitingOnCustomer,
        Step::CustomerReply => EventKind::CustomerReplied,
        Step::Resolve(by_customer) => EventKind::Resolved { by_customer: *by_customer },
        Step::Reopen => EventKind::Reopened,
        Step::CustomerPage => EventKind::CustomerPageRequested,
        Step::Bridge(platform) => EventKind::BridgeJoined {
            by: "pat".into(),
            role: if *platform { "platform_engineer" } else { "tam" }.into(),
            url: None,
        },
        Step::Publish => EventKind::ReportPublished,
    };
    Event::new(at, ticket.clone(), kind)
}

/// Runs a case; returns every notice and, per event, whether it was accepted.
fn run(case: &Case) -> (Vec<Notice>, Vec<(Event, bool)>) {
    let (tier, severity, security, offset, steps) = case;
    let contract = Arc::new(Contract::default_contract());
    let start: Timestamp = "2026-11-23T00:00:00Z".parse().unwrap();
    let opened_at = start + SignedDuration::from_mins(*offset);
    let desk = Desk::new(contract, MemoryStore::new(), VirtualClock::new(opened_at));
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let org = OrgProfile {
            slug: OrgSlug::from("o"),
            tier: Tier::from(["pro", "enterprise"][*tier]),
            deployment: Deployment::Shared,
        };
        desk.store().set_org_people(&org.slug, Some("tina".into()), vec![]);
        desk.put_org(org).await.unwrap();
        let id = TicketId::from("T");
        let mut notices = desk
            .record(Event::new(
                opened_at,
                id.clone(),
                EventKind::Opened {
                    org: OrgSlug::from("o"),
                    severity: Severity(format!("P{}", severity + 1)),
                    intake: None,
                    security: *security,
                },
            ))
            .await
            .unwrap();
        let mut log = Vec::new();
        let mut at = opened_at;
        let drain = |until: Option<Timestamp>| {
            let desk = &desk;
            async move {
                let mut out = Vec::new();
                let mut rounds = 0;
                while let Some(next) = desk.next_timer_at().await.unwrap() {
                    if until.is_some_and(|u| next >= u) {
                        break;
                    }
                    rounds += 1;
                    assert!(rounds < 1000, "timers never settle");
                    desk.clock().set(next);
                    out.extend(desk.tick().await.unwrap());
                    assert!(desk.tick().await.unwrap().is_empty(), "running due timers twice does nothing more");
                }
                out
            }
        };
        for (gap, s) in steps {
            at += SignedDuration::from_mins(*gap);
            notices.extend(drain(Some(at)).await);
            desk.clock().set(at);
            let e = event(&id, at, s);
            match desk.record(e.clone()).await {
                Ok(n) => {
                    notices.extend(n);
                    log.push((e, true));
                }
                Err(stringer_app::AppError::Rejected(_)) => log.push((e, false)),
                Err(other) => panic!("unexpected error {other}"),
            }
        }
        notices.extend(drain(None).await);
        (notices, log)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn ticket_rules_keep_their_invariants(case in case()) {
        let (notices, log) = run(&case);
        // Deterministic.
        prop_assert_eq!(&notices, &run(&case).0);
        // In time order.
        for w in notices.windows(2) {
            prop_assert!(w[0].at <= w[1].at, "out of order: {:?} then {:?}", w[0], w[1]);
        }
        // The response target ends once: met or breached, never both, never twice.
        let ends = notices.iter().filter(|n| matches!(&n.body, NoticeBody::SlaMet { target, .. } | NoticeBody::SlaBreached { target, .. } if target == "response")).count();
        prop_assert!(ends <= 1, "response ended {ends} times: {notices:#?}");
        // A withdrawn response comes only from a customer's resolution before any response, and
        // once met or breached the response is never withdrawn.
        let response = |n: &&Notice| matches!(&n.body, NoticeBody::SlaMet { target, .. } | NoticeBody::SlaBreached { target, .. } | NoticeBody::SlaWithdrawn { target, .. } if target == "response");
        let mut ended = false;
        for n in notices.iter().filter(response) {
            if let NoticeBody::SlaWithdrawn { .. } = n.body {
                prop_assert!(!ended, "withdrawn after it was met or breached: {notices:#?}");
                let by_customer = log.iter().any(|(e, ok)| *ok && e.at == n.at && matches!(e.kind, EventKind::Resolved { by_customer: true }));
                prop_assert!(by_customer, "withdrawn at {} without a customer's resolution", n.at);
            } else {
                ended = true;
            }
        }
        // A breach comes the second after its due time, or — when a severity change put the
        // due time in the past — with that change.
        for n in &notices {
            if let NoticeBody::SlaBreached { due, .. } | NoticeBody::BridgeOverdue { due, .. } | NoticeBody::ReportOverdue { due, .. } = &n.body {
                let revealed = matches!(n.body, NoticeBody::SlaBreached { .. })
                    && n.at > *due + SignedDuration::from_secs(1)
                    && log.iter().any(|(e, ok)| *ok && e.at == n.at && matches!(e.kind, EventKind::SeverityChanged { .. }));
                prop_assert!(n.at == *due + SignedDuration::from_secs(1) || revealed, "breach at {} for due {}", n.at, due);
            }
        }
        // No automatic page after an accepted acknowledgement or resolution, until a customer page.
        // The change that ends the quiet is the first one recorded after the quiet began, by
        // order of recording: it may share the quiet's instant.
        let accepted: Vec<&Event> = log.iter().filter(|(_, ok)| *ok).map(|(e, _)| e).collect();
        let wakes = |e: &Event| matches!(e.kind, EventKind::CustomerPageRequested | EventKind::SeverityChanged { .. } | EventKind::Reopened);
        let first_wake = accepted.iter().position(|e| wakes(e)).unwrap_or(accepted.len());
        let quiet = accepted[..first_wake].iter().position(|e| matches!(e.kind, EventKind::Acknowledged { .. } | EventKind::Resolved { .. }));
        if let Some(qi) = quiet {
            let q = accepted[qi].at;
            let next_change = accepted[qi..].iter().find(|e| wakes(e)).map(|e| e.at);
            for n in &notices {
                if matches!(n.body, NoticeBody::Page { .. }) && n.at > q && next_change.is_none_or(|c| n.at < c) {
                    prop_assert!(false, "paged at {} after going quiet at {q}: {notices:#?}", n.at);
                }
            }
        }
        // Exactly one report.due per accepted resolution that owes one; never an overdue alert
        // for a report published in time.
        for n in &notices {
            if let NoticeBody::ReportOverdue { due, .. } = &n.body {
                let published = accepted.iter().any(|e| matches!(e.kind, EventKind::ReportPublished) && e.at <= *due);
                prop_assert!(!published, "overdue alert for a report published in time");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any text, and any damaged version of a valid scenario: an answer, never a panic; an
    /// error always names a line of the input.
    #[test]
    fn scenario_parser_never_panics(text in "(\\PC{0,60}\n){0,6}", cut in 0usize..400, byte in 32u8..127) {
        let contract = Contract::default_contract();
        let valid = concat!(
            "{\"kind\":\"org\",\"org\":\"acme\",\"tier\":\"enterprise\",\"tam\":\"tina\"}\n",
            "{\"at\":\"2026-11-27T20:00:00Z\",\"kind\":\"ticket.opened\",\"ticket\":\"T1\",\"org\":\"acme\",\"severity\":\"P1\"}\n",
            "{\"at\":\"2026-11-27T20:05:00Z\",\"kind\":\"ticket.acknowledged\",\"ticket\":\"T1\",\"by\":\"eve\"}\n",
        );
        let mut damaged = valid.as_bytes().to_vec();
        let at = cut % damaged.len();
        damaged[at] = byte;
        for candidate in [text, String::from_utf8_lossy(&damaged).into_owned()] {
            if let Err(e) = stringer_app::simulate::Scenario::parse(&candidate, &contract) {
                prop_assert!(e.line >= 1 && e.line <= candidate.lines().count(), "{e}");
            }
        }
    }
}
