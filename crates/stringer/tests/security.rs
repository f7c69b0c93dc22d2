//! One test per finding of the outside security probe (issue "one access policy for every
//! door"). Each drives the real server the way the probe did and asserts the closed door.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::{Db, Server, desk, open_ticket, receiver};

async fn token_with(server: &Server, token: &str, scopes: &[&str]) -> (String, String) {
    let body = json!({"name": format!("{scopes:?}"), "scopes": scopes, "expires_in_days": 1});
    let created = server.ok(Method::POST, "/api/v1/tokens", token, Some(body)).await;
    (created["token"].as_str().unwrap().to_string(), created["id"].as_str().unwrap().to_string())
}

async fn login(server: &Server, email: &str, password: &str) -> (StatusCode, Value) {
    server.call(Method::POST, "/api/v1/login", None, Some(json!({"email": email, "password": password}))).await
}

async fn staff(server: &Server, admin: &str, email: &str, role: &str, cleared: bool) -> String {
    let body = json!({"email": email, "name": email, "role": role, "federal_cleared": cleared, "password": format!("{email}-password")});
    server.ok(Method::POST, "/api/v1/users", admin, Some(body)).await["id"].as_str().unwrap().to_string()
}

/// F1: a token without the `admin` scope cannot create staff, grant roles or clearance, or
/// create orgs — even when its owner is an admin.
async fn f1_scope_escalation(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let (read_write, _) = token_with(&server, &d.admin, &["read", "write"]).await;
    let body = json!({"email": "mallory@stringer.example", "name": "m", "role": "admin", "federal_cleared": true, "password": "mallory-password-1"});
    let (status, _) = server.call(Method::POST, "/api/v1/users", Some(&read_write), Some(body)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(login(&server, "mallory@stringer.example", "mallory-password-1").await.0, StatusCode::UNAUTHORIZED);
    let org = json!({"slug": "evil", "name": "e", "tier": "pro", "deployment": "shared"});
    assert_eq!(server.call(Method::POST, "/api/v1/orgs", Some(&read_write), Some(org)).await.0, StatusCode::FORBIDDEN);
    // A customer admin's login cannot create staff either.
    let body = json!({"email": "x@stringer.example", "name": "x", "role": "engineer"});
    assert_eq!(server.call(Method::POST, "/api/v1/users", Some(&d.alice), Some(body)).await.0, StatusCode::FORBIDDEN);
}
both_backends!(f1_only_admin_scoped_admins_create_staff_and_orgs, f1_scope_escalation);

/// F2: an uncleared person is never paged for a federal org's ticket, and an acknowledgement
/// link stops working for someone who may no longer act on its ticket; uncleared staff cannot
/// be made TAM, named engineer or member of a federal org's schedule.
async fn f2_federal_pages(db: Db) {
    let (hooks, log) = receiver().await;
    let server = Server::start(&db, &["--allow-private-webhooks"]);
    let d = desk(&server).await;
    let lena = staff(&server, &d.admin, "lena@stringer.example", "support_lead", false).await;
    let carl = staff(&server, &d.admin, "carl@stringer.example", "platform_engineer", true).await;
    for (id, who) in [(&lena, "lena"), (&carl, "carl")] {
        let method = json!({"kind": "webhook", "address": format!("{hooks}/hook/{who}")});
        server.ok(Method::POST, &format!("/api/v1/users/{id}/contact-methods"), &d.admin, Some(method)).await;
    }
    // The platform schedule has the uncleared lead on call around the clock.
    let rotation = json!({"name": "r", "time_zone": "UTC", "members": [lena], "shift_days": 7, "handoff": "00:00", "start": "2026-01-05"});
    let schedule = json!({"name": "platform", "layers": [{"rotation": rotation}]});
    server.ok(Method::POST, "/api/v1/schedules", &d.admin, Some(schedule)).await;
    let fed = open_ticket(&server, &d.fiona, "fedco", "P1").await["id"].as_str().unwrap().to_string();
    let shared = open_ticket(&server, &d.bob, "bolt", "P1").await["id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    let pages = loop {
        let pages: Vec<(String, Value)> = log
            .lock()
            .unwrap()
            .iter()
            .map(|r| (r.who.clone(), serde_json::from_str(&r.body).unwrap()))
            .collect::<Vec<(String, Value)>>();
        let for_fed = pages.iter().any(|(_, p)| p["notice"]["ticket"] == json!(fed));
        let for_shared = pages.iter().any(|(_, p)| p["notice"]["ticket"] == json!(shared));
        if for_fed && for_shared {
            break pages;
        }
        assert!(Instant::now() < deadline, "expected pages for both tickets: {pages:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for (who, page) in &pages {
        if page["notice"]["ticket"] == json!(fed) {
            assert_eq!(who, "carl", "only cleared staff are paged for a federal ticket: {page}");
        }
    }
    assert!(pages.iter().any(|(w, p)| w == "lena" && p["notice"]["ticket"] == json!(shared)), "lena pages for bolt");

    // carl's link works while he may act on fedco; once his clearance is withdrawn it does not.
    let link = pages.iter().find(|(w, p)| w == "carl" && p["notice"]["ticket"] == json!(fed)).unwrap().1["ack_url"]
        .as_str()
        .unwrap()
        .to_string();
    let patch = json!({"federal_cleared": false});
    server.ok(Method::PATCH, &format!("/api/v1/users/{carl}"), &d.admin, Some(patch)).await;
    let response = reqwest::Client::new().post(&link).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let t = server.ok(Method::GET, &format!("/api/v1/tickets/{fed}"), &d.admin, None).await;
    assert!(t["acknowledged_by"].is_null(), "{t}");

    // No uncleared TAM, named engineer or schedule member for a federal org.
    let org = json!({"slug": "fed2", "name": "f", "tier": "enterprise", "deployment": "federal", "tam": lena});
    assert_eq!(server.call(Method::POST, "/api/v1/orgs", Some(&d.admin), Some(org)).await.0, 422);
    let org =
        json!({"slug": "fed3", "name": "f", "tier": "enterprise", "deployment": "federal", "named_engineers": [lena]});
    assert_eq!(server.call(Method::POST, "/api/v1/orgs", Some(&d.admin), Some(org)).await.0, 422);
    let rotation = json!({"name": "r", "time_zone": "UTC", "members": [lena], "shift_days": 7, "handoff": "00:00", "start": "2026-01-05"});
    let schedule = json!({"name": "fed", "org": "fedco", "layers": [{"rotation": rotation}]});
    assert_eq!(server.call(Method::POST, "/api/v1/schedules", Some(&d.admin), Some(schedule)).await.0, 422);
}
both_backends!(f2_federal_pages_reach_only_cleared_staff, f2_federal_pages);

/// F3: creating a user never reveals whether an address has an account outside the caller's
/// reach: an org admin's invitation of an address used in another org is answered as one of a
/// fresh address (no account is made for it; see `identity.rs`, F25).
async fn f3_no_email_oracle(db: Db) {
    let (smtp_port, _mails) = support::smtp_receiver().await;
    let server = Server::start(&db, &["--smtp-url", &format!("smtp://127.0.0.1:{smtp_port}")]);
    let d = desk(&server).await;
    let invite = |email: &str| json!({"email": email, "name": "b", "role": "member", "org": "acme"});
    let (fresh_status, fresh) =
        server.call(Method::POST, "/api/v1/users", Some(&d.alice), Some(invite("new@acme.example"))).await;
    assert_eq!(fresh_status, StatusCode::ACCEPTED, "{fresh}");
    let (status, body) =
        server.call(Method::POST, "/api/v1/users", Some(&d.alice), Some(invite("bob@bolt.example"))).await;
    assert_eq!(status, fresh_status, "{body}");
    let shape = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(shape(&body), shape(&fresh));
    // Within reach (the caller's own org), a taken address is a plain conflict.
    let mine = invite("alice@acme.example");
    assert_eq!(server.call(Method::POST, "/api/v1/users", Some(&d.alice), Some(mine)).await.0, StatusCode::CONFLICT);
    // bob still signs in to his own account.
    assert_eq!(login(&server, "bob@bolt.example", "bob@bolt.example-password").await.0, StatusCode::CREATED);
}
both_backends!(f3_creating_a_user_reveals_no_other_tenant, f3_no_email_oracle);

/// F4 and F9: a Slack press acts only as a person allowed to act on the ticket, and a signed
/// request is accepted once.
async fn f4_f9_slack(db: Db) {
    let server = Server::start(&db, &["--slack-signing-secret", "signing-sekret"]);
    let d = desk(&server).await;
    let ed = staff(&server, &d.admin, "ed@stringer.example", "engineer", false).await;
    let method = json!({"kind": "slack", "address": "U0ED12345"});
    server.ok(Method::POST, &format!("/api/v1/users/{ed}/contact-methods"), &d.admin, Some(method)).await;
    let fed = open_ticket(&server, &d.fiona, "fedco", "P2").await["id"].as_str().unwrap().to_string();
    let status = support::slack_press(&server, "U0ED12345", "stringer_resolve", &fed, "signing-sekret", "1.1").await;
    assert_eq!(status, StatusCode::OK, "an uncleared press on a federal ticket: refused, told in Slack");
    let t = server.ok(Method::GET, &format!("/api/v1/tickets/{fed}"), &d.cleared, None).await;
    assert_eq!(t["status"], "open");

    let bolt = open_ticket(&server, &d.bob, "bolt", "P2").await["id"].as_str().unwrap().to_string();
    let body = support::slack_body("U0ED12345", "stringer_resolve", &bolt, "2.2");
    let ts = jiff::Timestamp::now().as_second();
    assert_eq!(support::slack_send(&server, &body, ts, "signing-sekret").await, StatusCode::OK);
    server.ok(Method::POST, &format!("/api/v1/tickets/{bolt}/reopen"), &d.engineer, None).await;
    assert_eq!(support::slack_send(&server, &body, ts, "signing-sekret").await, StatusCode::UNAUTHORIZED, "replay");
    let t = server.ok(Method::GET, &format!("/api/v1/tickets/{bolt}"), &d.engineer, None).await;
    assert_eq!(t["status"], "open", "the replay resolved nothing");
}
both_backends!(f4_f9_slack_presses_follow_the_policy_once, f4_f9_slack);

/// F10: a Slack member ID is linked by an admin, or by its owner when Slack confirms the
/// member's email; one ID belongs to one user.
async fn f10_slack_ids(db: Db) {
    let (api, _posts) = support::slack_api(&[("U0EVE1234", "eve@stringer.example")]).await;
    let server = Server::start(&db, &["--slack-token", "xoxb-t", "--slack-api-url", &api]);
    let d = desk(&server).await;
    let me = server.ok(Method::GET, "/api/v1/me", &d.engineer, None).await;
    let eng = me["id"].as_str().unwrap();
    let eve = staff(&server, &d.admin, "eve@stringer.example", "engineer", false).await;
    let (eve_token, _) = {
        let (_, t) = login(&server, "eve@stringer.example", "eve@stringer.example-password").await;
        (t["token"].as_str().unwrap().to_string(), ())
    };
    let add = |member: &str| json!({"kind": "slack", "address": member});
    // The engineer claims eve's member ID: Slack says it is eve's, so no.
    let (status, _) = server
        .call(Method::POST, &format!("/api/v1/users/{eng}/contact-methods"), Some(&d.engineer), Some(add("U0EVE1234")))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // eve claims it: Slack's profile email matches.
    server.ok(Method::POST, &format!("/api/v1/users/{eve}/contact-methods"), &eve_token, Some(add("U0EVE1234"))).await;
    // Nobody else may hold it, not even by an admin's hand.
    let (status, _) = server
        .call(Method::POST, &format!("/api/v1/users/{eng}/contact-methods"), Some(&d.admin), Some(add("U0EVE1234")))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}
both_backends!(f10_slack_member_ids_are_verified_and_unique, f10_slack_ids);

/// F5: a secret in a response is never stored with the cached response, and a replay does not
/// show it again.
async fn f5_no_cached_secrets(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let key = [("Idempotency-Key", "token-once")];
    let body = json!({"name": "ci", "scopes": ["read"], "expires_in_days": 1});
    let (status, first) =
        server.call_with(Method::POST, "/api/v1/tokens", Some(&d.admin), Some(body.clone()), &key).await;
    assert_eq!(status, StatusCode::CREATED);
    let secret = first["token"].as_str().unwrap().to_string();
    let (_, replay) = server.call_with(Method::POST, "/api/v1/tokens", Some(&d.admin), Some(body), &key).await;
    assert!(!replay.to_string().contains(&secret), "a replay shows the secret again: {replay}");
    assert_eq!(replay["id"], first["id"], "the replay names the token made the first time: {replay}");
    if let Db::Sqlite(dir) = &db {
        let bytes = std::fs::read(dir.join("stringer.db")).unwrap();
        let wal = std::fs::read(dir.join("stringer.db-wal")).unwrap_or_default();
        for file in [bytes, wal] {
            assert!(!file.windows(secret.len()).any(|w| w == secret.as_bytes()), "the secret rests in the database");
        }
    }
}
both_backends!(f5_idempotent_replays_keep_no_secret, f5_no_cached_secrets);

/// F15: outcomes that depend on the moment (a refused customer page, 429) are not replayed.
async fn f15_only_final_outcomes_cached(db: Db) {
    let contract = support::contract_with(&[("opens_after = \"30 minutes\"", "opens_after = \"2 seconds\"")]);
    let server = Server::start(&db, &["--contract", contract.to_str().unwrap()]);
    let d = desk(&server).await;
    let t = open_ticket(&server, &d.bob, "bolt", "P1").await;
    let path = format!("/api/v1/tickets/{}/page", t["id"].as_str().unwrap());
    let key = [("Idempotency-Key", "page-when-open")];
    let (status, _) = server.call_with(Method::POST, &path, Some(&d.bob), None, &key).await;
    assert_eq!(status, StatusCode::CONFLICT, "refused before it opens");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = server.call_with(Method::POST, &path, Some(&d.bob), None, &key).await;
        if status == StatusCode::ACCEPTED {
            break;
        }
        assert!(Instant::now() < deadline, "the refusal was replayed after the line opened: {body}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
both_backends!(f15_time_dependent_refusals_are_not_replayed, f15_only_final_outcomes_cached);

/// F16 and F1b: scopes mean what they say.
async fn f16_scopes(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let (read_only, _) = token_with(&server, &d.admin, &["read"]).await;
    let (write_only, _) = token_with(&server, &d.admin, &["write"]).await;
    let (_, admin_token_id) = token_with(&server, &d.admin, &["admin"]).await;
    let path = format!("/api/v1/tokens/{admin_token_id}");
    assert_eq!(server.call(Method::DELETE, &path, Some(&read_only), None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(server.call(Method::DELETE, &path, Some(&write_only), None).await.0, StatusCode::FORBIDDEN);
    for path in ["/api/v1/me", "/api/v1/tokens"] {
        assert_eq!(server.call(Method::GET, path, Some(&write_only), None).await.0, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(server.call(Method::GET, path, Some(&read_only), None).await.0, StatusCode::OK, "{path}");
    }
}
both_backends!(f16_scopes_mean_what_they_say, f16_scopes);

/// F8: a NUL byte anywhere is a 400 at the edge, never a database error.
async fn f8_nul(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let (status, _) = login(&server, "a\u{0}@x.example", "whatever-password").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let body = json!({"org": "acme", "severity": "P3", "subject": "a\u{0}b", "description": "d"});
    assert_eq!(server.call(Method::POST, "/api/v1/tickets", Some(&d.admin), Some(body)).await.0, 400);
    assert_eq!(server.call(Method::GET, "/api/v1/orgs/ac%00me", Some(&d.admin), None).await.0, 400);
    assert_eq!(server.call(Method::GET, "/api/v1/tickets?org=ac%00me", Some(&d.admin), None).await.0, 400);
    assert_eq!(server.call(Method::GET, "/ical/users/x%00.ics?token=a", None, None).await.0, 400);
}
both_backends!(f8_nul_bytes_are_refused_at_the_edge, f8_nul);

/// F11: webhook addresses in special-purpose ranges are refused when added.
async fn f11_ssrf(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let me = server.ok(Method::GET, "/api/v1/me", &d.engineer, None).await;
    let path = format!("/api/v1/users/{}/contact-methods", me["id"].as_str().unwrap());
    for url in [
        "http://198.18.0.1/hook",
        "http://240.0.0.1/hook",
        "http://[::127.0.0.1]/hook",
        "http://[64:ff9b::7f00:1]/hook",
        "http://[2002:7f00:1::]/hook",
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::ffff:10.0.0.1]/hook",
    ] {
        let (status, body) =
            server.call(Method::POST, &path, Some(&d.engineer), Some(json!({"kind": "webhook", "address": url}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {body}");
    }
}
both_backends!(f11_internal_webhook_addresses_are_refused_when_added, f11_ssrf);

/// F17: failed logins slow down the attacker's address, not the account: the real user still
/// signs in from elsewhere, and a trusted proxy's X-Forwarded-For names the client.
async fn f17_lockout(db: Db) {
    let server = Server::start(&db, &["--trusted-proxy", "127.0.0.1/32"]);
    desk(&server).await;
    let attempt = |ip: &'static str, password: &'static str| {
        let body = json!({"email": "bob@bolt.example", "password": password});
        let server = &server;
        async move { server.call_with(Method::POST, "/api/v1/login", None, Some(body), &[("X-Forwarded-For", ip)]).await.0 }
    };
    let mut last = StatusCode::OK;
    for _ in 0..12 {
        last = attempt("203.0.113.9", "wrong-password!").await;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS, "the attacker's address is slowed down");
    assert_eq!(attempt("198.51.100.7", "bob@bolt.example-password").await, StatusCode::CREATED, "bob is not");
}
both_backends!(f17_failed_logins_do_not_lock_the_user_out, f17_lockout);

/// F18: /metrics is not on the public listener unless asked for.
async fn f18_metrics(db: Db) {
    let server = Server::start(&db, &[]);
    assert_eq!(server.call(Method::GET, "/metrics", None, None).await.0, StatusCode::NOT_FOUND);
}
both_backends!(f18_metrics_are_not_public_by_default, f18_metrics);

/// F12: every 4xx is a problem document (the harness asserts the content type).
async fn f12_problems(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    for (method, path, status) in [
        (Method::GET, "/no/such/path", 404),
        (Method::DELETE, "/api/v1/me", 405),
        (Method::GET, "/api/v1/tickets/%ZZ", 400),
        (Method::GET, "/ical/users/nope.ics", 400),
        (Method::GET, "/ical/schedules/x.ics?token=", 404),
    ] {
        assert_eq!(server.call(method.clone(), path, Some(&d.admin), None).await.0, status, "{method} {path}");
    }
    let long = format!("/api/v1/tickets/{}", "a".repeat(20_000));
    assert_eq!(server.call(Method::GET, &long, Some(&d.admin), None).await.0, StatusCode::URI_TOO_LONG);
}
both_backends!(f12_every_error_is_a_problem_document, f12_problems);

/// F13: an offset outside ±23:59 is not an RFC 3339 instant.
async fn f13_offsets(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let me = server.ok(Method::GET, "/api/v1/me", &d.cleared, None).await;
    let rotation = json!({"name": "r", "time_zone": "UTC", "members": [me["id"]], "shift_days": 7, "handoff": "00:00", "start": "2026-01-05"});
    let s = server
        .ok(Method::POST, "/api/v1/schedules", &d.admin, Some(json!({"name": "p", "layers": [{"rotation": rotation}]})))
        .await;
    let body = json!({"from": "2026-12-01T00:00:00+25:00", "to": "2026-12-02T00:00:00Z", "user": me["id"]});
    let path = format!("/api/v1/schedules/{}/overrides", s["id"].as_str().unwrap());
    assert_eq!(server.call(Method::POST, &path, Some(&d.admin), Some(body)).await.0, StatusCode::BAD_REQUEST);
}
both_backends!(f13_offsets_beyond_a_day_are_refused, f13_offsets);

/// F14 and the rest: the document types every query parameter and body; the bearer scheme is
/// case-insensitive; a customer's timeline shows pages without staff-only details.
async fn f14_document_and_details(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let (_, doc) = server.call(Method::GET, "/api/v1/openapi.json", None, None).await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                let in_path = path.contains(&format!("{{{name}}}"));
                assert_eq!(p["in"], if in_path { "path" } else { "query" }, "{method} {path} {name}");
            }
        }
    }
    let layers = &doc["components"]["schemas"]["CreateSchedule"]["properties"]["layers"]["items"];
    assert!(layers.get("$ref").is_some() || layers.get("properties").is_some(), "layers are typed: {layers}");

    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/me", server.base))
        .header("Authorization", format!("bearer {}", d.alice))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let t = open_ticket(&server, &d.alice, "acme", "P1").await["id"].as_str().unwrap().to_string();
    server.ok(Method::POST, &format!("/api/v1/tickets/{t}/acknowledge"), &d.engineer, None).await;
    let timeline = server.ok(Method::GET, &format!("/api/v1/tickets/{t}/timeline"), &d.alice, None).await;
    let items = timeline["items"].as_array().unwrap();
    assert!(items.iter().any(|e| e["kind"] == "page"), "{timeline}");
    for e in items {
        for hidden in ["via", "to", "by"] {
            assert!(e["body"].get(hidden).is_none(), "a customer sees {hidden}: {e}");
        }
        if e["kind"] != "ticket.opened" {
            assert!(e["actor"].is_null(), "a customer sees who acted for the vendor: {e}");
        }
    }
}
both_backends!(f14_document_types_and_customer_timeline, f14_document_and_details);
