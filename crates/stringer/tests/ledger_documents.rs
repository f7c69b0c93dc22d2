//! Where the ledger's signed heads appear besides `/.well-known/stringer-ledger/` (issue 28):
//! the public and a tenant's status page name the latest signed head in their footer (their
//! Statuspage JSON keeps its shape); a post-incident report and a quarterly review state the
//! head they cover, with its JSON form, which `stringer verify --previous-head` accepts
//! against a later bundle of the ticket. Runs on SQLite and PostgreSQL.

use crate::support;

use reqwest::Method;
use serde_json::{Value, json};
use std::process::Command;
use support::ledger::{sign, verify_both, write};
use support::{Db, Server, desk, open_ticket};

/// A page's text, read with `token` as a bearer (or anonymously when empty).
async fn text(server: &Server, path: &str, token: &str) -> String {
    let mut request = reqwest::Client::new().get(format!("{}{path}", server.base));
    if !token.is_empty() {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    assert!(response.status().is_success(), "{path}: {}", response.status());
    response.text().await.unwrap()
}

/// The sentence a document states of `head`, signed by the key of `fingerprint`.
fn covers(document: &str, head: &Value, fingerprint: &str) -> String {
    let at = jiff::Timestamp::from_second(head["timestamp"].as_i64().unwrap()).unwrap();
    format!(
        "This {document} covers log entries up to tree size {}, head signed {at} by key {fingerprint}.",
        head["tree_size"]
    )
}

/// The head's JSON form in a document: the first code block after "## The ledger" (Markdown)
/// or in the ledger's section (HTML, quotes escaped).
fn head_in(document: &str) -> Value {
    let section = document.split("The ledger").nth(1).expect("a section on the ledger");
    let json = match section.split("```json\n").nth(1) {
        Some(rest) => rest.split("\n```").next().unwrap().to_string(),
        None => {
            let code = section.split("<pre><code").nth(1).expect("a code block").split_once('>').unwrap().1;
            code.split("</code>").next().unwrap().replace("&quot;", "\"")
        }
    };
    serde_json::from_str(json.trim()).unwrap_or_else(|e| panic!("{e}: {json}"))
}

async fn documents_name_their_head(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let dir = db.dir();
    let ticket = open_ticket(&server, &d.alice, "acme", "P3").await;
    let key = ticket["key"].as_str().unwrap().to_string();
    server.ok(Method::POST, &format!("/api/v1/tickets/{key}/acknowledge"), &d.engineer, None).await;
    let first = sign(&server, &d.admin).await;
    let published = server.ok(Method::GET, "/.well-known/stringer-ledger/key", "", None).await;
    let (pinned, fingerprint) = (published["public_key"].as_str().unwrap(), published["fingerprint"].as_str().unwrap());
    // The log did not grow since: the latest head is still the one just signed.
    assert_eq!(server.ok(Method::GET, "/.well-known/stringer-ledger/head", "", None).await, first);

    // Status pages: the footer names the latest head and links the published one.
    let size = first["tree_size"].as_u64().unwrap();
    let root = &first["root_hash"].as_str().unwrap()[..16];
    for (path, token) in [("/status", ""), ("/status/acme", d.alice.as_str())] {
        let page = text(&server, path, token).await;
        let foot = page.split("class=\"muted ledger-head\"").nth(1).unwrap_or_else(|| panic!("{path}: {page}"));
        let foot = foot.split("</p>").next().unwrap();
        assert!(foot.contains("href=\"/.well-known/stringer-ledger/head\""), "{path}: {foot}");
        assert!(foot.contains(&format!("tree size {size},")), "{path}: {foot}");
        assert!(foot.contains(root) && foot.contains(fingerprint), "{path}: {foot}");
        let summary = text(&server, &format!("{path}/api/v2/summary.json"), token).await;
        assert!(!summary.contains("tree_size"), "Statuspage's JSON keeps its shape: {summary}");
    }

    // A report written now covers the head just signed, and says so on its page.
    server.ok(Method::POST, &format!("/api/v1/tickets/{key}/resolve"), &d.engineer, None).await;
    let report = server.ok(Method::POST, &format!("/api/v1/tickets/{key}/report"), &d.engineer, None).await;
    assert_eq!(report["ledger_head"], first, "the API's report names the head too");
    let (client, cookie) =
        support::sign_in(&server, "eng@stringer.example", "eng@stringer.example-password", "/console").await;
    let page =
        support::get_signed_in(&server, &client, &cookie, &format!("/reports/{key}")).await.text().await.unwrap();
    assert!(page.contains(&covers("report", &first, fingerprint)), "{page}");
    let in_report = head_in(&page);
    assert_eq!(in_report, first, "the report holds the head's JSON form");

    // The ticket goes on; a later bundle verifies with the report's head as the previous one.
    let reply = json!({"body": "Root cause found", "public": true});
    server.ok(Method::POST, &format!("/api/v1/tickets/{key}/comments"), &d.engineer, Some(reply)).await;
    let second = sign(&server, &d.admin).await;
    assert!(second["tree_size"].as_u64() > Some(size));
    let bundle = server.ok(Method::GET, &format!("/api/v1/tickets/{key}/proof?from={size}"), &d.alice, None).await;
    let bundle_path = write(&dir, "later.json", &bundle);
    let head_path = write(&dir, "report-head.json", &in_report);
    let (ok, said) = verify_both(&bundle_path, pinned, Some(&head_path));
    assert!(ok, "{said}");
    // A head altered after it was copied from the report is refused.
    let mut altered = in_report.clone();
    altered["tree_size"] = json!(size - 1);
    let (ok, said) = verify_both(&bundle_path, pinned, Some(&write(&dir, "altered.json", &altered)));
    assert!(!ok && said.contains("previous head"), "{said}");

    // The quarterly review written now covers the latest head, the one signed second.
    let quarter = {
        let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
        format!("{}-Q{}", today.year(), (today.month() - 1) / 3 + 1)
    };
    let review = Command::new(env!("CARGO_BIN_EXE_stringer"))
        .args(["review", "--org", "acme", "--quarter", &quarter])
        .args(db.args())
        .env_remove("STRINGER_CONFIG")
        .output()
        .unwrap();
    let md = String::from_utf8_lossy(&review.stdout);
    assert!(review.status.success(), "{}", String::from_utf8_lossy(&review.stderr));
    assert!(md.contains(&covers("review", &second, fingerprint)), "{md}");
    assert_eq!(head_in(&md), second);
}

both_backends!(heads_in_documents, documents_name_their_head);
