//! The acknowledgement walk (issue 23): one person acknowledges a fresh paging P1 through
//! every door — the JSON API, the console's form, the one-click link of their page, a Slack
//! button and the phone line's answer — and every door ends in the same application call:
//! the same timeline entry (`ticket.acknowledged`, the person as its actor), the escalation
//! stopped (the TAM is never paged), and the ticket read exactly once by id while the door
//! acknowledges (the SQL statements in the server's debug log, counted between two marks).
//! Once the person is deactivated, each door refuses the same acknowledgement and changes
//! nothing: the escalation goes on. Runs on SQLite and PostgreSQL.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use support::{Db, Server, open_ticket, receiver, until};

const SLACK_SECRET: &str = "ack-walk-signing-secret";
const ACCOUNT: &str = "AC00000000000000000000000000000002";
const PHONE_TOKEN: &str = "ack-walk-auth-token";
const LINE: &str = "+15550109999";
const NICO_PHONE: &str = "+15550100001";
const ZOE_PHONE: &str = "+15550200001";
const NICO_SLACK: &str = "U0NICO001";
const DOORS: [&str; 5] = ["api", "console", "link", "slack", "phone"];

/// The people and credentials of the walk.
struct Walk {
    server: Server,
    log: PathBuf,
    hooks: support::Log,
    admin: String,
    zoe: String,
    nico: String,
    /// nico's API token, and his signed-in browser with its session cookie.
    token: String,
    browser: (reqwest::Client, String),
}

/// A door's ticket: its id, its key, and (phone) the signed URL of nico's answer.
struct Ticket {
    id: String,
    key: String,
    answer: Option<String>,
}

/// The answer's form: the leg put through to nico, child of the caller's call `sid`.
fn answer_form(sid: &str) -> Vec<(&str, &str)> {
    vec![("AccountSid", ACCOUNT), ("CallSid", "leg"), ("ParentCallSid", sid), ("From", LINE), ("To", NICO_PHONE)]
}

async fn setup(db: &Db) -> Walk {
    let dir = std::env::temp_dir().join(support::unique("stringer-ack-walk"));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("server.log");
    let (hooks_url, hooks) = receiver().await;
    let (slack, _posts) = support::slack_api(&[]).await;
    let provider = provider().await;
    // The TAM is paged 15 s after an unacknowledged P1 is opened (not 15 minutes): an
    // acknowledgement that stops the escalation stops that page.
    let contract = support::contract_with(&[(
        "{ notify = \"tam\", after = \"15 minutes\"",
        "{ notify = \"tam\", after = \"15 seconds\"",
    )]);
    let args = [
        "--contract",
        contract.to_str().unwrap(),
        "--allow-private-webhooks",
        "--slack-token",
        "xoxb-t",
        "--slack-signing-secret",
        SLACK_SECRET,
        "--slack-api-url",
        &slack,
        "--sms-account",
        ACCOUNT,
        "--sms-token",
        PHONE_TOKEN,
        "--sms-from",
        LINE,
        "--sms-api-url",
        &provider,
    ];
    let server = Server::start_logging(db, &args, Some((&log, "warn,sqlx::query=debug")));
    let admin = server.admin();
    // nico (engineer, zen's named on-call engineer) acts through every door: a password for
    // the API and the console, a webhook for his pages' links, a Slack member id and a phone.
    let mut ids = std::collections::HashMap::new();
    for (name, role) in [("nico", "engineer"), ("tina", "tam")] {
        let body = json!({"email": format!("{name}@stringer.example"), "name": name, "role": role,
            "password": format!("{name}-password-123")});
        let id = server.ok(Method::POST, "/api/v1/users", &admin, Some(body)).await["id"].as_str().unwrap().to_string();
        let mut methods = vec![json!({"kind": "webhook", "address": format!("{hooks_url}/hook/{name}")})];
        if name == "nico" {
            methods.push(json!({"kind": "slack", "address": NICO_SLACK}));
            methods.push(json!({"kind": "voice", "address": NICO_PHONE}));
        }
        for method in methods {
            server.ok(Method::POST, &format!("/api/v1/users/{id}/contact-methods"), &admin, Some(method)).await;
        }
        ids.insert(name, id);
    }
    let zoe = support::zen_org(&server, &admin, Some(&ids["tina"]), &[&ids["nico"]]).await;
    let zoe_id = server.ok(Method::GET, "/api/v1/me", &zoe, None).await["id"].as_str().unwrap().to_string();
    let number = json!({"number": ZOE_PHONE});
    server.ok(Method::PUT, &format!("/api/v1/users/{zoe_id}/phone"), &admin, Some(number)).await;
    let login = json!({"email": "nico@stringer.example", "password": "nico-password-123"});
    let token = server.ok(Method::POST, "/api/v1/login", "", Some(login)).await["token"].as_str().unwrap().to_string();
    let (client, set) = support::sign_in(&server, "nico@stringer.example", "nico-password-123", "/console").await;
    let browser = (client, set.split(';').next().unwrap().to_string());
    Walk { server, log, hooks, admin, zoe, nico: ids["nico"].clone(), token, browser }
}

/// A fresh paging P1 for `door`: opened by zoe, or (phone) by zoe's call to the P1 line,
/// which rings nico; `call` names the call.
async fn fresh_p1(w: &Walk, door: &str, call: &str) -> Ticket {
    if door != "phone" {
        let t = open_ticket(&w.server, &w.zoe, "zen", "P1").await;
        let (id, key) = (t["id"].as_str().unwrap().to_string(), t["key"].as_str().unwrap().to_string());
        return Ticket { id, key, answer: None };
    }
    let incoming = format!("{}/twilio/voice", w.server.base);
    let form = [("AccountSid", ACCOUNT), ("CallSid", call), ("From", ZOE_PHONE), ("To", LINE)];
    let (status, twiml) = support::phone_post(&incoming, &form, PHONE_TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{twiml}");
    let answer = support::twiml_attribute(&twiml, "Number", "url").unwrap_or_else(|| panic!("nico is rung: {twiml}"));
    assert!(answer.contains(&w.nico), "the first person rung is nico: {answer}");
    let list = w.server.ok(Method::GET, "/api/v1/tickets?limit=200", &w.admin, None).await;
    let subject = format!("Call to the P1 line from {ZOE_PHONE}");
    let ticket = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["subject"] == subject.as_str() && answer.contains(t["id"].as_str().unwrap()))
        .unwrap_or_else(|| panic!("the call opened a ticket: {list}"))
        .clone();
    assert_eq!((ticket["severity"].as_str(), ticket["channel"].as_str()), (Some("P1"), Some("phone")));
    Ticket {
        id: ticket["id"].as_str().unwrap().into(),
        key: ticket["key"].as_str().unwrap().into(),
        answer: Some(answer),
    }
}

/// A stand-in for the telephony provider's REST API that accepts every call and message, so
/// no page to nico's phone is retried while another door acknowledges.
async fn provider() -> String {
    let accept = || async { (StatusCode::CREATED, axum::Json(json!({"sid": "CA0000"}))) };
    let app = axum::Router::new().fallback(accept);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// Waits until every page of `ticket` to nico (webhook, Slack, phone) has been sent: the
/// engine reads the ticket before each send, and those reads must not be counted as the
/// acknowledgement's.
async fn pages_sent(w: &Walk, ticket: &str) {
    until("nico's pages of the ticket sent", || async {
        let pages = w.server.ok(Method::GET, "/api/v1/me/pages", &w.token, None).await;
        let ours: Vec<&Value> = pages["items"].as_array().unwrap().iter().filter(|p| p["ticket"] == ticket).collect();
        (ours.len() == 3 && ours.iter().all(|p| p["status"] == "sent")).then_some(())
    })
    .await;
}

/// The one-click link of nico's page of `ticket`, as his webhook got it.
async fn link_for(hooks: &support::Log, ticket: &str) -> String {
    until("nico's page with its link", || async {
        hooks.lock().unwrap().iter().find_map(|r| {
            let body: Value = serde_json::from_str(&r.body).ok()?;
            let ours = r.who == "nico" && body["notice"]["ticket"] == ticket;
            ours.then(|| body["ack_url"].as_str().map(String::from)).flatten()
        })
    })
    .await
}

/// The console ticket page's CSRF token, read by nico's browser.
async fn console_csrf(w: &Walk, key: &str) -> String {
    let (client, cookie) = &w.browser;
    let page = client.get(format!("{}/console/tickets/{key}", w.server.base)).header("cookie", cookie).send().await;
    let html = page.unwrap().text().await.unwrap();
    html.split("name=\"csrf\" value=\"").nth(1).and_then(|r| r.split('"').next()).expect("a form").to_string()
}

/// What is ready before the acknowledgement itself: the link, the console's CSRF token.
enum Ready {
    Nothing,
    Link(String),
    Csrf(String),
}

async fn prepare(w: &Walk, door: &str, t: &Ticket) -> Ready {
    match door {
        "link" => Ready::Link(link_for(&w.hooks, &t.id).await),
        "console" => Ready::Csrf(console_csrf(w, &t.key).await),
        _ => Ready::Nothing,
    }
}

/// Acknowledges `t` through `door` as nico; answers whether the door says it did, and
/// what it answered.
async fn acknowledge(w: &Walk, door: &str, t: &Ticket, ready: &Ready, call: &str) -> (bool, String) {
    match (door, ready) {
        ("api", _) => {
            let path = format!("/api/v1/tickets/{}/acknowledge", t.id);
            let (status, body) = w.server.call(Method::POST, &path, Some(&w.token), None).await;
            (status == StatusCode::OK, format!("{status} {body}"))
        }
        ("console", Ready::Csrf(csrf)) => {
            let (client, cookie) = &w.browser;
            let resp = client
                .post(format!("{}/console/tickets/{}/acknowledge", w.server.base, t.key))
                .header("cookie", cookie)
                .form(&[("csrf", csrf.as_str())])
                .send()
                .await
                .unwrap();
            let location = resp.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or("").to_string();
            let done = resp.status() == StatusCode::SEE_OTHER && location == format!("/console/tickets/{}", t.key);
            (done, format!("{} -> {location:?}", resp.status()))
        }
        ("link", Ready::Link(link)) => {
            let resp = reqwest::Client::new().post(link).send().await.unwrap();
            let status = resp.status();
            (status == StatusCode::OK, format!("{status} {}", resp.text().await.unwrap()))
        }
        ("slack", _) => {
            let body = support::slack_body(NICO_SLACK, "stringer_ack", &t.id, &support::unique_action_ts());
            let now = jiff::Timestamp::now().as_second();
            let signature = stringer_integrations::slack::sign_request(SLACK_SECRET, now, body.as_bytes());
            let resp = reqwest::Client::new()
                .post(format!("{}/slack/interactions", w.server.base))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("x-slack-request-timestamp", now.to_string())
                .header("x-slack-signature", signature)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = resp.status();
            let text = resp.text().await.unwrap();
            // A refusal is answered 200 as well, with a message only the presser sees.
            (status == StatusCode::OK && !text.contains("ephemeral"), format!("{status} {text}"))
        }
        ("phone", _) => {
            let answer = t.answer.as_deref().unwrap();
            let (status, twiml) = support::phone_post(answer, &answer_form(call), PHONE_TOKEN).await;
            (status == StatusCode::OK && twiml.contains("Connecting you now"), format!("{status} {twiml}"))
        }
        _ => unreachable!("{door}"),
    }
}

/// The ticket's `ticket.acknowledged` entries: (actor, who the body names).
async fn acknowledgements(w: &Walk, id: &str) -> Vec<(Option<String>, String)> {
    timeline(w, id)
        .await
        .into_iter()
        .filter(|e| e["kind"] == "ticket.acknowledged")
        .map(|e| (e["actor"].as_str().map(String::from), e["body"]["by"].as_str().unwrap_or_default().to_string()))
        .collect()
}

async fn timeline(w: &Walk, id: &str) -> Vec<Value> {
    let t = w.server.ok(Method::GET, &format!("/api/v1/tickets/{id}/timeline?limit=200"), &w.admin, None).await;
    t["items"].as_array().unwrap().clone()
}

/// The ticket's page notices to the TAM on its timeline.
async fn tam_pages(w: &Walk, id: &str) -> usize {
    let entries = timeline(w, id).await;
    entries.iter().filter(|e| e["kind"] == "page" && e["body"]["role"] == "tam").count()
}

fn log_len(log: &Path) -> usize {
    std::fs::read_to_string(log).unwrap().len()
}

async fn ack_walk(db: Db) {
    let w = setup(&db).await;
    let mut reads = Vec::new();
    let mut acked = Vec::new();
    for door in DOORS {
        let call = format!("CA-{door}");
        let t = fresh_p1(&w, door, &call).await;
        let ready = prepare(&w, door, &t).await;
        pages_sent(&w, &t.id).await;
        let mark = log_len(&w.log);
        let (done, answer) = acknowledge(&w, door, &t, &ready, &call).await;
        let during = std::fs::read_to_string(&w.log).unwrap()[mark..].to_string();
        assert!(done, "the {door} door acknowledges: {answer}");
        reads.push((door, support::ticket_reads(&during), during));
        // (a) The same timeline entry, whichever the door: one acknowledgement, by nico.
        assert_eq!(
            acknowledgements(&w, &t.id).await,
            [(Some(w.nico.clone()), w.nico.clone())],
            "the {door} door records the acknowledgement as nico, once"
        );
        let view = w.server.ok(Method::GET, &format!("/api/v1/tickets/{}", t.id), &w.admin, None).await;
        assert_eq!(view["acknowledged_by"].as_str(), Some(w.nico.as_str()), "{door}: {view}");
        acked.push((door, t));
    }
    // (c) One read of the ticket, as the one call promises.
    let figures: Vec<(&str, usize)> = reads.iter().map(|(door, n, _)| (*door, *n)).collect();
    eprintln!("ticket reads per acknowledgement: {figures:?}");
    for (door, n, during) in &reads {
        assert_eq!(*n, 1, "the {door} door read its ticket {n} times while acknowledging {figures:?}:\n{during}");
    }

    // Deactivated, nico is refused at every door. His pages, link, browser session, token
    // and the call put through to him all come from before.
    let mut refused = Vec::new();
    for door in DOORS {
        let call = format!("CA-late-{door}");
        let t = fresh_p1(&w, door, &call).await;
        let ready = prepare(&w, door, &t).await;
        refused.push((door, t, ready, call));
    }
    let (status, _) = w.server.call(Method::DELETE, &format!("/api/v1/users/{}", w.nico), Some(&w.admin), None).await;
    assert!(status.is_success(), "nico deactivated: {status}");
    for (door, t, ready, call) in &refused {
        let before = timeline(&w, &t.id).await;
        let (done, answer) = acknowledge(&w, door, t, ready, call).await;
        assert!(!done, "the {door} door took a deactivated person's acknowledgement: {answer}");
        let after = timeline(&w, &t.id).await;
        // (d) Nothing changed: nothing written as nico, no acknowledgement.
        let by_nico: Vec<&Value> =
            after.iter().filter(|e| e["actor"] == w.nico.as_str() || e["body"]["by"] == w.nico.as_str()).collect();
        assert!(by_nico.is_empty(), "the {door} door wrote as a deactivated nico: {by_nico:?}");
        assert!(acknowledgements(&w, &t.id).await.is_empty(), "the {door} door acknowledged nothing");
        let view = w.server.ok(Method::GET, &format!("/api/v1/tickets/{}", t.id), &w.admin, None).await;
        assert!(view["acknowledged_at"].is_null(), "{door}: {view}");
        let new: Vec<&Value> = after.iter().filter(|e| !before.contains(e) && e["kind"] != "page").collect();
        assert!(new.is_empty(), "the {door} door's refusal changed the ticket: {new:?}");
    }
    let (status, _) = w
        .server
        .call(Method::POST, &format!("/api/v1/tickets/{}/acknowledge", refused[0].1.id), Some(&w.token), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the API refuses a deactivated person's token");

    // (b) The escalation of every refused ticket goes on: the TAM is paged for each of them,
    // 15 s after it was opened. Each acknowledged ticket was opened before them, so its TAM
    // page would have come by then: it never does.
    for (door, t, _, _) in &refused {
        until(&format!("the TAM paged for the {door} ticket refused"), || async {
            (tam_pages(&w, &t.id).await > 0).then_some(())
        })
        .await;
    }
    for (door, t) in &acked {
        assert_eq!(tam_pages(&w, &t.id).await, 0, "the {door} door's acknowledgement stopped the escalation");
        let paged_tina = w.hooks.lock().unwrap().iter().any(|r| r.who == "tina" && r.body.contains(&t.id));
        assert!(!paged_tina, "tina was paged for the {door} door's acknowledged ticket");
    }
}
both_backends!(the_same_acknowledgement_through_every_door, ack_walk);
