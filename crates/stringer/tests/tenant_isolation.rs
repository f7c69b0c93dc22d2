//! The access walk: every operation of the OpenAPI document, called with a token of every
//! role and every subset of the scopes that role can hold, against the objects of orgs the
//! caller may not see (another customer's org; a federal org for uncleared staff) and against
//! missing ids. An unseen object must answer exactly as a missing one — same status, same
//! body — and leak nothing; no token gets a success its scopes do not allow (no GET without
//! `read`, no change without `write` or `admin`); and afterwards the victims' data is as it
//! was. Runs on SQLite and PostgreSQL.
//!
//! The other doors are walked the same way: the mail triage lists, a message's original and
//! its routing (each org's held, ignored and done mail, sent to the SMTP listener); the
//! Slack door (an uncleared engineer's button presses and `/stringer` commands in a federal
//! org's channel); and the phone line (another org's caller ID reaches no federal ticket).

use crate::support;

use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashMap;
use support::{Db, Server, open_ticket, until};

const MISSING_TICKET: &str = "tkt_00000000000000000000000000";
const MISSING_USER: &str = "usr_00000000000000000000000000";
const MISSING_SCHEDULE: &str = "sch_00000000000000000000000000";
/// A received message's id no message has.
const MISSING_MAIL: &str = "999999";
const MAIL_DOMAIN: &str = "support.example";
const SLACK_SECRET: &str = "walk-signing-secret";
const ACCOUNT: &str = "AC00000000000000000000000000000003";
const PHONE_TOKEN: &str = "walk-phone-auth-token";
const LINE: &str = "+15550109999";
/// The mail triage states walked.
const MAIL_STATES: [&str; 3] = ["held", "ignored", "done"];
/// A missing status page, component, incident and subscriber.
const MISSING_STATUS: [&str; 4] = [
    "stp_00000000000000000000000000",
    "stc_00000000000000000000000000",
    "sti_00000000000000000000000000",
    "sts_00000000000000000000000000",
];

/// One org's objects an attacker must not reach.
struct Victim {
    org: &'static str,
    ticket: String,
    schedule: String,
    user: String,
    subject: String,
    /// Its status page, a component, an incident and a subscriber on it (missing ids for an
    /// org on the shared platform, which has no page).
    status: [String; 4],
    /// Mail filed under the org, one message of each of [`MAIL_STATES`]: (id, subject).
    mail: Vec<(i64, String)>,
}

impl Victim {
    fn status_ids(&self) -> [&str; 4] {
        [&self.status[0], &self.status[1], &self.status[2], &self.status[3]]
    }
}

/// A caller: who, which org they may see (None: every non-federal org, `cleared` adds
/// federal), and a token with some of their scopes.
struct Attacker {
    label: String,
    token: String,
    org: Option<&'static str>,
    cleared: bool,
    scopes: Vec<&'static str>,
}

impl Attacker {
    fn sees(&self, org: &str) -> bool {
        match self.org {
            Some(own) => own == org,
            None => org != "fedco" || self.cleared,
        }
    }
}

fn body_for(path: &str, method: &Method, org: &str) -> Option<Value> {
    match (method.as_str(), path) {
        ("POST", "/api/v1/tickets") => {
            Some(json!({"org": org, "severity": "P3", "subject": "probe", "description": "probe"}))
        }
        ("POST", "/api/v1/orgs") => {
            Some(json!({"slug": format!("{org}-2"), "name": "x", "tier": "pro", "deployment": "shared"}))
        }
        ("POST", "/api/v1/users") => {
            Some(json!({"email": format!("probe@{org}.example"), "name": "p", "role": "member", "org": org}))
        }
        ("PATCH", "/api/v1/users/{id}") => Some(json!({"name": "probed"})),
        ("POST", "/api/v1/tokens") => Some(json!({"name": "probe", "scopes": ["read"], "expires_in_days": 1})),
        ("POST", "/api/v1/schedules") => Some(json!({"name": "probe", "org": org, "layers": []})),
        ("POST", p) if p.ends_with("/contact-methods") => {
            Some(json!({"kind": "webhook", "address": "https://93.184.215.14/hook"}))
        }
        ("POST", p) if p.ends_with("/overrides") => Some(
            json!({"from": "2026-11-27T00:00:00Z", "to": "2026-11-27T01:00:00Z", "user": "usr_00000000000000000000000000"}),
        ),
        ("PUT", p) if p.ends_with("/notification-rules") => Some(json!({"rules": []})),
        ("PUT", p) if p.contains("/components/") => Some(json!({"name": "probe", "status": "major_outage"})),
        ("PUT", p) if p.ends_with("/recommendations") => Some(json!({"body": "probe"})),
        ("PUT", _) => Some(json!({"user": "usr_00000000000000000000000000"})),
        ("POST", "/api/v1/login") => {
            Some(json!({"email": format!("nobody@{org}.example"), "password": "probe-password"}))
        }
        ("POST", p) if p.ends_with("/comments") => Some(json!({"body": "probe"})),
        ("PATCH", "/api/v1/orgs/{slug}") => Some(json!({"name": "probed"})),
        ("PATCH", "/api/v1/status-pages/{page}") => Some(json!({"name": "probed"})),
        ("POST", p) if p.ends_with("/components") => Some(json!({"name": "probe"})),
        ("POST", p) if p.ends_with("/incidents") => {
            Some(json!({"name": "probe", "status": "investigating", "body": "probe"}))
        }
        ("POST", p) if p.ends_with("/updates") => Some(json!({"status": "resolved", "body": "probe"})),
        ("POST", p) if p.ends_with("/subscribers") => {
            Some(json!({"kind": "webhook", "address": "https://93.184.215.14/status"}))
        }
        ("POST", p) if p.ends_with("/status-incident") => Some(json!({})),
        ("POST", p) if p.ends_with("/report/steps") => Some(json!({"step": "submit", "revision": 0})),
        ("POST", p) if p.ends_with("/assign") => Some(json!({"assignee": null})),
        ("POST", p) if p.ends_with("/route") => Some(json!({"org": "acme"})),
        ("PATCH", _) => Some(json!({"severity": "P1"})),
        _ => None,
    }
}

/// A path of the OpenAPI document with these ids; `mail` is a received message's.
fn concrete(path: &str, ids: (&str, &str, &str), org: &str, schedule: &str, status: &[&str; 4]) -> String {
    let (ticket, user, mail) = ids;
    let id = if path.starts_with("/api/v1/mail/") {
        mail
    } else if path.contains("/users/") {
        user
    } else if path.contains("/tokens/") {
        "tok_00000000000000000000000000"
    } else if path.contains("/schedules/") {
        schedule
    } else {
        ticket
    };
    path.replace("{id}", id)
        .replace("{slug}", org)
        .replace("{override_id}", "ovr_00000000000000000000000000")
        .replace("{page}", status[0])
        .replace("{component}", status[1])
        .replace("{incident}", status[2])
        .replace("{subscriber}", status[3])
        .replace("{quarter}", "2026-Q3")
}

fn operations(doc: &Value) -> Vec<(String, Method)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            ops.push((path.clone(), Method::from_bytes(method.to_uppercase().as_bytes()).unwrap()));
        }
    }
    ops
}

/// Calls every operation against a victim the attacker may not see, and against missing ids.
async fn walk_unseen(server: &Server, attacker: &Attacker, victim: &Victim, doc: &Value) -> usize {
    let mut calls = 0;
    for (path, method) in operations(doc) {
        if path == "/api/v1/login" {
            continue;
        }
        let held = victim.mail[0].0.to_string();
        let ids = (victim.ticket.as_str(), victim.user.as_str(), held.as_str());
        let target = concrete(&path, ids, victim.org, &victim.schedule, &victim.status_ids());
        let (status, body) =
            server.call(method.clone(), &target, Some(&attacker.token), body_for(&path, &method, victim.org)).await;
        let text = body.to_string();
        for secret in [
            victim.ticket.as_str(),
            victim.user.as_str(),
            victim.subject.as_str(),
            victim.schedule.as_str(),
            &format!("\"{}\"", victim.org),
        ] {
            assert!(!text.contains(secret), "{}: {method} {target} leaked {secret:?}: {text}", attacker.label);
        }
        calls += 1;
        if path.contains('{') {
            // Exactly as for something that does not exist.
            let ids = (MISSING_TICKET, MISSING_USER, MISSING_MAIL);
            let missing = concrete(&path, ids, "no-such-org", MISSING_SCHEDULE, &MISSING_STATUS);
            let missing_body = body_for(&path, &method, "no-such-org");
            let (m_status, m_body) = server.call(method.clone(), &missing, Some(&attacker.token), missing_body).await;
            calls += 1;
            assert_eq!(
                (status, &body),
                (m_status, &m_body),
                "{}: {method} {target} differs from a missing one",
                attacker.label
            );
            assert!(!status.is_success(), "{}: {method} {target}: {status} {body}", attacker.label);
        } else {
            // Creating a token, a new org of another name, or signing the ledger's head (which
            // names no org) writes into no victim's org.
            let into_victim = !["/api/v1/tokens", "/api/v1/orgs", "/api/v1/ledger/heads"].contains(&path.as_str());
            assert!(
                !(method == Method::POST && status.is_success() && into_victim),
                "{}: {method} {target} wrote into an org it may not see: {status} {body}",
                attacker.label
            );
        }
    }
    calls
}

/// Calls every operation on objects the attacker may see: no success without the scope.
async fn walk_scopes(server: &Server, attacker: &Attacker, own: &Victim, doc: &Value) -> usize {
    let mut calls = 0;
    for (path, method) in operations(doc) {
        if path == "/api/v1/login" {
            continue;
        }
        let held = own.mail[0].0.to_string();
        let ids = (own.ticket.as_str(), own.user.as_str(), held.as_str());
        let target = concrete(&path, ids, own.org, &own.schedule, &own.status_ids());
        let (status, body) =
            server.call(method.clone(), &target, Some(&attacker.token), body_for(&path, &method, own.org)).await;
        calls += 1;
        if status.is_success() {
            let needed: &[&str] = if method == Method::GET { &["read"] } else { &["write", "admin"] };
            assert!(
                needed.iter().any(|s| attacker.scopes.contains(s)),
                "{} ({:?}): {method} {target} succeeded without {needed:?}: {body}",
                attacker.label,
                attacker.scopes
            );
        }
        assert!(!status.is_server_error(), "{}: {method} {target}: {status} {body}", attacker.label);
    }
    calls
}

/// A message to the SMTP listener.
fn message(from: &str, subject: &str, extra: &str) -> (String, String) {
    let to = format!("support@{MAIL_DOMAIN}");
    (from.to_string(), format!("From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\n{extra}\r\nAbout our ticket.\r\n"))
}

/// Files mail under each victim's org through the SMTP listener, one message of each of
/// [`MAIL_STATES`]: a stranger's reply to its ticket (held), its customer's auto-reply
/// (ignored), and its customer's new request (done: a ticket). Each subject names the
/// victim's ticket, so a list that shows one leaks it.
async fn file_mail(server: &Server, root: &str, victims: &mut [Victim]) {
    let customers =
        HashMap::from([("acme", "amy@acme.example"), ("bolt", "bob@bolt.example"), ("fedco", "fiona@fedco.example")]);
    let mut sent = Vec::new();
    for victim in victims.iter() {
        let key = server.ok(Method::GET, &format!("/api/v1/tickets/{}", victim.ticket), root, None).await["key"]
            .as_str()
            .unwrap()
            .to_string();
        let customer = customers[victim.org];
        sent.push(message("eve@elsewhere.example", &format!("Re: [{key}] {}", victim.subject), ""));
        let auto = format!("Automatic reply: [{key}] {}", victim.subject);
        sent.push(message(customer, &auto, "Auto-Submitted: auto-replied\r\n"));
        sent.push(message(customer, &format!("More about {}", victim.subject), ""));
    }
    let to = format!("support@{MAIL_DOMAIN}");
    let envelopes: Vec<(&str, &str, String)> =
        sent.iter().map(|(from, raw)| (from.as_str(), to.as_str(), raw.clone())).collect();
    support::smtp_deliver(&support::smtp_address(server), &envelopes).await;
    for (victim, messages) in victims.iter_mut().zip(sent.chunks(3)) {
        for ((_, raw), state) in messages.iter().zip(MAIL_STATES) {
            let subject = raw.split("Subject: ").nth(1).unwrap().split("\r\n").next().unwrap().to_string();
            let found = until(&format!("{subject:?} {state}"), || async {
                let (_, list) =
                    server.call(Method::GET, &format!("/api/v1/mail?state={state}"), Some(root), None).await;
                list["items"].as_array().unwrap().iter().find(|m| m["subject"] == subject.as_str()).cloned()
            })
            .await;
            assert_eq!(found["org"], victim.org, "{state} mail is filed under the org it is about: {found}");
            victim.mail.push((found["id"].as_i64().unwrap(), subject));
        }
    }
}

/// The mail triage door against a victim the attacker may not see: no list shows its mail,
/// and its messages' originals and routing answer exactly as a missing message's.
async fn walk_mail(server: &Server, attacker: &Attacker, victim: &Victim) -> usize {
    let mut calls = 0;
    for state in MAIL_STATES {
        let (status, list) =
            server.call(Method::GET, &format!("/api/v1/mail?state={state}"), Some(&attacker.token), None).await;
        calls += 1;
        let text = list.to_string();
        for (id, subject) in &victim.mail {
            let listed = list["items"].as_array().is_some_and(|items| items.iter().any(|m| m["id"] == *id));
            assert!(
                !listed && !text.contains(subject.as_str()) && !text.contains(&format!("\"{}\"", victim.org)),
                "{}: the {state} list ({status}) shows {}'s mail {subject:?}: {text}",
                attacker.label,
                victim.org
            );
        }
    }
    for (id, subject) in &victim.mail {
        for (method, suffix, body) in
            [(Method::GET, "original", None), (Method::POST, "route", Some(json!({"org": "acme"})))]
        {
            let (status, answer) = server
                .call(method.clone(), &format!("/api/v1/mail/{id}/{suffix}"), Some(&attacker.token), body.clone())
                .await;
            let missing = format!("/api/v1/mail/{MISSING_MAIL}/{suffix}");
            let (m_status, m_answer) = server.call(method.clone(), &missing, Some(&attacker.token), body).await;
            calls += 2;
            assert_eq!(
                (status, &answer),
                (m_status, &m_answer),
                "{}: {method} {suffix} of {}'s {subject:?} differs from a missing message's",
                attacker.label,
                victim.org
            );
            assert!(
                !status.is_success() && !answer.to_string().contains(subject.as_str()),
                "{}: {status} {answer}",
                attacker.label
            );
        }
    }
    calls
}

/// Posts a form to the Slack door `path`, signed as Slack signs it now.
async fn slack_post(server: &Server, path: &str, form: &[(&str, String)]) -> (reqwest::StatusCode, String) {
    let body = serde_urlencoded::to_string(form).unwrap();
    let timestamp = jiff::Timestamp::now().as_second();
    let signature = stringer_integrations::slack::sign_request(SLACK_SECRET, timestamp, body.as_bytes());
    let response = reqwest::Client::new()
        .post(format!("{}{path}", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", timestamp.to_string())
        .header("x-slack-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The Slack door with a federal org: in the org's shared channel, an uncleared engineer
/// (a linked Slack member) and another org's customer press buttons on the federal ticket
/// and run `/stringer` commands naming it. Each answers exactly as for a missing ticket and
/// names nothing; nothing is acted on (checked with the victims' tickets afterwards).
async fn walk_slack(server: &Server, root: &str, ids: &HashMap<&str, String>, federal: &Victim) -> usize {
    let mut calls = 0;
    let linked = json!({"kind": "slack", "address": "UENG"});
    server.ok(Method::POST, &format!("/api/v1/users/{}/contact-methods", ids["eng"]), root, Some(linked)).await;
    server.ok(Method::PATCH, "/api/v1/orgs/fedco", root, Some(json!({"slack_channel": "#stringer-fedco"}))).await;
    let key = server.ok(Method::GET, &format!("/api/v1/tickets/{}", federal.ticket), root, None).await["key"]
        .as_str()
        .unwrap()
        .to_string();
    let secrets = [federal.ticket.as_str(), key.as_str(), federal.subject.as_str(), "FEDCO-"];
    let names_nothing = |what: &str, answer: &str| {
        for secret in secrets {
            assert!(!answer.contains(secret), "{what} names {secret:?}: {answer}");
        }
    };
    for action in ["stringer_ack", "stringer_resolve"] {
        let press = |ticket: &str| {
            let payload = json!({"type": "block_actions", "user": {"id": "UENG"},
                "actions": [{"action_id": action, "value": ticket, "action_ts": support::unique_action_ts()}]});
            [("payload", payload.to_string())]
        };
        let (status, answer) = slack_post(server, "/slack/interactions", &press(&federal.ticket)).await;
        let missing = slack_post(server, "/slack/interactions", &press(MISSING_TICKET)).await;
        calls += 2;
        assert_eq!(
            (status, &answer),
            (missing.0, &missing.1),
            "{action} on the federal ticket differs from a missing one"
        );
        // Refused, and told in Slack (200 with a message only the presser sees).
        assert!(
            status == reqwest::StatusCode::OK && answer.contains("\"ephemeral\"") && answer.contains("No such ticket"),
            "an uncleared engineer's {action} on a federal ticket: {status} {answer}"
        );
        names_nothing(action, &answer);
    }
    let missing_key = "FEDCO-999999";
    for member in ["UENG", "UBOB"] {
        for (text, as_missing) in [
            ("page".to_string(), None),
            (format!("page {key}"), Some(format!("page {missing_key}"))),
            (format!("page {}", federal.ticket), Some(format!("page {MISSING_TICKET}"))),
            (format!("status {key}"), Some(format!("status {missing_key}"))),
            (format!("status {}", federal.ticket), Some(format!("status {MISSING_TICKET}"))),
        ] {
            let command = |text: String| {
                vec![
                    ("command", "/stringer".to_string()),
                    ("channel_id", "CSTRINGER-FEDCO".to_string()),
                    ("user_id", member.to_string()),
                    ("text", text),
                    ("response_url", "https://hooks.slack.example/x".to_string()),
                ]
            };
            let form = command(text.clone());
            let (status, answer) = slack_post(server, "/slack/commands", &form).await;
            calls += 1;
            names_nothing(&format!("{member}'s /stringer {text}"), &answer);
            if let Some(missing) = as_missing {
                let form = command(missing);
                let (m_status, m_answer) = slack_post(server, "/slack/commands", &form).await;
                calls += 1;
                assert_eq!(
                    (status, &answer),
                    (m_status, &m_answer),
                    "{member}'s /stringer {text} differs from a missing ticket's"
                );
            }
        }
    }
    calls
}

/// The phone door with a federal org: with a federal P1 open, the caller IDs of other orgs'
/// customers (acme, Enterprise: a call opens a P1; bolt, Pro: a call may page its own open
/// P1) reach no federal ticket and hear nothing of it, and their calls' later steps naming
/// the federal ticket answer exactly as for a missing one. The federal P1 is unchanged.
async fn walk_phone(server: &Server, root: &str, ids: &HashMap<&str, String>, fiona: &str) -> usize {
    let mut calls = 0;
    let p1 = open_ticket(server, fiona, "fedco", "P1").await;
    let (p1_id, p1_key) = (p1["id"].as_str().unwrap().to_string(), p1["key"].as_str().unwrap().to_string());
    let events = |timeline: Value| -> Vec<Value> {
        timeline["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"].as_str().unwrap().starts_with("ticket."))
            .cloned()
            .collect()
    };
    let timeline = format!("/api/v1/tickets/{p1_id}/timeline?limit=200");
    let before = events(server.ok(Method::GET, &timeline, root, None).await);
    let spoken: String =
        p1_key.chars().filter(|c| c.is_ascii_alphanumeric()).map(String::from).collect::<Vec<_>>().join(" ");
    let secrets =
        [p1_id.as_str(), p1_key.as_str(), spoken.as_str(), "F E D C O", "fedco", p1["subject"].as_str().unwrap()];
    let incoming = format!("{}/twilio/voice", server.base);
    for (caller, number) in [("amy", "+15550200011"), ("bob", "+15550300011")] {
        server
            .ok(Method::PUT, &format!("/api/v1/users/{}/phone", ids[caller]), root, Some(json!({"number": number})))
            .await;
        let sid = format!("CA-walk-{caller}");
        let call = |more: &[(&'static str, &'static str)]| {
            let mut form = vec![
                ("AccountSid", ACCOUNT.to_string()),
                ("CallSid", sid.clone()),
                ("From", number.to_string()),
                ("To", LINE.to_string()),
            ];
            form.extend(more.iter().map(|(k, v)| (*k, v.to_string())));
            form
        };
        let phone_post = async |url: &str, form: &[(&str, String)]| {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            support::phone_post(url, &form, PHONE_TOKEN).await
        };
        let form = call(&[]);
        let (status, twiml) = phone_post(&incoming, &form).await;
        calls += 1;
        assert_eq!(status, reqwest::StatusCode::OK, "{caller}'s call: {twiml}");
        for secret in secrets {
            assert!(!twiml.contains(secret), "{caller}'s call hears of the federal P1 ({secret:?}): {twiml}");
        }
        // The call's later steps, naming the federal ticket: as for a ticket that is not.
        let more = [
            ("DialCallStatus", "completed"),
            ("DialCallDuration", "5"),
            ("RecordingUrl", "https://api.twilio.com/rec"),
            ("RecordingDuration", "5"),
            ("TranscriptionStatus", "completed"),
            ("TranscriptionText", "probe"),
        ];
        let form = call(&more);
        for step in ["answered", "rang", "recorded", "transcribed"] {
            let url = |ticket: &str| format!("{incoming}/{step}?ticket={ticket}&place=0&whom={}", ids["eng"]);
            let (status, answer) = phone_post(&url(&p1_id), &form).await;
            let (m_status, m_answer) = phone_post(&url(MISSING_TICKET), &form).await;
            calls += 2;
            assert_eq!(
                (status, &answer),
                (m_status, &m_answer),
                "{caller}'s {step} naming the federal P1 differs from a missing ticket's"
            );
            assert!(!status.is_success(), "{caller}'s {step} on the federal P1: {status} {answer}");
        }
    }
    let after = events(server.ok(Method::GET, &timeline, root, None).await);
    assert_eq!(before, after, "the federal P1 was not acted on through the phone line");
    let comments = server.ok(Method::GET, &format!("/api/v1/tickets/{p1_id}/comments"), root, None).await;
    assert_eq!(comments["items"], json!([]), "nothing was noted on the federal P1");
    // The calls opened tickets in their callers' orgs only: acme's call one, bolt's none.
    let list = server.ok(Method::GET, "/api/v1/tickets?limit=200", root, None).await;
    let opened: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["subject"].as_str().unwrap().starts_with("Call to the P1 line from"))
        .map(|t| t["org"].as_str().unwrap())
        .collect();
    assert_eq!(opened, ["acme"], "the calls' tickets");
    calls
}

fn subsets(scopes: &[&'static str]) -> Vec<Vec<&'static str>> {
    (1..(1u32 << scopes.len()))
        .map(|mask| scopes.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, s)| *s).collect())
        .collect()
}

async fn walk(db: Db) {
    let members = [("UENG", "eng@stringer.example"), ("UBOB", "bob@bolt.example"), ("UAMY", "amy@acme.example")];
    let (slack, _posts) = support::slack_api(&members).await;
    let server = Server::start(
        &db,
        &[
            "--smtp-listen",
            "127.0.0.1:0",
            "--mail-trust-loopback",
            "--mail-domain",
            MAIL_DOMAIN,
            "--slack-token",
            "xoxb-walk",
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
            "http://127.0.0.1:9",
        ],
    );
    let root = server.admin();
    let (_, doc) = server.call(Method::GET, "/api/v1/openapi.json", None, None).await;
    for (slug, tier, deployment) in
        [("acme", "enterprise", "dedicated"), ("bolt", "pro", "shared"), ("fedco", "enterprise", "federal")]
    {
        let org = json!({"slug": slug, "name": slug, "tier": tier, "deployment": deployment});
        server.ok(Method::POST, "/api/v1/orgs", &root, Some(org)).await;
    }
    // One person of every role; the admin `ada` is not cleared for federal, `root` is.
    let people: [(&str, &str, Option<&'static str>, bool); 11] = [
        ("eng", "engineer", None, false),
        ("pat", "platform_engineer", None, true),
        ("tia", "tam", None, false),
        ("vic", "vp_engineering", None, true),
        ("lee", "support_lead", None, false),
        ("ada", "admin", None, false),
        ("alice", "org_admin", Some("acme"), false),
        ("amy", "member", Some("acme"), false),
        ("bob", "member", Some("bolt"), false),
        ("bea", "org_admin", Some("bolt"), false),
        ("fiona", "member", Some("fedco"), false),
    ];
    let mut attackers = Vec::new();
    let mut ids = HashMap::new();
    for (name, role, org, cleared) in people {
        let email = format!("{name}@{}.example", org.unwrap_or("stringer"));
        let password = format!("{name}-password-123");
        let body = json!({"email": email, "name": name, "role": role, "org": org, "federal_cleared": cleared, "password": password});
        let user = server.ok(Method::POST, "/api/v1/users", &root, Some(body)).await;
        ids.insert(name, user["id"].as_str().unwrap().to_string());
        let login =
            server.ok(Method::POST, "/api/v1/login", "", Some(json!({"email": email, "password": password}))).await;
        let login_token = login["token"].as_str().unwrap().to_string();
        let scopes: Vec<&'static str> = ["read", "write", "admin"]
            .into_iter()
            .filter(|s| login["scopes"].as_array().unwrap().iter().any(|x| x == s))
            .collect();
        for subset in subsets(&scopes) {
            let body = json!({"name": format!("{subset:?}"), "scopes": subset, "expires_in_days": 1});
            let token = server.ok(Method::POST, "/api/v1/tokens", &login_token, Some(body)).await;
            attackers.push(Attacker {
                label: format!("{name} ({role})"),
                token: token["token"].as_str().unwrap().to_string(),
                org,
                cleared,
                scopes: subset,
            });
        }
    }
    let customer_token =
        |org: &str| attackers.iter().find(|a| a.org == Some(org) && a.scopes.contains(&"write")).unwrap().token.clone();
    let pages = server.ok(Method::GET, "/api/v1/status-pages", &root, None).await;
    let mut victims = Vec::new();
    for (org, customer, staff) in [("acme", "amy", "eng"), ("bolt", "bob", "eng"), ("fedco", "fiona", "pat")] {
        let ticket = open_ticket(&server, &customer_token(org), org, "P2").await;
        let rotation = json!({"name": "r", "time_zone": "UTC", "members": [ids[staff]], "shift_days": 7, "handoff": "09:00", "start": "2026-11-02"});
        let body = json!({"name": format!("{org} on-call"), "org": org, "layers": [{"rotation": rotation}]});
        let schedule = server.ok(Method::POST, "/api/v1/schedules", &root, Some(body)).await;
        let page = pages.as_array().unwrap().iter().find(|p| p["org"] == org).map(|p| p["id"].as_str().unwrap());
        let status = match page {
            Some(page) => {
                let base = format!("/api/v1/status-pages/{page}");
                let component =
                    server.ok(Method::POST, &format!("{base}/components"), &root, Some(json!({"name": "c"}))).await;
                let incident = json!({"name": "i", "status": "investigating", "body": "b"});
                let incident = server.ok(Method::POST, &format!("{base}/incidents"), &root, Some(incident)).await;
                let hook = json!({"kind": "webhook", "address": "https://93.184.215.14/victim"});
                let subscriber = server.ok(Method::POST, &format!("{base}/subscribers"), &root, Some(hook)).await;
                [
                    page,
                    component["id"].as_str().unwrap(),
                    incident["id"].as_str().unwrap(),
                    subscriber["id"].as_str().unwrap(),
                ]
                .map(String::from)
            }
            None => MISSING_STATUS.map(String::from),
        };
        victims.push(Victim {
            org,
            status,
            ticket: ticket["id"].as_str().unwrap().into(),
            schedule: schedule["id"].as_str().unwrap().into(),
            user: ids[customer].clone(),
            subject: ticket["subject"].as_str().unwrap().into(),
            mail: Vec::new(),
        });
    }
    file_mail(&server, &root, &mut victims).await;
    let users_before = server.ok(Method::GET, "/api/v1/users", &root, None).await["items"].as_array().unwrap().len();

    let mut calls = 0;
    for attacker in &attackers {
        for victim in victims.iter().filter(|v| !attacker.sees(v.org)) {
            calls += walk_unseen(&server, attacker, victim, &doc).await;
            calls += walk_mail(&server, attacker, victim).await;
        }
    }
    calls += walk_slack(&server, &root, &ids, &victims[2]).await;
    calls += walk_phone(&server, &root, &ids, &customer_token("fedco")).await;
    // Nothing of the victims changed: their tickets are as they were (version 1, still P2),
    // and nobody was created in their orgs.
    for victim in &victims {
        let t = server.ok(Method::GET, &format!("/api/v1/tickets/{}", victim.ticket), &root, None).await;
        assert_eq!((t["version"].as_i64(), t["severity"].as_str()), (Some(1), Some("P2")), "{}", victim.org);
        let review = format!("/api/v1/orgs/{}/reviews/2026-Q3/recommendations", victim.org);
        let rec = server.ok(Method::GET, &review, &root, None).await;
        assert!(rec["body"].is_null(), "{}: nobody unseen wrote the review's recommendations: {rec}", victim.org);
    }
    let users_after = server.ok(Method::GET, "/api/v1/users", &root, None).await["items"].as_array().unwrap().len();
    for victim in victims.iter().filter(|v| v.status[0] != MISSING_STATUS[0]) {
        let base = format!("/api/v1/status-pages/{}", victim.status[0]);
        let components = server.ok(Method::GET, &format!("{base}/components"), &root, None).await;
        let names: Vec<&str> = components.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["c"], "{}: nobody unseen added or renamed a component", victim.org);
        assert_eq!(components[0]["status"], "operational", "{}", victim.org);
        let incidents = server.ok(Method::GET, &format!("{base}/incidents"), &root, None).await;
        let updates = incidents["incidents"][0]["incident_updates"].as_array().unwrap().len();
        assert_eq!((incidents["incidents"].as_array().unwrap().len(), updates), (1, 1), "{}", victim.org);
    }
    assert_eq!(users_before, users_after, "no user was created in an org its creator may not see");
    // Every victim's mail is still where it was, in the state it was in.
    for victim in &victims {
        for ((id, subject), state) in victim.mail.iter().zip(MAIL_STATES) {
            let list = server.ok(Method::GET, &format!("/api/v1/mail?state={state}"), &root, None).await;
            let found = list["items"].as_array().unwrap().iter().any(|m| m["id"] == *id && m["subject"] == *subject);
            assert!(found, "{}: {subject:?} is no longer {state}: {list}", victim.org);
        }
    }

    // Scopes mean what they say on the caller's own objects too.
    for attacker in &attackers {
        let own = victims.iter().find(|v| attacker.sees(v.org)).unwrap();
        calls += walk_scopes(&server, attacker, own, &doc).await;
    }
    // And the rightful see their own: cleared staff see federal data; uncleared staff acme.
    let by = |label: &str| attackers.iter().find(|a| a.label.starts_with(label) && a.scopes == ["read"]).unwrap();
    server.ok(Method::GET, &format!("/api/v1/tickets/{}", victims[2].ticket), &by("pat").token, None).await;
    server.ok(Method::GET, &format!("/api/v1/tickets/{}", victims[0].ticket), &by("eng").token, None).await;
    let visible = server.ok(Method::GET, "/api/v1/orgs", &by("ada").token, None).await;
    let slugs: Vec<&str> = visible["items"].as_array().unwrap().iter().map(|o| o["slug"].as_str().unwrap()).collect();
    assert!(slugs.contains(&"acme") && slugs.contains(&"bolt"), "{slugs:?}");
    assert!(!slugs.contains(&"fedco"), "an uncleared admin does not see the federal org: {slugs:?}");
    assert!(attackers.len() >= 40, "{} tokens", attackers.len());
    eprintln!("access walk: {} tokens, {} operations, {calls} requests", attackers.len(), operations(&doc).len());
}
both_backends!(every_role_and_scope_against_unseen_and_missing_objects, walk);
