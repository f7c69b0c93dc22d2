//! Identity rules (issue "One way in"): an address and a phone number are one person's. Each
//! test drives the real server as the outside probe did and asserts the closed door.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Db, Mails, Server, desk, mail_text};

async fn login(server: &Server, email: &str, password: &str, org: Option<&str>) -> (StatusCode, Value) {
    let body = json!({"email": email, "password": password, "org": org});
    server.call(Method::POST, "/api/v1/login", None, Some(body)).await
}

/// The texts of the mails sent to `to` so far.
fn mails_to(mails: &Mails, to: &str) -> Vec<String> {
    let to = format!("<{to}>");
    mails.lock().unwrap().iter().filter(|(_, rcpt, _)| rcpt.contains(&to)).map(|(_, _, m)| mail_text(m)).collect()
}

/// The `/password/…` link in a mail's text.
fn link_in(mail: &str) -> Option<String> {
    let start = mail.find("/password/")?;
    let line_start = mail[..start].rfind("http")?;
    mail[line_start..].split_whitespace().next().map(String::from)
}

/// The keys of a JSON object.
fn keys(v: &Value) -> Vec<String> {
    v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
}

/// F25: an org admin gives no account to an address that staff or another org's user holds,
/// and never chooses someone else's password; the answer is the same as for a fresh address
/// (F3 stays closed), the fresh address gets an invitation it completes itself, and the
/// holders sign in and are known exactly as before.
async fn f25_org_admins_invite(db: Db) {
    let (smtp_port, mails) = support::smtp_receiver().await;
    let smtp = format!("smtp://127.0.0.1:{smtp_port}");
    let server = Server::start(&db, &["--smtp-url", &smtp, "--mail-from", "support@vendor.example"]);
    let d = desk(&server).await;
    let add = |email: &str, password: Option<&str>| json!({"email": email, "name": "New person", "role": "member", "org": "acme", "password": password});
    let fresh = "carol@acme.example";
    let victims = ["eng@stringer.example", "bob@bolt.example"];
    let chosen = "chosen-by-the-org-admin";

    // The probe's attack: an account in acme with the victim's address and the admin's
    // password. The answer is the one a fresh address gets, and nobody signs in with it.
    let (fresh_status, fresh_body) =
        server.call(Method::POST, "/api/v1/users", Some(&d.alice), Some(add(fresh, Some(chosen)))).await;
    for victim in victims {
        let (status, body) =
            server.call(Method::POST, "/api/v1/users", Some(&d.alice), Some(add(victim, Some(chosen)))).await;
        assert_eq!(status, fresh_status, "{victim}: {body}");
        assert_eq!(keys(&body), keys(&fresh_body), "{victim}: {body}");
        for org in [Some("acme"), None] {
            assert_eq!(login(&server, victim, chosen, org).await.0, StatusCode::UNAUTHORIZED, "{victim} in {org:?}");
        }
    }

    // An invitation (no password): the same answer whatever the address.
    let (fresh_status, fresh_body) =
        server.call(Method::POST, "/api/v1/users", Some(&d.alice), Some(add(fresh, None))).await;
    assert!(fresh_status.is_success(), "{fresh_body}");
    for victim in victims {
        let (status, body) = server.call(Method::POST, "/api/v1/users", Some(&d.alice), Some(add(victim, None))).await;
        assert_eq!(status, fresh_status, "{victim}: {body}");
        assert_eq!(keys(&body), keys(&fresh_body), "{victim}: {body}");
        for field in ["name", "role", "org"] {
            assert_eq!(body[field], fresh_body[field], "{victim}: {field}");
        }
        assert_eq!(body["email"], victim);
    }

    // Nothing was made for the victims in acme: each address still has its one account.
    let users = server.ok(Method::GET, "/api/v1/users", &d.admin, None).await;
    for victim in victims {
        let held: Vec<&Value> = users["items"].as_array().unwrap().iter().filter(|u| u["email"] == victim).collect();
        assert_eq!(held.len(), 1, "{victim}: {held:?}");
        assert_ne!(held[0]["org"], "acme", "{victim}");
    }
    // No link went to them (a notice may); they sign in and are who they were.
    for (victim, org) in [(victims[0], Value::Null), (victims[1], json!("bolt"))] {
        assert!(mails_to(&mails, victim).iter().all(|m| link_in(m).is_none()), "{victim} was sent a link");
        let (status, token) = login(&server, victim, &format!("{victim}-password"), None).await;
        assert_eq!(status, StatusCode::CREATED, "{victim}: {token}");
        let me = server.ok(Method::GET, "/api/v1/me", token["token"].as_str().unwrap(), None).await;
        assert_eq!(me["org"], org, "{victim}: {me}");
    }

    // The fresh address got the link; following it, the invitee chooses a password and the
    // account is made in acme, once.
    let sent = mails_to(&mails, fresh);
    let link = sent.iter().find_map(|m| link_in(m)).unwrap_or_else(|| panic!("an invitation link: {sent:?}"));
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    assert_eq!(client.get(&link).send().await.unwrap().status(), StatusCode::OK);
    let own = [("password", "carol's own password"), ("again", "carol's own password")];
    let resp = client.post(&link).form(&own).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "set, and signed in");
    assert_eq!(client.get(&link).send().await.unwrap().status(), StatusCode::GONE, "used once");
    let (status, token) = login(&server, fresh, "carol's own password", None).await;
    assert_eq!(status, StatusCode::CREATED, "{token}");
    let me = server.ok(Method::GET, "/api/v1/me", token["token"].as_str().unwrap(), None).await;
    assert_eq!((me["org"].as_str(), me["role"].as_str()), (Some("acme"), Some("member")), "{me}");

    // Asking again is refused alike: an account, or an invitation still open.
    let (again, _) = server.call(Method::POST, "/api/v1/users", Some(&d.alice), Some(add(fresh, None))).await;
    assert_eq!(again, StatusCode::CONFLICT);
    for victim in victims {
        let (status, _) = server.call(Method::POST, "/api/v1/users", Some(&d.alice), Some(add(victim, None))).await;
        assert_eq!(status, again, "{victim}");
    }
}
both_backends!(f25_org_admins_invite_only_addresses_nobody_else_holds, f25_org_admins_invite);
