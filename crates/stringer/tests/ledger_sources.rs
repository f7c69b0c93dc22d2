//! A post-incident report's publication in the ledger, end to end on both backends (issue 28,
//! docs/ledger.md §1 and §6.3; migration 43): a P1 ticket's report published through the API
//! is one leaf; the customer's bundle of the ticket (the API's and the portal's download
//! alike) is version 2 and carries the publication with the text they read disclosed and the
//! staff text withheld as a digest, and verifies with `stringer verify` and
//! `tools/verify-bundle.py`; staff's bundle discloses the whole text; `stringer ledger audit`
//! is clean, and names the report once its published text is edited in the database, while
//! the bundle taken after the edit fails both verifiers against the one taken before. An org's
//! quarterly-review figures, frozen with their round, are proved by their own bundle
//! (`GET /api/v1/orgs/{org}/reviews/{quarter}/proof`) to the org's admin, refused to another
//! org's people as the review itself is, and a frozen figure edited is named by the audit and by both verifiers.

use crate::support;

use reqwest::Method;
use serde_json::{Value, json};
use std::process::Command;
use support::ledger::{ledger, sign, verify_both, write};
use support::{Db, Server, desk, sql};

/// `stringer ledger audit` on `db`: its exit code and what it printed.
fn audit(db: &Db) -> (i32, String) {
    ledger(db, &["audit"])
}

async fn report_in_bundles(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let dir = db.dir();
    let lead = json!({"email": "lena@stringer.example", "name": "Lena Lead", "role": "support_lead", "password": "lena-password-123"});
    server.ok(Method::POST, "/api/v1/users", &d.admin, Some(lead)).await;
    let login = json!({"email": "lena@stringer.example", "password": "lena-password-123"});
    let lead = server.ok(Method::POST, "/api/v1/login", "", Some(login)).await["token"].as_str().unwrap().to_string();
    let body = json!({"org": "acme", "severity": "P1", "subject": "Checkout is down", "description": "d"});
    let ticket = server.ok(Method::POST, "/api/v1/tickets", &d.alice, Some(body)).await;
    let key = ticket["key"].as_str().unwrap().to_string();
    server.ok(Method::POST, &format!("/api/v1/tickets/{key}/acknowledge"), &d.engineer, None).await;
    server.ok(Method::POST, &format!("/api/v1/tickets/{key}/resolve"), &d.engineer, None).await;
    let steps = format!("/api/v1/tickets/{key}/report/steps");
    server.ok(Method::POST, &steps, &d.engineer, Some(json!({"step": "submit", "revision": 0}))).await;
    server.ok(Method::POST, &steps, &lead, Some(json!({"step": "approve", "revision": 1}))).await;
    assert_eq!(sql(&db, "SELECT COUNT(*) FROM ledger_leaves WHERE source = 'report'"), "0", "not published yet");
    server.ok(Method::POST, &steps, &d.engineer, Some(json!({"step": "publish", "revision": 2}))).await;
    assert_eq!(sql(&db, "SELECT COUNT(*) FROM ledger_leaves WHERE source = 'report'"), "1", "one leaf");
    let leaf = sql(&db, "SELECT leaf FROM report_publications");
    assert_eq!(sql(&db, &format!("SELECT source FROM ledger_leaves WHERE idx = {leaf}")), "report");

    sign(&server, &d.admin).await;
    let published = server.ok(Method::GET, "/.well-known/stringer-ledger/key", "", None).await;
    let pinned = published["public_key"].as_str().unwrap().to_string();
    let customer = server.ok(Method::GET, &format!("/api/v1/tickets/{key}/proof"), &d.alice, None).await;
    assert_eq!(customer["format"], "stringer-ledger-bundle/2", "{customer}");
    let reports = customer["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 1, "{customer}");
    let report = &reports[0];
    assert_eq!(report["leaf_index"].as_u64(), Some(leaf.parse().unwrap()));
    assert!(report["shown"].get("staff_text").is_none(), "{report}");
    let names: Vec<&str> =
        report["disclosed"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert!(!names.contains(&"staff_text") && names.contains(&"customer_text"), "{names:?}");
    assert_eq!(report["withheld"].as_array().unwrap().len(), 1, "staff_text as its digest alone");
    let before = write(&dir, "customer.json", &customer);
    let (ok, said) = verify_both(&before, &pinned, None);
    assert!(ok, "{said}");

    let staff = server.ok(Method::GET, &format!("/api/v1/tickets/{key}/proof"), &d.engineer, None).await;
    assert!(staff["reports"][0]["shown"]["staff_text"].is_object(), "{staff}");
    let (ok, said) = verify_both(&write(&dir, "staff.json", &staff), &pinned, Some(&before));
    assert!(ok, "{said}");
    assert!(server.terminate().success());

    let (code, said) = audit(&db);
    assert_eq!(code, 0, "{said}");

    // The published text edited in the database: the audit names the report, and a bundle
    // taken afterwards fails both verifiers against the one taken before.
    let edited = sql(
        &db,
        "UPDATE report_versions SET sections = replace(sections, '\"summary\":\"', '\"summary\":\"Nothing serious. ') \
         WHERE version = 1",
    );
    assert!(edited.is_empty(), "{edited}");
    let (code, said) = audit(&db);
    assert_eq!(code, 1, "{said}");
    let at = report["shown"]["at"].as_str().unwrap();
    let named = format!("report {key} text 1 at {at} (leaf {leaf}): does not match its leaf");
    assert!(said.contains(&named), "{said}\nexpected: {named}");

    let server = Server::start(&db, &[]);
    let after: Value = server.ok(Method::GET, &format!("/api/v1/tickets/{key}/proof"), &d.alice, None).await;
    let (ok, said) = verify_both(&write(&dir, "after.json", &after), &pinned, Some(&before));
    assert!(!ok && said.contains(&format!("{key} report text 1 at {at} (leaf {leaf})")), "{said}");
    assert!(server.terminate().success());
}

async fn store(db: &Db) -> stringer_store::SqlStore {
    match db {
        Db::Sqlite(dir) => stringer_store::SqlStore::open_sqlite(&dir.join("stringer.db")).await.unwrap(),
        Db::Postgres(url) => stringer_store::SqlStore::connect(url).await.unwrap(),
    }
}

async fn review_in_bundle(db: Db) {
    use stringer_app::letters::LetterBox;
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    assert!(server.terminate().success());
    let figures = json!({"tier": "enterprise", "tickets": 2, "attainment": [{"severity": "P1", "target": "response",
        "met": 1, "breached": 1, "running": 0, "withdrawn": 0, "weekend_met": 0, "weekend_breached": 0}],
        "first_response": [], "acknowledge": [], "resolve": [], "by_severity": [], "by_channel": [], "by_week": [],
        "paging": {"tickets_paged": 0, "pages": 0, "reached_tam": 0, "reached_vp": 0, "customer_pages": 0}});
    let frozen_at = 1_767_225_600; // 2026-01-01T00:00:00Z
    let books = store(&db).await;
    let acme = stringer_core::ids::OrgSlug::from("acme");
    assert!(books.write_round(&acme, "2025-Q4", &[], &figures, frozen_at).await.unwrap());
    books.close().await;
    let leaf = sql(&db, "SELECT leaf FROM review_figures WHERE org = 'acme'");
    assert_eq!(sql(&db, &format!("SELECT source FROM ledger_leaves WHERE idx = {leaf}")), "review");
    // The review shows the frozen set (the quarter has no tickets now: its figures would be
    // empty if computed), and says where it is in the ledger.
    let review = |format: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_stringer"))
            .args(["review", "--org", "acme", "--quarter", "2025-Q4", "--format", format])
            .args(db.args())
            .env_remove("STRINGER_CONTRACT")
            .env_remove("STRINGER_CONFIG")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let shown: Value = serde_json::from_str(&review("json")).unwrap();
    assert_eq!(shown["figures_leaf"].as_u64(), Some(leaf.parse().unwrap()), "{shown}");
    assert_eq!((&shown["tickets"], &shown["figures"]["attainment"]), (&figures["tickets"], &figures["attainment"]));
    let md = review("md");
    assert!(md.contains(&format!("frozen in the ledger when the review was sent out, leaf {leaf}")), "{md}");

    let server = Server::start(&db, &[]);
    sign(&server, &d.admin).await;
    let pinned = server.ok(Method::GET, "/.well-known/stringer-ledger/key", "", None).await["public_key"]
        .as_str()
        .unwrap()
        .to_string();
    let path = "/api/v1/orgs/acme/reviews/2025-Q4/proof";
    let bundle = server.ok(Method::GET, path, &d.alice, None).await;
    assert_eq!(bundle["format"], "stringer-ledger-review/1", "{bundle}");
    assert_eq!(bundle["review"]["figures"], figures);
    assert_eq!(bundle["review"]["at"], "2026-01-01T00:00:00Z");
    let before = write(&db.dir(), "review.json", &bundle);
    let (ok, said) = verify_both(&before, &pinned, None);
    assert!(ok, "{said}");
    // An earlier review document stands for its head, for both verifiers.
    let (ok, said) = verify_both(&before, &pinned, Some(&before));
    assert!(ok, "{said}");
    // Another org's member is refused exactly as reading the review itself (the one policy).
    let (status, _) = server.call(Method::GET, path, Some(&d.bob), None).await;
    let recommendations = "/api/v1/orgs/acme/reviews/2025-Q4/recommendations";
    let (read, _) = server.call(Method::GET, recommendations, Some(&d.bob), None).await;
    assert!(!status.is_success() && status == read, "{status} against {read}");
    let (status, _) = server.call(Method::GET, "/api/v1/orgs/acme/reviews/2025-Q3/proof", Some(&d.alice), None).await;
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND, "no figures frozen for that quarter");
    assert!(server.terminate().success());
    let (code, said) = audit(&db);
    assert_eq!(code, 0, "{said}");

    let edited = sql(&db, "UPDATE review_figures SET figures = replace(figures, '\"breached\":1', '\"breached\":0')");
    assert!(edited.is_empty(), "{edited}");
    let (code, said) = audit(&db);
    let named = format!("review acme 2025-Q4 at 2026-01-01T00:00:00Z (leaf {leaf}): does not match its leaf");
    assert!(code == 1 && said.contains(&named), "{said}\nexpected: {named}");
    let server = Server::start(&db, &[]);
    let after = server.ok(Method::GET, path, &d.alice, None).await;
    let (ok, said) = verify_both(&write(&db.dir(), "review-after.json", &after), &pinned, None);
    assert!(!ok && said.contains(&named), "{said}");
    assert!(server.terminate().success());
}

both_backends!(report_publications, report_in_bundles);
both_backends!(review_figures, review_in_bundle);
