use super::*;
use crate::event::{EventKind, NoticeBody};
use crate::ids::{Deployment, Role, Severity, UserRole};
use crate::routing::{Roster, StaffMember};

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn event(when: &str, kind: EventKind) -> Event {
    Event::new(at(when), "T".into(), kind)
}

fn opened(when: &str, severity: &str) -> Event {
    event(
        when,
        EventKind::Opened { org: "acme".into(), severity: Severity(severity.into()), intake: None, security: false },
    )
}

fn ack(when: &str) -> Event {
    event(when, EventKind::Acknowledged { by: "nico".into() })
}

fn org(tier: &str) -> OrgProfile {
    OrgProfile { slug: "acme".into(), tier: tier.into(), deployment: Deployment::Dedicated }
}

fn roster() -> Roster {
    let member = |id: &str, role| StaffMember { id: id.into(), role, federal_cleared: false };
    Roster {
        org: "acme".into(),
        deployment: Deployment::Dedicated,
        tam: Some("tina".into()),
        named_engineers: vec!["nico".into()],
        schedules: vec![],
        staff: vec![
            member("tina", UserRole::Tam),
            member("nico", UserRole::Engineer),
            member("vera", UserRole::VpEngineering),
            member("lena", UserRole::SupportLead),
        ],
    }
}

/// Replays `changes` of an acme ticket at `tier` under the built-in contract, up to `until`.
fn replay(tier: &str, changes: &[Vec<Event>], until: &str) -> TicketRun {
    let contract = Contract::default_contract();
    let (org, roster) = (org(tier), roster());
    let setting = Setting { contract: &contract, org: &org, rosters: &roster };
    TicketRun::ideal(setting, changes.iter().map(Vec::as_slice), at(until))
}

fn pages(run: &TicketRun) -> Vec<(Timestamp, Role, Vec<String>)> {
    run.notices()
        .iter()
        .filter_map(|n| match &n.body {
            NoticeBody::Page { role, to, .. } => Some((n.at, *role, to.clone())),
            _ => None,
        })
        .collect()
}

fn kinds(run: &TicketRun) -> Vec<(Timestamp, &'static str)> {
    run.notices().iter().map(|n| (n.at, n.body.kind())).collect()
}

#[test]
fn an_enterprise_p1_escalates_step_by_step_until_acknowledged() {
    let run = replay(
        "enterprise",
        &[vec![opened("2026-11-25T10:00:00Z", "P1")], vec![ack("2026-11-25T10:16:00Z")]],
        "2026-12-31T00:00:00Z",
    );
    assert_eq!(
        pages(&run),
        [
            (at("2026-11-25T10:00:00Z"), Role::Oncall, vec!["nico".to_string()]),
            (at("2026-11-25T10:15:00Z"), Role::Tam, vec!["tina".to_string()]),
        ],
        "the VP's step at 10:30 never comes"
    );
    let met = NoticeBody::SlaMet { target: "response".into(), due: at("2026-11-25T11:00:00Z") };
    assert!(run.notices().iter().any(|n| n.at == at("2026-11-25T10:16:00Z") && n.body == met), "{:#?}", run.notices());
    assert!(run.timers().is_empty(), "nothing left to fire: {:?}", run.timers());
    assert!(run.skipped().is_empty() && run.uncovered().is_none());
    assert_eq!(run.ticket().map(|t| t.acknowledged.clone()), Some(Some((at("2026-11-25T10:16:00Z"), "nico".into()))));
}

#[test]
fn an_acknowledgement_at_a_steps_instant_comes_before_the_step() {
    let run = replay(
        "enterprise",
        &[vec![opened("2026-11-25T10:00:00Z", "P1")], vec![ack("2026-11-25T10:15:00Z")]],
        "2026-12-31T00:00:00Z",
    );
    assert_eq!(pages(&run), [(at("2026-11-25T10:00:00Z"), Role::Oncall, vec!["nico".to_string()])]);
}

#[test]
fn no_timer_fires_inside_a_change() {
    let events = vec![
        opened("2026-11-25T10:00:00Z", "P1"),
        ack("2026-11-25T10:20:00Z"),
        event("2026-11-25T10:30:00Z", EventKind::Resolved { by_customer: false }),
    ];
    let one_change = replay("enterprise", std::slice::from_ref(&events), "2026-11-26T00:00:00Z");
    assert_eq!(pages(&one_change), [(at("2026-11-25T10:00:00Z"), Role::Oncall, vec!["nico".to_string()])]);
    let three_changes: Vec<Vec<Event>> = events.into_iter().map(|e| vec![e]).collect();
    let apart = replay("enterprise", &three_changes, "2026-11-26T00:00:00Z");
    assert_eq!(
        pages(&apart).into_iter().map(|(t, role, _)| (t, role)).collect::<Vec<_>>(),
        [(at("2026-11-25T10:00:00Z"), Role::Oncall), (at("2026-11-25T10:15:00Z"), Role::Tam)],
        "with the acknowledgement a change of its own, the TAM's step fires before it"
    );
}

#[test]
fn timers_fire_up_to_until_inclusive() {
    // Pro P3 opened Friday 20:00: one business day of Pro hours is 4 h on Friday and 20 h
    // from Monday 00:00, so it is due Monday 20:00 and breached the second after.
    let changes = [vec![opened("2026-11-27T20:00:00Z", "P3")]];
    let breach = at("2026-11-30T20:00:01Z");
    let through = replay("pro", &changes, "2026-11-30T20:00:01Z");
    assert_eq!(
        kinds(&through),
        [(at("2026-11-27T20:00:00Z"), "queue.notified"), (breach, "sla.breached")],
        "the queue is told at once (Friday evening is Pro hours), the breach at its instant"
    );
    assert!(through.timers().is_empty());
    let short = replay("pro", &changes, "2026-11-30T20:00:00Z");
    assert_eq!(kinds(&short), [(at("2026-11-27T20:00:00Z"), "queue.notified")]);
    assert_eq!(short.timers().values().copied().collect::<Vec<_>>(), [breach], "left pending");
}

#[test]
fn a_refused_event_is_skipped_and_the_rest_of_its_change_applies() {
    let publish = event("2026-11-25T10:05:00Z", EventKind::ReportPublished);
    let run = replay(
        "pro",
        &[vec![opened("2026-11-25T10:00:00Z", "P3")], vec![publish.clone(), ack("2026-11-25T10:05:00Z")]],
        "2026-11-26T00:00:00Z",
    );
    assert_eq!(run.skipped().len(), 1);
    assert_eq!(run.skipped()[0].event, publish, "a P3 owes no report");
    assert!(run.ticket().is_some_and(|t| t.acknowledged.is_some()), "the acknowledgement still applies");
    assert!(kinds(&run).contains(&(at("2026-11-25T10:05:00Z"), "sla.met")), "{:#?}", run.notices());
    assert!(run.uncovered().is_none());
}

#[test]
fn a_change_before_the_opening_is_skipped_whole() {
    let run = replay(
        "pro",
        &[vec![ack("2026-11-25T09:00:00Z")], vec![opened("2026-11-25T10:00:00Z", "P3")]],
        "2026-11-25T11:00:00Z",
    );
    assert_eq!(run.skipped().iter().map(|s| s.event.name()).collect::<Vec<_>>(), ["ticket.acknowledged"]);
    assert!(run.ticket().is_some(), "the opening that follows opens it");
}

#[test]
fn a_ticket_the_contract_does_not_cover_stops_the_run() {
    let unknown = replay(
        "pro",
        &[vec![opened("2026-11-25T10:00:00Z", "P9")], vec![ack("2026-11-25T10:05:00Z")]],
        "2026-12-31T00:00:00Z",
    );
    assert_eq!(unknown.uncovered(), Some(&Uncovered::Severity(Severity("P9".into()))));
    assert!(unknown.ticket().is_none() && unknown.notices().is_empty() && unknown.skipped().is_empty());

    let changed = replay(
        "enterprise",
        &[
            vec![opened("2026-11-25T10:00:00Z", "P2")],
            vec![event("2026-11-25T10:05:00Z", EventKind::SeverityChanged { severity: Severity("P9".into()) })],
            vec![ack("2026-11-25T10:20:00Z")],
        ],
        "2026-12-31T00:00:00Z",
    );
    assert_eq!(changed.uncovered(), Some(&Uncovered::Severity(Severity("P9".into()))));
    assert_eq!(pages(&changed).len(), 1, "nothing runs after the stop: {:#?}", changed.notices());
    assert!(changed.ticket().is_some_and(|t| t.acknowledged.is_none()));
}

#[test]
fn a_roster_is_asked_at_the_instant_of_each_change() {
    struct Handover {
        before: Roster,
        after: Roster,
        from: Timestamp,
    }
    impl Rosters for Handover {
        fn at(&self, t: Timestamp) -> &Roster {
            if t < self.from { &self.before } else { &self.after }
        }
    }
    // At 10:10 the org's TAM changes from tina to lena.
    let mut after = roster();
    after.tam = Some("lena".into());
    for m in after.staff.iter_mut().filter(|m| m.id == "lena") {
        m.role = UserRole::Tam;
    }
    let rosters = Handover { before: roster(), after, from: at("2026-11-25T10:10:00Z") };
    let contract = Contract::default_contract();
    let org = org("enterprise");
    let setting = Setting { contract: &contract, org: &org, rosters: &rosters };
    let changes = [vec![opened("2026-11-25T10:00:00Z", "P1")], vec![ack("2026-11-25T10:20:00Z")]];
    let run = TicketRun::ideal(setting, changes.iter().map(Vec::as_slice), at("2026-11-26T00:00:00Z"));
    assert_eq!(
        pages(&run),
        [
            (at("2026-11-25T10:00:00Z"), Role::Oncall, vec!["nico".to_string()]),
            (at("2026-11-25T10:15:00Z"), Role::Tam, vec!["lena".to_string()]),
        ]
    );
}
