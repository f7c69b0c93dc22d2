//! Crash safety of paging, black box: Enterprise P1 tickets with escalations in flight while
//! the server is killed with SIGKILL at random moments (a seeded xorshift) and restarted at
//! once, several times; afterwards every due page has reached its person and none was
//! delivered twice, counted at a local webhook receiver by idempotency key. Then the same
//! with two `serve` instances on one PostgreSQL database, one of them killed and restarted
//! while the other keeps running.
//!
//! The contract's minutes are seconds: on-call at once, TAM after 3 s, VP after 6 s. The
//! receiver answers each webhook after a short delay, as real receivers do, so a kill often
//! lands mid-send. A delivery the killed server had claimed but not recorded is retried
//! with the same key once its lease ends: repeats of one key are redeliveries
//! (allowed, counted and reported); two keys for one page would be two deliveries (a bug).
//! The run is settled when the receiver holds every page and the store has no delivery left
//! unfinished, so nothing more can be sent. `STRINGER_CRASH_SEED=<n>` replays another
//! schedule.

use crate::support;

use reqwest::Method;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};
use stringer_app::ports::Queries;
use stringer_core::ids::TicketId;
use stringer_store::SqlStore;
use support::{Db, Received, Server, open_ticket, paging_desk};

/// P1 tickets opened, one every `OPEN_EVERY`.
const TICKETS: usize = 30;
const OPEN_EVERY: Duration = Duration::from_millis(100);
/// SIGKILLs during the escalations.
const KILLS: usize = 5;
/// (page role, who holds it, seconds after opening) — the seconds contract's enterprise steps.
const STEPS: [(&str, &str, u64); 3] = [("oncall", "nico", 0), ("tam", "tina", 3), ("vp_engineering", "vera", 6)];
/// How long the receiver takes to answer (it records the webhook first).
const RECEIVER_LATENCY: Duration = Duration::from_millis(50);
/// The delivery worker's lease on a claimed delivery (`claim_due` in crates/app/src/delivery.rs):
/// what a killed server had claimed is retried only after it. (A killed timer sweep's claimed
/// timers come back sooner, after `TIMER_LEASE_SECONDS` in crates/app/src/desk.rs.)
const LEASE: Duration = Duration::from_secs(stringer_app::delivery::CLAIM_LEASE_SECONDS as u64);
const DEFAULT_SEED: u64 = 0x9E37_79B9_7F4A_7C15;

/// The (ticket, role) a webhook pages for.
fn page_of(r: &Received) -> (String, String) {
    let body: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["notice"]["kind"], "page", "{}", r.body);
    (body["notice"]["ticket"].as_str().unwrap().to_string(), body["notice"]["role"].as_str().unwrap().to_string())
}

/// The default contract with the TAM step after 3 s and the VP step after 6 s.
fn seconds_contract(label: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/src/contract/default.toml"))
        .unwrap()
        .replace("{ notify = \"tam\", after = \"15 minutes\"", "{ notify = \"tam\", after = \"3 seconds\"")
        .replace(
            "{ notify = \"vp_engineering\", after = \"30 minutes\"",
            "{ notify = \"vp_engineering\", after = \"6 seconds\"",
        );
    assert!(text.contains("after = \"3 seconds\"") && text.contains("after = \"6 seconds\""), "steps not replaced");
    let path = std::env::temp_dir().join(format!("stringer-crash-{label}-{}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

/// xorshift64: a fixed seed gives a fixed kill schedule.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform in [lo, hi).
    fn between(&mut self, lo: Duration, hi: Duration) -> Duration {
        lo + (hi - lo).mul_f64((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// The store the servers use, opened by the test to see which deliveries are unfinished.
async fn inspect(db: &Db) -> SqlStore {
    match db {
        Db::Sqlite(dir) => SqlStore::open_sqlite(&dir.join("stringer.db")).await.unwrap(),
        Db::Postgres(url) => SqlStore::connect(url).await.unwrap(),
    }
}

/// Deliveries of the tickets not yet finished as sent: (ticket, key, status, attempts).
/// A ticket's deliveries as (key, status, attempts).
async fn deliveries_of(store: &SqlStore, ticket: &str) -> Vec<(String, String, i64)> {
    let records = Queries::deliveries(store, &TicketId::from(ticket)).await.unwrap();
    records.into_iter().map(|d| (d.id, d.status, d.attempts)).collect()
}

async fn unfinished(store: &SqlStore, tickets: &[(String, Instant)]) -> Vec<(String, String, String, i64)> {
    let mut out = Vec::new();
    for (id, _) in tickets {
        for (key, status, attempts) in deliveries_of(store, id).await {
            if status != "sent" {
                out.push((id.clone(), key, status, attempts));
            }
        }
    }
    out
}

enum Step {
    Open,
    Kill,
}

/// Opens the tickets through the first instance while killing (and restarting at once) the
/// last one at random moments, waits until everything is delivered, and checks each page
/// arrived under exactly one idempotency key.
async fn kill_during_escalations(db: Db, instances: usize, label: &str) {
    let seed = std::env::var("STRINGER_CRASH_SEED").ok().map_or(DEFAULT_SEED, |s| s.parse().expect("a u64 seed"));
    let mut rng = XorShift(seed.max(1));
    let (hooks, log) = support::receiver_answering_after(RECEIVER_LATENCY).await;
    let contract = seconds_contract(label);
    let args = ["--contract", contract.to_str().unwrap(), "--allow-private-webhooks"];
    let mut servers = vec![Server::start(&db, &args)];
    let (d, zoe, secrets, _) = paging_desk(&servers[0], &hooks).await;
    while servers.len() < instances {
        servers.push(Server::start(&db, &args));
    }
    let victim = instances - 1;

    // The plan: a ticket every OPEN_EVERY; one kill at a random moment in each of KILLS equal
    // slots between just after the first page and just after the last VP step falls due.
    let last_open = OPEN_EVERY * (TICKETS as u32 - 1);
    let (from, to) =
        (Duration::from_millis(300), last_open + Duration::from_secs(STEPS[2].2) + Duration::from_millis(1500));
    let slot = (to - from) / KILLS as u32;
    let mut plan: Vec<(Duration, Step)> = (0..TICKETS).map(|i| (OPEN_EVERY * i as u32, Step::Open)).collect();
    for k in 0..KILLS as u32 {
        plan.push((rng.between(from + slot * k, from + slot * (k + 1)), Step::Kill));
    }
    plan.sort_by_key(|(at, _)| *at);

    let t0 = Instant::now();
    let mut opened: Vec<(String, Instant)> = Vec::new();
    let mut kills: Vec<(f64, f64)> = Vec::new();
    for (at, step) in plan {
        tokio::time::sleep_until((t0 + at).into()).await;
        match step {
            Step::Open => {
                let started = Instant::now();
                let ticket = open_ticket(&servers[0], &zoe, "zen", "P1").await;
                opened.push((ticket["id"].as_str().unwrap().to_string(), started));
            }
            Step::Kill => {
                let killed = Instant::now();
                servers[victim].kill();
                servers[victim] = Server::start(&db, &args);
                kills.push((killed.duration_since(t0).as_secs_f64(), killed.elapsed().as_secs_f64()));
            }
        }
    }
    let last_kill = t0 + Duration::from_secs_f64(kills.last().unwrap().0);
    let store = inspect(&db).await;

    // Settled: every page at the receiver and no delivery left unfinished in the store (so no
    // redelivery can still come). A delivery claimed by a killed server waits for its lease.
    let deadline = last_kill + LEASE + Duration::from_secs(15);
    let wanted: BTreeSet<(String, String)> =
        opened.iter().flat_map(|(id, _)| STEPS.iter().map(move |(role, ..)| (id.clone(), role.to_string()))).collect();
    let settled = loop {
        let got: BTreeSet<(String, String)> = log.lock().unwrap().iter().map(page_of).collect();
        let missing: Vec<_> = wanted.difference(&got).collect();
        let left = unfinished(&store, &opened).await;
        assert!(left.iter().all(|(.., status, _)| status == "pending"), "deliveries ended other than sent: {left:?}");
        if missing.is_empty() && left.is_empty() {
            break Instant::now();
        }
        assert!(
            Instant::now() < deadline,
            "not settled {:.1} s after the last kill: {} pages missing at the receiver {missing:?}; unfinished deliveries {left:?}",
            last_kill.elapsed().as_secs_f64(),
            missing.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };

    // The store agrees: three page notices per ticket, one delivery each, all sent.
    for (id, _) in &opened {
        let timeline = servers[0].ok(Method::GET, &format!("/api/v1/tickets/{id}/timeline"), &d.engineer, None).await;
        let roles: Vec<&str> = timeline["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "page")
            .map(|e| e["body"]["role"].as_str().unwrap())
            .collect();
        assert_eq!(roles, ["oncall", "tam", "vp_engineering"], "{id}: each escalation step exactly once");
        let deliveries = deliveries_of(&store, id).await;
        assert_eq!(deliveries.len(), 3, "{id}: one delivery per page: {deliveries:?}");
    }

    // At the receiver: each page to its person, signed, under exactly one key.
    let got = log.lock().unwrap().clone();
    let opened_at: HashMap<&str, Instant> = opened.iter().map(|(id, at)| (id.as_str(), *at)).collect();
    let mut keys: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut first: BTreeMap<(String, String), Instant> = BTreeMap::new();
    let mut sends: BTreeMap<String, usize> = BTreeMap::new();
    for r in &got {
        let (ticket, role) = page_of(r);
        let (_, who, _) = STEPS.iter().find(|(step, ..)| *step == role).unwrap_or_else(|| panic!("page for {role}"));
        assert_eq!(&r.who, who, "{ticket}: the {role} page reached {}", r.who);
        assert!(opened_at.contains_key(ticket.as_str()), "page for an unknown ticket {ticket}");
        assert!(
            stringer_integrations::webhook::verify(&secrets[&r.who], r.timestamp, &r.body, &r.signature),
            "bad signature"
        );
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["idempotency_key"], r.key, "the body and the header carry the same key");
        *sends.entry(r.key.clone()).or_default() += 1;
        first.entry((ticket.clone(), role.clone())).or_insert(r.at);
        keys.entry((ticket, role)).or_default().insert(r.key.clone());
    }
    let twice: Vec<_> = keys.iter().filter(|(_, k)| k.len() != 1).collect();
    assert!(twice.is_empty(), "pages delivered under more than one key (distinct deliveries): {twice:?}");
    let distinct: BTreeSet<&String> = keys.values().flatten().collect();
    assert_eq!(distinct.len(), 3 * TICKETS, "one key per page");
    assert_eq!(keys.len(), 3 * TICKETS);

    // Never before due (instants are whole seconds, so up to 1 s before our clock's due).
    let mut lateness = Vec::new();
    let mut late = Vec::new();
    for ((ticket, role), at) in &first {
        let after = STEPS.iter().find(|(step, ..)| step == role).unwrap().2;
        let due = opened_at[ticket.as_str()] + Duration::from_secs(after);
        let early = due.saturating_duration_since(*at);
        assert!(early < Duration::from_secs(1), "{ticket}: the {role} page came {early:?} before due");
        let secs = at.saturating_duration_since(due).as_secs_f64();
        lateness.push(secs);
        if secs > 5.0 {
            let key = keys[&(ticket.clone(), role.clone())].first().unwrap().clone();
            let attempts = deliveries_of(&store, ticket).await.into_iter().find(|(k, ..)| *k == key).unwrap().2;
            late.push(format!("{role} +{secs:.1} s (sent {}×, attempts recorded {attempts}) {key}", sends[&key]));
        }
    }
    lateness.sort_by(f64::total_cmp);
    let quantile = |q: f64| lateness[((lateness.len() - 1) as f64 * q).round() as usize];
    let redeliveries = got.len() - distinct.len();
    let redelivered = sends.values().filter(|n| **n > 1).count();
    let kills_at: Vec<String> = kills.iter().map(|(at, _)| format!("{at:.2}")).collect();
    let restarts: Vec<String> = kills.iter().map(|(_, took)| format!("{took:.2}")).collect();
    eprintln!(
        "crash[{label}]: seed {seed}, {instances} instance(s), {TICKETS} tickets, {} kills at {} s (kill+restart took {} s)\n\
         crash[{label}]: {} webhooks, {} distinct keys (one per page), {redeliveries} redeliveries of {redelivered} key(s)\n\
         crash[{label}]: settled {:.1} s after the first open, {:.1} s after the last kill; page lateness median {:.2} s, \
         p90 {:.2} s, max {:.2} s; {} page(s) later than 5 s:\n  {}",
        kills.len(),
        kills_at.join("/"),
        restarts.join("/"),
        got.len(),
        distinct.len(),
        settled.duration_since(t0).as_secs_f64(),
        settled.duration_since(last_kill).as_secs_f64(),
        quantile(0.5),
        quantile(0.9),
        quantile(1.0),
        late.len(),
        if late.is_empty() { "none".to_string() } else { late.join("\n  ") },
    );
    store.close().await;
}

async fn one_server_killed(db: Db) {
    let label = if matches!(db, Db::Sqlite(_)) { "sqlite" } else { "postgres" };
    kill_during_escalations(db, 1, label).await;
}
both_backends!(server_killed_and_restarted_pages_each_step_once, one_server_killed);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_one_killed_pages_each_step_once() {
    let Some(db) = Db::postgres() else { return };
    kill_during_escalations(db, 2, "two-instances").await;
}
