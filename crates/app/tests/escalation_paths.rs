//! Every escalation path of the seed's contract, replayed through the same Desk the server
//! runs (memory store, virtual clock), as table-driven cases that read like the contract.
//! Notices are written compactly: "HH:MM:SS kind detail" on 2026-11-27 (a Friday) unless a
//! date is shown.

use std::sync::Arc;
use stringer_app::simulate::Scenario;
use stringer_core::contract::Contract;
use stringer_core::event::{Notice, NoticeBody};

const ORGS: &str = r#"
{"kind":"org","org":"acme","tier":"enterprise","deployment":"dedicated","tam":"tina"}
{"kind":"org","org":"bolt","tier":"pro","deployment":"shared"}
"#;

fn when(n: &Notice) -> String {
    let s = n.at.to_string();
    match s.strip_prefix("2026-11-27T") {
        Some(rest) => rest.trim_end_matches('Z').to_string(),
        None => s,
    }
}

fn compact(n: &Notice) -> String {
    let detail = match &n.body {
        NoticeBody::Page { role, to, .. } => {
            format!("{}{}", role.as_str(), to.iter().map(|t| format!(" {t}")).collect::<String>())
        }
        NoticeBody::CustomerPageInFlight { paged_at, .. } => format!("paged at {paged_at}"),
        NoticeBody::CustomerPageRefused { opens_at, .. } => {
            opens_at.map(|o| format!("opens {o}")).unwrap_or_else(|| "never".into())
        }
        NoticeBody::SlaBreached { target, due }
        | NoticeBody::SlaMet { target, due }
        | NoticeBody::SlaWithdrawn { target, due } => format!("{target} due {due}"),
        NoticeBody::ReportDue { due }
        | NoticeBody::ReportOverdue { due, .. }
        | NoticeBody::BridgeOverdue { due, .. } => format!("due {due}"),
        NoticeBody::QueueNotified { severity } => severity.to_string(),
        NoticeBody::CustomerPageAvailable => String::new(),
    };
    format!("{} {} {} {}", when(n), n.ticket, n.body.kind(), detail).trim_end().to_string()
}

fn simulate_with(contract: Contract, text: &str) -> Vec<String> {
    let contract = Arc::new(contract);
    let scenario = Scenario::parse(text, &contract).expect("scenario parses");
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(scenario.run(contract, None)).expect("scenario runs").iter().map(compact).collect()
}

fn simulate(events: &str) -> Vec<String> {
    simulate_with(Contract::default_contract(), &format!("{ORGS}{events}"))
}

fn ev(at: &str, rest: &str) -> String {
    let at = if at.len() == 8 { format!("2026-11-27T{at}Z") } else { at.to_string() };
    format!("{{\"at\":\"{at}\",{rest}}}\n")
}

fn opened(at: &str, ticket: &str, org: &str, severity: &str) -> String {
    ev(at, &format!(r#""kind":"ticket.opened","ticket":"{ticket}","org":"{org}","severity":"{severity}""#))
}

fn kind(at: &str, kind: &str, ticket: &str) -> String {
    ev(at, &format!(r#""kind":"{kind}","ticket":"{ticket}""#))
}

fn ack(at: &str, ticket: &str) -> String {
    ev(at, &format!(r#""kind":"ticket.acknowledged","ticket":"{ticket}","by":"eve""#))
}

#[test]
fn escalation_paths() {
    // (the promise, events, every notice expected)
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "Enterprise P1 unacknowledged: on-call at once, TAM at 15 min, VP of Engineering at 30 min, breach after 1 h",
            opened("20:00:00", "T1", "acme", "P1"),
            vec![
                "20:00:00 T1 page oncall",
                "20:15:00 T1 page tam tina",
                "20:30:00 T1 page vp_engineering",
                "21:00:01 T1 sla.breached response due 2026-11-27T21:00:00Z",
            ],
        ),
        (
            "Enterprise P1 acknowledged at 10 min: nothing further is paged, the response target is met",
            opened("20:00:00", "T1", "acme", "P1") + &ack("20:10:00", "T1"),
            vec!["20:00:00 T1 page oncall", "20:10:00 T1 sla.met response due 2026-11-27T21:00:00Z"],
        ),
        (
            "Enterprise P1 acknowledged at exactly 15 min: acknowledged within 15 minutes, so no TAM page",
            opened("20:00:00", "T1", "acme", "P1") + &ack("20:15:00", "T1"),
            vec!["20:00:00 T1 page oncall", "20:15:00 T1 sla.met response due 2026-11-27T21:00:00Z"],
        ),
        (
            "Enterprise P1 acknowledged at 20 min: TAM paged, VP not",
            opened("20:00:00", "T1", "acme", "P1") + &ack("20:20:00", "T1"),
            vec![
                "20:00:00 T1 page oncall",
                "20:15:00 T1 page tam tina",
                "20:20:00 T1 sla.met response due 2026-11-27T21:00:00Z",
            ],
        ),
        (
            "Enterprise P2 unacknowledged: on-call, TAM at 15 min, never the VP (critical path is P1 only)",
            opened("20:00:00", "T1", "acme", "P2"),
            vec![
                "20:00:00 T1 page oncall",
                "20:15:00 T1 page tam tina",
                "2026-11-28T00:00:01Z T1 sla.breached response due 2026-11-28T00:00:00Z",
            ],
        ),
        (
            "Enterprise P3: no page, the queue is told; the customer pages from Slack: on-call at once, TAM 15 min later",
            opened("20:00:00", "T1", "acme", "P3")
                + &kind("20:05:00", "customer.page_requested", "T1")
                + &ack("20:25:00", "T1"),
            vec![
                "20:00:00 T1 queue.notified P3",
                "20:05:00 T1 page oncall",
                "20:20:00 T1 page tam tina",
                "20:25:00 T1 sla.met response due 2026-11-28T04:00:00Z",
            ],
        ),
        (
            "Pro P1 on a Saturday night pages at once; the customer's page is refused until 30 min, then accepted",
            opened("2026-11-28T23:00:00Z", "T2", "bolt", "P1")
                + &kind("2026-11-28T23:10:00Z", "customer.page_requested", "T2")
                + &kind("2026-11-28T23:30:00Z", "customer.page_requested", "T2")
                + &ack("2026-11-28T23:40:00Z", "T2"),
            vec![
                "2026-11-28T23:00:00Z T2 page oncall",
                "2026-11-28T23:10:00Z T2 customer_page.refused opens 2026-11-28T23:30:00Z",
                "2026-11-28T23:30:00Z T2 page oncall",
                "2026-11-28T23:30:00Z T2 customer_page.available",
                "2026-11-28T23:40:00Z T2 sla.met response due 2026-11-29T03:00:00Z",
            ],
        ),
        (
            "Pro P1 acknowledged at 20 min: the customer page never opens and is refused",
            opened("20:00:00", "T2", "bolt", "P1")
                + &ack("20:20:00", "T2")
                + &kind("20:40:00", "customer.page_requested", "T2"),
            vec![
                "20:00:00 T2 page oncall",
                "20:20:00 T2 sla.met response due 2026-11-28T00:00:00Z",
                "20:40:00 T2 customer_page.refused never",
            ],
        ),
        (
            "Pro P2 opened on Saturday never pages: the queue is told at Monday 00:00; a customer page is refused (P1 only)",
            opened("2026-11-28T10:00:00Z", "T2", "bolt", "P2")
                + &kind("2026-11-28T11:00:00Z", "customer.page_requested", "T2")
                + &ack("2026-11-30T01:00:00Z", "T2"),
            vec![
                "2026-11-28T11:00:00Z T2 customer_page.refused never",
                "2026-11-30T00:00:00Z T2 queue.notified P2",
                "2026-11-30T01:00:00Z T2 sla.met response due 2026-11-30T08:00:00Z",
            ],
        ),
        (
            "Enterprise security incident reported as P3 is a P1: pages at once (VP at 30 min); no platform engineer on the bridge by the P1's response due time",
            ev("20:00:00", r#""kind":"ticket.opened","ticket":"S1","org":"acme","severity":"P3","security":true"#)
                + &ack("20:40:00", "S1"),
            vec![
                "20:00:00 S1 page oncall",
                "20:15:00 S1 page tam tina",
                "20:30:00 S1 page vp_engineering",
                "20:40:00 S1 sla.met response due 2026-11-27T21:00:00Z",
                "21:00:01 S1 bridge.overdue due 2026-11-27T21:00:00Z",
            ],
        ),
        (
            "Pro security incident opens as P1: paged at once, bridge joined by a platform engineer in time, report due 5 business days after resolution",
            ev("20:00:00", r#""kind":"ticket.opened","ticket":"S2","org":"bolt","severity":"P4","security":true"#)
                + &ack("20:05:00", "S2")
                + &ev("20:30:00", r#""kind":"bridge.joined","ticket":"S2","by":"pat","role":"platform_engineer""#)
                + &kind("22:00:00", "ticket.resolved", "S2")
                + &kind("2026-12-03T09:00:00Z", "report.published", "S2"),
            vec![
                "20:00:00 S2 page oncall",
                "20:05:00 S2 sla.met response due 2026-11-28T00:00:00Z",
                "22:00:00 S2 report.due due 2026-12-04T22:00:00Z",
            ],
        ),
        (
            "A bridge joined by someone who is not a platform engineer does not count",
            ev("20:00:00", r#""kind":"ticket.opened","ticket":"S3","org":"bolt","severity":"P1","security":true"#)
                + &ack("20:01:00", "S3")
                + &ev("20:02:00", r#""kind":"bridge.joined","ticket":"S3","by":"tina","role":"tam""#),
            vec![
                "20:00:00 S3 page oncall",
                "20:01:00 S3 sla.met response due 2026-11-28T00:00:00Z",
                "2026-11-28T00:00:01Z S3 bridge.overdue due 2026-11-28T00:00:00Z",
            ],
        ),
        (
            "Post-incident report unpublished past due alerts TAM and support lead; resolved Friday 16:00 → due next Friday 16:00",
            opened("15:00:00", "T1", "acme", "P2")
                + &ack("15:01:00", "T1")
                + &kind("16:00:00", "ticket.resolved", "T1"),
            vec![
                "15:00:00 T1 page oncall",
                "15:01:00 T1 sla.met response due 2026-11-27T19:00:00Z",
                "16:00:00 T1 report.due due 2026-12-04T16:00:00Z",
                "2026-12-04T16:00:01Z T1 report.overdue due 2026-12-04T16:00:00Z",
            ],
        ),
        (
            "P3 and P4 owe no report",
            opened("15:00:00", "T1", "acme", "P3")
                + &ack("15:01:00", "T1")
                + &kind("16:00:00", "ticket.resolved", "T1"),
            vec!["15:00:00 T1 queue.notified P3", "15:01:00 T1 sla.met response due 2026-11-27T23:00:00Z"],
        ),
        (
            "Raising Enterprise P3 to P1 before the response starts paging and the 1-hour target from the change",
            opened("12:00:00", "T1", "acme", "P3")
                + &ev("13:00:00", r#""kind":"ticket.severity_changed","ticket":"T1","severity":"P1""#)
                + &ack("13:05:00", "T1"),
            vec![
                "12:00:00 T1 queue.notified P3",
                "13:00:00 T1 page oncall",
                "13:05:00 T1 sla.met response due 2026-11-27T14:00:00Z",
            ],
        ),
        (
            "Raising keeps an earlier running due time: P4 → P3 at 23:00 would be due later than P4's",
            opened("2026-11-27T00:00:00Z", "T1", "acme", "P4")
                + &ev("23:00:00", r#""kind":"ticket.severity_changed","ticket":"T1","severity":"P3""#),
            vec![
                "00:00:00 T1 queue.notified P4",
                "2026-11-28T00:00:01Z T1 sla.breached response due 2026-11-28T00:00:00Z",
            ],
        ),
        (
            "Lowering Pro P1 to P3 keeps counting from the opening with 1 business day (Friday 20:00 → Monday 20:00); paging stops and the queue hears of it",
            opened("20:00:00", "T2", "bolt", "P1")
                + &ev("20:10:00", r#""kind":"ticket.severity_changed","ticket":"T2","severity":"P3""#)
                + &ack("2026-11-30T19:00:00Z", "T2"),
            vec![
                "20:00:00 T2 page oncall",
                "20:10:00 T2 queue.notified P3",
                "2026-11-30T19:00:00Z T2 sla.met response due 2026-11-30T20:00:00Z",
            ],
        ),
        (
            "An internal note is not a response; a public reply is",
            opened("20:00:00", "T1", "acme", "P2")
                + &ev("20:01:00", r#""kind":"ticket.replied","ticket":"T1","by":"eve","public":false"#)
                + &ev("20:20:00", r#""kind":"ticket.replied","ticket":"T1","by":"eve","public":true"#),
            vec![
                "20:00:00 T1 page oncall",
                "20:15:00 T1 page tam tina",
                "20:20:00 T1 sla.met response due 2026-11-28T00:00:00Z",
            ],
        ),
        (
            "A response exactly at the due instant meets the target; the breach is the second after",
            opened("20:00:00", "T1", "acme", "P1")
                + &opened("20:00:00", "T3", "acme", "P1")
                + &ack("21:00:00", "T1")
                + &ack("21:00:01", "T3"),
            vec![
                "20:00:00 T1 page oncall",
                "20:00:00 T3 page oncall",
                "20:15:00 T1 page tam tina",
                "20:15:00 T3 page tam tina",
                "20:30:00 T1 page vp_engineering",
                "20:30:00 T3 page vp_engineering",
                "21:00:00 T1 sla.met response due 2026-11-27T21:00:00Z",
                "21:00:01 T3 sla.breached response due 2026-11-27T21:00:00Z",
            ],
        ),
    ];
    for (promise, events, expected) in cases {
        assert_eq!(simulate(&events), expected, "{promise}");
    }
}

#[test]
fn resolution_and_next_reply_targets_pause_while_waiting_on_the_customer() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/contracts/berlin-vendor.toml"))
            .unwrap();
    let contract = Contract::from_toml(&text, "berlin-vendor.toml").unwrap();
    let orgs = r#"{"kind":"org","org":"kw","tier":"premium","deployment":"shared"}"#;
    // Premium S2 opened Tuesday 1 Dec 09:00 CET (08:00Z): response 4 business hours; next reply
    // 4 business hours; resolution 16 business hours, paused while waiting on the customer.
    let events = [
        r#"{"at":"2026-12-01T08:00:00Z","kind":"ticket.opened","ticket":"K1","org":"kw","severity":"S2"}"#,
        r#"{"at":"2026-12-01T09:00:00Z","kind":"ticket.replied","ticket":"K1","by":"eve","public":true}"#,
        r#"{"at":"2026-12-01T09:00:00Z","kind":"ticket.waiting_on_customer","ticket":"K1"}"#,
        r#"{"at":"2026-12-02T09:00:00Z","kind":"ticket.customer_replied","ticket":"K1"}"#,
        r#"{"at":"2026-12-02T10:00:00Z","kind":"ticket.replied","ticket":"K1","by":"eve","public":true}"#,
    ];
    let got = simulate_with(contract, &format!("{orgs}\n{}\n", events.join("\n")));
    // Resolution: 1 h used on Tuesday, paused 24 h, resumes Wednesday 10:00 CET with 15 h left:
    // 7 h Wednesday, 8 h Thursday → Thursday 17:00 CET, used up at the close → Friday 09:00 CET.
    assert_eq!(
        got,
        [
            "2026-12-01T08:00:00Z K1 queue.notified S2",
            "2026-12-01T08:15:00Z K1 customer_page.available",
            "2026-12-01T09:00:00Z K1 sla.met response due 2026-12-01T12:00:00Z",
            "2026-12-01T09:00:00Z K1 sla.met next_reply due 2026-12-01T12:00:00Z",
            "2026-12-02T10:00:00Z K1 sla.met next_reply due 2026-12-02T13:00:00Z",
            "2026-12-04T08:00:01Z K1 sla.breached resolution due 2026-12-04T08:00:00Z",
        ]
    );
}

#[test]
fn staff_end_the_wait_on_the_customer_and_the_paused_clocks_run_again() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/contracts/berlin-vendor.toml"))
            .unwrap();
    let contract = Contract::from_toml(&text, "berlin-vendor.toml").unwrap();
    let orgs = r#"{"kind":"org","org":"kw","tier":"premium","deployment":"shared"}"#;
    // As above, but the customer answers by phone and staff end the wait themselves: the
    // resolution clock resumes exactly as after a reply (no reply is owed, so the next-reply
    // target does not start again).
    let events = [
        r#"{"at":"2026-12-01T08:00:00Z","kind":"ticket.opened","ticket":"K1","org":"kw","severity":"S2"}"#,
        r#"{"at":"2026-12-01T09:00:00Z","kind":"ticket.replied","ticket":"K1","by":"eve","public":true}"#,
        r#"{"at":"2026-12-01T09:00:00Z","kind":"ticket.waiting_on_customer","ticket":"K1"}"#,
        r#"{"at":"2026-12-02T09:00:00Z","kind":"ticket.stopped_waiting","ticket":"K1"}"#,
    ];
    let got = simulate_with(contract, &format!("{orgs}\n{}\n", events.join("\n")));
    assert_eq!(
        got,
        [
            "2026-12-01T08:00:00Z K1 queue.notified S2",
            "2026-12-01T08:15:00Z K1 customer_page.available",
            "2026-12-01T09:00:00Z K1 sla.met response due 2026-12-01T12:00:00Z",
            "2026-12-01T09:00:00Z K1 sla.met next_reply due 2026-12-01T12:00:00Z",
            "2026-12-04T08:00:01Z K1 sla.breached resolution due 2026-12-04T08:00:00Z",
        ]
    );
    // Only a waiting ticket stops waiting.
    let contract = Arc::new(Contract::default_contract());
    let text =
        format!("{ORGS}{}{}", opened("20:00:00", "T1", "acme", "P1"), kind("20:10:00", "ticket.stopped_waiting", "T1"));
    let scenario = Scenario::parse(&text, &contract).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let err = rt.block_on(scenario.run(contract, None)).unwrap_err();
    assert!(err.message.contains("not waiting on the customer"), "{err}");
}

#[test]
fn rules_reject_impossible_events_with_their_line() {
    let contract = Arc::new(Contract::default_contract());
    let text = format!(
        "{ORGS}{}{}{}",
        opened("20:00:00", "T1", "acme", "P1"),
        kind("20:10:00", "ticket.resolved", "T1"),
        ack("20:20:00", "T1")
    );
    let scenario = Scenario::parse(&text, &contract).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let err = rt.block_on(scenario.run(contract, None)).unwrap_err();
    assert_eq!(err.line, 6);
    assert!(err.message.contains("cannot acknowledge a resolved ticket"), "{err}");
}

#[test]
fn scenario_errors_name_the_line() {
    let contract = Contract::default_contract();
    let cases = [
        (format!("{ORGS}{{not json\n"), 4, "not a JSON object"),
        (
            format!("{ORGS}{}{}", opened("20:00:00", "T1", "acme", "P1"), opened("19:00:00", "T2", "acme", "P1")),
            5,
            "time order",
        ),
        (format!("{ORGS}{}", ack("20:00:00", "T9")), 4, "unknown ticket T9"),
        (format!("{ORGS}{}", opened("20:00:00", "T1", "nope", "P1")), 4, "unknown org nope"),
        (format!("{ORGS}{}", opened("20:00:00", "T1", "acme", "P7")), 4, "unknown severity \"P7\""),
        (
            format!(
                "{ORGS}{}",
                ev("20:00:00", r#""kind":"ticket.opened","ticket":"T1","org":"acme","severity":"P1","colour":"red""#)
            ),
            4,
            "unknown field `colour`",
        ),
        (
            format!("{ORGS}{}", ev("20:00:00", r#""kind":"ticket.exploded","ticket":"T1""#)),
            4,
            "unknown variant `ticket.exploded`",
        ),
        ("{\"kind\":\"org\",\"org\":\"x\",\"tier\":\"gold\"}\n".to_string(), 1, "unknown tier \"gold\""),
        ("{\"at\":\"yesterday\",\"kind\":\"ticket.opened\"}\n".to_string(), 1, "ticket.opened"),
    ];
    for (text, line, fragment) in cases {
        let err = Scenario::parse(&text, &contract).err().unwrap_or_else(|| panic!("accepted: {text}"));
        assert_eq!(err.line, line, "{err}");
        assert!(err.message.contains(fragment), "{fragment:?} not in {err}");
    }
}
