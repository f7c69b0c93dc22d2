//! The doors against hostile callers, over real HTTP: where sign-in may send a browser on to
//! (never off the site, whatever `next` says); whose monitors may set the vendor's status
//! page; what a status page tells an anonymous reader about pages it may not see; who may
//! bind a status page's host name, and to what; the headers every page carries; and how the
//! Slack door answers refusals and retries and how it calls Slack.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use support::{Db, Server, desk, open_ticket, until};

both_backends!(sign_in_stays_on_the_site, sign_in_stays_on_the_site_on);
both_backends!(only_granted_keys_set_the_vendors_page, only_granted_keys_set_the_vendors_page_on);
both_backends!(hidden_and_missing_pages_answer_alike, hidden_and_missing_pages_answer_alike_on);
both_backends!(host_names_are_bound_by_admins, host_names_are_bound_by_admins_on);
both_backends!(pages_carry_security_headers, pages_carry_security_headers_on);
both_backends!(slack_refusals_and_retries, slack_refusals_and_retries_on);
both_backends!(slack_calls_as_its_clients_do, slack_calls_as_its_clients_do_on);

/// `next` values that would take a browser off the site, or that no header can carry.
const HOSTILE_NEXT: &[&str] = &[
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "/\x0b/evil.example",
    "/\x0c/evil.example",
    "\t//evil.example",
    " //evil.example",
    "/ /evil.example",
    "\\\\evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "//evil.example",
    "///evil.example",
    "//evil.example/%2e%2e",
    "/\t\\evil.example",
    "https://evil.example",
    "http:evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "/\u{3000}/evil.example",
    "/\u{ff0f}evil.example",
    "/café",
    "evil.example",
    "",
];

/// `next` values that are paths on the site, taken as written.
const LOCAL_NEXT: &[&str] =
    &["/", "/console", "/portal/tickets/ACME-1?tab=timeline#latest", "/%2F%2Fevil.example", "/%09/evil.example"];

async fn sign_in_stays_on_the_site_on(db: Db) {
    let server = Server::start(&db, &[]);
    desk(&server).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for (i, next) in HOSTILE_NEXT.iter().chain(LOCAL_NEXT).enumerate() {
        let expected = if LOCAL_NEXT.contains(next) { *next } else { "/" };
        // Each from its own loopback address: sign-ins are limited per address.
        let from = std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 1, i as u8 + 1));
        let client =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).local_address(from).build().unwrap();
        // The form keeps only a path on this site…
        let query = serde_urlencoded::to_string([("next", next)]).unwrap();
        let form = client.get(format!("{}/signin?{query}", server.base)).send().await.unwrap();
        assert_eq!(form.status(), StatusCode::OK, "{next:?}");
        let guard_cookie = form.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
        let page = form.text().await.unwrap();
        let kept = page.split("name=\"next\" value=\"").nth(1).unwrap().split('"').next().unwrap();
        assert_eq!(kept.replace("&amp;", "&"), expected, "{next:?}");
        let guard = page.split("name=\"guard\" value=\"").nth(1).unwrap().split('"').next().unwrap();
        // …and so does signing in with it posted.
        let resp = client
            .post(format!("{}/signin", server.base))
            .header("cookie", &guard_cookie)
            .form(&[
                ("email", "eng@stringer.example"),
                ("password", "eng@stringer.example-password"),
                ("guard", guard),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(resp.headers()["location"].to_str().unwrap(), expected, "{next:?}");
    }
    // A page that needs a session sends the browser to sign in and back to it.
    let resp = client.get(format!("{}/console?view=mine", server.base)).send().await.unwrap();
    assert_eq!(resp.headers()["location"].to_str().unwrap(), "/signin?next=%2Fconsole%3Fview%3Dmine");
}

/// The id of the page of `org` (`None`: the public page) in the list of pages.
fn page_id(pages: &Value, org: Option<&str>) -> String {
    let page = pages.as_array().unwrap().iter().find(|p| p["org"].as_str() == org).expect("the page is listed");
    page["id"].as_str().unwrap().to_string()
}

/// The status of the component `name` in a page's summary.
async fn component_status(server: &Server, path: &str, token: Option<&str>, name: &str) -> String {
    let (status, summary) = server.call(Method::GET, path, token, None).await;
    assert_eq!(status, StatusCode::OK, "{path}: {summary}");
    let component = summary["components"].as_array().unwrap().iter().find(|c| c["name"] == name).cloned();
    component.unwrap_or_else(|| panic!("{name} on {path}: {summary}"))["status"].as_str().unwrap().to_string()
}

/// F32: acme's monitor sets acme's own page, but the vendor's public page only once an admin
/// granted its key there; engineers cannot grant.
async fn only_granted_keys_set_the_vendors_page_on(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let pages = server.ok(Method::GET, "/api/v1/status-pages", &d.admin, None).await;
    let (public, acme) = (page_id(&pages, None), page_id(&pages, Some("acme")));
    for (page, name) in [(&public, "API"), (&acme, "Acme cluster")] {
        let component = json!({"name": name, "alert_key": "db/down"});
        server.ok(Method::POST, &format!("/api/v1/status-pages/{page}/components"), &d.engineer, Some(component)).await;
    }
    let created = server
        .ok(
            Method::POST,
            "/api/v1/orgs/acme/integration-keys",
            &d.admin,
            Some(json!({"name": "monitor", "kind": "events_v2"})),
        )
        .await;
    let (secret, key_id) = (created["key"].as_str().unwrap(), created["id"].as_str().unwrap());
    let send = |action: &str| {
        let event = json!({"routing_key": secret, "event_action": action, "dedup_key": "db/down",
            "payload": {"summary": "Database down", "source": "db1", "severity": "critical"}});
        server.raw(Method::POST, "/v2/enqueue", "", event.to_string().into_bytes(), "application/json")
    };
    assert_eq!(send("trigger").await.0, StatusCode::ACCEPTED);
    until("acme's own component goes down", || async {
        let now = component_status(&server, "/status/acme/api/v2/summary.json", Some(&d.alice), "Acme cluster").await;
        (now == "major_outage").then_some(())
    })
    .await;
    assert_eq!(
        component_status(&server, "/status/api/v2/summary.json", None, "API").await,
        "operational",
        "a customer's key sets nothing on the vendor's page unless granted"
    );
    let grant = format!("/api/v1/status-pages/{public}/alert-keys/{key_id}");
    for who in [&d.engineer, &d.alice] {
        let (status, problem) = server.call(Method::PUT, &grant, Some(who), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    }
    let missing = format!("/api/v1/status-pages/{public}/alert-keys/ink_nosuch");
    let (status, _) = server.call(Method::PUT, &missing, Some(&d.admin), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = server.call(Method::PUT, &grant, Some(&d.admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(send("trigger").await.0, StatusCode::ACCEPTED);
    until("the granted key sets the vendor's component", || async {
        let now = component_status(&server, "/status/api/v2/summary.json", None, "API").await;
        (now == "major_outage").then_some(())
    })
    .await;
    // Taken back, it sets nothing there any more.
    let (status, _) = server.call(Method::DELETE, &grant, Some(&d.admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(send("resolve").await.0, StatusCode::ACCEPTED);
    until("acme's own component comes back", || async {
        let now = component_status(&server, "/status/acme/api/v2/summary.json", Some(&d.alice), "Acme cluster").await;
        (now == "operational").then_some(())
    })
    .await;
    assert_eq!(component_status(&server, "/status/api/v2/summary.json", None, "API").await, "major_outage");
}

/// Everything of the answer at `/status/{org}{tail}` that could tell one org from another:
/// status, headers (but the date, and the length, which the body has) and body — with the
/// path the reader asked for, which pages and problem documents repeat, written `{org}`.
async fn answer_of(
    client: &reqwest::Client,
    server: &Server,
    org: &str,
    tail: &str,
    accept: &str,
) -> (u16, Vec<(String, String)>, String) {
    let resp = client.get(format!("{}/status/{org}{tail}", server.base)).header("accept", accept).send().await.unwrap();
    let status = resp.status().as_u16();
    let mut headers: Vec<(String, String)> = resp
        .headers()
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "date" | "content-length"))
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap_or_default().to_string()))
        .collect();
    headers.sort();
    let body = String::from_utf8_lossy(&resp.bytes().await.unwrap())
        .replace(&format!("/status/{org}"), "/status/{org}")
        .replace(&format!("%2Fstatus%2F{org}"), "%2Fstatus%2F{org}");
    (status, headers, body)
}

/// F33: to an anonymous reader, a tenant's page (and its documents, feeds and incidents) and
/// a page that does not exist answer byte for byte alike.
async fn hidden_and_missing_pages_answer_alike_on(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let pages = server.ok(Method::GET, "/api/v1/status-pages", &d.admin, None).await;
    let fedco = page_id(&pages, Some("fedco"));
    let incident = json!({"name": "Slow logins", "status": "investigating", "body": "Looking."});
    let incident =
        server.ok(Method::POST, &format!("/api/v1/status-pages/{fedco}/incidents"), &d.cleared, Some(incident)).await;
    let incident = incident["id"].as_str().unwrap().to_string();
    let client = reqwest::Client::new();
    for tail in [
        String::new(),
        "/api/v2/summary.json".into(),
        "/api/v2/nothing.json".into(),
        "/history.atom".into(),
        "/history.rss".into(),
        format!("/incidents/{incident}"),
        "/incidents/sti_nosuch".into(),
    ] {
        for accept in ["text/html", "application/json", "*/*"] {
            let hidden = answer_of(&client, &server, "fedco", &tail, accept).await;
            assert_eq!(hidden.0, 404, "{tail} ({accept})");
            for other in ["nosuchorg", "bolt"] {
                let missing = answer_of(&client, &server, other, &tail, accept).await;
                assert_eq!(hidden, missing, "{tail} ({accept}) vs {other}");
            }
        }
    }
    // Its own people still see it.
    let (status, _) = server.call(Method::GET, "/status/fedco/api/v2/summary.json", Some(&d.fiona), None).await;
    assert_eq!(status, StatusCode::OK);
}

/// F34: only admins bind a page's host name, and only to a DNS name of its own.
async fn host_names_are_bound_by_admins_on(db: Db) {
    let server = Server::start(&db, &["--public-url", "https://desk.vendor.example"]);
    let d = desk(&server).await;
    let pages = server.ok(Method::GET, "/api/v1/status-pages", &d.admin, None).await;
    let public = format!("/api/v1/status-pages/{}", page_id(&pages, None));
    let (status, problem) =
        server.call(Method::PATCH, &public, Some(&d.engineer), Some(json!({"host": "127.0.0.1"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    let (status, _) =
        server.call(Method::PATCH, &public, Some(&d.engineer), Some(json!({"name": "Vendor status"}))).await;
    assert_eq!(status, StatusCode::OK, "engineers still run the page");
    for host in [
        "127.0.0.1",
        "127.1",
        "[::1]",
        "::1",
        "localhost",
        "status.vendor.example:8080",
        "desk.vendor.example",
        "DESK.vendor.example.",
        "status_vendor.example",
        "status vendor.example",
        "status",
        "-status.vendor.example",
    ] {
        let (status, problem) = server.call(Method::PATCH, &public, Some(&d.admin), Some(json!({"host": host}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{host}: {problem}");
    }
    // The server's own `/` is still the site's.
    let home = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = home.get(format!("{}/", server.base)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let bound = server.ok(Method::PATCH, &public, &d.admin, Some(json!({"host": "Status.Vendor.Example."}))).await;
    assert_eq!(bound["host"], "status.vendor.example");
}

/// F39: pages, documents and API answers carry the headers that keep browsers from running
/// other sites' code in them, framing them, or telling other sites where a visitor was.
async fn pages_carry_security_headers_on(db: Db) {
    let server = Server::start(&db, &[]);
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for path in ["/signin", "/console", "/status", "/status/api/v2/summary.json", "/api/v1/tickets", "/nowhere"] {
        let resp = client.get(format!("{}{path}", server.base)).header("accept", "text/html").send().await.unwrap();
        let header = |name: &str| resp.headers().get(name).map(|v| v.to_str().unwrap().to_string());
        let csp = header("content-security-policy").unwrap_or_else(|| panic!("{path} has no CSP"));
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ] {
            assert!(csp.split("; ").any(|d| d == directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{path}: {csp}");
        assert_eq!(header("x-frame-options").as_deref(), Some("DENY"), "{path}");
        assert_eq!(header("referrer-policy").as_deref(), Some("same-origin"), "{path}");
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"), "{path}");
    }
}

const SECRET: &str = "signing-sekret";

/// Posts `body` to the Slack door `path`, signed at `timestamp`, with `extra` headers.
async fn slack_post(
    server: &Server,
    path: &str,
    body: &str,
    content_type: &str,
    timestamp: i64,
    extra: &[(&str, &str)],
) -> (StatusCode, String) {
    let signature = stringer_integrations::slack::sign_request(SECRET, timestamp, body.as_bytes());
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", server.base))
        .header("content-type", content_type)
        .header("x-slack-request-timestamp", timestamp.to_string())
        .header("x-slack-signature", signature);
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let resp = request.body(body.to_string()).send().await.unwrap();
    (resp.status(), resp.text().await.unwrap())
}

/// Slack: a refused press or command is answered 200 with a message only its sender sees
/// (the policy still refused it); Slack's retry of an event already stored is answered 200,
/// another repeat 401.
async fn slack_refusals_and_retries_on(db: Db) {
    let server = Server::start(&db, &["--slack-signing-secret", SECRET]);
    let d = desk(&server).await;
    let ticket = open_ticket(&server, &d.alice, "acme", "P2").await["id"].as_str().unwrap().to_string();
    let now = jiff::Timestamp::now().as_second();
    let press = support::slack_body("U0NOBODY", "stringer_ack", &ticket, &support::unique_action_ts());
    let (status, answer) =
        slack_post(&server, "/slack/interactions", &press, "application/x-www-form-urlencoded", now, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["response_type"], "ephemeral", "{answer}");
    assert!(answer["text"].as_str().unwrap().contains("not a Stringer staff user"), "{answer}");
    let t = server.ok(Method::GET, &format!("/api/v1/tickets/{ticket}"), &d.admin, None).await;
    assert!(t["acknowledged_by"].is_null(), "the refused press acknowledged nothing");
    // Still 401 when Slack did not sign it.
    let (status, _) =
        slack_post(&server, "/slack/interactions", &press, "application/x-www-form-urlencoded", now - 600, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A command this server cannot answer (no bot token) is told so, with 200.
    let command = "command=%2Fstringer&text=help&channel_id=C1&user_id=U1";
    let (status, answer) =
        slack_post(&server, "/slack/commands", command, "application/x-www-form-urlencoded", now, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["response_type"], "ephemeral", "{answer}");
    // An event stored, then Slack's retry of the very request: 200; the same without
    // Slack's retry header: a replay, 401.
    let event = json!({"type": "event_callback", "event_id": "Ev0RETRY", "team_id": "T1",
        "event": {"type": "message", "channel": "C1", "user": "U1", "ts": "1733100000.000100", "text": "hello"}})
    .to_string();
    let first = slack_post(&server, "/slack/events", &event, "application/json", now, &[]).await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    let retry =
        slack_post(&server, "/slack/events", &event, "application/json", now, &[("x-slack-retry-num", "1")]).await;
    assert_eq!(retry.0, StatusCode::OK, "{}", retry.1);
    let replay = slack_post(&server, "/slack/events", &event, "application/json", now, &[]).await;
    assert_eq!(replay.0, StatusCode::UNAUTHORIZED, "{}", replay.1);
    let handshake = json!({"type": "url_verification", "challenge": "abc", "token": "x"}).to_string();
    assert_eq!(slack_post(&server, "/slack/events", &handshake, "application/json", now, &[]).await.0, StatusCode::OK);
    let again =
        slack_post(&server, "/slack/events", &handshake, "application/json", now, &[("x-slack-retry-num", "2")]);
    assert_eq!(again.await.0, StatusCode::OK);
    assert_eq!(
        slack_post(&server, "/slack/events", &handshake, "application/json", now, &[]).await.0,
        StatusCode::UNAUTHORIZED
    );
}

/// What a Slack stand-in received: (method, content type, body).
type Received = Arc<Mutex<Vec<(String, String, String)>>>;

async fn record_slack(
    axum::extract::State(received): axum::extract::State<Received>,
    axum::extract::Path(method): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
    body: String,
) -> axum::Json<Value> {
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    received.lock().unwrap().push((method.clone(), content_type, body.clone()));
    let form: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap_or_default();
    let arg = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    axum::Json(match method.as_str() {
        "users.lookupByEmail" => json!({"ok": true, "user": {"id": format!("U{}", arg("email").len())}}),
        "conversations.create" => json!({"ok": true, "channel": {"id": "CZEN", "name": arg("name")}}),
        "conversations.list" => json!({"ok": true, "channels": [], "response_metadata": {"next_cursor": ""}}),
        _ => json!({"ok": true, "channel": "CZEN", "ts": "1733100000.000100"}),
    })
}

/// Slack: JSON calls say their charset; the methods Slack documents as taking form
/// arguments get a form, as slack_sdk sends them.
async fn slack_calls_as_its_clients_do_on(db: Db) {
    let received: Received = Arc::default();
    let app =
        axum::Router::new().route("/api/{method}", axum::routing::post(record_slack)).with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}/api", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let server = Server::start(&db, &["--slack-token", "xoxb-test", "--slack-api-url", &api]);
    let admin = server.admin();
    let tina = json!({"email": "tina@stringer.example", "name": "tina", "role": "tam"});
    let tina = server.ok(Method::POST, "/api/v1/users", &admin, Some(tina)).await["id"].as_str().unwrap().to_string();
    support::zen_org(&server, &admin, Some(&tina), &[]).await;
    let zara = json!({"email": "zara@zen.example", "name": "Zara", "role": "org_admin", "org": "zen"});
    server.ok(Method::POST, "/api/v1/users", &admin, Some(zara)).await;
    server.ok(Method::PATCH, "/api/v1/orgs/zen", &admin, Some(json!({"slack_channel": "#zen-support"}))).await;
    until("the welcome pinned", || async {
        received.lock().unwrap().iter().any(|(m, _, _)| m == "pins.add").then_some(())
    })
    .await;
    let calls = received.lock().unwrap().clone();
    let call = |method: &str| {
        calls.iter().find(|(m, _, _)| m == method).cloned().unwrap_or_else(|| panic!("no {method}: {calls:?}"))
    };
    let form = |body: &str| serde_urlencoded::from_str::<Vec<(String, String)>>(body).unwrap();
    let pairs = |list: &[(&str, &str)]| list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
    for (method, expected) in [
        ("conversations.create", pairs(&[("name", "zen-support"), ("is_private", "0")])),
        ("conversations.invite", pairs(&[("channel", "CZEN"), ("users", "U21")])),
        ("conversations.inviteShared", pairs(&[("channel", "CZEN"), ("emails", "zara@zen.example")])),
        ("pins.add", pairs(&[("channel", "CZEN"), ("timestamp", "1733100000.000100")])),
    ] {
        let (_, content_type, body) = call(method);
        assert_eq!(content_type, "application/x-www-form-urlencoded", "{method}");
        assert_eq!(form(&body), expected, "{method}");
    }
    let (_, content_type, body) = call("chat.postMessage");
    assert_eq!(content_type, "application/json; charset=utf-8");
    let message: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(message["channel"], "CZEN");
}
