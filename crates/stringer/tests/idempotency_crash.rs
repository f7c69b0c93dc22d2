//! Idempotent writes survive a crash: clients make keyed writes of every sort — tickets,
//! comments, users, schedules (a one-time secret), status components, integration keys (a
//! one-time secret) and report comments — while the server is killed (SIGKILL) at a random
//! moment of each burst, round after round; after each restart every key without an answer is
//! retried until it succeeds. Each retry gets the first outcome (the same thing, for a key
//! whose first answer arrived or whose write committed before the kill; for a one-time secret,
//! the 409 that names it) or a fresh execution (for a key whose request died before writing);
//! no key stays stuck "in progress" past its lease, and at the end the database holds exactly
//! one of each per key.
//!
//! `STRINGER_KILL_ROUNDS` and `STRINGER_KILL_KEYS` (keys per round) make it the kill -9 loop
//! of `bench/idempotency_kill.sh` (≥ 20 kills, ≥ 5,000 keyed writes); by default it is small.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use support::{Db, Server, desk, sql};

/// The lease the server is started with: a key whose request died is free again after it.
const LEASE: &str = "2";
/// Tickets the comments go to (few enough that comments meet on one ticket now and then).
const COMMENTED: usize = 16;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A pseudo-random number below `n`, from the clock (the kill's moment needs no better).
fn random_below(n: u64) -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    u64::from(nanos.wrapping_mul(2_654_435_761)) % n
}

/// The sorts of keyed write, by the prefix of their keys: what each writes, and the rows
/// that must hold exactly one per key (`crash KEY` in the named column).
const KINDS: [(&str, &str, &str); 7] = [
    ("t", "tickets", "subject"),
    ("c", "comments", "body"),
    ("u", "users", "name"),
    ("s", "schedules", "name"),
    ("p", "status_components", "name"),
    ("k", "integration_keys", "name"),
    ("r", "report_comments", "body"),
];

/// What the writes need: who makes them, and what they go to.
#[derive(Clone)]
struct Targets {
    /// A customer of bolt: tickets and comments.
    bob: String,
    /// A staff admin: users, schedules, components, integration keys, report comments.
    admin: String,
    /// Tickets the comments go to (few enough that comments meet on one ticket now and then).
    tickets: Vec<String>,
    /// Tickets whose reports are commented on.
    reports: Vec<String>,
    /// The status pages the components go to (a page holds at most 500).
    pages: Vec<String>,
    /// A staff member the schedules rotate.
    member: String,
}

/// One keyed write of the sort its key's prefix names. Answers the status, what the answer
/// names (the ticket, user, schedule… it wrote), and whether it was a replay; a one-time
/// secret's replay (409 naming what was made) counts as a replayed success.
async fn write(client: &reqwest::Client, base: &str, to: &Targets, key: &str) -> Option<(StatusCode, String, bool)> {
    let n: usize = key.rsplit('-').next().unwrap().parse().unwrap();
    let name = format!("crash {key}");
    let (path, token, body) = match &key[..1] {
        "t" => (
            "/api/v1/tickets".to_string(),
            &to.bob,
            json!({"org": "bolt", "severity": "P3", "subject": name, "description": "d"}),
        ),
        "c" => {
            (format!("/api/v1/tickets/{}/comments", to.tickets[n % to.tickets.len()]), &to.bob, json!({"body": name}))
        }
        "u" => (
            "/api/v1/users".into(),
            &to.admin,
            json!({"email": format!("{key}@crash.example"), "name": name, "role": "engineer"}),
        ),
        "s" => (
            "/api/v1/schedules".into(),
            &to.admin,
            json!({"name": name, "layers": [{"rotation": {"name": "r", "time_zone": "UTC", "members": [to.member], "shift_days": 1, "handoff": "09:00", "start": "2026-10-30"}}]}),
        ),
        "p" => (
            format!("/api/v1/status-pages/{}/components", to.pages[n % to.pages.len()]),
            &to.admin,
            json!({"name": name}),
        ),
        "k" => ("/api/v1/orgs/acme/integration-keys".into(), &to.admin, json!({"name": name, "kind": "events_v2"})),
        _ => (
            format!("/api/v1/tickets/{}/report/comments", to.reports[n % to.reports.len()]),
            &to.admin,
            json!({"body": name}),
        ),
    };
    let response = client
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&body)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .ok()?;
    let status = response.status();
    let replayed = response.headers().contains_key("idempotent-replayed");
    let value: Value = response.json().await.ok()?;
    let named = match value[if key.starts_with('r') { "ticket" } else { "id" }].as_str() {
        Some(named) if status.is_success() || status == StatusCode::CONFLICT => named.to_string(),
        _ => value.to_string(),
    };
    let secret_replayed =
        status == StatusCode::CONFLICT && value["detail"].as_str().is_some_and(|d| d.contains("one-time secret"));
    Some((if secret_replayed { StatusCode::CREATED } else { status }, named, replayed || secret_replayed))
}

/// Sets up what the writes go to.
async fn targets(server: &Server) -> Targets {
    let d = desk(server).await;
    let mut tickets = Vec::new();
    let mut reports = Vec::new();
    for _ in 0..COMMENTED {
        tickets.push(support::open_ticket(server, &d.bob, "bolt", "P3").await["id"].as_str().unwrap().to_string());
        let report = support::open_ticket(server, &d.alice, "acme", "P3").await["id"].as_str().unwrap().to_string();
        server.ok(Method::POST, &format!("/api/v1/tickets/{report}/report"), &d.admin, None).await;
        reports.push(report);
    }
    let pages = server.ok(Method::GET, "/api/v1/status-pages", &d.admin, None).await;
    let pages = pages.as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_string()).collect();
    let member = server.ok(Method::GET, "/api/v1/me", &d.engineer, None).await["id"].as_str().unwrap().into();
    Targets { bob: d.bob, admin: d.admin, tickets, reports, pages, member }
}

async fn crash_and_retry(db: Db) {
    let rounds = setting("STRINGER_KILL_ROUNDS", 3);
    let keys_per_round = setting("STRINGER_KILL_KEYS", 120);
    let args = ["--idempotency-lease", LEASE];
    let mut server = Server::start(&db, &args);
    let to = targets(&server).await;
    let client = reqwest::Client::new();
    // What each key's write answered with: the ticket it opened or commented on.
    let mut first: HashMap<String, String> = HashMap::new();
    let (mut fresh, mut in_progress_seen, mut replayed_first, mut replayed_written, mut kills) = (0, 0, 0, 0, 0);
    let mut all_keys = Vec::new();
    for round in 0..rounds {
        let keys: Vec<String> =
            (0..keys_per_round).map(|i| format!("{}-{round}-{i}", KINDS[i % KINDS.len()].0)).collect();
        let mut tasks = Vec::new();
        for key in keys.clone() {
            let (client, base, to) = (client.clone(), server.base.clone(), to.clone());
            tasks.push(tokio::spawn(async move { (write(&client, &base, &to, &key).await, key) }));
        }
        // Kill while the burst is in flight, at a random moment of it.
        tokio::time::sleep(Duration::from_millis(20 + random_below(600))).await;
        server.kill();
        kills += 1;
        for task in tasks {
            let (answer, key) = task.await.unwrap();
            if let Some((status, named, _)) = answer
                && status.is_success()
            {
                first.insert(key, named);
            }
        }
        all_keys.extend(keys);
        server = Server::start(&db, &args);
        // Every key so far: retried until it succeeds, within a deadline.
        let deadline = Instant::now() + Duration::from_secs(120);
        for key in &all_keys {
            loop {
                let answer = write(&client, &server.base, &to, key).await;
                if let Some((status, named, replayed)) = &answer
                    && status.is_success()
                {
                    let id = named.clone();
                    match first.get(key) {
                        Some(original) => {
                            assert!(replayed, "{key}: answered before the crash, so replayed now");
                            assert_eq!(&id, original, "{key}: the retry gets the first outcome");
                            replayed_first += 1;
                        }
                        None => {
                            if *replayed {
                                replayed_written += 1;
                            } else {
                                fresh += 1;
                            }
                            first.insert(key.clone(), id);
                        }
                    }
                    break;
                }
                if let Some((status, named, _)) = &answer {
                    assert!(
                        [StatusCode::CONFLICT, StatusCode::SERVICE_UNAVAILABLE].contains(status),
                        "{key}: {status} {named}"
                    );
                }
                in_progress_seen += 1;
                assert!(Instant::now() < deadline, "{key} is stuck: {answer:?}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    server.kill();
    assert_eq!(first.len(), keys_per_round * rounds, "every key ended with a write");
    let mut per_kind = Vec::new();
    let (mut written, mut duplicates) = (0, 0);
    for (prefix, table, column) in KINDS {
        let count = |what: &str| -> usize {
            sql(&db, &format!("SELECT {what} FROM {table} WHERE {column} LIKE 'crash {prefix}-%'")).parse().unwrap()
        };
        let (rows, keys) = (count("COUNT(*)"), count(&format!("COUNT(DISTINCT {column})")));
        per_kind.push(format!("{table} {keys}/{}", rows - keys));
        written += keys;
        duplicates += rows - keys;
    }
    eprintln!(
        "idempotency kill loop ({}): {} keyed writes, {kills} kills, {duplicates} duplicates; {replayed_first} replays of a first answer, {replayed_written} of a write whose answer was lost, {fresh} ran afresh, {in_progress_seen} retries waited; per kind written/duplicates: {}",
        match db {
            Db::Sqlite(_) => "SQLite",
            Db::Postgres(_) => "PostgreSQL",
        },
        first.len(),
        per_kind.join(", ")
    );
    assert_eq!(duplicates, 0, "no key wrote twice: {per_kind:?}");
    assert_eq!(written, first.len(), "every key wrote exactly once: {per_kind:?}");
}
both_backends!(killed_idempotent_writes_end_with_their_first_outcome_or_a_fresh_one, crash_and_retry);
