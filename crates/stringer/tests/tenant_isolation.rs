//! Tenant isolation, route by route: every documented operation is called with the ids of
//! another tenant's data — by a customer of another org, and by staff not cleared for
//! federal data against a federal org — and must answer exactly as for data that does not
//! exist, leak nothing in its body, and change nothing.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Db, Server, desk, open_ticket};

const MISSING_TICKET: &str = "tkt_00000000000000000000000000";
const MISSING_USER: &str = "usr_00000000000000000000000000";

struct Victim {
    org: &'static str,
    ticket: String,
    schedule: String,
    user: String,
    subject: String,
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
        ("POST", "/api/v1/tokens") => Some(json!({"name": "probe", "scopes": ["read"], "expires_in_days": 1})),
        ("POST", "/api/v1/schedules") => Some(json!({"name": "probe", "org": org, "layers": []})),
        ("POST", p) if p.ends_with("/contact-methods") => {
            Some(json!({"kind": "webhook", "address": "https://example.com/hook"}))
        }
        ("POST", p) if p.ends_with("/overrides") => Some(
            json!({"from": "2026-11-27T00:00:00Z", "to": "2026-11-27T01:00:00Z", "user": "usr_00000000000000000000000000"}),
        ),
        ("PUT", p) if p.ends_with("/notification-rules") => Some(json!({"rules": []})),
        ("PUT", _) => Some(json!({"user": "usr_00000000000000000000000000"})),
        ("POST", "/api/v1/login") => {
            Some(json!({"email": format!("nobody@{org}.example"), "password": "probe-password"}))
        }
        ("POST", p) if p.ends_with("/comments") => Some(json!({"body": "probe"})),
        ("PATCH", _) => Some(json!({"severity": "P1"})),
        _ => None,
    }
}

fn concrete(path: &str, ticket: &str, user: &str, org: &str, schedule: &str) -> String {
    let id = if path.contains("/users/") {
        user
    } else if path.contains("/tokens/") {
        "tok_00000000000000000000000000"
    } else if path.contains("/schedules/") {
        schedule
    } else {
        ticket
    };
    path.replace("{id}", id).replace("{slug}", org).replace("{override_id}", "ovr_00000000000000000000000000")
}

async fn walk(server: &Server, attacker: &str, victim: &Victim, doc: &Value) {
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let target = concrete(path, &victim.ticket, &victim.user, victim.org, &victim.schedule);
            let (status, body) =
                server.call(method.clone(), &target, Some(attacker), body_for(path, &method, victim.org)).await;
            let text = body.to_string();
            for secret in [
                victim.ticket.as_str(),
                victim.user.as_str(),
                victim.subject.as_str(),
                victim.schedule.as_str(),
                &format!("\"{}\"", victim.org),
            ] {
                assert!(!text.contains(secret), "{method} {target} leaked {secret:?}: {text}");
            }
            if path.contains('{') {
                // Exactly as for something that does not exist.
                let missing =
                    concrete(path, MISSING_TICKET, MISSING_USER, "no-such-org", "sch_00000000000000000000000000");
                let (m_status, m_body) =
                    server.call(method.clone(), &missing, Some(attacker), body_for(path, &method, "no-such-org")).await;
                // Refused outright (404), or by role before any lookup (403, as for anything).
                if !path.contains("/tokens/") {
                    let refused = [StatusCode::NOT_FOUND, StatusCode::FORBIDDEN, StatusCode::BAD_REQUEST];
                    assert!(refused.contains(&status), "{method} {target}: {body}");
                }
                assert_eq!((status, &body), (m_status, &m_body), "{method} {target} differs from a missing one");
            } else {
                assert!(
                    status.is_success()
                        || [StatusCode::NOT_FOUND, StatusCode::FORBIDDEN, StatusCode::UNAUTHORIZED].contains(&status),
                    "{method} {target}: {status} {body}"
                );
                assert!(
                    !(method == Method::POST && path == "/api/v1/tickets" && status.is_success()),
                    "created a ticket in another tenant's org"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 19, "walked only {checked} operations");
}

fn user_of_staff(users: &Value) -> String {
    users["items"].as_array().unwrap().iter().find(|u| u["role"] == "engineer").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn isolation(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let (_, doc) = server.call(Method::GET, "/api/v1/openapi.json", None, None).await;
    let acme_ticket = open_ticket(&server, &d.alice, "acme", "P2").await;
    let fed_ticket = open_ticket(&server, &d.fiona, "fedco", "P2").await;
    let users = server.ok(Method::GET, "/api/v1/users", &d.admin, None).await;
    let user_of = |org: &str| {
        users["items"].as_array().unwrap().iter().find(|u| u["org"] == org).unwrap()["id"].as_str().unwrap().to_string()
    };
    let mut schedule_of = std::collections::HashMap::new();
    for org in ["acme", "fedco"] {
        let rotation = json!({"name": "r", "time_zone": "UTC", "members": [user_of_staff(&users)], "shift_days": 7, "handoff": "09:00", "start": "2026-11-02"});
        let body = json!({"name": format!("{org} on-call"), "org": org, "layers": [{"rotation": rotation}]});
        let s = server.ok(Method::POST, "/api/v1/schedules", &d.admin, Some(body)).await;
        schedule_of.insert(org, s["id"].as_str().unwrap().to_string());
    }
    let acme = Victim {
        org: "acme",
        schedule: schedule_of["acme"].clone(),
        ticket: acme_ticket["id"].as_str().unwrap().into(),
        user: user_of("acme"),
        subject: acme_ticket["subject"].as_str().unwrap().into(),
    };
    let fedco = Victim {
        org: "fedco",
        schedule: schedule_of["fedco"].clone(),
        ticket: fed_ticket["id"].as_str().unwrap().into(),
        user: user_of("fedco"),
        subject: fed_ticket["subject"].as_str().unwrap().into(),
    };

    // A customer of another org, against an Enterprise dedicated org and a federal org.
    walk(&server, &d.bob, &acme, &doc).await;
    walk(&server, &d.bob, &fedco, &doc).await;
    // Staff not cleared for federal data, against the federal org.
    walk(&server, &d.engineer, &fedco, &doc).await;

    // Nothing changed: the victims' tickets are as they were (version 1, still P2).
    for (token, victim) in [(&d.alice, &acme), (&d.cleared, &fedco)] {
        let t = server.ok(Method::GET, &format!("/api/v1/tickets/{}", victim.ticket), token, None).await;
        assert_eq!((t["version"].as_i64(), t["severity"].as_str()), (Some(1), Some("P2")), "{}", victim.org);
    }
    // And the rightful see their own: cleared staff see federal data; uncleared staff see acme.
    server.ok(Method::GET, &format!("/api/v1/tickets/{}", fedco.ticket), &d.cleared, None).await;
    server.ok(Method::GET, &format!("/api/v1/tickets/{}", acme.ticket), &d.engineer, None).await;
    let visible = server.ok(Method::GET, "/api/v1/orgs", &d.engineer, None).await;
    let slugs: Vec<&str> = visible["items"].as_array().unwrap().iter().map(|o| o["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["acme", "bolt"]);
}
both_backends!(another_tenants_data_answers_as_missing_on_every_route, isolation);
