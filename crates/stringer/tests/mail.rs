//! Email as a channel, black-box: real SMTP conversations (Python's smtplib, and swaks) with
//! the built-in listener, `stringer mailgate` fed from a file, and the letters customers get
//! at a local SMTP receiver — on SQLite and PostgreSQL. And the promise that mail answered
//! `250` is never lost: the server is killed right after the last `250` and restarted.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};
use support::{Db, Mails, Server, desk, smtp_address, smtp_receiver, until};

const DOMAIN: &str = "support.example";

both_backends!(mail_in_and_out, mail_in_and_out_on);

fn python() -> String {
    std::env::var("STRINGER_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Sends `messages` (from, to, raw) in one SMTP conversation with smtplib; what the server
/// answered for each.
fn smtp_send(address: &str, messages: &[(&str, &[&str], String)]) -> Vec<Value> {
    let (host, port) = address.rsplit_once(':').unwrap();
    let input: Vec<Value> = messages.iter().map(|(f, t, d)| json!({"from": f, "to": t, "data": d})).collect();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mail/smtp_send.py");
    let mut child = Command::new(python())
        .args([script, host, port])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python runs");
    child.stdin.take().unwrap().write_all(serde_json::to_string(&input).unwrap().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "smtplib failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn message(from: &str, to: &str, subject: &str, id: &str, extra: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nDate: Tue, 01 Dec 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n{extra}\r\n{body}\r\n"
    )
}

async fn tickets(server: &Server, token: &str) -> Vec<Value> {
    let (status, body) = server.call(Method::GET, "/api/v1/tickets?limit=200", Some(token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().unwrap().clone()
}

async fn ticket_with(server: &Server, token: &str, subject: &str) -> Value {
    until(&format!("a ticket {subject:?}"), || async {
        tickets(server, token).await.into_iter().find(|t| t["subject"] == subject)
    })
    .await
}

async fn comments(server: &Server, token: &str, key: &str) -> Vec<String> {
    let (_, body) = server.call(Method::GET, &format!("/api/v1/tickets/{key}/comments"), Some(token), None).await;
    body["items"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap().to_string()).collect()
}

/// The letters to `to` whose subject contains `subject`.
fn letters(mails: &Mails, to: &str, subject: &str) -> Vec<String> {
    mails
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, rcpt, data)| rcpt.iter().any(|r| r.contains(to)) && header(data, "Subject").contains(subject))
        .map(|(_, _, data)| data.clone())
        .collect()
}

async fn letter(mails: &Mails, to: &str, subject: &str) -> String {
    until(&format!("a letter to {to} about {subject:?}"), || async { letters(mails, to, subject).pop() }).await
}

/// How many ignored messages' reasons contain `reason`.
async fn ignored_with(server: &Server, admin: &str, reason: &str) -> usize {
    let (_, body) = server.call(Method::GET, "/api/v1/mail?state=ignored", Some(admin), None).await;
    body["items"].as_array().unwrap().iter().filter(|m| m["reason"].as_str().unwrap_or("").contains(reason)).count()
}

/// A header's unfolded value.
fn header(data: &str, name: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in data.lines() {
        if line.is_empty() {
            break;
        }
        if inside && line.starts_with([' ', '\t']) {
            out.push(' ');
            out.push_str(line.trim());
            continue;
        }
        inside = line.to_ascii_lowercase().starts_with(&format!("{}:", name.to_ascii_lowercase()));
        if inside {
            out = line[name.len() + 1..].trim().to_string();
        }
    }
    out
}

async fn mail_in_and_out_on(db: Db) {
    let (relay, mails) = smtp_receiver().await;
    let relay = format!("smtp://127.0.0.1:{relay}");
    let server = Server::start(
        &db,
        &[
            "--smtp-listen",
            "127.0.0.1:0",
            "--mail-trust-loopback",
            "--mail-trusted-relay",
            "mx.test",
            "--mail-domain",
            DOMAIN,
            "--smtp-url",
            &relay,
            "--public-url",
            "https://desk.example",
        ],
    );
    let smtp = smtp_address(&server);
    let d = desk(&server).await;
    let alice = "alice@acme.example";

    // A new ticket, in the org of the tag, at the subject's severity, by mail.
    let first = message(
        alice,
        &format!("support+acme@{DOMAIN}"),
        "[P2] Exports fail",
        "m1@acme.example",
        "",
        "Since 09:00 every CSV export fails.\n\n-- \nAlice",
    );
    let relay_refused = message("x@elsewhere.example", "someone@elsewhere.example", "relay?", "r1@x", "", "hi");
    let answers = smtp_send(
        &smtp,
        &[
            (alice, &[&format!("support+acme@{DOMAIN}")], first),
            ("x@elsewhere.example", &["someone@elsewhere.example"], relay_refused),
        ],
    );
    assert_eq!(answers[0]["ok"], true, "{answers:?}");
    assert_eq!(answers[1]["code"], 550, "never an open relay: {answers:?}");
    let t = ticket_with(&server, &d.alice, "[P2] Exports fail").await;
    assert_eq!(
        (t["severity"].as_str(), t["channel"].as_str(), t["org"].as_str()),
        (Some("P2"), Some("email"), Some("acme"))
    );
    assert_eq!(t["description"], "Since 09:00 every CSV export fails.", "the signature is cut off");
    let key = t["key"].as_str().unwrap().to_string();

    // The acknowledgement: key, severity, due time, threaded, answerable, automatic.
    let ack = letter(&mails, alice, &format!("[{key}] Received")).await;
    assert!(ack.contains(&format!("as ticket {key} (severity P2)")), "{ack}");
    assert!(ack.contains("first response within 4 hours: by"), "{ack}");
    assert_eq!(header(&ack, "Auto-Submitted"), "auto-replied");
    let ack_id = header(&ack, "Message-ID");
    let ticket_id = t["id"].as_str().unwrap();
    assert!(ack_id.starts_with(&format!("<stringer.{ticket_id}.")), "{ack_id}");
    assert_eq!(header(&ack, "In-Reply-To"), "<m1@acme.example>", "it answers the customer's message");
    assert!(header(&ack, "References").contains(&format!("<stringer.{ticket_id}@{DOMAIN}>")));
    let reply_to = header(&ack, "Reply-To");
    let number = key.rsplit('-').next().unwrap();
    assert!(
        reply_to.starts_with(&format!("support+acme.{number}.")) && reply_to.ends_with(&format!("@{DOMAIN}")),
        "{reply_to}"
    );

    // Replies thread: by In-Reply-To to our letter, and by the reply address alone.
    let by_header = message(
        alice,
        &format!("support+acme@{DOMAIN}"),
        "Re: Exports fail",
        "m2@acme.example",
        &format!("In-Reply-To: {ack_id}\r\nReferences: <m1@acme.example> {ack_id}\r\n"),
        "Only CSV; PDF works.\n\nOn Tue, 1 Dec 2026 at 09:01, Support wrote:\n> we received your request",
    );
    let by_address = message(alice, &reply_to, "Re: your ticket", "m3@acme.example", "", "Attached nothing, sorry.");
    let answers = smtp_send(
        &smtp,
        &[(alice, &[&format!("support+acme@{DOMAIN}")], by_header), (alice, &[&reply_to], by_address)],
    );
    assert!(answers.iter().all(|a| a["ok"] == true), "{answers:?}");
    let said = until("both replies on the ticket", || async {
        let c = comments(&server, &d.alice, &key).await;
        (c.len() >= 2).then_some(c)
    })
    .await;
    assert_eq!(said, ["Only CSV; PDF works.", "Attached nothing, sorry."], "quoted history cut; nothing else");
    assert_eq!(tickets(&server, &d.alice).await.len(), 1, "replies opened nothing");
    // The message as it came stays readable for staff, quoted history and all.
    let (_, done) = server.call(Method::GET, "/api/v1/mail?state=done", Some(&d.engineer), None).await;
    let reply = done["items"].as_array().unwrap().iter().find(|m| m["subject"] == "Re: Exports fail").unwrap().clone();
    assert_eq!(reply["ticket"].as_str(), Some(ticket_id));
    let original = format!("{}/api/v1/mail/{}/original", server.base, reply["id"]);
    let raw = reqwest::Client::new().get(&original).bearer_auth(&d.engineer).send().await.unwrap();
    assert_eq!(raw.headers()["content-type"], "message/rfc822");
    assert!(raw.text().await.unwrap().contains("> we received your request"));

    // Staff: an internal note is never mailed; a public reply and the resolution are, threaded.
    let note = json!({"body": "Internal: looks like the export worker OOMs", "public": false});
    server.ok(Method::POST, &format!("/api/v1/tickets/{key}/comments"), &d.engineer, Some(note)).await;
    let reply = json!({"body": "We found it and are deploying a fix.", "public": true});
    server.ok(Method::POST, &format!("/api/v1/tickets/{key}/comments"), &d.engineer, Some(reply)).await;
    server.ok(Method::POST, &format!("/api/v1/tickets/{key}/resolve"), &d.engineer, None).await;
    let replied = letter(&mails, alice, &format!("Re: [{key}]")).await;
    assert!(replied.contains("We found it and are deploying a fix."), "{replied}");
    assert_eq!(header(&replied, "Auto-Submitted"), "", "a person's reply is not automatic");
    assert_eq!(header(&replied, "In-Reply-To"), "<m3@acme.example>", "it answers the latest customer message");
    let resolved = letter(&mails, alice, &format!("[{key}] Resolved")).await;
    assert!(header(&resolved, "References").contains("<m1@acme.example>"), "{resolved}");
    let everything: String = mails.lock().unwrap().iter().map(|m| m.2.clone()).collect();
    assert!(!everything.contains("export worker OOMs"), "internal notes are never mailed");

    // security@ opens a security incident; sales@ a general inquiry.
    let security = message(
        alice,
        &format!("security@{DOMAIN}"),
        "We think an API key leaked",
        "s1@acme.example",
        "",
        "Key stg_... was in a public gist.",
    );
    let sales = message(
        "pat@prospect.example",
        &format!("sales@{DOMAIN}"),
        "Pricing for 60 agents",
        "q1@prospect.example",
        "",
        "What would 60 seats cost?",
    );
    let answers = smtp_send(
        &smtp,
        &[
            (alice, &[&format!("security@{DOMAIN}")], security),
            ("pat@prospect.example", &[&format!("sales@{DOMAIN}")], sales),
        ],
    );
    assert!(answers.iter().all(|a| a["ok"] == true), "{answers:?}");
    let incident = ticket_with(&server, &d.alice, "We think an API key leaked").await;
    assert_eq!((incident["security"].as_bool(), incident["severity"].as_str()), (Some(true), Some("P1")));
    let inquiry = until("the inquiry", || async {
        let (_, body) = server.call(Method::GET, "/api/v1/inquiries", Some(&d.admin), None).await;
        body["items"].as_array().unwrap().iter().find(|i| i["email"] == "pat@prospect.example").cloned()
    })
    .await;
    assert!(inquiry["body"].as_str().unwrap().contains("What would 60 seats cost?"), "{inquiry}");

    // A stranger to the org is held, never dropped; staff route it, and it becomes a ticket.
    let stranger = message(
        "mallory@elsewhere.example",
        &format!("support+acme@{DOMAIN}"),
        "Who do I talk to?",
        "x1@elsewhere.example",
        "",
        "Hello?",
    );
    // An out-of-office answer opens nothing and is answered by nothing.
    let away = message(
        alice,
        &format!("support+acme@{DOMAIN}"),
        "Automatic reply: Exports fail",
        "oof1@acme.example",
        "Auto-Submitted: auto-replied\r\n",
        "I am away until Monday.",
    );
    smtp_send(
        &smtp,
        &[
            ("mallory@elsewhere.example", &[&format!("support+acme@{DOMAIN}")], stranger),
            (alice, &[&format!("support+acme@{DOMAIN}")], away),
        ],
    );
    let held = until("the stranger's mail held", || async {
        let (_, body) = server.call(Method::GET, "/api/v1/mail", Some(&d.admin), None).await;
        body["items"].as_array().unwrap().iter().find(|m| m["sender"] == "mallory@elsewhere.example").cloned()
    })
    .await;
    assert!(held["reason"].as_str().unwrap().contains("not a user of acme"), "{held}");
    let ignored = until("the auto-reply recorded", || async {
        let (_, body) = server.call(Method::GET, "/api/v1/mail?state=ignored", Some(&d.admin), None).await;
        body["items"].as_array().unwrap().iter().find(|m| m["subject"] == "Automatic reply: Exports fail").cloned()
    })
    .await;
    assert!(ignored["reason"].as_str().unwrap().contains("Auto-Submitted"), "{ignored}");
    let (status, _) = server.call(Method::GET, "/api/v1/mail", Some(&d.alice), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "triage is for staff");
    // A federal org's held mail is for cleared staff only, as its tickets are.
    let federal = message(
        "eve@elsewhere.example",
        &format!("support+fedco@{DOMAIN}"),
        "Classified question",
        "f1@elsewhere.example",
        "",
        "?",
    );
    smtp_send(&smtp, &[("eve@elsewhere.example", &[&format!("support+fedco@{DOMAIN}")], federal)]);
    let fed = until("the federal org's mail held", || async {
        let (_, body) = server.call(Method::GET, "/api/v1/mail", Some(&d.cleared), None).await;
        body["items"].as_array().unwrap().iter().find(|m| m["subject"] == "Classified question").cloned()
    })
    .await;
    let (_, seen) = server.call(Method::GET, "/api/v1/mail", Some(&d.engineer), None).await;
    assert!(!seen.to_string().contains("Classified question"), "{seen}");
    let original = format!("/api/v1/mail/{}/original", fed["id"]);
    let (status, _) = server.call(Method::GET, &original, Some(&d.engineer), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let route_fed = format!("/api/v1/mail/{}/route", fed["id"]);
    let (status, _) = server.call(Method::POST, &route_fed, Some(&d.engineer), Some(json!({"org": "acme"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Routing goes by the org, whatever its mail tag: give acme another tag first.
    server.ok(Method::PATCH, "/api/v1/orgs/acme", &d.admin, Some(json!({"email_tag": "acme-corp"}))).await;
    let route = format!("/api/v1/mail/{}/route", held["id"]);
    let (status, body) = server.call(Method::POST, &route, Some(&d.admin), Some(json!({"org": "acme"}))).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let routed = ticket_with(&server, &d.admin, "Who do I talk to?").await;
    assert_eq!(routed["org"], "acme");
    server.ok(Method::PATCH, "/api/v1/orgs/acme", &d.admin, Some(json!({"email_tag": "acme"}))).await;
    assert!(letters(&mails, "alice@acme.example", "Automatic reply").is_empty());

    // A delivery failure report stops mail to the address: its owner's ticket gets no letter,
    // while a ticket opened after it does (letters are dispatched in order).
    let user = json!({"email": "gone@acme.example", "name": "Gone", "role": "member", "org": "acme", "password": "gone-password-123"});
    server.ok(Method::POST, "/api/v1/users", &d.admin, Some(user)).await;
    let login = json!({"email": "gone@acme.example", "password": "gone-password-123"});
    let gone = server.ok(Method::POST, "/api/v1/login", "", Some(login)).await["token"].as_str().unwrap().to_string();
    let first = support::open_ticket(&server, &gone, "acme", "P3").await;
    let received = letter(&mails, "gone@acme.example", &format!("[{}] Received", first["key"].as_str().unwrap())).await;
    let dsn = |returned: &str, id: &str| {
        format!(
            "From: MAILER-DAEMON@mx.acme.example\r\nTo: support@{DOMAIN}\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <{id}@mx.acme.example>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nUser unknown.\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.acme.example\r\n\r\nFinal-Recipient: rfc822; gone@acme.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {returned}\r\nTo: gone@acme.example\r\n\r\n--b--\r\n"
        )
    };
    // F29: a report that returns no letter of ours to the address stops nothing.
    smtp_send(&smtp, &[("", &[&format!("support@{DOMAIN}")], dsn("<made-up@elsewhere.example>", "dsn0"))]);
    until("the forged bounce recorded", || async {
        (ignored_with(&server, &d.admin, "returns no message of ours").await == 1).then_some(())
    })
    .await;
    let still = support::open_ticket(&server, &gone, "acme", "P3").await;
    letter(&mails, "gone@acme.example", &format!("[{}] Received", still["key"].as_str().unwrap())).await;
    // A report that returns our letter to it stops mail to the address.
    smtp_send(&smtp, &[("", &[&format!("support@{DOMAIN}")], dsn(&header(&received, "Message-ID"), "dsn1"))]);
    until("the bounce recorded", || async {
        (ignored_with(&server, &d.admin, "gone@acme.example stopped").await == 1).then_some(())
    })
    .await;
    let theirs = support::open_ticket(&server, &gone, "acme", "P3").await;
    let ours = support::open_ticket(&server, &d.alice, "acme", "P3").await;
    letter(&mails, alice, &format!("[{}] Received", ours["key"].as_str().unwrap())).await;
    assert!(letters(&mails, "gone@acme.example", &format!("[{}]", theirs["key"].as_str().unwrap())).is_empty());
    // Staff lift it when the person fixed their mailbox; letters go out again.
    let lift = "/api/v1/mail/suppressions/gone@acme.example";
    let (status, _) = server.call(Method::DELETE, lift, Some(&d.engineer), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = server.call(Method::DELETE, lift, Some(&d.alice), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a customer lifts nothing");
    let again = support::open_ticket(&server, &gone, "acme", "P3").await;
    let again = letter(&mails, "gone@acme.example", &format!("[{}] Received", again["key"].as_str().unwrap())).await;
    // Stopped again by a bounce of that letter, and lifted by the person's own proven mail.
    smtp_send(&smtp, &[("", &[&format!("support@{DOMAIN}")], dsn(&header(&again, "Message-ID"), "dsn2"))]);
    until("the second bounce recorded", || async {
        (ignored_with(&server, &d.admin, "gone@acme.example stopped").await == 2).then_some(())
    })
    .await;
    let back = message(
        "gone@acme.example",
        &format!("support+acme@{DOMAIN}"),
        "Back again",
        "back1@acme.example",
        "",
        "Fixed my mailbox.",
    );
    smtp_send(&smtp, &[("gone@acme.example", &[&format!("support+acme@{DOMAIN}")], back)]);
    let back = ticket_with(&server, &gone, "Back again").await;
    letter(&mails, "gone@acme.example", &format!("[{}] Received", back["key"].as_str().unwrap())).await;

    // swaks, the mail administrator's tool, speaks to the listener too.
    if let Ok(out) = Command::new("swaks")
        .args(["--server", &smtp, "--from", alice, "--to", &format!("support+acme@{DOMAIN}")])
        .args(["--header", "Subject: Sent with swaks", "--body", "Hello from swaks."])
        .output()
    {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
        ticket_with(&server, &d.alice, "Sent with swaks").await;
    } else {
        assert!(std::env::var_os("STRINGER_REQUIRE_PYTHON").is_none(), "swaks is installed by scripts/test-all");
    }

    // stringer mailgate, fed from a file, as a Postfix pipe transport runs it.
    let file = std::env::temp_dir().join(format!("stringer-mailgate-{}.eml", jiff::Timestamp::now().as_nanosecond()));
    std::fs::write(
        &file,
        message(
            alice,
            "someone@acme.example",
            "Piped in by the mail server",
            "g1@acme.example",
            // What the receiving mail server (trusted as mx.test) found.
            "Authentication-Results: mx.test; spf=pass smtp.mailfrom=acme.example; dmarc=pass header.from=acme.example\r\n",
            "Through mailgate.",
        ),
    )
    .unwrap();
    let gate = |token: &str| {
        Command::new(env!("CARGO_BIN_EXE_stringer"))
            .args(["mailgate", "--url", &server.base, "--recipient", &format!("support+acme@{DOMAIN}")])
            .env("STRINGER_MAILGATE_TOKEN", token)
            .stdin(std::fs::File::open(&file).unwrap())
            .output()
            .unwrap()
    };
    let refused = gate(&d.engineer);
    assert_eq!(refused.status.code(), Some(77), "only a staff admin's token hands in mail");
    let out = gate(&d.admin);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    ticket_with(&server, &d.alice, "Piped in by the mail server").await;
}

/// Mail answered `250` is stored first: killed right after the last `250`, the restarted
/// server makes every message a ticket.
#[tokio::test]
async fn accepted_mail_survives_a_kill() {
    let db = Db::sqlite();
    let mut server =
        Server::start(&db, &["--smtp-listen", "127.0.0.1:0", "--mail-trust-loopback", "--mail-domain", DOMAIN]);
    let smtp = smtp_address(&server);
    let d = desk(&server).await;
    let put = json!({"unknown_senders": "accept", "subject_severity": true, "accept_domains": ["acme.example"]});
    server.ok(Method::PUT, "/api/v1/orgs/acme/mail", &d.admin, Some(put)).await;
    let count = 120;
    let messages: Vec<(String, String)> = (0..count)
        .map(|i| {
            let from = format!("user{}@acme.example", i % 30);
            let raw = message(
                &from,
                &format!("support+acme@{DOMAIN}"),
                &format!("Survivor {i}"),
                &format!("k{i}@acme.example"),
                "",
                "x",
            );
            (from, raw)
        })
        .collect();
    let to = [format!("support+acme@{DOMAIN}")];
    let to: [&str; 1] = [to[0].as_str()];
    let batch: Vec<(&str, &[&str], String)> =
        messages.iter().map(|(f, raw)| (f.as_str(), &to[..], raw.clone())).collect();
    let answers = smtp_send(&smtp, &batch);
    server.kill();
    assert!(answers.iter().all(|a| a["ok"] == true), "{answers:?}");
    let server =
        Server::start(&db, &["--smtp-listen", "127.0.0.1:0", "--mail-trust-loopback", "--mail-domain", DOMAIN]);
    until("every accepted message a ticket", || async {
        let n = tickets(&server, &d.admin)
            .await
            .iter()
            .filter(|t| t["subject"].as_str().unwrap().starts_with("Survivor "))
            .count();
        (n == count).then_some(())
    })
    .await;
}

/// With a certificate configured, the listener offers STARTTLS and takes mail over TLS.
#[tokio::test]
async fn starttls_when_a_certificate_is_configured() {
    let db = Db::sqlite();
    let dir = std::env::temp_dir().join(format!("stringer-tls-{}", jiff::Timestamp::now().as_nanosecond()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=support.example"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl makes a test certificate");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let (cert, key) = (cert.display().to_string(), key.display().to_string());
    let server = Server::start(
        &db,
        &[
            "--smtp-listen",
            "127.0.0.1:0",
            "--mail-trust-loopback",
            "--mail-domain",
            DOMAIN,
            "--smtp-tls-cert",
            &cert,
            "--smtp-tls-key",
            &key,
        ],
    );
    let smtp = smtp_address(&server);
    let d = desk(&server).await;
    let (host, port) = smtp.rsplit_once(':').unwrap();
    let raw = message(
        "alice@acme.example",
        &format!("support+acme@{DOMAIN}"),
        "Over TLS",
        "tls1@acme.example",
        "",
        "Encrypted.",
    );
    let input = json!([{"from": "alice@acme.example", "to": [format!("support+acme@{DOMAIN}")], "data": raw}]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mail/smtp_send.py");
    let mut child = Command::new(python())
        .args([script, host, port, "--starttls"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answers: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answers[0]["starttls"], 220, "{answers:?}");
    assert_eq!(answers[1]["ok"], true, "{answers:?}");
    ticket_with(&server, &d.alice, "Over TLS").await;
}
