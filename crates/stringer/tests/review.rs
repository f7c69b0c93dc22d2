//! The quarterly review from the command line, over a quarter generated through the
//! application's own Desk (on a virtual clock) into a real SQLite database: the figures with
//! known answers — a P1 breached on a Saturday, a Pro P2 whose 8 business hours run across a
//! weekend (breached when answered on Monday, met when answered on Saturday), a P3 raised to
//! P2, a weekend P4 never answered, a P4 its customer resolved before any response (withdrawn,
//! counted apart) — and the same figures recomputed independently by Python
//! from the CSV export.

use crate::support;

use jiff::Timestamp;
use std::process::Command;
use std::sync::Arc;
use stringer_app::{Desk, VirtualClock};
use stringer_core::contract::Contract;
use stringer_core::event::EventKind;
use stringer_core::ids::{Deployment, Intake, OrgSlug, Severity, Tier};
use stringer_core::ticket::OrgProfile;
use stringer_store::SqlStore;
use support::Db;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

struct Quarter {
    desk: Desk<SqlStore, VirtualClock>,
}

impl Quarter {
    /// Moves the clock to `when`, running every timer due by then on the way.
    async fn to(&self, when: &str) {
        support::run_to(&self.desk, at(when)).await;
    }

    async fn event(&self, ticket: &str, when: &str, kind: EventKind) {
        support::record_at(&self.desk, ticket, at(when), kind).await;
    }

    async fn open(&self, ticket: &str, severity: &str, when: &str) {
        let kind = EventKind::Opened {
            org: OrgSlug::from("kite"),
            severity: Severity::from(severity),
            intake: Some(if ticket.ends_with('2') { Intake::Email } else { Intake::Portal }),
            security: false,
        };
        self.event(ticket, when, kind).await;
    }

    async fn ack(&self, ticket: &str, when: &str) {
        self.event(ticket, when, EventKind::Acknowledged { by: "u_eng".into() }).await;
    }
}

fn review(db: &Db, format: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_stringer"))
        .args(["review", "--org", "kite", "--quarter", "2026-Q3", "--format", format])
        .args(db.args())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{err}");
    assert!(err.contains("reading kite's tickets of 2026-Q3") && err.contains("done"), "progress: {err}");
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_quarter_on_sqlite() {
    generated_quarter(Db::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_quarter_on_postgres() {
    if let Some(db) = Db::postgres() {
        generated_quarter(db).await;
    }
}

async fn generated_quarter(db: Db) {
    let store = match &db {
        Db::Sqlite(dir) => SqlStore::open_sqlite(&dir.join("stringer.db")).await.unwrap(),
        Db::Postgres(url) => SqlStore::connect(url).await.unwrap(),
    };
    // Where the exported files go for Python (SQLite's own directory serves).
    let Db::Sqlite(dir) = Db::sqlite() else { unreachable!() };
    let desk =
        Desk::new(Arc::new(Contract::default_contract()), store.clone(), VirtualClock::new(at("2026-06-01T00:00:00Z")));
    let org = OrgProfile { slug: OrgSlug::from("kite"), tier: Tier::from("pro"), deployment: Deployment::Shared };
    desk.put_org(org).await.unwrap();
    let q = Quarter { desk };
    // The quarter before: two P1s, answered in time.
    for (t, opened, acked) in [
        ("p-1", "2026-06-02T10:00:00Z", "2026-06-02T10:20:00Z"),
        ("p-2", "2026-06-09T10:00:00Z", "2026-06-09T10:20:00Z"),
    ] {
        q.open(t, "P1", opened).await;
        q.ack(t, acked).await;
    }
    // 2026-Q3. Wednesday 1 July: a P1 answered in 30 minutes (Pro P1: 4 hours, clock time).
    q.open("k-1", "P1", "2026-07-01T10:00:00Z").await;
    q.ack("k-1", "2026-07-01T10:30:00Z").await;
    // Friday 20:00: two P2s (8 business hours on the 24/5 calendar: due Monday 04:00).
    q.open("k-3", "P2", "2026-07-03T20:00:00Z").await;
    q.open("k-4", "P2", "2026-07-03T20:00:00Z").await;
    // Saturday: a P1 answered after 5 hours (breached), and k-4 answered (met: the weekend
    // does not count).
    q.open("k-2", "P1", "2026-07-04T10:00:00Z").await;
    q.ack("k-4", "2026-07-04T12:00:00Z").await;
    q.ack("k-2", "2026-07-04T15:00:00Z").await;
    // Sunday: a P4 nobody answers (2 business days from Monday: breached on Wednesday 00:00).
    q.open("k-6", "P4", "2026-07-05T08:00:00Z").await;
    // Monday 05:00: k-3 answered an hour late.
    q.ack("k-3", "2026-07-06T05:00:00Z").await;
    // Tuesday: a P3 raised to P2 half an hour later, answered at noon.
    q.open("k-5", "P3", "2026-07-07T09:00:00Z").await;
    q.event("k-5", "2026-07-07T09:30:00Z", EventKind::SeverityChanged { severity: Severity::from("P2") }).await;
    q.ack("k-5", "2026-07-07T12:00:00Z").await;
    // Wednesday: a P4 its customer resolves an hour later, before anyone answered: withdrawn.
    q.open("k-7", "P4", "2026-07-08T10:00:00Z").await;
    q.event("k-7", "2026-07-08T11:00:00Z", EventKind::Resolved { by_customer: true }).await;
    q.to("2026-10-01T00:00:00Z").await;
    store.close().await;

    let json: serde_json::Value = serde_json::from_str(&review(&db, "json")).unwrap();
    let f = &json["figures"];
    let attainment = |severity: &str| {
        let a = f["attainment"].as_array().unwrap().iter().find(|a| a["severity"] == severity).cloned().unwrap();
        (a["met"].as_u64().unwrap(), a["breached"].as_u64().unwrap(), a["weekend_breached"].as_u64().unwrap())
    };
    let withdrawn = |severity: &str| {
        f["attainment"].as_array().unwrap().iter().find(|a| a["severity"] == severity).unwrap()["withdrawn"].clone()
    };
    assert_eq!(json["tickets"], 7);
    assert_eq!(attainment("P1"), (1, 1, 1), "k-1 met; k-2 breached on a Saturday");
    assert_eq!(attainment("P2"), (2, 1, 0), "k-4 and k-5 met; k-3 breached across the weekend (opened Friday)");
    assert_eq!(attainment("P4"), (0, 1, 1), "k-6 never answered; k-7 withdrawn is neither");
    assert_eq!((withdrawn("P4"), withdrawn("P1")), (serde_json::json!(1), serde_json::json!(0)));
    assert!(
        f["attainment"].as_array().unwrap().iter().all(|a| a["severity"] != "P3"),
        "k-5 counts as the P2 it became"
    );
    let p1 = f["first_response"].as_array().unwrap().iter().find(|s| s["severity"] == "P1").unwrap();
    assert_eq!((p1["p50"].as_i64(), p1["p90"].as_i64()), (Some(1800), Some(18_000)));
    let volume = |key: &str| {
        let v = f["by_severity"].as_array().unwrap().iter().find(|v| v["key"] == key).cloned().unwrap();
        (v["count"].as_u64().unwrap(), v["previous"].as_u64().unwrap())
    };
    assert_eq!((volume("P1"), volume("P2"), volume("P4")), ((2, 2), (3, 0), (2, 0)));
    assert_eq!(f["paging"]["tickets_paged"], 2, "Pro pages for P1s only");
    let observations: Vec<&str> =
        json["observations"].as_array().unwrap().iter().map(|o| o.as_str().unwrap()).collect();
    assert!(observations.iter().any(|o| o.starts_with("P1 response target met 50.0 %")), "{observations:?}");
    assert!(
        observations
            .iter()
            .any(|o| o.contains("P1 response: 1 of its 1 breaches came on tickets opened at the weekend")),
        "{observations:?}"
    );

    let markdown = review(&db, "md");
    assert!(markdown.contains("| P1 | response | 1 | 1 | 0 | 0 | 50.0 % | 1 |"), "{markdown}");
    assert!(markdown.contains("| P4 | response | 0 | 1 | 0 | 1 | 0.0 % | 1 |"), "{markdown}");
    assert!(markdown.contains("## Recommendations for the next quarter"));
    let html = review(&db, "html");
    assert!(
        html.starts_with("<!doctype html>") && html.contains("<h1>Quarterly operational review: kite, 2026-Q3</h1>")
    );
    assert!(
        html.contains(
            "<tr><td>P1</td><td>response</td><td>1</td><td>1</td><td>0</td><td>0</td><td>50.0 %</td><td>1</td></tr>"
        ),
        "{html}"
    );
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 2, "the page's two charts, inline");
    assert!(!html.contains("<script") && !html.contains("<form") && !html.contains("/static/"), "standalone: {html}");

    // Python recomputes every figure from the CSV rows alone.
    let csv = review(&db, "csv");
    assert_eq!(csv.lines().count(), 8, "a header and one row per ticket and target: {csv}");
    assert!(csv.contains(",withdrawn,"), "k-7's row: {csv}");
    let (csv_path, json_path) = (dir.join("review.csv"), dir.join("review.json"));
    std::fs::write(&csv_path, &csv).unwrap();
    std::fs::write(&json_path, json.to_string()).unwrap();
    let python = std::env::var("STRINGER_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/review/check_review.py");
    let checked = Command::new(python).arg(script).arg(&csv_path).arg(&json_path).output().unwrap();
    let said = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success(), "{said}{}", String::from_utf8_lossy(&checked.stderr));
    assert!(said.contains("checked 7 rows of 7 tickets: 0 differences"), "{said}");

    // Bad input: an unknown org, a malformed quarter.
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_stringer")).arg("review").args(args).args(db.args()).output().unwrap()
    };
    let unknown = run(&["--org", "nobody", "--quarter", "2026-Q3"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no org \"nobody\""));
    let malformed = run(&["--org", "kite", "--quarter", "2026-Q5"]);
    assert!(!malformed.status.success());
    assert!(String::from_utf8_lossy(&malformed.stderr).contains("is not a quarter"));
}
