//! `stringer whatif` with known answers: histories written through the application's own Desk
//! (on a virtual clock) into a real database, replayed by the binary under a proposed
//! contract, and the changes it reports checked against answers computed by hand from the
//! contract's words:
//!
//! - halving Pro P2's response target on a ticket opened on Friday evening, and on a P3
//!   raised to P2;
//! - moving the TAM step from 15 to 10 minutes when the acknowledgement came at minute 12;
//! - removing Enterprise weekend coverage;
//! - adding a tier (nothing changes until an org is moved onto it);
//! - renaming a tier (not comparable until mapped).
//!
//! And the identity: the contract in force, replayed, changes nothing.

use crate::support;

use jiff::Timestamp;
use serde_json::Value;
use std::process::Command;
use std::sync::Arc;
use stringer_app::ports::Accounts;
use stringer_app::records::{OrgRecord, UserRecord};
use stringer_app::{Desk, VirtualClock};
use stringer_core::contract::{Contract, DEFAULT_CONTRACT};
use stringer_core::event::EventKind;
use stringer_core::ids::{Deployment, OrgSlug, Severity, Tier, UserId, UserRole};
use stringer_core::ticket::OrgProfile;
use stringer_store::SqlStore;
use support::{Db, Server};

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// A staff account made at the start of 2026, with no password.
fn staff(id: &str, role: UserRole) -> UserRecord {
    UserRecord {
        id: UserId::from(id),
        email: format!("{id}@vendor.example"),
        name: id.to_string(),
        role,
        org: None,
        federal_cleared: false,
        password_hash: None,
        created_at: at("2026-01-01T00:00:00Z").as_second(),
        time_zone: None,
        deactivated_at: None,
    }
}

/// A desk on a virtual clock over a real database, with two orgs: acme (Enterprise, TAM tina,
/// named engineer nico) and bolt (Pro).
struct History {
    desk: Desk<SqlStore, VirtualClock>,
    store: SqlStore,
}

impl History {
    async fn new(db: &Db) -> History {
        let store = match db {
            Db::Sqlite(dir) => SqlStore::open_sqlite(&dir.join("stringer.db")).await.unwrap(),
            Db::Postgres(url) => SqlStore::connect(url).await.unwrap(),
        };
        for (id, role) in [("tina", UserRole::Tam), ("nico", UserRole::Engineer), ("vera", UserRole::VpEngineering)] {
            store.insert_user(&staff(id, role), None).await.unwrap();
        }
        for (slug, tier, tam) in [("acme", "enterprise", Some("tina")), ("bolt", "pro", None)] {
            let org = OrgRecord {
                slug: OrgSlug::from(slug),
                name: slug.to_string(),
                tier: Tier::from(tier),
                deployment: Deployment::Shared,
                tam: tam.map(UserId::from),
                named_engineers: if tam.is_some() { vec![UserId::from("nico")] } else { vec![] },
                channel: None,
                email_tag: slug.to_string(),
                created_at: at("2026-01-01T00:00:00Z").as_second(),
            };
            store.insert_org(&org, None).await.unwrap();
        }
        let contract = Arc::new(Contract::default_contract());
        let desk = Desk::new(contract, store.clone(), VirtualClock::new(at("2026-11-01T00:00:00Z")));
        for (slug, tier) in [("acme", "enterprise"), ("bolt", "pro")] {
            let org = OrgProfile { slug: OrgSlug::from(slug), tier: Tier::from(tier), deployment: Deployment::Shared };
            desk.put_org(org).await.unwrap();
        }
        History { desk, store }
    }

    /// Moves the clock to `when`, running every timer due by then on the way.
    async fn to(&self, when: &str) {
        support::run_to(&self.desk, at(when)).await;
    }

    async fn event(&self, ticket: &str, when: &str, kind: EventKind) {
        support::record_at(&self.desk, ticket, at(when), kind).await;
    }

    async fn open(&self, ticket: &str, org: &str, severity: &str, when: &str) {
        let kind = EventKind::Opened {
            org: OrgSlug::from(org),
            severity: Severity::from(severity),
            intake: None,
            security: false,
        };
        self.event(ticket, when, kind).await;
    }

    async fn ack(&self, ticket: &str, when: &str) {
        self.event(ticket, when, EventKind::Acknowledged { by: "nico".into() }).await;
    }

    async fn close(self) {
        self.to("2026-12-01T00:00:00Z").await;
        self.store.close().await;
    }
}

/// Runs `stringer whatif` over November 2026 with `proposed` (the contract's text) and
/// `extra` arguments; answers the JSON report.
fn whatif(db: &Db, proposed: &str, extra: &[&str]) -> Value {
    let file = std::env::temp_dir().join(support::unique("proposed")).with_extension("toml");
    std::fs::write(&file, proposed).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_stringer"))
        .args(["whatif", "--contract", file.to_str().unwrap(), "--from", "2026-11-01", "--to", "2026-12-01"])
        .args(["--format", "json"])
        .args(extra)
        .args(db.args())
        .env_remove("STRINGER_CONTRACT")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "whatif failed: {err}");
    assert!(err.contains("replayed") && err.contains("done"), "progress on stderr: {err}");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The default contract with `from` replaced by `to` (which must be there).
fn edited(from: &str, to: &str) -> String {
    assert!(DEFAULT_CONTRACT.contains(from), "the default contract has {from:?}");
    DEFAULT_CONTRACT.replacen(from, to, 1)
}

/// The default contract with Pro P2's response halved: 8 business hours → 4.
fn pro_p2_halved() -> String {
    edited(
        r#"P2 = { within = "8 business hours", calendar = "pro_coverage" }"#,
        r#"P2 = { within = "4 business hours", calendar = "pro_coverage" }"#,
    )
}

/// The key of the one ticket whose outcome `report` changes, asserting that it changes only
/// there (`why`) and that it is a response met that is now breached.
fn the_one_response_now_breached(report: &Value, why: &str) -> String {
    let changes = changed(report);
    assert_eq!(changes.len(), 1, "{why}: {changes:?}");
    let (key, target, before, after) = &changes[0];
    assert_eq!((target.as_str(), before.as_str(), after.as_str()), ("response", "met", "breached"));
    key.clone()
}

/// The changed targets as (ticket key, target, baseline outcome, proposed outcome).
fn changed(report: &Value) -> Vec<(String, String, String, String)> {
    let outcome = |d: &Value| d["outcome"].as_str().unwrap_or("none").to_string();
    report["whatif"]["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap().to_string();
            (s("key"), s("target"), outcome(&c["baseline"]), outcome(&c["proposed"]))
        })
        .collect()
}

fn pages(report: &Value, run: &str, role: &str) -> u64 {
    report["whatif"]["pages"][run][role].as_u64().unwrap()
}

fn row<'a>(report: &'a Value, tier: &str, severity: &str) -> &'a Value {
    report["whatif"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tier"] == tier && r["severity"] == severity && r["target"] == "response")
        .unwrap_or_else(|| panic!("no row {tier} {severity}: {report}"))
}

/// Halving Pro P2 (8 → 4 business hours on the 24/5 calendar) for P2s opened on Friday
/// 27 November 2026 at 20:00 UTC: 4 business hours remain on Friday, so the baseline's due
/// time is Monday 04:00 and the proposed one is used up at Friday's close, due when coverage
/// opens again, Monday 00:00. An acknowledgement on Monday at 02:30 was in time and now is
/// not; one on Friday at 22:00 is in time under both; one on Monday at 05:00 is late under both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn halving_pro_p2_on_a_friday_evening_ticket() {
    let db = Db::sqlite();
    let h = History::new(&db).await;
    for (t, ack) in [("a1", "2026-11-30T02:30:00Z"), ("a2", "2026-11-27T22:00:00Z"), ("a3", "2026-11-30T05:00:00Z")] {
        h.open(t, "bolt", "P2", "2026-11-27T20:00:00Z").await;
        h.ack(t, ack).await;
    }
    h.close().await;
    let proposed = pro_p2_halved();
    let report = whatif(&db, &proposed, &[]);
    let key = the_one_response_now_breached(&report, "only the Monday 02:30 acknowledgement changes");
    let listed = &report["whatif"]["changed"][0];
    assert_eq!(listed["baseline"]["due"], "2026-11-30T04:00:00Z", "{listed}");
    assert_eq!(listed["proposed"]["due"], "2026-11-30T00:00:00Z", "{listed}");
    assert!(key.starts_with("BOLT-"), "{key}");
    let r = row(&report, "pro", "P2");
    assert_eq!((r["baseline"]["met"].as_u64(), r["baseline"]["breached"].as_u64()), (Some(2), Some(1)));
    assert_eq!((r["proposed"]["met"].as_u64(), r["proposed"]["breached"].as_u64()), (Some(1), Some(2)));
    assert_eq!(r["due_moved"], 2, "the two whose outcome stays moved their due time");
    assert_eq!(pages(&report, "baseline", "oncall") + pages(&report, "proposed", "oncall"), 0, "Pro P2 pages nobody");
    let observations = report["whatif"]["observations"].to_string();
    assert!(observations.contains("pro P2 response: met 33.3 % instead of 66.7 % (1 more breached)"), "{observations}");

    let file = std::env::temp_dir().join(support::unique("proposed")).with_extension("toml");
    std::fs::write(&file, &proposed).unwrap();
    let html = Command::new(env!("CARGO_BIN_EXE_stringer"))
        .args(["whatif", "--contract", file.to_str().unwrap(), "--quarter", "2026-Q4", "--format", "html"])
        .args(db.args())
        .output()
        .unwrap();
    let html = String::from_utf8(html.stdout).unwrap();
    assert!(html.starts_with("<!doctype html>") && html.contains("<td>pro</td><td>P2</td><td>response</td>"), "{html}");
    assert!(html.contains(&format!("<td>{key}</td>")), "the changed ticket named, not linked: {html}");
    assert!(!html.contains("/console/tickets/"), "a standalone file links nowhere");
}

/// Halving Pro P2 reaches a ticket that was a P2 only for a while. Two Pro P3s opened on
/// Friday 27 November 2026 at 20:00 and acknowledged on Monday at 02:30; the first was raised
/// to P2 at 21:00. The P3 (1 business day) is met under both contracts. The raised one was
/// due on Monday at 04:00 or later under the baseline (8 business hours from its opening or
/// from the raise: 4 or 3 of them on Friday) and on Monday at 01:00 at the latest under the
/// proposal (4 business hours): met, now breached. The tier's other severities keep their
/// terms, so the P3 runs once for both columns; the raised one must not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn halving_pro_p2_reaches_a_ticket_raised_to_p2() {
    let db = Db::sqlite();
    let h = History::new(&db).await;
    for t in ["d1", "d2"] {
        h.open(t, "bolt", "P3", "2026-11-27T20:00:00Z").await;
    }
    h.event("d1", "2026-11-27T21:00:00Z", EventKind::SeverityChanged { severity: Severity::from("P2") }).await;
    for t in ["d1", "d2"] {
        h.ack(t, "2026-11-30T02:30:00Z").await;
    }
    h.close().await;
    let report = whatif(&db, &pro_p2_halved(), &[]);
    let key = the_one_response_now_breached(&report, "only the raised ticket changes");
    assert_eq!(key, "BOLT-1", "the first opened, d1, is the raised one");
    let listed = &report["whatif"]["changed"][0];
    let due = |run: &str| listed[run]["due"].as_str().unwrap().parse::<Timestamp>().unwrap();
    assert!(due("baseline") >= at("2026-11-30T04:00:00Z"), "{listed}");
    assert!(due("proposed") <= at("2026-11-30T01:00:00Z"), "{listed}");
    let r = row(&report, "pro", "P3");
    assert_eq!((r["baseline"]["met"].as_u64(), r["proposed"]["met"].as_u64()), (Some(1), Some(1)), "{r}");
}

/// The TAM paged at 10 minutes instead of 15, for an Enterprise P2 opened on Wednesday 25
/// November at 10:00 and acknowledged at 10:12: the baseline paged on-call only; now the TAM
/// is paged at 10:10 too. A P1 acknowledged at 10:16 pages the TAM under both (earlier now).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tam_step_at_ten_minutes_with_an_acknowledgement_at_twelve() {
    let db = Db::sqlite();
    let h = History::new(&db).await;
    h.open("b1", "acme", "P2", "2026-11-25T10:00:00Z").await;
    h.ack("b1", "2026-11-25T10:12:00Z").await;
    h.open("b2", "acme", "P1", "2026-11-25T10:00:00Z").await;
    h.ack("b2", "2026-11-25T10:16:00Z").await;
    h.close().await;
    let proposed = edited(r#"{ notify = "tam", after = "15 minutes""#, r#"{ notify = "tam", after = "10 minutes""#);
    let report = whatif(&db, &proposed, &[]);
    assert_eq!(changed(&report), [], "both were acknowledged within their targets under both");
    assert_eq!((pages(&report, "baseline", "oncall"), pages(&report, "proposed", "oncall")), (2, 2));
    assert_eq!((pages(&report, "baseline", "tam"), pages(&report, "proposed", "tam")), (1, 2));
    assert_eq!((pages(&report, "baseline", "reached_tam"), pages(&report, "proposed", "reached_tam")), (1, 2));
    let load = &report["whatif"]["load"];
    assert_eq!(load.as_array().unwrap().len(), 1, "tina's week changes: {load}");
    assert_eq!((load[0]["person"].as_str(), load[0]["week"].as_str()), (Some("tina"), Some("2026-W48")));
    assert_eq!((load[0]["baseline"]["pages"].as_u64(), load[0]["proposed"]["pages"].as_u64()), (Some(1), Some(2)));
    let observations = report["whatif"]["observations"].to_string();
    assert!(observations.contains("The TAM would be paged 2 times instead of 1 (+100 %)."), "{observations}");
}

/// Enterprise coverage without the weekend. An Enterprise P3 (8 business hours) opened on
/// Saturday 28 November at 10:00 and acknowledged on Sunday at 20:00 was breached (due
/// Saturday 18:00 on the 24/7 calendar) and is now met (due Monday 08:00). An Enterprise P2
/// opened on Saturday at 10:00 and acknowledged at 11:00 paged on-call and, at 10:15, the TAM;
/// without weekend coverage its paging waits for Monday, and the acknowledgement ends it first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_enterprise_weekend_coverage() {
    let db = Db::sqlite();
    let h = History::new(&db).await;
    h.open("c1", "acme", "P3", "2026-11-28T10:00:00Z").await;
    h.open("c3", "acme", "P2", "2026-11-28T10:00:00Z").await;
    h.ack("c3", "2026-11-28T11:00:00Z").await;
    h.ack("c1", "2026-11-29T20:00:00Z").await;
    h.close().await;
    let proposed = edited(
        r#"windows = [{ days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], from = "00:00", to = "24:00" }]"#,
        r#"windows = [{ days = ["mon", "tue", "wed", "thu", "fri"], from = "00:00", to = "24:00" }]"#,
    );
    let report = whatif(&db, &proposed, &[]);
    let changes = changed(&report);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!((changes[0].2.as_str(), changes[0].3.as_str()), ("breached", "met"));
    let listed = &report["whatif"]["changed"][0];
    assert_eq!(listed["baseline"]["due"], "2026-11-28T18:00:00Z", "{listed}");
    assert_eq!(listed["proposed"]["due"], "2026-11-30T08:00:00Z", "{listed}");
    assert_eq!((pages(&report, "baseline", "oncall"), pages(&report, "proposed", "oncall")), (1, 0));
    assert_eq!((pages(&report, "baseline", "tam"), pages(&report, "proposed", "tam")), (1, 0));
    assert_eq!((pages(&report, "baseline", "weekend"), pages(&report, "proposed", "weekend")), (2, 0));
}

/// A Premium tier added (P2 answered within 2 hours; the TAM paged at 5 minutes). Nobody is on
/// it, so nothing changes; with acme moved onto it, an Enterprise P2 acknowledged at 10:07
/// now pages the TAM at 10:05, and one acknowledged at 13:00 (due 14:00 under Enterprise's
/// 4 hours) is now late (due 12:00).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_a_tier() {
    let db = Db::sqlite();
    let h = History::new(&db).await;
    h.open("d1", "acme", "P2", "2026-11-25T10:00:00Z").await;
    h.ack("d1", "2026-11-25T10:07:00Z").await;
    h.open("d2", "acme", "P2", "2026-11-25T10:00:00Z").await;
    h.ack("d2", "2026-11-25T13:00:00Z").await;
    h.close().await;
    let premium = r#"
[tiers.premium]
name = "Premium"
coverage = "enterprise_coverage"
default_severity = "P3"
summary = "Enterprise, faster"

[targets.response.tiers.premium]
P1 = { within = "30 minutes" }
P2 = { within = "2 hours" }
P3 = { within = "4 business hours", calendar = "enterprise_coverage" }
P4 = { within = "8 business hours", calendar = "enterprise_coverage" }

[escalation.premium]
page_on_open = ["P1", "P2"]
steps = [
  { notify = "oncall", after = "0 minutes", via = ["contact_methods"] },
  { notify = "tam", after = "5 minutes", via = ["contact_methods"] },
]
customer_page = { severities = ["P1", "P2", "P3", "P4"], opens_after = "0 minutes", while_unacknowledged = false }
queue_notify = ["P3", "P4"]
"#;
    let proposed = format!("{DEFAULT_CONTRACT}\n{premium}");
    let untouched = whatif(&db, &proposed, &[]);
    assert_eq!(changed(&untouched), []);
    assert_eq!(untouched["whatif"]["pages"]["baseline"], untouched["whatif"]["pages"]["proposed"]);
    let moved = whatif(&db, &proposed, &["--retier", "acme=premium"]);
    let changes = changed(&moved);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!((changes[0].2.as_str(), changes[0].3.as_str()), ("met", "breached"));
    assert_eq!(moved["whatif"]["changed"][0]["proposed"]["due"], "2026-11-25T12:00:00Z");
    assert_eq!(
        (pages(&moved, "baseline", "tam"), pages(&moved, "proposed", "tam")),
        (1, 2),
        "d2 paged the TAM under both"
    );
    assert!(moved["notes"].to_string().contains("acme at tier premium"), "{}", moved["notes"]);
}

/// A tier renamed (pro → standard): bolt's tickets are not comparable, never half replayed;
/// mapped with --map tier:pro=standard they replay and nothing changes. A bad mapping is
/// refused with a clear error and no report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_tier_is_not_comparable_until_mapped() {
    let db = Db::sqlite();
    let h = History::new(&db).await;
    h.open("e1", "bolt", "P3", "2026-11-24T10:00:00Z").await;
    h.ack("e1", "2026-11-24T11:00:00Z").await;
    h.open("e2", "acme", "P3", "2026-11-24T10:00:00Z").await;
    h.close().await;
    let proposed = DEFAULT_CONTRACT
        .replace("[tiers.pro]", "[tiers.standard]")
        .replace("[targets.response.tiers.pro]", "[targets.response.tiers.standard]")
        .replace("[escalation.pro]", "[escalation.standard]");
    let report = whatif(&db, &proposed, &[]);
    let not = report["whatif"]["not_comparable"].as_array().unwrap();
    assert_eq!(not.len(), 1, "{not:?}");
    assert_eq!(not[0]["reason"], "the proposed contract has no tier \"pro\"");
    assert_eq!(report["whatif"]["tickets"], 1, "acme's ticket is compared");
    let mapped = whatif(&db, &proposed, &["--map", "tier:pro=standard"]);
    assert_eq!(mapped["whatif"]["not_comparable"], serde_json::json!([]));
    assert_eq!((mapped["whatif"]["tickets"].as_u64(), changed(&mapped).len()), (Some(2), 0));
    let file = std::env::temp_dir().join(support::unique("proposed")).with_extension("toml");
    std::fs::write(&file, &proposed).unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_stringer"))
        .args(["whatif", "--contract", file.to_str().unwrap(), "--quarter", "2026-Q4", "--map", "tier:pro=gold"])
        .args(db.args())
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("the proposed contract has no tier gold"));
    assert!(refused.stdout.is_empty());
}

/// Runs `stringer whatif --check` over November 2026: answers its exit code and what it printed.
fn check(db: &Db) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_stringer"))
        .args(["whatif", "--check", "--from", "2026-11-01", "--to", "2026-12-01"])
        .args(db.args())
        .env_remove("STRINGER_CONTRACT")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(err.contains("checking") && err.contains("done"), "progress on stderr: {err}");
    (output.status.code(), String::from_utf8(output.stdout).unwrap())
}

/// The contract in force against itself: no outcome, page or deadline changes; and replayed
/// under it, the history reproduces every recorded notice and state (`--check`), while a
/// record changed behind the server's back — a page's recipient, a due time in a ticket's
/// state, a breach deleted — is named with its ticket. On both backends.
async fn the_contract_in_force_changes_nothing(db: Db) {
    let h = History::new(&db).await;
    h.open("f1", "acme", "P1", "2026-11-25T10:00:00Z").await;
    h.event("f1", "2026-11-25T10:40:00Z", EventKind::Resolved { by_customer: false }).await;
    h.open("f2", "bolt", "P2", "2026-11-27T20:00:00Z").await;
    h.ack("f2", "2026-11-30T05:00:00Z").await;
    h.close().await;
    let report = whatif(&db, DEFAULT_CONTRACT, &[]);
    let w = &report["whatif"];
    assert_eq!(w["tickets"], 2);
    assert_eq!(changed(&report), []);
    assert_eq!(w["pages"]["baseline"], w["pages"]["proposed"]);
    assert!(pages(&report, "baseline", "vp_engineering") == 1, "f1 reached the VP at 10:30: {}", w["pages"]);
    assert_eq!(w["load"], serde_json::json!([]));
    assert_eq!(w["reports"]["same"], 1, "f1's report is due at the same instant");

    let (code, out) = check(&db);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.starts_with("identical: 2 tickets,") && out.contains("7 notices (3 pages) as recorded"), "{out}");
    let page_to = "UPDATE timeline SET body = replace(body, '\"tina\"', '\"mallory\"') WHERE kind = 'page'";
    support::sql(&db, page_to);
    let (code, out) = check(&db);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.starts_with("differs: ACME-1") && out.contains("notice") && out.contains("mallory"), "{out}");
    support::sql(&db, "UPDATE timeline SET body = replace(body, '\"mallory\"', '\"tina\"') WHERE kind = 'page'");
    assert_eq!(check(&db).0, Some(0), "restored");
    let due =
        "UPDATE tickets SET state = replace(state, '2026-11-30T04:00:00Z', '2026-11-30T04:30:00Z') WHERE org = 'bolt'";
    support::sql(&db, due);
    let (code, out) = check(&db);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.starts_with("differs: BOLT-1") && out.contains("the state's clocks"), "{out}");
    support::sql(&db, &due.replace("04:00:00Z', '2026-11-30T04:30", "04:30:00Z', '2026-11-30T04:00"));
    assert_eq!(check(&db).0, Some(0), "restored");
    support::sql(&db, "DELETE FROM timeline WHERE kind = 'sla.breached'");
    let (code, out) = check(&db);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.starts_with("differs: BOLT-1") && out.contains("the notices"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contract_in_force_changes_nothing_on_sqlite() {
    the_contract_in_force_changes_nothing(Db::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contract_in_force_changes_nothing_on_postgres() {
    if let Some(db) = Db::postgres() {
        the_contract_in_force_changes_nothing(db).await;
    }
}

/// The demo desk after some use, on a contract whose steps are seconds apart so the real
/// engine's sweep fires real timers: the demo's seeded history, then tickets opened, paged,
/// escalated to the TAM and the VP, raised, acknowledged, resolved and breached through the
/// API. `stringer whatif --check` replays it all under the contract in force and finds every
/// notice and every ticket's state as the server recorded them.
async fn a_day_of_use_replays_as_recorded(db: Db) {
    use reqwest::Method;
    use serde_json::json;
    let contract = support::contract_with(&[
        ("{ notify = \"tam\", after = \"15 minutes\"", "{ notify = \"tam\", after = \"3 seconds\""),
        (
            "{ notify = \"vp_engineering\", after = \"30 minutes\"",
            "{ notify = \"vp_engineering\", after = \"6 seconds\"",
        ),
        ("P1 = { within = \"1 hour\" }", "P1 = { within = \"9 seconds\" }"),
        ("P2 = { within = \"4 hours\" }", "P2 = { within = \"12 seconds\" }"),
    ]);
    let server =
        Server::start(&db, &["--demo", "--smtp-listen", "127.0.0.1:0", "--contract", contract.to_str().unwrap()]);
    let admin = server.admin();
    let mut ids = std::collections::HashMap::new();
    for (name, role) in [("nina", "engineer"), ("theo", "tam"), ("val", "vp_engineering")] {
        let body = json!({"email": format!("{name}@stringer.example"), "name": name, "role": role, "password": format!("{name}-password-123")});
        ids.insert(
            name,
            server.ok(Method::POST, "/api/v1/users", &admin, Some(body)).await["id"].as_str().unwrap().to_string(),
        );
    }
    let zoe = support::zen_org(&server, &admin, Some(&ids["theo"]), &[&ids["nina"]]).await;
    let login = json!({"email": "nina@stringer.example", "password": "nina-password-123"});
    let nina = server.ok(Method::POST, "/api/v1/login", "", Some(login)).await["token"].as_str().unwrap().to_string();
    let open = |severity: &'static str| {
        let (server, zoe) = (&server, &zoe);
        async move { support::open_ticket(server, zoe, "zen", severity).await["id"].as_str().unwrap().to_string() }
    };
    let act = |id: String, what: &'static str| {
        let (server, nina) = (&server, &nina);
        async move { server.ok(Method::POST, &format!("/api/v1/tickets/{id}/{what}"), nina, None).await }
    };
    let unanswered = open("P1").await; // on-call, TAM at 3 s, VP at 6 s, breached at 9 s
    let answered = open("P1").await; // acknowledged after the TAM's page
    let raised = open("P2").await; // raised to P1 at once, acknowledged later
    let quick = open("P2").await; // acknowledged and resolved at once
    act(quick.clone(), "acknowledge").await;
    act(quick.clone(), "resolve").await;
    server.ok(Method::PATCH, &format!("/api/v1/tickets/{raised}"), &nina, Some(json!({"severity": "P1"}))).await;
    let timeline = |id: String| {
        let (server, admin) = (&server, &admin);
        async move {
            server.ok(Method::GET, &format!("/api/v1/tickets/{id}/timeline"), admin, None).await["items"].to_string()
        }
    };
    support::until("the TAM is paged for the answered P1", || {
        let t = timeline(answered.clone());
        async move { t.await.contains("\"tam\"").then_some(()) }
    })
    .await;
    act(answered.clone(), "acknowledge").await;
    support::until("the unanswered P1 reaches the VP and breaches", || {
        let t = timeline(unanswered.clone());
        async move { t.await.contains("sla.breached").then_some(()) }
    })
    .await;
    act(raised.clone(), "acknowledge").await;
    support::until("the raised ticket's response is decided", || {
        let t = timeline(raised.clone());
        async move { t.await.contains("sla.").then_some(()) }
    })
    .await;
    assert!(timeline(unanswered.clone()).await.contains("vp_engineering"), "the VP was paged");
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    let output = Command::new(env!("CARGO_BIN_EXE_stringer"))
        .args(["whatif", "--check", "--quarter", &stringer_core::review::Quarter::of(Timestamp::now()).to_string()])
        .args(db.args())
        .env_remove("STRINGER_CONTRACT")
        .output()
        .unwrap();
    let out = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{out}{}", String::from_utf8_lossy(&output.stderr));
    assert!(out.starts_with("identical: "), "{out}");
    eprintln!("whatif --check after a day of use: {out}");
    let pages: u64 = out.split(" notices (").nth(1).and_then(|r| r.split(' ').next()).unwrap().parse().unwrap();
    assert!(pages >= 8, "the live pages are among those checked (on-call 4, TAM 3, VP 1 at least): {out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_of_use_replays_as_recorded_on_sqlite() {
    a_day_of_use_replays_as_recorded(Db::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_of_use_replays_as_recorded_on_postgres() {
    if let Some(db) = Db::postgres() {
        a_day_of_use_replays_as_recorded(db).await;
    }
}

/// A generated scenario (bench/gen_scenario.py with its roster: orgs, staff, an on-call
/// schedule, tickets paged, escalated, raised, waiting, reopened, resolved and reported on)
/// recorded into a real database through the application by `stringer simulate --record`,
/// then checked: the replay under the contract in force finds every notice and every
/// ticket's state as recorded — including the versions a sweep wrote without a row (an
/// escalation step skipped). A second recording into the same database is refused.
async fn a_generated_scenario_replays_as_recorded(db: Db) {
    let scenario = std::env::temp_dir().join(support::unique("scenario")).with_extension("jsonl");
    let python = std::env::var("STRINGER_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let generator = concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/gen_scenario.py");
    let args = ["--tickets", "800", "--days", "10", "--start", "2026-11-02", "--roster"];
    let made = Command::new(python).arg(generator).args(args).arg("--out").arg(&scenario).status().unwrap();
    assert!(made.success());
    let record = || {
        Command::new(env!("CARGO_BIN_EXE_stringer"))
            .args(["simulate", scenario.to_str().unwrap(), "--record"])
            .args(db.database_args())
            .env_remove("STRINGER_CONTRACT")
            .output()
            .unwrap()
    };
    let recorded = record();
    let err = String::from_utf8_lossy(&recorded.stderr).to_string();
    assert!(recorded.status.success(), "{err}");
    assert!(err.contains("recorded 20 orgs, 57 staff, 800 tickets"), "{err}");
    let quiet = support::sql(
        &db,
        "SELECT (SELECT SUM(version) FROM tickets) - \
         (SELECT COUNT(*) FROM (SELECT DISTINCT ticket_id, version FROM timeline) AS v)",
    );
    assert!(quiet.parse::<i64>().unwrap() > 0, "some versions left no row: {quiet}");
    let (code, out) = check(&db);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.starts_with("identical: 800 tickets,"), "{out}");
    let paged = support::sql(&db, "SELECT COUNT(*) FROM timeline WHERE kind = 'page'");
    assert!(out.contains(&format!("({paged} pages)")), "{paged}: {out}");
    let to_people = support::sql(&db, "SELECT COUNT(*) FROM timeline WHERE kind = 'page' AND body LIKE '%\"to\":%'");
    assert!(to_people.parse::<u64>().unwrap() > 50, "pages reach people from the roster: {to_people}");
    let again = record();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("record a scenario into a new database"));
    assert_eq!(support::sql(&db, "SELECT COUNT(*) FROM tickets"), "800", "the refused recording wrote nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_scenario_replays_as_recorded_on_sqlite() {
    a_generated_scenario_replays_as_recorded(Db::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_scenario_replays_as_recorded_on_postgres() {
    if let Some(db) = Db::postgres() {
        a_generated_scenario_replays_as_recorded(db).await;
    }
}

/// Whom pages reached is history too: acme's TAM is tina until 15 November 2026 and tom
/// after. A P1 left unanswered on the 10th paged tina at minute 15 and one on the 20th paged
/// tom; the check replays each with the roster in force at its instant (the roster history
/// the server wrote as it routed) and finds both as recorded. Without that history (its rows
/// deleted), the replay would route both with today's roster, and the check names the first
/// ticket and the TAM it would have paged instead.
async fn pages_are_replayed_with_the_roster_of_their_time(db: Db) {
    let h = History::new(&db).await;
    h.store.insert_user(&staff("tom", UserRole::Tam), None).await.unwrap();
    h.open("r1", "acme", "P1", "2026-11-10T10:00:00Z").await;
    h.event("r1", "2026-11-10T10:40:00Z", EventKind::Resolved { by_customer: false }).await;
    h.to("2026-11-15T00:00:00Z").await;
    let mut acme = h.store.org(&OrgSlug::from("acme")).await.unwrap().unwrap();
    acme.tam = Some(UserId::from("tom"));
    let changed = h.store.update_org(&acme, &UserId::from("vera"), at("2026-11-15T00:00:00Z").as_second()).await;
    assert!(changed.unwrap());
    h.open("r2", "acme", "P1", "2026-11-20T10:00:00Z").await;
    h.event("r2", "2026-11-20T10:40:00Z", EventKind::Resolved { by_customer: false }).await;
    h.close().await;
    let recorded = support::sql(&db, "SELECT COUNT(*) FROM roster_history WHERE org = 'acme'");
    assert_eq!(recorded, "2", "tina's roster from the first page, tom's from the first after the change");
    let (code, out) = check(&db);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.starts_with("identical: 2 tickets,"), "{out}");
    let report = whatif(&db, DEFAULT_CONTRACT, &[]);
    let notes = report["notes"].to_string();
    assert!(notes.contains("as it was at each instant") && !notes.contains("recorded no roster"), "{notes}");
    support::sql(&db, "DELETE FROM roster_history");
    let (code, out) = check(&db);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.starts_with("differs: ACME-1") && out.contains("\"tina\"") && out.contains("\"tom\""), "{out}");
    let report = whatif(&db, DEFAULT_CONTRACT, &[]);
    assert!(report["notes"].to_string().contains("recorded no roster for acme"), "{}", report["notes"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_replayed_with_the_roster_of_their_time_on_sqlite() {
    pages_are_replayed_with_the_roster_of_their_time(Db::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_replayed_with_the_roster_of_their_time_on_postgres() {
    if let Some(db) = Db::postgres() {
        pages_are_replayed_with_the_roster_of_their_time(db).await;
    }
}
