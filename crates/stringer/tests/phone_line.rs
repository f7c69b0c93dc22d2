//! The P1 phone line, black-box on SQLite and PostgreSQL, with requests signed as the
//! telephony provider signs them: an Enterprise caller known by caller ID opens a P1 and is
//! put through to on-call; the answer acknowledges; nobody answering rings down the order
//! and records a message; the org's PIN identifies an unknown caller (and a stranger is
//! told where to go); a Pro caller is refused until the contract's customer page opens and
//! then put through for their open P1; forged requests and another call's ticket are
//! refused. (`tests/outside/test_phone.py` walks the same flow with Twilio's own library.)

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Db, Server, desk, until};

const ACCOUNT: &str = "AC00000000000000000000000000000001";
const TOKEN: &str = "phone-line-auth-token";
const LINE: &str = "+15550109999";

both_backends!(phone_line, phone_line_on);

async fn step(url: &str, form: &[(&str, &str)]) -> String {
    let (status, twiml) = support::phone_post(url, form, TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{twiml}");
    assert!(twiml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"), "{twiml}");
    twiml
}

fn call<'a>(sid: &'a str, from: &'a str, more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("AccountSid", ACCOUNT), ("CallSid", sid), ("From", from), ("To", LINE)];
    form.extend_from_slice(more);
    form
}

fn number_rung(twiml: &str) -> Option<String> {
    let start = twiml.find("<Number ")?;
    let open = start + twiml[start..].find('>')? + 1;
    Some(twiml[open..open + twiml[open..].find('<')?].to_string())
}

async fn tickets_from(server: &Server, token: &str, caller: &str) -> Vec<Value> {
    let body = server.ok(Method::GET, "/api/v1/tickets?limit=200", token, None).await;
    let subject = format!("Call to the P1 line from {caller}");
    body["items"].as_array().unwrap().iter().filter(|t| t["subject"] == subject.as_str()).cloned().collect()
}

async fn notes(server: &Server, token: &str, key: &str) -> Vec<String> {
    let body = server.ok(Method::GET, &format!("/api/v1/tickets/{key}/comments"), token, None).await;
    body["items"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap().to_string()).collect()
}

async fn phone_line_on(db: Db) {
    let contract = support::contract_with(&[("opens_after = \"30 minutes\"", "opens_after = \"3 seconds\"")]);
    let server = Server::start(
        &db,
        &[
            "--contract",
            contract.to_str().unwrap(),
            "--sms-account",
            ACCOUNT,
            "--sms-token",
            TOKEN,
            "--sms-from",
            LINE,
            "--sms-api-url",
            "http://127.0.0.1:9",
        ],
    );
    let d = desk(&server).await;
    let base = server.base.clone();
    let mut staff = std::collections::HashMap::new();
    for (name, role, number) in [("nico", "engineer", "+15550100001"), ("tina", "tam", "+15550100002")] {
        let body = json!({"email": format!("{name}@stringer.example"), "name": name, "role": role});
        let id =
            server.ok(Method::POST, "/api/v1/users", &d.admin, Some(body)).await["id"].as_str().unwrap().to_string();
        let method = json!({"kind": "voice", "address": number});
        server.ok(Method::POST, &format!("/api/v1/users/{id}/contact-methods"), &d.admin, Some(method)).await;
        staff.insert(name, id);
    }
    // bolt (Pro) has no named engineer: its on-call is the platform engineers (pat).
    let users = server.ok(Method::GET, "/api/v1/users", &d.admin, None).await;
    let pat = users["items"].as_array().unwrap().iter().find(|u| u["email"] == "pat@stringer.example").unwrap();
    let method = json!({"kind": "voice", "address": "+15550100009"});
    server
        .ok(
            Method::POST,
            &format!("/api/v1/users/{}/contact-methods", pat["id"].as_str().unwrap()),
            &d.admin,
            Some(method),
        )
        .await;
    let update = json!({"tam": staff["tina"], "named_engineers": [staff["nico"]]});
    server.ok(Method::PATCH, "/api/v1/orgs/acme", &d.admin, Some(update)).await;

    // An admin sets Alice's (acme, Enterprise) number, in force at once (anyone else's is
    // confirmed by a code sent to it: see identity.rs); Bob (bolt, Pro) may not set hers.
    let me = server.ok(Method::GET, "/api/v1/me", &d.alice, None).await;
    let alice_id = me["id"].as_str().unwrap().to_string();
    let set = json!({"number": "+1 (555) 020-0001"});
    let answer = server.ok(Method::PUT, &format!("/api/v1/users/{alice_id}/phone"), &d.admin, Some(set)).await;
    assert_eq!(answer, json!({"number": "+15550200001"}));
    let (status, _) = server
        .call(
            Method::PUT,
            &format!("/api/v1/users/{alice_id}/phone"),
            Some(&d.bob),
            Some(json!({"number": "+15550300001"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = server
        .call(Method::PUT, &format!("/api/v1/users/{alice_id}/phone"), Some(&d.alice), Some(json!({"number": "555"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let bob_id = server.ok(Method::GET, "/api/v1/me", &d.bob, None).await["id"].as_str().unwrap().to_string();
    server
        .ok(Method::PUT, &format!("/api/v1/users/{bob_id}/phone"), &d.admin, Some(json!({"number": "+15550300001"})))
        .await;

    // An Enterprise caller known by caller ID: a P1 opened and the on-call engineer rung.
    let incoming = format!("{base}/twilio/voice");
    let twiml = step(&incoming, &call("CA1", "+15550200001", &[])).await;
    assert_eq!(number_rung(&twiml).as_deref(), Some("+15550100001"), "{twiml}");
    let [t] = &tickets_from(&server, &d.admin, "+15550200001").await[..] else { panic!("one ticket") };
    assert_eq!((t["severity"].as_str(), t["channel"].as_str()), (Some("P1"), Some("phone")));
    assert_eq!(t["requester"].as_str(), Some(alice_id.as_str()));
    let key = t["key"].as_str().unwrap().to_string();

    // Nico answers: he acknowledges; the talk's length is noted when it ends.
    let answered = support::twiml_attribute(&twiml, "Number", "url").unwrap();
    let whisper = step(
        &answered,
        &[
            ("AccountSid", ACCOUNT),
            ("CallSid", "CA1-leg"),
            ("ParentCallSid", "CA1"),
            ("From", LINE),
            ("To", "+15550100001"),
        ],
    )
    .await;
    assert!(whisper.contains("Connecting you now"), "{whisper}");
    let ticket = server.ok(Method::GET, &format!("/api/v1/tickets/{key}"), &d.admin, None).await;
    assert_eq!(ticket["acknowledged_by"].as_str(), Some(staff["nico"].as_str()));
    let rang = support::twiml_attribute(&twiml, "Dial", "action").unwrap();
    let done =
        step(&rang, &call("CA1", "+15550200001", &[("DialCallStatus", "completed"), ("DialCallDuration", "42")])).await;
    assert!(done.ends_with("<Hangup/></Response>"), "{done}");
    let noted = notes(&server, &d.admin, &key).await;
    assert!(noted.iter().any(|n| n.contains("nico answered the call")), "{noted:?}");
    assert!(noted.iter().any(|n| n.contains("ended after 42 s")), "{noted:?}");
    // The customer does not see the internal notes.
    assert!(notes(&server, &d.alice, &key).await.is_empty());

    // Nobody answers: nico, then tina (the TAM), then a message is recorded.
    let mut twiml = step(&incoming, &call("CA2", "+15550200001", &[])).await;
    let mut rung = Vec::new();
    while let Some(number) = number_rung(&twiml) {
        rung.push(number);
        let action = support::twiml_attribute(&twiml, "Dial", "action").unwrap();
        twiml = step(&action, &call("CA2", "+15550200001", &[("DialCallStatus", "no-answer")])).await;
    }
    assert_eq!(rung, ["+15550100001", "+15550100002"]);
    let recorded = support::twiml_attribute(&twiml, "Record", "action").expect("a message is recorded");
    let bye = step(
        &recorded,
        &call("CA2", "+15550200001", &[("RecordingUrl", "https://rec.example/RE2"), ("RecordingDuration", "12")]),
    )
    .await;
    assert!(bye.contains("Your message is on ticket"), "{bye}");
    let transcribed = support::twiml_attribute(&twiml, "Record", "transcribeCallback").unwrap();
    step(
        &transcribed,
        &call(
            "CA2",
            "+15550200001",
            &[("TranscriptionStatus", "completed"), ("TranscriptionText", "Checkout is down.")],
        ),
    )
    .await;
    let second = tickets_from(&server, &d.admin, "+15550200001").await;
    let second = second.iter().find(|x| x["key"] != key.as_str()).unwrap()["key"].as_str().unwrap().to_string();
    let noted = notes(&server, &d.admin, &second).await;
    assert_eq!(noted.iter().filter(|n| n.contains("did not answer")).count(), 2, "{noted:?}");
    assert!(noted.iter().any(|n| n.contains("12 s: https://rec.example/RE2")), "{noted:?}");
    assert!(noted.iter().any(|n| n.contains("Checkout is down.")), "{noted:?}");
    // A recording address outside the provider's API is never fetched; the timeline says so.
    let refused = until("the recording refused", || async {
        let noted = notes(&server, &d.admin, &second).await;
        noted.into_iter().find(|n| n.contains("could not be attached"))
    })
    .await;
    assert!(refused.contains("not at the provider") && refused.contains("https://rec.example/RE2"), "{refused}");

    // Another call's ticket is refused; so are forged and other-account requests.
    let other = format!("{base}/twilio/voice/rang?ticket={}&place=0&whom={}", t["id"].as_str().unwrap(), staff["nico"]);
    assert_eq!(
        support::phone_post(&other, &call("CA2", "+15550200001", &[("DialCallStatus", "completed")]), TOKEN).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        support::phone_post(&incoming, &call("CA3", "+15550200001", &[]), "forged").await.0,
        StatusCode::FORBIDDEN
    );
    let elsewhere = [("AccountSid", "AC99"), ("CallSid", "CA3"), ("From", "+15550200001"), ("To", LINE)];
    assert_eq!(support::phone_post(&incoming, &elsewhere, TOKEN).await.0, StatusCode::FORBIDDEN);

    // An unknown caller keys in acme's PIN.
    let pin = server.ok(Method::POST, "/api/v1/orgs/acme/phone-pin", &d.admin, None).await["pin"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        server.call(Method::POST, "/api/v1/orgs/acme/phone-pin", Some(&d.alice), None).await.0,
        StatusCode::FORBIDDEN
    );
    let twiml = step(&incoming, &call("CA4", "+15550400001", &[])).await;
    let gather = support::twiml_attribute(&twiml, "Gather", "action").expect("asked for a PIN");
    let twiml = step(&gather, &call("CA4", "+15550400001", &[("Digits", pin.as_str())])).await;
    assert_eq!(number_rung(&twiml).as_deref(), Some("+15550100001"), "{twiml}");
    let [by_pin] = &tickets_from(&server, &d.admin, "+15550400001").await[..] else { panic!("one ticket") };
    assert_eq!((by_pin["org"].as_str(), by_pin["requester"].as_str()), (Some("acme"), None));

    // A Pro caller: no open P1, then refused until the customer page opens, then put through.
    let twiml = step(&incoming, &call("CA5", "+15550300001", &[])).await;
    assert!(twiml.contains("has no open P1 ticket") && twiml.ends_with("<Hangup/></Response>"), "{twiml}");
    support::open_ticket(&server, &d.bob, "bolt", "P1").await;
    let twiml = step(&incoming, &call("CA6", "+15550300001", &[])).await;
    assert!(twiml.contains("This line opens for it at"), "{twiml}");
    let mut n = 0;
    let twiml = until("the Pro line opens", || {
        n += 1;
        let sid = format!("CA7-{n}");
        let incoming = incoming.clone();
        async move {
            let twiml = step(&incoming, &call(&sid, "+15550300001", &[])).await;
            twiml.contains("<Dial ").then_some(twiml)
        }
    })
    .await;
    assert!(twiml.contains("still unacknowledged"), "{twiml}");
    assert_eq!(number_rung(&twiml).as_deref(), Some("+15550100009"), "{twiml}");
    assert!(tickets_from(&server, &d.admin, "+15550300001").await.is_empty(), "the Pro call opens nothing new");
}
