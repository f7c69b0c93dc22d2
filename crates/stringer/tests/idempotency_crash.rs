//! Idempotent writes survive a crash: clients create tickets with `Idempotency-Key`s while
//! the server is killed (SIGKILL) mid-burst, several times; after each restart every key is
//! retried until it succeeds. Each retry gets the first outcome (the same ticket, for a key
//! whose first answer arrived) or a fresh execution (for a key whose request died with the
//! server); no key stays stuck "in progress" past its lease.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use support::{Db, Server, desk};

const KEYS_PER_ROUND: usize = 120;
const ROUNDS: usize = 3;
/// The lease the server is started with: a key whose request died is free again after it.
const LEASE: &str = "2";

async fn create(client: &reqwest::Client, base: &str, token: &str, key: &str) -> Option<(StatusCode, Value, bool)> {
    let body = json!({"org": "bolt", "severity": "P3", "subject": format!("crash {key}"), "description": "d"});
    let response = client
        .post(format!("{base}/api/v1/tickets"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .ok()?;
    let status = response.status();
    let replayed = response.headers().contains_key("idempotent-replayed");
    let value = response.json().await.ok()?;
    Some((status, value, replayed))
}

async fn crash_and_retry(db: Db) {
    let args = ["--idempotency-lease", LEASE];
    let mut server = Server::start(&db, &args);
    let d = desk(&server).await;
    let client = reqwest::Client::new();
    let mut first: HashMap<String, String> = HashMap::new();
    let mut keys = Vec::new();
    let (mut fresh, mut in_progress_seen, mut replayed_first) = (0, 0, 0);
    for round in 0..ROUNDS {
        let round_keys: Vec<String> = (0..KEYS_PER_ROUND).map(|i| format!("crash-{round}-{i}")).collect();
        let mut tasks = Vec::new();
        for key in round_keys.clone() {
            let (client, base, token) = (client.clone(), server.base.clone(), d.bob.clone());
            tasks.push(tokio::spawn(async move { (create(&client, &base, &token, &key).await, key) }));
        }
        // Kill while the burst is in flight: after the first answers arrive.
        tokio::time::sleep(Duration::from_millis([60, 150, 300][round % 3])).await;
        server.kill();
        for task in tasks {
            let (answer, key) = task.await.unwrap();
            if let Some((status, value, _)) = answer
                && status == StatusCode::CREATED
            {
                first.insert(key, value["id"].as_str().unwrap().to_string());
            }
        }
        keys.extend(round_keys);
        server = Server::start(&db, &args);
        // Every key of every round so far: retried until it succeeds, within a deadline.
        let deadline = Instant::now() + Duration::from_secs(60);
        for key in &keys {
            loop {
                let (status, value, replayed) =
                    create(&client, &server.base, &d.bob, key).await.expect("the restarted server answers");
                if status == StatusCode::CREATED {
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
                assert_eq!(status, StatusCode::CONFLICT, "{key}: {value}");
                in_progress_seen += 1;
                assert!(Instant::now() < deadline, "{key} is stuck in progress: {value}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    assert_eq!(first.len(), KEYS_PER_ROUND * ROUNDS, "every key ended with a ticket");
    eprintln!(
        "idempotency crash: {} keys over {ROUNDS} kills; {replayed_first} replays of a first answer, {fresh} ran afresh, {in_progress_seen} retries waited for a lease",
        first.len()
    );
}
both_backends!(killed_idempotent_writes_end_with_their_first_outcome_or_a_fresh_one, crash_and_retry);
