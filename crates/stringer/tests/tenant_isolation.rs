//! The access walk: every operation of the OpenAPI document, called with a token of every
//! role and every subset of the scopes that role can hold, against the objects of orgs the
//! caller may not see (another customer's org; a federal org for uncleared staff) and against
//! missing ids. An unseen object must answer exactly as a missing one — same status, same
//! body — and leak nothing; no token gets a success its scopes do not allow (no GET without
//! `read`, no change without `write` or `admin`); and afterwards the victims' data is as it
//! was. Runs on SQLite and PostgreSQL.

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashMap;
use support::{Db, Server, open_ticket};

const MISSING_TICKET: &str = "tkt_00000000000000000000000000";
const MISSING_USER: &str = "usr_00000000000000000000000000";
const MISSING_SCHEDULE: &str = "sch_00000000000000000000000000";
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
        ("PATCH", _) => Some(json!({"severity": "P1"})),
        _ => None,
    }
}

fn concrete(path: &str, ticket: &str, user: &str, org: &str, schedule: &str, status: &[&str; 4]) -> String {
    let id = if path.starts_with("/api/v1/mail/") {
        // Received messages are numbered; the victim's and a missing one look alike.
        if ticket == MISSING_TICKET { "999999" } else { "424242" }
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
        let target = concrete(&path, &victim.ticket, &victim.user, victim.org, &victim.schedule, &victim.status_ids());
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
            let missing =
                concrete(&path, MISSING_TICKET, MISSING_USER, "no-such-org", MISSING_SCHEDULE, &MISSING_STATUS);
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
            // Creating a token, or a new org of another name, writes into no victim's org.
            let into_victim = !["/api/v1/tokens", "/api/v1/orgs"].contains(&path.as_str());
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
        let target = concrete(&path, &own.ticket, &own.user, own.org, &own.schedule, &own.status_ids());
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

fn subsets(scopes: &[&'static str]) -> Vec<Vec<&'static str>> {
    (1..(1u32 << scopes.len()))
        .map(|mask| scopes.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, s)| *s).collect())
        .collect()
}

async fn walk(db: Db) {
    let server = Server::start(&db, &[]);
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
        });
    }
    let users_before = server.ok(Method::GET, "/api/v1/users", &root, None).await["items"].as_array().unwrap().len();

    let mut calls = 0;
    for attacker in &attackers {
        for victim in victims.iter().filter(|v| !attacker.sees(v.org)) {
            calls += walk_unseen(&server, attacker, victim, &doc).await;
        }
    }
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
