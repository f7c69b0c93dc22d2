//! Status page subscriptions end to end, on SQLite and PostgreSQL: a reader subscribes with
//! the page's form and gets only the confirmation (double opt-in) at a local SMTP receiver;
//! following the link and confirming subscribes them to the components they chose; a
//! webhook receiver gets Statuspage's webhook payload for every update; a dedicated tenant's
//! Slack channel hears of the platform's incidents (its page shows them) and of a
//! maintenance an hour before it begins; one-click unsubscribe (RFC 8058) stops the mail.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Db, Mails, Server, desk, receiver, slack_api, slack_calls, smtp_receiver, until};

both_backends!(status_subscriptions, status_subscriptions_on);

fn mails_to(mails: &Mails, to: &str) -> Vec<String> {
    let to = format!("<{to}>");
    mails.lock().unwrap().iter().filter(|(_, rcpt, _)| rcpt.contains(&to)).map(|(_, _, m)| m.clone()).collect()
}

fn link(mail: &str, base: &str) -> String {
    let text = support::mail_text(mail);
    let start = text.find(&format!("{base}/status/subscriptions/")).expect("the mail links to the subscription");
    let end = start + text[start..].find(char::is_whitespace).unwrap();
    text[start..end].to_string()
}

async fn status_subscriptions_on(db: Db) {
    let (smtp_port, mails) = smtp_receiver().await;
    let (hooks, log) = receiver().await;
    let (slack, posts) = slack_api(&[]).await;
    let smtp = format!("smtp://127.0.0.1:{smtp_port}");
    let server = Server::start(
        &db,
        &["--smtp-url", &smtp, "--allow-private-webhooks", "--slack-token", "xoxb-test", "--slack-api-url", &slack],
    );
    let d = desk(&server).await;
    let pages = server.ok(Method::GET, "/api/v1/status-pages", &d.admin, None).await;
    let page = |org: Option<&str>| {
        pages.as_array().unwrap().iter().find(|p| p["org"].as_str() == org).unwrap()["id"].as_str().unwrap().to_string()
    };
    let (platform, acme) = (page(None), page(Some("acme")));
    let components = format!("/api/v1/status-pages/{platform}/components");
    let api = server.ok(Method::POST, &components, &d.engineer, Some(json!({"name": "API"}))).await["id"].clone();
    let portal = server.ok(Method::POST, &components, &d.engineer, Some(json!({"name": "Portal"}))).await["id"].clone();

    // A reader subscribes to the API only, with the page's form: only the confirmation comes.
    let form = format!("email=sam%40reader.example&component={}", api.as_str().unwrap());
    let response = reqwest::Client::new()
        .post(format!("{}/status/subscribe", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("Check your inbox"));
    let confirmation =
        until("the confirmation mail", || async { mails_to(&mails, "sam@reader.example").first().cloned() }).await;
    assert!(confirmation.contains("Subject: Confirm your subscription"), "{confirmation}");
    let manage = link(&confirmation, &server.base);
    // The same address again: the same answer, and no second confirmation.
    let again = reqwest::Client::new()
        .post(format!("{}/status/subscribe", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    // Bad input is refused; a tenant's page takes no subscription from outsiders.
    for (path, body, expected) in [
        ("/status/subscribe", "email=not-an-address", StatusCode::UNPROCESSABLE_ENTITY),
        ("/status/acme/subscribe", "email=eve%40outside.example", StatusCode::NOT_FOUND),
    ] {
        let r = reqwest::Client::new()
            .post(format!("{}{path}", server.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), expected, "{path} {body}");
    }
    // An incident before confirming: nothing for sam.
    let incidents = format!("/api/v1/status-pages/{platform}/incidents");
    let early = json!({"name": "Early blip", "status": "investigating", "body": "b", "components": [{"id": api, "status": "degraded_performance"}]});
    let early = server.ok(Method::POST, &incidents, &d.engineer, Some(early)).await;
    server
        .ok(
            Method::POST,
            &format!("{incidents}/{}/updates", early["id"].as_str().unwrap()),
            &d.engineer,
            Some(json!({"status": "resolved", "body": "ok"})),
        )
        .await;

    // Following the link shows a button; the button confirms.
    let page_html = reqwest::get(&manage).await.unwrap().text().await.unwrap();
    assert!(page_html.contains("Confirm the subscription"), "{page_html}");
    let confirmed = reqwest::Client::new().post(format!("{manage}/confirm")).send().await.unwrap();
    assert_eq!(confirmed.status(), StatusCode::OK);
    let (status, _) = server.call(Method::GET, "/status/subscriptions/0123", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Staff subscribe a webhook to the public page and acme's Slack channel to acme's page.
    let subscribers = |page: &str| format!("/api/v1/status-pages/{page}/subscribers");
    let url = format!("{hooks}/hook/statuspage");
    server
        .ok(Method::POST, &subscribers(&platform), &d.engineer, Some(json!({"kind": "webhook", "address": url})))
        .await;
    server.ok(Method::POST, &subscribers(&acme), &d.engineer, Some(json!({"kind": "slack"}))).await;
    let (status, _) =
        server.call(Method::POST, &subscribers(&platform), Some(&d.engineer), Some(json!({"kind": "slack"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "the public page has no org channel");
    let (status, _) = server
        .call(
            Method::POST,
            &subscribers(&platform),
            Some(&d.engineer),
            Some(json!({"kind": "webhook", "address": url})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) =
        server.call(Method::POST, &subscribers(&acme), Some(&d.alice), Some(json!({"kind": "slack"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // An incident on the API: sam's mail, the webhook's payload, acme's channel.
    let opened = server
        .ok(
            Method::POST,
            &incidents,
            &d.engineer,
            Some(json!({"name": "API down", "status": "investigating", "impact": "critical", "body": "The API answers 503.",
                        "components": [{"id": api, "status": "major_outage"}]})),
        )
        .await;
    let incident = opened["id"].as_str().unwrap().to_string();
    let mail = until("sam hears of the incident", || async {
        mails_to(&mails, "sam@reader.example").into_iter().find(|m| m.contains("API down"))
    })
    .await;
    assert!(support::mail_text(&mail).contains("The API answers 503."), "{mail}");
    assert!(mail.contains("List-Unsubscribe: <"), "{mail}");
    assert!(mail.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{mail}");
    assert!(
        !mails_to(&mails, "sam@reader.example").iter().any(|m| m.contains("Early blip")),
        "nothing before confirming"
    );
    let hook = until("the webhook", || async {
        log.lock().unwrap().iter().find(|r| r.body.contains("API down")).map(|r| r.body.clone())
    })
    .await;
    let payload: Value = serde_json::from_str(&hook).unwrap();
    let mut keys: Vec<&str> = payload.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["incident", "meta", "page"]);
    assert_eq!(payload["page"]["status_indicator"], "critical");
    assert_eq!(payload["page"]["status_description"], "Major System Outage");
    assert!(payload["meta"]["unsubscribe"].as_str().unwrap().contains("/status/subscriptions/"));
    assert_eq!(payload["incident"]["id"], incident.as_str());
    assert_eq!(payload["incident"]["incident_updates"][0]["status"], "investigating");
    assert_eq!(payload["incident"]["incident_updates"][0]["affected_components"][0]["new_status"], "major_outage");
    let slack_post = until("acme's channel hears of the platform's incident", || async {
        slack_calls(&posts, "chat.postMessage")
            .into_iter()
            .find(|(_, a)| a["text"].as_str().unwrap_or("").contains("API down"))
    })
    .await;
    assert_eq!(slack_post.1["channel"], "#stringer-acme");

    // An incident on the portal only: the webhook hears of it, sam (API only) does not.
    let other = json!({"name": "Portal slow", "status": "investigating", "body": "b", "components": [{"id": portal, "status": "degraded_performance"}]});
    server.ok(Method::POST, &incidents, &d.engineer, Some(other)).await;
    until("the webhook hears of the portal", || async {
        log.lock().unwrap().iter().any(|r| r.body.contains("Portal slow")).then_some(())
    })
    .await;
    // Resolving the API: sam hears of it; still nothing about the portal.
    server
        .ok(
            Method::POST,
            &format!("{incidents}/{incident}/updates"),
            &d.engineer,
            Some(json!({"status": "resolved", "body": "All good."})),
        )
        .await;
    until("sam hears of the resolution", || async {
        mails_to(&mails, "sam@reader.example").into_iter().find(|m| support::mail_text(m).contains("All good."))
    })
    .await;
    assert!(!mails_to(&mails, "sam@reader.example").iter().any(|m| m.contains("Portal slow")));

    // One-click unsubscribe, as a mail client sends it; then no more mail.
    let unsubscribe = reqwest::Client::new()
        .post(format!("{manage}/unsubscribe"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(unsubscribe.status(), StatusCode::OK);
    let before = mails_to(&mails, "sam@reader.example").len();
    let after = json!({"name": "API again", "status": "investigating", "body": "b", "components": [{"id": api, "status": "partial_outage"}]});
    server.ok(Method::POST, &incidents, &d.engineer, Some(after)).await;
    until("the webhook hears of it", || async {
        log.lock().unwrap().iter().any(|r| r.body.contains("API again")).then_some(())
    })
    .await;
    assert_eq!(mails_to(&mails, "sam@reader.example").len(), before, "no mail after unsubscribing");

    // A maintenance an hour and a few seconds away: its subscribers are reminded now.
    let now = jiff::Timestamp::now();
    let maintenance = json!({"name": "Database upgrade", "status": "scheduled", "body": "b", "maintenance": true,
        "scheduled_for": (now + jiff::SignedDuration::from_secs(3605)).to_string(),
        "scheduled_until": (now + jiff::SignedDuration::from_secs(7200)).to_string()});
    server.ok(Method::POST, &incidents, &d.engineer, Some(maintenance)).await;
    until("acme's channel is reminded", || async {
        slack_calls(&posts, "chat.postMessage")
            .into_iter()
            .find(|(_, a)| a["text"].as_str().unwrap_or("").contains("Reminder: Database upgrade begins"))
    })
    .await;
    let listed = server.ok(Method::GET, &subscribers(&platform), &d.engineer, None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "sam left; the webhook stays: {listed}");
}
