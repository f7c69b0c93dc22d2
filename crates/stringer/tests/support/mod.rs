//! Test harness: the real `stringer serve` binary on port 0 with a fresh database (a SQLite
//! file in a temp dir, or a fresh database on the PostgreSQL server named by
//! `STRINGER_TEST_POSTGRES_URL`), and a small HTTP client.

#![allow(dead_code)]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

pub mod ledger;

/// Where a test server keeps its data.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(PathBuf),
    Postgres(String),
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A name no other test run has used: process ids wrap (32,768 on CI machines) and an earlier
/// test binary's directory may still be there, so the clock's nanoseconds go in too.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{prefix}_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

impl Db {
    /// A new, empty directory: `create_dir` refuses one that exists, so a server never starts
    /// on an earlier test's database.
    pub fn sqlite() -> Db {
        loop {
            let dir = std::env::temp_dir().join(unique("stringer_test"));
            match std::fs::create_dir(&dir) {
                Ok(()) => return Db::Sqlite(dir),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => panic!("cannot create {}: {e}", dir.display()),
            }
        }
    }

    /// A fresh PostgreSQL database, or `None` (skipped) when no server is configured.
    pub fn postgres() -> Option<Db> {
        let base = match std::env::var("STRINGER_TEST_POSTGRES_URL") {
            Ok(base) => base,
            Err(_) if std::env::var("STRINGER_REQUIRE_POSTGRES").is_ok() => {
                panic!("STRINGER_REQUIRE_POSTGRES is set but STRINGER_TEST_POSTGRES_URL is not")
            }
            Err(_) => {
                eprintln!("SKIPPED: set STRINGER_TEST_POSTGRES_URL=postgres://… to run against PostgreSQL");
                return None;
            }
        };
        let name = unique("server");
        let status = Command::new("psql")
            .args([base.as_str(), "-q", "-c", &format!("CREATE DATABASE {name}")])
            .env("PGOPTIONS", "--client-min-messages=warning")
            .status()
            .expect("psql runs");
        assert!(status.success(), "could not create database {name}");
        let (prefix, _) = base.rsplit_once('/').expect("URL has a database part");
        Some(Db::Postgres(format!("{prefix}/{name}")))
    }

    /// Where the database is, and nothing else: for a command that takes either `--data-dir`
    /// or `--database`, not both (`simulate --record`).
    pub fn database_args(&self) -> Vec<String> {
        match self {
            Db::Sqlite(dir) => vec!["--data-dir".into(), dir.display().to_string()],
            Db::Postgres(url) => vec!["--database".into(), url.clone()],
        }
    }

    /// The server's and the commands' arguments: the database, and the data directory the
    /// ledger's key file is in (see [`Db::dir`]).
    pub fn args(&self) -> Vec<String> {
        let dir = self.dir();
        match self {
            Db::Sqlite(_) => vec!["--data-dir".into(), dir.display().to_string()],
            Db::Postgres(url) => {
                vec!["--database".into(), url.clone(), "--data-dir".into(), dir.display().to_string()]
            }
        }
    }

    /// The data directory: the SQLite database's, or one of its own beside a PostgreSQL
    /// database (named after it, so every server on the database shares it), where the ledger's
    /// key file lives.
    pub fn dir(&self) -> PathBuf {
        match self {
            Db::Sqlite(dir) => dir.clone(),
            Db::Postgres(url) => {
                let dir = std::env::temp_dir().join(url.rsplit('/').next().expect("URL has a database part"));
                std::fs::create_dir_all(&dir).unwrap();
                dir
            }
        }
    }
}

/// The lines a server printed.
pub type Output = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// A running server.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// The first admin's token, when this start created it.
    pub admin: Option<String>,
    /// The metrics listener's `/metrics` URL, when started with `--metrics-listen`.
    pub metrics: Option<String>,
    /// Every line the server printed so far.
    pub output: Output,
    pub db: Db,
    client: reqwest::Client,
}

impl Server {
    pub fn start(db: &Db, extra: &[&str]) -> Server {
        Server::start_logging(db, extra, None)
    }

    /// Starts with the log filter `log.1` (RUST_LOG syntax) written to the file `log.0`,
    /// instead of warnings to the test's stderr.
    pub fn start_logging(db: &Db, extra: &[&str], log: Option<(&std::path::Path, &str)>) -> Server {
        let (filter, stderr) = match log {
            Some((file, filter)) => (filter.to_string(), Stdio::from(std::fs::File::create(file).unwrap())),
            None => ("warn".to_string(), Stdio::inherit()),
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_stringer"))
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(db.args())
            .args(extra)
            .env_remove("STRINGER_CONTRACT")
            .env_remove("STRINGER_CONFIG")
            .env("RUST_LOG", filter)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let output: Output = Default::default();
        let mut admin = None;
        let mut metrics = None;
        let mut seen_first_run = false;
        let base = loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("server printed its address in time");
            output.lock().unwrap().push(line.clone());
            if line.starts_with("First run") {
                seen_first_run = true;
            }
            if let Some(token) = line.trim().strip_prefix("token ")
                && seen_first_run
                && admin.is_none()
            {
                admin = Some(token.split_whitespace().next().unwrap().to_string());
            }
            if let Some(url) = line.strip_prefix("metrics on ") {
                metrics = Some(url.trim().to_string());
            }
            if let Some(addr) = line.strip_prefix("listening on ") {
                break addr.trim().to_string();
            }
        };
        let rest = output.clone();
        std::thread::spawn(move || {
            while let Ok(line) = rx.recv() {
                rest.lock().unwrap().push(line);
            }
        });
        Server { child, base, admin, metrics, output, db: db.clone(), client: reqwest::Client::new() }
    }

    /// Waits (up to 30 s) until the server has printed a line containing `text`; answers
    /// everything printed so far.
    pub fn printed(&self, text: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let lines = self.output.lock().unwrap().clone();
            if lines.iter().any(|l| l.contains(text)) {
                return lines;
            }
            assert!(Instant::now() < deadline, "the server never printed {text:?}: {lines:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn admin(&self) -> String {
        self.admin.clone().expect("this start created the admin")
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM and wait for a clean exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "server did not stop after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call_with(method, path, token, body, &[]).await
    }

    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status();
        let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let text = resp.text().await.unwrap();
        if !status.is_success() && status != StatusCode::NOT_MODIFIED && !path.starts_with("/healthz") {
            assert_eq!(
                content_type, "application/problem+json",
                "{status} for {path} is not a problem document: {text}"
            );
        }
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> (StatusCode, Value) {
        let resp = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Sends only the head of a POST declaring a `length`-byte JSON body and returns the
    /// status the server answers without waiting for the body.
    pub fn declare_oversized_body(&self, path: &str, token: &str, length: usize) -> u16 {
        use std::io::{Read, Write};
        let addr = self.base.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut buf = [0u8; 12];
        stream.read_exact(&mut buf).unwrap();
        std::str::from_utf8(&buf[9..12]).unwrap().parse().unwrap()
    }

    pub async fn ok(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Value {
        let (status, value) = self.call(method.clone(), path, Some(token), body).await;
        assert!(status.is_success(), "{method} {path}: {status} {value}");
        value
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A desk with three orgs (acme: enterprise dedicated; bolt: pro shared; fedco: enterprise
/// federal) and a token for each kind of caller.
pub struct Desk {
    pub admin: String,
    pub engineer: String,
    pub cleared: String,
    pub alice: String,
    pub bob: String,
    pub fiona: String,
}

pub async fn desk(server: &Server) -> Desk {
    let admin = server.admin();
    for (slug, tier, deployment) in
        [("acme", "enterprise", "dedicated"), ("bolt", "pro", "shared"), ("fedco", "enterprise", "federal")]
    {
        server
            .ok(
                Method::POST,
                "/api/v1/orgs",
                &admin,
                Some(json!({"slug": slug, "name": slug, "tier": tier, "deployment": deployment})),
            )
            .await;
    }
    let mut tokens = Vec::new();
    for (email, role, org, cleared) in [
        ("eng@stringer.example", "engineer", None, false),
        ("pat@stringer.example", "platform_engineer", None, true),
        ("alice@acme.example", "org_admin", Some("acme"), false),
        ("bob@bolt.example", "member", Some("bolt"), false),
        ("fiona@fedco.example", "member", Some("fedco"), false),
    ] {
        let password = format!("{email}-password");
        server
            .ok(Method::POST, "/api/v1/users", &admin, Some(json!({"email": email, "name": email, "role": role, "org": org, "federal_cleared": cleared, "password": password})))
            .await;
        let login =
            server.ok(Method::POST, "/api/v1/login", "", Some(json!({"email": email, "password": password}))).await;
        tokens.push(login["token"].as_str().unwrap().to_string());
    }
    Desk {
        admin,
        engineer: tokens[0].clone(),
        cleared: tokens[1].clone(),
        alice: tokens[2].clone(),
        bob: tokens[3].clone(),
        fiona: tokens[4].clone(),
    }
}

/// Creates the Enterprise dedicated org "zen" with its TAM and named engineers, and its
/// customer zoe; returns zoe's token.
pub async fn zen_org(server: &Server, admin: &str, tam: Option<&str>, named_engineers: &[&str]) -> String {
    let org = json!({"slug": "zen", "name": "Zen", "tier": "enterprise", "deployment": "dedicated", "tam": tam, "named_engineers": named_engineers});
    server.ok(Method::POST, "/api/v1/orgs", admin, Some(org)).await;
    let zoe = json!({"email": "zoe@zen.example", "name": "zoe", "role": "member", "org": "zen", "password": "zoe-password-123"});
    server.ok(Method::POST, "/api/v1/users", admin, Some(zoe)).await;
    let login = json!({"email": "zoe@zen.example", "password": "zoe-password-123"});
    server.ok(Method::POST, "/api/v1/login", "", Some(login)).await["token"].as_str().unwrap().to_string()
}

pub async fn open_ticket(server: &Server, token: &str, org: &str, severity: &str) -> Value {
    server
        .ok(Method::POST, "/api/v1/tickets", token, Some(json!({"org": org, "severity": severity, "subject": format!("{severity} at {org}"), "description": "details"})))
        .await
}

/// Polls `probe` until it answers something (60 s at most).
pub async fn until<T, F: std::future::Future<Output = Option<T>>>(what: &str, mut probe: impl FnMut() -> F) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(std::time::Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// Runs an async test body against SQLite and, when configured, PostgreSQL.
macro_rules! both_backends {
    ($name:ident, $body:ident) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $body(support::Db::sqlite()).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(db) = support::Db::postgres() {
                    $body(db).await;
                }
            }
        }
    };
}

/// One webhook as a local receiver got it.
#[derive(Clone, Debug)]
pub struct Received {
    pub who: String,
    pub at: Instant,
    /// The wall clock at arrival, to compare with the server's instants.
    pub wall: std::time::SystemTime,
    pub body: String,
    pub timestamp: i64,
    pub signature: String,
    pub key: String,
}

pub type Log = std::sync::Arc<std::sync::Mutex<Vec<Received>>>;

async fn hook(
    axum::extract::State(log): axum::extract::State<Log>,
    axum::extract::Path(who): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
    body: String,
) -> &'static str {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    log.lock().unwrap().push(Received {
        who,
        at: Instant::now(),
        wall: std::time::SystemTime::now(),
        body,
        timestamp: header("stringer-timestamp").parse().unwrap_or(0),
        signature: header("stringer-signature").trim_start_matches("v1=").to_string(),
        key: header("idempotency-key"),
    });
    "ok"
}

/// Records the webhook at once, then answers only after `seconds`: a slow receiver.
async fn slow_hook(
    state: axum::extract::State<Log>,
    axum::extract::Path((seconds, who)): axum::extract::Path<(u64, String)>,
    headers: axum::http::HeaderMap,
    body: String,
) -> &'static str {
    hook(state, axum::extract::Path(who), headers, body).await;
    tokio::time::sleep(std::time::Duration::from_secs(seconds)).await;
    "ok"
}

/// A local receiver recording every webhook it gets at `/hook/{who}`, and at
/// `/slow/{seconds}/{who}`, which answers only after that many seconds.
pub async fn receiver() -> (String, Log) {
    let log: Log = Default::default();
    let app = axum::Router::new()
        .route("/hook/{who}", axum::routing::post(hook))
        .route("/slow/{seconds}/{who}", axum::routing::post(slow_hook))
        .with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), log)
}

/// A local receiver recording every webhook at `/hook/{who}` on arrival and answering only
/// after `latency`: a kill then often lands mid-send (the crash tests).
pub async fn receiver_answering_after(latency: std::time::Duration) -> (String, Log) {
    async fn lagging(
        axum::extract::State((log, latency)): axum::extract::State<(Log, std::time::Duration)>,
        who: axum::extract::Path<String>,
        headers: axum::http::HeaderMap,
        body: String,
    ) -> &'static str {
        hook(axum::extract::State(log), who, headers, body).await;
        tokio::time::sleep(latency).await;
        "ok"
    }
    let log: Log = Default::default();
    let app = axum::Router::new().route("/hook/{who}", axum::routing::post(lagging)).with_state((log.clone(), latency));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), log)
}

/// Staff with webhooks at `hooks` (nico: engineer, tina: TAM, vera: VP of Engineering), the
/// Enterprise org `zen` whose TAM is tina and named on-call engineer nico, and its customer.
/// Returns the desk, the customer's token, each person's signing secret and user id.
pub async fn paging_desk(
    server: &Server,
    hooks: &str,
) -> (Desk, String, std::collections::HashMap<String, String>, std::collections::HashMap<String, String>) {
    let d = desk(server).await;
    let mut secrets = std::collections::HashMap::new();
    let mut ids = std::collections::HashMap::new();
    for (name, role) in [("nico", "engineer"), ("tina", "tam"), ("vera", "vp_engineering")] {
        let body = json!({"email": format!("{name}@stringer.example"), "name": name, "role": role});
        let id =
            server.ok(Method::POST, "/api/v1/users", &d.admin, Some(body)).await["id"].as_str().unwrap().to_string();
        let method = json!({"kind": "webhook", "address": format!("{hooks}/hook/{name}")});
        let created =
            server.ok(Method::POST, &format!("/api/v1/users/{id}/contact-methods"), &d.admin, Some(method)).await;
        secrets.insert(name.to_string(), created["secret"].as_str().unwrap().to_string());
        ids.insert(name.to_string(), id);
    }
    let zoe = zen_org(server, &d.admin, Some(&ids["tina"]), &[&ids["nico"]]).await;
    (d, zoe, secrets, ids)
}

/// The built-in contract with text replacements (e.g. minutes made seconds), written to a
/// file of its own for a test server.
pub fn contract_with(replacements: &[(&str, &str)]) -> PathBuf {
    let mut text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/src/contract/default.toml")).unwrap();
    for (from, to) in replacements {
        assert!(text.contains(from), "the default contract has no {from:?}");
        text = text.replace(from, to);
    }
    let path = std::env::temp_dir().join(format!("{}.toml", unique("stringer-contract")));
    std::fs::write(&path, text).unwrap();
    path
}

/// Slack Web API calls a stand-in received: (method, authorization header, arguments).
pub type Posts = std::sync::Arc<std::sync::Mutex<Vec<(String, String, Value)>>>;

#[derive(Clone)]
struct SlackStandIn {
    posts: Posts,
    /// The second each recorded call came in (by its index in `posts`): a message's `ts`.
    seconds: std::sync::Arc<std::sync::Mutex<Vec<i64>>>,
    /// Member ID → profile email, answered by `users.info`.
    members: std::sync::Arc<std::collections::HashMap<String, String>>,
    control: SlackControl,
}

/// Makes the Slack stand-in misbehave: while `hang_updates` is set, a `chat.update` is
/// counted in `updates_hung` and never answered (as if Slack were unreachable mid-call), and
/// it is not applied (not recorded in the posts); posts can be refused as Slack refuses them
/// when rate-limited.
#[derive(Clone, Default)]
pub struct SlackControl {
    pub hang_updates: std::sync::Arc<std::sync::atomic::AtomicBool>,
    pub updates_hung: std::sync::Arc<AtomicU32>,
    /// How many of the next `chat.postMessage` calls into a thread are refused
    /// (`ratelimited`, not applied).
    pub refuse_thread_posts: std::sync::Arc<AtomicU32>,
}

async fn slack_web_api(
    axum::extract::State(stand_in): axum::extract::State<SlackStandIn>,
    axum::extract::Path(method): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
    body: String,
) -> axum::Json<Value> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let now = jiff::Timestamp::now().as_second();
    // Slack takes JSON or form-encoded arguments.
    let args: Value = serde_json::from_str(&body).unwrap_or_else(|_| {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap_or_default();
        Value::Object(pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
    });
    if method == "chat.update" && stand_in.control.hang_updates.load(Ordering::SeqCst) {
        stand_in.control.updates_hung.fetch_add(1, Ordering::SeqCst);
        std::future::pending::<()>().await;
    }
    let refuse = &stand_in.control.refuse_thread_posts;
    if method == "chat.postMessage"
        && args.get("thread_ts").is_some()
        && refuse.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
    {
        return axum::Json(json!({"ok": false, "error": "ratelimited"}));
    }
    let mut posts = stand_in.posts.lock().unwrap();
    let mut seconds = stand_in.seconds.lock().unwrap();
    let ts = |n: usize| slack_ts(seconds[n], n);
    // Slack returns messages' metadata only when asked to.
    let with_metadata = matches!(args["include_all_metadata"].as_str(), Some("true" | "1"))
        || args["include_all_metadata"] == json!(true);
    let message = |n: usize, a: &Value| {
        let mut m = json!({"type": "message", "ts": ts(n), "text": a["text"]});
        if with_metadata && a.get("metadata").is_some() {
            m["metadata"] = a["metadata"].clone();
        }
        m
    };
    let answer = match method.as_str() {
        "users.info" => match stand_in.members.get(args["user"].as_str().unwrap_or_default()) {
            Some(email) => json!({"ok": true, "user": {"id": args["user"], "is_bot": false, "deleted": false,
                "is_email_confirmed": true, "profile": {"email": email}}}),
            None => json!({"ok": false, "error": "user_not_found"}),
        },
        // Channel ids here spell their channel's name: CSTRINGER-ACME is #stringer-acme.
        "conversations.info" => {
            let id = args["channel"].as_str().unwrap_or_default().to_string();
            match id.strip_prefix('C') {
                Some(name) if !name.is_empty() => {
                    json!({"ok": true, "channel": {"id": id, "name": name.to_lowercase()}})
                }
                _ => json!({"ok": false, "error": "channel_not_found"}),
            }
        }
        "conversations.create" => {
            let name = args["name"].as_str().unwrap_or_default().to_string();
            json!({"ok": true, "channel": {"id": format!("C{}", name.to_uppercase()), "name": name}})
        }
        // The channels created here.
        "conversations.list" => {
            let channels: Vec<Value> = posts
                .iter()
                .filter(|(m, _, _)| m == "conversations.create")
                .map(|(_, _, a)| {
                    let name = a["name"].as_str().unwrap_or_default();
                    json!({"id": format!("C{}", name.to_uppercase()), "name": name})
                })
                .collect();
            json!({"ok": true, "channels": channels, "response_metadata": {"next_cursor": ""}})
        }
        // A thread's replies: the messages posted in it, each under the timestamp its post was
        // answered with.
        "conversations.replies" => {
            let messages: Vec<Value> = posts
                .iter()
                .enumerate()
                .filter(|(_, (m, _, a))| {
                    m == "chat.postMessage" && a["channel"] == args["channel"] && a["thread_ts"] == args["ts"]
                })
                .map(|(n, (_, _, a))| message(n, a))
                .collect();
            json!({"ok": true, "messages": messages, "has_more": false, "response_metadata": {"next_cursor": ""}})
        }
        // A channel's messages (not the replies in its threads), newest first, between
        // `oldest` and `latest` (both left out unless `inclusive`), `limit` a page (100 unless
        // given, at most 999), the next page under `response_metadata.next_cursor`. As Slack,
        // it takes the channel's id only: posts made to `#name` are in `C` + its name in
        // capitals.
        "conversations.history" => {
            let channel = args["channel"].as_str().unwrap_or_default();
            if !channel.starts_with('C') || channel.len() < 2 || channel.contains('#') {
                json!({"ok": false, "error": "channel_not_found"})
            } else {
                let bound = |name: &str| args[name].as_str().filter(|t| !t.is_empty()).map(ts_key);
                let (oldest, latest) = (bound("oldest"), bound("latest"));
                let inclusive = matches!(args["inclusive"].as_str(), Some("true" | "1"));
                let within = |key: (i64, u32)| {
                    oldest.is_none_or(|o| if inclusive { key >= o } else { key > o })
                        && latest.is_none_or(|l| if inclusive { key <= l } else { key < l })
                };
                let mut messages: Vec<Value> = posts
                    .iter()
                    .enumerate()
                    .filter(|(n, (m, _, a))| {
                        m == "chat.postMessage"
                            && a.get("thread_ts").is_none()
                            && channel_id(a["channel"].as_str().unwrap_or_default()) == channel
                            && within(ts_key(&ts(*n)))
                    })
                    .map(|(n, (_, _, a))| message(n, a))
                    .collect();
                messages.reverse();
                let limit = args["limit"].as_str().and_then(|l| l.parse().ok()).unwrap_or(100usize).clamp(1, 999);
                let from = args["cursor"]
                    .as_str()
                    .and_then(|c| c.strip_prefix("next_ts:"))
                    .map_or(0, |t| messages.iter().take_while(|m| m["ts"] != t).count());
                let page: Vec<Value> = messages.iter().skip(from).take(limit).cloned().collect();
                let next = messages.get(from + limit).map(|m| format!("next_ts:{}", m["ts"].as_str().unwrap()));
                json!({"ok": true, "messages": page, "has_more": next.is_some(),
                    "response_metadata": {"next_cursor": next.unwrap_or_default()}})
            }
        }
        "users.lookupByEmail" => {
            let email = args["email"].as_str().unwrap_or_default();
            match stand_in.members.iter().find(|(_, e)| e.as_str() == email) {
                Some((id, _)) => json!({"ok": true, "user": {"id": id}}),
                None => json!({"ok": false, "error": "users_not_found"}),
            }
        }
        // As Slack does: the channel's id and a message timestamp unique in it.
        _ => {
            let ts = slack_ts(now, posts.len());
            json!({"ok": true, "channel": format!("C-{}", args["channel"].as_str().unwrap_or_default()), "ts": ts})
        }
    };
    posts.push((method, auth, args));
    seconds.push(now);
    axum::Json(answer)
}

/// The timestamp the stand-in gives the message of its `n`th call, made at second `at`: as
/// Slack's, the second it was posted, and in its six decimals the call's index (so unique).
pub fn slack_ts(at: i64, n: usize) -> String {
    format!("{at}.{n:06}")
}

/// The index (in the posts) of the call whose message has the stand-in's timestamp `ts`.
pub fn slack_call_of(ts: &str) -> Option<usize> {
    ts.split_once('.')?.1.parse().ok()
}

/// A Slack timestamp (`1700000000.000100`, or whole seconds) as (seconds, microseconds), to
/// compare.
fn ts_key(ts: &str) -> (i64, u32) {
    let (seconds, micros) = ts.split_once('.').unwrap_or((ts, "0"));
    (seconds.parse().unwrap_or(0), format!("{micros:0<6}").get(..6).and_then(|m| m.parse().ok()).unwrap_or(0))
}

/// The id the stand-in gives a channel posted to by id or by `#name` (`#acme-ops` is
/// `CACME-OPS`).
fn channel_id(channel: &str) -> String {
    match channel.strip_prefix('#') {
        Some(name) => format!("C{}", name.to_uppercase()),
        None => channel.to_string(),
    }
}

/// A local stand-in for the Slack Web API that records every call; `members` are the Slack
/// users it knows (member ID, profile email).
pub async fn slack_api(members: &[(&str, &str)]) -> (String, Posts) {
    let (url, posts, _) = slack_api_controlled(members).await;
    (url, posts)
}

/// [`slack_api`] with its [`SlackControl`].
pub async fn slack_api_controlled(members: &[(&str, &str)]) -> (String, Posts, SlackControl) {
    let posts: Posts = Default::default();
    let members = members.iter().map(|(id, email)| (id.to_string(), email.to_string())).collect();
    let control = SlackControl::default();
    let state = SlackStandIn {
        posts: posts.clone(),
        seconds: Default::default(),
        members: std::sync::Arc::new(members),
        control: control.clone(),
    };
    let app = axum::Router::new().route("/api/{method}", axum::routing::post(slack_web_api)).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/api"), posts, control)
}

/// The calls of one Web API method: (authorization header, arguments).
pub fn slack_calls(posts: &Posts, method: &str) -> Vec<(String, Value)> {
    posts.lock().unwrap().iter().filter(|(m, _, _)| m == method).map(|(_, a, b)| (a.clone(), b.clone())).collect()
}

/// A fresh `action_ts`, as Slack puts in every button press.
pub fn unique_action_ts() -> String {
    format!("{}.{}", jiff::Timestamp::now().as_second(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

/// The form body of a button press by `member` on `ticket`.
pub fn slack_body(member: &str, action: &str, ticket: &str, action_ts: &str) -> String {
    let payload = json!({
        "type": "block_actions",
        "user": {"id": member},
        "actions": [{"action_id": action, "value": ticket, "action_ts": action_ts}]
    });
    serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap()
}

/// Sends a body to `/slack/interactions`, signed as Slack signs it at `timestamp`.
pub async fn slack_send(server: &Server, body: &str, timestamp: i64, secret: &str) -> StatusCode {
    let signature = stringer_integrations::slack::sign_request(secret, timestamp, body.as_bytes());
    let form = "application/x-www-form-urlencoded";
    slack_post_signed(server, "/slack/interactions", form, body, timestamp, &signature).await.0
}

/// Posts `body` to `path` as Slack does, with the given timestamp and signature headers.
pub async fn slack_post_signed(
    server: &Server,
    path: &str,
    content_type: &str,
    body: &str,
    timestamp: i64,
    signature: &str,
) -> (StatusCode, String) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", server.base))
        .header("content-type", content_type)
        .header("x-slack-request-timestamp", timestamp.to_string())
        .header("x-slack-signature", signature)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// A press of a Slack button, signed now.
pub async fn slack_press(
    server: &Server,
    member: &str,
    action: &str,
    ticket: &str,
    secret: &str,
    action_ts: &str,
) -> StatusCode {
    let body = slack_body(member, action, ticket, action_ts);
    slack_send(server, &body, jiff::Timestamp::now().as_second(), secret).await
}

pub type Mails = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<String>, String)>>>;

/// The text of a recorded mail with its quoted-printable soft line breaks and `=3D` undone
/// (enough for the ASCII these tests look for).
pub fn mail_text(mail: &str) -> String {
    mail.replace("\r\n", "\n").replace("=\n", "").replace("=3D", "=")
}

/// A minimal SMTP server (RFC 5321 subset: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT)
/// recording (sender, recipients, message) of every message it accepts.
pub async fn smtp_receiver() -> (u16, Mails) {
    let mails: Mails = std::sync::Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let store = mails.clone();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = tokio::io::BufReader::new(read).lines();
                write.write_all(b"220 receiver ESMTP\r\n").await.unwrap();
                let (mut from, mut to) = (String::new(), Vec::new());
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-receiver\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("RSET") {
                        (from, to) = (String::new(), Vec::new());
                        b"250 OK\r\n"
                    } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
                        b"250 OK\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        from = line[10..].trim().to_string();
                        b"250 OK\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        to.push(line[8..].trim().to_string());
                        b"250 OK\r\n"
                    } else if upper == "DATA" {
                        write.write_all(b"354 go ahead\r\n").await.unwrap();
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        // The transaction ends with its message: the next one names its own
                        // recipients (lettre keeps pooled connections open).
                        store.lock().unwrap().push((std::mem::take(&mut from), std::mem::take(&mut to), data));
                        b"250 queued\r\n"
                    } else if upper == "QUIT" {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        return;
                    } else {
                        b"502 not implemented\r\n"
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, mails)
}

/// Signs in through the form (its guard cookie and token first), going on to `next`;
/// answers a client that follows no redirect and the session cookie's whole `Set-Cookie`.
pub async fn sign_in(server: &Server, email: &str, password: &str, next: &str) -> (reqwest::Client, String) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form = client.get(format!("{}/signin", server.base)).send().await.unwrap();
    let guard_cookie = form.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let form = form.text().await.unwrap();
    let guard = form.split("name=\"guard\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let resp = client
        .post(format!("{}/signin", server.base))
        .header("cookie", guard_cookie)
        .form(&[("email", email), ("password", password), ("guard", &guard), ("next", next)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{email} signs in");
    let set = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("stringer_session="))
        .unwrap();
    (client, set)
}

/// `GET path` with the session `sign_in` answered (its `Set-Cookie`, whole or not).
pub async fn get_signed_in(server: &Server, client: &reqwest::Client, cookie: &str, path: &str) -> reqwest::Response {
    let session = cookie.split(';').next().unwrap();
    client.get(format!("{}{path}", server.base)).header("cookie", session).send().await.unwrap()
}

/// How many SQL statements in `log` (a stretch of a server's log written with
/// `sqlx::query=debug`) read one ticket: by its id, or by its key (org and number).
pub fn ticket_reads(log: &str) -> usize {
    log.lines()
        .filter(|l| l.contains("sqlx::query"))
        .filter(|l| {
            let sql = l.replace("\\n", " ").split_whitespace().collect::<Vec<_>>().join(" ");
            let by_id = sql.contains("id = $1");
            let by_key = sql.contains("org = $1 AND t.number = $2") || sql.contains("org = $1 AND number = $2");
            sql.contains("FROM tickets") && sql.contains("WHERE") && (by_id || by_key)
        })
        .count()
}

/// The address the server's SMTP listener printed (`SMTP on ADDR …`).
pub fn smtp_address(server: &Server) -> String {
    let lines = server.printed("SMTP on ");
    let line = lines.iter().find(|l| l.starts_with("SMTP on ")).unwrap().clone();
    line.trim_start_matches("SMTP on ").split_whitespace().next().unwrap().to_string()
}

/// Sends messages (envelope sender, recipient, raw message) over one SMTP conversation
/// (EHLO, then MAIL, RCPT and DATA for each) from 127.0.0.1; panics unless each is accepted.
pub async fn smtp_deliver(smtp: &str, messages: &[(&str, &str, String)]) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    async fn expect(io: &mut BufReader<tokio::net::TcpStream>, code: &str) {
        loop {
            let mut line = String::new();
            io.read_line(&mut line).await.unwrap();
            assert!(line.starts_with(code), "expected {code}, got {line:?}");
            if line.as_bytes().get(3) != Some(&b'-') {
                return;
            }
        }
    }
    let mut io = BufReader::new(tokio::net::TcpStream::connect(smtp).await.unwrap());
    expect(&mut io, "220").await;
    io.get_mut().write_all(b"EHLO client.example\r\n").await.unwrap();
    expect(&mut io, "250").await;
    for (from, to, raw) in messages {
        for (command, code) in [
            (format!("MAIL FROM:<{from}>\r\n"), "250"),
            (format!("RCPT TO:<{to}>\r\n"), "250"),
            ("DATA\r\n".to_string(), "354"),
            (format!("{}\r\n.\r\n", raw.replace("\r\n.", "\r\n..")), "250"),
        ] {
            io.get_mut().write_all(command.as_bytes()).await.unwrap();
            expect(&mut io, code).await;
        }
    }
    io.get_mut().write_all(b"QUIT\r\n").await.unwrap();
}

/// Posts a form to the phone door `url` (absolute, as the line's TwiML gives it), signed
/// with `token` as the telephony provider signs it.
pub async fn phone_post(url: &str, form: &[(&str, &str)], token: &str) -> (StatusCode, String) {
    let params: Vec<(String, String)> = form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let signature = stringer_integrations::sms_voice::signature::sign(token, url, &params);
    let response =
        reqwest::Client::new().post(url).header("x-twilio-signature", signature).form(&params).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The value of `attribute` on the first `<element …>` of a TwiML document, unescaped.
pub fn twiml_attribute(twiml: &str, element: &str, attribute: &str) -> Option<String> {
    let start = twiml.find(&format!("<{element} "))?;
    let tag = &twiml[start..start + twiml[start..].find('>')?];
    let at = tag.find(&format!(" {attribute}=\""))? + attribute.len() + 3;
    Some(tag[at..at + tag[at..].find('"')?].replace("&amp;", "&"))
}

/// Parses an iCalendar text with Python's `icalendar`; returns (DTSTART, DTEND, SUMMARY) in UTC.
pub fn parse_ics(text: &str) -> Option<Vec<(String, String, String)>> {
    let python = match std::env::var("STRINGER_TEST_PYTHON") {
        Ok(p) => p,
        Err(_) if std::env::var("STRINGER_REQUIRE_PYTHON").is_ok() => {
            panic!("STRINGER_REQUIRE_PYTHON is set but STRINGER_TEST_PYTHON is not")
        }
        Err(_) => {
            eprintln!("SKIPPED: set STRINGER_TEST_PYTHON to a Python with icalendar to parse the feed");
            return None;
        }
    };
    let script = r#"
import sys, json, icalendar, datetime
cal = icalendar.Calendar.from_ical(sys.stdin.read())
out = []
for e in cal.walk("VEVENT"):
    f = lambda k: e.decoded(k).astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    out.append([f("DTSTART"), f("DTEND"), str(e.get("SUMMARY"))])
print(json.dumps(out))
"#;
    let mut child = std::process::Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "icalendar could not parse the feed");
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// Runs SQL on a server's database from outside (sqlite3 or psql), as an operator's hand or a
/// crash would leave it, and answers what the client printed, trimmed.
pub fn sql(db: &Db, query: &str) -> String {
    let output = match db {
        // Waits for a lock as the server's own connections do (a busy timeout), not failing at once.
        Db::Sqlite(dir) => {
            Command::new("sqlite3").args(["-cmd", ".timeout 10000"]).arg(dir.join("stringer.db")).arg(query).output()
        }
        Db::Postgres(url) => {
            Command::new("psql").args([url.as_str(), "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", query]).output()
        }
    }
    .expect("the database client runs");
    assert!(output.status.success(), "{query}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// A desk on a virtual clock over a real database, as the tests that write history through
/// the application's own Desk drive it.
pub type VirtualDesk = stringer_app::Desk<stringer_store::SqlStore, stringer_app::VirtualClock>;

/// Moves `desk`'s clock to `when`, running every timer due by then on the way, as the
/// server's sweep does.
pub async fn run_to(desk: &VirtualDesk, when: jiff::Timestamp) {
    while let Some(next) = desk.next_timer_at().await.unwrap() {
        if next > when {
            break;
        }
        desk.clock().set(next);
        desk.tick().await.unwrap();
    }
    desk.clock().set(when);
}

/// Records one event of `ticket` at `when` on `desk`, after the timers due by then (an
/// opening with a subject of its own).
pub async fn record_at(desk: &VirtualDesk, ticket: &str, when: jiff::Timestamp, kind: stringer_core::event::EventKind) {
    use stringer_core::event::{Event, EventKind};
    run_to(desk, when).await;
    let details = matches!(kind, EventKind::Opened { .. }).then(|| stringer_app::TicketDetails {
        subject: format!("{ticket} subject"),
        description: "generated".into(),
        requester: None,
    });
    let extras = stringer_app::Extras { details, ..stringer_app::Extras::default() };
    let id = stringer_core::ids::TicketId::from(ticket);
    desk.record_with(vec![Event::new(when, id, kind)], extras).await.unwrap();
}
