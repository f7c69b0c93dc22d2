//! Requests that come again must not repeat their effect, read straight from the database
//! and the mail relay: a ticket write records its `Idempotency-Key`'s outcome in its own
//! transaction, so a server that dies between the write and its answer leaves the key
//! "written" and a retry replays it (F22); a keyed create that answers a one-time secret
//! leaves no secret in `idempotency_keys`, and a replay does not show it (F23); ten "forgot
//! your password" posts mail one link (F37).

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Db, Server, desk, sql};

async fn keyed(server: &Server, token: &str, path: &str, key: &str, body: Value) -> (StatusCode, Value, bool) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", server.base))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let replayed = response.headers().contains_key("idempotent-replayed");
    (status, response.json().await.unwrap_or(Value::Null), replayed)
}

/// The server dies after a keyed write committed and before its answer was stored (the key's
/// row is put back to what such a death leaves: status 0, no body, its lease long over). A
/// retry replays the write — the same ticket, the same comment — and writes nothing again.
async fn written_keys_replay_after_a_crash(db: Db) {
    let args = ["--idempotency-lease", "1"];
    let mut server = Server::start(&db, &args);
    let d = desk(&server).await;
    let create = json!({"org": "bolt", "severity": "P3", "subject": "keyed", "description": "d"});
    let (status, ticket, _) = keyed(&server, &d.bob, "/api/v1/tickets", "k-ticket", create.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let id = ticket["id"].as_str().unwrap().to_string();
    let comment_path = format!("/api/v1/tickets/{id}/comments");
    let comment = json!({"body": "keyed comment"});
    let (status, _, _) = keyed(&server, &d.bob, &comment_path, "k-comment", comment.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    server.kill();
    assert_eq!(
        sql(
            &db,
            "SELECT key, written_as, written_kind, written_id, written_status FROM idempotency_keys WHERE key LIKE 'k-%' ORDER BY key"
        ),
        format!("k-comment|reread|ticket|{id}|201\nk-ticket|reread|ticket|{id}|201"),
        "each write recorded its key's outcome with it"
    );
    sql(&db, "UPDATE idempotency_keys SET status = 0, body = '', created_at = created_at - 3600 WHERE key LIKE 'k-%'");
    server = Server::start(&db, &args);
    let (status, again, replayed) = keyed(&server, &d.bob, "/api/v1/tickets", "k-ticket", create).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, true), "{again}");
    assert_eq!(again["id"], ticket["id"], "the retry answers with the ticket the first request wrote");
    let (status, _, replayed) = keyed(&server, &d.bob, &comment_path, "k-comment", comment).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, true));
    assert_eq!(sql(&db, "SELECT COUNT(*) FROM tickets WHERE subject = 'keyed'"), "1", "no second ticket");
    assert_eq!(sql(&db, "SELECT COUNT(*) FROM comments WHERE body = 'keyed comment'"), "1", "no second comment");
}
both_backends!(a_keyed_write_killed_before_its_answer_is_replayed, written_keys_replay_after_a_crash);

/// Every other sort of keyed write is replayed the same way after such a death, never run
/// again: what it wrote is read again (an org, a user, a report), named (a component, an
/// incident, a received message), or — a one-time secret (a schedule's feed, an integration
/// key) — named by the 409 that says the secret was shown once; each is in the database once.
async fn every_keyed_write_replays_after_a_crash(db: Db) {
    let args = ["--idempotency-lease", "1"];
    let mut server = Server::start(&db, &args);
    let d = desk(&server).await;
    let me = server.ok(Method::GET, "/api/v1/me", &d.engineer, None).await["id"].as_str().unwrap().to_string();
    let pages = server.ok(Method::GET, "/api/v1/status-pages", &d.admin, None).await;
    let page =
        pages.as_array().unwrap().iter().find(|p| p["org"].is_null()).unwrap()["id"].as_str().unwrap().to_string();
    let ticket = support::open_ticket(&server, &d.alice, "acme", "P3").await["id"].as_str().unwrap().to_string();
    server.ok(Method::POST, &format!("/api/v1/tickets/{ticket}/report"), &d.admin, None).await;
    // (path, body, the answer's status, the field naming what was written, the rows holding it)
    let writes = [
        (
            "/api/v1/orgs".to_string(),
            json!({"slug": "kiln", "name": "Kiln", "tier": "pro", "deployment": "shared"}),
            StatusCode::CREATED,
            "slug",
            "SELECT COUNT(*) FROM orgs WHERE slug = 'kiln'",
        ),
        (
            "/api/v1/users".into(),
            json!({"email": "keyed@vendor.example", "name": "Keyed User", "role": "engineer"}),
            StatusCode::CREATED,
            "id",
            "SELECT COUNT(*) FROM users WHERE name = 'Keyed User'",
        ),
        (
            "/api/v1/schedules".into(),
            json!({"name": "keyed rota", "layers": [{"rotation": {"name": "r", "time_zone": "UTC", "members": [me], "shift_days": 1, "handoff": "09:00", "start": "2026-10-30"}}]}),
            StatusCode::CONFLICT,
            "id",
            "SELECT COUNT(*) FROM schedules WHERE name = 'keyed rota'",
        ),
        (
            format!("/api/v1/status-pages/{page}/components"),
            json!({"name": "Keyed component"}),
            StatusCode::CREATED,
            "id",
            "SELECT COUNT(*) FROM status_components WHERE name = 'Keyed component'",
        ),
        (
            format!("/api/v1/status-pages/{page}/incidents"),
            json!({"name": "Keyed incident", "status": "investigating", "impact": "minor", "body": "Looking."}),
            StatusCode::CREATED,
            "id",
            "SELECT COUNT(*) FROM status_incidents WHERE name = 'Keyed incident'",
        ),
        (
            "/api/v1/orgs/acme/integration-keys".into(),
            json!({"name": "keyed key", "kind": "events_v2"}),
            StatusCode::CONFLICT,
            "id",
            "SELECT COUNT(*) FROM integration_keys WHERE name = 'keyed key'",
        ),
        (
            "/api/v1/mail/inbound".into(),
            json!("From: keyed@customer.example\r\nSubject: keyed mail\r\n\r\nHello"),
            StatusCode::ACCEPTED,
            "id",
            "SELECT COUNT(*) FROM inbound_mail",
        ),
        (
            format!("/api/v1/tickets/{ticket}/report/comments"),
            json!({"body": "keyed report comment"}),
            StatusCode::OK,
            "ticket",
            "SELECT COUNT(*) FROM report_comments WHERE body = 'keyed report comment'",
        ),
    ];
    let mut firsts = Vec::new();
    for (i, (path, body, _, field, _)) in writes.iter().enumerate() {
        let (status, first, _) = keyed(&server, &d.admin, path, &format!("w-{i}"), body.clone()).await;
        assert!(status.is_success(), "{path}: {status} {first}");
        firsts.push(first[field].clone());
    }
    server.kill();
    assert_eq!(
        sql(&db, "SELECT COUNT(*) FROM idempotency_keys WHERE key LIKE 'w-%' AND written_as <> ''"),
        writes.len().to_string(),
        "each write marked its key in its own transaction"
    );
    sql(&db, "UPDATE idempotency_keys SET status = 0, body = '', created_at = created_at - 3600 WHERE key LIKE 'w-%'");
    server = Server::start(&db, &args);
    for (i, (path, body, status, field, rows)) in writes.iter().enumerate() {
        let (again, replay, replayed) = keyed(&server, &d.admin, path, &format!("w-{i}"), body.clone()).await;
        assert_eq!(again, *status, "{path}: {replay}");
        assert!(replayed || again == StatusCode::CONFLICT, "{path}: marked as a replay");
        let named = if again == StatusCode::CONFLICT { &replay["id"] } else { &replay[field] };
        // (a received message's number, answered as a string by a replay that names it)
        let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), String::from);
        assert!(!named.is_null() && text(named) == text(&firsts[i]), "{path}: the first write's outcome: {replay}");
        assert_eq!(sql(&db, rows), "1", "{path}: written once");
    }
}
both_backends!(every_keyed_write_is_replayed_after_a_crash, every_keyed_write_replays_after_a_crash);

/// Every keyed create whose answer holds a one-time secret: the secret is not in
/// `idempotency_keys`, and a replay answers 409 naming what was created, without the secret.
async fn secrets_are_not_kept(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let me = server.ok(Method::GET, "/api/v1/me", &d.engineer, None).await["id"].as_str().unwrap().to_string();
    let creates = [
        (
            "/api/v1/tokens".to_string(),
            &d.engineer,
            json!({"name": "ci", "scopes": ["read"], "expires_in_days": 30}),
            "token",
        ),
        ("/api/v1/orgs/acme/integration-keys".into(), &d.admin, json!({"name": "prom", "kind": "events_v2"}), "key"),
        ("/api/v1/orgs/acme/phone-pin".into(), &d.admin, Value::Null, "pin"),
        (
            format!("/api/v1/users/{me}/contact-methods"),
            &d.engineer,
            json!({"kind": "email", "address": "eng@stringer.example"}),
            "secret",
        ),
        (
            "/api/v1/schedules".into(),
            &d.admin,
            json!({"name": "primary", "layers": [{"rotation": {"name": "r", "time_zone": "UTC", "members": [me], "shift_days": 1, "handoff": "09:00", "start": "2026-10-30"}}]}),
            "ics_path",
        ),
        (format!("/api/v1/users/{me}/calendar-feed"), &d.engineer, Value::Null, "ics_path"),
    ];
    for (i, (path, token, body, field)) in creates.iter().enumerate() {
        let key = format!("secret-{i}");
        let (status, first, _) = keyed(&server, token, path, &key, body.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{path}: {first}");
        let secret = first[field].as_str().unwrap_or_else(|| panic!("{path} answers its {field}: {first}"));
        let secret = secret.rsplit('=').next().unwrap();
        let stored = sql(&db, &format!("SELECT body FROM idempotency_keys WHERE key = '{key}'"));
        assert!(!stored.is_empty(), "{path}: the key was recorded");
        assert!(!stored.contains(secret), "{path}: the secret is not kept: {stored}");
        let (status, replay, _) = keyed(&server, token, path, &key, body.clone()).await;
        assert_eq!(status, StatusCode::CONFLICT, "{path}: {replay}");
        assert!(!replay.to_string().contains(secret), "{path}: the replay does not show the secret: {replay}");
        assert!(
            replay["id"].as_str().is_some_and(|id| !id.is_empty()),
            "{path}: the replay names what was made: {replay}"
        );
    }
    let stored = sql(&db, "SELECT body FROM idempotency_keys");
    for secret_field in ["\"token\"", "\"key\"", "\"pin\"", "\"secret\"", "ics_path"] {
        assert!(!stored.contains(secret_field), "no secret field is stored: {stored}");
    }
}
both_backends!(one_time_secrets_are_never_kept_for_replays, secrets_are_not_kept);

/// Ten "forgot your password" posts for one address mail one link, each answered alike; an
/// unknown address is answered the same, and another account still gets its own link.
async fn one_reset_mail_per_interval(db: Db) {
    let (smtp_port, mails) = support::smtp_receiver().await;
    let smtp = format!("smtp://127.0.0.1:{smtp_port}");
    let server = Server::start(&db, &["--smtp-url", &smtp, "--mail-from", "support@vendor.example"]);
    let d = desk(&server).await;
    for email in ["ana@stringer.example", "ben@stringer.example"] {
        let user = json!({"email": email, "name": email, "role": "engineer", "password": "a long enough password"});
        server.ok(Method::POST, "/api/v1/users", &d.admin, Some(user)).await;
    }
    let client = reqwest::Client::new();
    let forgot = |email: &'static str| {
        let (client, url) = (client.clone(), format!("{}/password/forgot", server.base));
        async move {
            let response = client.post(url).form(&[("email", email)]).send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };
    let (status, first) = forgot("ana@stringer.example").await;
    assert_eq!(status, StatusCode::OK);
    for _ in 0..9 {
        assert_eq!(
            forgot("ana@stringer.example").await,
            (StatusCode::OK, first.clone()),
            "every post is answered alike"
        );
    }
    assert_eq!(forgot("nobody@nowhere.example").await, (StatusCode::OK, first.clone()), "an unknown address too");
    forgot("ben@stringer.example").await;
    let asked = ["<ana@stringer.example>", "<ben@stringer.example>", "<nobody@nowhere.example>"];
    // The engine's courier mails the links after the answers, oldest first: ben's is the last.
    let ben = "<ben@stringer.example>".to_string();
    support::until("ben's link", || async {
        mails.lock().unwrap().iter().any(|(_, to, _)| to.contains(&ben)).then_some(())
    })
    .await;
    let sent: Vec<String> = mails
        .lock()
        .unwrap()
        .iter()
        .flat_map(|(_, to, _)| to.clone())
        .filter(|to| asked.contains(&to.as_str()))
        .collect();
    assert_eq!(sent, ["<ana@stringer.example>", "<ben@stringer.example>"], "one link per address");
}
both_backends!(forgot_password_mails_one_link_per_address_per_interval, one_reset_mail_per_interval);
