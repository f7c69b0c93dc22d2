//! Mail, SMS and voice pages: a real SMTP conversation with a local SMTP receiver, and a
//! local stand-in for a Twilio-compatible API recording the requests it gets.

use crate::support;

use reqwest::Method;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Db, Server, desk, open_ticket, smtp_receiver, zen_org};

type Calls = Arc<Mutex<Vec<(String, String, Vec<(String, String)>)>>>;

async fn record(
    axum::extract::State(calls): axum::extract::State<Calls>,
    axum::extract::Path((_, resource)): axum::extract::Path<(String, String)>,
    headers: axum::http::HeaderMap,
    body: String,
) -> (axum::http::StatusCode, &'static str) {
    let key = headers.get("i-twilio-idempotency-token").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    calls.lock().unwrap().push((resource, key, serde_urlencoded::from_str(&body).unwrap()));
    (axum::http::StatusCode::CREATED, "{}")
}

async fn phone_api() -> (String, Calls) {
    let calls: Calls = Arc::default();
    let app = axum::Router::new()
        .route("/2010-04-01/Accounts/{account}/{resource}", axum::routing::post(record))
        .with_state(calls.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), calls)
}

async fn channels(db: Db) {
    let (smtp_port, mails) = smtp_receiver().await;
    let (phone, calls) = phone_api().await;
    let smtp = format!("smtp://127.0.0.1:{smtp_port}");
    let server = Server::start(
        &db,
        &[
            "--smtp-url",
            &smtp,
            "--mail-from",
            "Stringer <pager@stringer.example>",
            "--sms-api-url",
            &phone,
            "--sms-account",
            "AC123",
            "--sms-token",
            "tok",
            "--sms-from",
            "+15550001111",
            "--metrics-listen",
            "127.0.0.1:0",
        ],
    );
    let d = desk(&server).await;
    let user = server
        .ok(
            Method::POST,
            "/api/v1/users",
            &d.admin,
            Some(json!({"email": "omar@stringer.example", "name": "omar", "role": "engineer"})),
        )
        .await;
    let omar = user["id"].as_str().unwrap().to_string();
    for (kind, address) in [("email", "omar@stringer.example"), ("sms", "+14155550100"), ("voice", "+14155550100")] {
        server
            .ok(
                Method::POST,
                &format!("/api/v1/users/{omar}/contact-methods"),
                &d.admin,
                Some(json!({"kind": kind, "address": address})),
            )
            .await;
    }
    for (kind, bad) in [("email", "omar"), ("sms", "0800-NOPE"), ("voice", "+1")] {
        let (status, _) = server
            .call(
                Method::POST,
                &format!("/api/v1/users/{omar}/contact-methods"),
                Some(&d.admin),
                Some(json!({"kind": kind, "address": bad})),
            )
            .await;
        assert_eq!(status, 422, "{kind} {bad}");
    }
    let zoe = zen_org(&server, &d.admin, None, &[&omar]).await;
    let ticket = open_ticket(&server, &zoe, "zen", "P1").await;
    assert_eq!(ticket["key"], "ZEN-1");

    let deadline = Instant::now() + Duration::from_secs(30);
    // The page to omar (the org admins of the desk were mailed their welcome packets).
    let to_omar = |m: &(String, Vec<String>, String)| m.1 == ["<omar@stringer.example>".to_string()];
    while !mails.lock().unwrap().iter().any(to_omar) || calls.lock().unwrap().len() < 2 {
        assert!(
            Instant::now() < deadline,
            "mails {:?}, calls {:?}",
            mails.lock().unwrap().len(),
            calls.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (from, to, message) = mails.lock().unwrap().iter().find(|m| to_omar(m)).cloned().unwrap();
    assert_eq!(mails.lock().unwrap().iter().filter(|m| to_omar(m)).count(), 1, "one page mail");
    assert_eq!((from.as_str(), to), ("<pager@stringer.example>", vec!["<omar@stringer.example>".to_string()]));
    // What an engineer needs at 3 a.m.: severity, key, org, subject, how long open, the link.
    assert!(message.contains("Subject: [Stringer] page: P1 ZEN-1 (Zen): P1 at zen - open "), "{message}");
    assert!(message.contains("/console/tickets/ZEN-1"), "the mail links the ticket: {message}");
    assert!(message.contains("Message-ID: <dlv_"), "{message}");
    assert!(message.contains("/ack/"), "the mail carries the acknowledgement link: {message}");
    let calls = calls.lock().unwrap().clone();
    let field = |c: &(String, String, Vec<(String, String)>), k: &str| {
        c.2.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default()
    };
    let sms = calls.iter().find(|c| c.0 == "Messages.json").expect("an SMS");
    let call = calls.iter().find(|c| c.0 == "Calls.json").expect("a call");
    assert_eq!((field(sms, "To"), field(sms, "From")), ("+14155550100".to_string(), "+15550001111".to_string()));
    assert!(field(sms, "Body").contains("P1 ZEN-1 (Zen): P1 at zen") && field(sms, "Body").contains("/ack/"));
    assert!(field(sms, "Body").is_ascii(), "an SMS in the GSM alphabet: {}", field(sms, "Body"));
    assert!(field(call, "Twiml").starts_with("<Response><Say>") && field(call, "Twiml").contains("ZEN-1"));
    assert!(sms.1.starts_with("dlv_") && call.1.starts_with("dlv_") && sms.1 != call.1, "distinct idempotency keys");
    let metrics = reqwest::get(server.metrics.as_deref().unwrap()).await.unwrap().text().await.unwrap();
    for channel in ["email", "sms", "voice"] {
        assert!(
            metrics.contains(&format!("stringer_deliveries_total{{channel=\"{channel}\",outcome=\"sent\"}} 1")),
            "{channel}: {metrics}"
        );
    }
}
both_backends!(mail_sms_and_voice_pages, channels);
