//! The quarterly review at a quarter's end, on SQLite and PostgreSQL: the TAM completes the
//! recommendations through the real server (the access policy deciding who may), and when
//! the quarter has ended the postman — the engine's own, run here at a chosen instant
//! instead of waiting for 1 January — writes one round per Enterprise org and mails the
//! review to its TAM and its active admins at a local SMTP receiver, once; a Pro org gets
//! none, and neither does a quarter ended longer ago than the grace. The welcome packet goes
//! through the same letters' outbox, kept and retried while the relay is down.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use std::sync::Arc;
use stringer_app::Desk;
use stringer_app::letters::Postman;
use stringer_app::letters::PostmanPorts;
use stringer_app::packet::Reachable;
use stringer_app::review::ReviewPorts;
use stringer_core::contract::Contract;
use stringer_core::review::Quarter;
use stringer_store::SqlStore;
use support::{Db, Server, desk};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviews_go_out_when_the_quarter_ends_on_sqlite() {
    quarter_end(Db::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviews_go_out_when_the_quarter_ends_on_postgres() {
    if let Some(db) = Db::postgres() {
        quarter_end(db).await;
    }
}

async fn quarter_end(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let user = |email: &str, role: &str, org: Option<&str>| json!({"email": email, "name": email, "role": role, "org": org, "password": format!("{email}-password")});
    let tam =
        server.ok(Method::POST, "/api/v1/users", &d.admin, Some(user("tara@stringer.example", "tam", None))).await;
    let tam_id = tam["id"].as_str().unwrap().to_string();
    server.ok(Method::PATCH, "/api/v1/orgs/acme", &d.admin, Some(json!({"tam": tam_id}))).await;
    server.ok(Method::PATCH, "/api/v1/orgs/bolt", &d.admin, Some(json!({"tam": tam_id}))).await;
    // A second admin of acme, who has left: no review for them.
    let gone = server
        .ok(Method::POST, "/api/v1/users", &d.admin, Some(user("gone@acme.example", "org_admin", Some("acme"))))
        .await;
    server.call(Method::DELETE, &format!("/api/v1/users/{}", gone["id"].as_str().unwrap()), Some(&d.admin), None).await;
    let login = json!({"email": "tara@stringer.example", "password": "tara@stringer.example-password"});
    let tara = server.ok(Method::POST, "/api/v1/login", "", Some(login)).await["token"].as_str().unwrap().to_string();

    // The recommendations: the TAM writes them; the org's admin reads but may not write; an
    // outsider does not learn the org exists.
    let current = Quarter::of(jiff::Timestamp::now());
    let this = current.to_string();
    let path = format!("/api/v1/orgs/acme/reviews/{this}/recommendations");
    let words = "- Move the **P2** weekend rota to two people.\n- Close the open action items.";
    let (status, written) = server.call(Method::PUT, &path, Some(&tara), Some(json!({"body": words}))).await;
    assert_eq!(status, StatusCode::OK, "{written}");
    assert_eq!(written["author"], tam_id.as_str());
    let (status, _) = server.call(Method::PUT, &path, Some(&d.alice), Some(json!({"body": "mine"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an org admin reads the review but does not write it");
    let (status, read) = server.call(Method::GET, &path, Some(&d.alice), None).await;
    assert_eq!((status, read["body"].as_str()), (StatusCode::OK, Some(words)));
    let (status, _) = server.call(Method::GET, &path, Some(&d.bob), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a member reads no review, of any org: nothing learnt about acme");
    let (status, _) =
        server.call(Method::GET, "/api/v1/orgs/fedco/reviews/2026-Q3/recommendations", Some(&d.engineer), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an uncleared engineer does not see the federal org");
    let (status, _) = server.call(Method::PUT, &path, Some(&d.engineer), Some(json!({"body": "x"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an engineer does not complete the review");
    for (quarter, body, why) in [
        ("2026-Q5", json!({"body": "x"}), "not a quarter"),
        ("2999-Q1", json!({"body": "x"}), "has not begun"),
        (this.as_str(), json!({"body": "  "}), "write the recommendations"),
        (this.as_str(), json!({"body": "x".repeat(20_001)}), "at most 20000 bytes"),
    ] {
        let path = format!("/api/v1/orgs/acme/reviews/{quarter}/recommendations");
        let (status, problem) = server.call(Method::PUT, &path, Some(&tara), Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{quarter}: {problem}");
        assert!(problem["detail"].as_str().unwrap_or_default().contains(why), "{quarter}: {problem}");
    }
    let (status, _) = server.call(Method::PUT, &path, Some(&tara), Some(json!({"body": "x", "extra": 1}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "unknown fields are refused");
    // Two incidents on acme's status page, both on its cluster.
    let pages = server.ok(Method::GET, "/api/v1/status-pages", &d.admin, None).await;
    let acme_page =
        pages.as_array().unwrap().iter().find(|p| p["org"] == "acme").unwrap()["id"].as_str().unwrap().to_string();
    let components = format!("/api/v1/status-pages/{acme_page}/components");
    let mut ids = Vec::new();
    for name in ["Acme cluster", "Acme mail"] {
        let c = server.ok(Method::POST, &components, &d.engineer, Some(json!({"name": name}))).await;
        ids.push(c["id"].as_str().unwrap().to_string());
    }
    let incidents = format!("/api/v1/status-pages/{acme_page}/incidents");
    for (name, affected) in [("Cluster down", vec![&ids[0]]), ("Cluster and mail slow", vec![&ids[0], &ids[1]])] {
        let parts: Vec<_> = affected.iter().map(|id| json!({"id": id, "status": "partial_outage"})).collect();
        let incident = json!({"name": name, "status": "investigating", "impact": "major", "body": "Looking.", "components": parts});
        server.ok(Method::POST, &incidents, &d.engineer, Some(incident)).await;
    }
    assert_eq!(server.terminate().code(), Some(0));

    // The quarter ends. The postman runs as the engine runs it, at a chosen instant.
    let store = match &db {
        Db::Sqlite(dir) => SqlStore::open_sqlite(&dir.join("stringer.db")).await.unwrap(),
        Db::Postgres(url) => SqlStore::connect(url).await.unwrap(),
    };
    let (port, mails) = support::smtp_receiver().await;
    let contract = Arc::new(Contract::default_contract());
    let commands = Arc::new(Desk::new(contract, store.clone(), stringer_engine::SystemClock));
    let ports = ports(&store, commands);
    let reachable = Reachable { public_url: "https://support.vendor.example".into(), ..Reachable::default() };
    let mailer = Postman { ports, sender: Arc::new(relay(port)), reachable };
    let next_start = current.end().as_second();
    // Too late: a quarter that ended more than 14 days ago is not mailed by itself.
    let late = next_start + 15 * 86_400;
    assert_eq!(mailer.owe_reviews(late).await.unwrap(), 0, "past the grace");
    // Five minutes after the turn: acme (Enterprise) and fedco (Enterprise, no TAM, no admin) are owed; bolt (Pro) is not.
    let now = next_start + 300;
    assert_eq!(mailer.owe_reviews(now).await.unwrap(), 2);
    assert_eq!(mailer.owe_reviews(now + 60).await.unwrap(), 0, "a round is written once");
    assert_eq!(mailer.send_due(now).await.unwrap(), 2, "acme's TAM and acme's one active admin");
    assert_eq!(mailer.send_due(now + 60).await.unwrap(), 0, "each letter goes once");
    let got = mails.lock().unwrap().clone();
    // The server signed the ledger's head while it ran: the mail states the head it covers.
    let head = stringer_app::ledger::LedgerBook::latest_head(&store).await.unwrap().expect("a signed head");
    let covers = format!("covers log entries up to tree size {}", head.head.tree_size);
    let to: Vec<&str> = got.iter().flat_map(|(_, rcpt, _)| rcpt.iter().map(|r| r.trim_matches(['<', '>']))).collect();
    assert_eq!(to.len(), 2, "{to:?}");
    assert!(to.contains(&"tara@stringer.example") && to.contains(&"alice@acme.example"), "{to:?}");
    for (_, rcpt, message) in &got {
        let text = support::mail_text(message);
        assert!(text.contains(&format!("Subject: Quarterly operational review {this}: acme")), "{text}");
        assert!(
            text.contains("## SLA attainment") && text.contains("## Recommendations for the next quarter"),
            "{text}"
        );
        assert!(text.contains("Move the **P2** weekend rota"), "the TAM's recommendations travel with it: {text}");
        assert!(text.contains("## The ledger") && text.contains(&covers), "the head it covers: {text}");
        assert!(
            text.contains("## Status-page incidents")
                && text.contains("| Cluster down | major | Acme cluster | open |"),
            "{text}"
        );
        assert!(
            text.contains("- Acme cluster was affected in 2 of the quarter's 2 incidents"),
            "the component behind most incidents is observed: {text}"
        );
        assert!(
            text.contains(&format!("https://support.vendor.example/reviews?org=acme&quarter={this}")),
            "a link to the page: {text}"
        );
        if rcpt.iter().any(|r| r.contains("tara@stringer.example")) {
            assert!(text.contains("complete them before you present"), "{text}");
        } else {
            assert!(text.contains("Your TAM presents it"), "{text}");
        }
    }

    // A welcome packet is a letter too: posted, then sent by the postman — and kept while the
    // relay is down, tried again 30 s later, then sent.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let down = Postman { sender: Arc::new(relay(dead)), ..mailer.clone() };
    let up = Postman { sender: Arc::new(relay(port)), ..mailer };
    let acme = stringer_core::ids::OrgSlug::from("acme");
    stringer_app::letters::post_packet(up.ports.letters.as_ref(), &acme, &["new-admin@acme.example".into()], now)
        .await
        .unwrap();
    assert_eq!(down.send_due(now).await.unwrap(), 0, "the relay is down");
    assert_eq!(up.send_due(now + 10).await.unwrap(), 0, "not due again yet");
    assert_eq!(up.send_due(now + 31).await.unwrap(), 1, "sent on the retry");
    let packet = mails.lock().unwrap().last().cloned().unwrap();
    assert_eq!(packet.1, ["<new-admin@acme.example>"]);
    let text = support::mail_text(&packet.2);
    assert!(text.contains("Subject: Welcome to Enterprise support, acme: your welcome packet"), "{text}");
    assert!(text.contains("https://support.vendor.example/status/acme"), "the tenant's own status page: {text}");
    store.close().await;
}

/// The ports as `serve` wires them, over one store.
/// The outside world with a mail relay at `port` (and nothing else).
fn relay(port: u16) -> stringer_integrations::Integrations {
    let url = format!("smtp://127.0.0.1:{port}");
    stringer_integrations::Integrations {
        webhooks: stringer_integrations::webhook::Webhooks::new(false, Arc::new(stringer_engine::SystemClock)),
        slack: None,
        mail: Some(stringer_integrations::mail::Mail::new(&url, "support@vendor.example", "test", None).unwrap()),
        phone: None,
    }
}

fn ports(store: &SqlStore, commands: Arc<dyn stringer_app::ports::Commands>) -> PostmanPorts {
    let s = Arc::new(store.clone());
    let review = ReviewPorts {
        commands: commands.clone(),
        queries: s.clone(),
        accounts: s.clone(),
        reporting: s.clone(),
        reports: s.clone(),
        status: s.clone(),
        review_book: s.clone(),
        ledger: s.clone(),
    };
    PostmanPorts { commands, accounts: s.clone(), inquiries: s.clone(), letters: s, review }
}
