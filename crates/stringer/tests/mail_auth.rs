//! Mail authentication, black box: the real server's SMTP listener, a DNS server of the
//! test's own on the loopback (it serves the SPF, DKIM and DMARC records the test made up,
//! and says "no such name" to anything else), and messages DKIM-signed and ARC-sealed in the
//! test with keys it generated. Each case's outcome — accepted as the person, held as
//! unproven, ignored as forged — is read back from the mail triage API.

use crate::support;

use base64::Engine;
use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::{RData, Record, RecordType};
use mail_auth::arc::ArcSealer;
use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;

use mail_auth::{ArcOutput, AuthenticatedMessage, AuthenticationResults, DmarcOutput, DmarcResult};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use support::{Db, Server, desk, until};

const DOMAIN: &str = "support.example";

/// A DNS server on 127.0.0.1 that answers TXT questions from `records` and "no such name"
/// to everything else. Answers its address.
async fn dns(records: HashMap<String, String>) -> String {
    let socket = Arc::new(tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let address = socket.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((n, peer)) = socket.recv_from(&mut buf).await else { continue };
            let Ok(query) = Message::from_vec(&buf[..n]) else { continue };
            let mut answer = Message::new(query.metadata.id, MessageType::Response, OpCode::Query);
            answer.metadata.recursion_desired = query.metadata.recursion_desired;
            answer.metadata.recursion_available = true;
            answer.metadata.authoritative = true;
            let mut found = false;
            for q in &query.queries {
                answer.add_query(q.clone());
                let name = q.name().to_ascii().trim_end_matches('.').to_ascii_lowercase();
                if let Some(text) = records.get(&name) {
                    found = true;
                    if q.query_type() == RecordType::TXT {
                        // A TXT record is strings of at most 255 bytes each.
                        let parts = text.as_bytes().chunks(255).map(|c| String::from_utf8_lossy(c).into_owned());
                        let rdata = RData::TXT(TXT::new(parts.collect()));
                        answer.add_answer(Record::from_rdata(q.name().clone(), 60, rdata));
                    }
                }
            }
            if !found {
                answer.metadata.response_code = ResponseCode::NXDomain;
            }
            let _ = socket.send_to(&answer.to_vec().unwrap(), peer).await;
        }
    });
    address
}

/// The message signed by `domain` with `key` (selector s1).
fn signed_by(key: &Ed25519Key, domain: &str, raw: &str) -> String {
    let signature = DkimSigner::from_key(clone_key(key))
        .domain(domain)
        .selector("s1")
        .headers(["From", "To", "Subject", "Message-ID"])
        .sign(raw.as_bytes())
        .unwrap();
    format!("{}{raw}", signature.to_header())
}

fn clone_key(key: &Ed25519Key) -> Ed25519Key {
    // Signing keys are not Clone; one made from the same seed signs the same.
    Ed25519Key::from_pkcs8_der(&pkcs8(key)).unwrap()
}

thread_local! {
    static SEEDS: std::cell::RefCell<HashMap<Vec<u8>, Vec<u8>>> = Default::default();
}

fn pkcs8(key: &Ed25519Key) -> Vec<u8> {
    SEEDS.with(|s| s.borrow().get(&key.public_key()).cloned().expect("a key made by key_pair"))
}

/// A key remembered so it can be used more than once.
fn key_pair() -> (Ed25519Key, String) {
    let der = Ed25519Key::generate_pkcs8().unwrap();
    let key = Ed25519Key::from_pkcs8_der(&der).unwrap();
    SEEDS.with(|s| s.borrow_mut().insert(key.public_key(), der));
    let public = base64::engine::general_purpose::STANDARD.encode(key.public_key());
    (key, format!("v=DKIM1; k=ed25519; p={public}"))
}

/// The message as a forwarder (`sealer`) passes it on: ARC-sealed (instance 1), recording
/// that DMARC passed for `from_domain` when it received it, then changed as lists change
/// messages (a tag in the subject), which breaks the original DKIM signature.
fn forwarded(sealer_key: &Ed25519Key, sealer: &str, from_domain: &str, raw: &str) -> String {
    let message = AuthenticatedMessage::parse(raw.as_bytes()).unwrap();
    let dmarc = DmarcOutput::new(from_domain.to_string())
        .with_dkim_result(DmarcResult::Pass)
        .with_spf_result(DmarcResult::Pass);
    let results = AuthenticationResults::new(sealer).with_dmarc_result(&dmarc);
    let set = ArcSealer::from_key(clone_key(sealer_key))
        .domain(sealer)
        .selector("s1")
        .headers(["From", "To", "Message-ID"])
        .seal(&message, &results, &ArcOutput::default())
        .unwrap();
    format!("{}{}", set.to_header(), raw.replacen("Subject: ", "Subject: [list] ", 1))
}

fn message(from: &str, to: &str, subject: &str, id: &str) -> String {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nDate: Sun, 06 Dec 2026 09:00:00 +0000\r\n\r\nHello.\r\n"
    )
}

/// Sends one message over SMTP; panics unless it is accepted.
async fn send(smtp: &str, envelope_from: &str, to: &str, raw: &str) {
    support::smtp_deliver(smtp, &[(envelope_from, to, raw.to_string())]).await;
}

/// The stored message with this subject, once processed: (state, reason).
async fn outcome(server: &Server, admin: &str, subject: &str) -> (String, String) {
    until(&format!("the message {subject:?} processed"), || async {
        for state in ["done", "held", "ignored"] {
            let (_, body) = server.call(Method::GET, &format!("/api/v1/mail?state={state}"), Some(admin), None).await;
            if let Some(m) = body["items"].as_array().unwrap().iter().find(|m| m["subject"].as_str() == Some(subject)) {
                return Some((state.to_string(), m["reason"].as_str().unwrap_or_default().to_string()));
            }
        }
        None
    })
    .await
}

async fn ticket(server: &Server, token: &str, key: &str) -> Value {
    server.ok(Method::GET, &format!("/api/v1/tickets/{key}"), token, None).await
}

async fn comments(server: &Server, token: &str, key: &str) -> Vec<Value> {
    let body = server.ok(Method::GET, &format!("/api/v1/tickets/{key}/comments"), token, None).await;
    body["items"].as_array().unwrap().clone()
}

fn response_state(ticket: &Value) -> String {
    let sla = ticket["sla"].as_array().unwrap();
    let response = sla.iter().find(|s| s["target"] == "response").expect("a response target");
    response["state"].as_str().unwrap().to_string()
}

/// The keys of the domains the test's DNS speaks for.
struct Keys {
    acme: Ed25519Key,
    mailer: Ed25519Key,
    lists: Ed25519Key,
    other: Ed25519Key,
}

/// A server whose mail authentication asks the test's DNS, with its SMTP address, the demo
/// desk's tokens and the keys.
struct World {
    server: Server,
    smtp: String,
    d: support::Desk,
    keys: Keys,
    support_acme: String,
}

/// acme.example signs its mail and asks for rejection of what fails (its SPF does not list
/// the loopback, so DMARC rests on DKIM alone); mailer.example signs for others; some domains
/// have no DMARC record, so SPF decides; lists.example (trusted) and other.example forward
/// with ARC seals. acme accepts strangers' mail from the domains the cases use.
async fn world() -> World {
    let (acme, acme_record) = key_pair();
    let (mailer, mailer_record) = key_pair();
    let (lists, lists_record) = key_pair();
    let (other, other_record) = key_pair();
    let records: HashMap<String, String> = [
        ("s1._domainkey.acme.example", acme_record.as_str()),
        ("_dmarc.acme.example", "v=DMARC1; p=reject"),
        ("acme.example", "v=spf1 ip4:192.0.2.10 -all"),
        ("s1._domainkey.mailer.example", mailer_record.as_str()),
        ("spf-pass.example", "v=spf1 ip4:127.0.0.1 -all"),
        ("outsider.example", "v=spf1 ip4:127.0.0.1 -all"),
        ("spf-fail.example", "v=spf1 ip4:192.0.2.10 -all"),
        ("spf-soft.example", "v=spf1 ip4:192.0.2.10 ~all"),
        ("s1._domainkey.lists.example", lists_record.as_str()),
        ("s1._domainkey.other.example", other_record.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let dns = dns(records).await;
    let db = Db::sqlite();
    let server = Server::start(
        &db,
        &[
            "--smtp-listen",
            "127.0.0.1:0",
            "--mail-domain",
            DOMAIN,
            "--mail-dns",
            &dns,
            "--mail-arc-sealer",
            "lists.example",
        ],
    );
    let smtp = support::smtp_address(&server);
    let d = desk(&server).await;
    let domains = ["acme.example", "spf-pass.example", "spf-fail.example", "spf-soft.example", "no-records.example"];
    let accept = json!({"unknown_senders": "accept", "subject_severity": true, "accept_domains": domains});
    let (status, body) = server.call(Method::PUT, "/api/v1/orgs/acme/mail", Some(&d.admin), Some(accept)).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    World { server, smtp, d, keys: Keys { acme, mailer, lists, other }, support_acme: format!("support+acme@{DOMAIN}") }
}

/// Opens a ticket by mail signed by acme.example; answers its key.
async fn signed_ticket(w: &World, subject: &str) -> String {
    let raw = signed_by(
        &w.keys.acme,
        "acme.example",
        &message("alice@acme.example", &w.support_acme, subject, &format!("{}@acme.example", subject.len())),
    );
    send(&w.smtp, "alice@acme.example", &w.support_acme, &raw).await;
    let (state, reason) = outcome(&w.server, &w.d.admin, subject).await;
    assert_eq!(state, "done", "{reason}");
    let tickets = w.server.ok(Method::GET, "/api/v1/tickets?org=acme", &w.d.alice, None).await;
    let opened = tickets["items"].as_array().unwrap().iter().find(|t| t["subject"] == subject).unwrap().clone();
    opened["key"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn f28_only_the_orgs_own_domains_join_by_mail() {
    let w = world().await;
    // Accepting strangers' mail needs the org's own domains (every member reads all of the
    // org's tickets); a proven outsider's mail is held and makes no account.
    let accept = json!({"unknown_senders": "accept", "subject_severity": true});
    let (status, body) = w.server.call(Method::PUT, "/api/v1/orgs/acme/mail", Some(&w.d.admin), Some(accept)).await;
    assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let raw = message("oscar@outsider.example", &w.support_acme, "From an outsider", "o1@outsider.example");
    send(&w.smtp, "oscar@outsider.example", &w.support_acme, &raw).await;
    let (state, reason) = outcome(&w.server, &w.d.admin, "From an outsider").await;
    assert_eq!(state, "held", "{reason}");
    assert!(reason.contains("not of a domain it takes members from"), "{reason}");
    let users = w.server.ok(Method::GET, "/api/v1/users", &w.d.admin, None).await;
    let emails: Vec<&str> = users["items"].as_array().unwrap().iter().filter_map(|u| u["email"].as_str()).collect();
    assert!(!emails.contains(&"oscar@outsider.example"), "an outsider's mail makes no account: {emails:?}");
}

#[tokio::test]
async fn f31_forged_mail_spends_nobody_elses_budget() {
    let w = world().await;
    // Forged mail in alice's name is ignored and spends none of her budget, so her own mail
    // afterwards still opens a ticket (before, 61 of them held her mail).
    for i in 0..62 {
        let raw = message("alice@acme.example", &w.support_acme, &format!("Forged {i}"), &format!("f{i}@evil.example"));
        send(&w.smtp, "attacker@evil.example", &w.support_acme, &raw).await;
    }
    for subject in ["Forged 0", "Forged 61"] {
        let (state, reason) = outcome(&w.server, &w.d.admin, subject).await;
        assert_eq!(state, "ignored", "{reason}");
        assert!(reason.contains("policy is reject"), "{reason}");
    }
    signed_ticket(&w, "Signed by acme").await;
}

#[tokio::test]
async fn dkim_and_dmarc_alignment() {
    let w = world().await;
    // Signed by acme.example: DMARC passes and it opens a ticket as alice (signed_ticket
    // asserts it); what was proven is kept with the message and shown in triage.
    signed_ticket(&w, "Signed by acme").await;
    let done = w.server.ok(Method::GET, "/api/v1/mail?state=done", &w.d.admin, None).await;
    let signed = done["items"].as_array().unwrap().iter().find(|m| m["subject"] == "Signed by acme").unwrap().clone();
    let shown = signed["authentication"].as_str().unwrap();
    assert!(shown.contains("dkim=pass (d=acme.example)") && shown.contains("dmarc=pass"), "{shown}");
    // Signed, but by someone else's domain: DMARC is not aligned and acme says reject.
    let raw = signed_by(
        &w.keys.mailer,
        "mailer.example",
        &message("alice@acme.example", &w.support_acme, "Signed by a mailer", "m1@mailer.example"),
    );
    send(&w.smtp, "bounce@mailer.example", &w.support_acme, &raw).await;
    let (state, reason) = outcome(&w.server, &w.d.admin, "Signed by a mailer").await;
    assert_eq!((state.as_str(), reason.contains("DMARC failed for acme.example")), ("ignored", true), "{reason}");
}

#[tokio::test]
async fn spf_pass_fail_and_softfail() {
    let w = world().await;
    // Domains without DMARC: an SPF pass of the domain proves the sender; a fail or a
    // softfail proves nothing, and the mail is held (no account is made for it).
    let cases = [
        ("pia@spf-pass.example", "SPF pass", "done"),
        ("paul@spf-fail.example", "SPF fail", "held"),
        ("sue@spf-soft.example", "SPF softfail", "held"),
        ("nobody@no-records.example", "No records", "held"),
    ];
    for (from, subject, _) in cases {
        send(
            &w.smtp,
            from,
            &w.support_acme,
            &message(from, &w.support_acme, subject, &format!("{}@x.example", subject.len())),
        )
        .await;
    }
    for (from, subject, expected) in cases {
        let (state, reason) = outcome(&w.server, &w.d.admin, subject).await;
        assert_eq!(state, expected, "{from}: {reason}");
        if expected == "held" {
            assert!(reason.contains("not proven"), "{from}: {reason}");
        }
    }
    let users = w.server.ok(Method::GET, "/api/v1/users", &w.d.admin, None).await;
    let emails: Vec<&str> = users["items"].as_array().unwrap().iter().filter_map(|u| u["email"].as_str()).collect();
    assert!(emails.contains(&"pia@spf-pass.example"), "{emails:?}");
    assert!(!emails.contains(&"paul@spf-fail.example"), "unproven mail makes no account: {emails:?}");
}

#[tokio::test]
async fn f19_nobody_acts_as_staff_by_mail() {
    let w = world().await;
    let key = signed_ticket(&w, "Signed by acme").await;
    // A reply "from" a staff member, sent by anyone, is held: nothing is recorded as them
    // and the response target is not met.
    let before = comments(&w.server, &w.d.alice, &key).await.len();
    let subject = format!("Re: [{key}] Signed by acme");
    let raw = message("Eng <eng@stringer.example>", &format!("support@{DOMAIN}"), &subject, "r1@evil.example");
    send(&w.smtp, "attacker@evil.example", &format!("support@{DOMAIN}"), &raw).await;
    let (state, reason) = outcome(&w.server, &w.d.admin, &subject).await;
    assert_eq!(state, "held", "{reason}");
    assert!(reason.contains(&key) && reason.contains("never recorded as eng@stringer.example"), "{reason}");
    assert_eq!(comments(&w.server, &w.d.alice, &key).await.len(), before, "no comment as the staff member");
    assert_ne!(response_state(&ticket(&w.server, &w.d.admin, &key).await), "met", "the response target is not met");
}

#[tokio::test]
async fn arc_forwarded_mail_is_believed_only_from_a_trusted_sealer() {
    let w = world().await;
    // Forwarded by a list that ARC-seals (and changes the subject, breaking acme's DKIM
    // signature): believed for the trusted sealer, whose chain says DMARC passed at the first
    // hop; forged for another, since acme's DMARC says reject.
    for (sealer_key, sealer, subject) in
        [(&w.keys.lists, "lists.example", "Via the list"), (&w.keys.other, "other.example", "Via another")]
    {
        let original = signed_by(
            &w.keys.acme,
            "acme.example",
            &message("alice@acme.example", &w.support_acme, subject, &format!("{sealer}@acme.example")),
        );
        let raw = forwarded(sealer_key, sealer, "acme.example", &original);
        send(&w.smtp, &format!("bounces@{sealer}"), &w.support_acme, &raw).await;
    }
    let (state, reason) = outcome(&w.server, &w.d.admin, "[list] Via the list").await;
    assert_eq!(state, "done", "{reason}");
    let (state, reason) = outcome(&w.server, &w.d.admin, "[list] Via another").await;
    assert_eq!(state, "ignored", "{reason}");
    assert!(reason.contains("DMARC failed for acme.example"), "{reason}");
}
