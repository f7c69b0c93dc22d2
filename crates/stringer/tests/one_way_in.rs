//! One way in: the same acknowledgement through every door — the API, the console, a signed
//! one-click link, a Slack button — is one application call, recorded the same way (one
//! `ticket.acknowledged` entry naming the person), and a deactivated person is refused at
//! every door (F24: their unexpired link no longer acknowledges a P1).

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use support::{Db, Server, open_ticket, paging_desk, receiver};

const SECRET: &str = "signing-sekret";

/// Signs in through the form; answers a client and the session cookie.
async fn sign_in(server: &Server, email: &str, password: &str) -> (reqwest::Client, String) {
    let (client, set) = support::sign_in(server, email, password, "/console").await;
    (client, set.split(';').next().unwrap().to_string())
}

/// Presses "Acknowledge" on the console's ticket page; answers the status of the press.
async fn console_ack(server: &Server, (client, cookie): &(reqwest::Client, String), key: &str) -> StatusCode {
    let page = client.get(format!("{}/console/tickets/{key}", server.base)).header("cookie", cookie).send().await;
    let html = page.unwrap().text().await.unwrap();
    let Some(csrf) = html.split("name=\"csrf\" value=\"").nth(1).and_then(|r| r.split('"').next()) else {
        return StatusCode::NOT_FOUND;
    };
    client
        .post(format!("{}/console/tickets/{key}/acknowledge", server.base))
        .header("cookie", cookie)
        .form(&[("csrf", csrf)])
        .send()
        .await
        .unwrap()
        .status()
}

async fn acknowledgements(server: &Server, admin: &str, id: &str) -> Vec<(Option<String>, String)> {
    let t = server.ok(Method::GET, &format!("/api/v1/tickets/{id}/timeline"), admin, None).await;
    t["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "ticket.acknowledged")
        .map(|e| (e["actor"].as_str().map(String::from), e["body"]["by"].as_str().unwrap().to_string()))
        .collect()
}

/// The one-click link in the on-call page of `ticket`, as the receiver got it.
async fn link_for(log: &support::Log, ticket: &str) -> String {
    support::until("the page with its link", || async {
        log.lock().unwrap().iter().find_map(|r| {
            let body: Value = serde_json::from_str(&r.body).ok()?;
            (body["notice"]["ticket"] == ticket).then(|| body["ack_url"].as_str().map(String::from)).flatten()
        })
    })
    .await
}

async fn every_door_acknowledges_alike(db: Db) {
    let (hooks, log) = receiver().await;
    let (api, _posts) = support::slack_api(&[]).await;
    let server = Server::start(
        &db,
        &[
            "--allow-private-webhooks",
            "--slack-token",
            "xoxb-t",
            "--slack-signing-secret",
            SECRET,
            "--slack-api-url",
            &api,
        ],
    );
    let (d, zoe, _, ids) = paging_desk(&server, &hooks).await;
    // nico is on call (his pages carry the links); noa, an engineer, signs in to the API and
    // the console and is a Slack member.
    let nico = ids["nico"].clone();
    let body =
        json!({"email": "noa@stringer.example", "name": "noa", "role": "engineer", "password": "noa-password-123"});
    let noa = server.ok(Method::POST, "/api/v1/users", &d.admin, Some(body)).await["id"].as_str().unwrap().to_string();
    let slack = json!({"kind": "slack", "address": "U0NOA001"});
    server.ok(Method::POST, &format!("/api/v1/users/{noa}/contact-methods"), &d.admin, Some(slack)).await;
    let login = json!({"email": "noa@stringer.example", "password": "noa-password-123"});
    let token = server.ok(Method::POST, "/api/v1/login", "", Some(login)).await["token"].as_str().unwrap().to_string();
    let browser = sign_in(&server, "noa@stringer.example", "noa-password-123").await;

    let mut tickets = HashMap::new();
    for door in ["api", "console", "link", "slack"] {
        let t = open_ticket(&server, &zoe, "zen", "P1").await;
        tickets.insert(door, (t["id"].as_str().unwrap().to_string(), t["key"].as_str().unwrap().to_string()));
    }
    let link = link_for(&log, &tickets["link"].0).await;

    // Each door, once.
    server.ok(Method::POST, &format!("/api/v1/tickets/{}/acknowledge", tickets["api"].0), &token, None).await;
    assert_eq!(console_ack(&server, &browser, &tickets["console"].1).await, StatusCode::SEE_OTHER);
    let posted = reqwest::Client::new().post(&link).send().await.unwrap().status();
    assert_eq!(posted, StatusCode::OK);
    let ts = support::unique_action_ts();
    let pressed = support::slack_press(&server, "U0NOA001", "stringer_ack", &tickets["slack"].0, SECRET, &ts).await;
    assert_eq!(pressed, StatusCode::OK);
    for (door, (id, _)) in &tickets {
        let who = if *door == "link" { &nico } else { &noa };
        assert_eq!(
            acknowledgements(&server, &d.admin, id).await,
            [(Some(who.clone()), who.clone())],
            "the {door} door records the acknowledgement as the person who acted, once"
        );
    }

    // Both are deactivated: every door refuses them, and nothing is acknowledged.
    let mut later = HashMap::new();
    for door in ["api", "console", "link", "slack"] {
        let t = open_ticket(&server, &zoe, "zen", "P1").await;
        later.insert(door, (t["id"].as_str().unwrap().to_string(), t["key"].as_str().unwrap().to_string()));
    }
    let later_link = link_for(&log, &later["link"].0).await;
    for user in [&nico, &noa] {
        let (status, _) = server.call(Method::DELETE, &format!("/api/v1/users/{user}"), Some(&d.admin), None).await;
        assert!(status.is_success(), "deactivated: {status}");
    }
    let api_ack = format!("/api/v1/tickets/{}/acknowledge", later["api"].0);
    let (api_status, _) = server.call(Method::POST, &api_ack, Some(&token), None).await;
    assert_eq!(api_status, StatusCode::UNAUTHORIZED, "the API");
    assert_ne!(console_ack(&server, &browser, &later["console"].1).await, StatusCode::SEE_OTHER, "the console");
    for method in [Method::GET, Method::POST] {
        let status = reqwest::Client::new().request(method.clone(), &later_link).send().await.unwrap().status();
        assert_eq!(status, StatusCode::NOT_FOUND, "the link ({method}) of a deactivated person (F24)");
    }
    let ts = support::unique_action_ts();
    let pressed = support::slack_press(&server, "U0NOA001", "stringer_ack", &later["slack"].0, SECRET, &ts).await;
    assert_eq!(pressed, StatusCode::OK, "the Slack button of a deactivated member: refused, told in Slack");
    for (door, (id, _)) in &later {
        assert!(acknowledgements(&server, &d.admin, id).await.is_empty(), "the {door} door acknowledged nothing");
    }
}
both_backends!(every_door_acknowledges_as_one_call, every_door_acknowledges_alike);
