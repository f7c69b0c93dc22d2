//! The ledger's other sources on both backends (issue 28, docs/ledger.md §1; migration 43): a
//! status update, a report's publication and a review round's figures each append exactly one
//! leaf, in their own transaction, and a repeat appends none; the whole audit is clean; raw SQL
//! tampering with a stored update, a published text or a frozen figure is found by the audit,
//! naming the thing; a float in the figures is refused with nothing written; and the backfill
//! appends an update written before the ledger knew updates.

mod support;

use jiff::Timestamp;
use serde_json::json;
use sqlx::Row as _;
use stringer_app::Store;
use stringer_app::ledger_audit::{Audit, audit};
use stringer_app::letters::LetterBox;
use stringer_app::postmortem::{Line, ReportRecord, Reports, VersionRecord, Written};
use stringer_app::status::{IncidentRecord, StatusChange, StatusPages, UpdateRecord};
use stringer_app::{Change, Extras};
use stringer_core::contract::Contract;
use stringer_core::event::{Event, EventKind};
use stringer_core::ids::{Deployment, OrgSlug, Severity, TicketId, Tier};
use stringer_core::postmortem::{ReportState, Sections};
use stringer_core::status::{Impact, IncidentStatus, Phase};
use stringer_core::ticket::{OrgProfile, Ticket};
use stringer_store::SqlStore;
use support::{postgres_url, tempdir};

const NOW: i64 = 1_790_000_000;

fn opening(contract: &Contract, org: &OrgProfile, id: &str) -> Change {
    let kind =
        EventKind::Opened { org: org.slug.clone(), severity: Severity::from("P1"), intake: None, security: false };
    let when = Timestamp::from_second(NOW).unwrap();
    let event = Event::new(when, TicketId::from(id), kind);
    let (ticket, decision) = Ticket::open(contract, org, &event).unwrap();
    Change {
        informs: Vec::new(),
        thread_notes: Vec::new(),
        keyed: None,
        roster: None,
        at: when,
        ticket,
        expected_version: None,
        events: vec![event],
        notices: decision.notices,
        timers: decision.timers,
        paging_ended: None,
        extras: Extras { actor: Some("u_customer".into()), ..Extras::default() },
    }
}

/// How many leaves stand for each source.
async fn leaves_of(pool: &sqlx::AnyPool, source: &str) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM ledger_leaves WHERE source = $1")
        .bind(source)
        .fetch_one(pool)
        .await
        .unwrap()
        .get::<i64, _>("n")
}

async fn size(store: &SqlStore) -> u64 {
    store.ledger_head().await.unwrap().0
}

async fn clean(store: &SqlStore) -> u64 {
    match audit(store, None).await.unwrap() {
        Audit::Clean { leaves, .. } => leaves,
        Audit::Mismatch(finding) => panic!("the audit finds {finding}"),
    }
}

async fn mismatch(store: &SqlStore) -> String {
    match audit(store, None).await.unwrap() {
        Audit::Mismatch(finding) => finding.message,
        clean => panic!("the audit is clean: {clean:?}"),
    }
}

/// Runs `tamper`, expects the audit to name `expected` in its finding, then runs `undo` and
/// expects the audit clean again.
async fn tampered(store: &SqlStore, pool: &sqlx::AnyPool, tamper: &str, undo: &str, expected: &str) {
    sqlx::query(tamper).execute(pool).await.unwrap();
    let found = mismatch(store).await;
    assert!(found.contains(expected), "{tamper}: {found}");
    assert!(found.ends_with("does not match its leaf"), "{found}");
    sqlx::query(undo).execute(pool).await.unwrap();
    clean(store).await;
}

async fn other_sources(url: &str) {
    let store = SqlStore::connect(url).await.unwrap();
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(2).connect(url).await.unwrap();
    let contract = Contract::default_contract();
    let org = OrgProfile { slug: OrgSlug::from("acme"), tier: Tier::from("pro"), deployment: Deployment::Shared };
    store.put_org(org.clone()).await.unwrap();
    store.commit(opening(&contract, &org, "tkt_src1")).await.unwrap();
    let opened = size(&store).await;
    assert_eq!(clean(&store).await, opened);

    // A status update: one leaf; the same change again (a retry) none.
    let page = store.ensure_page(Some(&org.slug), "Acme status", NOW).await.unwrap();
    let incident = IncidentRecord {
        id: "inc_src1".into(),
        page_id: page.id.clone(),
        name: "Slow logins".into(),
        phase: Phase::Incident(IncidentStatus::Investigating),
        impact: Impact::Major,
        created_at: NOW,
        updated_at: NOW,
        started_at: NOW,
        monitoring_at: None,
        resolved_at: None,
        scheduled_for: None,
        scheduled_until: None,
        ticket: Some(TicketId::from("tkt_src1")),
        components: Vec::new(),
        updates: Vec::new(),
    };
    let update = UpdateRecord {
        id: "upd_src1".into(),
        incident_id: incident.id.clone(),
        phase: incident.phase,
        body: "We are looking into slow logins.".into(),
        created_at: NOW + 60,
        affected: Vec::new(),
    };
    let change = StatusChange {
        page_id: page.id.clone(),
        incident: Some(incident),
        update: Some(update),
        statuses: Vec::new(),
        at: NOW + 60,
    };
    store.commit_status(&change).await.unwrap();
    assert_eq!(size(&store).await, opened + 1, "one leaf for the update");
    store.commit_status(&change).await.unwrap();
    assert_eq!(size(&store).await, opened + 1, "a repeated update appends nothing");
    assert_eq!(leaves_of(&pool, "status_update").await, 1);
    let leaf: i64 = sqlx::query("SELECT leaf FROM status_updates WHERE id = 'upd_src1'")
        .fetch_one(&pool)
        .await
        .unwrap()
        .get::<i64, _>("leaf");
    assert_eq!(leaf as u64, opened, "the update keeps its leaf's index");

    // A report: saved and not published, no leaf; published, one.
    let ticket = TicketId::from("tkt_src1");
    let record = ReportRecord {
        ticket: ticket.clone(),
        org: org.slug.clone(),
        security: false,
        state: ReportState::Draft,
        due: None,
        revision: 0,
        text_version: 0,
        created_at: NOW,
        updated_at: NOW,
        published_at: None,
    };
    assert!(store.start_report(&record).await.unwrap());
    let sections = Sections { summary: "Logins were slow.".into(), ..Sections::default() };
    let timeline = vec![
        Line { key: "t:1".into(), at: NOW, what: "Opened by Ann".into(), customer: Some("Opened".into()) },
        Line { key: "d:1".into(), at: NOW, what: "Paged Bob".into(), customer: None },
    ];
    let text = |version: i64| VersionRecord {
        version,
        author: None,
        at: NOW + 120,
        sections: sections.clone(),
        timeline: timeline.clone(),
    };
    let draft = Written { state: ReportState::Draft, version: Some(text(1)), comment: None, announcements: vec![] };
    assert!(store.write_report(&ticket, 0, &draft, NOW + 120).await.unwrap());
    assert_eq!(leaves_of(&pool, "report").await, 0, "a draft is not a publication");
    let publish = Written { state: ReportState::Published, version: None, comment: None, announcements: vec![] };
    assert!(store.write_report(&ticket, 1, &publish, NOW + 180).await.unwrap());
    assert_eq!(leaves_of(&pool, "report").await, 1, "the publication is a leaf");
    assert!(!store.write_report(&ticket, 1, &publish, NOW + 181).await.unwrap(), "a stale step writes nothing");
    assert_eq!(leaves_of(&pool, "report").await, 1);
    let republish =
        Written { state: ReportState::Published, version: Some(text(2)), comment: None, announcements: vec![] };
    assert!(store.write_report(&ticket, 2, &republish, NOW + 240).await.unwrap());
    assert_eq!(leaves_of(&pool, "report").await, 2, "a new published text is a second leaf");

    // A review round: its figures frozen, one leaf; the round again, nothing; a float refused.
    let figures = json!({"tier": "pro", "tickets": 1, "attainment": [{"severity": "P1", "target": "response", "met": 1, "breached": 0}]});
    assert!(store.write_round(&org.slug, "2026-Q3", &[], &figures, NOW + 300).await.unwrap());
    assert!(!store.write_round(&org.slug, "2026-Q3", &[], &figures, NOW + 301).await.unwrap());
    assert_eq!(leaves_of(&pool, "review").await, 1);
    let before = size(&store).await;
    let float = json!({"tickets": 1, "attainment_percent": 99.5});
    assert!(store.write_round(&org.slug, "2026-Q4", &[], &float, NOW + 302).await.is_err(), "floats are refused");
    assert_eq!(size(&store).await, before, "nothing appended");
    assert!(store.review_rounds("2026-Q4").await.unwrap().is_empty(), "nor the round written");

    let total = clean(&store).await;
    assert_eq!(total, opened + 4, "the timeline's leaves and four more");

    // The committer's hint of the ledger's state (its last commit) is stale now that the other
    // sources appended: its next append finds that out under the lock and appends after them.
    store.commit(opening(&contract, &org, "tkt_src2")).await.unwrap();
    assert_eq!(clean(&store).await, total + opened, "the second opening's leaves follow the others'");

    // Tampering with each is found, naming it.
    tampered(
        &store,
        &pool,
        "UPDATE status_updates SET body = 'Nothing happened.' WHERE id = 'upd_src1'",
        "UPDATE status_updates SET body = 'We are looking into slow logins.' WHERE id = 'upd_src1'",
        &format!("status update upd_src1 at 2026-09-21T14:14:20Z (leaf {opened})"),
    )
    .await;
    let original: String =
        sqlx::query("SELECT sections FROM report_versions WHERE ticket_id = 'tkt_src1' AND version = 1")
            .fetch_one(&pool)
            .await
            .unwrap()
            .get("sections");
    tampered(
        &store,
        &pool,
        &format!(
            "UPDATE report_versions SET sections = '{}' WHERE ticket_id = 'tkt_src1' AND version = 1",
            original.replace("Logins were slow.", "Nothing was wrong.")
        ),
        &format!("UPDATE report_versions SET sections = '{original}' WHERE ticket_id = 'tkt_src1' AND version = 1"),
        "report ACME-1 text 1 at 2026-09-21T14:16:20Z",
    )
    .await;
    let frozen: String = sqlx::query("SELECT figures FROM review_figures WHERE org = 'acme'")
        .fetch_one(&pool)
        .await
        .unwrap()
        .get("figures");
    tampered(
        &store,
        &pool,
        &format!("UPDATE review_figures SET figures = '{}'", frozen.replace("\"breached\":0", "\"breached\":-1")),
        &format!("UPDATE review_figures SET figures = '{frozen}'"),
        "review acme 2026-Q3 at 2026-09-21T14:18:20Z",
    )
    .await;
    sqlx::query("DELETE FROM report_publications WHERE text_version = 2").execute(&pool).await.unwrap();
    let found = mismatch(&store).await;
    assert!(found.starts_with("report publication ") && found.ends_with("): missing"), "{found}");

    store.close().await;
}

/// An update written before migration 43 (no leaf) is appended by the backfill, once.
async fn backfill_appends_older_updates(url: &str) {
    let store = SqlStore::connect(url).await.unwrap();
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(2).connect(url).await.unwrap();
    let page = store.ensure_page(None, "Status", NOW).await.unwrap();
    sqlx::query(
        "INSERT INTO status_incidents (id, page_id, kind, name, status, impact, created_at, updated_at, started_at) \
         VALUES ('inc_old', $1, 'incident', 'Old', 'resolved', 'minor', $2, $2, $2)",
    )
    .bind(&page.id)
    .bind(NOW)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO status_updates (id, incident_id, status, body, affected, created_at) \
         VALUES ('upd_old', 'inc_old', 'resolved', 'Fixed.', '[]', $1)",
    )
    .bind(NOW)
    .execute(&pool)
    .await
    .unwrap();
    // A database made after the ledger counts as backfilled: an update without a leaf is a
    // finding until the backfill appends it.
    let found = mismatch(&store).await;
    assert_eq!(found, "status update upd_old at 2026-09-21T14:13:20Z (no leaf): not in the ledger");
    assert_eq!(store.ledger_backfill().await.unwrap(), 1);
    assert_eq!(store.ledger_backfill().await.unwrap(), 0, "once");
    assert_eq!(leaves_of(&pool, "status_update").await, 1);
    assert_eq!(clean(&store).await, 1);
    sqlx::query("UPDATE status_updates SET created_at = created_at + 1").execute(&pool).await.unwrap();
    let found = mismatch(&store).await;
    assert_eq!(found, "status update upd_old at 2026-09-21T14:13:21Z (leaf 0): does not match its leaf");
    store.close().await;
}

#[tokio::test]
async fn sqlite_other_sources_are_leaves() {
    other_sources(&format!("sqlite://{}?mode=rwc", tempdir().join("stringer.db").display())).await;
}

#[tokio::test]
async fn postgres_other_sources_are_leaves() {
    let Some(url) = postgres_url("ledger_sources") else { return };
    other_sources(&url).await;
}

#[tokio::test]
async fn sqlite_backfill_appends_older_updates() {
    backfill_appends_older_updates(&format!("sqlite://{}?mode=rwc", tempdir().join("stringer.db").display())).await;
}

#[tokio::test]
async fn postgres_backfill_appends_older_updates() {
    let Some(url) = postgres_url("ledger_sources_backfill") else { return };
    backfill_appends_older_updates(&url).await;
}
