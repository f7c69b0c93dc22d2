//! Promises as the customer lives them (issue 24), black-box through `stringer serve`: a
//! customer who resolves their own ticket before any staff response withdraws the response
//! target (neither met nor breached); reopened, it runs again. A target a response met stays
//! met whatever happens after. A security incident is P1 for every tier: another severity is
//! refused naming the contract's rule, and the customer's bridge address reaches on-call.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Db, Server, desk, open_ticket, paging_desk, receiver};

fn response(ticket: &Value) -> &Value {
    ticket["sla"].as_array().unwrap().iter().find(|c| c["target"] == "response").unwrap()
}

async fn a_customer_resolution_withdraws_the_response(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let act = |id: &str, what: &str| format!("/api/v1/tickets/{id}/{what}");

    // Alice resolves her P3 before anyone answered: withdrawn, not met.
    let t = open_ticket(&server, &d.alice, "acme", "P3").await;
    let id = t["id"].as_str().unwrap().to_string();
    let due = response(&t)["due"].clone();
    let resolved = server.ok(Method::POST, &act(&id, "resolve"), &d.alice, None).await;
    assert_eq!(response(&resolved)["state"], "withdrawn", "{resolved}");
    // Reopened while its due time is ahead: running again, to the same due time.
    let reopened = server.ok(Method::POST, &act(&id, "reopen"), &d.alice, None).await;
    assert_eq!(response(&reopened)["state"], "running", "{reopened}");
    assert_eq!(response(&reopened)["due"], due);
    // Then staff acknowledge: met.
    let acked = server.ok(Method::POST, &act(&id, "acknowledge"), &d.engineer, None).await;
    assert_eq!(response(&acked)["state"], "met");

    // Staff acknowledged first, then the customer resolves and reopens: met throughout.
    let t = open_ticket(&server, &d.alice, "acme", "P3").await;
    let id = t["id"].as_str().unwrap().to_string();
    server.ok(Method::POST, &act(&id, "acknowledge"), &d.engineer, None).await;
    let resolved = server.ok(Method::POST, &act(&id, "resolve"), &d.alice, None).await;
    assert_eq!(response(&resolved)["state"], "met");
    let reopened = server.ok(Method::POST, &act(&id, "reopen"), &d.alice, None).await;
    assert_eq!(response(&reopened)["state"], "met", "reopening restarts nothing a response met");

    // Staff resolve without a reply: the resolution tells the customer, so it is met.
    let t = open_ticket(&server, &d.alice, "acme", "P4").await;
    let id = t["id"].as_str().unwrap().to_string();
    let resolved = server.ok(Method::POST, &act(&id, "resolve"), &d.engineer, None).await;
    assert_eq!(response(&resolved)["state"], "met");
}
both_backends!(a_customer_resolution_withdraws_the_response_target, a_customer_resolution_withdraws_the_response);

async fn security_incidents_are_p1_with_the_customers_bridge(db: Db) {
    let (hooks, log) = receiver().await;
    let server = Server::start(&db, &["--allow-private-webhooks"]);
    let (_, zoe, _, _) = paging_desk(&server, &hooks).await;
    let report = |body: Value| {
        let server = &server;
        let zoe = zoe.clone();
        async move { server.call(Method::POST, "/api/v1/tickets", Some(&zoe), Some(body)).await }
    };
    let incident = |extra: Value| {
        let mut body = json!({"subject": "Leaked key", "description": "found on a paste site", "security": true});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };

    // Another severity is refused, naming the contract's rule; nothing is opened.
    let (status, problem) = report(incident(json!({"severity": "P4"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("opened as P1") && detail.contains("security rule"), "{detail}");
    // A bridge address that is neither a meeting link nor a phone bridge, or too long.
    for bad in ["javascript:alert(1)", "call me", &format!("https://meet.example/{}", "x".repeat(500))] {
        let (status, problem) = report(incident(json!({"bridge": bad}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {problem}");
        assert!(problem["detail"].as_str().unwrap().starts_with("bridge:"), "{problem}");
    }
    // Only a security incident has a bridge.
    let (status, _) =
        report(json!({"subject": "s", "description": "d", "severity": "P3", "bridge": "https://meet.example/x"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let listed = server.ok(Method::GET, "/api/v1/tickets", &zoe, None).await;
    assert!(listed["items"].as_array().unwrap().is_empty(), "nothing opened: {listed}");

    // No severity given: a P1, with the customer's bridge stored and shown.
    let (status, t) = report(incident(json!({"bridge": "https://meet.example/zen-war-room"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    assert_eq!((t["severity"].as_str(), t["security"].as_bool()), (Some("P1"), Some(true)));
    assert_eq!(t["bridge"]["url"], "https://meet.example/zen-war-room");
    assert_eq!(response(&t)["within"], "1 hour");
    // P1 given explicitly, with a phone bridge: accepted.
    let (status, phone) = report(incident(json!({"severity": "P1", "bridge": "+1 415 555 0100,,987654#"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{phone}");
    assert_eq!(phone["bridge"]["url"], "+1 415 555 0100,,987654#");

    // The page to on-call carries the bridge.
    let key = t["key"].as_str().unwrap().to_string();
    let page = support::until("the page with the bridge", || {
        let log = log.clone();
        let key = key.clone();
        async move {
            log.lock().unwrap().iter().find_map(|r| {
                let body: Value = serde_json::from_str(&r.body).ok()?;
                (body["ticket"]["key"] == key.as_str()).then_some(body)
            })
        }
    })
    .await;
    assert_eq!(page["ticket"]["bridge"], "https://meet.example/zen-war-room", "{page}");
}
both_backends!(security_incidents_are_p1_for_every_tier, security_incidents_are_p1_with_the_customers_bridge);

async fn a_customer_page_pages_once_until_answered(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let t = open_ticket(&server, &d.alice, "acme", "P3").await;
    let page = format!("/api/v1/tickets/{}/page", t["id"].as_str().unwrap());

    let (status, first) = server.call(Method::POST, &page, Some(&d.alice), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    assert_eq!(first["paged"], json!(["oncall"]));
    // Pressed again while that page is unanswered: acknowledged as done, nothing paged.
    for _ in 0..2 {
        let (status, again) = server.call(Method::POST, &page, Some(&d.alice), None).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again["paged"], json!([]), "{again}");
        let paged_at: jiff::Timestamp = again["in_flight"]["paged_at"].as_str().unwrap().parse().unwrap();
        let escalates_at: jiff::Timestamp = again["in_flight"]["escalates_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(escalates_at.as_second() - paged_at.as_second(), 15 * 60, "the TAM's step: {again}");
    }
    let pages = |timeline: &Value| timeline["items"].as_array().unwrap().iter().filter(|e| e["kind"] == "page").count();
    let timeline_path = format!("/api/v1/tickets/{}/timeline", t["id"].as_str().unwrap());
    assert_eq!(pages(&server.ok(Method::GET, &timeline_path, &d.engineer, None).await), 1, "paged once");

    // Answered (acknowledged), a new press pages again: Enterprise may page at any time.
    server
        .ok(Method::POST, &format!("/api/v1/tickets/{}/acknowledge", t["id"].as_str().unwrap()), &d.engineer, None)
        .await;
    let (status, after) = server.call(Method::POST, &page, Some(&d.alice), None).await;
    assert_eq!((status, after["paged"].clone()), (StatusCode::ACCEPTED, json!(["oncall"])), "{after}");
    assert_eq!(pages(&server.ok(Method::GET, &timeline_path, &d.engineer, None).await), 2);
}
both_backends!(a_customer_page_pages_once, a_customer_page_pages_once_until_answered);
