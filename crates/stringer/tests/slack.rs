//! Slack: a page reaches the on-call engineer as a direct message from the Slack app
//! (`chat.postMessage` on a local stand-in for the Slack Web API that records requests), with
//! Acknowledge/Resolve buttons; pressing Acknowledge sends a signed interaction that
//! acknowledges the ticket as that engineer. Unsigned, stale or foreign presses are refused.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Db, Server, desk, open_ticket, zen_org};

/// Web API calls received: (method, authorization header, JSON body).
type Posts = Arc<Mutex<Vec<(String, String, Value)>>>;

async fn web_api(
    axum::extract::State(posts): axum::extract::State<Posts>,
    axum::extract::Path(method): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
    body: String,
) -> axum::Json<Value> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    posts.lock().unwrap().push((method, auth, serde_json::from_str(&body).unwrap()));
    axum::Json(json!({"ok": true, "channel": "D1", "ts": "1.0"}))
}

fn calls(posts: &Posts, method: &str) -> Vec<(String, Value)> {
    posts.lock().unwrap().iter().filter(|(m, _, _)| m == method).map(|(_, a, b)| (a.clone(), b.clone())).collect()
}

async fn slack_api() -> (String, Posts) {
    let posts: Posts = Arc::default();
    let app = axum::Router::new().route("/api/{method}", axum::routing::post(web_api)).with_state(posts.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/api"), posts)
}

async fn press(server: &Server, member: &str, action: &str, ticket: &str, secret: &str, skew: i64) -> StatusCode {
    let payload = json!({
        "type": "block_actions",
        "user": {"id": member},
        "actions": [{"action_id": action, "value": ticket}],
        "container": {"type": "message", "channel_id": "D0SIA", "message_ts": "1700000000.000100"},
        "message": {"ts": "1700000000.000100", "text": "P1 page for ticket"}
    });
    let body = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
    let ts = jiff::Timestamp::now().as_second() - skew;
    let signature = stringer_notify::slack::sign_request(secret, ts, body.as_bytes());
    reqwest::Client::new()
        .post(format!("{}/slack/interactions", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", ts.to_string())
        .header("x-slack-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
}

async fn slack(db: Db) {
    let (api, posts) = slack_api().await;
    let server = Server::start(
        &db,
        &["--slack-token", "xoxb-test-token", "--slack-signing-secret", "signing-sekret", "--slack-api-url", &api],
    );
    let d = desk(&server).await;
    let user = server
        .ok(
            Method::POST,
            "/api/v1/users",
            &d.admin,
            Some(json!({"email": "sia@stringer.example", "name": "sia", "role": "engineer"})),
        )
        .await;
    let sia = user["id"].as_str().unwrap().to_string();
    server
        .ok(
            Method::POST,
            &format!("/api/v1/users/{sia}/contact-methods"),
            &d.admin,
            Some(json!({"kind": "slack", "address": "U0SIA123"})),
        )
        .await;
    let (status, _) = server
        .call(
            Method::POST,
            &format!("/api/v1/users/{sia}/contact-methods"),
            Some(&d.admin),
            Some(json!({"kind": "slack", "address": "#general"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a Slack member ID, not a channel");
    let zoe = zen_org(&server, &d.admin, None, &[&sia]).await;
    let ticket = open_ticket(&server, &zoe, "zen", "P1").await["id"].as_str().unwrap().to_string();

    let deadline = Instant::now() + Duration::from_secs(20);
    while calls(&posts, "chat.postMessage").len() < 2 {
        assert!(Instant::now() < deadline, "expected a direct message and an org-channel message");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let posted = calls(&posts, "chat.postMessage");
    let mut channels: Vec<String> = posted.iter().map(|(_, m)| m["channel"].as_str().unwrap().to_string()).collect();
    channels.sort();
    assert_eq!(channels, ["#stringer-zen", "U0SIA123"], "the on-call engineer and the org's shared channel");
    let (auth, message) = posted.iter().find(|(_, m)| m["channel"] == "U0SIA123").unwrap().clone();
    assert_eq!(auth, "Bearer xoxb-test-token");
    assert_eq!(message["channel"], "U0SIA123");
    let buttons: Vec<(&str, &str)> = message["blocks"][1]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["action_id"].as_str().unwrap(), b["value"].as_str().unwrap()))
        .collect();
    assert_eq!(buttons, [("stringer_ack", ticket.as_str()), ("stringer_resolve", ticket.as_str())]);
    assert!(message["metadata"]["event_payload"]["idempotency_key"].as_str().unwrap().starts_with("dlv_"));

    // Refused: wrong secret, a press older than five minutes, a member who is not staff.
    assert_eq!(press(&server, "U0SIA123", "stringer_ack", &ticket, "wrong", 0).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        press(&server, "U0SIA123", "stringer_ack", &ticket, "signing-sekret", 301).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(press(&server, "U0NOBODY", "stringer_ack", &ticket, "signing-sekret", 0).await, StatusCode::FORBIDDEN);
    let t = server.ok(Method::GET, &format!("/api/v1/tickets/{ticket}"), &d.admin, None).await;
    assert!(t["acknowledged_by"].is_null(), "no refused press acknowledged anything");
    assert!(calls(&posts, "chat.update").is_empty(), "no refused press touched the message");
    // Accepted: acknowledges as the engineer; pressing again is harmless.
    assert_eq!(press(&server, "U0SIA123", "stringer_ack", &ticket, "signing-sekret", 0).await, StatusCode::OK);
    assert_eq!(press(&server, "U0SIA123", "stringer_ack", &ticket, "signing-sekret", 0).await, StatusCode::OK);
    let t = server.ok(Method::GET, &format!("/api/v1/tickets/{ticket}"), &d.admin, None).await;
    assert_eq!(t["acknowledged_by"], json!(sia));
    // The pressed message now says who took the page, and has no buttons left.
    let deadline = Instant::now() + Duration::from_secs(20);
    while calls(&posts, "chat.update").is_empty() {
        assert!(Instant::now() < deadline, "expected the pressed message to be updated");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (auth, update) = calls(&posts, "chat.update")[0].clone();
    assert_eq!(auth, "Bearer xoxb-test-token");
    assert_eq!((update["channel"].as_str(), update["ts"].as_str()), (Some("D0SIA"), Some("1700000000.000100")));
    assert_eq!(update["blocks"][1]["elements"][0]["text"], "Acknowledged by <@U0SIA123>");
    assert!(update["blocks"].as_array().unwrap().iter().all(|b| b["type"] != "actions"), "buttons removed");
    assert_eq!(press(&server, "U0SIA123", "stringer_resolve", &ticket, "signing-sekret", 0).await, StatusCode::OK);
    let t = server.ok(Method::GET, &format!("/api/v1/tickets/{ticket}"), &d.admin, None).await;
    assert_eq!(t["status"], "resolved");
}
both_backends!(slack_pages_and_buttons, slack);
