//! An idle server is idle: every outbox record is settled by a consumer (so the backlog gauge
//! returns to zero once nothing is owed), and the engine's cycles are supervised — each one's
//! panics and last progress are on `/metrics`, and `/readyz` says which cycle stopped
//! progressing.

use crate::support;

use reqwest::{Method, StatusCode};
use sqlx::Connection;
use support::{Db, Server, desk, open_ticket};

/// The engine's cycles (the chat intake runs only with a Slack bot token).
const CYCLES: [&str; 14] = [
    "sweep",
    "dispatcher",
    "deliverer",
    "settler",
    "mailroom",
    "alert_intake",
    "status_clock",
    "report_herald",
    "postman",
    "courier",
    "auditor",
    "janitor",
    "gauges",
    "notary",
];

/// The value of the series `name` (with its labels) on a `/metrics` page.
fn series(metrics: &str, name: &str) -> Option<f64> {
    metrics.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

async fn scrape(server: &Server) -> String {
    reqwest::get(server.metrics.as_deref().unwrap()).await.unwrap().text().await.unwrap()
}

/// Tickets that never page (P3, P4) leave nothing in the outbox once their notices are
/// recorded: the backlog gauge comes back to zero.
async fn pending_returns_to_zero(db: Db) {
    let server = Server::start(&db, &["--metrics-listen", "127.0.0.1:0"]);
    let d = desk(&server).await;
    let mut keys = Vec::new();
    for (org, severity) in [("acme", "P3"), ("acme", "P4"), ("fedco", "P3"), ("fedco", "P4")] {
        keys.push(open_ticket(&server, &d.admin, org, severity).await["key"].as_str().unwrap().to_string());
    }
    // Outside the Pro tier's hours the queue hears of its tickets later: pending, not owed.
    open_ticket(&server, &d.admin, "bolt", "P4").await;
    // The queue was told of each Enterprise ticket at once (24/7 coverage): the notice is on
    // the timeline.
    for key in &keys {
        support::until("the queue is told of the ticket", || async {
            let timeline = server.ok(Method::GET, &format!("/api/v1/tickets/{key}/timeline"), &d.admin, None).await;
            timeline.to_string().contains("queue.notified").then_some(())
        })
        .await;
    }
    let pending = support::until("the outbox backlog is zero", || async {
        let metrics = scrape(&server).await;
        let open: f64 = ["running", "paused", "breached", "met", "none"]
            .iter()
            .filter_map(|state| series(&metrics, &format!("stringer_open_tickets{{sla_state=\"{state}\"}}")))
            .sum();
        let pending = series(&metrics, "stringer_outbox_pending");
        (open > keys.len() as f64).then_some(pending).flatten().filter(|n| *n == 0.0)
    })
    .await;
    assert_eq!(pending, 0.0);
}

both_backends!(outbox_pending_returns_to_zero_after_quiet_tickets, pending_returns_to_zero);

/// The sum of the open-ticket gauges on a `/metrics` page.
fn open_tickets(metrics: &str) -> f64 {
    ["running", "paused", "breached", "met", "none"]
        .iter()
        .filter_map(|state| series(metrics, &format!("stringer_open_tickets{{sla_state=\"{state}\"}}")))
        .sum()
}

/// An idle server counts its open tickets only when the timeline moved, yet the gauges stay
/// exact: tickets opened and resolved through another instance on the same database are
/// counted by this one.
async fn gauges_follow_another_instance(db: Db) {
    let other = Server::start(&db, &[]);
    let d = desk(&other).await;
    let counter = Server::start(&db, &["--metrics-listen", "127.0.0.1:0"]);
    let open_in_db = || support::sql(&db, "SELECT COUNT(*) FROM tickets WHERE status <> 'resolved'");
    let counted = |want: String| {
        let counter = &counter;
        async move {
            support::until("the other instance's tickets are counted", || async {
                let counted = open_tickets(&scrape(counter).await);
                (counted.to_string() == want).then_some(counted)
            })
            .await
        }
    };
    let mut keys = Vec::new();
    for severity in ["P3", "P4", "P4"] {
        keys.push(open_ticket(&other, &d.admin, "acme", severity).await["key"].as_str().unwrap().to_string());
    }
    let opened = counted(open_in_db()).await;
    other.ok(Method::POST, &format!("/api/v1/tickets/{}/resolve", keys[0]), &d.engineer, None).await;
    let after = counted(open_in_db()).await;
    assert_eq!(after, opened - 1.0, "the resolved ticket is no longer counted");
}

both_backends!(open_ticket_gauges_follow_another_instance, gauges_follow_another_instance);

/// Every cycle's panic counter and last progress are on `/metrics` from the first scrape.
async fn cycles_on_metrics(db: Db) {
    let server = Server::start(&db, &["--metrics-listen", "127.0.0.1:0"]);
    let metrics = scrape(&server).await;
    let now = jiff::Timestamp::now().as_second() as f64;
    for cycle in CYCLES {
        let panics = series(&metrics, &format!("stringer_cycle_panics_total{{cycle=\"{cycle}\"}}"));
        assert_eq!(panics, Some(0.0), "{cycle}'s panics are counted:\n{metrics}");
        let progress = series(&metrics, &format!("stringer_cycle_last_progress_seconds{{cycle=\"{cycle}\"}}"));
        assert!(progress.is_some_and(|t| (now - 60.0..=now + 1.0).contains(&t)), "{cycle} progressed: {progress:?}");
    }
}

both_backends!(every_cycle_has_its_panics_and_progress_on_metrics, cycles_on_metrics);

async fn readyz(server: &Server) -> (StatusCode, String) {
    let response = reqwest::get(format!("{}/readyz", server.base)).await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// Another connection holds the lock the sweep needs (SQLite: the database's write lock;
/// PostgreSQL: the timers table) until dropped.
async fn hold_the_sweep(db: &Db) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    let (url, lock) = match db {
        Db::Sqlite(dir) => (format!("sqlite://{}", dir.join("stringer.db").display()), "BEGIN IMMEDIATE"),
        Db::Postgres(url) => (url.clone(), "BEGIN; LOCK TABLE timers IN ACCESS EXCLUSIVE MODE"),
    };
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(lock).execute(&mut conn).await.unwrap();
    conn
}

/// A cycle that stops progressing (the sweep, held up by a lock another connection holds)
/// turns `/readyz` unready, naming it, while the database still answers; once it moves again
/// the server is ready again.
async fn stalled_cycle_unready(db: Db) {
    let server = Server::start(&db, &["--stall-seconds", "3", "--tick-seconds", "1"]);
    support::until("the server is ready", || async { (readyz(&server).await.0 == StatusCode::OK).then_some(()) }).await;
    let lock = hold_the_sweep(&db).await;
    let said = support::until("/readyz names the stalled sweep", || async {
        let (status, text) = readyz(&server).await;
        (status == StatusCode::SERVICE_UNAVAILABLE && text.contains("sweep (no progress for")).then_some(text)
    })
    .await;
    assert!(said.starts_with("stalled: "), "{said}");
    assert!(said.contains("allowed 5 s"), "the sweep may rest two ticks and the grace: {said}");
    lock.close().await.unwrap();
    support::until("the server is ready again", || async { (readyz(&server).await.0 == StatusCode::OK).then_some(()) })
        .await;
}

both_backends!(a_stalled_cycle_makes_readyz_unready, stalled_cycle_unready);
