//! Signed heads and proofs, end to end (issue 28, docs/ledger.md §6): a customer downloads a
//! bundle of their ticket, from the API and from the portal, and both verifiers — `stringer
//! verify` and `tools/verify-bundle.py` — accept it against the key published under
//! `/.well-known/stringer-ledger/` and an earlier bundle; the bundle shows exactly what the
//! timeline shows them and discloses nothing staff-only and nothing of another org; another
//! org's ticket is missing; the key file is refused when others may read it, and so is any key
//! but the log's — until a rotation endorses it. Runs on SQLite and PostgreSQL.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use support::ledger::{sign, verify_both, write};
use support::{Db, Server, desk, open_ticket};

/// A customer's bundles verify with both verifiers, hold exactly their timeline, disclose
/// nothing staff-only or of another org, and extend one another.
async fn a_customer_verifies_their_timeline(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let dir = db.dir();
    // Another org's ticket, whose strings must appear in no acme bundle.
    let bolt = open_ticket(&server, &d.bob, "bolt", "P3").await;
    let bolt_id = bolt["id"].as_str().unwrap().to_string();
    let ticket = open_ticket(&server, &d.alice, "acme", "P3").await;
    let (id, key) = (ticket["id"].as_str().unwrap().to_string(), ticket["key"].as_str().unwrap().to_string());
    let note = "INTERNAL-ONLY: the db primary is flapping";
    server
        .ok(
            Method::POST,
            &format!("/api/v1/tickets/{id}/comments"),
            &d.engineer,
            Some(json!({"body": note, "public": false})),
        )
        .await;
    server.ok(Method::POST, &format!("/api/v1/tickets/{id}/acknowledge"), &d.engineer, None).await;
    let reply = json!({"body": "We are on it", "public": true});
    server.ok(Method::POST, &format!("/api/v1/tickets/{id}/comments"), &d.engineer, Some(reply)).await;
    let first = sign(&server, &d.admin).await;

    let published = server.ok(Method::GET, "/.well-known/stringer-ledger/key", "", None).await;
    let pinned = published["public_key"].as_str().unwrap().to_string();
    assert_eq!(published["fingerprint"].as_str().unwrap().len(), 39, "{published}");
    let (status, latest) = server.call(Method::GET, "/.well-known/stringer-ledger/head", None, None).await;
    assert_eq!((status, &latest), (StatusCode::OK, &first));

    let b1 = server.ok(Method::GET, &format!("/api/v1/tickets/{key}/proof"), &d.alice, None).await;
    assert_eq!(b1["head"], first);
    assert_eq!(b1["log"]["public_key"], pinned.as_str());
    // Exactly the timeline the customer is shown, in order, every entry under the head.
    let timeline = server.ok(Method::GET, &format!("/api/v1/tickets/{key}/timeline"), &d.alice, None).await;
    let shown: Vec<Value> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let mut item = item.clone();
            item.as_object_mut().unwrap().remove("seq");
            item
        })
        .collect();
    let entries: Vec<Value> = b1["entries"].as_array().unwrap().iter().map(|e| e["shown"].clone()).collect();
    assert_eq!(entries, shown, "the bundle shows what the timeline shows");
    assert!(b1["pending"].as_array().is_none_or(|p| p.is_empty()), "{b1}");
    // Nothing staff-only, nothing of another org.
    let text = b1.to_string();
    for secret in [note, bolt_id.as_str(), "\"bolt\"", "P3 at bolt"] {
        assert!(!text.contains(secret), "a customer's bundle discloses {secret:?}: {text}");
    }
    for entry in b1["entries"].as_array().unwrap() {
        for field in entry["disclosed"].as_array().unwrap() {
            // Disclosed: the entry's identity, and only fields the timeline shows them.
            let name = field["name"].as_str().unwrap();
            assert!(!["body.to", "body.via", "body.notify"].contains(&name), "{entry}");
            if let Some(key) = name.strip_prefix("body.") {
                assert_eq!(entry["shown"]["body"][key], field["value"], "{entry}");
            } else if !["entry", "org", "ticket", "version", "at"].contains(&name) {
                assert_eq!(entry["shown"][name], field["value"], "{entry}");
            }
            if name == "org" {
                assert_eq!(field["value"], "acme");
            }
        }
        if entry["shown"]["kind"] == "ticket.acknowledged" {
            assert!(entry["shown"]["actor"].is_null(), "who acknowledged is staff's: {entry}");
            assert!(!entry["withheld"].as_array().unwrap().is_empty(), "the actor is withheld as a digest");
        }
    }
    let b1_path = write(&dir, "b1.json", &b1);
    let (ok, said) = verify_both(&b1_path, &pinned, None);
    assert!(ok, "{said}");

    // More happens; an entry after the head is pending until the next head.
    server
        .ok(
            Method::POST,
            &format!("/api/v1/tickets/{id}/comments"),
            &d.alice,
            Some(json!({"body": "Thanks", "public": true})),
        )
        .await;
    let pending = server.ok(Method::GET, &format!("/api/v1/tickets/{key}/proof"), &d.alice, None).await;
    assert!(!pending["pending"].as_array().unwrap().is_empty(), "{pending}");
    let second = sign(&server, &d.admin).await;
    assert!(second["tree_size"].as_u64() > first["tree_size"].as_u64());
    let from = first["tree_size"].as_u64().unwrap();
    let b2 = server.ok(Method::GET, &format!("/api/v1/tickets/{key}/proof?from={from}"), &d.alice, None).await;
    assert_eq!(b2["consistency"]["from_size"], from);
    assert_eq!(b2["consistency"]["from_root"], first["root_hash"]);
    let b2_path = write(&dir, "b2.json", &b2);
    let (ok, said) = verify_both(&b2_path, &pinned, Some(&b1_path));
    assert!(ok, "{said}");
    // The head alone serves as the previous head too.
    let head_path = write(&dir, "head1.json", &first);
    assert!(verify_both(&b2_path, &pinned, Some(&head_path)).0);
    // A bundle altered after download fails both, naming the event.
    let mut forged = b2.clone();
    forged["entries"][0]["shown"]["at"] = json!("2020-01-01T00:00:00Z");
    let (ok, said) = verify_both(&write(&dir, "forged.json", &forged), &pinned, Some(&b1_path));
    assert!(!ok && said.contains(&key), "{said}");

    // The portal's download is the same bundle.
    let (client, cookie) =
        support::sign_in(&server, "alice@acme.example", "alice@acme.example-password", "/portal").await;
    let page = support::get_signed_in(&server, &client, &cookie, &format!("/portal/tickets/{key}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("/portal/tickets/{key}/proof.json")), "{page}");
    assert!(page.contains(published["fingerprint"].as_str().unwrap()), "the page names the key's fingerprint");
    let download =
        support::get_signed_in(&server, &client, &cookie, &format!("/portal/tickets/{key}/proof.json")).await;
    assert_eq!(download.status(), StatusCode::OK);
    assert!(download.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let downloaded: Value = download.json().await.unwrap();
    assert_eq!(downloaded["entries"], b2["entries"]);
    assert_eq!(downloaded["head"], b2["head"]);

    // Another org's ticket answers exactly as a missing one, as its timeline does.
    let missing = "tkt_00000000000000000000000000";
    let (s1, unseen) = server.call(Method::GET, &format!("/api/v1/tickets/{id}/proof"), Some(&d.bob), None).await;
    let (s2, absent) = server.call(Method::GET, &format!("/api/v1/tickets/{missing}/proof"), Some(&d.bob), None).await;
    let (s3, timeline) = server.call(Method::GET, &format!("/api/v1/tickets/{id}/timeline"), Some(&d.bob), None).await;
    assert_eq!((s1, &unseen), (s2, &absent));
    assert_eq!((s1, &unseen), (s3, &timeline));
    assert_eq!(s1, StatusCode::NOT_FOUND);

    // Staff see every entry whole: the internal note's entry is in theirs, and it verifies too.
    let staff = server.ok(Method::GET, &format!("/api/v1/tickets/{key}/proof?from={from}"), &d.engineer, None).await;
    let internal = |b: &Value| b["entries"].as_array().unwrap().iter().any(|e| e["shown"]["body"]["public"] == false);
    assert!(internal(&staff) && !internal(&b2), "only staff's bundle holds the internal note's entry");
    assert!(staff["entries"].as_array().unwrap().len() > b2["entries"].as_array().unwrap().len());
    let (ok, said) = verify_both(&write(&dir, "staff.json", &staff), &pinned, Some(&head_path));
    assert!(ok, "{said}");

    // Consistency between sizes: bad ranges are 400, never a panic.
    let size = second["tree_size"].as_u64().unwrap();
    for (f, t) in [(0, 1), (3, 3), (5, 2), (1, size + 1)] {
        let path = format!("/api/v1/ledger/consistency?from={f}&to={t}");
        let (status, body) = server.call(Method::GET, &path, Some(&d.alice), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
    }
    let (status, _) = server.call(Method::GET, "/api/v1/ledger/consistency?from=-1&to=2", Some(&d.alice), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let proof =
        server.ok(Method::GET, &format!("/api/v1/ledger/consistency?from={from}&to={size}"), &d.alice, None).await;
    assert_eq!(proof["proof"], b2["consistency"]["proof"]);

    // Heads: listed for every signed-in role and published; signed on demand by admins only.
    let heads = server.ok(Method::GET, "/api/v1/ledger/heads", &d.bob, None).await;
    let sizes: Vec<u64> = heads["items"].as_array().unwrap().iter().map(|h| h["tree_size"].as_u64().unwrap()).collect();
    assert!(sizes.contains(&from) && sizes.contains(&size) && sizes.is_sorted(), "{heads}");
    let public = server.ok(Method::GET, &format!("/.well-known/stringer-ledger/heads?after={from}"), "", None).await;
    assert_eq!(public["items"][0], second);
    let (status, _) = server.call(Method::POST, "/api/v1/ledger/heads", Some(&d.engineer), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Nothing changed: signing again answers the latest head and signs none.
    assert_eq!(sign(&server, &d.admin).await, second);
}

both_backends!(customer_bundles, a_customer_verifies_their_timeline);

/// `stringer serve` as a command that must fail: its exit status and what it said.
fn serve_fails(db: &Db, extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_stringer"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(db.args())
        .args(extra)
        .env_remove("STRINGER_CONFIG")
        .env_remove("STRINGER_LEDGER_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the server started: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn ledger(db: &Db, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_stringer"))
        .arg("ledger")
        .args(args)
        .args(db.args())
        .env_remove("STRINGER_CONFIG")
        .env_remove("STRINGER_LEDGER_KEY")
        .output()
        .unwrap()
}

/// The key file is made 0600 on the first start; one others may read is refused, and so is
/// any key but the log's current one, until `stringer ledger rotate-key` endorses it.
async fn keys_are_kept_and_rotated(db: Db) {
    let dir = db.dir();
    let key_file = dir.join("ledger.key");
    let server = Server::start(&db, &[]);
    let admin = desk(&server).await.admin;
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the key file is its owner's alone");
    let published = server.ok(Method::GET, "/.well-known/stringer-ledger/key", "", None).await;
    let old_key = published["public_key"].as_str().unwrap().to_string();
    assert!(!std::fs::read_to_string(&key_file).unwrap().contains(&old_key), "the file holds the seed, not the key");
    let ticket = open_ticket(&server, &admin, "acme", "P3").await;
    sign(&server, &admin).await;
    let b1 = server
        .ok(Method::GET, &format!("/api/v1/tickets/{}/proof", ticket["id"].as_str().unwrap()), &admin, None)
        .await;
    assert!(server.terminate().success());

    // `stringer ledger key` prints what the server publishes.
    let printed = ledger(&db, &["key"]);
    let printed = String::from_utf8_lossy(&printed.stdout);
    assert!(printed.contains(&old_key) && printed.contains(published["fingerprint"].as_str().unwrap()), "{printed}");

    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let said = serve_fails(&db, &[]);
    assert!(said.contains("chmod 600") && said.contains("ledger.key"), "{said}");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();

    let stranger = dir.join("stranger.key");
    let said = serve_fails(&db, &["--ledger-key", stranger.to_str().unwrap()]);
    assert!(said.contains("is not this log's key"), "{said}");

    let new_file = dir.join("new.key");
    let rotated = ledger(&db, &["rotate-key", "--new", new_file.to_str().unwrap()]);
    assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));
    let said = serve_fails(&db, &[]);
    assert!(said.contains("rotated out"), "{said}");

    let server = Server::start(&db, &["--ledger-key", new_file.to_str().unwrap()]);
    let published = server.ok(Method::GET, "/.well-known/stringer-ledger/key", "", None).await;
    assert_eq!(published["rotations"][0]["old_key"], old_key.as_str());
    let new_key = published["public_key"].as_str().unwrap().to_string();
    assert_ne!(new_key, old_key);
    server
        .ok(
            Method::POST,
            &format!("/api/v1/tickets/{}/comments", ticket["id"].as_str().unwrap()),
            &admin,
            Some(json!({"body": "after the rotation", "public": true})),
        )
        .await;
    let head = sign(&server, &admin).await;
    assert_eq!(head["key_id"], published["key_id"]);
    let from = b1["head"]["tree_size"].as_u64().unwrap();
    let b2 = server
        .ok(Method::GET, &format!("/api/v1/tickets/{}/proof?from={from}", ticket["id"].as_str().unwrap()), &admin, None)
        .await;
    // A reader who pinned the old key follows the endorsed rotation to the new one.
    let (b1_path, b2_path) = (write(&dir, "b1.json", &b1), write(&dir, "b2.json", &b2));
    let (ok, said) = verify_both(&b2_path, &old_key, Some(&b1_path));
    assert!(ok, "{said}");
    // `stringer ledger sign` signs with the file's key, and nothing when the log did not grow.
    drop(server);
    let signed = ledger(&db, &["sign", "--ledger-key", new_file.to_str().unwrap()]);
    assert!(signed.status.success(), "{}", String::from_utf8_lossy(&signed.stderr));
    let signed: Value = serde_json::from_slice(&signed.stdout).unwrap();
    assert_eq!(signed["tree_size"], head["tree_size"]);
}

both_backends!(key_files, keys_are_kept_and_rotated);
