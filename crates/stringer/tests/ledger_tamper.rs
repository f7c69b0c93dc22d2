//! Tampering with the ledger's database, on both backends (issue 28, docs/ledger.md "Audit"):
//! after a day of use through the API, raw SQL edits a timeline row's instant, deletes a row,
//! swaps two rows' contents and, separately, their ids; `stringer ledger audit` exits 1 naming
//! the event each time, and the engine's auditor, stepped, stores the finding (the server's
//! gauge and admin banner follow from it); a bundle of the ticket downloaded afterwards fails
//! both `stringer verify` and `tools/verify-bundle.py`, given the bundle downloaded before as
//! `--previous-head` and the log's key pinned, naming the entry. A rewrite of history that
//! recomputes every leaf, subtree and the frontier consistently is caught by the head signed
//! before it; rewritten and re-signed with a new key, by the key a customer pinned (`--key`)
//! and by both verifiers against the earlier bundle. The backfill appends rows that have no leaf, in row order,
//! once.

use crate::support;

use reqwest::Method;
use serde_json::json;
use std::process::Command;
use std::sync::Arc;
use stringer_app::ledger_audit::{Auditor, LedgerAudit, SourceRow};
use stringer_ledger::tree::Frontier;
use stringer_store::SqlStore;
use support::ledger::ledger;
use support::{Db, Server, sql};

const ADMIN: (&str, &str) = ("auditor-admin@stringer.example", "auditor-admin-password");

/// A day of use: orgs, people, tickets opened, acknowledged, commented, resolved, reopened;
/// the server stopped cleanly.
async fn day(db: &Db) -> String {
    let server = Server::start(db, &[]);
    let d = support::desk(&server).await;
    let admin = json!({"email": ADMIN.0, "name": "Audit Admin", "role": "admin", "password": ADMIN.1});
    server.ok(Method::POST, "/api/v1/users", &d.admin, Some(admin)).await;
    for (token, org, severity) in [(&d.alice, "acme", "P2"), (&d.bob, "bolt", "P3"), (&d.alice, "acme", "P3")] {
        let t = support::open_ticket(&server, token, org, severity).await;
        let id = t["id"].as_str().unwrap();
        server.ok(Method::POST, &format!("/api/v1/tickets/{id}/acknowledge"), &d.engineer, None).await;
        let reply = json!({"body": "looking into it", "public": true});
        server.ok(Method::POST, &format!("/api/v1/tickets/{id}/comments"), &d.engineer, Some(reply)).await;
        server.ok(Method::POST, &format!("/api/v1/tickets/{id}/resolve"), &d.engineer, None).await;
    }
    assert!(server.terminate().success());
    d.admin
}

/// A copy of a stopped server's database, for one tamper each.
fn copy(db: &Db) -> Db {
    let copied = copy_database(db);
    std::fs::copy(db.dir().join("ledger.key"), copied.dir().join("ledger.key")).unwrap();
    copied
}

/// A copy of the database alone.
fn copy_database(db: &Db) -> Db {
    match db {
        Db::Sqlite(dir) => {
            let Db::Sqlite(to) = Db::sqlite() else { unreachable!() };
            for file in ["stringer.db", "stringer.db-wal", "stringer.db-shm"] {
                if dir.join(file).exists() {
                    std::fs::copy(dir.join(file), to.join(file)).unwrap();
                }
            }
            Db::Sqlite(to)
        }
        Db::Postgres(url) => {
            let (prefix, name) = url.rsplit_once('/').unwrap();
            let copy = support::unique("tamper");
            let base = std::env::var("STRINGER_TEST_POSTGRES_URL").unwrap();
            let status = Command::new("psql")
                .args([base.as_str(), "-q", "-c", &format!("CREATE DATABASE {copy} TEMPLATE {name}")])
                .status()
                .unwrap();
            assert!(status.success(), "the database copies");
            Db::Postgres(format!("{prefix}/{copy}"))
        }
    }
}

async fn store(db: &Db) -> SqlStore {
    match db {
        Db::Sqlite(dir) => SqlStore::open_sqlite(&dir.join("stringer.db")).await.unwrap(),
        Db::Postgres(url) => SqlStore::connect(url).await.unwrap(),
    }
}

/// A timeline row as the audit names it: `(id, leaf (-1 for none), "KEY seq ID KIND at INSTANT")`.
fn row(db: &Db, id: i64) -> (i64, i64, String) {
    let line = sql(
        db,
        &format!(
            "SELECT t.id, t.leaf, k.org, k.number, t.kind, t.at FROM timeline t JOIN tickets k ON k.id = t.ticket_id WHERE t.id = {id}"
        ),
    );
    let cells: Vec<&str> = line.split('|').collect();
    let source = SourceRow {
        id: cells[0].parse().unwrap(),
        ticket: String::new(),
        org: cells[2].into(),
        number: cells[3].parse().unwrap(),
        version: None,
        at: cells[5].parse().unwrap(),
        kind: cells[4].into(),
        actor: None,
        body: String::new(),
        leaf: cells[1].parse().ok(),
    };
    (source.id, cells[1].parse().unwrap_or(-1), source.event())
}

/// The ids of two rows of one ticket with different kinds: its first and its acknowledgement.
fn two_rows(db: &Db) -> (i64, i64) {
    let ticket = sql(db, "SELECT ticket_id FROM timeline WHERE kind = 'ticket.acknowledged' ORDER BY id LIMIT 1");
    let ids = sql(
        db,
        &format!(
            "SELECT id FROM timeline WHERE ticket_id = '{ticket}' AND kind IN ('ticket.opened', 'ticket.acknowledged') ORDER BY id"
        ),
    );
    let ids: Vec<i64> = ids.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(ids.len(), 2, "the ticket was opened and acknowledged once: {ids:?}");
    (ids[0], ids[1])
}

/// The bundle of `ticket` as `admin` reads it now (with a consistency proof from `from`).
async fn bundle(db: &Db, admin: &str, ticket: &str, from: Option<u64>) -> serde_json::Value {
    let server = Server::start(db, &[]);
    let query = from.map_or(String::new(), |n| format!("?from={n}"));
    let bundle = server.ok(Method::GET, &format!("/api/v1/tickets/{ticket}/proof{query}"), admin, None).await;
    assert!(server.terminate().success());
    bundle
}

/// Both verifiers, given a bundle of `ticket` downloaded from the tampered database and the
/// one downloaded before (`before`, its path) as the previous head, with the key pinned: each
/// fails, naming `expected`.
async fn verifiers_find(tampered: &Db, admin: &str, ticket: &str, before: &std::path::Path, key: &str, expected: &str) {
    let b0: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(before).unwrap()).unwrap();
    let from = b0["head"]["tree_size"].as_u64().unwrap();
    let after = bundle(tampered, admin, ticket, Some(from)).await;
    let path = support::ledger::write(&tampered.dir(), "after.json", &after);
    let (ok, said) = support::ledger::verify_both(&path, key, Some(before));
    assert!(!ok, "the verifiers catch it: {said}");
    assert!(said.contains(expected), "expected {expected:?} in: {said}");
}

fn audit_finds(db: &Db, expected: &str) {
    let (code, printed) = ledger(db, &["audit"]);
    assert_eq!(code, 1, "the audit fails: {printed}");
    assert!(printed.contains(&format!("mismatch: {expected}")), "expected {expected:?} in: {printed}");
}

/// The clean audit's root.
fn clean_root(db: &Db) -> String {
    let (code, printed) = ledger(db, &["audit"]);
    assert_eq!(code, 0, "the audit is clean: {printed}");
    printed.split("root ").nth(1).unwrap().split(',').next().unwrap().to_string()
}

/// A blob literal on either backend.
fn blob(db: &Db, bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    match db {
        Db::Sqlite(_) => format!("x'{hex}'"),
        Db::Postgres(_) => format!("decode('{hex}', 'hex')"),
    }
}

async fn tampering_is_found(db: Db) {
    let admin = day(&db).await;
    let size: u64 = sql(&db, "SELECT size FROM ledger_state").parse().unwrap();
    let rows: u64 = sql(&db, "SELECT COUNT(*) FROM timeline").parse().unwrap();
    assert_eq!(size, rows, "every row of the day is a leaf");
    assert!(size > 16, "the day completes a stored subtree: {size} leaves");
    // A head signed over the whole day (as the notary would within a minute), and the log's
    // key as a customer pinned it.
    let (code, printed) = ledger(&db, &["sign"]);
    assert_eq!(code, 0, "{printed}");
    let (code, printed) = ledger(&db, &["key"]);
    assert_eq!(code, 0, "{printed}");
    let pinned = printed.lines().next().unwrap().to_string();
    assert!(pinned.starts_with("ed25519:"), "{printed}");
    clean_root(&db);
    let (first, second) = two_rows(&db);
    // The ticket's bundle as a reader kept it before anything was tampered with.
    let ticket = sql(&db, &format!("SELECT ticket_id FROM timeline WHERE id = {second}"));
    let b0 = bundle(&db, &admin, &ticket, None).await;
    let before = support::ledger::write(&std::env::temp_dir(), &support::unique("b0"), &b0);
    let seq = |id: i64| format!("seq {id} ");

    // (a) A row's instant, edited.
    let edited = copy(&db);
    sql(&edited, &format!("UPDATE timeline SET at = at + 60 WHERE id = {second}"));
    let (_, leaf, event) = row(&edited, second);
    audit_finds(&edited, &format!("{event} (leaf {leaf}): does not match its leaf"));
    verifiers_find(&edited, &admin, &ticket, &before, &pinned, &seq(second)).await;

    // …and a body holding the separators of the audit's packed read (raw control characters,
    // which no JSON text holds): read row by row, and named.
    let odd = copy(&db);
    let chr = match odd {
        Db::Sqlite(_) => "char",
        Db::Postgres(_) => "chr",
    };
    sql(
        &odd,
        &format!("UPDATE timeline SET body = '{{\"x\":\"' || {chr}(30) || {chr}(31) || '\"}}' WHERE id = {second}"),
    );
    let (_, leaf, event) = row(&odd, second);
    let problem = "can no longer be encoded: a timeline body must be a JSON object";
    audit_finds(&odd, &format!("{event} (leaf {leaf}): {problem}"));

    // (b) A row deleted.
    let deleted = copy(&db);
    let (_, leaf, _) = row(&deleted, second);
    sql(&deleted, &format!("DELETE FROM timeline WHERE id = {second}"));
    audit_finds(&deleted, &format!("timeline row {second} (leaf {leaf}): missing"));
    verifiers_find(&deleted, &admin, &ticket, &before, &pinned, &seq(second)).await;

    // …and a forged row added, claiming the leaf of a real one (the leaves all still match
    // the rows they name): the pass over the rows finds the extra claim.
    let forged = copy(&db);
    sql(
        &forged,
        &format!(
            "INSERT INTO timeline (ticket_id, at, kind, actor, body, version, leaf) \
             SELECT ticket_id, at, kind, actor, body, version, leaf FROM timeline WHERE id = {second}"
        ),
    );
    let extra = sql(&forged, "SELECT MAX(id) FROM timeline");
    let (_, leaf, event) = row(&forged, extra.parse().unwrap());
    audit_finds(&forged, &format!("{event} (leaf {leaf}): claims a leaf that stands for another row"));
    // …or one beyond the log.
    sql(&forged, &format!("UPDATE timeline SET leaf = 1000000 WHERE id = {extra}"));
    let (_, _, event) = row(&forged, extra.parse().unwrap());
    audit_finds(&forged, &format!("{event} (leaf 1000000): beyond the ledger's size"));

    // (c) Two rows of one ticket reordered: their contents swapped…
    let swapped = copy(&db);
    sql(
        &swapped,
        &format!(
            "CREATE TABLE scratch AS SELECT id, at, kind, actor, body FROM timeline WHERE id IN ({first}, {second}); \
             UPDATE timeline SET at = (SELECT s.at FROM scratch s WHERE s.id = {first} + {second} - timeline.id), \
             kind = (SELECT s.kind FROM scratch s WHERE s.id = {first} + {second} - timeline.id), \
             actor = (SELECT s.actor FROM scratch s WHERE s.id = {first} + {second} - timeline.id), \
             body = (SELECT s.body FROM scratch s WHERE s.id = {first} + {second} - timeline.id) \
             WHERE id IN ({first}, {second}); DROP TABLE scratch"
        ),
    );
    let (_, leaf, event) = row(&swapped, first);
    assert!(event.contains("ticket.acknowledged"), "the first row now reads as the second: {event}");
    audit_finds(&swapped, &format!("{event} (leaf {leaf}): does not match its leaf"));
    verifiers_find(&swapped, &admin, &ticket, &before, &pinned, &seq(first)).await;

    // …and, separately, their ids swapped (the leaves' rows follow the content)…
    let renumbered = copy(&db);
    let swap_ids = format!(
        "UPDATE timeline SET id = -1 WHERE id = {first}; UPDATE timeline SET id = {first} WHERE id = {second}; \
         UPDATE timeline SET id = {second} WHERE id = -1"
    );
    sql(&renumbered, &swap_ids);
    // The earlier leaf names row `first`, which now holds the later row and claims its leaf.
    let (_, later_leaf, event) = row(&renumbered, first);
    let (_, earlier_leaf, _) = row(&renumbered, second);
    audit_finds(&renumbered, &format!("{event} (leaf {earlier_leaf}): the row claims leaf {later_leaf}, not this one"));

    // …and with the leaves' source ids swapped to match: only the ticket's order shows it,
    // at the ticket's next leaf after the one the later row now claims.
    let reordered = copy(&db);
    sql(&reordered, &swap_ids);
    let (_, moved_leaf, _) = row(&reordered, first);
    let (_, early_leaf, _) = row(&reordered, second);
    sql(
        &reordered,
        &format!(
            "UPDATE ledger_leaves SET source_id = {first} WHERE idx = {moved_leaf}; \
             UPDATE ledger_leaves SET source_id = {second} WHERE idx = {early_leaf}"
        ),
    );
    let next = sql(
        &reordered,
        &format!(
            "SELECT id FROM timeline WHERE leaf > {early_leaf} AND ticket_id = \
             (SELECT ticket_id FROM timeline WHERE id = {first}) ORDER BY leaf LIMIT 1"
        ),
    );
    let (_, leaf, event) = row(&reordered, next.parse().unwrap());
    audit_finds(&reordered, &format!("{event} (leaf {leaf}): out of order: its leaf follows seq {second}'s"));

    // (d) History rewritten by someone holding the database: the row edited, its leaf
    // recomputed under its own secret, every subtree and the frontier rebuilt. The leaves
    // agree with their rows again, but no longer with the head signed before.
    let rewritten = copy(&db);
    sql(&rewritten, &format!("UPDATE timeline SET at = at + 60 WHERE id = {second}"));
    rebuild_tree(&rewritten).await;
    let (code, printed) = ledger(&rewritten, &["audit"]);
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains("is not the root of the first"), "the signed head catches the rewrite: {printed}");
    // …and re-signed: the heads and keys replaced by a key of the attacker's own. Only the
    // key a customer pinned tells: the attacker cannot make the old key endorse theirs.
    sql(&rewritten, "DELETE FROM ledger_heads; DELETE FROM ledger_keys");
    let forged = std::env::temp_dir().join(support::unique("forged-key"));
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&forged).unwrap();
        file.write_all(b"stringer-ledger-key/1 AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n").unwrap();
    }
    let (code, printed) = ledger(&rewritten, &["sign", "--ledger-key", forged.to_str().unwrap()]);
    assert_eq!(code, 0, "{printed}");
    clean_root(&rewritten);
    let (code, printed) = ledger(&rewritten, &["audit", "--key", &pinned]);
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains(&format!("the pinned key {pinned} is not one of the log's keys")), "{printed}");
    // The forged log's server signs with the forged key: a bundle from it fails both verifiers
    // against the pinned key.
    std::fs::copy(&forged, rewritten.dir().join("ledger.key")).unwrap();
    let b1 = bundle(&rewritten, &admin, &ticket, None).await;
    let path = support::ledger::write(&rewritten.dir(), "forged.json", &b1);
    let (ok, said) = support::ledger::verify_both(&path, &pinned, Some(&before));
    assert!(!ok, "the verifiers refuse the forged log: {said}");
    std::fs::remove_file(&forged).unwrap();
    std::fs::remove_file(&before).unwrap();

    // The engine's auditor, stepped, stores the finding of (a) (on a copy no server ran on,
    // whose own auditor would have found it first).
    let edited = copy(&db);
    sql(&edited, &format!("UPDATE timeline SET at = at + 60 WHERE id = {second}"));
    let store = store(&edited).await;
    let auditor = Auditor { port: Arc::new(store.clone()), extend: 5, recheck: 3 };
    let (_, leaf, event) = row(&edited, second);
    let mut found = None;
    for _ in 0..size {
        let stepped = auditor.step(1_767_225_600).await.unwrap();
        if let Some(finding) = stepped.finding {
            assert!(stepped.found_now);
            found = Some(finding);
            break;
        }
    }
    let found = found.expect("the auditor finds the edit");
    assert_eq!(found.message, format!("{event} (leaf {leaf}): does not match its leaf"));
    assert_eq!(found.leaf, Some(leaf as u64));
    let again = auditor.step(1_767_225_700).await.unwrap();
    assert_eq!((again.finding, again.found_now, again.extended), (Some(found), false, 0), "the finding stays");
    store.close().await;
}
both_backends!(tampering, tampering_is_found);

/// What an attacker with the database does: every leaf hash recomputed from its row and
/// secret, every stored subtree and the frontier rebuilt from them.
async fn rebuild_tree(db: &Db) {
    let store = store(db).await;
    let size = store.ledger_frontier().await.unwrap().size();
    let mut frontier = Frontier::new();
    let mut writes = Vec::new();
    for leaf in store.audit_leaves(0, size).await.unwrap() {
        let hash = leaf.row.as_ref().unwrap().leaf_hash(&leaf.secret).unwrap();
        if hash != leaf.hash {
            writes.push(format!("UPDATE ledger_leaves SET hash = {} WHERE idx = {}", blob(db, &hash), leaf.index));
        }
        let nodes: Vec<u8> = frontier
            .push(hash)
            .unwrap()
            .into_iter()
            .filter(|(node, _)| node.level >= store.stored_level())
            .flat_map(|(_, hash)| hash)
            .collect();
        if !nodes.is_empty() {
            writes.push(format!("UPDATE ledger_leaves SET nodes = {} WHERE idx = {}", blob(db, &nodes), leaf.index));
        }
    }
    store.close().await;
    writes.push(format!("UPDATE ledger_state SET frontier = {}", blob(db, &frontier.to_bytes())));
    sql(db, &writes.join("; "));
}

/// The auditor's re-check finds a row edited after it was verified.
async fn the_recheck_finds_an_old_edit(db: Db) {
    day(&db).await;
    let store = store(&db).await;
    let auditor = Auditor { port: Arc::new(store.clone()), extend: 1_000, recheck: 4 };
    let size = store.ledger_frontier().await.unwrap().size();
    let first = auditor.step(1_767_225_600).await.unwrap();
    assert!(first.extended == size && first.finding.is_none(), "the day's leaves verify in one step: {first:?}");
    let (_, second) = two_rows(&db);
    sql(&db, &format!("UPDATE timeline SET at = at + 60 WHERE id = {second}"));
    let (_, leaf, event) = row(&db, second);
    let mut found = None;
    for _ in 0..size {
        let stepped = auditor.step(1_767_225_600).await.unwrap();
        assert_eq!(stepped.extended, 0, "nothing new to verify");
        if stepped.finding.is_some() {
            found = stepped.finding;
            break;
        }
        assert!((1..=4).contains(&stepped.rechecked), "each idle step re-reads only its share: {stepped:?}");
    }
    assert_eq!(
        found.expect("the re-check finds it").message,
        format!("{event} (leaf {leaf}): does not match its leaf")
    );
    store.close().await;
}
both_backends!(recheck, the_recheck_finds_an_old_edit);

/// The server's auditor raises the gauge and the admins' banner on a tampered database.
async fn the_server_raises_the_alarm(db: Db) {
    day(&db).await;
    let (_, second) = two_rows(&db);
    sql(&db, &format!("UPDATE timeline SET at = at + 60 WHERE id = {second}"));
    let (_, leaf, event) = row(&db, second);
    let server = Server::start(&db, &["--metrics-listen", "127.0.0.1:0"]);
    let metrics = server.metrics.clone().unwrap();
    support::until("the mismatch gauge is raised", || async {
        let text = reqwest::get(&metrics).await.ok()?.text().await.ok()?;
        text.lines().any(|l| l == "stringer_ledger_audit_mismatch 1").then_some(())
    })
    .await;
    let (client, cookie) = support::sign_in(&server, ADMIN.0, ADMIN.1, "/admin/users").await;
    let page = support::get_signed_in(&server, &client, &cookie, "/admin/users").await.text().await.unwrap();
    assert!(page.contains("id=\"ledger-mismatch\""), "the banner: {page}");
    assert!(page.contains(&format!("{event} (leaf {leaf}): does not match its leaf")), "it names the event: {page}");
}
both_backends!(alarm, the_server_raises_the_alarm);

/// Rows without a leaf (written before the ledger) are appended in row order by the backfill,
/// once; until then a database that says it was backfilled fails its audit.
async fn the_backfill_appends_old_rows_once(db: Db) {
    day(&db).await;
    // The situation before the ledger, for the last rows: no leaves, the tree without them.
    let store = store(&db).await;
    let size = store.ledger_frontier().await.unwrap().size();
    let kept = size - 7;
    let mut frontier = Frontier::new();
    for leaf in store.audit_leaves(0, kept).await.unwrap() {
        frontier.push(leaf.hash).unwrap();
    }
    store.close().await;
    let undo = [
        format!("UPDATE timeline SET leaf = NULL WHERE leaf >= {kept}"),
        // With the leaves go the subtrees they completed (kept in their rows).
        format!("DELETE FROM ledger_leaves WHERE idx >= {kept}"),
        format!("UPDATE ledger_state SET size = {kept}, frontier = {}", blob(&db, &frontier.to_bytes())),
    ];
    sql(&db, &undo.join("; "));
    let old: Vec<String> =
        sql(&db, "SELECT id FROM timeline WHERE leaf IS NULL ORDER BY id").lines().map(Into::into).collect();
    assert_eq!(old.len(), 7);

    // Said to be backfilled, a row without a leaf is a finding.
    let (_, _, event) = row(&db, old[0].parse().unwrap());
    audit_finds(&db, &format!("{event} (no leaf): not in the ledger"));
    sql(&db, "UPDATE ledger_audit SET backfilled = 0");
    assert_eq!(ledger(&db, &["audit"]).0, 0, "before the backfill, rows without leaves are awaited");

    let (code, printed) = ledger(&db, &["backfill"]);
    assert_eq!((code, printed.trim()), (0, "appended 7 rows written before the ledger"));
    let appended: Vec<String> = sql(&db, &format!("SELECT id FROM timeline WHERE leaf >= {kept} ORDER BY leaf"))
        .lines()
        .map(Into::into)
        .collect();
    assert_eq!(appended, old, "appended in row order");
    assert_eq!(sql(&db, "SELECT size FROM ledger_state"), size.to_string());
    assert_eq!(sql(&db, "SELECT backfilled FROM ledger_audit"), "1");
    let root = clean_root(&db);

    let (code, printed) = ledger(&db, &["backfill"]);
    assert_eq!((code, printed.trim()), (0, "appended 0 rows written before the ledger"), "idempotent");
    assert_eq!(clean_root(&db), root, "nothing appended twice");
}
both_backends!(backfill, the_backfill_appends_old_rows_once);

/// Usage errors exit 2.
#[test]
fn audit_usage_errors_exit_2() {
    let db = Db::sqlite();
    assert_eq!(ledger(&db, &["audit", "--key", "ed25519:not-a-key"]).0, 2);
    assert_eq!(ledger(&db, &["audit", "--no-such-flag"]).0, 2);
}
