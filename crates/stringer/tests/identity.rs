//! Identity rules (issue "One way in"): an address and a phone number are one person's. Each
//! test drives the real server as the outside probe did and asserts the closed door.

use crate::support;

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
    // No link went to them, only a notice (sent by the engine's courier after the answer);
    // they sign in and are who they were.
    for (victim, org) in [(victims[0], Value::Null), (victims[1], json!("bolt"))] {
        let notices = support::until(&format!("the notice to {victim}"), || async {
            Some(mails_to(&mails, victim)).filter(|m| !m.is_empty())
        })
        .await;
        assert!(notices.iter().all(|m| link_in(m).is_none()), "{victim} was sent a link");
        let (status, token) = login(&server, victim, &format!("{victim}-password"), None).await;
        assert_eq!(status, StatusCode::CREATED, "{victim}: {token}");
        let me = server.ok(Method::GET, "/api/v1/me", token["token"].as_str().unwrap(), None).await;
        assert_eq!(me["org"], org, "{victim}: {me}");
    }

    // The fresh address got the link; following it, the invitee chooses a password and the
    // account is made in acme, once.
    let link =
        support::until("an invitation link", || async { mails_to(&mails, fresh).iter().find_map(|m| link_in(m)) })
            .await;
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

const ACCOUNT: &str = "AC00000000000000000000000000000001";
const TOKEN: &str = "phone-line-auth-token";
const LINE: &str = "+15550109999";

/// SMS the provider stand-in was asked to send: (to, body).
type Texts = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

async fn messages(
    axum::extract::State(texts): axum::extract::State<Texts>,
    axum::extract::Form(form): axum::extract::Form<std::collections::HashMap<String, String>>,
) -> axum::Json<Value> {
    texts.lock().unwrap().push((form["To"].clone(), form["Body"].clone()));
    axum::Json(json!({"sid": "SM1", "status": "queued"}))
}

/// A stand-in for the telephony provider's REST API recording every SMS.
async fn provider() -> (String, Texts) {
    let texts: Texts = Default::default();
    let path = format!("/2010-04-01/Accounts/{ACCOUNT}/Messages.json");
    let app = axum::Router::new().route(&path, axum::routing::post(messages)).with_state(texts.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), texts)
}

/// The six-digit code in the last SMS to `to`.
fn code_sent_to(texts: &Texts, to: &str) -> String {
    let texts = texts.lock().unwrap();
    let (_, body) = texts.iter().rev().find(|(n, _)| n == to).unwrap_or_else(|| panic!("an SMS to {to}: {texts:?}"));
    body.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).expect("a code").to_string()
}

/// A new call to the P1 line from `from`, signed as the provider signs it; its TwiML.
async fn incoming_call(server: &Server, sid: &str, from: &str) -> String {
    let url = format!("{}/twilio/voice", server.base);
    let form = [("AccountSid", ACCOUNT), ("CallSid", sid), ("From", from), ("To", LINE)];
    let params: Vec<(String, String)> = form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let signature = stringer_integrations::sms_voice::signature::sign(TOKEN, &url, &params);
    let response =
        reqwest::Client::new().post(&url).header("x-twilio-signature", signature).form(&params).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// F38: a phone number is one person's. Another org's member cannot take a number someone
/// holds (and is not told whose it is), a number nobody holds is theirs only once the code
/// sent to it comes back (five wrong codes end it), and a call from the holder's number is
/// still the holder's.
async fn f38_phone_numbers(db: Db) {
    let (api, texts) = provider().await;
    let server = Server::start(
        &db,
        &["--sms-account", ACCOUNT, "--sms-token", TOKEN, "--sms-from", LINE, "--sms-api-url", &api],
    );
    let d = desk(&server).await;
    let id_of = |me: Value| me["id"].as_str().unwrap().to_string();
    let alice = id_of(server.ok(Method::GET, "/api/v1/me", &d.alice, None).await);
    let bob = id_of(server.ok(Method::GET, "/api/v1/me", &d.bob, None).await);
    let phone = |id: &str| format!("/api/v1/users/{id}/phone");
    let number = |n: &str| json!({"number": n});
    // A staff admin's hand puts alice's number in force at once.
    let set = server.ok(Method::PUT, &phone(&alice), &d.admin, Some(number("+15550200001"))).await;
    assert_eq!(set, number("+15550200001"));

    // bob (bolt) claims alice's number: refused, without naming her.
    let (status, body) = server.call(Method::PUT, &phone(&bob), Some(&d.bob), Some(number("+1 555 020 0001"))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(!body.to_string().contains("alice") && !body.to_string().contains(&alice), "{body}");
    assert!(server.ok(Method::GET, &phone(&bob), &d.bob, None).await["number"].is_null());
    assert!(texts.lock().unwrap().is_empty(), "no code for a number someone holds");
    // A call from it is still alice's: a P1 for acme with her as the requester.
    let twiml = incoming_call(&server, "CA1", "+15550200001").await;
    assert!(!twiml.contains("PIN"), "the caller is known: {twiml}");
    let tickets = server.ok(Method::GET, "/api/v1/tickets?limit=200", &d.admin, None).await;
    let calls: Vec<&Value> = tickets["items"].as_array().unwrap().iter().filter(|t| t["channel"] == "phone").collect();
    assert_eq!(calls.len(), 1, "{tickets}");
    assert_eq!((calls[0]["org"].as_str(), calls[0]["requester"].as_str()), (Some("acme"), Some(alice.as_str())));

    // A number nobody holds waits for its code; wrong codes count, five end it.
    let (status, waiting) = server.call(Method::PUT, &phone(&bob), Some(&d.bob), Some(number("+15550300001"))).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{waiting}");
    assert_eq!((waiting["waiting"].as_str(), &waiting["number"]), (Some("+15550300001"), &Value::Null));
    assert!(server.ok(Method::GET, &phone(&bob), &d.bob, None).await["number"].is_null(), "not in force yet");
    let code = code_sent_to(&texts, "+15550300001");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let confirm = format!("{}/confirm", phone(&bob));
    for _ in 0..5 {
        let (status, _) = server.call(Method::POST, &confirm, Some(&d.bob), Some(json!({"code": wrong}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (status, _) = server.call(Method::POST, &confirm, Some(&d.bob), Some(json!({"code": code}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "the right code after five wrong ones");
    assert!(server.ok(Method::GET, &phone(&bob), &d.bob, None).await["number"].is_null());

    // Asked again: another code, and the right one puts the number in force.
    let (status, _) = server.call(Method::PUT, &phone(&bob), Some(&d.bob), Some(number("+15550300001"))).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let code = code_sent_to(&texts, "+15550300001");
    // alice (another org) cannot confirm bob's number, even with its code.
    let (status, _) = server.call(Method::POST, &confirm, Some(&d.alice), Some(json!({"code": code}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let confirmed = server.ok(Method::POST, &confirm, &d.bob, Some(json!({"code": code}))).await;
    assert_eq!(confirmed, number("+15550300001"));
    assert_eq!(server.ok(Method::GET, &phone(&bob), &d.bob, None).await, number("+15550300001"));
    // Now it is bob's: nobody else, not even an admin, gives it to alice.
    let (status, _) = server.call(Method::PUT, &phone(&alice), Some(&d.admin), Some(number("+15550300001"))).await;
    assert_eq!(status, StatusCode::CONFLICT);
}
both_backends!(f38_a_phone_number_is_one_persons, f38_phone_numbers);
