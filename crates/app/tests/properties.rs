//! Property tests of the ticket state machine through the Desk: random event streams on
//! random tickets, with timers run between events as the simulator and server do; and the
//! same histories replayed by the core's `TicketRun`, which must decide exactly as the Desk.

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use stringer_app::simulate::{Scenario, run_timers};
use stringer_app::{AppError, Desk, Extras, MemoryStore, Store, VirtualClock};
use stringer_core::contract::Contract;
use stringer_core::event::{Event, EventKind, Notice, NoticeBody, TimerKind};
use stringer_core::ids::{Deployment, OrgSlug, Severity, TicketId, Tier, UserRole};
use stringer_core::oncall::{Schedule, ScheduleSpec};
use stringer_core::replay::{Setting, TicketRun};
use stringer_core::routing::{Roster, StaffMember};
use stringer_core::ticket::{OrgProfile, Ticket};

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
    StopWaiting,
    Assign(bool),
    GiveBridge,
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
        Step::StopWaiting => EventKind::StoppedWaiting,
        Step::Assign(taken) => EventKind::Assigned { to: taken.then(|| "nico".into()) },
        Step::GiveBridge => EventKind::BridgeGiven { url: "https://meet.example.com/acme".into() },
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

/// Every step a ticket's history may hold: [`step`]'s, and the rarer ones no rule of
/// `ticket_rules_keep_their_invariants` is about.
fn history_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        12 => step(),
        1 => Just(Step::StopWaiting),
        1 => any::<bool>().prop_map(Step::Assign),
        1 => Just(Step::GiveBridge),
    ]
}

/// One ticket's history and the people around it.
#[derive(Clone, Debug)]
struct History {
    tier: usize,
    deployment: usize,
    severity: usize,
    security: bool,
    /// Opened this many minutes after Monday 2026-11-23 00:00 UTC.
    offset: i64,
    /// Whether the org has its own schedule, and whether a platform-wide one exists.
    schedules: (bool, bool),
    /// Whether a step may be recorded in the change before it (several commands at once).
    grouped: bool,
    /// (minutes after the previous step, joins the previous change, what happens)
    steps: Vec<(i64, bool, Step)>,
    /// Timers run up to this many minutes after the last step.
    tail: i64,
}

/// Minutes between steps: often the contract's own spans, so that a step lands on the very
/// instant a timer falls due (an escalation step, the customer page opening).
fn gap() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => 0i64..600,
        1 => Just(0i64),
        2 => prop::sample::select(vec![5i64, 10, 15, 30, 60]),
    ]
}

fn history() -> impl Strategy<Value = History> {
    (
        (0usize..2, 0usize..3, 0usize..4, any::<bool>(), 0i64..20_160),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        prop::collection::vec((gap(), any::<bool>(), history_step()), 0..14),
        0i64..20_160,
    )
        .prop_map(|((tier, deployment, severity, security, offset), (own, platform, grouped), steps, tail)| {
            History { tier, deployment, severity, security, offset, schedules: (own, platform), grouped, steps, tail }
        })
}

const STAFF: [(&str, UserRole, bool); 6] = [
    ("tina", UserRole::Tam, false),
    ("nico", UserRole::Engineer, false),
    ("vera", UserRole::VpEngineering, true),
    ("lena", UserRole::SupportLead, false),
    ("pat", UserRole::PlatformEngineer, true),
    ("paul", UserRole::PlatformEngineer, false),
];

/// The org's own rotation (daily, Berlin) and the platform-wide one (weekly, UTC).
fn layers(own: bool) -> serde_json::Value {
    let (members, zone, days) = if own { (["nico", "paul"], "Europe/Berlin", 1) } else { (["pat", "paul"], "UTC", 7) };
    serde_json::json!([{"rotation": {"name": "r", "time_zone": zone, "members": members, "shift_days": days, "handoff": "09:00", "start": "2026-11-16"}}])
}

impl History {
    fn org(&self) -> OrgProfile {
        OrgProfile {
            slug: OrgSlug::from("o"),
            tier: Tier::from(["pro", "enterprise"][self.tier]),
            deployment: [Deployment::Shared, Deployment::Dedicated, Deployment::Federal][self.deployment],
        }
    }

    /// The ticket's changes, each the events recorded together, in order.
    fn changes(&self) -> Vec<Vec<Event>> {
        let id = TicketId::from("T");
        let mut at = "2026-11-23T00:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_mins(self.offset);
        let opened = EventKind::Opened {
            org: OrgSlug::from("o"),
            severity: Severity(format!("P{}", self.severity + 1)),
            intake: None,
            security: self.security,
        };
        let mut changes = vec![vec![Event::new(at, id.clone(), opened)]];
        for (gap, joins, s) in &self.steps {
            at += SignedDuration::from_mins(*gap);
            let e = event(&id, at, s);
            match changes.last_mut() {
                Some(last) if self.grouped && *joins => last.push(e),
                _ => changes.push(vec![e]),
            }
        }
        changes
    }

    fn until(&self, changes: &[Vec<Event>]) -> Timestamp {
        let last = changes.iter().flatten().map(|e| e.at).max().expect("opened at least");
        last + SignedDuration::from_mins(self.tail)
    }

    /// The org, its people and its schedules as `stringer simulate` reads them.
    fn setup_lines(&self) -> String {
        let org = self.org();
        let mut lines = vec![
            serde_json::json!({"kind": "org", "org": org.slug, "tier": org.tier, "deployment": org.deployment, "tam": "tina", "named_engineers": ["nico"]}),
        ];
        for (user, role, cleared) in STAFF {
            lines.push(serde_json::json!({"kind": "staff", "user": user, "role": role, "federal_cleared": cleared}));
        }
        if self.schedules.0 {
            lines.push(serde_json::json!({"kind": "schedule", "org": "o", "name": "own", "layers": layers(true)}));
        }
        if self.schedules.1 {
            lines.push(serde_json::json!({"kind": "schedule", "name": "platform", "layers": layers(false)}));
        }
        lines.iter().map(|l| format!("{l}\n")).collect()
    }
}

/// What the Desk made of a history.
struct Desked {
    notices: Vec<Notice>,
    /// Per change, whether the Desk recorded it (a refused change writes nothing).
    recorded: Vec<bool>,
    ticket: Option<Ticket>,
    timers: BTreeMap<TimerKind, Timestamp>,
    /// The roster the Desk routed with.
    roster: Roster,
}

/// The reference path: the history through `Desk<MemoryStore, VirtualClock>`, each change
/// recorded as one, timers run by the simulator's schedule (strictly before each change,
/// then up to `until`).
async fn via_desk(contract: Arc<Contract>, h: &History, changes: &[Vec<Event>], until: Timestamp) -> Desked {
    let org = h.org();
    let desk = Desk::new(contract, MemoryStore::new(), VirtualClock::new(changes[0][0].at));
    desk.store().set_org_people(&org.slug, Some("tina".into()), vec!["nico".into()]);
    desk.put_org(org.clone()).await.unwrap();
    for (user, role, cleared) in STAFF {
        desk.store().add_staff(StaffMember { id: user.into(), role, federal_cleared: cleared });
    }
    for (wanted, own) in [(h.schedules.0, true), (h.schedules.1, false)] {
        if wanted {
            let spec: ScheduleSpec =
                serde_json::from_value(serde_json::json!({"name": "s", "layers": layers(own)})).unwrap();
            desk.store().add_schedule(own.then(|| org.slug.clone()), Schedule::compile(&spec).unwrap());
        }
    }
    let mut notices = Vec::new();
    let mut recorded = Vec::new();
    for change in changes {
        let at = change[0].at;
        run_timers(&desk, |t| t < at, &mut |n| notices.extend(n)).await.unwrap();
        desk.clock().set(at);
        match desk.record_with(change.clone(), Extras::default()).await {
            Ok(r) => {
                notices.extend(r.notices);
                recorded.push(true);
            }
            Err(AppError::Rejected(_) | AppError::UnknownTicket(_)) => recorded.push(false),
            Err(other) => panic!("unexpected error {other}"),
        }
    }
    run_timers(&desk, |t| t <= until, &mut |n| notices.extend(n)).await.unwrap();
    let id = TicketId::from("T");
    Desked {
        notices,
        recorded,
        ticket: desk.store().ticket(&id).await.unwrap().map(|s| s.ticket),
        timers: desk.store().timers(&id),
        roster: desk.store().roster(&org.slug).await.unwrap(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The fast per-ticket replay cannot drift from the server's path: a history replayed by
    /// `TicketRun` gives the very notices (kind, instant, body with its recipients), final
    /// state and pending timers the Desk gives; an event the Desk refused is skipped, and
    /// only those are. Replaying twice gives the same run. A history of one event per change
    /// also goes through `stringer simulate`'s own `Scenario::run`, to the same notices.
    #[test]
    fn the_replay_decides_as_the_desk_does(h in history()) {
        let contract = Arc::new(Contract::default_contract());
        let changes = h.changes();
        let until = h.until(&changes);
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let desked = rt.block_on(via_desk(contract.clone(), &h, &changes, until));

        // The history as stored holds the changes the Desk recorded; a refused single event
        // is replayed too, to show it is skipped as the Desk refused it.
        let replayed: Vec<&[Event]> = changes.iter().zip(&desked.recorded).filter(|(c, ok)| **ok || c.len() == 1).map(|(c, _)| c.as_slice()).collect();
        let refused: Vec<&Event> = changes.iter().zip(&desked.recorded).filter(|(c, ok)| !**ok && c.len() == 1).map(|(c, _)| &c[0]).collect();
        let org = h.org();
        let setting = Setting { contract: &contract, org: &org, rosters: &desked.roster };
        let run = TicketRun::ideal(setting, replayed.iter().copied(), until);
        prop_assert_eq!(run.notices(), desked.notices.as_slice());
        prop_assert_eq!(run.ticket(), desked.ticket.as_ref());
        prop_assert_eq!(run.timers(), &desked.timers);
        prop_assert_eq!(run.skipped().iter().map(|s| &s.event).collect::<Vec<_>>(), refused);
        prop_assert!(run.uncovered().is_none());
        prop_assert_eq!(&TicketRun::ideal(setting, replayed.iter().copied(), until), &run, "deterministic");

        if changes.iter().all(|c| c.len() == 1) {
            let mut text = h.setup_lines();
            for (change, _) in changes.iter().zip(&desked.recorded).filter(|(_, ok)| **ok) {
                text.push_str(&format!("{}\n", serde_json::to_string(&change[0]).unwrap()));
            }
            let scenario = Scenario::parse(&text, &contract).unwrap();
            let simulated = rt.block_on(scenario.run(contract.clone(), Some(until))).unwrap();
            prop_assert_eq!(simulated, desked.notices);
        }
    }
}
