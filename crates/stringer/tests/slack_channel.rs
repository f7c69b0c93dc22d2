//! The org's shared Slack channel as a way in, black-box on SQLite and PostgreSQL, against a
//! local stand-in for the Slack Web API that records every call: the Events API handshake;
//! a customer's message opens a ticket (answered in its thread), replies in the thread become
//! public comments (the customer's, and a staff reply), replies written elsewhere are posted
//! into the thread (internal notes never) as are its changes of state, a retried event is stored once, a replayed or
//! unsigned request is refused, strangers and bots open nothing; the message shortcut opens a
//! ticket from a customer's message for its author; the `/stringer`
//! command opens, tells a ticket's state, pages on-call (Enterprise at once; Pro refused with
//! the reason) and says who is on call. Kickoff: an admin setting an org's channel creates it,
//! invites the TAM and named engineers and the org's admins (Slack Connect), and posts and
//! pins the welcome; the kickoff endpoint runs it again without creating anything twice.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Db, Posts, Server, desk, open_ticket, until};

const SECRET: &str = "signing-sekret";

both_backends!(shared_channel, shared_channel_on);
both_backends!(channel_kickoff, channel_kickoff_on);
both_backends!(opening_answer_survives_slack_refusing_it, opening_answer_on);

/// Posts `body` to `path`, signed as Slack signs it `skew` seconds ago.
async fn signed(server: &Server, path: &str, body: &str, content_type: &str, skew: i64) -> (StatusCode, String) {
    let timestamp = jiff::Timestamp::now().as_second() - skew;
    let signature = stringer_integrations::slack::sign_request(SECRET, timestamp, body.as_bytes());
    support::slack_post_signed(server, path, content_type, body, timestamp, &signature).await
}

fn message(event_id: &str, channel: &str, user: &str, ts: &str, thread_ts: Option<&str>, text: &str) -> String {
    let mut event = json!({"type": "message", "channel": channel, "user": user, "ts": ts, "text": text});
    if let Some(t) = thread_ts {
        event["thread_ts"] = json!(t);
    }
    json!({"type": "event_callback", "team_id": "T1", "event_id": event_id, "event_time": 1, "event": event})
        .to_string()
}

async fn event(server: &Server, body: &str) -> StatusCode {
    signed(server, "/slack/events", body, "application/json", 0).await.0
}

async fn command(server: &Server, channel: &str, user: &str, text: &str) -> Value {
    let body = serde_urlencoded::to_string([
        ("command", "/stringer"),
        ("channel_id", channel),
        ("user_id", user),
        ("text", text),
        ("response_url", "https://hooks.slack.example/x"),
    ])
    .unwrap();
    let (status, answer) = signed(server, "/slack/commands", &body, "application/x-www-form-urlencoded", 0).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    serde_json::from_str(&answer).unwrap()
}

fn posted(posts: &Posts) -> Vec<Value> {
    support::slack_calls(posts, "chat.postMessage").into_iter().map(|(_, args)| args).collect()
}

async fn tickets_about(server: &Server, token: &str, subject: &str) -> Vec<Value> {
    let body = server.ok(Method::GET, "/api/v1/tickets?limit=200", token, None).await;
    body["items"].as_array().unwrap().iter().filter(|t| t["subject"] == subject).cloned().collect()
}

async fn shared_channel_on(db: Db) {
    let members = [
        ("UALICE", "alice@acme.example"),
        ("UENG", "eng@stringer.example"),
        ("UBOB", "bob@bolt.example"),
        ("USTRANGER", "someone@elsewhere.example"),
    ];
    let (api, posts) = support::slack_api(&members).await;
    let server = Server::start(
        &db,
        &[
            "--slack-token",
            "xoxb-test",
            "--slack-signing-secret",
            SECRET,
            "--slack-api-url",
            &api,
            "--public-url",
            "https://desk.example",
        ],
    );
    let d = desk(&server).await;
    for (org, channel) in [("acme", "#stringer-acme"), ("bolt", "#stringer-bolt")] {
        server
            .ok(Method::PATCH, &format!("/api/v1/orgs/{org}"), &d.admin, Some(json!({"slack_channel": channel})))
            .await;
    }
    let acme = "CSTRINGER-ACME";

    // The handshake, signed; unsigned and stale requests are refused.
    let handshake = json!({"type": "url_verification", "challenge": "3eZbrw1aB", "token": "x"}).to_string();
    let (status, answer) = signed(&server, "/slack/events", &handshake, "application/json", 0).await;
    assert_eq!(
        (status, serde_json::from_str::<Value>(&answer).unwrap()),
        (StatusCode::OK, json!({"challenge": "3eZbrw1aB"}))
    );
    let (status, _) = support::slack_post_signed(
        &server,
        "/slack/events",
        "application/json",
        &handshake,
        jiff::Timestamp::now().as_second(),
        "v0=00",
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(signed(&server, "/slack/events", &handshake, "application/json", 600).await.0, StatusCode::UNAUTHORIZED);

    // A customer's top-level message opens a ticket, answered in its thread.
    let opening = message(
        "Ev1",
        acme,
        "UALICE",
        "1700000000.000100",
        None,
        "Checkout is down\nSince 10:00, every EU order fails.",
    );
    let timestamp = jiff::Timestamp::now().as_second();
    let signature = stringer_integrations::slack::sign_request(SECRET, timestamp, opening.as_bytes());
    assert_eq!(
        support::slack_post_signed(&server, "/slack/events", "application/json", &opening, timestamp, &signature)
            .await
            .0,
        StatusCode::OK
    );
    let t =
        until("the channel's ticket", || async { tickets_about(&server, &d.admin, "Checkout is down").await.pop() })
            .await;
    assert_eq!((t["org"].as_str(), t["channel"].as_str()), (Some("acme"), Some("slack")));
    assert!(t["description"].as_str().unwrap().contains("every EU order fails"));
    let key = t["key"].as_str().unwrap().to_string();
    let answer = until("the answer in the thread", || async {
        posted(&posts).into_iter().find(|p| p["thread_ts"] == "1700000000.000100")
    })
    .await;
    assert_eq!(answer["channel"], acme);
    assert!(answer["text"].as_str().unwrap().contains(&format!("Opened {key}")), "{answer}");

    // The same request again is a replay; Slack's retry (same event, signed anew) is stored once.
    assert_eq!(
        support::slack_post_signed(&server, "/slack/events", "application/json", &opening, timestamp, &signature)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let later = timestamp + 1;
    let resigned = stringer_integrations::slack::sign_request(SECRET, later, opening.as_bytes());
    let retry =
        support::slack_post_signed(&server, "/slack/events", "application/json", &opening, later, &resigned).await;
    assert_eq!(retry.0, StatusCode::OK, "Slack's retry signs anew: {retry:?}");

    // Replies in the thread: the customer's message, and a staff reply, both public.
    let reply =
        message("Ev2", acme, "UALICE", "1700000000.000200", Some("1700000000.000100"), "Also the US store now.");
    let staff =
        message("Ev3", acme, "UENG", "1700000000.000300", Some("1700000000.000100"), "Looking at it, rolling back.");
    assert_eq!(event(&server, &reply).await, StatusCode::OK);
    assert_eq!(event(&server, &staff).await, StatusCode::OK);
    let comments = until("both replies on the ticket", || async {
        let c = server.ok(Method::GET, &format!("/api/v1/tickets/{key}/comments"), &d.alice, None).await;
        let bodies: Vec<String> =
            c["items"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap().to_string()).collect();
        (bodies.len() >= 2).then_some(c)
    })
    .await;
    let items = comments["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "the retried opening added nothing: {comments}");
    assert_eq!(items[0]["body"], "Also the US store now.");
    assert_eq!(items[1]["body"], "Looking at it, rolling back.");
    assert!(items.iter().all(|c| c["public"] == true));
    let responded = server.ok(Method::GET, &format!("/api/v1/tickets/{key}"), &d.admin, None).await;
    let response = responded["sla"].as_array().unwrap().iter().find(|c| c["target"] == "response").unwrap().clone();
    assert_eq!(response["state"], "met", "the staff reply in the thread is the response: {response}");

    // A reply written elsewhere (the API; the portal and mail alike) goes into the thread,
    // once, with who wrote it; what was written in the thread is not echoed back.
    let body = json!({"body": "Rolled back at 10:40; please retry.", "public": true});
    server.ok(Method::POST, &format!("/api/v1/tickets/{key}/comments"), &d.engineer, Some(body)).await;
    let note = json!({"body": "internal: root cause is the CDN", "public": false});
    server.ok(Method::POST, &format!("/api/v1/tickets/{key}/comments"), &d.engineer, Some(note)).await;
    let echoed = until("the API reply in the thread", || async {
        posted(&posts).into_iter().find(|p| p["text"].as_str().unwrap_or_default().contains("Rolled back at 10:40"))
    })
    .await;
    assert_eq!((echoed["channel"].as_str(), echoed["thread_ts"].as_str()), (Some(acme), Some("1700000000.000100")));
    assert_eq!(echoed["text"], "*eng@stringer.example (support)*: Rolled back at 10:40; please retry.");
    let thread: Vec<String> = posted(&posts)
        .into_iter()
        .filter(|p| p["thread_ts"] == "1700000000.000100")
        .map(|p| p["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(thread.len(), 2, "the opening answer and the API reply only, never the internal note: {thread:?}");

    // The ticket's changes of state are told in its thread too, once each.
    server.ok(Method::POST, &format!("/api/v1/tickets/{key}/acknowledge"), &d.engineer, None).await;
    server.ok(Method::POST, &format!("/api/v1/tickets/{key}/resolve"), &d.engineer, None).await;
    let told = until("the resolution in the thread", || async {
        let thread: Vec<String> = posted(&posts)
            .into_iter()
            .filter(|p| p["thread_ts"] == "1700000000.000100")
            .map(|p| p["text"].as_str().unwrap().to_string())
            .collect();
        thread.iter().any(|t| t.ends_with("was resolved. If it is not, reply in this thread.")).then_some(thread)
    })
    .await;
    assert_eq!(told.len(), 4, "{told:?}");
    assert_eq!(told[2], format!("{key} was acknowledged by eng@stringer.example, who is on it."));
    server.ok(Method::POST, &format!("/api/v1/tickets/{key}/reopen"), &d.engineer, None).await;
    until("the reopening in the thread", || async {
        let reopened = format!("{key} was reopened.");
        posted(&posts).into_iter().find(|p| p["text"].as_str() == Some(reopened.as_str()))
    })
    .await;

    // A stranger, a bot, and a thread that is no ticket's open nothing.
    // (Setting the channels kicked them off in the background, posting welcomes: count only
    // answers in threads.)
    let in_threads = || posted(&posts).into_iter().filter(|p| p.get("thread_ts").is_some()).count();
    let before = in_threads();
    assert_eq!(
        event(&server, &message("Ev4", acme, "USTRANGER", "1700000000.000400", None, "Hello from nowhere")).await,
        StatusCode::OK
    );
    let bot =
        json!({"type": "event_callback", "event_id": "Ev5", "event": {"type": "message", "subtype": "bot_message",
        "bot_id": "B1", "channel": acme, "ts": "1700000000.000500", "text": "Bot says hi"}})
        .to_string();
    assert_eq!(event(&server, &bot).await, StatusCode::OK);
    // One channel's messages are processed in order: a later customer message is the barrier.
    let barrier = message("Ev6", acme, "UALICE", "1700000000.000600", None, "Search is slow");
    assert_eq!(event(&server, &barrier).await, StatusCode::OK);
    until("the barrier's ticket", || async { tickets_about(&server, &d.admin, "Search is slow").await.pop() }).await;
    assert!(tickets_about(&server, &d.admin, "Hello from nowhere").await.is_empty());
    assert!(tickets_about(&server, &d.admin, "Bot says hi").await.is_empty());
    until("the barrier answered", || async { (in_threads() == before + 1).then_some(()) }).await;
    assert!(
        posted(&posts).iter().all(|p| !p["text"].as_str().unwrap().contains("nowhere")),
        "nothing answered the stranger or the bot"
    );

    let status = command(&server, acme, "UALICE", &format!("status {key}")).await;
    assert_eq!(status["response_type"], "ephemeral");
    assert!(status["text"].as_str().unwrap().contains(&format!("{key} · Checkout is down · severity P3")), "{status}");

    // The message shortcut: staff open a ticket from a customer's message, for its author.
    let shortcut = json!({"type": "message_action", "callback_id": "stringer_open_ticket", "user": {"id": "UENG"},
        "channel": {"id": acme}, "message": {"type": "message", "user": "UALICE", "ts": "1700000000.000900",
        "text": "Invoices show the wrong VAT"}});
    let form = serde_urlencoded::to_string([("payload", shortcut.to_string())]).unwrap();
    let (status, _) = signed(&server, "/slack/interactions", &form, "application/x-www-form-urlencoded", 0).await;
    assert_eq!(status, StatusCode::OK);
    let vat = until("the shortcut's ticket", || async {
        tickets_about(&server, &d.admin, "Invoices show the wrong VAT").await.pop()
    })
    .await;
    let alice = server.ok(Method::GET, "/api/v1/me", &d.alice, None).await;
    assert_eq!((vat["requester"].as_str(), vat["channel"].as_str()), (alice["id"].as_str(), Some("slack")));
    until("the shortcut answered in the thread", || async {
        posted(&posts).into_iter().find(|p| p["thread_ts"] == "1700000000.000900")
    })
    .await;

    // /stringer new, page (Enterprise: at once), oncall.
    let opened = command(&server, acme, "UALICE", "new Exports time out").await;
    assert_eq!(opened["response_type"], "in_channel");
    assert!(opened["text"].as_str().unwrap().contains("opened ACME-"), "{opened}");
    let exports = tickets_about(&server, &d.alice, "Exports time out").await.pop().unwrap();
    assert_eq!(exports["channel"], "slack");
    let paged = command(&server, acme, "UALICE", &format!("page {key}")).await;
    assert!(paged["text"].as_str().unwrap().contains(&format!("paged on-call for {key}")), "{paged}");
    let oncall = command(&server, acme, "UALICE", "oncall").await;
    assert_eq!(oncall["response_type"], "ephemeral");

    // Pro: a P3 may not page on-call; the refusal says why.
    let bolt = command(&server, "CSTRINGER-BOLT", "UBOB", "new Slow dashboard").await;
    let bolt_key =
        bolt["text"].as_str().unwrap().split_whitespace().find(|w| w.starts_with("BOLT-")).unwrap().to_string();
    let refused = command(&server, "CSTRINGER-BOLT", "UBOB", &format!("page {bolt_key}")).await;
    assert_eq!(refused["response_type"], "ephemeral");
    assert!(refused["text"].as_str().unwrap().starts_with("Not paged:"), "{refused}");

    // Tenant isolation: bob cannot read acme's ticket from bolt's channel; nobody uses a
    // channel that is no org's.
    let foreign = command(&server, "CSTRINGER-BOLT", "UBOB", &format!("status {key}")).await;
    assert_eq!(foreign["text"], "No such ticket.");
    let nowhere = command(&server, "CGENERAL", "UALICE", "new anything").await;
    assert!(nowhere["text"].as_str().unwrap().contains("no org's shared channel"), "{nowhere}");

    // F35: an uncleared engineer's page in a federal org's channel is refused without naming
    // the ticket they may not see.
    let fed = json!({"slack_channel": "#stringer-fedco"});
    server.ok(Method::PATCH, "/api/v1/orgs/fedco", &d.admin, Some(fed)).await;
    let federal = open_ticket(&server, &d.fiona, "fedco", "P2").await;
    let fed_key = federal["key"].as_str().unwrap();
    for text in ["page".to_string(), format!("page {fed_key}")] {
        let refused = command(&server, "CSTRINGER-FEDCO", "UENG", &text).await;
        let said = refused["text"].as_str().unwrap();
        assert!(!said.contains(fed_key) && !said.contains("FEDCO-"), "{text:?} answered {said:?}");
    }
}

async fn channel_kickoff_on(db: Db) {
    let members = [("UTINA", "tina@stringer.example"), ("USIA", "sia@stringer.example")];
    let (api, posts) = support::slack_api(&members).await;
    let server = Server::start(&db, &["--slack-token", "xoxb-test", "--slack-api-url", &api]);
    let admin = server.admin();
    let mut staff = Vec::new();
    for (name, role) in [("tina", "tam"), ("sia", "engineer")] {
        let user = json!({"email": format!("{name}@stringer.example"), "name": name, "role": role});
        staff.push(
            server.ok(Method::POST, "/api/v1/users", &admin, Some(user)).await["id"].as_str().unwrap().to_string(),
        );
    }
    support::zen_org(&server, &admin, Some(&staff[0]), &[&staff[1]]).await;
    let zara = json!({"email": "zara@zen.example", "name": "Zara", "role": "org_admin", "org": "zen"});
    server.ok(Method::POST, "/api/v1/users", &admin, Some(zara)).await;

    // Setting the channel kicks it off: created, staff invited, the admin invited through
    // Slack Connect, the welcome posted and pinned.
    server.ok(Method::PATCH, "/api/v1/orgs/zen", &admin, Some(json!({"slack_channel": "#zen-support"}))).await;
    until("the welcome pinned", || async { (!support::slack_calls(&posts, "pins.add").is_empty()).then_some(()) })
        .await;
    let created = support::slack_calls(&posts, "conversations.create");
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].1["name"], "zen-support");
    assert_eq!(created[0].1["is_private"], "0", "a dedicated org's channel");
    assert_eq!(created[0].0, "Bearer xoxb-test");
    let invited = support::slack_calls(&posts, "conversations.invite");
    assert_eq!(invited[0].1, json!({"channel": "CZEN-SUPPORT", "users": "UTINA,USIA"}));
    let shared = support::slack_calls(&posts, "conversations.inviteShared");
    assert_eq!(shared[0].1, json!({"channel": "CZEN-SUPPORT", "emails": "zara@zen.example"}));
    let welcome = posted(&posts).into_iter().find(|p| p["channel"] == "CZEN-SUPPORT").unwrap();
    let text = welcome["text"].as_str().unwrap();
    assert!(text.contains("Welcome to Zen's support channel") && text.contains("your TAM tina"), "{text}");
    assert!(text.contains("/stringer page TICKET"), "Enterprise may page on-call: {text}");
    assert!(text.contains("/packet/zen"), "the pinned welcome links the org's welcome packet: {text}");
    let pinned = &support::slack_calls(&posts, "pins.add")[0].1;
    assert_eq!(pinned["channel"], "CZEN-SUPPORT");

    // Again, on demand: the channel is known now, so nothing is created twice.
    let again = server.ok(Method::POST, "/api/v1/orgs/zen/kickoff", &admin, None).await;
    assert_eq!((again["channel"].as_str(), again["created"].as_bool()), (Some("CZEN-SUPPORT"), Some(false)));
    assert_eq!(again["invited"].as_array().unwrap().len(), 2);
    assert_eq!(support::slack_calls(&posts, "conversations.create").len(), 1);
    // And from the command line, through the API.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stringer"))
        .args(["org", "kickoff", "zen", "--url", &server.base])
        .env("STRINGER_TOKEN", &admin)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{printed} {}", String::from_utf8_lossy(&out.stderr));
    assert!(
        printed.contains("channel CZEN-SUPPORT (existed)") && printed.contains("welcome message pinned"),
        "{printed}"
    );
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_stringer"))
        .args(["org", "kickoff", "nosuch", "--url", &server.base])
        .env("STRINGER_TOKEN", &admin)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("404"), "{}", String::from_utf8_lossy(&refused.stderr));
    // Only admins kick off.
    let zoe_login = json!({"email": "zoe@zen.example", "password": "zoe-password-123"});
    let zoe =
        server.ok(Method::POST, "/api/v1/login", "", Some(zoe_login)).await["token"].as_str().unwrap().to_string();
    let (status, _) = server.call(Method::POST, "/api/v1/orgs/zen/kickoff", Some(&zoe), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A federal org's channel is created private: its pages are for those invited only.
    let fed = json!({"slug": "fedz", "name": "Fedz", "tier": "enterprise", "deployment": "federal"});
    server.ok(Method::POST, "/api/v1/orgs", &admin, Some(fed)).await;
    server.ok(Method::POST, "/api/v1/orgs/fedz/kickoff", &admin, None).await;
    let created = support::slack_calls(&posts, "conversations.create");
    let federal = created.iter().find(|c| c.1["name"] == "stringer-fedz").expect("the federal channel was created");
    assert_eq!(federal.1["is_private"], "1", "{created:?}");
}

/// Slack refuses the answer to a customer's message (rate-limited) after its ticket was
/// opened: the message is tried again once its lease runs out, and the answer is posted then,
/// once, for the one ticket.
async fn opening_answer_on(db: Db) {
    let (api, posts, control) = support::slack_api_controlled(&[("UALICE", "alice@acme.example")]).await;
    let server =
        Server::start(&db, &["--slack-token", "xoxb-test", "--slack-signing-secret", SECRET, "--slack-api-url", &api]);
    let d = desk(&server).await;
    server.ok(Method::PATCH, "/api/v1/orgs/acme", &d.admin, Some(json!({"slack_channel": "#stringer-acme"}))).await;
    control.refuse_thread_posts.store(1, std::sync::atomic::Ordering::SeqCst);
    let opening = message("EvR1", "CSTRINGER-ACME", "UALICE", "1700000000.000100", None, "Webhooks are late");
    assert_eq!(event(&server, &opening).await, StatusCode::OK);
    let answers = until("the answer after Slack's refusal", || async {
        let answers: Vec<Value> =
            posted(&posts).into_iter().filter(|p| p["thread_ts"] == "1700000000.000100").collect();
        (!answers.is_empty()).then_some(answers)
    })
    .await;
    assert_eq!(
        control.refuse_thread_posts.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the first answer was refused"
    );
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert!(answers[0]["text"].as_str().unwrap().starts_with("Opened ACME-"), "{answers:?}");
    assert_eq!(tickets_about(&server, &d.admin, "Webhooks are late").await.len(), 1);
}
