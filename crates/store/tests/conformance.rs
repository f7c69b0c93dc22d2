//! The Store conformance suite: the same story run against every implementation — the
//! simulator's MemoryStore, SQLite on a real file, and a real PostgreSQL server when
//! `STRINGER_TEST_POSTGRES_URL` is set (scripts/test-all starts one and sets
//! `STRINGER_REQUIRE_POSTGRES=1`, so a missing server fails there instead of skipping).

mod support;

use jiff::Timestamp;
use std::collections::BTreeMap;
use std::sync::Arc;
use stringer_app::ports::{Queries, Safeguards};
use stringer_app::{Change, Desk, Extras, MemoryStore, NewComment, Store, StoreError, TicketDetails, VirtualClock};
use stringer_core::contract::Contract;
use stringer_core::event::{Event, EventKind, TimerKind, TimerOp, apply_timer_ops};
use stringer_core::ids::{Deployment, OrgSlug, Severity, TicketId, Tier};
use stringer_core::ticket::{OrgProfile, Ticket};
use stringer_store::SqlStore;
use support::{postgres_url, tempdir};

fn at(s: &str) -> Timestamp {
    format!("2026-11-27T{s}Z").parse().unwrap()
}

fn opened(ticket: &str, severity: &str, when: &str) -> Event {
    let kind = EventKind::Opened {
        org: OrgSlug::from("acme"),
        severity: Severity::from(severity),
        intake: None,
        security: false,
    };
    Event::new(at(when), TicketId::from(ticket), kind)
}

/// The story every Store must tell the same way.
async fn conformance<S: Store>(store: S) {
    let contract = Arc::new(Contract::default_contract());
    let desk = Desk::new(contract, store, VirtualClock::new(at("20:00:00")));
    let org =
        OrgProfile { slug: OrgSlug::from("acme"), tier: Tier::from("enterprise"), deployment: Deployment::Dedicated };
    desk.put_org(org.clone()).await.unwrap();
    assert_eq!(desk.store().org(&OrgSlug::from("acme")).await.unwrap(), Some(org.clone()));
    assert_eq!(desk.store().org(&OrgSlug::from("nope")).await.unwrap(), None);

    // A new ticket: state, version 1, timers.
    let extras = Extras {
        actor: Some("u_customer".into()),
        details: Some(TicketDetails { subject: "Down".into(), description: "All of it".into(), requester: None }),
        comment: None,
        applies: None,
    };
    let recorded = desk.record_with(vec![opened("T1", "P1", "20:00:00")], extras).await.unwrap();
    assert_eq!(recorded.notices.len(), 1, "on-call paged at once");
    assert_eq!((recorded.version, recorded.ticket.id.as_str()), (1, "T1"));
    let stored = desk.store().ticket(&TicketId::from("T1")).await.unwrap().expect("stored");
    assert_eq!(stored.version, 1);
    assert_eq!(stored.ticket.severity.as_str(), "P1");
    let next = desk.store().next_timer().await.unwrap().expect("a timer");
    assert_eq!((next.at, next.kind), (at("20:15:00"), TimerKind::Escalation));

    // Opening the same ticket twice is refused and writes nothing.
    assert!(desk.record(opened("T1", "P2", "20:01:00")).await.is_err());
    assert_eq!(desk.store().ticket(&TicketId::from("T1")).await.unwrap().unwrap().version, 1);

    // A stale version is a conflict and writes nothing.
    let mut stale = stored.ticket.clone();
    stale.severity = Severity::from("P4");
    let change = Change {
        informs: Vec::new(),
        thread_notes: Vec::new(),
        keyed: None,
        roster: None,
        at: at("20:02:00"),
        ticket: stale,
        expected_version: Some(0),
        events: vec![],
        notices: vec![],
        timers: vec![TimerOp::Cancel { kind: TimerKind::Escalation }],
        paging_ended: None,
        extras: Extras::default(),
    };
    assert!(matches!(desk.store().commit(change).await, Err(StoreError::Conflict(_))));
    let again = desk.store().ticket(&TicketId::from("T1")).await.unwrap().unwrap();
    assert_eq!((again.version, again.ticket.severity.as_str()), (1, "P1"));
    assert!(desk.store().next_timer().await.unwrap().is_some(), "the timer survived the failed change");

    // Timers come due in order (ties by ticket), are run once, and move on.
    desk.record(opened("T0", "P1", "20:00:00")).await.unwrap();
    let store = desk.store();
    assert!(store.claim_due_timers(at("20:14:59"), at("20:15:29"), 10).await.unwrap().is_empty(), "nothing due yet");
    let due = store.claim_due_timers(at("20:15:00"), at("20:15:30"), 10).await.unwrap();
    let ids: Vec<&str> = due.iter().map(|t| t.ticket.as_str()).collect();
    assert_eq!(ids, ["T0", "T1"]);
    // Claimed timers are hidden from another sweep until the lease ends or they are released.
    assert!(store.claim_due_timers(at("20:15:10"), at("20:15:40"), 10).await.unwrap().is_empty());
    store.release_timer(&due[0]).await.unwrap();
    let again = store.claim_due_timers(at("20:15:10"), at("20:15:40"), 10).await.unwrap();
    assert_eq!(again.iter().map(|t| t.ticket.as_str()).collect::<Vec<_>>(), ["T0"]);
    let after_lease = store.claim_due_timers(at("20:15:40"), at("20:16:10"), 10).await.unwrap();
    assert_eq!(after_lease.len(), 2, "a crashed sweep's claims come back when the lease ends");
    desk.clock().set(at("20:16:10"));
    let pages = desk.tick().await.unwrap();
    assert_eq!(pages.len(), 2, "TAM paged for both");
    assert!(desk.tick().await.unwrap().is_empty(), "nothing twice");
    assert_eq!(desk.next_timer_at().await.unwrap(), Some(at("20:30:00")));
    assert_eq!(desk.store().ticket(&TicketId::from("T1")).await.unwrap().unwrap().version, 2);

    // An acknowledgement with a comment cancels the escalation timer.
    let extras = Extras {
        actor: Some("u_eve".into()),
        comment: Some(NewComment {
            id: "c1".into(),
            author: "u_eve".into(),
            public: true,
            body: "On it".into(),
            in_thread: false,
        }),
        details: None,
        applies: None,
    };
    desk.clock().set(at("20:20:00"));
    let ack = Event::new(at("20:20:00"), TicketId::from("T1"), EventKind::Acknowledged { by: "u_eve".into() });
    desk.record_with(vec![ack], extras).await.unwrap();
    let left: Vec<(String, TimerKind)> = desk
        .store()
        .claim_due_timers(at("23:59:59"), at("23:59:59"), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.ticket.to_string(), t.kind))
        .collect();
    assert_eq!(
        left,
        [("T0".into(), TimerKind::Escalation), ("T0".into(), TimerKind::Breach { target: "response".into() }),]
    );

    // Several changes at once: each stands or falls on its own, in the order given.
    let contract = Contract::default_contract();
    let (new_ticket, decision) = Ticket::open(&contract, &org, &opened("T9", "P2", "20:30:00")).unwrap();
    let (duplicate, _) = Ticket::open(&contract, &org, &opened("T1", "P2", "20:30:00")).unwrap();
    let change = |ticket: Ticket, expected_version, timers| Change {
        informs: Vec::new(),
        thread_notes: Vec::new(),
        keyed: None,
        roster: None,
        at: at("20:30:00"),
        ticket,
        expected_version,
        events: vec![],
        notices: vec![],
        timers,
        paging_ended: None,
        extras: Extras::default(),
    };
    let t1 = desk.store().ticket(&TicketId::from("T1")).await.unwrap().unwrap();
    let outcomes = desk
        .store()
        .commit_all(vec![
            change(duplicate, None, vec![]),
            change(new_ticket, None, decision.timers),
            change(t1.ticket.clone(), Some(t1.version + 5), vec![]),
            change(t1.ticket.clone(), Some(t1.version), vec![TimerOp::Cancel { kind: TimerKind::Escalation }]),
        ])
        .await;
    let shape: Vec<&str> = outcomes
        .iter()
        .map(|o| match o {
            Ok(()) => "ok",
            Err(StoreError::Conflict(_)) => "conflict",
            Err(_) => "other",
        })
        .collect();
    assert_eq!(shape, ["conflict", "ok", "conflict", "ok"]);
    let mut found: Vec<(String, u64)> = desk
        .store()
        .tickets(&[TicketId::from("T9"), TicketId::from("T1"), TicketId::from("nope")])
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.ticket.id.to_string(), s.version))
        .collect();
    found.sort();
    assert_eq!(found, [("T1".into(), t1.version + 1), ("T9".into(), 1)]);
    let t9_timers = desk.store().claim_due_timers(at("23:59:59"), at("23:59:59"), 10).await.unwrap();
    assert!(t9_timers.iter().any(|t| t.ticket.as_str() == "T9"), "the new ticket's timers were written");
    // Changes of one ticket in one call apply in their order, as if committed one by one.
    let v = t1.version + 1;
    let chained = desk
        .store()
        .commit_all(vec![
            change(t1.ticket.clone(), Some(v), vec![]),
            change(t1.ticket.clone(), Some(v), vec![]),
            change(t1.ticket.clone(), Some(v + 1), vec![]),
        ])
        .await;
    assert_eq!(chained.iter().map(|o| o.is_ok()).collect::<Vec<_>>(), [true, false, true]);
    assert_eq!(desk.store().ticket(&TicketId::from("T1")).await.unwrap().unwrap().version, v + 2);

    // A change that applies an inbox item commits the item's receipt with it: the item applied
    // again writes nothing, and a change refused for its version takes its receipt back.
    let applying = |expected_version| Change {
        extras: Extras { applies: Some("apl_1".into()), ..Extras::default() },
        ..change(t1.ticket.clone(), Some(expected_version), vec![])
    };
    let v = v + 2;
    assert!(matches!(desk.store().commit(applying(v + 7)).await, Err(StoreError::Conflict(_))));
    desk.store().commit(applying(v)).await.unwrap();
    let again = desk.store().commit(applying(v + 1)).await;
    assert!(matches!(&again, Err(StoreError::Applied(r)) if r == "apl_1"), "{again:?}");
    assert_eq!(desk.store().ticket(&TicketId::from("T1")).await.unwrap().unwrap().version, v + 1);
}

/// Concurrent commits (grouped into shared transactions by the SQL stores) each get their own
/// outcome: of many writers racing on one ticket version exactly one wins, while every new
/// ticket committed alongside is there.
async fn concurrent_commits<S: Store + 'static>(store: S) {
    let contract = Contract::default_contract();
    let org = OrgProfile { slug: OrgSlug::from("acme"), tier: Tier::from("pro"), deployment: Deployment::Shared };
    store.put_org(org.clone()).await.unwrap();
    let store = Arc::new(store);
    let (base, decision) = Ticket::open(&contract, &org, &opened("R0", "P3", "20:00:00")).unwrap();
    store
        .commit(Change {
            informs: Vec::new(),
            thread_notes: Vec::new(),
            keyed: None,
            roster: None,
            at: at("20:00:00"),
            ticket: base.clone(),
            expected_version: None,
            events: vec![],
            notices: vec![],
            timers: decision.timers,
            paging_ended: None,
            extras: Extras::default(),
        })
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = store.clone();
        let (ticket, expected_version) = if i % 2 == 0 {
            (base.clone(), Some(1))
        } else {
            (Ticket::open(&contract, &org, &opened(&format!("R{i}"), "P3", "20:00:00")).unwrap().0, None)
        };
        tasks.push(tokio::spawn(async move {
            let change = Change {
                informs: Vec::new(),
                thread_notes: Vec::new(),
                keyed: None,
                roster: None,
                at: at("20:01:00"),
                ticket,
                expected_version,
                events: vec![],
                notices: vec![],
                timers: vec![],
                paging_ended: None,
                extras: Extras::default(),
            };
            store.commit(change).await
        }));
    }
    let mut wins = 0;
    for (i, task) in tasks.into_iter().enumerate() {
        match (i % 2, task.await.unwrap()) {
            (0, Ok(())) => wins += 1,
            (0, Err(StoreError::Conflict(_))) => {}
            (_, Ok(())) => {}
            (_, other) => panic!("writer {i}: {other:?}"),
        }
    }
    assert_eq!(wins, 1, "exactly one writer of version 1 wins");
    let ids: Vec<TicketId> = (0..40).map(|i| TicketId(format!("R{i}"))).collect();
    assert_eq!(store.tickets(&ids).await.unwrap().len(), 21, "R0 and the 20 new tickets");
}

#[tokio::test]
async fn memory_store_conforms() {
    conformance(MemoryStore::new()).await;
}

#[tokio::test]
async fn sqlite_store_conforms() {
    let dir = tempdir();
    let store = SqlStore::open_sqlite(&dir.join("stringer.db")).await.unwrap();
    conformance(store.clone()).await;
    let t1 = TicketId::from("T1");
    let timeline = Queries::timeline(&store, &t1, 0, 100).await.unwrap();
    let kinds: Vec<&str> = timeline.iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(kinds, ["ticket.opened", "page", "page", "ticket.acknowledged", "sla.met"]);
    assert_eq!(timeline[0].actor.as_ref().map(|a| a.as_str()), Some("u_customer"));
    assert_eq!(Queries::comments(&store, &t1).await.unwrap().len(), 1);
    assert_eq!(Queries::ticket(&store, &t1).await.unwrap().unwrap().0.subject, "Down");
    // A page of the timeline: the entries after a position.
    let rest = Queries::timeline(&store, &t1, timeline[1].seq, 2).await.unwrap();
    assert_eq!(rest.iter().map(|t| t.kind.as_str()).collect::<Vec<_>>(), ["page", "ticket.acknowledged"]);
    // Reopening the file sees everything (migrations are not re-applied).
    store.close().await;
    let reopened = SqlStore::open_sqlite(&dir.join("stringer.db")).await.unwrap();
    assert_eq!(Queries::timeline(&reopened, &t1, 0, 100).await.unwrap().len(), 5);
}

#[tokio::test]
async fn postgres_store_conforms() {
    let Some(url) = postgres_url("conformance") else { return };
    let store = SqlStore::connect(&url).await.unwrap();
    conformance(store.clone()).await;
    assert_eq!(Queries::timeline(&store, &TicketId::from("T1"), 0, 100).await.unwrap().len(), 5);
}

/// Every store keeps a ticket's timers as the core's `apply_timer_ops` does (the last op on a
/// kind wins, across the changes of one call too), so the replay's pending timers are the
/// stored ones.
async fn timers_follow_the_last_op<S: Store>(store: S) {
    let contract = Contract::default_contract();
    let org = OrgProfile { slug: OrgSlug::from("acme"), tier: Tier::from("pro"), deployment: Deployment::Shared };
    store.put_org(org.clone()).await.unwrap();
    let (ticket, _) = Ticket::open(&contract, &org, &opened("L1", "P3", "20:00:00")).unwrap();
    let breach = || TimerKind::Breach { target: "response".into() };
    let set = |kind, when| TimerOp::Set { kind, at: at(when) };
    let cancel = |kind| TimerOp::Cancel { kind };
    let changes = [
        vec![
            set(breach(), "21:00:00"),
            set(TimerKind::Escalation, "20:15:00"),
            set(TimerKind::QueueNotify, "20:05:00"),
            set(breach(), "22:00:00"),
            cancel(TimerKind::QueueNotify),
        ],
        vec![cancel(TimerKind::Escalation), set(TimerKind::Escalation, "20:30:00"), cancel(TimerKind::ReportOverdue)],
        vec![set(TimerKind::CustomerPageOpens, "20:45:00"), cancel(breach()), set(TimerKind::QueueNotify, "20:50:00")],
    ];
    let change = |expected_version, timers: &Vec<TimerOp>| Change {
        informs: Vec::new(),
        thread_notes: Vec::new(),
        keyed: None,
        roster: None,
        at: at("20:00:00"),
        ticket: ticket.clone(),
        expected_version,
        events: vec![],
        notices: vec![],
        timers: timers.clone(),
        paging_ended: None,
        extras: Extras::default(),
    };
    store.commit(change(None, &changes[0])).await.unwrap();
    let outcomes = store.commit_all(vec![change(Some(1), &changes[1]), change(Some(2), &changes[2])]).await;
    assert!(outcomes.iter().all(|o| o.is_ok()), "{outcomes:?}");
    let mut expected = BTreeMap::new();
    for ops in &changes {
        apply_timer_ops(&mut expected, ops);
    }
    let far: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
    let stored: BTreeMap<TimerKind, Timestamp> =
        store.claim_due_timers(far, far, 100).await.unwrap().into_iter().map(|t| (t.kind, t.at)).collect();
    assert_eq!(stored, expected);
    assert_eq!(
        stored.keys().cloned().collect::<Vec<_>>(),
        [TimerKind::Escalation, TimerKind::CustomerPageOpens, TimerKind::QueueNotify]
    );
}

#[tokio::test]
async fn memory_store_timers_follow_the_last_op() {
    timers_follow_the_last_op(MemoryStore::new()).await;
}

#[tokio::test]
async fn sqlite_store_timers_follow_the_last_op() {
    timers_follow_the_last_op(SqlStore::open_sqlite(&tempdir().join("stringer.db")).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_store_timers_follow_the_last_op() {
    let Some(url) = postgres_url("timer_ops") else { return };
    timers_follow_the_last_op(SqlStore::connect(&url).await.unwrap()).await;
}

#[tokio::test]
async fn memory_store_concurrent_commits() {
    concurrent_commits(MemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_concurrent_commits() {
    concurrent_commits(SqlStore::open_sqlite(&tempdir().join("stringer.db")).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_concurrent_commits() {
    let Some(url) = postgres_url("concurrent") else { return };
    concurrent_commits(SqlStore::connect(&url).await.unwrap()).await;
}

/// Rate-limit counting: attempts count up within a window, a passed window starts again,
/// keys are separate.
async fn rate_limit_windows(store: SqlStore) {
    assert_eq!(store.count_attempt("login:a", 1_000, 60).await.unwrap(), (1_000, 1));
    assert_eq!(store.count_attempt("login:a", 1_030, 60).await.unwrap(), (1_000, 2));
    assert_eq!(store.count_attempt("login:b", 1_030, 60).await.unwrap(), (1_030, 1), "keys are separate");
    assert_eq!(store.count_attempt("login:a", 1_059, 60).await.unwrap(), (1_000, 3));
    assert_eq!(store.count_attempt("login:a", 1_060, 60).await.unwrap(), (1_060, 1), "a new window");
    assert_eq!(store.count_attempt("login:b", 1_061, 60).await.unwrap(), (1_030, 2));
}

#[tokio::test]
async fn sqlite_rate_limit_windows() {
    rate_limit_windows(SqlStore::open_sqlite(&tempdir().join("stringer.db")).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_rate_limit_windows() {
    let Some(url) = postgres_url("rate_limits") else { return };
    rate_limit_windows(SqlStore::connect(&url).await.unwrap()).await;
}

/// Migration 25 on a report saved before it: action items' owners written as a staff
/// member's address or name (any case, spaces around) become that member's id, in order;
/// other words stay as written.
async fn action_item_owners_migrate(url: &str) {
    use stringer_app::ports::Accounts;
    use stringer_app::postmortem::{ReportRecord, Reports, VersionRecord, Written};
    use stringer_app::records::UserRecord;
    use stringer_core::ids::UserRole;
    use stringer_core::postmortem::{ActionItem, ItemState, ReportState, Sections};

    let store = SqlStore::connect(url).await.unwrap();
    let desk = Desk::new(Arc::new(Contract::default_contract()), store.clone(), VirtualClock::new(at("20:00:00")));
    let org =
        OrgProfile { slug: OrgSlug::from("acme"), tier: Tier::from("enterprise"), deployment: Deployment::Dedicated };
    desk.put_org(org).await.unwrap();
    desk.record(opened("T9", "P1", "20:00:00")).await.unwrap();
    let nico = UserRecord {
        email: "nico@vendor.example".into(),
        name: "Nico Engineer".into(),
        ..staff("u_nico", UserRole::Engineer)
    };
    store.insert_user(&nico, None).await.unwrap();
    let ticket = TicketId::from("T9");
    let record = ReportRecord {
        ticket: ticket.clone(),
        org: OrgSlug::from("acme"),
        security: false,
        state: ReportState::Draft,
        due: None,
        revision: 0,
        text_version: 0,
        created_at: 0,
        updated_at: 0,
        published_at: None,
    };
    store.start_report(&record).await.unwrap();
    let item = |what: &str, owner: &str| ActionItem {
        what: what.into(),
        owner: owner.into(),
        due: None,
        state: ItemState::Open,
    };
    let items = vec![item("a", " NICO@vendor.example "), item("b", "nico engineer"), item("c", "the DBA team")];
    let sections = Sections { summary: "s".into(), action_items: items, ..Sections::default() };
    let version = VersionRecord { version: 1, author: None, at: 0, sections, timeline: Vec::new() };
    let written =
        Written { state: ReportState::Draft, version: Some(version), comment: None, announcements: Vec::new() };
    assert!(store.write_report(&ticket, 0, &written, 0).await.unwrap());
    let raw = sqlx::AnyPool::connect(url).await.unwrap();
    sqlx::query("DELETE FROM schema_migrations WHERE version = 25").execute(&raw).await.unwrap();
    raw.close().await;
    store.close().await;

    let migrated = SqlStore::connect(url).await.unwrap();
    let versions = Reports::versions(&migrated, &ticket).await.unwrap();
    let items = &versions[0].sections.action_items;
    let owners: Vec<(&str, &str)> = items.iter().map(|i| (i.what.as_str(), i.owner.as_str())).collect();
    assert_eq!(owners, [("a", "u_nico"), ("b", "u_nico"), ("c", "the DBA team")]);
    assert_eq!(versions[0].sections.summary, "s", "the rest as it was");
}

#[tokio::test]
async fn sqlite_action_item_owners_migrate() {
    let path = tempdir().join("stringer.db");
    action_item_owners_migrate(&format!("sqlite://{}?mode=rwc", path.display())).await;
}

#[tokio::test]
async fn postgres_action_item_owners_migrate() {
    let Some(url) = postgres_url("owners") else { return };
    action_item_owners_migrate(&url).await;
}

/// Migration 28 on an outbox written before it: the rows of notices nothing consumes (the
/// queue told, a target met) are settled; what a consumer still owes (a page, a customer
/// update) stays pending.
async fn unowed_outbox_rows_settle(url: &str) {
    let store = SqlStore::connect(url).await.unwrap();
    let desk = Desk::new(Arc::new(Contract::default_contract()), store.clone(), VirtualClock::new(at("20:00:00")));
    let org =
        OrgProfile { slug: OrgSlug::from("acme"), tier: Tier::from("enterprise"), deployment: Deployment::Dedicated };
    desk.put_org(org).await.unwrap();
    desk.record(opened("T4", "P4", "20:00:00")).await.unwrap();
    assert_eq!(store.backlog(0).await.unwrap().outbox_pending, 0, "a quiet ticket owes nothing");
    let raw = sqlx::AnyPool::connect(url).await.unwrap();
    for kind in ["queue.notified", "sla.met", "page", "customer.inform"] {
        sqlx::query("INSERT INTO outbox (ticket_id, at, kind, body, created_at) VALUES ('T4', 1, $1, '{}', 1)")
            .bind(kind)
            .execute(&raw)
            .await
            .unwrap();
    }
    sqlx::query("DROP INDEX outbox_to_dispatch").execute(&raw).await.unwrap();
    sqlx::query("DELETE FROM schema_migrations WHERE version = 28").execute(&raw).await.unwrap();
    raw.close().await;
    store.close().await;

    let migrated = SqlStore::connect(url).await.unwrap();
    assert_eq!(migrated.backlog(0).await.unwrap().outbox_pending, 2, "the page and the customer update are owed");
}

#[tokio::test]
async fn sqlite_unowed_outbox_rows_settle() {
    let path = tempdir().join("stringer.db");
    unowed_outbox_rows_settle(&format!("sqlite://{}?mode=rwc", path.display())).await;
}

#[tokio::test]
async fn postgres_unowed_outbox_rows_settle() {
    let Some(url) = postgres_url("outbox") else { return };
    unowed_outbox_rows_settle(&url).await;
}

/// The user whose `Idempotency-Key` the keyed writes below answer to.
const KEY_OWNER: &str = "u_keyed";

/// The request that holds key `k1` now.
fn live_request() -> Option<stringer_app::keyed::KeyedWrite> {
    Some(stringer_app::keyed::KeyedWrite {
        user: stringer_core::ids::UserId::from(KEY_OWNER),
        key: "k1".into(),
        claim: "clm_live".into(),
    })
}

/// A request whose claim on `k1` a retry took over.
fn late_request() -> Option<stringer_app::keyed::KeyedWrite> {
    Some(stringer_app::keyed::KeyedWrite { claim: "clm_old".into(), ..live_request().unwrap() })
}

/// A request that holds key `k2` now.
fn mail_request() -> Option<stringer_app::keyed::KeyedWrite> {
    Some(stringer_app::keyed::KeyedWrite { key: "k2".into(), claim: "clm_mail".into(), ..live_request().unwrap() })
}

/// A keyed write that is not a ticket change marks its key in its own transaction: a retry
/// after a crash finds what it wrote (not an abandoned key it may run again); a second write
/// of the same request is not refused and leaves the first as the answer; a late write whose
/// claim a retry took over writes nothing.
async fn keyed_writes_mark_their_key(url: &str) {
    use stringer_app::delivery::MethodKind;
    use stringer_app::keyed::Written;
    use stringer_app::mail::{Door, MailState, Mailroom, NewInbound};
    use stringer_app::ports::{Accounts, OnCall};
    use stringer_app::records::{ContactMethodRecord, KeyClaim};
    use stringer_core::ids::{UserId, UserRole};

    let store = SqlStore::connect(url).await.unwrap();
    let owner = UserId::from(KEY_OWNER);
    let user = |id: &str| staff(id, UserRole::Engineer);
    let claimed = store.claim_idempotent(&owner, "k1", "hash", "clm_live", 1_000, 30, 86_400).await.unwrap();
    assert_eq!(claimed, KeyClaim::New { claim: "clm_live".into() });

    let late = store.clone().keyed_by(late_request);
    assert!(matches!(late.insert_user(&user("u_late"), None).await, Err(StoreError::KeyTakenOver)));
    assert_eq!(store.user(&UserId::from("u_late")).await.unwrap(), None, "the late write wrote nothing");

    let keyed = store.clone().keyed_by(live_request);
    keyed.insert_user(&user("u_new"), None).await.unwrap();
    let method = ContactMethodRecord {
        id: "cm_1".into(),
        user_id: UserId::from("u_new"),
        kind: MethodKind::Webhook,
        address: "https://hook.example".into(),
        secret: String::new(),
        created_at: 0,
    };
    keyed.insert_contact_method(&method).await.unwrap();
    assert_eq!(
        store.contact_methods(&UserId::from("u_new")).await.unwrap().len(),
        1,
        "the second write is not refused"
    );

    // The server dies before it answers: long after the lease, a retry finds the user written.
    let retried = store.claim_idempotent(&owner, "k1", "hash", "clm_retry", 5_000, 30, 86_400).await.unwrap();
    assert_eq!(retried, KeyClaim::Written(Written::resource("user", "u_new", 201)));

    // What a door hands in is stored in batches: the batch's transaction marks the key with
    // the row's number, or leaves the item out when its claim is gone.
    let message = NewInbound {
        door: Door::Http,
        envelope_from: None,
        envelope_to: vec!["help@vendor.example".into()],
        raw: b"Subject: keyed\r\n\r\nhi".to_vec(),
        received_at_ms: 0,
        peer: None,
        helo: None,
    };
    assert!(matches!(late.accept(&message).await, Err(StoreError::KeyTakenOver)));
    assert!(store.inbound_in(MailState::Pending, 10).await.unwrap().is_empty(), "the late message is not stored");
    let claimed = store.claim_idempotent(&owner, "k2", "hash", "clm_mail", 1_000, 30, 86_400).await.unwrap();
    assert_eq!(claimed, KeyClaim::New { claim: "clm_mail".into() });
    let id = store.clone().keyed_by(mail_request).accept(&message).await.unwrap();
    let retried = store.claim_idempotent(&owner, "k2", "hash", "clm_retry", 5_000, 30, 86_400).await.unwrap();
    assert_eq!(retried, KeyClaim::Written(Written::done("mail", id.to_string(), 202)));
    assert_eq!(store.inbound_in(MailState::Pending, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn sqlite_keyed_writes_mark_their_key() {
    let path = tempdir().join("stringer.db");
    keyed_writes_mark_their_key(&format!("sqlite://{}?mode=rwc", path.display())).await;
}

#[tokio::test]
async fn postgres_keyed_writes_mark_their_key() {
    let Some(url) = postgres_url("keyed") else { return };
    keyed_writes_mark_their_key(&url).await;
}

/// A password link's mail is written with the link, in its transaction, and holds the link's
/// id and expiry only: nothing in its row is the link or its signature. A link written twice
/// is refused and leaves one mail.
async fn account_mail_holds_no_link(url: &str) {
    use stringer_app::accounts::letter::Purpose;
    use stringer_app::accounts::letter::{AccountLetter, Carries, signed_link};
    use stringer_app::outbox::{Room, Sendings};
    use stringer_app::ports::Accounts;
    use stringer_app::records::UserRecord;
    use stringer_core::ids::UserRole;

    let store = SqlStore::connect(url).await.unwrap();
    let ann =
        UserRecord { email: "ann@vendor.example".into(), name: "Ann".into(), ..staff("usr_ann", UserRole::Engineer) };
    store.insert_user(&ann, None).await.unwrap();
    let (link, expires) = ("pwl_01J0000000000000000000000A", 4_600);
    let carries = Carries::PasswordLink { link: link.into(), expires, purpose: Purpose::Reset };
    let mail = AccountLetter::new(&ann.email, None, carries);
    store.insert_password_link(link, &ann.id, "reset", 1_000, expires, Some(&mail)).await.unwrap();
    assert!(store.insert_password_link(link, &ann.id, "reset", 1_001, expires, Some(&mail)).await.is_err());

    let key = store.setting_or_init("password_link_key", "a-key-made-now").await.unwrap();
    let signed = signed_link("https://desk.example", &key, link, expires);
    let signature = signed.rsplit('.').next().unwrap();
    let raw = sqlx::AnyPool::connect(url).await.unwrap();
    let rows: Vec<(String, String, String, String, String)> =
        sqlx::query_as("SELECT id, kind, link, CAST(expires_at AS TEXT), recipient FROM account_mail")
            .fetch_all(&raw)
            .await
            .unwrap();
    raw.close().await;
    assert_eq!(rows.len(), 1, "one mail for one link");
    let row = format!("{:?}", rows[0]);
    assert!(row.contains(link) && row.contains("4600"), "{row}");
    assert!(!row.contains(signature) && !row.contains("/password/"), "the row holds no link: {row}");

    let claimed = Sendings::<AccountLetter>::claim(&store, 1_000, 1_060, &Room::batch(10)).await.unwrap();
    assert_eq!(claimed, vec![mail], "the courier reads back what was written");
}

#[tokio::test]
async fn sqlite_account_mail_holds_no_link() {
    let path = tempdir().join("stringer.db");
    account_mail_holds_no_link(&format!("sqlite://{}?mode=rwc", path.display())).await;
}

#[tokio::test]
async fn postgres_account_mail_holds_no_link() {
    let Some(url) = postgres_url("account_mail") else { return };
    account_mail_holds_no_link(&url).await;
}

/// Thread posts are an outbox kind written with the change that causes them: only for a
/// ticket that has a thread then (a ticket whose thread is bound later is told only of what
/// changes after), in the order of the changes, each claimed once.
async fn thread_posts_are_written_with_their_change(url: &str) {
    use stringer_app::chat::{ChatRoom, ThreadNote, ThreadPost};
    use stringer_app::outbox::{Room, Sendings};
    use stringer_core::ids::UserId;

    let store = SqlStore::connect(url).await.unwrap();
    let desk = Desk::new(Arc::new(Contract::default_contract()), store.clone(), VirtualClock::new(at("20:00:00")));
    let org =
        OrgProfile { slug: OrgSlug::from("acme"), tier: Tier::from("enterprise"), deployment: Deployment::Dedicated };
    desk.put_org(org).await.unwrap();
    let ticket = TicketId::from("T5");
    desk.record(opened("T5", "P3", "20:00:00")).await.unwrap();
    let eve = || Extras { actor: Some("u_eve".into()), ..Extras::default() };
    let ack = Event::new(at("20:01:00"), ticket.clone(), EventKind::Acknowledged { by: "u_eve".into() });
    desk.record_with(vec![ack], eve()).await.unwrap();
    let posts: &dyn Sendings<ThreadPost> = &store;
    let claim = |now| async move { posts.claim(now, now + 60, &Room::batch(10)).await.unwrap() };
    assert_eq!(claim(at("23:00:00").as_second()).await, [], "no thread, nothing owed");

    desk.store().set_thread_ticket("C1", "1.0", &ticket, at("20:02:00").as_second()).await.unwrap();
    let severity =
        Event::new(at("20:03:00"), ticket.clone(), EventKind::SeverityChanged { severity: Severity::from("P2") });
    desk.record_with(vec![severity], eve()).await.unwrap();
    let reply = |id: &str, in_thread| Extras {
        comment: Some(NewComment {
            id: id.into(),
            author: "u_eve".into(),
            public: true,
            body: "Fixed".into(),
            in_thread,
        }),
        ..eve()
    };
    let replied = |when| Event::new(at(when), ticket.clone(), EventKind::Replied { by: "u_eve".into(), public: true });
    desk.record_with(vec![replied("20:04:00")], reply("c1", true)).await.unwrap();
    let resolve = Event::new(at("20:05:00"), ticket.clone(), EventKind::Resolved { by_customer: false });
    desk.record_with(vec![replied("20:05:00"), resolve], reply("c2", false)).await.unwrap();

    let claimed = claim(at("23:00:00").as_second()).await;
    let told: Vec<(&str, &str, Option<&str>, &ThreadNote)> = claimed
        .iter()
        .map(|p| (p.channel.as_str(), p.thread.as_str(), p.actor.as_ref().map(UserId::as_str), &p.note))
        .collect();
    let comment = ThreadNote::Comment { author: UserId::from("u_eve"), body: "Fixed".into() };
    assert_eq!(
        told,
        [
            ("C1", "1.0", Some("u_eve"), &ThreadNote::SeverityChanged { severity: Severity::from("P2") }),
            ("C1", "1.0", Some("u_eve"), &ThreadNote::Resolved),
            ("C1", "1.0", Some("u_eve"), &comment),
        ]
    );
    assert!(claimed.iter().all(|p| p.ticket == ticket && p.attempts == 0));
    assert_eq!(claim(at("23:00:30").as_second()).await, [], "leased");
    for p in &claimed {
        posts.sent(&p.id, at("23:00:01").as_second(), None).await.unwrap();
    }
    assert_eq!(claim(at("23:59:00").as_second()).await, [], "sent once");
}

#[tokio::test]
async fn sqlite_thread_posts_are_written_with_their_change() {
    let path = tempdir().join("stringer.db");
    thread_posts_are_written_with_their_change(&format!("sqlite://{}?mode=rwc", path.display())).await;
}

#[tokio::test]
async fn postgres_thread_posts_are_written_with_their_change() {
    let Some(url) = postgres_url("thread_posts") else { return };
    thread_posts_are_written_with_their_change(&url).await;
}

/// A delivery's row: id, status, attempts, next attempt, last error, receipt.
type DeliveryRow = (String, String, i64, i64, Option<String>, Option<String>);

/// Deliveries are an outbox kind: a claim fits the deliverer's room (each destination's share
/// less the sends under way to it, none to a destination whose share is taken, most urgent
/// first), and sent, later and cancelled end an attempt as a delivery's row records it.
async fn deliveries_are_claimed_within_their_room(url: &str) {
    use stringer_app::delivery::{Delivery, DeliveryStore, NewDelivery, Urgency};
    use stringer_app::outbox::{Room, Sendings};

    let store = SqlStore::connect(url).await.unwrap();
    let new = |id: &str, channel: &str, urgency: Urgency| NewDelivery {
        id: id.into(),
        ticket: TicketId("tkt_1".into()),
        user_id: "org:acme".into(),
        method_id: "org_slack_channel".into(),
        channel: Some(channel.into()),
        payload: "{}".into(),
        due: Timestamp::from_second(1_000).unwrap(),
        urgency,
    };
    let batch = vec![
        new("a1", "#slow", Urgency::Alert),
        new("p1", "#slow", Urgency::Page),
        new("p2", "#slow", Urgency::Page),
        new("p3", "#fast", Urgency::Page),
        new("a2", "#fast", Urgency::Alert),
        new("p4", "#full", Urgency::Page),
    ];
    store.dispatch(vec![(1, batch)], Timestamp::from_second(1_000).unwrap()).await.unwrap();
    let room = Room { limit: 10, per_destination: Some(2), under_way: vec![("#full".into(), 2), ("#slow".into(), 1)] };
    let claimed: Vec<Delivery> = Sendings::claim(&store, 1_000, 1_020, &room).await.unwrap();
    let ids: Vec<&str> = claimed.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["p1", "p3", "a2"], "pages first; #slow has room for one more, #full for none");
    assert_eq!(claimed[0].destination, "#slow");
    let again: Vec<Delivery> = Sendings::claim(&store, 1_010, 1_030, &Room::batch(10)).await.unwrap();
    let ids: Vec<&str> = again.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["p2", "p4", "a1"], "the claimed ones are leased; a batch has no per-destination share");

    Sendings::<Delivery>::sent(&store, "p1", 1_001, Some(r#"{"ts":"1.2"}"#)).await.unwrap();
    Sendings::<Delivery>::later(&store, "p3", 1_001, 1_003, "down").await.unwrap();
    Sendings::<Delivery>::given_up(&store, "a2", 1_001, "refused").await.unwrap();
    Sendings::<Delivery>::cancelled(&store, "p2", 1_011, "acknowledged first").await.unwrap();
    let raw = sqlx::AnyPool::connect(url).await.unwrap();
    let rows: Vec<DeliveryRow> = sqlx::query_as(
        "SELECT id, status, attempts, next_attempt_at, last_error, receipt FROM deliveries WHERE id IN ('p1', 'p3', 'a2', 'p2') ORDER BY id",
    )
    .fetch_all(&raw)
    .await
    .unwrap();
    let attempts: Vec<(String, String)> =
        sqlx::query_as("SELECT delivery_id, outcome FROM delivery_attempts ORDER BY delivery_id")
            .fetch_all(&raw)
            .await
            .unwrap();
    raw.close().await;
    let row = |id: &str, status: &str, attempts: i64, next: i64, error: Option<&str>, receipt: Option<&str>| {
        (id.to_string(), status.to_string(), attempts, next, error.map(String::from), receipt.map(String::from))
    };
    assert_eq!(
        rows,
        [
            row("a2", "failed", 1, 1_001, Some("refused"), None),
            row("p1", "sent", 1, 1_001, None, Some(r#"{"ts":"1.2"}"#)),
            row("p2", "cancelled", 0, 1_011, Some("acknowledged first"), None),
            row("p3", "pending", 1, 1_003, Some("down"), None),
        ]
    );
    let outcomes: Vec<(&str, &str)> = attempts.iter().map(|(d, o)| (d.as_str(), o.as_str())).collect();
    assert_eq!(
        outcomes,
        [("a2", "failed"), ("p1", "sent"), ("p2", "cancelled"), ("p3", "retry")],
        "every end is logged"
    );
    let later: Vec<Delivery> = Sendings::claim(&store, 1_003, 1_023, &Room::batch(10)).await.unwrap();
    assert_eq!(
        later.iter().map(|d| (d.id.as_str(), d.attempts)).collect::<Vec<_>>(),
        [("p3", 1)],
        "due again at its retry"
    );
}

#[tokio::test]
async fn sqlite_deliveries_are_claimed_within_their_room() {
    let path = tempdir().join("stringer.db");
    deliveries_are_claimed_within_their_room(&format!("sqlite://{}?mode=rwc", path.display())).await;
}

#[tokio::test]
async fn postgres_deliveries_are_claimed_within_their_room() {
    let Some(url) = postgres_url("delivery_room") else { return };
    deliveries_are_claimed_within_their_room(&url).await;
}

/// The contracts the server ran under: a start under the contract last recorded records
/// nothing; another contract, or another Stringer version, is recorded after it.
async fn contract_history(store: SqlStore) {
    use stringer_app::history::{ContractHistory, ContractRecord};
    let seed = stringer_core::contract::Contract::default_contract();
    let first = ContractRecord::of(&seed, 1_000, "0.1.0");
    assert_eq!(first.sha256.len(), 64, "a SHA-256 in hex");
    assert!(store.record_contract(&first).await.unwrap(), "the first start records its contract");
    assert!(!store.record_contract(&ContractRecord::of(&seed, 2_000, "0.1.0")).await.unwrap(), "the same again");
    let text = stringer_core::contract::DEFAULT_CONTRACT.replacen("name = ", "name = \"Proposed\"\n# was: ", 1);
    let other = stringer_core::contract::Contract::from_toml(&text, "proposed.toml").unwrap();
    let second = ContractRecord::of(&other, 3_000, "0.1.0");
    assert_ne!(second.sha256, first.sha256);
    assert!(store.record_contract(&second).await.unwrap(), "another contract is recorded");
    let upgraded = ContractRecord::of(&other, 4_000, "0.2.0");
    assert!(store.record_contract(&upgraded).await.unwrap(), "another Stringer version is recorded");
    assert!(store.record_contract(&first).await.unwrap(), "going back to the first is recorded again");
    let history = store.contracts().await.unwrap();
    assert_eq!(history, vec![first.clone(), second, upgraded, first]);
    assert_eq!(history[1].name, "Proposed");
    assert_eq!(history[0].source, stringer_core::contract::DEFAULT_CONTRACT);
}

#[tokio::test]
async fn sqlite_contract_history() {
    contract_history(SqlStore::open_sqlite(&tempdir().join("stringer.db")).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_contract_history() {
    let Some(url) = postgres_url("contract_history") else { return };
    contract_history(SqlStore::connect(&url).await.unwrap()).await;
}

/// Tickets with their history, as a replay reads them: an org's tickets opened in the
/// window, in pages in (opening, id) order, each with its timeline rows in the order written
/// and the version each change made; and as a comparison reads them, every org asked for
/// at once, each ticket with its event rows and its place in the report's order.
async fn histories(store: SqlStore) {
    use stringer_app::history::{EventHistory, HistoryReads};
    use stringer_app::{Desk, VirtualClock};
    use stringer_core::event::{Event, EventKind};
    use stringer_core::ids::{Deployment, OrgSlug, Severity, Tier};
    use stringer_core::ticket::OrgProfile;
    let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
    let contract = std::sync::Arc::new(stringer_core::contract::Contract::default_contract());
    let desk = Desk::new(contract, store.clone(), VirtualClock::new(at("2026-07-01T00:00:00Z")));
    for (slug, tier) in [("kite", "pro"), ("acme", "enterprise")] {
        let org = OrgProfile { slug: OrgSlug::from(slug), tier: Tier::from(tier), deployment: Deployment::Shared };
        desk.put_org(org).await.unwrap();
    }
    let open = |id: &str, org: &str, when: &str| {
        let kind = EventKind::Opened {
            org: OrgSlug::from(org),
            severity: Severity::from("P2"),
            intake: None,
            security: false,
        };
        Event::new(at(when), TicketId::from(id), kind)
    };
    for (id, org, when) in [
        ("h-early", "kite", "2026-06-30T23:59:59Z"),
        ("h-b", "kite", "2026-07-01T10:00:00Z"),
        ("h-a", "kite", "2026-07-01T10:00:00Z"),
        ("h-c", "kite", "2026-07-02T10:00:00Z"),
        ("h-other", "acme", "2026-07-01T10:00:00Z"),
        ("h-d", "kite", "2026-09-20T10:00:00Z"),
    ] {
        desk.clock().set(at(when));
        desk.record(open(id, org, when)).await.unwrap();
    }
    // One change of two events: acknowledged and answered at once.
    desk.clock().set(at("2026-07-02T11:00:00Z"));
    let both =
        [EventKind::Acknowledged { by: "u_eng".into() }, EventKind::Replied { by: "u_eng".into(), public: true }]
            .map(|kind| Event::new(at("2026-07-02T11:00:00Z"), TicketId::from("h-a"), kind));
    desk.record_with(both.to_vec(), stringer_app::Extras::default()).await.unwrap();
    let (from, until) = (at("2026-07-01T00:00:00Z").as_second(), at("2026-10-01T00:00:00Z").as_second());
    let kite = OrgSlug::from("kite");
    let first = store.histories(&kite, from, until, None, 2).await.unwrap();
    let ids: Vec<&str> = first.iter().map(|h| h.ticket.id.as_str()).collect();
    assert_eq!(ids, ["h-a", "h-b"], "in the window, by opening then id, a page of two");
    let last = &first[1];
    let after = Some((last.ticket.state.opened_at.as_second(), last.ticket.id.clone()));
    let rest = store.histories(&kite, from, until, after, 2).await.unwrap();
    assert_eq!(rest.iter().map(|h| h.ticket.id.as_str()).collect::<Vec<_>>(), ["h-c", "h-d"]);
    let a = &first[0];
    let rows: Vec<(&str, Option<i64>)> = a.rows.iter().map(|r| (r.kind.as_str(), r.version)).collect();
    assert_eq!(rows.first(), Some(&("ticket.opened", Some(1))), "{rows:?}");
    let acked: Vec<&(&str, Option<i64>)> = rows.iter().filter(|(_, v)| *v == Some(2)).collect();
    assert_eq!(
        acked.iter().filter(|(k, _)| k.starts_with("ticket.")).map(|(k, _)| *k).collect::<Vec<_>>(),
        ["ticket.acknowledged", "ticket.replied"],
        "the change of two events is one version: {rows:?}"
    );
    assert!(a.rows.iter().all(|r| r.body.starts_with('{')), "the rows' JSON, undecoded");
    assert!(a.rows.windows(2).all(|w| w[0].version <= w[1].version), "in the order written");
    assert!(a.rows.iter().any(|r| r.kind == "queue.notified"), "every row, the notices too: {rows:?}");
    let acme = OrgSlug::from("acme");
    let mut read: Vec<EventHistory> = Vec::new();
    store
        .event_histories(&[kite.clone(), acme.clone()], from, until, &mut |batch| {
            read.extend(batch);
            true
        })
        .await
        .unwrap();
    read.sort_by_key(|h| h.order);
    let placed: Vec<(u64, &str, String)> = read.iter().map(|h| (h.order, h.id.as_str(), h.key.to_string())).collect();
    assert_eq!(
        placed,
        [
            (0, "h-a", "KITE-3".into()),
            (1, "h-b", "KITE-2".into()),
            (2, "h-c", "KITE-4".into()),
            (3, "h-d", "KITE-5".into()),
            (4, "h-other", "ACME-1".into())
        ],
        "the orgs as asked, each by opening then id (the window's two halves read apart); none opened \
         outside the window"
    );
    assert_eq!((read[0].tier.as_str(), read[4].tier.as_str()), ("pro", "enterprise"));
    assert_eq!(read[0].opened_at, at("2026-07-01T10:00:00Z"));
    let expected: Vec<(Option<i64>, &str)> = a
        .rows
        .iter()
        .filter(|r| stringer_core::event::is_event_kind(&r.kind))
        .map(|r| (r.version, r.body.as_str()))
        .collect();
    assert_eq!(read[0].rows.iter().collect::<Vec<_>>(), expected, "only the events, in the order written");
}

#[tokio::test]
async fn sqlite_histories() {
    histories(SqlStore::open_sqlite(&tempdir().join("stringer.db")).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_histories() {
    let Some(url) = postgres_url("histories") else { return };
    histories(SqlStore::connect(&url).await.unwrap()).await;
}

/// The roster history: a change that routes notices records the roster it routed with when
/// it differs from the org's last one recorded, at the change's instant; a change that routes
/// nobody records nothing; reading answers them in order with the roster as it is now.
async fn roster_history(store: SqlStore) {
    use stringer_app::history::HistoryReads;
    use stringer_app::ports::Accounts;
    use stringer_app::{Desk, VirtualClock};
    use stringer_core::event::{Event, EventKind};
    use stringer_core::ids::{Deployment, OrgSlug, Severity, Tier, UserRole};
    use stringer_core::ticket::OrgProfile;
    let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
    let contract = std::sync::Arc::new(stringer_core::contract::Contract::default_contract());
    let desk = Desk::new(contract, store.clone(), VirtualClock::new(at("2026-07-01T00:00:00Z")));
    let kite = OrgSlug::from("kite");
    let org = OrgProfile { slug: kite.clone(), tier: Tier::from("pro"), deployment: Deployment::Shared };
    desk.put_org(org).await.unwrap();
    let engineer = |id: &str| staff(id, UserRole::PlatformEngineer);
    store.insert_user(&engineer("pat"), None).await.unwrap();
    let open = |id: &str, severity: &str, when: &str| {
        let kind =
            EventKind::Opened { org: kite.clone(), severity: Severity::from(severity), intake: None, security: false };
        Event::new(at(when), TicketId::from(id), kind)
    };
    for (id, severity, when) in [("k1", "P1", "2026-07-01T10:00:00Z"), ("k2", "P1", "2026-07-01T11:00:00Z")] {
        desk.clock().set(at(when));
        let recorded = desk.record(open(id, severity, when)).await.unwrap();
        assert!(recorded.iter().any(|n| n.body.kind() == "page"), "{id} pages on-call");
    }
    desk.clock().set(at("2026-07-01T11:30:00Z"));
    desk.record(open("k3", "P4", "2026-07-01T11:30:00Z")).await.unwrap();
    store.insert_user(&engineer("paul"), None).await.unwrap();
    desk.clock().set(at("2026-07-01T12:00:00Z"));
    desk.record(open("k4", "P1", "2026-07-01T12:00:00Z")).await.unwrap();
    let history = store.rosters(&kite).await.unwrap();
    let seen: Vec<(String, Vec<String>)> = history
        .recorded
        .iter()
        .map(|(when, r)| (when.to_string(), r.staff.iter().map(|m| m.id.clone()).collect()))
        .collect();
    assert_eq!(
        seen,
        [
            ("2026-07-01T10:00:00Z".to_string(), vec!["pat".to_string()]),
            ("2026-07-01T12:00:00Z".into(), vec!["pat".into(), "paul".into()])
        ],
        "the same roster again, or a change that paged nobody, records nothing"
    );
    assert_eq!(history.current.staff.len(), 2);
}

#[tokio::test]
async fn sqlite_roster_history() {
    roster_history(SqlStore::open_sqlite(&tempdir().join("stringer.db")).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_roster_history() {
    let Some(url) = postgres_url("roster_history") else { return };
    roster_history(SqlStore::connect(&url).await.unwrap()).await;
}

/// A staff account with no password: `id` is its name, and its address is at vendor.example.
fn staff(id: &str, role: stringer_core::ids::UserRole) -> stringer_app::records::UserRecord {
    stringer_app::records::UserRecord {
        id: stringer_core::ids::UserId::from(id),
        email: format!("{id}@vendor.example"),
        name: id.into(),
        role,
        org: None,
        federal_cleared: false,
        password_hash: None,
        created_at: 0,
        time_zone: None,
        deactivated_at: None,
    }
}

/// A change opening ticket `id` of `org`, with the event, notices and timers the core decides.
fn opening(contract: &Contract, org: &OrgProfile, id: &str, when: &str) -> Change {
    let kind =
        EventKind::Opened { org: org.slug.clone(), severity: Severity::from("P1"), intake: None, security: false };
    let event = Event::new(at(when), TicketId::from(id), kind);
    let (ticket, decision) = Ticket::open(contract, org, &event).unwrap();
    Change {
        informs: Vec::new(),
        thread_notes: Vec::new(),
        keyed: None,
        roster: None,
        at: at(when),
        ticket,
        expected_version: None,
        events: vec![event],
        notices: decision.notices,
        timers: decision.timers,
        paging_ended: None,
        extras: Extras { actor: Some("u_customer".into()), ..Extras::default() },
    }
}

/// A raw connection to the store's database, to read the ledger's tables as they are.
async fn raw_pool(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new().max_connections(2).connect(url).await.unwrap()
}

/// The ledger's invariants, read from the tables: one leaf per timeline row and one row per
/// leaf, pointing at each other; indices `0..size` exactly once; each leaf hash recomputed from
/// its row and secret; the stored root equal to `MTH` over the stored leaf hashes; proofs from
/// the stored nodes equal to those of the whole tree in memory. Answers the size.
async fn check_ledger(store: &SqlStore, pool: &sqlx::AnyPool) -> u64 {
    use sqlx::Row as _;
    use stringer_ledger::encode::TimelineEntry;
    use stringer_ledger::tree::{self, MemoryTree};
    let (size, root) = store.ledger_head().await.unwrap();
    let leaves = store.ledger_leaves(0, u64::MAX >> 1).await.unwrap();
    assert_eq!(leaves.iter().map(|l| l.index).collect::<Vec<_>>(), (0..size).collect::<Vec<_>>(), "gapless, unique");
    let rows = sqlx::query(
        "SELECT t.id, t.ticket_id, k.org, t.at, t.kind, t.actor, t.body, t.version, t.leaf FROM timeline t \
         JOIN tickets k ON k.id = t.ticket_id ORDER BY t.leaf",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(rows.len() as u64, size, "one timeline row per leaf");
    for (row, leaf) in rows.iter().zip(&leaves) {
        assert_eq!(row.get::<Option<i64>, _>("leaf"), Some(leaf.index as i64), "every row has its leaf");
        assert_eq!((leaf.source.as_str(), leaf.source_id), ("timeline", row.get::<i64, _>("id")));
        let body: serde_json::Value = serde_json::from_str(&row.get::<String, _>("body")).unwrap();
        let (org, ticket, kind) =
            (row.get::<String, _>("org"), row.get::<String, _>("ticket_id"), row.get::<String, _>("kind"));
        let actor = row.get::<Option<String>, _>("actor");
        let entry = TimelineEntry {
            org: &org,
            ticket: &ticket,
            version: row.get::<Option<i64>, _>("version"),
            at: row.get::<i64, _>("at"),
            kind: &kind,
            actor: actor.as_deref(),
            body: &body,
        };
        assert_eq!(entry.leaf(&leaf.secret).unwrap().hash(), leaf.hash, "leaf {} is its row's", leaf.index);
    }
    let secrets: std::collections::HashSet<_> = leaves.iter().map(|l| l.secret).collect();
    assert_eq!(secrets.len(), leaves.len(), "a fresh secret per leaf");
    let hashes: Vec<_> = leaves.iter().map(|l| l.hash).collect();
    assert_eq!(root, tree::mth(&hashes), "the stored frontier's root is MTH of the stored leaves");
    let memory = MemoryTree::from_leaves(hashes);
    for index in (0..size).step_by(7).chain(size.checked_sub(1)) {
        let stored = store.ledger_nodes(&tree::plan_inclusion(index, size).unwrap()).await.unwrap();
        assert_eq!(
            tree::inclusion_proof(&stored, index, size).unwrap(),
            tree::inclusion_proof(&memory, index, size).unwrap(),
            "inclusion of {index} in {size} from the stored nodes"
        );
    }
    for from in (1..size).step_by(13) {
        let stored = store.ledger_nodes(&tree::plan_consistency(from, size).unwrap()).await.unwrap();
        assert_eq!(
            tree::consistency_proof(&stored, from, size).unwrap(),
            tree::consistency_proof(&memory, from, size).unwrap(),
            "consistency from {from} to {size} from the stored nodes"
        );
    }
    size
}

/// Every timeline row a change writes is a leaf, appended in its transaction; a change that is
/// refused (a stale version, a ticket opened twice) leaves no leaf and no gap.
async fn ledger_follows_the_timeline(url: &str) {
    let store = SqlStore::connect(url).await.unwrap();
    let pool = raw_pool(url).await;
    assert_eq!(store.ledger_head().await.unwrap(), (0, stringer_ledger::tree::empty_root()));
    let log_id = store.ledger_log_id().await.unwrap();
    assert_ne!(log_id, [0; 32], "a random log id");
    let contract = Contract::default_contract();
    let org = OrgProfile { slug: OrgSlug::from("acme"), tier: Tier::from("pro"), deployment: Deployment::Shared };
    store.put_org(org.clone()).await.unwrap();
    store.commit(opening(&contract, &org, "L0", "20:00:00")).await.unwrap();
    let first = check_ledger(&store, &pool).await;
    assert!(first >= 2, "the opening and its notices: {first}");

    let refused = [opening(&contract, &org, "L0", "20:01:00"), {
        let mut stale = opening(&contract, &org, "L0", "20:01:00");
        stale.expected_version = Some(7);
        stale
    }];
    for change in refused {
        assert!(store.commit(change).await.is_err());
    }
    assert_eq!(check_ledger(&store, &pool).await, first, "a refused change leaves no leaf");

    // Batches that span the stored levels (16 leaves and up) and a refused change in between.
    let mut changes: Vec<Change> = (1..40).map(|i| opening(&contract, &org, &format!("L{i}"), "20:02:00")).collect();
    changes.insert(20, opening(&contract, &org, "L0", "20:02:00"));
    let outcomes = store.commit_all(changes).await;
    assert_eq!(outcomes.iter().filter(|o| o.is_err()).count(), 1, "{outcomes:?}");
    let size = check_ledger(&store, &pool).await;
    assert_eq!(size, first * 40, "each opening writes as many rows as the first");
    let log = store.ledger_log_id().await.unwrap();
    store.close().await;
    let reopened = SqlStore::connect(url).await.unwrap();
    assert_eq!(reopened.ledger_log_id().await.unwrap(), log, "the log keeps its name");
    assert_eq!(reopened.ledger_head().await.unwrap().0, size);
}

#[tokio::test]
async fn sqlite_ledger_follows_the_timeline() {
    let path = tempdir().join("stringer.db");
    ledger_follows_the_timeline(&format!("sqlite://{}?mode=rwc", path.display())).await;
}

#[tokio::test]
async fn postgres_ledger_follows_the_timeline() {
    let Some(url) = postgres_url("ledger_follows") else { return };
    ledger_follows_the_timeline(&url).await;
}

/// Migration 45 on a ledger written before it, its subtrees in `ledger_nodes` (keyed
/// `level << 56 | index`): each moves into the row of the leaf that completes it, in level
/// order, and proofs read from there come out as before.
async fn ledger_nodes_move_into_leaves(url: &str) {
    use sqlx::Row as _;
    let store = SqlStore::connect(url).await.unwrap();
    let pool = raw_pool(url).await;
    let contract = Contract::default_contract();
    let org = OrgProfile { slug: OrgSlug::from("acme"), tier: Tier::from("pro"), deployment: Deployment::Shared };
    store.put_org(org.clone()).await.unwrap();
    let changes: Vec<Change> = (0..60).map(|i| opening(&contract, &org, &format!("M{i}"), "20:00:00")).collect();
    assert!(store.commit_all(changes).await.iter().all(Result::is_ok));
    let size = check_ledger(&store, &pool).await;
    assert!(size >= 64, "levels 4 to 6 are stored: {size}");
    let read = "SELECT idx, nodes FROM ledger_leaves WHERE nodes IS NOT NULL ORDER BY idx";
    let nodes = |rows: Vec<sqlx::any::AnyRow>| -> Vec<(i64, Vec<u8>)> {
        rows.iter().map(|r| (r.get::<i64, _>("idx"), r.get::<Vec<u8>, _>("nodes"))).collect()
    };
    let before = nodes(sqlx::query(read).fetch_all(&pool).await.unwrap());
    assert_eq!(before.len() as u64, size / 16, "one row in 16 keeps subtrees");
    assert_eq!(before.iter().find(|(idx, _)| *idx == 63).map(|(_, n)| n.len()), Some(3 * 32), "levels 4, 5, 6");

    // The ledger as migration 44 left it.
    let blob = if url.starts_with("sqlite") { "BLOB" } else { "BYTEA" };
    let create = format!("CREATE TABLE ledger_nodes (id BIGINT PRIMARY KEY, hash {blob} NOT NULL)");
    sqlx::query(&create).execute(&pool).await.unwrap();
    for (idx, hashes) in &before {
        for (level, hash) in (4u64..).zip(hashes.chunks(32)) {
            let key = (level << 56) | (((*idx as u64) + 1) >> level).saturating_sub(1);
            sqlx::query("INSERT INTO ledger_nodes (id, hash) VALUES ($1, $2)")
                .bind(key as i64)
                .bind(hash.to_vec())
                .execute(&pool)
                .await
                .unwrap();
        }
    }
    sqlx::query("ALTER TABLE ledger_leaves DROP COLUMN nodes").execute(&pool).await.unwrap();
    sqlx::query("DELETE FROM schema_migrations WHERE version = 45").execute(&pool).await.unwrap();
    pool.close().await;
    store.close().await;

    let migrated = SqlStore::connect(url).await.unwrap();
    let pool = raw_pool(url).await;
    assert_eq!(nodes(sqlx::query(read).fetch_all(&pool).await.unwrap()), before, "each subtree in its leaf's row");
    assert_eq!(check_ledger(&migrated, &pool).await, size);
    let gone = sqlx::query("SELECT COUNT(*) AS n FROM ledger_nodes").fetch_one(&pool).await;
    assert!(gone.is_err(), "ledger_nodes is dropped");
}

#[tokio::test]
async fn sqlite_ledger_nodes_move_into_leaves() {
    let path = tempdir().join("stringer.db");
    ledger_nodes_move_into_leaves(&format!("sqlite://{}?mode=rwc", path.display())).await;
}

#[tokio::test]
async fn postgres_ledger_nodes_move_into_leaves() {
    let Some(url) = postgres_url("nodes_move") else { return };
    ledger_nodes_move_into_leaves(&url).await;
}

/// Migrations 47 and 48 on tickets written before them: each takes the tier of its state into
/// the column a comparison's read takes it from, through the index that covers the read.
async fn ticket_tiers_come_from_their_states(url: &str) {
    use sqlx::Row as _;
    use stringer_app::history::{EventHistory, HistoryReads};
    let store = SqlStore::connect(url).await.unwrap();
    let contract = Contract::default_contract();
    let pro = OrgProfile { slug: OrgSlug::from("acme"), tier: Tier::from("pro"), deployment: Deployment::Shared };
    let enterprise = OrgProfile { slug: OrgSlug::from("bigco"), tier: Tier::from("enterprise"), ..pro.clone() };
    for org in [&pro, &enterprise] {
        store.put_org(org.clone()).await.unwrap();
        store.commit(opening(&contract, org, &format!("T-{}", org.slug), "20:00:00")).await.unwrap();
    }
    let pool = raw_pool(url).await;
    // The tickets as migration 46 left them (48 covers the column in an index).
    for sql in [
        "DROP INDEX tickets_opened",
        "CREATE INDEX tickets_opened ON tickets(opened_at)",
        "ALTER TABLE tickets DROP COLUMN tier",
        "DELETE FROM schema_migrations WHERE version >= 47",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    pool.close().await;
    store.close().await;

    let migrated = SqlStore::connect(url).await.unwrap();
    let pool = raw_pool(url).await;
    let rows = sqlx::query("SELECT id, tier FROM tickets ORDER BY id").fetch_all(&pool).await.unwrap();
    let tiers: Vec<(String, String)> = rows.iter().map(|r| (r.get("id"), r.get("tier"))).collect();
    assert_eq!(tiers, [("T-acme".into(), "pro".into()), ("T-bigco".into(), "enterprise".into())]);
    let mut read: Vec<EventHistory> = Vec::new();
    let orgs = [enterprise.slug.clone(), pro.slug.clone()];
    migrated
        .event_histories(&orgs, 0, i64::MAX, &mut |batch| {
            read.extend(batch);
            true
        })
        .await
        .unwrap();
    read.sort_by_key(|h| h.order);
    let named: Vec<(&str, &str)> = read.iter().map(|h| (h.id.as_str(), h.tier.as_str())).collect();
    assert_eq!(named, [("T-bigco", "enterprise"), ("T-acme", "pro")], "the orgs as asked, each with its tier");
}

#[tokio::test]
async fn sqlite_ticket_tiers_come_from_their_states() {
    let path = tempdir().join("stringer.db");
    ticket_tiers_come_from_their_states(&format!("sqlite://{}?mode=rwc", path.display())).await;
}

#[tokio::test]
async fn postgres_ticket_tiers_come_from_their_states() {
    let Some(url) = postgres_url("ticket_tiers") else { return };
    ticket_tiers_come_from_their_states(&url).await;
}

/// Committers racing (4 lanes on PostgreSQL): 4 tasks × 250 changes, some refused for their
/// version and some failing their whole batch (a ticket of an org that does not exist, so the
/// batch is retried change by change); the leaves still come out gapless, once each, one per
/// timeline row, under the root of the stored leaves.
async fn concurrent_appends_are_gapless(url: &str) {
    let store = Arc::new(SqlStore::connect(url).await.unwrap());
    let pool = raw_pool(url).await;
    let contract = Arc::new(Contract::default_contract());
    let org = OrgProfile { slug: OrgSlug::from("acme"), tier: Tier::from("pro"), deployment: Deployment::Shared };
    store.put_org(org.clone()).await.unwrap();
    store.commit(opening(&contract, &org, "C0", "20:00:00")).await.unwrap();
    let mut tasks = Vec::new();
    for task in 0..4 {
        let (store, contract, org) = (store.clone(), contract.clone(), org.clone());
        tasks.push(tokio::spawn(async move {
            let ghost = OrgProfile { slug: OrgSlug::from("ghost"), ..org.clone() };
            let mut refused = 0;
            for i in 0..250 {
                let change = match i % 25 {
                    0 => opening(&contract, &ghost, &format!("G{task}-{i}"), "20:01:00"),
                    1 => opening(&contract, &org, "C0", "20:01:00"),
                    _ => opening(&contract, &org, &format!("C{task}-{i}"), "20:01:00"),
                };
                if store.commit(change).await.is_err() {
                    refused += 1;
                }
            }
            refused
        }));
    }
    let mut refused = 0;
    for task in tasks {
        refused += task.await.unwrap();
    }
    assert_eq!(refused, 4 * 20, "the ghost org's tickets and the second openings of C0");
    let size = check_ledger(&store, &pool).await;
    let tickets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets").fetch_one(&pool).await.unwrap();
    assert_eq!(tickets, 1 + 4 * 230);
    assert_eq!(size % tickets as u64, 0, "{size} leaves for {tickets} openings alike");
}

#[tokio::test]
async fn sqlite_concurrent_appends_are_gapless() {
    let path = tempdir().join("stringer.db");
    concurrent_appends_are_gapless(&format!("sqlite://{}?mode=rwc", path.display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_appends_are_gapless() {
    let Some(url) = postgres_url("ledger_concurrent") else { return };
    concurrent_appends_are_gapless(&url).await;
}
