//! End to end: an Enterprise P1 opened through the API pages the org's on-call engineer at
//! once, the TAM after 15 s and the VP of Engineering after 30 s (a contract whose minutes
//! are seconds), each at a local webhook receiver, signed and keyed for idempotency; an
//! acknowledgement at 10 s stops the rest.

use crate::support;

use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::{Db, Server, open_ticket, paging_desk, receiver};

fn seconds_contract() -> std::path::PathBuf {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/src/contract/default.toml"))
        .unwrap()
        .replace("{ notify = \"tam\", after = \"15 minutes\"", "{ notify = \"tam\", after = \"15 seconds\"")
        .replace(
            "{ notify = \"vp_engineering\", after = \"30 minutes\"",
            "{ notify = \"vp_engineering\", after = \"30 seconds\"",
        );
    let path = std::env::temp_dir().join(format!("stringer-seconds-{}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

async fn escalation_reaches_people(db: Db) {
    let (hooks, log) = receiver().await;
    let contract = seconds_contract();
    let server = Server::start(&db, &["--contract", contract.to_str().unwrap(), "--allow-private-webhooks"]);
    let (d, zoe, secrets, ids) = paging_desk(&server, &hooks).await;

    let opened = Instant::now();
    let unacked = open_ticket(&server, &zoe, "zen", "P1").await["id"].as_str().unwrap().to_string();
    let acked = open_ticket(&server, &zoe, "zen", "P1").await["id"].as_str().unwrap().to_string();

    let wait_for = |count: usize, deadline: Duration| {
        let log = log.clone();
        async move {
            let until = opened + deadline;
            loop {
                if log.lock().unwrap().len() >= count {
                    return;
                }
                assert!(
                    Instant::now() < until,
                    "only {:?} webhooks by {deadline:?}",
                    log.lock().unwrap().iter().map(|r| r.who.clone()).collect::<Vec<_>>()
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    // On-call paged at once for both tickets.
    wait_for(2, Duration::from_secs(8)).await;
    // Acknowledge the second at ~10 s.
    tokio::time::sleep((opened + Duration::from_secs(10)).saturating_duration_since(Instant::now())).await;
    server.ok(Method::POST, &format!("/api/v1/tickets/{acked}/acknowledge"), &d.engineer, None).await;
    // TAM at 15 s and VP at 30 s, for the unacknowledged ticket only.
    wait_for(4, Duration::from_secs(45)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = log.lock().unwrap().clone();
    let summary: Vec<(String, String)> = got
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_str(&r.body).unwrap();
            assert_eq!(body["notice"]["kind"], "page");
            (r.who.clone(), body["notice"]["ticket"].as_str().unwrap().to_string())
        })
        .collect();
    let mut firsts = summary[..2].to_vec();
    firsts.sort();
    let mut expected_firsts = vec![("nico".to_string(), unacked.clone()), ("nico".to_string(), acked.clone())];
    expected_firsts.sort();
    assert_eq!(firsts, expected_firsts);
    assert_eq!(
        summary[2..],
        [("tina".to_string(), unacked.clone()), ("vera".to_string(), unacked.clone())],
        "{summary:?}"
    );
    let after = |i: usize| got[i].at.duration_since(opened).as_secs_f64();
    assert!(
        after(2) >= 14.0 && after(3) >= 29.0,
        "TAM at {:.2} s, VP at {:.2} s: not before they are due",
        after(2),
        after(3)
    );
    eprintln!(
        "webhooks received after opening: on-call {:.2} s / {:.2} s, TAM {:.2} s, VP {:.2} s",
        after(0),
        after(1),
        after(2),
        after(3)
    );
    // Signed with the method's secret, keyed for idempotency, keys unique.
    for r in &got {
        assert!(
            stringer_integrations::webhook::verify(&secrets[&r.who], r.timestamp, &r.body, &r.signature),
            "bad signature from {}",
            r.who
        );
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["idempotency_key"], r.key);
    }
    let mut keys: Vec<&str> = got.iter().map(|r| r.key.as_str()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), got.len(), "no delivery twice");

    // The one-click link in the TAM's page acknowledges the ticket as the TAM: GET only
    // shows a button (prefetchers acknowledge nothing), POST acknowledges; a forged link
    // answers 404.
    let tam_page: Value = serde_json::from_str(&got[2].body).unwrap();
    let link = tam_page["ack_url"].as_str().unwrap().to_string();
    assert!(link.starts_with(&server.base), "{link}");
    let client = reqwest::Client::new();
    let shown = client.get(&link).send().await.unwrap();
    assert_eq!(shown.status(), 200);
    assert!(shown.text().await.unwrap().contains("<form method=\"post\">"));
    let before = server.ok(Method::GET, &format!("/api/v1/tickets/{unacked}"), &d.admin, None).await;
    assert!(before["acknowledged_by"].is_null());
    assert_eq!(client.post(&link).send().await.unwrap().status(), 200);
    let after_ack = server.ok(Method::GET, &format!("/api/v1/tickets/{unacked}"), &d.admin, None).await;
    assert_eq!(after_ack["acknowledged_by"], json!(ids["tina"]));
    let forged = format!("{}x", &link[..link.len() - 1]);
    assert_eq!(client.post(&forged).send().await.unwrap().status(), 404);
}
both_backends!(enterprise_p1_pages_oncall_then_tam_then_vp, escalation_reaches_people);
