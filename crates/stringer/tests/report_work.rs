//! Post-incident reports' work over the real server: the timeline the org's people read is
//! the access policy's customer view of the ticket (nobody named as paged, no delivery, no
//! internal obligation), worded and trimmed by staff before publishing, with the edits in
//! the report's history.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Db, Server, desk, open_ticket, until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_customer_reads_the_customer_view_as_staff_worded_it_on_sqlite() {
    customer_timeline(Db::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_customer_reads_the_customer_view_as_staff_worded_it_on_postgres() {
    if let Some(db) = Db::postgres() {
        customer_timeline(db).await;
    }
}

/// A support lead's token.
async fn lead(server: &Server, admin: &str) -> String {
    let user = json!({"email": "lena@stringer.example", "name": "Lena Lead", "role": "support_lead", "password": "lena-password-123"});
    server.ok(Method::POST, "/api/v1/users", admin, Some(user)).await;
    let login = json!({"email": "lena@stringer.example", "password": "lena-password-123"});
    server.ok(Method::POST, "/api/v1/login", "", Some(login)).await["token"].as_str().unwrap().to_string()
}

fn words(report: &Value, field: &str) -> Vec<String> {
    report["timeline"].as_array().unwrap().iter().filter_map(|l| l[field].as_str().map(String::from)).collect()
}

async fn customer_timeline(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let lead = lead(&server, &d.admin).await;
    let t = open_ticket(&server, &d.alice, "acme", "P1").await;
    let key = t["key"].as_str().unwrap().to_string();
    let path = format!("/api/v1/tickets/{key}/report");
    let steps = format!("{path}/steps");
    until("the page", || async {
        let page = server.ok(Method::GET, &format!("/api/v1/tickets/{key}/timeline"), &d.engineer, None).await;
        page["items"].as_array().unwrap().iter().any(|e| e["kind"] == "page").then_some(())
    })
    .await;
    server.ok(Method::POST, &format!("/api/v1/tickets/{key}/acknowledge"), &d.engineer, None).await;
    server.ok(Method::POST, &format!("/api/v1/tickets/{key}/resolve"), &d.engineer, None).await;

    // Staff see the whole story, and beside each line what the customer will read.
    let draft = server.ok(Method::GET, &path, &d.engineer, None).await;
    let internal = words(&draft, "what");
    assert!(internal.iter().any(|l| l.starts_with("Paged ") && l.contains("@stringer.example")), "{internal:?}");
    assert!(internal.iter().any(|l| l == "A post-incident report is owed"), "{internal:?}");
    let customer = words(&draft, "customer");
    assert!(customer.iter().any(|l| l.starts_with("Paged the on-call engineer")), "{customer:?}");
    for hidden in ["@stringer.example", "report is owed", "Page to", " via "] {
        assert!(!customer.iter().any(|l| l.contains(hidden)), "{hidden:?} in {customer:?}");
    }
    let lines = draft["timeline"].as_array().unwrap();
    let line = |prefix: &str| {
        lines.iter().find(|l| l["customer"].as_str().is_some_and(|c| c.starts_with(prefix))).unwrap()["key"].clone()
    };
    let (opened, acknowledged) = (line("Opened"), line("Acknowledged"));

    // Staff reword one line and hide another; a line the policy hides cannot be reworded in.
    let owed = lines.iter().find(|l| l["what"] == "A post-incident report is owed").unwrap()["key"].clone();
    let mut sections = draft["sections"].clone();
    sections["timeline_edits"] = json!([{"line": owed, "words": "Report owed"}]);
    let (status, body) = server
        .call(
            Method::POST,
            &steps,
            Some(&d.engineer),
            Some(json!({"step": "edit", "revision": 0, "sections": sections})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    sections["timeline_edits"] =
        json!([{"line": opened, "words": "Acme told us"}, {"line": acknowledged, "hide": true}]);
    let edited = server
        .ok(Method::POST, &steps, &d.engineer, Some(json!({"step": "edit", "revision": 0, "sections": sections})))
        .await;
    let customer = words(&edited, "customer");
    assert!(customer.contains(&"Acme told us".to_string()), "{customer:?}");
    assert!(!customer.iter().any(|l| l.starts_with("Acknowledged")), "{customer:?}");
    assert_eq!(edited["versions"][0]["timeline_edits"].as_array().unwrap().len(), 2, "in the history: {edited}");
    server.ok(Method::POST, &steps, &d.engineer, Some(json!({"step": "submit", "revision": 1}))).await;
    server.ok(Method::POST, &steps, &lead, Some(json!({"step": "approve", "revision": 2}))).await;
    server.ok(Method::POST, &steps, &d.engineer, Some(json!({"step": "publish", "revision": 3}))).await;

    // The org's people read the customer's lines only, as staff worded them.
    let read = server.ok(Method::GET, &path, &d.alice, None).await;
    let shown = words(&read, "what");
    assert!(shown.contains(&"Acme told us".to_string()), "{shown:?}");
    assert!(shown.iter().any(|l| l.starts_with("Paged the on-call engineer")), "{shown:?}");
    for hidden in ["@stringer.example", "report is owed", "Page ", "Acknowledged", " via "] {
        assert!(!shown.iter().any(|l| l.contains(hidden)), "{hidden:?} in {shown:?}");
    }
    assert_eq!(read["sections"]["timeline_edits"], json!([]), "staff's edits are applied, not handed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_saves_what_a_step_carries_and_checks_it() {
    let server = Server::start(&Db::sqlite(), &[]);
    let d = desk(&server).await;
    let lead = lead(&server, &d.admin).await;
    let body =
        json!({"org": "acme", "severity": "P1", "subject": "Key in a log", "description": "x", "security": true});
    let key =
        server.ok(Method::POST, "/api/v1/tickets", &d.engineer, Some(body)).await["key"].as_str().unwrap().to_string();
    server.ok(Method::POST, &format!("/api/v1/tickets/{key}/resolve"), &d.engineer, None).await;
    let path = format!("/api/v1/tickets/{key}/report");
    let steps = format!("{path}/steps");
    let draft = server.ok(Method::GET, &path, &d.engineer, None).await;
    let eng_id = server.ok(Method::GET, "/api/v1/me", &d.engineer, None).await["id"].clone();
    let alice_id = server.ok(Method::GET, "/api/v1/me", &d.alice, None).await["id"].clone();

    // Action items: what, a real due date, a staff owner — each refused otherwise, nothing written.
    let mut sections = draft["sections"].clone();
    for (item, why) in [
        (json!({"what": "Rotate keys", "owner": alice_id, "due": null, "state": "open"}), "owner is a staff member"),
        (
            json!({"what": "Rotate keys", "owner": "usr_nobody", "due": null, "state": "open"}),
            "owner is a staff member",
        ),
        (json!({"what": "Rotate keys", "owner": "", "due": null, "state": "open"}), "names its owner"),
        (json!({"what": " ", "owner": eng_id, "due": null, "state": "open"}), "says what"),
        (json!({"what": "Rotate keys", "owner": eng_id, "due": "2027-02-30", "state": "open"}), ""),
    ] {
        sections["action_items"] = json!([item]);
        let asked = json!({"step": "edit", "revision": 0, "sections": sections});
        let (status, body) = server.call(Method::POST, &steps, Some(&d.engineer), Some(asked)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{item}: {body}");
        assert!(body["detail"].as_str().unwrap().contains(why), "{item}: {body}");
    }
    assert_eq!(server.ok(Method::GET, &path, &d.engineer, None).await["revision"], 0, "nothing written");

    // Submit carries the text: it is saved as a version and submitted, in one write.
    sections["action_items"] = json!([{"what": "Rotate keys", "owner": eng_id, "due": "2027-01-31", "state": "open"}]);
    sections["root_cause"] = json!("A debug log line printed the key.");
    let asked = json!({"step": "submit", "revision": 0, "sections": sections});
    let submitted = server.ok(Method::POST, &steps, &d.engineer, Some(asked)).await;
    assert_eq!((&submitted["state"], &submitted["version"]), (&json!("in_review"), &json!(1)), "{submitted}");
    assert_eq!(submitted["sections"]["root_cause"], sections["root_cause"]);

    // A security report is not approved without its remediation.
    let (status, body) =
        server.call(Method::POST, &steps, Some(&lead), Some(json!({"step": "approve", "revision": 1}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("before it is approved"), "{body}");
    sections["remediation"] = json!("Keys are redacted in logs.");
    let asked = json!({"step": "approve", "revision": 1, "sections": sections});
    let approved = server.ok(Method::POST, &steps, &lead, Some(asked)).await;
    assert_eq!((&approved["state"], &approved["version"]), (&json!("approved"), &json!(2)), "{approved}");

    // Changed words are not published unreviewed.
    sections["lessons"] = json!("Redact by default.");
    let asked = json!({"step": "publish", "revision": 2, "sections": sections});
    let (status, body) = server.call(Method::POST, &steps, Some(&d.engineer), Some(asked)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("reviewed again"), "{body}");
}
