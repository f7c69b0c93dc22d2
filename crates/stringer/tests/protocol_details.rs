//! Protocol details outside clients rely on (issue 25): every mail we send is a well-formed
//! MIME message under our mail domain, read back with a real parser (mail-parser); an on-call
//! calendar's events name people, not user ids (read back with Python's `icalendar` too when
//! `STRINGER_TEST_PYTHON` names a Python that has it); a tenant's status page numbers the
//! merged list of the platform's components and its own once, in order; the Events API v2
//! answers a routing key of the wrong shape and a spent budget as PagerDuty does.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{Db, Mails, Server, desk, open_ticket, parse_ics, smtp_receiver, until, zen_org};

both_backends!(every_mail_has_the_same_headers, every_mail_has_the_same_headers_on);
both_backends!(calendar_titles_name_people, calendar_titles_name_people_on);
both_backends!(merged_components_have_their_own_positions, merged_components_have_their_own_positions_on);
both_backends!(events_api_answers_as_pagerduty, events_api_answers_as_pagerduty_on);

/// The support domain our Message-IDs name.
const DOMAIN: &str = "support.vendor.example";

/// The first mail to `to` whose subject holds `subject`, as the relay got it.
async fn mail(mails: &Mails, to: &str, subject: &str) -> String {
    let to = format!("<{to}>");
    until(&format!("a mail to {to} about {subject:?}"), || async {
        mails
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, rcpt, _)| rcpt.contains(&to))
            .map(|(_, _, m)| m.clone())
            .find(|m| support::mail_text(m).contains(subject))
    })
    .await
}

/// Parses `raw` as a mail client would and checks the headers every mail of ours carries.
fn check(what: &str, raw: &str) {
    let message = mail_parser::MessageParser::default().parse(raw.as_bytes()).expect(what);
    let mime = message.header("MIME-Version").and_then(|v| v.as_text()).map(str::trim);
    assert_eq!(mime, Some("1.0"), "{what}: MIME-Version\n{raw}");
    let id = message.message_id().unwrap_or_else(|| panic!("{what}: a Message-ID\n{raw}"));
    assert!(id.ends_with(&format!("@{DOMAIN}")), "{what}: the Message-ID {id} names our mail domain");
    assert!(message.date().is_some(), "{what}: a Date\n{raw}");
    let from = message.from().and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_string);
    assert_eq!(from.as_deref(), Some("support@vendor.example"), "{what}: From");
}

async fn every_mail_has_the_same_headers_on(db: Db) {
    let (smtp_port, mails) = smtp_receiver().await;
    let smtp = format!("smtp://127.0.0.1:{smtp_port}");
    let server = Server::start(
        &db,
        &["--smtp-url", &smtp, "--mail-from", "Vendor Support <support@vendor.example>", "--mail-domain", DOMAIN],
    );
    let d = desk(&server).await;

    // A page by mail to an engineer, a ticket letter to its requester, a welcome packet.
    let omar = json!({"email": "omar@stringer.example", "name": "Omar", "role": "engineer"});
    let omar = server.ok(Method::POST, "/api/v1/users", &d.admin, Some(omar)).await["id"].as_str().unwrap().to_string();
    let method = json!({"kind": "email", "address": "omar@stringer.example"});
    server.ok(Method::POST, &format!("/api/v1/users/{omar}/contact-methods"), &d.admin, Some(method)).await;
    let zoe = zen_org(&server, &d.admin, None, &[&omar]).await;
    open_ticket(&server, &zoe, "zen", "P1").await;
    check("a page", &mail(&mails, "omar@stringer.example", "[Stringer] page").await);
    check("a ticket letter", &mail(&mails, "zoe@zen.example", "Received").await);
    check("a welcome packet", &mail(&mails, "alice@acme.example", "welcome packet").await);

    // An invitation to set a password.
    let carol = json!({"email": "carol@acme.example", "name": "Carol", "role": "member", "org": "acme"});
    server.ok(Method::POST, "/api/v1/users", &d.alice, Some(carol)).await;
    check("an invitation", &mail(&mails, "carol@acme.example", "").await);

    // A status page subscription's confirmation, and a notice once confirmed.
    let pages = server.ok(Method::GET, "/api/v1/status-pages", &d.admin, None).await;
    let platform =
        pages.as_array().unwrap().iter().find(|p| p["org"].is_null()).unwrap()["id"].as_str().unwrap().to_string();
    let api = json!({"name": "API"});
    let api = server
        .ok(Method::POST, &format!("/api/v1/status-pages/{platform}/components"), &d.engineer, Some(api))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let subscribed = reqwest::Client::new()
        .post(format!("{}/status/subscribe", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("email=sam%40reader.example&component={api}"))
        .send()
        .await
        .unwrap();
    assert_eq!(subscribed.status(), StatusCode::OK);
    let confirmation = mail(&mails, "sam@reader.example", "Confirm your subscription").await;
    check("a subscription's confirmation", &confirmation);
    let text = support::mail_text(&confirmation);
    let start = text.find(&format!("{}/status/subscriptions/", server.base)).unwrap();
    let manage = text[start..].split_whitespace().next().unwrap().to_string();
    let confirmed = reqwest::Client::new().post(format!("{manage}/confirm")).send().await.unwrap();
    assert_eq!(confirmed.status(), StatusCode::OK);
    let incident = json!({"name": "API down", "status": "investigating", "body": "The API answers 503.",
                          "components": [{"id": api, "status": "major_outage"}]});
    server.ok(Method::POST, &format!("/api/v1/status-pages/{platform}/incidents"), &d.engineer, Some(incident)).await;
    check("a status notice", &mail(&mails, "sam@reader.example", "API down").await);
}

/// The SUMMARY of every event of an iCalendar text, its folded lines joined and its escapes
/// undone (RFC 5545 3.1 and 3.3.11).
fn summaries(ics: &str) -> Vec<String> {
    ics.replace("\r\n ", "")
        .lines()
        .filter_map(|l| l.strip_prefix("SUMMARY:"))
        .map(|s| s.replace("\\,", ",").replace("\\;", ";").replace("\\\\", "\\"))
        .collect()
}

async fn calendar_titles_name_people_on(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let mut ids = Vec::new();
    for (email, name) in [("ana@stringer.example", "Ana Lima"), ("ben@stringer.example", "Ben Okafor")] {
        let user = json!({"email": email, "name": name, "role": "engineer"});
        ids.push(
            server.ok(Method::POST, "/api/v1/users", &d.admin, Some(user)).await["id"].as_str().unwrap().to_string(),
        );
    }
    let rotation = json!({"name": "daily", "time_zone": "Europe/Berlin", "members": ids, "shift_days": 1,
                          "handoff": "09:00", "start": "2026-10-30"});
    let schedule = json!({"name": "Platform", "layers": [{"rotation": rotation}]});
    let created = server.ok(Method::POST, "/api/v1/schedules", &d.admin, Some(schedule)).await;
    let feed = reqwest::get(format!("{}{}", server.base, created["ics_path"].as_str().unwrap())).await.unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
    let ics = feed.text().await.unwrap();
    let mut titles = summaries(&ics);
    if let Some(events) = parse_ics(&ics) {
        assert_eq!(events.iter().map(|e| e.2.clone()).collect::<Vec<_>>(), titles, "icalendar reads the same titles");
    }
    titles.sort();
    titles.dedup();
    assert_eq!(titles, ["On call: Ana Lima (Platform)", "On call: Ben Okafor (Platform)"], "{ics}");
}

async fn merged_components_have_their_own_positions_on(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let pages = server.ok(Method::GET, "/api/v1/status-pages", &d.admin, None).await;
    let page = |org: Option<&str>| {
        pages.as_array().unwrap().iter().find(|p| p["org"].as_str() == org).unwrap()["id"].as_str().unwrap().to_string()
    };
    for (page, names) in [(page(None), ["API", "Portal"]), (page(Some("acme")), ["Acme API", "Acme reports"])] {
        for name in names {
            let component = json!({"name": name});
            server
                .ok(Method::POST, &format!("/api/v1/status-pages/{page}/components"), &d.engineer, Some(component))
                .await;
        }
    }
    let auth = format!("Bearer {}", d.alice);
    let doc: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/status/acme/api/v2/components.json", server.base))
        .header("authorization", auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed: Vec<(String, i64)> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_string(), c["position"].as_i64().unwrap()))
        .collect();
    let expected: Vec<(String, i64)> =
        ["API", "Portal", "Acme API", "Acme reports"].iter().zip(1..).map(|(n, p)| (n.to_string(), p)).collect();
    assert_eq!(listed, expected, "the platform's components first, then acme's, numbered once: {doc}");
}

/// Posts `body` to the Events API door `path`: the status, `Retry-After` and the JSON answer.
async fn post_event(
    server: &Server,
    path: &str,
    body: serde_json::Value,
) -> (StatusCode, Option<String>, serde_json::Value) {
    let resp = reqwest::Client::new().post(format!("{}{path}", server.base)).json(&body).send().await.unwrap();
    let retry = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (resp.status(), retry, resp.json().await.unwrap())
}

async fn events_api_answers_as_pagerduty_on(db: Db) {
    // Six events a minute: a burst of one, then one every ten seconds.
    let server = Server::start(&db, &["--alert-events-per-minute", "6"]);
    let d = desk(&server).await;
    let key = json!({"name": "monitoring", "kind": "events_v2"});
    let key = server.ok(Method::POST, "/api/v1/orgs/acme/integration-keys", &d.admin, Some(key)).await["key"]
        .as_str()
        .unwrap()
        .to_string();
    let event = |routing_key: &str| {
        json!({"routing_key": routing_key, "event_action": "trigger", "dedup_key": "disk/db1",
               "payload": {"summary": "Disk full", "source": "db1", "severity": "critical"}})
    };
    let change = |routing_key: &str| json!({"routing_key": routing_key, "payload": {"summary": "Deployed v42"}});

    // A key of the wrong length, or with other than letters and digits: PagerDuty's words.
    for path in ["/v2/enqueue", "/v2/change/enqueue"] {
        let body = |k: &str| if path == "/v2/enqueue" { event(k) } else { change(k) };
        let (status, _, answer) = post_event(&server, path, body("e+23rschqsESqk9Q6_-g")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {answer}");
        assert_eq!(answer["status"], "invalid event", "{path}: {answer}");
        assert_eq!(answer["message"], "Event object is invalid", "{path}: {answer}");
        assert_eq!(
            answer["errors"],
            json!([
                "Length of 'routing_key' is incorrect (should be 32 characters)",
                "'routing_key' cannot contain non-alphanumeric characters."
            ]),
            "{path}"
        );
        let (status, _, answer) = post_event(&server, path, body(&"a".repeat(31))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {answer}");
        assert_eq!(answer["errors"], json!(["Length of 'routing_key' is incorrect (should be 32 characters)"]));
        let (status, _, answer) = post_event(&server, path, body(&"0".repeat(32))).await;
        assert_eq!((status, answer["errors"].clone()), (StatusCode::BAD_REQUEST, json!(["Invalid routing key"])));
    }

    // The budget spent: 429, and Retry-After says when the next event is taken.
    let (status, retry, _) = post_event(&server, "/v2/enqueue", event(&key)).await;
    assert_eq!((status, retry), (StatusCode::ACCEPTED, None));
    for path in ["/v2/enqueue", "/v2/change/enqueue"] {
        let body = if path == "/v2/enqueue" { event(&key) } else { change(&key) };
        let (status, retry, answer) = post_event(&server, path, body).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{path}: {answer}");
        assert_eq!(answer["status"], "throttle exceeded", "{path}");
        assert_eq!(retry.as_deref(), Some("10"), "{path}: one event every ten seconds");
    }
}
