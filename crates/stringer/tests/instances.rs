//! Several `serve` instances on one PostgreSQL database: every escalation step runs once,
//! whichever instance's timer sweep claims it (with a contract whose minutes are seconds),
//! and rate limits are one budget for all instances.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::{Duration, Instant};
use support::{Db, Server, desk, open_ticket};

fn fast_contract() -> std::path::PathBuf {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/src/contract/default.toml"))
        .unwrap()
        .replace("{ notify = \"tam\", after = \"15 minutes\"", "{ notify = \"tam\", after = \"2 seconds\"")
        .replace(
            "{ notify = \"vp_engineering\", after = \"30 minutes\"",
            "{ notify = \"vp_engineering\", after = \"4 seconds\"",
        );
    let path = std::env::temp_dir().join(format!("stringer-fast-{}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_run_each_escalation_step_once() {
    let Some(db) = Db::postgres() else { return };
    let contract = fast_contract();
    let contract = contract.to_str().unwrap();
    let one = Server::start(&db, &["--contract", contract]);
    let d = desk(&one).await;
    let two = Server::start(&db, &["--contract", contract]);
    let mut ids = Vec::new();
    for i in 0..10 {
        let server = if i % 2 == 0 { &one } else { &two };
        ids.push(open_ticket(server, &d.alice, "acme", "P1").await["id"].as_str().unwrap().to_string());
    }
    let pages = |timeline: serde_json::Value| -> Vec<String> {
        timeline["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "page")
            .map(|e| e["body"]["role"].as_str().unwrap().to_string())
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    for id in &ids {
        loop {
            let roles = pages(one.ok(Method::GET, &format!("/api/v1/tickets/{id}/timeline"), &d.engineer, None).await);
            if roles.len() >= 3 {
                break;
            }
            assert!(Instant::now() < deadline, "{id}: escalation did not complete: {roles:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    // Let both instances sweep a few more times: a step run twice would show up now.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    for id in &ids {
        let roles = pages(two.ok(Method::GET, &format!("/api/v1/tickets/{id}/timeline"), &d.engineer, None).await);
        assert_eq!(roles, ["oncall", "tam", "vp_engineering"], "{id}: each step exactly once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_login_budget() {
    let Some(db) = Db::postgres() else { return };
    let one = Server::start(&db, &[]);
    desk(&one).await;
    let two = Server::start(&db, &[]);
    let mut statuses = Vec::new();
    for i in 0..11 {
        let server = if i % 2 == 0 { &two } else { &one };
        let body = json!({"email": "nobody@x.example", "password": "wrong-password!"});
        statuses.push(server.call(Method::POST, "/api/v1/login", None, Some(body)).await.0);
    }
    // The desk's five logins (on instance one) used half of this client address's budget of
    // ten a minute; the alternating attempts use up the rest, whichever instance gets them.
    assert_eq!(statuses[..5], [StatusCode::UNAUTHORIZED; 5], "{statuses:?}");
    assert_eq!(statuses[5..], [StatusCode::TOO_MANY_REQUESTS; 6], "{statuses:?}");
}
