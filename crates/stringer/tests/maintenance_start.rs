//! A scheduled maintenance changes its components when it starts, not when it is announced:
//! announced a week ahead, its component stays operational in Statuspage's documents until
//! the window opens; the status clock then puts it under maintenance, and gives it back as
//! operational when the window closes.

use crate::support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{Db, Server, desk, until};

async fn document(server: &Server, path: &str) -> Value {
    let response = reqwest::Client::new().get(format!("{}{path}", server.base)).send().await.unwrap();
    response.json().await.unwrap()
}

async fn status_of(server: &Server, path: &str, name: &str) -> String {
    let doc = document(server, path).await;
    let found = doc["components"].as_array().unwrap().iter().find(|c| c["name"] == name).cloned();
    found.map(|c| c["status"].as_str().unwrap().to_string()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn components_change_when_the_maintenance_starts() {
    let server = Server::start(&Db::sqlite(), &["--tick-seconds", "1"]);
    let d = desk(&server).await;
    let pages = server.ok(Method::GET, "/api/v1/status-pages", &d.admin, None).await;
    let public =
        pages.as_array().unwrap().iter().find(|p| p["org"].is_null()).unwrap()["id"].as_str().unwrap().to_string();
    let components = format!("/api/v1/status-pages/{public}/components");
    let search = server.ok(Method::POST, &components, &d.engineer, Some(json!({"name": "Search"}))).await;
    let incidents = format!("/api/v1/status-pages/{public}/incidents");
    let (json_docs, now) = (["/status/api/v2/components.json", "/status/api/v2/summary.json"], jiff::Timestamp::now());

    // A week ahead: nothing changes today.
    let week = jiff::SignedDuration::from_hours(24 * 7);
    let later = json!({"name": "Index rebuild", "status": "scheduled", "body": "Next week.", "maintenance": true,
                       "scheduled_for": (now + week).to_string(), "scheduled_until": (now + week * 2).to_string(),
                       "components": [{"id": search["id"], "status": "under_maintenance"}]});
    server.ok(Method::POST, &incidents, &d.engineer, Some(later)).await;
    for path in json_docs {
        assert_eq!(status_of(&server, path, "Search").await, "operational", "{path}: not started");
    }
    let summary = document(&server, "/status/api/v2/summary.json").await;
    assert_eq!(summary["status"]["indicator"], "none", "{summary}");

    // A few seconds ahead: the status clock starts it, then completes it.
    let soon = json!({"name": "Shard move", "status": "scheduled", "body": "Soon.", "maintenance": true,
                      "scheduled_for": (now + jiff::SignedDuration::from_secs(3)).to_string(),
                      "scheduled_until": (now + jiff::SignedDuration::from_secs(6)).to_string(),
                      "components": [{"id": search["id"], "status": "under_maintenance"}]});
    server.ok(Method::POST, &incidents, &d.engineer, Some(soon)).await;
    assert_eq!(status_of(&server, json_docs[0], "Search").await, "operational", "announced, not started");
    until("the maintenance starts", || async {
        (status_of(&server, json_docs[0], "Search").await == "under_maintenance").then_some(())
    })
    .await;
    assert_eq!(status_of(&server, json_docs[1], "Search").await, "under_maintenance");
    until("the maintenance completes", || async {
        (status_of(&server, json_docs[0], "Search").await == "operational").then_some(())
    })
    .await;
}
