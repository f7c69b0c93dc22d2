//! The pages' and the web issue's API guarantees over real HTTP, on SQLite and PostgreSQL:
//! human ticket keys (numbered per org, accepted wherever an id is), assignment, editing
//! orgs, deactivating users (their tokens and sessions stop at once), full-text search and
//! the queue order; the session cookie's flags, CSRF and cross-site refusals, and another
//! org's ticket answering 404 in HTML. The browser walk-through is in tests/browser.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{Db, Server, desk, open_ticket};

both_backends!(keys_assignment_search_and_queue, keys_assignment_search_and_queue_on);
both_backends!(orgs_edit_and_users_deactivate, orgs_edit_and_users_deactivate_on);
both_backends!(sessions_and_forms, sessions_and_forms_on);
both_backends!(incident_bridge, incident_bridge_on);
both_backends!(contact_us, contact_us_on);
both_backends!(password_links, password_links_on);
both_backends!(attachments, attachments_on);
both_backends!(demo_sign_ins, demo_sign_ins_on);

/// `serve --demo` prints where to open it and a sign-in per kind of person; a second run on
/// the same database says it is seeded already and prints them again; they work.
async fn demo_sign_ins_on(db: Db) {
    let first = Server::start(&db, &["--demo", "--smtp-listen", "127.0.0.1:0"]);
    let lines = first.printed("API description");
    let text = lines.join("\n");
    assert!(text.contains(&format!("Open {}/ in a browser and sign in as:", first.base)), "{text}");
    for who in ["customer  alice@acme.example", "engineer  nico@stringer.example", "admin     ada@stringer.example"] {
        assert!(text.contains(who), "{who}: {text}");
    }
    drop(first);
    let second = Server::start(&db, &["--demo", "--smtp-listen", "127.0.0.1:0"]);
    let text = second.printed("API description").join("\n");
    assert!(text.contains("The demo desk is already seeded"), "{text}");
    assert!(!text.contains("Demo desk seeded"), "nothing seeded twice: {text}");
    for (email, password) in
        [("alice@acme.example", "demo-alice-password"), ("ada@stringer.example", "demo-ada-password")]
    {
        second.ok(Method::POST, "/api/v1/login", "", Some(json!({"email": email, "password": password}))).await;
    }
    // A lived-in desk: two quarters of worked tickets, so the review and the closed tickets
    // have something to show.
    let ada = second
        .ok(
            Method::POST,
            "/api/v1/login",
            "",
            Some(json!({"email": "ada@stringer.example", "password": "demo-ada-password"})),
        )
        .await;
    let token = ada["token"].as_str().expect("a login gives a token");
    let resolved = second.ok(Method::GET, "/api/v1/tickets?org=acme&status=resolved&limit=100", token, None).await;
    assert!(resolved["items"].as_array().unwrap().len() >= 20, "{resolved}");
    // And a status page with 90 days behind it: components, past incidents, a maintenance ahead.
    let summary = second.ok(Method::GET, "/status/api/v2/summary.json", "", None).await;
    assert_eq!(summary["components"].as_array().unwrap().len(), 5, "{summary}");
    let incidents = second.ok(Method::GET, "/status/api/v2/incidents.json", "", None).await;
    let resolved: Vec<_> =
        incidents["incidents"].as_array().unwrap().iter().filter(|i| i["status"] == "resolved").collect();
    assert_eq!(resolved.len(), 3, "{incidents}");
    let ahead = second.ok(Method::GET, "/status/api/v2/scheduled-maintenances/upcoming.json", "", None).await;
    assert_eq!(ahead["scheduled_maintenances"].as_array().unwrap().len(), 1, "{ahead}");
    // And a published post-incident report the customer reads.
    let alice = second
        .ok(
            Method::POST,
            "/api/v1/login",
            "",
            Some(json!({"email": "alice@acme.example", "password": "demo-alice-password"})),
        )
        .await;
    let alice = alice["token"].as_str().unwrap();
    let published = second.ok(Method::GET, "/api/v1/reports?state=published", alice, None).await;
    assert_eq!(published.as_array().unwrap().len(), 1, "{published}");
}

async fn attachments_on(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let ticket = open_ticket(&server, &d.alice, "acme", "P2").await;
    let key = ticket["key"].as_str().unwrap();
    let upload = |token: &str, name: &str, body: Vec<u8>, internal: bool| {
        let path = format!("/api/v1/tickets/{key}/attachments?filename={name}&internal={internal}");
        let token = token.to_string();
        let server = &server;
        async move { server.raw(Method::POST, &path, &token, body, "application/octet-stream").await }
    };
    let png = b"\x89PNG\r\n\x1a\n-not-really-an-image".to_vec();
    let (status, shot) = upload(&d.alice, "screenshot.png", png.clone(), false).await;
    assert_eq!(status, StatusCode::CREATED, "{shot}");
    assert_eq!(
        (shot["content_type"].as_str(), shot["size"].as_i64(), shot["public"].as_bool()),
        (Some("image/png"), Some(png.len() as i64), Some(true))
    );
    let (status, _) = upload(&d.alice, "notes.txt", b"x".to_vec(), true).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "customers add no internal files");
    let (status, note) = upload(&d.engineer, "heap.log", b"internal heap dump summary".to_vec(), true).await;
    assert_eq!(status, StatusCode::CREATED, "{note}");
    for (name, body, expected) in [
        ("page.html", b"<script>alert(1)</script>".to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("shot.jpg", png.clone(), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("..%2Fetc%2Fpasswd.txt", b"x".to_vec(), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (status, problem) = upload(&d.alice, name, body, false).await;
        assert_eq!(status, expected, "{name}: {problem}");
    }
    let (status, _) = upload(&d.bob, "x.txt", b"x".to_vec(), false).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another org's ticket");
    let limit = 10 * 1024 * 1024 + 64 * 1024;
    let code = server.declare_oversized_body(
        &format!("/api/v1/tickets/{key}/attachments?filename=big.txt"),
        &d.alice,
        limit + 1,
    );
    assert_eq!(code, 413, "refused before the body is read");

    // Customers see the public file only; staff see both; downloads are attachments.
    let names = |v: serde_json::Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|a| a["filename"].as_str().unwrap().to_string()).collect()
    };
    let path = format!("/api/v1/tickets/{key}/attachments");
    assert_eq!(names(server.ok(Method::GET, &path, &d.alice, None).await), ["screenshot.png"]);
    assert_eq!(names(server.ok(Method::GET, &path, &d.engineer, None).await), ["screenshot.png", "heap.log"]);
    let client = reqwest::Client::new();
    let get = |url: String, token: String| {
        let client = client.clone();
        async move { client.get(url).bearer_auth(token).send().await.unwrap() }
    };
    let resp =
        get(format!("{}/api/v1/attachments/{}", server.base, shot["id"].as_str().unwrap()), d.alice.clone()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let headers = resp.headers().clone();
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"screenshot.png\""));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(resp.bytes().await.unwrap().to_vec(), png, "the same bytes");
    let internal = format!("{}/api/v1/attachments/{}", server.base, note["id"].as_str().unwrap());
    assert_eq!(
        get(internal.clone(), d.alice.clone()).await.status(),
        StatusCode::NOT_FOUND,
        "internal: hidden from the customer"
    );
    assert_eq!(get(internal.clone(), d.bob.clone()).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(get(internal, d.engineer.clone()).await.status(), StatusCode::OK);
}

/// The mails the receiver got for `to` (as `<address>`).
fn mails_to(mails: &support::Mails, to: &str) -> Vec<(String, Vec<String>, String)> {
    mails.lock().unwrap().iter().filter(|(_, rcpt, _)| rcpt.iter().any(|r| r == to)).cloned().collect()
}

/// The link in the last mail to `to`, once `to` has more than `before` (the engine's courier
/// sends account mail after the request is answered), its body decoded from
/// quoted-printable, which the relay may have used for the long line.
async fn next_link(mails: &support::Mails, to: &str, before: usize) -> String {
    let mails = support::until(&format!("a password link's mail to {to}"), || async {
        Some(mails_to(mails, to)).filter(|m| m.len() > before)
    })
    .await;
    let (_, _, raw) = mails.last().expect("a mail");
    let unfolded = raw.replace("=\n", "");
    let mut message = String::new();
    let mut rest = unfolded.as_str();
    while let Some(i) = rest.find('=') {
        message.push_str(&rest[..i]);
        match u8::from_str_radix(rest.get(i + 1..i + 3).unwrap_or(""), 16) {
            Ok(b) => {
                message.push(b as char);
                rest = &rest[i + 3..];
            }
            Err(_) => {
                message.push('=');
                rest = &rest[i + 1..];
            }
        }
    }
    message.push_str(rest);
    let start = message.find("/password/pwl_").expect("a password link");
    let line_start = message[..start].rfind("http").unwrap();
    message[line_start..].split_whitespace().next().unwrap().to_string()
}

async fn password_links_on(db: Db) {
    let (smtp_port, mails) = support::smtp_receiver().await;
    let smtp = format!("smtp://127.0.0.1:{smtp_port}");
    let server = Server::start(&db, &["--smtp-url", &smtp, "--mail-from", "support@vendor.example"]);
    let d = desk(&server).await;
    let newbie = server
        .ok(
            Method::POST,
            "/api/v1/users",
            &d.admin,
            Some(json!({"email": "newbie@stringer.example", "name": "Newbie", "role": "engineer"})),
        )
        .await;
    let path = format!("/api/v1/users/{}/password-link", newbie["id"].as_str().unwrap());
    let (status, _) = server.call(Method::POST, &path, Some(&d.engineer), Some(json!({"purpose": "invitation"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only who may change the user sends them a link");
    let sent = server.ok(Method::POST, &path, &d.admin, Some(json!({"purpose": "invitation"}))).await;
    assert_eq!(sent["sent_to"], "newbie@stringer.example");
    assert!(sent.get("link").is_none(), "the link goes to its owner only");
    let newbie_at = "<newbie@stringer.example>";
    let link = next_link(&mails, newbie_at, 0).await;
    assert!(link.starts_with(&server.base), "{link}");
    {
        let mails = mails_to(&mails, newbie_at);
        let (from, to, message) = mails.last().unwrap();
        assert_eq!(
            (from.as_str(), to.as_slice()),
            ("<support@vendor.example>", &["<newbie@stringer.example>".to_string()][..])
        );
        assert!(message.contains("Subject: Your Stringer account"), "{message}");
    }

    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    // Another last character (a fixed '0' left the link as it was whenever it ended in '0').
    let last = if link.ends_with('0') { '1' } else { '0' };
    let tampered = format!("{}{last}", &link[..link.len() - 1]);
    assert_eq!(client.get(&tampered).send().await.unwrap().status(), StatusCode::GONE, "a forged link");
    assert_eq!(client.get(&link).send().await.unwrap().status(), StatusCode::OK);
    for (password, again) in [("short", "short"), ("a long enough password", "another long password")] {
        let resp = client.post(&link).form(&[("password", password), ("again", again)]).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let resp = client
        .post(&link)
        .form(&[("password", "a long enough password"), ("again", "a long enough password")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "set, and signed in");
    assert!(resp.headers()["set-cookie"].to_str().unwrap().starts_with("stringer_session="));
    assert_eq!(client.get(&link).send().await.unwrap().status(), StatusCode::GONE, "used once");
    let login = json!({"email": "newbie@stringer.example", "password": "a long enough password"});
    server.ok(Method::POST, "/api/v1/login", "", Some(login)).await;

    // Forgot: the same answer for any address; a reset link only for a real account.
    let before = mails_to(&mails, newbie_at).len();
    for email in ["nobody@nowhere.example", "newbie@stringer.example"] {
        let resp =
            client.post(format!("{}/password/forgot", server.base)).form(&[("email", email)]).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(resp.text().await.unwrap().contains("If an account exists for that address"));
    }
    // The unknown address's mail, were there one, was written first and sent no later.
    let reset = next_link(&mails, newbie_at, before).await;
    assert!(mails_to(&mails, "<nobody@nowhere.example>").is_empty(), "one mail: the real account's");
    assert_eq!(mails_to(&mails, newbie_at).len(), before + 1, "one mail: the real account's");
    assert_ne!(reset, link);
    let resp = client
        .post(&reset)
        .form(&[("password", "yet another long password"), ("again", "yet another long password")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let old = json!({"email": "newbie@stringer.example", "password": "a long enough password"});
    let (status, _) = server.call(Method::POST, "/api/v1/login", None, Some(old)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old password is gone");

    // Without a mail relay, nobody can be sent a link (and it is never shown instead).
    let plain = Server::start(&Db::sqlite(), &[]);
    let admin = plain.admin();
    let user = plain
        .ok(
            Method::POST,
            "/api/v1/users",
            &admin,
            Some(json!({"email": "x@stringer.example", "name": "X", "role": "engineer"})),
        )
        .await;
    let path = format!("/api/v1/users/{}/password-link", user["id"].as_str().unwrap());
    let (status, _) = plain.call(Method::POST, &path, Some(&admin), Some(json!({"purpose": "reset"}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

async fn contact_us_on(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let message = json!({"name": "Pia Prospect", "email": "pia@prospect.example", "company": "Prospect GmbH", "body": "Do you support SAML?"});
    let (status, receipt) = server.call(Method::POST, "/api/v1/contact", None, Some(message.clone())).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{receipt}");
    let due: jiff::Timestamp = receipt["answer_due"].as_str().unwrap().parse().unwrap();
    assert!(due > jiff::Timestamp::now(), "due on the contract's general-inquiry target: {due}");
    for bad in [
        json!({"name": "", "email": "a@b.example", "body": "x"}),
        json!({"name": "x", "email": "nope", "body": "x"}),
        json!({"name": "x\ny", "email": "a@b.example", "body": "x"}),
    ] {
        let (status, _) = server.call(Method::POST, "/api/v1/contact", None, Some(bad.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    // The queue is staff's: customers get 403.
    let (status, _) = server.call(Method::GET, "/api/v1/inquiries", Some(&d.alice), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let open = server.ok(Method::GET, "/api/v1/inquiries", &d.engineer, None).await;
    let items = open["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        (items[0]["company"].as_str(), items[0]["due_at"].as_str()),
        (Some("Prospect GmbH"), receipt["answer_due"].as_str())
    );
    let path = format!("/api/v1/inquiries/{}/answer", receipt["id"].as_str().unwrap());
    let answered = server.ok(Method::POST, &path, &d.engineer, Some(json!({"answer": "Yes, on Enterprise."}))).await;
    assert!(answered["answered_at"].is_string());
    let (status, _) = server.call(Method::POST, &path, Some(&d.engineer), Some(json!({"answer": "again"}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "answered once");
    assert!(
        server.ok(Method::GET, "/api/v1/inquiries", &d.engineer, None).await["items"].as_array().unwrap().is_empty()
    );
    // Five attempts per client address and hour: the four above counted.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(server.call(Method::POST, "/api/v1/contact", None, Some(message.clone())).await.0);
    }
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");

    // The page refuses a post as fast as a bot's, or with the hidden field filled, and keeps
    // what was typed.
    let client = reqwest::Client::new();
    let form = client.get(format!("{}/contact", server.base)).send().await.unwrap().text().await.unwrap();
    let guard = form.split("name=\"guard\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    for website in ["", "http://spam.example"] {
        let resp = client
            .post(format!("{}/contact", server.base))
            .form(&[
                ("name", "Bot"),
                ("email", "bot@spam.example"),
                ("body", "buy now"),
                ("guard", &guard),
                ("website", website),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(resp.text().await.unwrap().contains("buy now"), "what was typed stays");
    }
    let forged = format!("1.{}", "0".repeat(64));
    let resp = client
        .post(format!("{}/contact", server.base))
        .form(&[("name", "Bot"), ("email", "bot@spam.example"), ("body", "x"), ("guard", &forged)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "a forged guard");
}

async fn incident_bridge_on(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let plain = open_ticket(&server, &d.alice, "acme", "P2").await;
    let incident = server
        .ok(
            Method::POST,
            "/api/v1/tickets",
            &d.alice,
            Some(
                json!({"org": "acme", "severity": "P1", "subject": "Leaked key", "description": "x", "security": true}),
            ),
        )
        .await;
    let key = incident["key"].as_str().unwrap();
    assert!(incident["bridge"]["joined_by"].is_null() && incident["bridge"]["due"].is_string(), "{incident}");
    let path = format!("/api/v1/tickets/{key}/bridge");
    let (status, _) = server.call(Method::POST, &path, Some(&d.alice), Some(json!({}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "customers do not record the vendor's bridge");
    let plain_path = format!("/api/v1/tickets/{}/bridge", plain["key"].as_str().unwrap());
    let (status, _) = server.call(Method::POST, &plain_path, Some(&d.engineer), Some(json!({}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "only security incidents have a bridge");
    let (status, _) =
        server.call(Method::POST, &path, Some(&d.engineer), Some(json!({"url": "javascript:alert(1)"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // An engineer joining (with the address) does not meet the contract's rule: it wants a
    // platform engineer; the cleared platform engineer joining does.
    let url = "https://meet.example.com/acme-incident";
    let after = server.ok(Method::POST, &path, &d.engineer, Some(json!({"url": url}))).await;
    assert_eq!((after["bridge"]["url"].as_str(), after["bridge"]["joined_by"].is_null()), (Some(url), true));
    let pat = server.ok(Method::GET, "/api/v1/me", &d.cleared, None).await;
    let after = server.ok(Method::POST, &path, &d.engineer, Some(json!({"joined_by": pat["id"]}))).await;
    assert_eq!(after["bridge"]["joined_by"], pat["id"]);
    assert_eq!(after["bridge"]["url"], url, "the address stays");
    let timeline = server.ok(Method::GET, &format!("/api/v1/tickets/{key}/timeline"), &d.engineer, None).await;
    let joins = timeline["items"].as_array().unwrap().iter().filter(|e| e["kind"] == "bridge.joined").count();
    assert_eq!(joins, 2);
}

async fn keys_assignment_search_and_queue_on(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    // Keys are numbered per org, from 1, and accepted wherever the id is.
    let a1 = open_ticket(&server, &d.alice, "acme", "P4").await;
    let b1 = open_ticket(&server, &d.bob, "bolt", "P3").await;
    let a2 = open_ticket(&server, &d.alice, "acme", "P1").await;
    assert_eq!(
        (a1["key"].as_str(), b1["key"].as_str(), a2["key"].as_str()),
        (Some("ACME-1"), Some("BOLT-1"), Some("ACME-2"))
    );
    let by_key = server.ok(Method::GET, "/api/v1/tickets/ACME-2", &d.alice, None).await;
    assert_eq!(by_key["id"], a2["id"]);
    let (status, _) = server.call(Method::GET, "/api/v1/tickets/ACME-2", Some(&d.bob), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another org's key answers like a missing one");
    let (status, _) = server.call(Method::GET, "/api/v1/tickets/ACME-99", Some(&d.alice), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for bad in ["acme-2", "ACME-02", "ACME"] {
        let (status, _) = server.call(Method::GET, &format!("/api/v1/tickets/{bad}"), Some(&d.alice), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }

    // Assignment: staff only, to active staff who may see the ticket; the API shows it.
    let me = server.ok(Method::GET, "/api/v1/me", &d.engineer, None).await;
    let taken = server
        .ok(Method::POST, "/api/v1/tickets/ACME-2/assign", &d.engineer, Some(json!({"assignee": me["id"]})))
        .await;
    assert_eq!(taken["assignee"], me["id"]);
    let (status, _) = server
        .call(Method::POST, "/api/v1/tickets/ACME-2/assign", Some(&d.alice), Some(json!({"assignee": me["id"]})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "customers do not assign");
    let alice = server.ok(Method::GET, "/api/v1/me", &d.alice, None).await;
    let (status, problem) = server
        .call(Method::POST, "/api/v1/tickets/ACME-2/assign", Some(&d.engineer), Some(json!({"assignee": alice["id"]})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let fedco = open_ticket(&server, &d.fiona, "fedco", "P3").await;
    let (status, _) = server
        .call(
            Method::POST,
            &format!("/api/v1/tickets/{}/assign", fedco["id"].as_str().unwrap()),
            Some(&d.cleared),
            Some(json!({"assignee": me["id"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "an uncleared engineer is not given a federal ticket");
    let mine = server.ok(Method::GET, "/api/v1/tickets?assignee=mine", &d.engineer, None).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let unassigned = server.ok(Method::GET, "/api/v1/tickets?assignee=unassigned", &d.engineer, None).await;
    assert!(unassigned["items"].as_array().unwrap().iter().all(|t| t["assignee"].is_null()));
    let back =
        server.ok(Method::POST, "/api/v1/tickets/ACME-2/assign", &d.engineer, Some(json!({"assignee": null}))).await;
    assert!(back["assignee"].is_null());
    let timeline = server.ok(Method::GET, "/api/v1/tickets/ACME-2/timeline", &d.alice, None).await;
    let assigned: Vec<_> =
        timeline["items"].as_array().unwrap().iter().filter(|e| e["kind"] == "ticket.assigned").collect();
    assert_eq!(assigned.len(), 2);
    assert!(assigned.iter().all(|e| e["body"].get("to").is_none() && e["actor"].is_null()), "customers do not see who");

    // Full-text search: customers search the public conversation of their org; staff also
    // internal notes.
    server
        .ok(
            Method::POST,
            "/api/v1/tickets/ACME-1/comments",
            &d.engineer,
            Some(json!({"body": "flamingo internal", "public": false})),
        )
        .await;
    server
        .ok(Method::POST, "/api/v1/tickets/ACME-1/comments", &d.engineer, Some(json!({"body": "pelican public reply"})))
        .await;
    let hits = |v: serde_json::Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|t| t["key"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(hits(server.ok(Method::GET, "/api/v1/tickets?q=pelican", &d.alice, None).await), ["ACME-1"]);
    assert!(hits(server.ok(Method::GET, "/api/v1/tickets?q=flamingo", &d.alice, None).await).is_empty());
    assert_eq!(hits(server.ok(Method::GET, "/api/v1/tickets?q=flamingo", &d.engineer, None).await), ["ACME-1"]);
    assert!(hits(server.ok(Method::GET, "/api/v1/tickets?q=pelican", &d.bob, None).await).is_empty());
    assert_eq!(hits(server.ok(Method::GET, "/api/v1/tickets?q=P3%20bolt", &d.bob, None).await), ["BOLT-1"]);
    let (status, _) = server.call(Method::GET, "/api/v1/tickets?q=%22unbalanced%20OR", Some(&d.alice), None).await;
    assert_eq!(status, StatusCode::OK, "search words are never query syntax");
    // A word's beginning finds it, and a ticket's key finds that ticket (within what the caller sees).
    assert_eq!(hits(server.ok(Method::GET, "/api/v1/tickets?q=pelic", &d.alice, None).await), ["ACME-1"]);
    assert_eq!(hits(server.ok(Method::GET, "/api/v1/tickets?q=flam%20intern", &d.engineer, None).await), ["ACME-1"]);
    assert_eq!(hits(server.ok(Method::GET, "/api/v1/tickets?q=ACME-2", &d.alice, None).await), ["ACME-2"]);
    assert_eq!(hits(server.ok(Method::GET, "/api/v1/tickets?q=%20bolt-1%20", &d.engineer, None).await), ["BOLT-1"]);
    assert!(hits(server.ok(Method::GET, "/api/v1/tickets?q=ACME-2", &d.bob, None).await).is_empty());
    for odd in ["%2A", "-", "%22%22", "NEAR(a%20b)", "a%3A%2A"] {
        let (status, _) = server.call(Method::GET, &format!("/api/v1/tickets?q={odd}"), Some(&d.alice), None).await;
        assert_eq!(status, StatusCode::OK, "{odd}");
    }

    // The queue order: what breaches first comes first (the P1's response is due soonest).
    let queue = hits(server.ok(Method::GET, "/api/v1/tickets?order=due", &d.engineer, None).await);
    assert_eq!(queue.first().map(String::as_str), Some("ACME-2"), "{queue:?}");
    assert_eq!(queue.last().map(String::as_str), Some("ACME-1"), "the P4 is due last: {queue:?}");
    // The tier filter is part of the query, not applied to a page afterwards.
    assert_eq!(
        hits(server.ok(Method::GET, "/api/v1/tickets?order=due&tier=pro&limit=1", &d.engineer, None).await),
        ["BOLT-1"]
    );
    let (status, _) = server.call(Method::GET, "/api/v1/tickets?tier=gold", Some(&d.engineer), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn orgs_edit_and_users_deactivate_on(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let tam = server
        .ok(
            Method::POST,
            "/api/v1/users",
            &d.admin,
            Some(json!({"email": "tam@stringer.example", "name": "Tam", "role": "tam"})),
        )
        .await;
    // An Enterprise org without a TAM carries a loud warning; giving it one clears it.
    let acme = server.ok(Method::GET, "/api/v1/orgs/acme", &d.admin, None).await;
    assert!(acme["warnings"][0].as_str().unwrap().contains("no TAM"), "{acme}");
    let edited = server
        .ok(Method::PATCH, "/api/v1/orgs/acme", &d.admin, Some(json!({"tam": tam["id"], "name": "Acme Corp"})))
        .await;
    assert_eq!(
        (edited["tam"].clone(), edited["name"].clone(), edited["warnings"].clone()),
        (tam["id"].clone(), json!("Acme Corp"), json!([]))
    );
    let (status, _) =
        server.call(Method::PATCH, "/api/v1/orgs/acme", Some(&d.engineer), Some(json!({"name": "x"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) =
        server.call(Method::PATCH, "/api/v1/orgs/fedco", Some(&d.admin), Some(json!({"tam": tam["id"]}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "an uncleared TAM cannot serve a federal org");
    let (status, _) =
        server.call(Method::PATCH, "/api/v1/orgs/acme", Some(&d.admin), Some(json!({"tier": "gold"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) =
        server.call(Method::PATCH, "/api/v1/orgs/acme", Some(&d.admin), Some(json!({"email_tag": "bolt"}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "email tags stay unique");

    // Deactivating a user stops their tokens at once, keeps their data, and is an admin's (or
    // their org admin's) to do — never one's own.
    let ticket = open_ticket(&server, &d.bob, "bolt", "P3").await;
    let bob = server.ok(Method::GET, "/api/v1/me", &d.bob, None).await;
    let bob_path = format!("/api/v1/users/{}", bob["id"].as_str().unwrap());
    let (status, _) = server.call(Method::DELETE, &bob_path, Some(&d.alice), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another org's admin does not see bob");
    let admin_me = server.ok(Method::GET, "/api/v1/me", &d.admin, None).await;
    let (status, _) = server
        .call(Method::DELETE, &format!("/api/v1/users/{}", admin_me["id"].as_str().unwrap()), Some(&d.admin), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "nobody deactivates themselves");
    let gone = server.ok(Method::DELETE, &bob_path, &d.admin, None).await;
    assert!(gone["deactivated_at"].is_i64());
    let (status, _) = server.call(Method::GET, "/api/v1/me", Some(&d.bob), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the token stopped at once");
    let (status, _) = server
        .call(
            Method::POST,
            "/api/v1/login",
            None,
            Some(json!({"email": "bob@bolt.example", "password": "bob@bolt.example-password"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "and signing in again fails");
    let kept =
        server.ok(Method::GET, &format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap()), &d.admin, None).await;
    assert_eq!(kept["requester"], bob["id"], "nothing of theirs is deleted");
    // One's own time zone: an IANA name or nothing (UTC); a read token cannot change it.
    let me = server.ok(Method::PATCH, "/api/v1/me", &d.alice, Some(json!({"time_zone": "Europe/Berlin"}))).await;
    assert_eq!(me["time_zone"], "Europe/Berlin");
    let (status, _) =
        server.call(Method::PATCH, "/api/v1/me", Some(&d.alice), Some(json!({"time_zone": "Mars/Base"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let me = server.ok(Method::PATCH, "/api/v1/me", &d.alice, Some(json!({"time_zone": null}))).await;
    assert!(me["time_zone"].is_null());
    let again = server.ok(Method::DELETE, &bob_path, &d.admin, None).await;
    assert_eq!(again["deactivated_at"], gone["deactivated_at"], "deactivating again changes nothing");
}

/// A browser as far as these tests need one: one client, and the session cookie it holds.
struct Browser {
    client: reqwest::Client,
    base: String,
    cookie: String,
}

impl Browser {
    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(format!("{}{path}", self.base)).header("cookie", &self.cookie)
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(format!("{}{path}", self.base)).header("cookie", &self.cookie)
    }
}

/// Signs in through the form; answers the session cookie's whole `Set-Cookie` and the browser.
async fn sign_in(server: &Server, email: &str, password: &str) -> (String, Browser) {
    let (client, set) = support::sign_in(server, email, password, "/portal").await;
    let cookie = set.split(';').next().unwrap().to_string();
    (set, Browser { client, base: server.base.clone(), cookie })
}

fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string()
}

async fn sessions_and_forms_on(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let acme = open_ticket(&server, &d.alice, "acme", "P3").await;
    let key = acme["key"].as_str().unwrap().to_string();
    let (cookie, alice) = sign_in(&server, "alice@acme.example", "alice@acme.example-password").await;
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=43200"] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }
    assert!(!cookie.contains("Secure"), "plain http on 127.0.0.1 is not https");
    let page = alice.get(&format!("/portal/tickets/{key}")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let csrf = csrf_of(&html);

    // Forms: without the token, with a wrong one, or from another site: refused, nothing written.
    let reply = format!("/portal/tickets/{key}/reply");
    for (form, origin) in [
        (vec![("body", "no token")], None),
        (vec![("body", "wrong token"), ("csrf", "stg_wrong")], None),
        (vec![("body", "cross site"), ("csrf", csrf.as_str())], Some("http://evil.example")),
    ] {
        let mut req = alice.post(&reply).form(&form);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{form:?}");
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    }
    let resp = alice.post(&reply).form(&[("body", "with the token"), ("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let comments = server.ok(Method::GET, &format!("/api/v1/tickets/{key}/comments"), &d.alice, None).await;
    let bodies: Vec<&str> = comments["items"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["with the token"]);

    // Another org's ticket: 404 in HTML, exactly like a missing one.
    let (_, bob) = sign_in(&server, "bob@bolt.example", "bob@bolt.example-password").await;
    let theirs = bob.get(&format!("/portal/tickets/{key}")).send().await.unwrap();
    let missing = bob.get("/portal/tickets/BOLT-999").send().await.unwrap();
    assert_eq!((theirs.status(), missing.status()), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    let (theirs, missing) = (theirs.text().await.unwrap(), missing.text().await.unwrap());
    assert_eq!(theirs, missing, "the same page, so nothing leaks");
    assert!(!theirs.contains(acme["subject"].as_str().unwrap()));

    // Without a session, pages send the browser to sign in; a wrong password says so.
    let anonymous = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = anonymous.get(format!("{}/portal", server.base)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/signin?next=%2Fportal");

    // Sign-out ends the session on the server: the old cookie opens nothing.
    let resp = alice.post("/signout").form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let replay = anonymous
        .get(format!("{}/portal", server.base))
        .header("cookie", cookie.split(';').next().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::SEE_OTHER, "the signed-out session is gone");
}
