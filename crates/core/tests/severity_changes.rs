//! Severity changes, as the contract reads (docs/contract.md, "Responding" and "Paging and
//! escalation"), on the seed's terms: Enterprise pages on-call at once for P1 and P2, the TAM
//! 15 minutes after the page and the VP of Engineering 30 minutes after it for a P1; the
//! response is due in 1 h (P1), 4 h (P2), 8 business hours (P3) on a 24/7 calendar.
//!
//! Each case drives one ticket through the core alone — its events, and its timers run in
//! time order (events before timers at one instant) — and lists everything it decided, with
//! the response's due instant after every severity change. Times are minutes (and seconds)
//! after the opening, Friday 2026-11-27 20:00 UTC.

use jiff::{SignedDuration, Timestamp};
use stringer_core::contract::Contract;
use stringer_core::event::{Decision, Event, EventKind, NoticeBody, TimerKind, TimerOp};
use stringer_core::ids::{Deployment, OrgSlug, Role, Severity, TicketId, Tier};
use stringer_core::ticket::{OrgProfile, Ticket};

const OPENED: &str = "2026-11-27T20:00:00Z";

fn opened_at() -> Timestamp {
    OPENED.parse().unwrap()
}

/// "+15m", "+80m01s": an instant after the opening.
fn offset(at: Timestamp) -> String {
    let s = at.as_second() - opened_at().as_second();
    if s % 60 == 0 { format!("+{}m", s / 60) } else { format!("+{}m{:02}s", s / 60, s % 60) }
}

/// What happens in a case, at minutes after the opening.
enum Step {
    Raise(u32, &'static str),
    Lower(u32, &'static str),
    Ack(u32),
}

use Step::{Ack, Lower, Raise};

/// (the promise, tier, severity at opening, what happens, everything decided).
type Case = (&'static str, &'static str, &'static str, Vec<Step>, Vec<&'static str>);

struct Run<'c> {
    contract: &'c Contract,
    ticket: Ticket,
    timers: Vec<(TimerKind, Timestamp)>,
    said: Vec<String>,
}

impl<'c> Run<'c> {
    fn open(contract: &'c Contract, tier: &str, severity: &str, security: bool) -> Run<'c> {
        let org = OrgProfile { slug: OrgSlug::from("acme"), tier: Tier::from(tier), deployment: Deployment::Dedicated };
        let kind =
            EventKind::Opened { org: org.slug.clone(), severity: Severity::from(severity), intake: None, security };
        let (ticket, d) = Ticket::open(contract, &org, &Event::new(opened_at(), TicketId::from("T1"), kind)).unwrap();
        let mut run = Run { contract, ticket, timers: Vec::new(), said: Vec::new() };
        run.take(d);
        run
    }

    fn take(&mut self, d: Decision) {
        for n in d.notices {
            let detail = match &n.body {
                NoticeBody::Page { role, .. } => format!(" {}", role.as_str()),
                NoticeBody::SlaMet { due, .. } | NoticeBody::SlaBreached { due, .. } => {
                    format!(" due {}", offset(*due))
                }
                NoticeBody::QueueNotified { severity } => format!(" {severity}"),
                NoticeBody::BridgeOverdue { notify, .. } => {
                    format!(" told {}", notify.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" "))
                }
                _ => String::new(),
            };
            self.said.push(format!("{} {}{detail}", offset(n.at), n.body.kind()));
        }
        for op in d.timers {
            match op {
                TimerOp::Set { kind, at } => {
                    self.timers.retain(|(k, _)| *k != kind);
                    self.timers.push((kind, at));
                }
                TimerOp::Cancel { kind } => self.timers.retain(|(k, _)| *k != kind),
            }
        }
    }

    /// Runs every timer due before `until` (or at it, with `inclusive`), earliest first.
    fn run_timers(&mut self, until: Timestamp, inclusive: bool) {
        loop {
            let next = self
                .timers
                .iter()
                .filter(|(_, at)| *at < until || (inclusive && *at == until))
                .min_by_key(|(_, at)| *at)
                .cloned();
            let Some((kind, at)) = next else { return };
            self.timers.retain(|(k, _)| *k != kind);
            let d = self.ticket.on_timer(self.contract, &kind, at).unwrap();
            self.take(d);
        }
    }

    fn event(&mut self, minutes: u32, kind: EventKind) {
        let at = opened_at() + SignedDuration::from_mins(minutes.into());
        self.run_timers(at, false);
        let changed = matches!(kind, EventKind::SeverityChanged { .. });
        let d = self.ticket.apply(self.contract, &Event::new(at, TicketId::from("T1"), kind)).unwrap();
        self.take(d);
        if changed {
            let clock = self.ticket.clocks.iter().find(|c| c.target == "response").unwrap();
            let due = clock.due.map(offset).unwrap_or_else(|| "none".into());
            self.said.push(format!("{} {} response due {due}", offset(at), self.ticket.severity));
        }
    }

    fn step(&mut self, step: &Step) {
        match step {
            Step::Raise(m, s) | Step::Lower(m, s) => {
                self.event(*m, EventKind::SeverityChanged { severity: Severity::from(*s) })
            }
            Step::Ack(m) => self.event(*m, EventKind::Acknowledged { by: "eve".into() }),
        }
    }

    fn finish(mut self) -> Vec<String> {
        self.run_timers(opened_at() + SignedDuration::from_hours(24 * 7), true);
        self.said
    }
}

fn run(tier: &str, severity: &str, steps: &[Step]) -> Vec<String> {
    let contract = Contract::default_contract();
    let mut r = Run::open(&contract, tier, severity, false);
    for s in steps {
        // The case names the direction; the contract's order of severities must agree.
        if let Raise(_, to) | Lower(_, to) = s {
            let raised = contract.rank(&Severity::from(*to)).unwrap() < contract.rank(&r.ticket.severity).unwrap();
            assert_eq!(raised, matches!(s, Raise(..)), "a change to {to} is named the wrong way");
        }
        r.step(s);
    }
    r.finish()
}

#[test]
fn severity_changes_page_and_count_as_the_contract_says() {
    let cases: Vec<Case> = vec![
        (
            "Enterprise P2 raised to P1 before the VP step's time: the VP is paged 30 min after the page",
            "enterprise",
            "P2",
            vec![Raise(20, "P1")],
            vec![
                "+0m page oncall",
                "+15m page tam",
                "+20m P1 response due +80m",
                "+30m page vp_engineering",
                "+80m01s sla.breached due +80m",
            ],
        ),
        (
            "Enterprise P2 raised to P1 after the VP step's time: the skipped VP step fires at once",
            "enterprise",
            "P2",
            vec![Raise(40, "P1")],
            vec![
                "+0m page oncall",
                "+15m page tam",
                "+40m page vp_engineering",
                "+40m P1 response due +100m",
                "+100m01s sla.breached due +100m",
            ],
        ),
        (
            "Enterprise P2 acknowledged, then raised to P1 after the VP step's time: nobody more is paged, the met response stays met",
            "enterprise",
            "P2",
            vec![Ack(20), Raise(40, "P1")],
            vec!["+0m page oncall", "+15m page tam", "+20m sla.met due +240m", "+40m P1 response due +240m"],
        ),
        (
            "Enterprise P3 raised to P1: paging starts from the raise — on-call at once, the TAM 15 min and the VP 30 min after",
            "enterprise",
            "P3",
            vec![Raise(10, "P1"), Ack(45)],
            vec![
                "+0m queue.notified P3",
                "+10m page oncall",
                "+10m P1 response due +70m",
                "+25m page tam",
                "+40m page vp_engineering",
                "+45m sla.met due +70m",
            ],
        ),
        (
            "Enterprise P3 raised to P2, then to P1 after the VP step's time of the P2's paging: the VP at once",
            "enterprise",
            "P3",
            vec![Raise(10, "P2"), Raise(50, "P1"), Ack(55)],
            vec![
                "+0m queue.notified P3",
                "+10m page oncall",
                "+10m P2 response due +250m",
                "+25m page tam",
                "+50m page vp_engineering",
                "+50m P1 response due +110m",
                "+55m sla.met due +110m",
            ],
        ),
        (
            "Enterprise P3 raised to P1 and lowered back to P3: the due time counts from the opening again; paging stops and the queue hears of it",
            "enterprise",
            "P3",
            vec![Raise(5, "P1"), Lower(8, "P3")],
            vec![
                "+0m queue.notified P3",
                "+5m page oncall",
                "+5m P1 response due +65m",
                "+8m queue.notified P3",
                "+8m P3 response due +480m",
                "+480m01s sla.breached due +480m",
            ],
        ),
        (
            "Enterprise P3 raised to P1, lowered to P2: 4 h from the opening; P2 still pages, so the TAM follows, the VP does not",
            "enterprise",
            "P3",
            vec![Raise(5, "P1"), Lower(8, "P2"), Ack(50)],
            vec![
                "+0m queue.notified P3",
                "+5m page oncall",
                "+5m P1 response due +65m",
                "+8m P2 response due +240m",
                "+20m page tam",
                "+50m sla.met due +240m",
            ],
        ),
        (
            "Enterprise P1 lowered to P3 and raised back to P1: paging starts again, timed from the new page",
            "enterprise",
            "P1",
            vec![Lower(3, "P3"), Raise(6, "P1"), Ack(40)],
            vec![
                "+0m page oncall",
                "+3m queue.notified P3",
                "+3m P3 response due +480m",
                "+6m page oncall",
                "+6m P1 response due +66m",
                "+21m page tam",
                "+36m page vp_engineering",
                "+40m sla.met due +66m",
            ],
        ),
        (
            "Enterprise P1 lowered to P3 before the TAM step: nobody more is paged, the queue hears of it at once",
            "enterprise",
            "P1",
            vec![Lower(10, "P3")],
            vec![
                "+0m page oncall",
                "+10m queue.notified P3",
                "+10m P3 response due +480m",
                "+480m01s sla.breached due +480m",
            ],
        ),
        (
            "Enterprise P1 lowered to P2 before the VP step, raised back after its time: the VP at once",
            "enterprise",
            "P1",
            vec![Lower(10, "P2"), Raise(35, "P1"), Ack(50)],
            vec![
                "+0m page oncall",
                "+10m P2 response due +240m",
                "+15m page tam",
                "+35m page vp_engineering",
                "+35m P1 response due +95m",
                "+50m sla.met due +95m",
            ],
        ),
        (
            "Enterprise P1 raised after its acknowledgement stays quiet; lowering an acknowledged ticket tells nobody",
            "enterprise",
            "P2",
            vec![Ack(5), Raise(40, "P1"), Lower(50, "P3")],
            vec![
                "+0m page oncall",
                "+5m sla.met due +240m",
                "+40m P1 response due +240m",
                "+50m P3 response due +240m",
            ],
        ),
        (
            "Pro P2 raised to P1: the platform on-call at once; the customer's page opens 30 min after the opening",
            "pro",
            "P2",
            vec![Raise(10, "P1"), Ack(45)],
            vec![
                "+0m queue.notified P2",
                "+10m page oncall",
                "+10m P1 response due +250m",
                "+30m customer_page.available",
                "+45m sla.met due +250m",
            ],
        ),
        (
            "Pro P1 lowered to P3 on a Friday evening: 1 business day from the opening (Monday 20:00), the queue hears of it at once",
            "pro",
            "P1",
            vec![Lower(10, "P3")],
            vec![
                "+0m page oncall",
                "+10m queue.notified P3",
                "+10m P3 response due +4320m",
                "+4320m01s sla.breached due +4320m",
            ],
        ),
    ];
    for (promise, tier, severity, steps, expected) in cases {
        assert_eq!(run(tier, severity, &steps), expected, "{promise}");
    }
}

#[test]
fn a_missed_bridge_tells_the_roles_the_contract_names() {
    let contract = Contract::default_contract();
    assert_eq!(contract.security.bridge.overdue_notify, [Role::Tam, Role::SupportLead]);
    // Reported as a P3, a security incident is a P1: the bridge is due with the P1's hour.
    let mut r = Run::open(&contract, "enterprise", "P3", true);
    r.step(&Ack(5));
    assert_eq!(
        r.finish(),
        ["+0m page oncall", "+5m sla.met due +60m", "+60m01s bridge.overdue told tam support_lead",]
    );
}
