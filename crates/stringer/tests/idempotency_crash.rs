//! Idempotent writes survive a crash: clients create tickets and comment on them with
//! `Idempotency-Key`s while the server is killed (SIGKILL) at a random moment of each burst,
//! round after round; after each restart every key without an answer is retried until it
//! succeeds. Each retry gets the first outcome (the same ticket, for a key whose first answer
//! arrived, or whose write committed before the kill) or a fresh execution (for a key whose
//! request died before writing); no key stays stuck "in progress" past its lease, and at the
//! end the database holds exactly one ticket or comment per key.
//!
//! `STRINGER_KILL_ROUNDS` and `STRINGER_KILL_KEYS` (keys per round) make it the kill -9 loop
//! of `bench/idempotency_kill.sh` (≥ 20 kills, ≥ 5,000 keyed writes); by default it is small.

mod support;

use reqwest::StatusCode;
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

/// One keyed write: a ticket (`t-…` keys) or a comment on one of `tickets` (`c-…` keys).
async fn write(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    tickets: &[String],
    key: &str,
) -> Option<(StatusCode, Value, bool)> {
    let (path, body) = if key.starts_with("t-") {
        (
            "/api/v1/tickets".to_string(),
            json!({"org": "bolt", "severity": "P3", "subject": format!("crash {key}"), "description": "d"}),
        )
    } else {
        let n: usize = key.rsplit('-').next().unwrap().parse().unwrap();
        (format!("/api/v1/tickets/{}/comments", tickets[n % tickets.len()]), json!({"body": format!("crash {key}")}))
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
    let value = response.json().await.ok()?;
    Some((status, value, replayed))
}

async fn crash_and_retry(db: Db) {
    let rounds = setting("STRINGER_KILL_ROUNDS", 3);
    let keys_per_round = setting("STRINGER_KILL_KEYS", 120);
    let args = ["--idempotency-lease", LEASE];
    let mut server = Server::start(&db, &args);
    let d = desk(&server).await;
    let client = reqwest::Client::new();
    let mut tickets = Vec::new();
    for _ in 0..COMMENTED {
        tickets.push(support::open_ticket(&server, &d.bob, "bolt", "P3").await["id"].as_str().unwrap().to_string());
    }
    // What each key's write answered with: the ticket it opened or commented on.
    let mut first: HashMap<String, String> = HashMap::new();
    let (mut fresh, mut in_progress_seen, mut replayed_first, mut kills) = (0, 0, 0, 0);
    let mut all_keys = Vec::new();
    for round in 0..rounds {
        let keys: Vec<String> =
            (0..keys_per_round).map(|i| format!("{}-{round}-{i}", if i % 2 == 0 { "t" } else { "c" })).collect();
        let mut tasks = Vec::new();
        for key in keys.clone() {
            let (client, base, token, tickets) = (client.clone(), server.base.clone(), d.bob.clone(), tickets.clone());
            tasks.push(tokio::spawn(async move { (write(&client, &base, &token, &tickets, &key).await, key) }));
        }
        // Kill while the burst is in flight, at a random moment of it.
        tokio::time::sleep(Duration::from_millis(20 + random_below(600))).await;
        server.kill();
        kills += 1;
        for task in tasks {
            let (answer, key) = task.await.unwrap();
            if let Some((status, value, _)) = answer
                && status.is_success()
            {
                first.insert(key, value["id"].as_str().unwrap().to_string());
            }
        }
        all_keys.extend(keys);
        server = Server::start(&db, &args);
        // Every key so far: retried until it succeeds, within a deadline.
        let deadline = Instant::now() + Duration::from_secs(120);
        for key in &all_keys {
            loop {
                let answer = write(&client, &server.base, &d.bob, &tickets, key).await;
                if let Some((status, value, replayed)) = &answer
                    && status.is_success()
                {
                    let id = value["id"].as_str().unwrap().to_string();
                    match first.get(key) {
                        Some(original) => {
                            assert!(replayed, "{key}: answered before the crash, so replayed now");
                            assert_eq!(&id, original, "{key}: the retry gets the first outcome");
                            replayed_first += 1;
                        }
                        None => {
                            if !replayed {
                                fresh += 1;
                            }
                            first.insert(key.clone(), id);
                        }
                    }
                    break;
                }
                if let Some((status, value, _)) = &answer {
                    assert!(
                        [StatusCode::CONFLICT, StatusCode::SERVICE_UNAVAILABLE].contains(status),
                        "{key}: {status} {value}"
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
    let duplicates = sql(
        &db,
        "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM tickets WHERE subject LIKE 'crash %' GROUP BY subject UNION ALL SELECT COUNT(*) AS n FROM comments WHERE body LIKE 'crash %' GROUP BY body) AS per_key",
    );
    let written = sql(
        &db,
        "SELECT (SELECT COUNT(DISTINCT subject) FROM tickets WHERE subject LIKE 'crash %') + (SELECT COUNT(DISTINCT body) FROM comments WHERE body LIKE 'crash %')",
    );
    eprintln!(
        "idempotency kill loop ({}): {} keyed writes, {kills} kills, {duplicates} duplicates; {replayed_first} replays of a first answer, {fresh} ran afresh, {in_progress_seen} retries waited",
        match db {
            Db::Sqlite(_) => "SQLite",
            Db::Postgres(_) => "PostgreSQL",
        },
        first.len()
    );
    assert_eq!(duplicates, "0", "no key wrote twice");
    assert_eq!(written, first.len().to_string(), "every key wrote exactly once");
}
both_backends!(killed_idempotent_writes_end_with_their_first_outcome_or_a_fresh_one, crash_and_retry);
