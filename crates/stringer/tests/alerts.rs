//! Alerts from monitoring, black-box against the real server on SQLite and PostgreSQL:
//! integration keys (an admin's, shown once, revocable), PagerDuty's Events API v2 at
//! `/v2/enqueue` (trigger, repeat, acknowledge, resolve, trigger again; PagerDuty's answers
//! for valid and invalid events; 429 over a key's budget), change events beside tickets,
//! and Alertmanager's webhook (a firing group opens one ticket at the key's severity,
//! resolved notes it).

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Db, Server, desk, until};

both_backends!(events_api_v2, events_api_v2_on);
both_backends!(alertmanager_groups, alertmanager_groups_on);

async fn enqueue(server: &Server, event: Value) -> (StatusCode, Value) {
    server.raw(Method::POST, "/v2/enqueue", "", event.to_string().into_bytes(), "application/json").await
}

fn trigger(key: &str, dedup: Option<&str>, summary: &str, severity: &str) -> Value {
    let mut e = json!({"routing_key": key, "event_action": "trigger",
        "payload": {"summary": summary, "source": "db1.prod", "severity": severity,
                    "custom_details": {"free_bytes": 0}}});
    if let Some(d) = dedup {
        e["dedup_key"] = json!(d);
    }
    e
}

async fn tickets_about(server: &Server, token: &str, subject: &str) -> Vec<Value> {
    let (status, body) = server.call(Method::GET, "/api/v1/tickets?limit=200", Some(token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().unwrap().iter().filter(|t| t["subject"] == subject).cloned().collect()
}

async fn ticket(server: &Server, token: &str, key: &str) -> Value {
    server.ok(Method::GET, &format!("/api/v1/tickets/{key}"), token, None).await
}

async fn new_key(server: &Server, admin: &str, org: &str, body: Value) -> Value {
    let (status, key) =
        server.call(Method::POST, &format!("/api/v1/orgs/{org}/integration-keys"), Some(admin), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    key
}

async fn events_api_v2_on(db: Db) {
    let server = Server::start(&db, &["--public-url", "https://desk.example"]);
    let d = desk(&server).await;

    // Keys are an admin's; the secret is shown once, in the routing key's shape.
    let created = new_key(&server, &d.admin, "acme", json!({"name": "Prometheus prod", "kind": "events_v2"})).await;
    let secret = created["key"].as_str().unwrap().to_string();
    assert!(secret.len() == 32 && secret.chars().all(|c| c.is_ascii_hexdigit()), "{secret}");
    assert_eq!(created["url"], "https://desk.example/v2/enqueue");
    assert_eq!(created["severity"], json!({"critical": "P1", "error": "P2", "warning": "P3", "info": "P4"}));
    let listed = server.ok(Method::GET, "/api/v1/orgs/acme/integration-keys", &d.admin, None).await;
    assert_eq!(listed["items"][0]["id"], created["id"]);
    assert!(listed["items"][0].get("key").is_none(), "the secret is never shown again: {listed}");
    for (token, status) in [(&d.engineer, StatusCode::FORBIDDEN), (&d.alice, StatusCode::FORBIDDEN)] {
        let (got, _) = server
            .call(
                Method::POST,
                "/api/v1/orgs/acme/integration-keys",
                Some(token),
                Some(json!({"name": "x", "kind": "events_v2"})),
            )
            .await;
        assert_eq!(got, status);
    }
    let (status, _) = server
        .call(Method::POST, "/api/v1/orgs/acme/integration-keys", Some(&d.admin), Some(json!({"name": "x", "kind": "events_v2", "severity": {"critical": "P0", "error": "P2", "warning": "P3", "info": "P4"}})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a severity the contract lacks");

    // A trigger opens a P1 ticket for the key's org, answered as PagerDuty answers.
    let (status, body) = enqueue(&server, trigger(&secret, Some("disk/db1"), "Disk full on db1", "critical")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body, json!({"status": "success", "message": "Event processed", "dedup_key": "disk/db1"}));
    let opened =
        until("the alert's ticket", || async { tickets_about(&server, &d.admin, "Disk full on db1").await.pop() })
            .await;
    assert_eq!(
        (opened["org"].as_str(), opened["severity"].as_str(), opened["channel"].as_str()),
        (Some("acme"), Some("P1"), Some("alert"))
    );
    assert!(opened["description"].as_str().unwrap().contains("free_bytes"), "{opened}");
    let key = opened["key"].as_str().unwrap().to_string();
    assert!(!tickets_about(&server, &d.alice, "Disk full on db1").await.is_empty(), "the customer sees it");

    // A change event (a deploy) is shown to staff beside the org's tickets of that time.
    let change = json!({"routing_key": secret, "payload": {"summary": "Deployed api v42", "source": "ci",
        "custom_details": {"build": "220"}}, "links": [{"href": "https://ci.example/220", "text": "Build 220"}]});
    let (status, body) =
        server.raw(Method::POST, "/v2/change/enqueue", "", change.to_string().into_bytes(), "application/json").await;
    assert_eq!(
        (status, body),
        (StatusCode::ACCEPTED, json!({"status": "success", "message": "Change event processed"}))
    );
    let changes = server.ok(Method::GET, &format!("/api/v1/tickets/{key}/changes"), &d.admin, None).await;
    assert_eq!(changes["items"][0]["summary"], "Deployed api v42", "{changes}");
    assert!(changes["items"][0]["details"].as_str().unwrap().contains("ci.example/220"));
    let (status, _) = server.call(Method::GET, &format!("/api/v1/tickets/{key}/changes"), Some(&d.alice), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "for staff");

    // Repeats open nothing; acknowledge and resolve act on that ticket, in order.
    for _ in 0..3 {
        assert_eq!(
            enqueue(&server, trigger(&secret, Some("disk/db1"), "Disk full on db1", "critical")).await.0,
            StatusCode::ACCEPTED
        );
    }
    let ack = json!({"routing_key": secret, "event_action": "acknowledge", "dedup_key": "disk/db1"});
    assert_eq!(enqueue(&server, ack).await.0, StatusCode::ACCEPTED);
    let acked = until("acknowledged", || async {
        let t = ticket(&server, &d.admin, &key).await;
        t["acknowledged_at"].is_string().then_some(t)
    })
    .await;
    assert!(acked["acknowledged_by"].as_str().unwrap().contains("Prometheus prod"), "{acked}");
    assert_eq!(tickets_about(&server, &d.admin, "Disk full on db1").await.len(), 1, "repeats opened nothing");
    let resolve = json!({"routing_key": secret, "event_action": "resolve", "dedup_key": "disk/db1"});
    assert_eq!(enqueue(&server, resolve.clone()).await.0, StatusCode::ACCEPTED);
    until("resolved", || async { (ticket(&server, &d.admin, &key).await["status"] == "resolved").then_some(()) }).await;

    // After resolution the next trigger is a new alert: a new ticket.
    assert_eq!(
        enqueue(&server, trigger(&secret, Some("disk/db1"), "Disk full on db1", "critical")).await.0,
        StatusCode::ACCEPTED
    );
    until("a second ticket", || async {
        (tickets_about(&server, &d.admin, "Disk full on db1").await.len() == 2).then_some(())
    })
    .await;

    // A trigger without a deduplication key gets one; acknowledging an unknown one is
    // accepted and changes nothing (as PagerDuty does).
    let (status, body) = enqueue(&server, trigger(&secret, None, "CPU hot", "warning")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let made = body["dedup_key"].as_str().unwrap();
    assert!(made.len() == 32, "{body}");
    let t = until("the warning's ticket", || async { tickets_about(&server, &d.admin, "CPU hot").await.pop() }).await;
    assert_eq!(t["severity"], "P3");

    // Invalid events: 400 with PagerDuty's body, listing what is wrong; nothing stored.
    let cases = [
        (json!({"routing_key": secret, "event_action": "trigger"}), "'payload' is missing or blank"),
        (json!({"routing_key": secret, "event_action": "resolve"}), "'dedup_key' is missing or blank"),
        (
            json!({"routing_key": secret, "event_action": "page"}),
            "'event_action' must be one of trigger, acknowledge or resolve",
        ),
        (trigger("0123456789abcdef0123456789abcdef", Some("x"), "s", "info"), "Invalid routing key"),
        (
            trigger(&secret, Some("x"), "s", "sev1"),
            "'payload.severity' must be one of critical, error, warning or info",
        ),
    ];
    for (event, error) in cases {
        let (status, body) = enqueue(&server, event.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{event}");
        assert_eq!(
            (body["status"].as_str(), body["message"].as_str()),
            (Some("invalid event"), Some("Event object is invalid"))
        );
        assert!(body["errors"].as_array().unwrap().iter().any(|e| e == error), "{event}: {body}");
    }
    let (status, _) = server.raw(Method::POST, "/v2/enqueue", "", b"not json".to_vec(), "application/json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A revoked key is refused from then on; only an admin revokes.
    let id = created["id"].as_str().unwrap();
    let (status, _) =
        server.call(Method::DELETE, &format!("/api/v1/integration-keys/{id}"), Some(&d.engineer), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) =
        server.call(Method::DELETE, &format!("/api/v1/integration-keys/{id}"), Some(&d.admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = enqueue(&server, trigger(&secret, Some("disk/db9"), "after revocation", "critical")).await;
    assert_eq!((status, body["errors"][0].as_str()), (StatusCode::BAD_REQUEST, Some("Invalid routing key")));
}

async fn alertmanager_groups_on(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let created = new_key(
        &server,
        &d.admin,
        "bolt",
        json!({"name": "Alertmanager", "kind": "alertmanager", "on_resolve": "note",
               "severity": {"critical": "P2", "error": "P2", "warning": "P3", "info": "P4"}}),
    )
    .await;
    let secret = created["key"].as_str().unwrap().to_string();
    let group = |status: &str| {
        json!({"version": "4", "groupKey": "{}:{alertname=\"ApiDown\"}", "status": status, "receiver": "stringer",
          "groupLabels": {"alertname": "ApiDown"}, "commonLabels": {"alertname": "ApiDown", "severity": "critical"},
          "commonAnnotations": {"summary": "API down in eu-west"}, "externalURL": "http://am:9093", "truncatedAlerts": 0,
          "alerts": [{"status": status, "labels": {"alertname": "ApiDown", "severity": "critical", "instance": "api-1"},
                      "annotations": {}, "startsAt": "2026-12-02T03:00:00Z", "generatorURL": "http://prom/graph"}]})
        .to_string()
        .into_bytes()
    };
    let (status, _) =
        server.raw(Method::POST, "/api/v1/alerts/alertmanager", &secret, group("firing"), "application/json").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    // The key in the path works too; a firing group again is the same alert.
    let (status, _) = server
        .raw(Method::POST, &format!("/api/v1/alerts/alertmanager/{secret}"), "", group("firing"), "application/json")
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let t = until("the group's ticket", || async { tickets_about(&server, &d.bob, "API down in eu-west").await.pop() })
        .await;
    assert_eq!((t["severity"].as_str(), t["org"].as_str()), (Some("P2"), Some("bolt")), "the key's own table");
    let key = t["key"].as_str().unwrap().to_string();
    let (status, _) =
        server.raw(Method::POST, "/api/v1/alerts/alertmanager", &secret, group("resolved"), "application/json").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let note = until("the resolution noted", || async {
        let c = server.ok(Method::GET, &format!("/api/v1/tickets/{key}/comments"), &d.admin, None).await;
        c["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["body"].as_str().unwrap().contains("reports the problem resolved"))
            .cloned()
    })
    .await;
    assert_eq!(note["public"], false, "an internal note");
    assert_eq!(ticket(&server, &d.admin, &key).await["status"], "open", "people resolve it");
    assert_eq!(tickets_about(&server, &d.admin, "API down in eu-west").await.len(), 1);

    // Wrong key, wrong kind of key, wrong payload.
    let pd = new_key(&server, &d.admin, "bolt", json!({"name": "pd", "kind": "events_v2"})).await;
    for bad in ["0123456789abcdef0123456789abcdef", pd["key"].as_str().unwrap()] {
        let (status, _) =
            server.raw(Method::POST, "/api/v1/alerts/alertmanager", bad, group("firing"), "application/json").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = server
        .raw(Method::POST, "/api/v1/alerts/alertmanager", &secret, b"{\"version\":\"3\"}".to_vec(), "application/json")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_over_its_budget_is_throttled() {
    let server = Server::start(&Db::sqlite(), &["--alert-events-per-minute", "6"]);
    let d = desk(&server).await;
    let secret = new_key(&server, &d.admin, "acme", json!({"name": "noisy", "kind": "events_v2"})).await["key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(enqueue(&server, trigger(&secret, Some("a"), "first", "info")).await.0, StatusCode::ACCEPTED);
    let (status, body) = enqueue(&server, trigger(&secret, Some("a"), "second", "info")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["status"], "throttle exceeded");
}
