//! Welcome packets from the command line, over the demo desk's database: each demo org's
//! packet as a snapshot (its tier's targets, coverage, escalation, people and addresses),
//! the HTML form escaped and printable, the ledger's key as `/.well-known/stringer-ledger/key`
//! publishes it, a changed contract changing the packet, and an unknown org refused.

use crate::support;

use std::process::Command;
use support::{Db, Server};

/// `stringer packet --org ORG` over `db`, as the demo's server would be reached.
fn packet(db: &Db, org: &str, extra: &[&str]) -> (bool, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stringer"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("STRINGER_")) {
        command.env_remove(key);
    }
    let output = command
        .arg("packet")
        .args(["--org", org, "--public-url", "https://desk.vendor.example"])
        .args(["--mail-domain", "support.vendor.example", "--phone-line", "+15550109999"])
        .args(db.args())
        .args(extra)
        .output()
        .expect("the binary runs");
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (output.status.success(), text(output.stdout), text(output.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_orgs_packets() {
    let db = Db::sqlite();
    let server = Server::start(&db, &["--demo", "--smtp-listen", "127.0.0.1:0"]);
    server.printed("Open http://");
    let published = server.ok(reqwest::Method::GET, "/.well-known/stringer-ledger/key", "", None).await;
    drop(server);
    // The key is drawn afresh for each database: the packet hands out exactly the published
    // one, and the snapshot holds a placeholder for each of its spellings.
    let redactions: Vec<(&str, &str)> =
        [("public_key", "[public key]"), ("key_id", "[key id]"), ("fingerprint", "[fingerprint]")]
            .into_iter()
            .map(|(field, placeholder)| (published[field].as_str().unwrap(), placeholder))
            .collect();
    for org in ["acme", "bolt", "fedco"] {
        let (ok, mut md, err) = packet(&db, org, &[]);
        assert!(ok, "{err}");
        for (value, placeholder) in &redactions {
            assert!(md.contains(value), "{org}'s packet names the published {placeholder}: {md}");
            md = md.replace(value, placeholder);
        }
        insta::assert_snapshot!(format!("packet-{org}"), md);
    }
    let (ok, html, _) = packet(&db, "acme", &["--format", "html"]);
    assert!(ok);
    assert!(html.starts_with("<!doctype html>") && html.contains("@media print"), "print-friendly");
    assert!(html.contains("<h1>Welcome to Enterprise support, Acme Corp</h1>"));
    assert!(html.contains("<td>P1</td><td>Critical</td>"));
    assert!(html.contains("Tina TAM &lt;tina@stringer.example&gt;"), "escaped");

    // The contract is the packet's source: change a target, and the packet says so.
    let faster = support::contract_with(&[("P1 = { within = \"1 hour\" }", "P1 = { within = \"45 minutes\" }")]);
    let (ok, changed, err) = packet(&db, "acme", &["--contract", faster.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(changed.contains("| response (first response) | 45 minutes | 4 hours |"), "{changed}");
    let (_, before, _) = packet(&db, "acme", &[]);
    assert!(before.contains("| response (first response) | 1 hour | 4 hours |"));

    let (ok, _, err) = packet(&db, "nobody", &[]);
    assert!(!ok);
    assert!(err.contains("no org \"nobody\""), "{err}");
}

/// A new org admin is mailed the packet; an admin can mail it to the org's admins again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_admins_are_mailed_the_packet() {
    use reqwest::{Method, StatusCode};
    use serde_json::json;
    let (port, mails) = support::smtp_receiver().await;
    let smtp = format!("smtp://127.0.0.1:{port}");
    let db = Db::sqlite();
    let server = Server::start(&db, &["--smtp-url", &smtp, "--mail-domain", "support.vendor.example"]);
    let admin = server.admin();
    let org = json!({"slug": "zen", "name": "Zen", "tier": "enterprise", "deployment": "dedicated"});
    server.ok(Method::POST, "/api/v1/orgs", &admin, Some(org)).await;
    let (status, _) = server.call(Method::POST, "/api/v1/orgs/zen/packet", Some(&admin), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "no admin yet");
    let zoe = json!({"email": "zoe@zen.example", "name": "Zoe", "role": "org_admin", "org": "zen", "password": "zoe-password-123"});
    server.ok(Method::POST, "/api/v1/users", &admin, Some(zoe)).await;
    let welcome = support::until("the new admin's packet", || async {
        mails.lock().unwrap().iter().find(|(_, to, _)| to.contains(&"<zoe@zen.example>".to_string())).cloned()
    })
    .await;
    assert!(welcome.2.contains("Subject: Welcome to Enterprise support, Zen: your welcome packet"), "{}", welcome.2);
    assert!(welcome.2.contains("support+zen@support.vendor.example"));
    let sent = server.ok(Method::POST, "/api/v1/orgs/zen/packet", &admin, None).await;
    assert_eq!(sent["sent_to"], json!(["zoe@zen.example"]));
    support::until("the packet again", || async { (mails.lock().unwrap().len() == 2).then_some(()) }).await;
    let login = json!({"email": "zoe@zen.example", "password": "zoe-password-123"});
    let zoe_token =
        server.ok(Method::POST, "/api/v1/login", "", Some(login)).await["token"].as_str().unwrap().to_string();
    let (status, _) = server.call(Method::POST, "/api/v1/orgs/zen/packet", Some(&zoe_token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only admins send it");
}
