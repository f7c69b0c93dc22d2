//! The alert desk's decisions over in-memory ports, through the one intake round: one
//! ticket per alert (integration key × deduplication key), what a repeated trigger, an
//! acknowledgement and a resolve do to it, which severity a level opens at, and which status
//! page components an alert may move.

use super::*;
use crate::fakes::{Inline, MemoryAlerts, Pages, World, component, org, page};
use crate::inbox::round;
use crate::records::TicketRecord;
use crate::status::ComponentRecord;
use std::sync::Mutex;
use stringer_core::contract::Contract;
use stringer_core::ids::Severity;
use stringer_core::status::ComponentStatus;
use stringer_core::ticket::Status;

const NOW: &str = "2026-03-02T10:00:00Z";

/// A signal in a table: (integration key, action, deduplication key, level).
type Sent<'a> = (&'a str, AlertAction, &'a str, Option<AlertLevel>);
/// Signals in a table.
type Signals<'a> = &'a [Sent<'a>];
/// Outcomes, states or keys in a table.
type Words<'a> = &'a [&'a str];

use AlertAction::{Acknowledge as Ack, Resolve, Trigger};

/// Acme's keys: `ink_res` (a resolve resolves), `ink_note` (a resolve only notes),
/// `ink_map` (its own severity table: everything P2 but critical), all for the Events API.
fn key(id: &str, on_resolve: OnResolve, severity: Option<SeverityMap>) -> IntegrationKey {
    IntegrationKey {
        id: id.into(),
        org: OrgSlug::from("acme"),
        name: id.into(),
        kind: KeyKind::EventsV2,
        severity,
        on_resolve,
        secret_hash: secret_hash(id),
        created_by: UserId::from("ada"),
        created_at: 0,
        revoked_at: None,
    }
}

/// Acme (enterprise) with its keys; its status page `own` (component `web`) and the
/// platform page `pub` (component `api`), both bound to the alert `db-down`; `grants` lets
/// keys set the platform page.
async fn desk(grants: &[&str]) -> (Arc<AlertDesk>, Arc<World>, Arc<MemoryAlerts>, Arc<Pages>) {
    let world = World::new(Contract::default_contract(), NOW.parse().unwrap());
    world.add_org(org("acme", "enterprise")).await;
    let alerts = Arc::new(MemoryAlerts::new(world.clone()));
    let p2 = |s: &str| Severity::from(s);
    let map = SeverityMap { critical: p2("P1"), error: p2("P2"), warning: p2("P2"), info: p2("P2") };
    *alerts.keys.lock().unwrap() = vec![
        key("ink_res", OnResolve::Resolve, None),
        key("ink_note", OnResolve::Note, None),
        key("ink_map", OnResolve::Resolve, Some(map)),
    ];
    let bound = |id: &str, page: &str| ComponentRecord { alert_key: Some("db-down".into()), ..component(id, page) };
    let pages = Arc::new(Pages {
        pages: vec![page("pub", None), page("own", Some("acme"))],
        components: Mutex::new(vec![bound("api", "pub"), bound("web", "own"), component("docs", "own")]),
        grants: grants.iter().map(|k| ("pub".to_string(), k.to_string())).collect(),
        ..Pages::default()
    });
    let ports =
        AlertPorts { commands: world.clone(), queries: world.clone(), alerts: alerts.clone(), status: pages.clone() };
    (Arc::new(AlertDesk { ports }), world, alerts, pages)
}

/// Stores `sent`, one second apart.
async fn send(alerts: &MemoryAlerts, sent: &[Sent<'_>]) {
    for (i, (key, action, dedup, level)) in sent.iter().enumerate() {
        let signal = Signal {
            key: key.to_string(),
            action: *action,
            dedup_key: dedup.to_string(),
            summary: format!("{dedup} #{i}"),
            source: "db-1".into(),
            level: *level,
            details: "{}".into(),
            received_at_ms: 1_772_445_600_000 + i as i64 * 1000,
        };
        alerts.accept_signal(&signal).await.unwrap();
    }
}

/// Runs intake rounds until nothing is left; `one_at_a_time` claims one signal a round.
async fn drain(desk: &Arc<AlertDesk>, one_at_a_time: bool) {
    let limit = if one_at_a_time { 1 } else { 100 };
    let now = Commands::now(desk.ports.commands.as_ref()).as_second();
    while round(desk, &Inline, now, now + 60, limit).await.claimed > 0 {}
}

/// What each signal came to, in words.
fn outcomes(alerts: &MemoryAlerts) -> Vec<String> {
    alerts.outcomes().into_iter().map(|o| o.map_or_else(|| "unsettled".into(), |o| o.what)).collect()
}

/// A ticket's state in a word: open, acknowledged or resolved.
fn state(t: &TicketRecord) -> &'static str {
    match (t.state.status, &t.state.acknowledged) {
        (Status::Resolved, _) => "resolved",
        (_, Some(_)) => "acknowledged",
        _ => "open",
    }
}

#[tokio::test]
async fn an_alert_opens_one_ticket_and_its_later_signals_act_on_it() {
    let crit = Some(AlertLevel::Critical);
    let cases: &[(&str, Signals, Words, Words)] = &[
        // (why, signals, what each came to, the tickets' states after)
        ("a trigger opens a ticket", &[("ink_res", Trigger, "db", crit)], &["opened a ticket"], &["open"]),
        (
            "repeated triggers are counted on the open alert, not opened again",
            &[("ink_res", Trigger, "db", crit), ("ink_res", Trigger, "db", crit), ("ink_res", Trigger, "db", crit)],
            &["opened a ticket", "counted on the open alert", "counted on the open alert"],
            &["open"],
        ),
        (
            "an acknowledge acknowledges the ticket, once",
            &[("ink_res", Trigger, "db", crit), ("ink_res", Ack, "db", None), ("ink_res", Ack, "db", None)],
            &["opened a ticket", "acknowledged its ticket", "ignored: already acknowledged"],
            &["acknowledged"],
        ),
        (
            "a resolve resolves the ticket",
            &[("ink_res", Trigger, "db", crit), ("ink_res", Resolve, "db", None)],
            &["opened a ticket", "resolved its ticket"],
            &["resolved"],
        ),
        (
            "a key that only notes leaves the ticket to people",
            &[("ink_note", Trigger, "db", crit), ("ink_note", Resolve, "db", None)],
            &["opened a ticket", "noted on its ticket"],
            &["open"],
        ),
        (
            "an acknowledge of no alert is ignored",
            &[("ink_res", Ack, "db", None)],
            &["ignored: no open alert has this deduplication key"],
            &[],
        ),
        (
            "a resolve of no alert is ignored",
            &[("ink_res", Resolve, "db", None)],
            &["ignored: no open alert has this deduplication key"],
            &[],
        ),
        (
            "a trigger after the resolve is a new alert with a new ticket",
            &[("ink_res", Trigger, "db", crit), ("ink_res", Resolve, "db", None), ("ink_res", Trigger, "db", crit)],
            &["opened a ticket", "resolved its ticket", "opened a ticket"],
            &["resolved", "open"],
        ),
        (
            "a resolve after the alert was resolved is ignored",
            &[("ink_res", Trigger, "db", crit), ("ink_res", Resolve, "db", None), ("ink_res", Resolve, "db", None)],
            &["opened a ticket", "resolved its ticket", "ignored: no open alert has this deduplication key"],
            &["resolved"],
        ),
        (
            "deduplication is per key: two keys' alerts are two tickets",
            &[("ink_res", Trigger, "db", crit), ("ink_note", Trigger, "db", crit), ("ink_res", Resolve, "db", None)],
            &["opened a ticket", "opened a ticket", "resolved its ticket"],
            &["resolved", "open"],
        ),
        (
            "two deduplication keys are two alerts",
            &[("ink_res", Trigger, "db", crit), ("ink_res", Trigger, "disk", crit), ("ink_res", Ack, "disk", None)],
            &["opened a ticket", "opened a ticket", "acknowledged its ticket"],
            &["open", "acknowledged"],
        ),
        (
            "a key that is gone opens nothing",
            &[("ink_gone", Trigger, "db", crit)],
            &["ignored: the integration key is gone"],
            &[],
        ),
    ];
    for one_at_a_time in [false, true] {
        for (why, sent, expected, after) in cases {
            let why = format!("{why} (one signal a round: {one_at_a_time})");
            let (desk, world, alerts, _) = desk(&[]).await;
            send(&alerts, sent).await;
            drain(&desk, one_at_a_time).await;
            assert_eq!(outcomes(&alerts), *expected, "{why}");
            let states: Vec<&str> = world.opened_tickets().await.iter().map(state).collect();
            assert_eq!(states, *after, "{why}");
        }
    }
}

#[tokio::test]
async fn an_alert_counts_its_triggers_and_keeps_the_latest_summary() {
    let (desk, _, alerts, _) = desk(&[]).await;
    let crit = Some(AlertLevel::Critical);
    send(&alerts, &[("ink_res", Trigger, "db", crit), ("ink_res", Trigger, "db", crit), ("ink_res", Ack, "db", None)])
        .await;
    drain(&desk, true).await;
    let stored = alerts.alerts.lock().unwrap().clone();
    assert_eq!(stored.len(), 1, "one alert for one deduplication key");
    let a = &stored[0];
    assert_eq!((a.count, a.summary.as_str(), a.open, a.acknowledged), (2, "db #1", true, true));
}

#[tokio::test]
async fn a_trigger_after_a_person_resolved_the_ticket_opens_a_new_one() {
    let (desk, world, alerts, _) = desk(&[]).await;
    send(&alerts, &[("ink_res", Trigger, "db", Some(AlertLevel::Error))]).await;
    drain(&desk, false).await;
    let first = world.opened_tickets().await[0].id.clone();
    let resolved = Event::new(world.now(), first, EventKind::Resolved { by_customer: false });
    world.record(vec![resolved], Extras::default()).await.unwrap();
    send(&alerts, &[("ink_res", Trigger, "db", Some(AlertLevel::Error))]).await;
    drain(&desk, false).await;
    assert_eq!(outcomes(&alerts), ["opened a ticket", "opened a ticket"]);
    let states: Vec<&str> = world.opened_tickets().await.iter().map(state).collect();
    assert_eq!(states, ["resolved", "open"]);
}

#[tokio::test]
async fn a_level_opens_at_the_severity_its_key_maps_it_to() {
    use AlertLevel::{Critical, Error, Info, Warning};
    let cases = [
        // (why, key, level, severity)
        ("critical is the contract's first severity", "ink_res", Some(Critical), "P1"),
        ("error, its second", "ink_res", Some(Error), "P2"),
        ("warning, its third", "ink_res", Some(Warning), "P3"),
        ("info, its fourth", "ink_res", Some(Info), "P4"),
        ("no level counts as a warning", "ink_res", None, "P3"),
        ("a key's own table: critical", "ink_map", Some(Critical), "P1"),
        ("a key's own table: info", "ink_map", Some(Info), "P2"),
    ];
    for (why, key, level, severity) in cases {
        let (desk, world, alerts, _) = desk(&[]).await;
        send(&alerts, &[(key, Trigger, "db", level)]).await;
        drain(&desk, false).await;
        let opened = world.opened_tickets().await;
        assert_eq!(opened.len(), 1, "{why}");
        assert_eq!(opened[0].state.severity.as_str(), severity, "{why}");
        assert_eq!(opened[0].state.intake, Some(Intake::Alert), "{why}");
    }
}

#[tokio::test]
async fn an_alert_moves_the_components_bound_to_it_on_pages_that_let_its_key() {
    let crit = Some(AlertLevel::Critical);
    let up = "operational";
    let cases: &[(&str, Words, &str, Signals, [&str; 3])] = &[
        // (why, keys granted on the platform page, every status before, signals, api/web/docs after)
        (
            "a critical alert is a major outage on the org's own page only",
            &[],
            up,
            &[("ink_res", Trigger, "db-down", crit)],
            [up, "major_outage", up],
        ),
        (
            "a key granted on the platform page moves it too",
            &["ink_res"],
            up,
            &[("ink_res", Trigger, "db-down", crit)],
            ["major_outage", "major_outage", up],
        ),
        (
            "another key's grant is not this key's",
            &["ink_note"],
            up,
            &[("ink_res", Trigger, "db-down", crit)],
            [up, "major_outage", up],
        ),
        (
            "an error is a partial outage",
            &[],
            up,
            &[("ink_res", Trigger, "db-down", Some(AlertLevel::Error))],
            [up, "partial_outage", up],
        ),
        ("an info alert moves nothing", &[], up, &[("ink_res", Trigger, "db-down", Some(AlertLevel::Info))], [up; 3]),
        (
            "a resolve makes it operational again",
            &[],
            up,
            &[("ink_res", Trigger, "db-down", crit), ("ink_res", Resolve, "db-down", None)],
            [up; 3],
        ),
        (
            "an acknowledge leaves it as it is",
            &[],
            up,
            &[("ink_res", Trigger, "db-down", crit), ("ink_res", Ack, "db-down", None)],
            [up, "major_outage", up],
        ),
        (
            "an alert of another deduplication key moves nothing",
            &[],
            up,
            &[("ink_res", Trigger, "disk-full", crit)],
            [up; 3],
        ),
        (
            "a resolve of no open alert moves nothing",
            &[],
            "major_outage",
            &[("ink_res", Resolve, "db-down", None)],
            ["major_outage"; 3],
        ),
    ];
    for (why, grants, before, sent, after) in cases {
        let (desk, _, alerts, pages) = desk(grants).await;
        let before = ComponentStatus::parse(before).expect("a component status");
        pages.components.lock().unwrap().iter_mut().for_each(|c| c.status = before);
        send(&alerts, sent).await;
        drain(&desk, false).await;
        let statuses: Vec<&str> = pages.statuses().into_iter().map(|(_, s)| s).collect();
        assert_eq!(statuses, after, "{why}");
    }
}
