//! Promises as the customer lives them (issue 24), black-box through `stringer serve`: a
//! customer who resolves their own ticket before any staff response withdraws the response
//! target (neither met nor breached); reopened, it runs again. A target a response met stays
//! met whatever happens after.

mod support;

use reqwest::Method;
use serde_json::Value;
use support::{Db, Server, desk, open_ticket};

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
