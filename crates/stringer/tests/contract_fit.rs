//! A contract that no longer fits the data (docs/contract.md, "When the data no longer
//! fits"): `stringer contract check FILE --database URL` and `stringer serve` refuse one that
//! lacks a stored org's tier or an open ticket's severity, naming them; data brought out of
//! fit while the server runs is refused with a clear problem (409, never "database
//! unavailable"), and its due timer is dropped with a log line naming what the contract
//! lacks while another org's escalation still fires on time. A handler's panic is a 500
//! problem saying an internal error happened, its message logged.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::{Db, Server, contract_with, desk, open_ticket, paging_desk, receiver, sql, until};

/// The built-in contract with the `pro` tier renamed `professional` and the severity `P4`
/// renamed `P5`: valid on its own.
fn renamed_contract() -> std::path::PathBuf {
    contract_with(&[
        ("[tiers.pro]", "[tiers.professional]"),
        ("[targets.response.tiers.pro]", "[targets.response.tiers.professional]"),
        ("[escalation.pro]", "[escalation.professional]"),
        ("[severities.P4]", "[severities.P5]"),
        ("P4 = {", "P5 = {"),
        ("\"P4\"", "\"P5\""),
    ])
}

/// The database's URL as `--database` takes it.
fn url(db: &Db) -> String {
    match db {
        Db::Sqlite(dir) => format!("sqlite://{}", dir.join("stringer.db").display()),
        Db::Postgres(url) => url.clone(),
    }
}

/// Runs the binary to its end (60 s at most).
fn stringer(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stringer"))
        .args(args)
        .env_remove("STRINGER_CONTRACT")
        .env_remove("STRINGER_CONFIG")
        .env_remove("STRINGER_DATABASE")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("stringer {args:?} did not end");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

async fn a_contract_that_does_not_cover_the_data_is_refused(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let p2 = open_ticket(&server, &d.bob, "bolt", "P2").await["key"].as_str().unwrap().to_string();
    let p4 = open_ticket(&server, &d.alice, "acme", "P4").await["key"].as_str().unwrap().to_string();
    assert_eq!((p2.as_str(), p4.as_str()), ("BOLT-1", "ACME-1"));
    let resolved = open_ticket(&server, &d.alice, "acme", "P4").await["id"].as_str().unwrap().to_string();
    server.ok(Method::POST, &format!("/api/v1/tickets/{resolved}/resolve"), &d.engineer, None).await;
    server.terminate();

    let contract = renamed_contract();
    let file = contract.to_str().unwrap();
    let alone = stringer(&["contract", "check", file]);
    assert!(alone.status.success(), "{}", String::from_utf8_lossy(&alone.stderr));

    let checked = stringer(&["contract", "check", file, "--database", &url(&db)]);
    let said = String::from_utf8_lossy(&checked.stderr);
    assert!(!checked.status.success(), "{said}");
    assert!(said.contains("the contract in force has no tier \"pro\", used by org bolt, ticket BOLT-1"), "{said}");
    // Only open tickets count: the resolved ACME-2 keeps its P4 in the record.
    assert!(said.contains("the contract in force has no severity \"P4\", used by ticket ACME-1\n"), "{said}");

    let mut serve = vec!["serve", "--listen", "127.0.0.1:0", "--contract", file];
    let db_args = db.args();
    serve.extend(db_args.iter().map(String::as_str));
    let refused = stringer(&serve);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{said}");
    assert!(!String::from_utf8_lossy(&refused.stdout).contains("listening on"));
    assert!(said.contains("does not cover the data in the database, so the server does not start"), "{said}");
    assert!(said.contains("no tier \"pro\", used by org bolt, ticket BOLT-1"), "{said}");
    assert!(said.contains("no severity \"P4\", used by ticket ACME-1"), "{said}");

    // The contract in force still starts.
    Server::start(&db, &[]).terminate();
}
both_backends!(refused_at_start_and_by_check, a_contract_that_does_not_cover_the_data_is_refused);

async fn data_brought_out_of_fit_while_running(db: Db) {
    let (hooks, log) = receiver().await;
    let contract =
        contract_with(&[("{ notify = \"tam\", after = \"15 minutes\"", "{ notify = \"tam\", after = \"5 seconds\"")]);
    let dir = std::env::temp_dir().join(support::unique("contract_fit_log"));
    std::fs::create_dir(&dir).unwrap();
    let log_file = dir.join("server.log");
    let server = Server::start_logging(
        &db,
        &["--contract", contract.to_str().unwrap(), "--allow-private-webhooks"],
        Some((&log_file, "warn")),
    );
    let (d, zoe, _, _) = paging_desk(&server, &hooks).await;

    // Two Enterprise P1s: each pages at once and the TAM 5 s later, unless acknowledged.
    let acme = open_ticket(&server, &d.alice, "acme", "P1").await["id"].as_str().unwrap().to_string();
    let opened = Instant::now();
    let zen = open_ticket(&server, &zoe, "zen", "P1").await["id"].as_str().unwrap().to_string();
    // Behind the server's back, acme and its ticket move to a tier the contract lacks.
    sql(&db, "UPDATE orgs SET tier = 'gold' WHERE slug = 'acme'");
    sql(
        &db,
        "UPDATE tickets SET state = REPLACE(state, '\"tier\":\"enterprise\"', '\"tier\":\"gold\"') WHERE org = 'acme'",
    );

    // A change to that ticket is refused, naming the tier; nothing is written.
    let before = server.ok(Method::GET, &format!("/api/v1/tickets/{acme}"), &d.engineer, None).await;
    let (status, problem) = server
        .call(Method::PATCH, &format!("/api/v1/tickets/{acme}"), Some(&d.engineer), Some(json!({"severity": "P2"})))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("the contract in force has no tier \"gold\""), "{detail}");
    let after = server.ok(Method::GET, &format!("/api/v1/tickets/{acme}"), &d.engineer, None).await;
    assert_eq!(after["severity"], before["severity"]);

    // zen's TAM is paged on time although acme's escalation timer falls due with it.
    let page = until("zen's TAM page", || {
        let log = log.clone();
        let zen = zen.clone();
        async move {
            log.lock().unwrap().iter().find_map(|r| {
                let body: Value = serde_json::from_str(&r.body).ok()?;
                (r.who == "tina" && body["notice"]["ticket"] == zen.as_str()).then_some(r.at)
            })
        }
    })
    .await;
    // The server counts whole seconds: due 5 s after an opening instant rounded down.
    let late = page.duration_since(opened);
    assert!(late >= Duration::from_secs(4) && late < Duration::from_secs(8), "the TAM was paged after {late:?}");

    // acme's timer did not stop the sweep: it was dropped, and the log says why.
    let logged = until("the dropped timer in the log", || {
        let log_file = log_file.clone();
        async move { std::fs::read_to_string(&log_file).ok().filter(|l| l.contains("timer dropped")) }
    })
    .await;
    let line = logged.lines().find(|l| l.contains("timer dropped")).unwrap();
    assert!(line.contains("the contract in force has no tier \"gold\"") && line.contains(&acme), "{line}");
    assert!(!logged.contains("panicked"), "{logged}");
    let (status, _) = server.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
    server.terminate();
}
both_backends!(out_of_fit_while_running, data_brought_out_of_fit_while_running);

/// A log writer into memory, for the panic test.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_is_an_internal_error_problem_and_logged() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).init();
    let router = stringer_web::catch_panics(axum::Router::new().route(
        "/boom",
        axum::routing::get(|| async {
            if std::hint::black_box(true) {
                panic!("the handler broke on purpose");
            }
            "never"
        }),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let response = reqwest::get(format!("http://{addr}/boom")).await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["status"], 500);
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("an internal error happened") && !detail.contains("database"), "{detail}");
    let logged = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("panicked") && logged.contains("the handler broke on purpose"), "{logged}");
}
