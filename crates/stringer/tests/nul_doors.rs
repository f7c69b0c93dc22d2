//! A NUL character after decoding, at every door (PostgreSQL cannot store one): JSON doors
//! refuse `\u0000` and form doors `%00` with their own protocol's 400 and write nothing; a
//! mail with NUL characters in its headers and text is cleaned and becomes its ticket instead
//! of staying pending for ever.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Db, Server, desk, until};

const SECRET: &str = "nul-doors-signing-secret";
const DOMAIN: &str = "support.example";

async fn signed_slack(server: &Server, path: &str, content_type: &str, body: &str) -> (StatusCode, String) {
    let timestamp = jiff::Timestamp::now().as_second();
    let signature = stringer_integrations::slack::sign_request(SECRET, timestamp, body.as_bytes());
    support::slack_post_signed(server, path, content_type, body, timestamp, &signature).await
}

async fn every_door_refuses_a_decoded_nul(db: Db) {
    let server = Server::start(
        &db,
        &[
            "--slack-token",
            "xoxb-test",
            "--slack-signing-secret",
            SECRET,
            "--smtp-listen",
            "127.0.0.1:0",
            "--mail-trust-loopback",
            "--mail-domain",
            DOMAIN,
        ],
    );
    let smtp = support::smtp_address(&server);
    let d = desk(&server).await;

    // PagerDuty's Events API: its own "invalid event" answer.
    let (status, key) = server
        .call(
            Method::POST,
            "/api/v1/orgs/acme/integration-keys",
            Some(&d.admin),
            Some(json!({"name": "pd", "kind": "events_v2"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    let routing_key = key["key"].as_str().unwrap();
    let event = format!(
        r#"{{"routing_key":"{routing_key}","event_action":"trigger","payload":{{"summary":"disk\u0000full","source":"db1","severity":"critical"}}}}"#
    );
    for path in ["/v2/enqueue", "/v2/change/enqueue"] {
        let (status, body) = server.raw(Method::POST, path, "", event.clone().into_bytes(), "application/json").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["status"], "invalid event", "{path}: {body}");
        assert!(body["errors"][0].as_str().unwrap().contains("NUL"), "{path}: {body}");
    }

    // Alertmanager's webhook: a problem document.
    let (status, key) = server
        .call(
            Method::POST,
            "/api/v1/orgs/acme/integration-keys",
            Some(&d.admin),
            Some(json!({"name": "am", "kind": "alertmanager"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    let group = br#"{"version":"4","groupKey":"g\u0000","status":"firing","alerts":[]}"#.to_vec();
    let (status, body) = server
        .raw(Method::POST, "/api/v1/alerts/alertmanager", key["key"].as_str().unwrap(), group, "application/json")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("NUL"), "{body}");

    // Slack: the Events API (JSON), slash commands and interactions (forms).
    let message = r#"{"type":"event_callback","event_id":"Ev1","event":{"type":"message","channel":"C1","user":"U1","text":"a\u0000b","ts":"1.000100"}}"#;
    let (status, body) = signed_slack(&server, "/slack/events", "application/json", message).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("NUL"), "{body}");
    let command = "command=%2Fstringer&text=ack%00&user_id=U1&channel_id=C1&team_id=T1";
    let (status, body) = signed_slack(&server, "/slack/commands", "application/x-www-form-urlencoded", command).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("NUL"), "{body}");
    let payload =
        serde_urlencoded::to_string([("payload", r#"{"type":"block_actions","user":{"id":"U\u0000"}}"#)]).unwrap();
    let (status, body) =
        signed_slack(&server, "/slack/interactions", "application/x-www-form-urlencoded", &payload).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // The API: a problem document, nothing written.
    let (status, body) = server
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&d.alice),
            Some(json!({"org": "acme", "severity": "P3", "subject": "a\u{0}b", "description": "d"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, listed) = server.call(Method::GET, "/api/v1/tickets?limit=200", Some(&d.engineer), None).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 0, "{listed}");

    // Mail: NUL characters in the subject and the text are dropped; the message opens its
    // ticket (on PostgreSQL it stayed pending for ever).
    let raw = format!(
        "From: alice@acme.example\r\nTo: support+acme@{DOMAIN}\r\nSubject: Disk\0 full\r\nMessage-ID: <nul-1@acme.example>\r\n\r\nThe disk\0 is full.\r\n"
    );
    support::smtp_deliver(&smtp, &[("alice@acme.example", &format!("support+acme@{DOMAIN}"), raw)]).await;
    let ticket = until("the mail's ticket", || async {
        let (_, listed) = server.call(Method::GET, "/api/v1/tickets?limit=200", Some(&d.engineer), None).await;
        listed["items"].as_array().unwrap().iter().find(|t| t["subject"] == "Disk full").cloned()
    })
    .await;
    let description =
        server.ok(Method::GET, &format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap()), &d.engineer, None).await;
    assert!(!description.to_string().contains("\\u0000"), "{description}");
    let (_, mail) = server.call(Method::GET, "/api/v1/mail?state=done", Some(&d.engineer), None).await;
    let items: &Vec<Value> = mail["items"].as_array().unwrap();
    assert!(items.iter().any(|m| m["subject"] == "Disk full"), "{mail}");
    server.terminate();
}
both_backends!(nul_at_every_door, every_door_refuses_a_decoded_nul);
