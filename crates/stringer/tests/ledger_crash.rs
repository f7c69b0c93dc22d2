//! Crash safety of the ledger (issue 28), black box: several tasks comment on tickets as fast
//! as the server answers while it is killed with SIGKILL and restarted, a few times; heads
//! are signed during each burst and after each restart. Afterwards every timeline row has its
//! leaf and every leaf its row (`stringer ledger audit` is clean and the counts agree), and
//! every signed head — the last before each kill and the first after it included — extends
//! the one before it: the API's consistency proof between them verifies with the ledger
//! crate.

use crate::support;

use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use stringer_ledger::verify::verify_consistency;
use stringer_ledger::wire::parse_hex32;
use support::ledger::sign;
use support::{Db, Server, sql};

/// SIGKILLs, each in the middle of a burst.
const KILLS: usize = 5;
/// Tasks writing at once.
const WRITERS: usize = 4;
/// Leaves the log grows by, under a head signed mid-burst, before the kill.
const GROWTH: u64 = 12;

/// Comments on `ticket` as `token` until `stop`, ignoring failures (the server dies under it).
async fn write_until(base: String, token: String, ticket: String, writer: usize, stop: Arc<AtomicBool>) {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let body = json!({"body": format!("writer {writer}, comment {n}"), "public": true});
        let _ = client
            .post(format!("{base}/api/v1/tickets/{ticket}/comments"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await;
        n += 1;
    }
}

/// A head's size and root.
fn size_root(head: &Value) -> (u64, [u8; 32]) {
    (head["tree_size"].as_u64().unwrap(), parse_hex32(head["root_hash"].as_str().unwrap()).unwrap())
}

/// Signs heads until one covers at least `size` leaves (the writers are adding them).
async fn sign_past(server: &Server, admin: &str, size: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let head = sign(server, admin).await;
        if size_root(&head).0 >= size {
            return head;
        }
        assert!(Instant::now() < deadline, "the log did not grow to {size} leaves: {head}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn crashes_keep_the_ledger_whole(db: Db) {
    let mut server = Server::start(&db, &[]);
    let d = support::desk(&server).await;
    let mut work = Vec::new();
    for (token, org) in [(&d.alice, "acme"), (&d.bob, "bolt")] {
        let ticket = support::open_ticket(&server, token, org, "P2").await;
        work.push((token.clone(), ticket["id"].as_str().unwrap().to_string()));
    }
    let mut before_kills = Vec::new();
    let mut after_restarts = Vec::new();
    for _ in 0..KILLS {
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (token, ticket) = work[w % work.len()].clone();
                tokio::spawn(write_until(server.base.clone(), token, ticket, w, stop.clone()))
            })
            .collect();
        let start = size_root(&sign(&server, &d.admin).await).0;
        let head = sign_past(&server, &d.admin, start + GROWTH).await;
        before_kills.push(size_root(&head));
        // The writers are still writing: the kill lands mid-transaction or mid-batch.
        server.kill();
        stop.store(true, Ordering::Relaxed);
        for writer in writers {
            writer.await.unwrap();
        }
        server = Server::start(&db, &[]);
        let (token, ticket) = &work[0];
        let after = json!({"body": "after the restart", "public": true});
        server.ok(Method::POST, &format!("/api/v1/tickets/{ticket}/comments"), token, Some(after)).await;
        let head = sign(&server, &d.admin).await;
        assert!(size_root(&head).0 > before_kills.last().unwrap().0, "the log grows on after the restart: {head}");
        after_restarts.push(size_root(&head));
    }

    // Every head extends the one before it, across each kill.
    let (status, heads) = server.call(Method::GET, "/api/v1/ledger/heads?limit=1000", Some(&d.admin), None).await;
    assert_eq!(status, 200, "{heads}");
    let heads: Vec<(u64, [u8; 32])> = heads["items"].as_array().unwrap().iter().map(size_root).collect();
    for kept in before_kills.iter().chain(&after_restarts) {
        assert!(heads.contains(kept), "the head {kept:?} is kept");
    }
    assert!(heads.windows(2).all(|w| w[0].0 < w[1].0), "heads by size");
    for pair in heads.windows(2).filter(|w| w[0].0 > 0) {
        let ((from, from_root), (to, to_root)) = (pair[0], pair[1]);
        let path = format!("/api/v1/ledger/consistency?from={from}&to={to}");
        let (status, proof) = server.call(Method::GET, &path, Some(&d.engineer), None).await;
        assert_eq!(status, 200, "{proof}");
        let proof: Vec<[u8; 32]> =
            proof["proof"].as_array().unwrap().iter().map(|h| parse_hex32(h.as_str().unwrap()).unwrap()).collect();
        verify_consistency(from, to, &from_root, &to_root, &proof)
            .unwrap_or_else(|e| panic!("the head of size {to} does not extend the head of size {from}: {e}"));
    }
    assert!(server.terminate().success());

    // No row without its leaf, no leaf without its row, and the audit recomputes them all.
    let rows: u64 = sql(&db, "SELECT COUNT(*) FROM timeline").parse().unwrap();
    let leaves: u64 = sql(&db, "SELECT COUNT(*) FROM ledger_leaves").parse().unwrap();
    let size: u64 = sql(&db, "SELECT size FROM ledger_state").parse().unwrap();
    let unappended: u64 = sql(&db, "SELECT COUNT(*) FROM timeline WHERE leaf IS NULL").parse().unwrap();
    assert_eq!((rows, leaves, unappended), (size, size, 0), "rows, leaves, rows without a leaf");
    let (code, said) = support::ledger::ledger(&db, &["audit"]);
    assert_eq!(code, 0, "the audit is clean: {said}");
    assert!(said.contains(&format!("clean: {size} leaves")), "{said}");
}
both_backends!(crashes, crashes_keep_the_ledger_whole);
