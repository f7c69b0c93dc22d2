//! F20: mail that refers to a federal org — an auto-reply to one of its tickets, a
//! stranger's reply to one, a bounce of one of its letters, a federal customer over the
//! hourly budget — is filed under that org whatever becomes of it, so only cleared staff
//! list it, read it or route it, as with the org's tickets.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{Server, desk, until};

const DOMAIN: &str = "support.example";

fn message(from: &str, to: &str, subject: &str, extra: &str) -> String {
    format!("From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\n{extra}\r\nAbout the federal ticket.\r\n")
}

async fn federal_mail_is_filed_under_the_federal_org(db: support::Db) {
    let server =
        Server::start(&db, &["--smtp-listen", "127.0.0.1:0", "--mail-trust-loopback", "--mail-domain", DOMAIN]);
    let smtp = support::smtp_address(&server);
    let d = desk(&server).await;
    let ticket = support::open_ticket(&server, &d.fiona, "fedco", "P3").await;
    let (key, id) = (ticket["key"].as_str().unwrap().to_string(), ticket["id"].as_str().unwrap().to_string());
    let support_address = format!("support@{DOMAIN}");
    let auto = message(
        "fiona@fedco.example",
        &support_address,
        &format!("Automatic reply: [{key}] out of office"),
        "Auto-Submitted: auto-replied\r\n",
    );
    let stranger = message("eve@elsewhere.example", &support_address, &format!("Re: [{key}] the details"), "");
    let bounce = format!(
        "From: MAILER-DAEMON@mx.fedco.example\r\nTo: {support_address}\r\nSubject: Undelivered: federal letter\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.fedco.example\r\n\r\nFinal-Recipient: rfc822; fiona@fedco.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <stringer.{id}.dlv_unknown@{DOMAIN}>\r\n\r\n--b--\r\n"
    );
    let mut messages = vec![
        ("fiona@fedco.example", support_address.as_str(), auto),
        ("eve@elsewhere.example", support_address.as_str(), stranger),
        ("", support_address.as_str(), bounce),
    ];
    // A federal customer over the hourly budget, writing to the untagged address.
    for i in 0..61 {
        messages.push((
            "fiona@fedco.example",
            support_address.as_str(),
            message("fiona@fedco.example", &support_address, &format!("Burst {i}"), ""),
        ));
    }
    support::smtp_deliver(&smtp, &messages).await;

    let subjects = [
        ("ignored", format!("Automatic reply: [{key}] out of office")),
        ("held", format!("Re: [{key}] the details")),
        ("ignored", "Undelivered: federal letter".to_string()),
        ("held", "Burst 60".to_string()),
    ];
    for (state, subject) in &subjects {
        let found = until(&format!("{subject:?} {state} for cleared staff"), || async {
            let (_, body) =
                server.call(Method::GET, &format!("/api/v1/mail?state={state}"), Some(&d.cleared), None).await;
            body["items"].as_array().unwrap().iter().find(|m| m["subject"].as_str() == Some(subject)).cloned()
        })
        .await;
        assert_eq!(found["org"], "fedco", "{found}");
        let (_, seen) = server.call(Method::GET, &format!("/api/v1/mail?state={state}"), Some(&d.engineer), None).await;
        assert!(
            !seen["items"].as_array().unwrap().iter().any(|m| m["subject"].as_str() == Some(subject)),
            "an uncleared engineer lists {subject:?}: {seen}"
        );
        let original = format!("/api/v1/mail/{}/original", found["id"]);
        let (status, _) = server.call(Method::GET, &original, Some(&d.engineer), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{subject:?}");
        if *state == "held" {
            let route = format!("/api/v1/mail/{}/route", found["id"]);
            let (status, _) = server.call(Method::POST, &route, Some(&d.engineer), Some(json!({"org": "acme"}))).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "an uncleared engineer routes {subject:?} nowhere");
        }
    }
    let (_, comments) =
        server.call(Method::GET, &format!("/api/v1/tickets/{key}/comments"), Some(&d.fiona), None).await;
    assert!(!comments.to_string().contains("About the federal ticket"), "nothing was added to the ticket: {comments}");
}

both_backends!(federal_mail, federal_mail_is_filed_under_the_federal_org);
