//! Slack: a page reaches the on-call engineer as a direct message from the Slack app
//! (`chat.postMessage` on a local stand-in for the Slack Web API that records requests), with
//! Acknowledge/Resolve buttons; pressing Acknowledge sends a signed interaction that
//! acknowledges the ticket as that engineer. Unsigned, stale or foreign presses are refused.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::{Db, Posts, Server, desk, open_ticket, zen_org};

async fn press(server: &Server, member: &str, action: &str, ticket: &str, secret: &str, skew: i64) -> StatusCode {
    let body = support::slack_body(member, action, ticket, &support::unique_action_ts());
    support::slack_send(server, &body, jiff::Timestamp::now().as_second() - skew, secret).await
}

fn calls(posts: &Posts, method: &str) -> Vec<(String, Value)> {
    support::slack_calls(posts, method)
}

async fn slack(db: Db) {
    let (api, posts) = support::slack_api(&[]).await;
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

    // Refused: wrong secret, a press older than five minutes, a member who is not staff (that
    // one answered 200 with a message to the presser: Slack shows its own error otherwise).
    assert_eq!(press(&server, "U0SIA123", "stringer_ack", &ticket, "wrong", 0).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        press(&server, "U0SIA123", "stringer_ack", &ticket, "signing-sekret", 301).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(press(&server, "U0NOBODY", "stringer_ack", &ticket, "signing-sekret", 0).await, StatusCode::OK);
    let t = server.ok(Method::GET, &format!("/api/v1/tickets/{ticket}"), &d.admin, None).await;
    assert!(t["acknowledged_by"].is_null(), "no refused press acknowledged anything");
    assert!(calls(&posts, "chat.update").is_empty(), "no refused press touched the message");
    // Accepted: acknowledges as the engineer; pressing again is harmless.
    assert_eq!(press(&server, "U0SIA123", "stringer_ack", &ticket, "signing-sekret", 0).await, StatusCode::OK);
    assert_eq!(press(&server, "U0SIA123", "stringer_ack", &ticket, "signing-sekret", 0).await, StatusCode::OK);
    let t = server.ok(Method::GET, &format!("/api/v1/tickets/{ticket}"), &d.admin, None).await;
    assert_eq!(t["acknowledged_by"], json!(sia));
    // Both page messages (the direct message and the org channel's) now say who took the
    // page, and have no buttons left.
    let settled = settled_messages(&posts, 2).await;
    assert_eq!(updated_messages(&settled), posted_messages(&posts), "every page message settled");
    for (auth, update) in settled.values() {
        assert_eq!(auth, "Bearer xoxb-test-token");
        assert_eq!(update["blocks"][1]["elements"][0]["text"], "Acknowledged by sia");
        assert!(update["blocks"][0]["text"]["text"].as_str().unwrap().starts_with("Page: P1 "));
        assert!(update["blocks"].as_array().unwrap().iter().all(|b| b["type"] != "actions"), "buttons removed");
    }
    assert_eq!(press(&server, "U0SIA123", "stringer_resolve", &ticket, "signing-sekret", 0).await, StatusCode::OK);
    let t = server.ok(Method::GET, &format!("/api/v1/tickets/{ticket}"), &d.admin, None).await;
    assert_eq!(t["status"], "resolved");

    // Acknowledged through the API instead: that ticket's messages are settled likewise.
    let other = open_ticket(&server, &zoe, "zen", "P1").await;
    let other_key = format!("{} ", other["key"].as_str().unwrap());
    let other = other["id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    while calls(&posts, "chat.postMessage").len() < 4 {
        assert!(Instant::now() < deadline, "expected the second ticket's two page messages");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let me = server.ok(Method::GET, "/api/v1/me", &d.engineer, None).await;
    server.ok(Method::POST, &format!("/api/v1/tickets/{other}/acknowledge"), &d.engineer, None).await;
    let settled = settled_messages(&posts, 4).await;
    assert_eq!(updated_messages(&settled), posted_messages(&posts), "every page message settled");
    let by = format!("Acknowledged by {}", me["name"].as_str().unwrap());
    let of_other: Vec<&Value> = settled
        .values()
        .map(|(_, u)| u)
        .filter(|u| u["blocks"][0]["text"]["text"].as_str().unwrap().contains(&other_key))
        .collect();
    assert_eq!(of_other.len(), 2);
    assert!(of_other.iter().all(|u| u["blocks"][1]["elements"][0]["text"] == json!(by)), "{of_other:?}");

    // Lowered below paging severity: the messages say why paging stopped.
    let third = open_ticket(&server, &zoe, "zen", "P1").await;
    let third_key = format!("{} ", third["key"].as_str().unwrap());
    let third = third["id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    while calls(&posts, "chat.postMessage").len() < 6 {
        assert!(Instant::now() < deadline, "expected the third ticket's two page messages");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let patch = json!({"severity": "P3"});
    server.ok(Method::PATCH, &format!("/api/v1/tickets/{third}"), &d.engineer, Some(patch)).await;
    let settled = settled_messages(&posts, 6).await;
    assert_eq!(updated_messages(&settled), posted_messages(&posts), "every page message settled");
    let why = format!("Paging stopped: severity changed to P3 by {}", me["name"].as_str().unwrap());
    let of_third: Vec<&Value> = settled
        .values()
        .map(|(_, u)| u)
        .filter(|u| u["blocks"][0]["text"]["text"].as_str().unwrap().contains(&third_key))
        .collect();
    assert_eq!(of_third.len(), 2);
    assert!(of_third.iter().all(|u| u["blocks"][1]["elements"][0]["text"] == json!(why)), "{of_third:?}");
}

/// The (channel, call) of every page message posted, sorted: the channel's id as the
/// stand-in answered it, and the index of the call that posted it.
fn posted_messages(posts: &Posts) -> Vec<(String, usize)> {
    let posts = posts.lock().unwrap();
    let mut out: Vec<(String, usize)> = posts
        .iter()
        .enumerate()
        .filter(|(_, (m, _, _))| m == "chat.postMessage")
        .map(|(i, (_, _, b))| (format!("C-{}", b["channel"].as_str().unwrap()), i))
        .collect();
    out.sort();
    out
}

/// The (channel, call) of every message updated (see [`posted_messages`]), sorted.
fn updated_messages(settled: &std::collections::BTreeMap<(String, String), (String, Value)>) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = settled
        .keys()
        .map(|(channel, ts)| (channel.clone(), support::slack_call_of(ts).expect("a stand-in's timestamp")))
        .collect();
    out.sort();
    out
}

/// Waits (with a deadline) until `count` distinct messages were updated; answers the updates
/// by (channel, ts).
async fn settled_messages(
    posts: &Posts,
    count: usize,
) -> std::collections::BTreeMap<(String, String), (String, Value)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let updates: std::collections::BTreeMap<(String, String), (String, Value)> = calls(posts, "chat.update")
            .into_iter()
            .map(|(auth, u)| ((u["channel"].as_str().unwrap().into(), u["ts"].as_str().unwrap().into()), (auth, u)))
            .collect();
        if updates.len() >= count {
            return updates;
        }
        assert!(Instant::now() < deadline, "expected {count} settled messages, got {}", updates.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
both_backends!(slack_pages_and_buttons, slack);
