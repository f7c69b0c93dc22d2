//! Black-box tests of `stringer serve`: the real binary on port 0 with a fresh database, the
//! same suite against SQLite and PostgreSQL.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Db, Server, desk, open_ticket};

async fn health_and_openapi(db: Db) {
    let server = Server::start(&db, &[]);
    let (status, body) = server.call(Method::GET, "/healthz", None, None).await;
    assert_eq!((status, body), (StatusCode::OK, Value::String("ok".into())));
    assert_eq!(server.call(Method::GET, "/readyz", None, None).await.0, StatusCode::OK);
    let (status, doc) = server.call(Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    // Every documented operation exists: with a valid token and well-formed placeholder ids
    // it answers a problem document or success, never the router's own 404/405.
    let admin = server.admin();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let concrete = path
                .replace(
                    "{id}",
                    if path.contains("tokens") {
                        "tok_00000000000000000000000000"
                    } else if path.contains("users") {
                        "usr_00000000000000000000000000"
                    } else {
                        "tkt_00000000000000000000000000"
                    },
                )
                .replace("{slug}", "nope");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = matches!(m, Method::POST | Method::PATCH).then(|| json!({}));
            let (status, value) = server.call(m.clone(), &concrete, Some(&admin), body).await;
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is documented but not routed");
            if status == StatusCode::NOT_FOUND {
                assert!(
                    value["detail"].as_str().is_some_and(|d| d.starts_with("no such")),
                    "{method} {path}: unrouted 404 {value}"
                );
            }
            operations += 1;
        }
    }
    assert!(operations >= 19, "only {operations} operations documented");
}
both_backends!(health_and_openapi_match_the_routes, health_and_openapi);

async fn ticket_lifecycle(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let t = open_ticket(&server, &d.alice, "acme", "P2").await;
    let id = t["id"].as_str().unwrap().to_string();
    assert_eq!(t["status"], "open");
    assert_eq!(t["sla"][0]["target"], "response");
    assert_eq!(t["sla"][0]["state"], "running");
    assert_eq!(t["sla"][0]["within"], "4 hours");
    assert!((14_390..=14_400).contains(&t["sla"][0]["seconds_left"].as_i64().unwrap()), "{}", t["sla"][0]);
    // An internal note is not a response; a public staff reply is.
    let after_note = server
        .ok(
            Method::POST,
            &format!("/api/v1/tickets/{id}/comments"),
            &d.engineer,
            Some(json!({"body": "looking", "public": false})),
        )
        .await;
    assert_eq!(after_note["sla"][0]["state"], "running");
    let acked = server.ok(Method::POST, &format!("/api/v1/tickets/{id}/acknowledge"), &d.engineer, None).await;
    assert_eq!(acked["sla"][0]["state"], "met");
    assert!(acked["acknowledged_by"].as_str().unwrap().starts_with("usr_"));
    // The customer sees public comments only; staff see both.
    server.ok(Method::POST, &format!("/api/v1/tickets/{id}/comments"), &d.alice, Some(json!({"body": "thanks"}))).await;
    let customer_view = server.ok(Method::GET, &format!("/api/v1/tickets/{id}/comments"), &d.alice, None).await;
    assert_eq!(customer_view["items"].as_array().unwrap().len(), 1);
    let staff_view = server.ok(Method::GET, &format!("/api/v1/tickets/{id}/comments"), &d.engineer, None).await;
    assert_eq!(staff_view["items"].as_array().unwrap().len(), 2);
    // Severity and status changes; listing filters; resolve and reopen.
    let raised =
        server.ok(Method::PATCH, &format!("/api/v1/tickets/{id}"), &d.alice, Some(json!({"severity": "P1"}))).await;
    assert_eq!(raised["severity"], "P1");
    let p4 = open_ticket(&server, &d.alice, "acme", "P4").await;
    let list = server.ok(Method::GET, "/api/v1/tickets?severity=P1", &d.engineer, None).await;
    let ids: Vec<&str> = list["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [id.as_str()]);
    let soon = server.ok(Method::GET, "/api/v1/tickets?breaching_within=90000", &d.engineer, None).await;
    assert_eq!(soon["items"][0]["id"], p4["id"], "only the P4 has a running clock");
    let none_soon = server.ok(Method::GET, "/api/v1/tickets?breaching_within=60", &d.engineer, None).await;
    assert!(none_soon["items"].as_array().unwrap().is_empty());
    let resolved = server.ok(Method::POST, &format!("/api/v1/tickets/{id}/resolve"), &d.engineer, None).await;
    assert_eq!(resolved["status"], "resolved");
    let (status, problem) =
        server.call(Method::POST, &format!("/api/v1/tickets/{id}/acknowledge"), Some(&d.engineer), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a refused rule, not a conflict: {problem}");
    assert!(problem["detail"].as_str().unwrap().contains("resolved"));
    let reopened =
        server.ok(Method::PATCH, &format!("/api/v1/tickets/{id}"), &d.alice, Some(json!({"status": "open"}))).await;
    assert_eq!(reopened["status"], "open");
    // The timeline speaks the simulator's vocabulary, with actors.
    let timeline = server.ok(Method::GET, &format!("/api/v1/tickets/{id}/timeline"), &d.engineer, None).await;
    let kinds: Vec<&str> = timeline["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "ticket.opened",
            "page",
            "ticket.replied",
            "ticket.acknowledged",
            "sla.met",
            "ticket.customer_replied",
            "ticket.severity_changed",
            "ticket.resolved",
            "report.due",
            "ticket.reopened"
        ]
    );
    assert!(timeline["items"][0]["actor"].as_str().unwrap().starts_with("usr_"));
    let customer_timeline = server.ok(Method::GET, &format!("/api/v1/tickets/{id}/timeline"), &d.alice, None).await;
    let shown: Vec<&str> =
        customer_timeline["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(shown.len(), kinds.len() - 2, "the internal note and staff's report owed hidden: {shown:?}");
    assert!(!shown.contains(&"report.due"), "{shown:?}");
    // Cursor pagination walks every ticket once.
    for _ in 0..3 {
        open_ticket(&server, &d.bob, "bolt", "P3").await;
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = server.ok(Method::GET, &format!("/api/v1/tickets?limit=2{cursor}"), &d.admin, None).await;
        seen.extend(page["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (5, 5));
}
both_backends!(ticket_lifecycle_with_live_sla, ticket_lifecycle);

async fn count_tickets(server: &Server, token: &str) -> usize {
    server.ok(Method::GET, "/api/v1/tickets?limit=200", token, None).await["items"].as_array().unwrap().len()
}

async fn bad_input(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let before = count_tickets(&server, &d.admin).await;
    let create = |body: Value| (Method::POST, "/api/v1/tickets".to_string(), body);
    let cases: Vec<((Method, String, Value), StatusCode, &str)> = vec![
        (
            create(json!({"org": "acme", "severity": "P9", "subject": "x", "description": "y"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown severity",
        ),
        (
            create(json!({"org": "acme", "severity": "P1", "subject": "x", "description": "y", "colour": "red"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown field `colour`",
        ),
        (
            create(json!({"org": "acme", "severity": 1, "subject": "x", "description": "y"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid type",
        ),
        (
            create(json!({"org": "acme", "severity": "P1", "subject": "", "description": "y"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "subject",
        ),
        (
            create(json!({"org": "zeta", "severity": "P1", "subject": "x", "description": "y"})),
            StatusCode::NOT_FOUND,
            "no such org",
        ),
        (
            create(json!({"org": "acme", "severity": "P1", "subject": "x", "description": "y", "channel": "fax"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown variant",
        ),
        ((Method::GET, "/api/v1/tickets/123".into(), Value::Null), StatusCode::BAD_REQUEST, "malformed ticket id"),
        (
            (Method::GET, "/api/v1/tickets/tkt_00000000000000000000000000".into(), Value::Null),
            StatusCode::NOT_FOUND,
            "no such ticket",
        ),
        (
            (Method::GET, "/api/v1/tickets?status=sleeping".into(), Value::Null),
            StatusCode::BAD_REQUEST,
            "unknown status",
        ),
        ((Method::GET, "/api/v1/tickets?limit=5000".into(), Value::Null), StatusCode::BAD_REQUEST, "limit"),
        ((Method::GET, "/api/v1/tickets?colour=red".into(), Value::Null), StatusCode::BAD_REQUEST, "unknown field"),
        (
            (Method::GET, "/api/v1/tickets?cursor=..%2F".into(), Value::Null),
            StatusCode::BAD_REQUEST,
            "malformed cursor",
        ),
    ];
    for ((method, path, body), status, fragment) in cases {
        let body = (!body.is_null()).then_some(body);
        let (got, problem) = server.call(method.clone(), &path, Some(&d.admin), body).await;
        assert_eq!(got, status, "{method} {path}: {problem}");
        assert!(
            problem["detail"].as_str().unwrap_or_default().contains(fragment),
            "{method} {path}: {fragment:?} not in {problem}"
        );
        assert_eq!(problem["status"], status.as_u16());
    }
    let (status, _) = server
        .raw(Method::POST, "/api/v1/tickets", &d.admin, b"{\"org\": \"acme\",".to_vec(), "application/json")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = server
        .raw(Method::POST, "/api/v1/tickets", &d.admin, b"org=acme".to_vec(), "application/x-www-form-urlencoded")
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // An oversized body is refused from its declared length, before it is read.
    assert_eq!(server.declare_oversized_body("/api/v1/tickets", &d.admin, 200_000), 413);
    let (status, _) =
        server.raw(Method::POST, "/api/v1/tickets", &d.admin, vec![0xff, 0xfe, 0x00], "application/json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for token in [None, Some("stg_not-a-token"), Some("")] {
        let (status, _) = server.call(Method::GET, "/api/v1/tickets", token, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = server
        .call(
            Method::POST,
            "/api/v1/orgs",
            Some(&d.alice),
            Some(json!({"slug": "x", "name": "x", "tier": "pro", "deployment": "shared"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(count_tickets(&server, &d.admin).await, before, "no rejected request wrote a ticket");
}
both_backends!(bad_input_is_a_clear_4xx_and_writes_nothing, bad_input);

async fn idempotent_creates(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let body = json!({"org": "bolt", "severity": "P3", "subject": "once", "description": "only once"});
    let key = [("Idempotency-Key", "create-once-1")];
    let (s1, first) = server.call_with(Method::POST, "/api/v1/tickets", Some(&d.bob), Some(body.clone()), &key).await;
    let (s2, second) = server.call_with(Method::POST, "/api/v1/tickets", Some(&d.bob), Some(body.clone()), &key).await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(first["id"], second["id"]);
    assert_eq!(count_tickets(&server, &d.bob).await, 1);
    let (s3, problem) = server
        .call_with(
            Method::POST,
            "/api/v1/tickets",
            Some(&d.bob),
            Some(json!({"org": "bolt", "severity": "P1", "subject": "other", "description": "z"})),
            &key,
        )
        .await;
    assert_eq!(s3, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    // Keys are per user: the same key from someone else is a new request.
    let (s4, other) = server.call_with(Method::POST, "/api/v1/tickets", Some(&d.admin), Some(body), &key).await;
    assert_eq!(s4, StatusCode::CREATED);
    assert_ne!(other["id"], first["id"]);
}
both_backends!(idempotency_key_makes_creates_safe_to_retry, idempotent_creates);

async fn tokens_and_login(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let created = server
        .ok(
            Method::POST,
            "/api/v1/tokens",
            &d.bob,
            Some(json!({"name": "ci", "scopes": ["read"], "expires_in_days": 30})),
        )
        .await;
    let read_only = created["token"].as_str().unwrap().to_string();
    assert!(server.ok(Method::GET, "/api/v1/me", &read_only, None).await["email"] == "bob@bolt.example");
    let (status, _) = server
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&read_only),
            Some(json!({"severity": "P3", "subject": "s", "description": "d"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a read-only token cannot write");
    let listed = server.ok(Method::GET, "/api/v1/tokens", &d.bob, None).await;
    assert!(
        listed["items"].as_array().unwrap().iter().all(|t| t.get("token").is_none() && t.get("secret_hash").is_none()),
        "secrets never listed"
    );
    let (status, _) = server
        .call(
            Method::POST,
            "/api/v1/tokens",
            Some(&d.bob),
            Some(json!({"name": "x", "scopes": ["admin"], "expires_in_days": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no scope escalation");
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        server.call(Method::DELETE, &format!("/api/v1/tokens/{id}"), Some(&d.bob), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server.call(Method::GET, "/api/v1/me", Some(&read_only), None).await.0,
        StatusCode::UNAUTHORIZED,
        "revoked"
    );
    assert_eq!(
        server.call(Method::DELETE, &format!("/api/v1/tokens/{id}"), Some(&d.bob), None).await.0,
        StatusCode::NOT_FOUND
    );
    // Wrong passwords are refused, then rate-limited.
    let mut statuses = Vec::new();
    for _ in 0..11 {
        let (status, _) = server
            .call(
                Method::POST,
                "/api/v1/login",
                None,
                Some(json!({"email": "nobody@x.example", "password": "wrong-password!"})),
            )
            .await;
        statuses.push(status);
    }
    assert_eq!(statuses[0], StatusCode::UNAUTHORIZED);
    assert_eq!(statuses[10], StatusCode::TOO_MANY_REQUESTS);
}
both_backends!(tokens_are_scoped_revocable_and_login_is_rate_limited, tokens_and_login);

async fn restart_after_sigkill(db: Db) {
    let mut server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let t = open_ticket(&server, &d.alice, "acme", if i % 2 == 0 { "P1" } else { "P4" }).await;
        ids.push(t["id"].as_str().unwrap().to_string());
    }
    server.ok(Method::POST, &format!("/api/v1/tickets/{}/acknowledge", ids[0]), &d.engineer, None).await;
    server.kill();
    let server = Server::start(&db, &[]);
    assert!(server.admin.is_none(), "no second first admin");
    for id in &ids {
        server.ok(Method::GET, &format!("/api/v1/tickets/{id}"), &d.alice, None).await;
    }
    let acked = server.ok(Method::GET, &format!("/api/v1/tickets/{}", ids[0]), &d.alice, None).await;
    assert_eq!(acked["sla"][0]["state"], "met", "the acknowledged write survived SIGKILL");
    let status = server.terminate();
    assert!(status.success(), "SIGTERM stops cleanly: {status:?}");
}
both_backends!(every_acknowledged_write_survives_sigkill, restart_after_sigkill);

fn fast_contract() -> std::path::PathBuf {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/src/contract/default.toml"))
        .unwrap()
        .replace("opens_after = \"30 minutes\"", "opens_after = \"2 seconds\"");
    let path = std::env::temp_dir().join(format!("stringer-fast-page-{}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

async fn customer_page(db: Db) {
    let contract = fast_contract();
    let server = Server::start(&db, &["--contract", contract.to_str().unwrap()]);
    let d = desk(&server).await;
    // Pro P1: refused until it has gone unacknowledged for the opening delay, then accepted.
    let pro = open_ticket(&server, &d.bob, "bolt", "P1").await;
    let path = format!("/api/v1/tickets/{}/page", pro["id"].as_str().unwrap());
    let (status, problem) = server.call(Method::POST, &path, Some(&d.bob), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    let opens_at: jiff::Timestamp = problem["opens_at"].as_str().unwrap().parse().unwrap();
    let opened: jiff::Timestamp = pro["opened_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(opens_at.as_second() - opened.as_second(), 2);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let accepted = loop {
        let (status, body) = server.call(Method::POST, &path, Some(&d.bob), None).await;
        if status == StatusCode::ACCEPTED {
            break body;
        }
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(std::time::Instant::now() < deadline, "the customer page never opened");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    };
    assert_eq!(accepted["paged"], json!(["oncall"]));
    // Pro P3: never (P1 only).
    let p3 = open_ticket(&server, &d.bob, "bolt", "P3").await;
    let (status, problem) = server
        .call(Method::POST, &format!("/api/v1/tickets/{}/page", p3["id"].as_str().unwrap()), Some(&d.bob), None)
        .await;
    assert_eq!((status, &problem["opens_at"]), (StatusCode::CONFLICT, &Value::Null));
    // Enterprise: any open ticket pages on-call at once.
    let acme = open_ticket(&server, &d.alice, "acme", "P4").await;
    let body = server
        .ok(Method::POST, &format!("/api/v1/tickets/{}/page", acme["id"].as_str().unwrap()), &d.alice, None)
        .await;
    assert_eq!(body["paged"], json!(["oncall"]));
    // Another org's customer cannot page it.
    let (status, _) = server
        .call(Method::POST, &format!("/api/v1/tickets/{}/page", acme["id"].as_str().unwrap()), Some(&d.bob), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
both_backends!(customer_page_refused_until_it_opens, customer_page);

/// The first run without `--demo` gives its first admin a way into the pages: a one-time
/// "set your password" link printed once (the token alone signs in to nothing but the API).
#[tokio::test]
async fn the_first_admin_can_sign_in_to_the_pages() {
    let db = Db::sqlite();
    let server = Server::start(&db, &[]);
    let lines = server.printed("/password/");
    let link = lines
        .iter()
        .find_map(|l| l.split_whitespace().find(|w| w.contains("/password/")))
        .expect("the first run prints a password link")
        .to_string();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    assert_eq!(client.get(&link).send().await.unwrap().status(), reqwest::StatusCode::OK);
    let own = [("password", "the first admin's password"), ("again", "the first admin's password")];
    assert_eq!(client.post(&link).form(&own).send().await.unwrap().status(), reqwest::StatusCode::SEE_OTHER);
    assert_eq!(client.get(&link).send().await.unwrap().status(), reqwest::StatusCode::GONE, "used once");
    let login = serde_json::json!({"email": "admin@stringer.example", "password": "the first admin's password"});
    let (status, body) = server.call(reqwest::Method::POST, "/api/v1/login", None, Some(login)).await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
}
