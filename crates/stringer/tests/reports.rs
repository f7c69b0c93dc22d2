//! Post-incident reports over the real server, on SQLite and on PostgreSQL: a P1 resolved
//! owes a report, whose draft waits with the contract's due time and a timeline naming the
//! people paged; it is edited, reviewed and published; the org's people then read it, its
//! Slack channel gets the post and its admins the mail, and no overdue alert fires — while
//! the same kind of report left unpublished raises the overdue alert at its due time. The
//! contract here owes reports within 15 seconds (clock time), so the due time comes during
//! the test; the business-day arithmetic of the real "5 business days" is the calendar's,
//! tested in the core.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Db, Server, desk, open_ticket, until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reports_life_on_sqlite() {
    life(Db::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reports_life_on_postgres() {
    if let Some(db) = Db::postgres() {
        life(db).await;
    }
}

async fn timeline(server: &Server, token: &str, key: &str) -> Vec<Value> {
    let page = server.ok(Method::GET, &format!("/api/v1/tickets/{key}/timeline?limit=500"), token, None).await;
    page["items"].as_array().unwrap().clone()
}

fn kinds(entries: &[Value]) -> Vec<String> {
    entries.iter().map(|e| e["kind"].as_str().unwrap().to_string()).collect()
}

async fn life(db: Db) {
    let (port, mails) = support::smtp_receiver().await;
    let (api, posts) = support::slack_api(&[]).await;
    let contract = support::contract_with(&[(
        "within = \"5 business days\"\ncalendar = \"business_week\"\noverdue_notify",
        "within = \"15 seconds\"\noverdue_notify",
    )]);
    let smtp = format!("smtp://127.0.0.1:{port}");
    let server = Server::start(
        &db,
        &[
            "--contract",
            contract.to_str().unwrap(),
            "--smtp-url",
            &smtp,
            "--mail-domain",
            "support.vendor.example",
            "--slack-token",
            "xoxb-test",
            "--slack-api-url",
            &api,
        ],
    );
    let d = desk(&server).await;
    let lead_user = json!({"email": "lena@stringer.example", "name": "Lena Lead", "role": "support_lead", "password": "lena-password-123"});
    server.ok(Method::POST, "/api/v1/users", &d.admin, Some(lead_user)).await;
    let login = json!({"email": "lena@stringer.example", "password": "lena-password-123"});
    let lead = server.ok(Method::POST, "/api/v1/login", "", Some(login)).await["token"].as_str().unwrap().to_string();
    let eng_id = server.ok(Method::GET, "/api/v1/me", &d.engineer, None).await["id"].as_str().unwrap().to_string();
    let setup = json!({"slack_channel": "#acme-ops", "named_engineers": [eng_id]});
    server.ok(Method::PATCH, "/api/v1/orgs/acme", &d.admin, Some(setup)).await;

    // Two P1s, paged and resolved: one report goes its whole way, the other is left alone.
    let mut keys = Vec::new();
    for _ in 0..2 {
        let t = open_ticket(&server, &d.alice, "acme", "P1").await;
        let key = t["key"].as_str().unwrap().to_string();
        until("the page", || async {
            kinds(&timeline(&server, &d.engineer, &key).await).contains(&"page".to_string()).then_some(())
        })
        .await;
        server.ok(Method::POST, &format!("/api/v1/tickets/{key}/acknowledge"), &d.engineer, None).await;
        server.ok(Method::POST, &format!("/api/v1/tickets/{key}/resolve"), &d.engineer, None).await;
        keys.push(key);
    }
    let (published, left) = (&keys[0], &keys[1]);
    let report_path = format!("/api/v1/tickets/{published}/report");
    let steps = format!("{report_path}/steps");

    // The draft is there from the resolution, pre-filled, with the contract's due time.
    let draft = server.ok(Method::GET, &report_path, &d.engineer, None).await;
    assert_eq!(draft["state"], "draft");
    assert_eq!(draft["version"], 0, "not saved yet: Stringer's pre-filled text");
    assert!(draft["due"].is_string(), "{draft}");
    assert!(draft["sections"]["summary"].as_str().unwrap().contains("P1 at acme"), "{draft}");
    assert!(draft["sections"]["impact"].as_str().unwrap().contains("- Severity: P1"), "{draft}");
    let lines: Vec<&str> = draft["timeline"].as_array().unwrap().iter().map(|l| l["what"].as_str().unwrap()).collect();
    assert!(lines.iter().any(|l| l.starts_with("Opened")), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.starts_with("Paged eng@stringer.example (on-call engineer)")),
        "names the person paged: {lines:?}"
    );
    assert!(lines.contains(&"Acknowledged by eng@stringer.example"), "{lines:?}");
    assert!(lines.contains(&"Resolved by eng@stringer.example"), "{lines:?}");

    // Before publication the customer's people do not know it exists.
    let (status, _) = server.call(Method::GET, &report_path, Some(&d.alice), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = server.call(Method::GET, &report_path, Some(&d.bob), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Edited: a new version.
    let mut sections = draft["sections"].clone();
    sections["root_cause"] = json!("A configuration change removed the **connection limit**.");
    sections["resolution"] = json!("The change was rolled back.");
    sections["action_items"] =
        json!([{"what": "Check limits in CI", "owner": eng_id, "due": "2026-12-20", "state": "open"}]);
    let edited = server
        .ok(Method::POST, &steps, &d.engineer, Some(json!({"step": "edit", "revision": 0, "sections": sections})))
        .await;
    assert_eq!(edited["version"], 1);
    assert_eq!(edited["revision"], 1);
    // Stale revisions, unknown steps and unknown fields are refused, and write nothing.
    let (status, _) =
        server.call(Method::POST, &steps, Some(&d.engineer), Some(json!({"step": "submit", "revision": 0}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) =
        server.call(Method::POST, &steps, Some(&d.engineer), Some(json!({"step": "delete", "revision": 1}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = server
        .call(
            Method::POST,
            &steps,
            Some(&d.engineer),
            Some(json!({"step": "edit", "revision": 1, "sections": {"verdict": "x"}})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Published only once approved; only a support lead or the VP approves.
    let (status, body) =
        server.call(Method::POST, &steps, Some(&d.engineer), Some(json!({"step": "publish", "revision": 1}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    server.ok(Method::POST, &steps, &d.engineer, Some(json!({"step": "submit", "revision": 1}))).await;
    let (status, _) =
        server.call(Method::POST, &steps, Some(&d.engineer), Some(json!({"step": "approve", "revision": 2}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let approved = server
        .ok(Method::POST, &steps, &lead, Some(json!({"step": "approve", "revision": 2, "comment": "Clear. Ship it."})))
        .await;
    assert_eq!(approved["state"], "approved");
    assert_eq!(approved["comments"][0]["body"], "Clear. Ship it.");
    let done = server.ok(Method::POST, &steps, &d.engineer, Some(json!({"step": "publish", "revision": 3}))).await;
    assert_eq!(done["state"], "published");
    assert!(done["published_at"].is_string());

    // The org's people read it now — the text, not the review.
    let read = server.ok(Method::GET, &report_path, &d.alice, None).await;
    assert_eq!(read["sections"]["root_cause"], sections["root_cause"]);
    assert_eq!(read["comments"], json!([]), "the review's comments are staff's");
    let listed = server.ok(Method::GET, "/api/v1/reports?state=published", &d.alice, None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let (status, _) = server.call(Method::GET, &report_path, Some(&d.bob), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another org's people never see it");

    // The channel gets the summary with the link; each org admin gets the report by mail.
    let post = until("the Slack post", || async {
        support::slack_calls(&posts, "chat.postMessage")
            .into_iter()
            .find(|(_, args)| args["text"].as_str().unwrap_or_default().contains("post-incident report"))
    })
    .await;
    assert_eq!(post.1["channel"], "#acme-ops");
    let text = post.1["text"].as_str().unwrap();
    assert!(text.contains(published.as_str()) && text.contains(&format!("/reports/{published}")), "{text}");
    let mail = until("the admins' mail", || async {
        mails.lock().unwrap().iter().find(|(_, _, m)| m.contains("Post-incident report")).cloned()
    })
    .await;
    assert_eq!(mail.1, vec!["<alice@acme.example>".to_string()]);
    assert!(mail.2.contains("## Root cause") && mail.2.contains("connection limit"), "{}", mail.2);

    // The unpublished report raises the overdue alert at its due time, to the contract's
    // roles; the published one never does.
    let overdue = until("the overdue alert", || async {
        timeline(&server, &d.engineer, left).await.into_iter().find(|e| e["kind"] == "report.overdue")
    })
    .await;
    assert_eq!(overdue["body"]["notify"], json!(["tam", "support_lead"]), "{overdue}");
    let left_report = server.ok(Method::GET, &format!("/api/v1/tickets/{left}/report"), &d.engineer, None).await;
    assert_eq!(left_report["overdue"], true);
    let kinds = kinds(&timeline(&server, &d.engineer, published).await);
    assert!(kinds.contains(&"report.published".to_string()), "{kinds:?}");
    assert!(!kinds.contains(&"report.overdue".to_string()), "{kinds:?}");
    let after = server.ok(Method::GET, &report_path, &d.engineer, None).await;
    assert_eq!(after["overdue"], false);
    assert!(
        after["due"].as_str().unwrap() < overdue["at"].as_str().unwrap(),
        "the published report's due time is past too, and no alert came"
    );

    // Reopened, the overdue report is owed again only once the ticket is resolved again: no
    // due time, not overdue, and it cannot be published meanwhile.
    let left_path = format!("/api/v1/tickets/{left}/report");
    server.ok(Method::POST, &format!("/api/v1/tickets/{left}/reopen"), &d.engineer, None).await;
    let reopened = server.ok(Method::GET, &left_path, &d.engineer, None).await;
    assert_eq!((reopened["due"].is_null(), &reopened["overdue"]), (true, &json!(false)), "{reopened}");
    let rev = reopened["revision"].as_i64().unwrap();
    let left_steps = format!("{left_path}/steps");
    server.ok(Method::POST, &left_steps, &d.engineer, Some(json!({"step": "submit", "revision": rev}))).await;
    server.ok(Method::POST, &left_steps, &lead, Some(json!({"step": "approve", "revision": rev + 1}))).await;
    let (status, refused) = server
        .call(Method::POST, &left_steps, Some(&d.engineer), Some(json!({"step": "publish", "revision": rev + 2})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused["detail"].as_str().unwrap().contains("publish its report once it is"), "{refused}");
    server.ok(Method::POST, &format!("/api/v1/tickets/{left}/resolve"), &d.engineer, None).await;
    let owed_again = server.ok(Method::GET, &left_path, &d.engineer, None).await;
    assert!(owed_again["due"].as_str().unwrap() > overdue["at"].as_str().unwrap(), "a new due time: {owed_again}");
    let published_now =
        server.ok(Method::POST, &left_steps, &d.engineer, Some(json!({"step": "publish", "revision": rev + 2}))).await;
    assert_eq!(published_now["state"], "published");
}
