//! What the layout promises, black box: sent page messages are settled durably (a server
//! killed between an acknowledgement and the Slack update settles them after restart,
//! exactly once); a post into a ticket's Slack thread, or a report's announcement in the
//! org's channel, whose record a kill lost is not posted again; an acknowledgement over HTTP reads its ticket once; every metric is on the first
//! scrape.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::Connection;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use stringer_app::settle::SettleStore;
use stringer_core::ids::TicketId;
use stringer_store::SqlStore;
use support::{Db, Server, desk, open_ticket, zen_org};

async fn until(what: &str, deadline: Duration, mut done: impl FnMut() -> bool) {
    let end = Instant::now() + deadline;
    while !done() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn store_of(db: &Db) -> SqlStore {
    match db {
        Db::Sqlite(dir) => SqlStore::open_sqlite(&dir.join("stringer.db")).await.unwrap(),
        Db::Postgres(url) => SqlStore::connect(url).await.unwrap(),
    }
}

async fn settle_survives_a_kill(db: Db) {
    let (api, posts, control) = support::slack_api_controlled(&[]).await;
    let args = ["--slack-token", "xoxb-t", "--slack-signing-secret", "s", "--slack-api-url", api.as_str()];
    let mut server = Server::start(&db, &args);
    let d = desk(&server).await;
    let body = json!({"email": "sia@stringer.example", "name": "sia", "role": "engineer"});
    let sia = server.ok(Method::POST, "/api/v1/users", &d.admin, Some(body)).await["id"].as_str().unwrap().to_string();
    let method = json!({"kind": "slack", "address": "U0SIA123"});
    server.ok(Method::POST, &format!("/api/v1/users/{sia}/contact-methods"), &d.admin, Some(method)).await;
    let zoe = zen_org(&server, &d.admin, None, &[&sia]).await;
    let ticket = open_ticket(&server, &zoe, "zen", "P1").await["id"].as_str().unwrap().to_string();
    let posted = || support::slack_calls(&posts, "chat.postMessage").len();
    until("the page messages (direct and org channel)", Duration::from_secs(20), || posted() == 2).await;

    // Slack stops answering updates; the acknowledgement commits, the engine's settle worker
    // is stuck in its call to Slack, and the server dies.
    control.hang_updates.store(true, Ordering::SeqCst);
    server.ok(Method::POST, &format!("/api/v1/tickets/{ticket}/acknowledge"), &d.engineer, None).await;
    until("the engine calling chat.update", Duration::from_secs(20), || {
        control.updates_hung.load(Ordering::SeqCst) >= 1
    })
    .await;
    server.kill();
    assert!(support::slack_calls(&posts, "chat.update").is_empty(), "nothing was updated before the kill");

    // After a restart the job comes back (once its lease ends) and each message is updated.
    control.hang_updates.store(false, Ordering::SeqCst);
    let _server = Server::start(&db, &args);
    let updates = || support::slack_calls(&posts, "chat.update");
    until("both messages updated", Duration::from_secs(40), || updates().len() >= 2).await;
    // Settled: no message of the ticket is left to update, so no update can follow.
    let store = store_of(&db).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !store.unsettled_messages(&TicketId::from(ticket.as_str())).await.unwrap().is_empty() {
        assert!(Instant::now() < deadline, "messages left unsettled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut per_message: Vec<(String, String)> = updates()
        .into_iter()
        .map(|(_, u)| (u["channel"].as_str().unwrap().to_string(), u["ts"].as_str().unwrap().to_string()))
        .collect();
    per_message.sort();
    let distinct = {
        let mut d = per_message.clone();
        d.dedup();
        d
    };
    assert_eq!(per_message.len(), 2, "two updates: {per_message:?}");
    assert_eq!(distinct, per_message, "each message updated exactly once");
    for (_, u) in updates() {
        assert_eq!(u["blocks"][1]["elements"][0]["text"], "Acknowledged by eng@stringer.example", "{u}");
    }
}
both_backends!(a_killed_settle_is_finished_after_restart_exactly_once, settle_survives_a_kill);

/// A customer's top-level message in acme's channel (`CSTRINGER-ACME`), signed as Slack signs
/// it with `secret`.
async fn channel_message(server: &Server, secret: &str, ts: &str, text: &str) {
    let event = json!({"type": "message", "channel": "CSTRINGER-ACME", "user": "UALICE", "ts": ts, "text": text});
    let body = json!({"type": "event_callback", "team_id": "T1", "event_id": "Ev1", "event_time": 1, "event": event})
        .to_string();
    let timestamp = jiff::Timestamp::now().as_second();
    let signature = stringer_integrations::slack::sign_request(secret, timestamp, body.as_bytes());
    let (status, answer) =
        support::slack_post_signed(server, "/slack/events", "application/json", &body, timestamp, &signature).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

/// Runs `sql` on the server's database.
async fn execute(db: &Db, sql: &str) {
    sqlx::any::install_default_drivers();
    let url = match db {
        Db::Sqlite(dir) => format!("sqlite://{}", dir.join("stringer.db").display()),
        Db::Postgres(url) => url.clone(),
    };
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

/// A public comment posted into its ticket's Slack thread, and the server killed before it
/// recorded the post (the record is taken away while it is down): after the restart the
/// server finds its post in the thread and does not post it again.
async fn thread_post_survives_a_lost_record(db: Db) {
    let secret = "layout-secret";
    let (api, posts) = support::slack_api(&[("UALICE", "alice@acme.example")]).await;
    let args = ["--slack-token", "xoxb-t", "--slack-signing-secret", secret, "--slack-api-url", api.as_str()];
    let mut server = Server::start(&db, &args);
    let d = desk(&server).await;
    server.ok(Method::PATCH, "/api/v1/orgs/acme", &d.admin, Some(json!({"slack_channel": "#stringer-acme"}))).await;
    let thread = "1700000000.000100";
    channel_message(&server, secret, thread, "Checkout is down").await;
    let in_thread = |text: &str| {
        support::slack_calls(&posts, "chat.postMessage")
            .into_iter()
            .filter(|(_, a)| a["thread_ts"] == thread && a["text"].as_str().is_some_and(|t| t.contains(text)))
            .count()
    };
    until("the opening answered in the thread", Duration::from_secs(20), || in_thread("Opened ") == 1).await;
    let tickets = server.ok(Method::GET, "/api/v1/tickets?limit=10", &d.admin, None).await;
    let key = tickets["items"][0]["key"].as_str().unwrap().to_string();
    let comment = json!({"body": "We are on it", "public": true});
    server.ok(Method::POST, &format!("/api/v1/tickets/{key}/comments"), &d.engineer, Some(comment)).await;
    until("the comment posted in the thread", Duration::from_secs(20), || in_thread("We are on it") == 1).await;

    server.kill();
    execute(&db, "DELETE FROM chat_posts WHERE comment_id NOT LIKE '%:%'").await;
    execute(&db, "UPDATE thread_posts SET sent_at = NULL, next_attempt_at = 0").await;
    let _server = Server::start(&db, &args);
    // The engine posts what threads are owed every round: long enough for several.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(in_thread("We are on it"), 1, "the comment is in its thread once");
    assert_eq!(in_thread("Opened "), 1, "and so is the opening answer");
}

both_backends!(a_thread_post_whose_record_was_lost_is_not_posted_again, thread_post_survives_a_lost_record);

/// A published report announced in its org's Slack channel, and the server killed before it
/// recorded the post (the record is taken away while it is down): after the restart the
/// announcement is sent again, finds its post in the channel's history and does not post it
/// a second time.
async fn channel_post_survives_a_lost_record(db: Db) {
    let (api, posts) = support::slack_api(&[]).await;
    let args = ["--slack-token", "xoxb-t", "--slack-api-url", api.as_str()];
    let mut server = Server::start(&db, &args);
    let d = desk(&server).await;
    let lead = json!({"email": "lena@stringer.example", "name": "Lena Lead", "role": "support_lead", "password": "lena-password-123"});
    server.ok(Method::POST, "/api/v1/users", &d.admin, Some(lead)).await;
    let login = json!({"email": "lena@stringer.example", "password": "lena-password-123"});
    let lead = server.ok(Method::POST, "/api/v1/login", "", Some(login)).await["token"].as_str().unwrap().to_string();
    server.ok(Method::PATCH, "/api/v1/orgs/acme", &d.admin, Some(json!({"slack_channel": "#acme-ops"}))).await;
    until("the channel created by its kickoff", Duration::from_secs(20), || {
        support::slack_calls(&posts, "conversations.create").iter().any(|(_, a)| a["name"] == "acme-ops")
    })
    .await;
    let body = json!({"org": "acme", "severity": "P1", "subject": "Checkout is down", "description": "d"});
    let key =
        server.ok(Method::POST, "/api/v1/tickets", &d.alice, Some(body)).await["key"].as_str().unwrap().to_string();
    server.ok(Method::POST, &format!("/api/v1/tickets/{key}/acknowledge"), &d.engineer, None).await;
    server.ok(Method::POST, &format!("/api/v1/tickets/{key}/resolve"), &d.engineer, None).await;
    let steps = format!("/api/v1/tickets/{key}/report/steps");
    server.ok(Method::POST, &steps, &d.engineer, Some(json!({"step": "submit", "revision": 0}))).await;
    server.ok(Method::POST, &steps, &lead, Some(json!({"step": "approve", "revision": 1}))).await;
    server.ok(Method::POST, &steps, &d.engineer, Some(json!({"step": "publish", "revision": 2}))).await;
    let announced = || {
        support::slack_calls(&posts, "chat.postMessage")
            .into_iter()
            .filter(|(_, a)| {
                a["channel"] == "#acme-ops"
                    && a["text"].as_str().is_some_and(|t| t.contains("post-incident report") && t.contains(&key))
            })
            .count()
    };
    let recorded = "SELECT COUNT(*) FROM report_announcements WHERE channel = 'slack' AND sent_at IS NOT NULL";
    until("the announcement posted and recorded", Duration::from_secs(20), || {
        announced() == 1 && support::sql(&db, recorded) == "1"
    })
    .await;

    server.kill();
    execute(&db, "UPDATE report_announcements SET sent_at = NULL, next_attempt_at = 0 WHERE channel = 'slack'").await;
    let _server = Server::start(&db, &args);
    until("the announcement sent again and recorded", Duration::from_secs(20), || support::sql(&db, recorded) == "1")
        .await;
    assert_eq!(announced(), 1, "the announcement is in the channel once");
}

both_backends!(a_channel_announcement_whose_record_was_lost_is_not_posted_again, channel_post_survives_a_lost_record);

async fn ack_reads_once(db: Db) {
    let dir = std::env::temp_dir().join(format!("stringer-reads-{}-{}", std::process::id(), rand_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("server.log");
    let server = Server::start_logging(&db, &[], Some((&log, "warn,sqlx::query=debug")));
    let d = desk(&server).await;
    let ticket = open_ticket(&server, &d.alice, "acme", "P3").await["id"].as_str().unwrap().to_string();
    let before = std::fs::read_to_string(&log).unwrap().len();
    server.ok(Method::POST, &format!("/api/v1/tickets/{ticket}/acknowledge"), &d.engineer, None).await;
    let text = std::fs::read_to_string(&log).unwrap();
    let during = &text[before..];
    let reads = support::ticket_reads(during);
    assert_eq!(reads, 1, "an acknowledgement read its ticket {reads} times (0: is sqlx::query logging on?):\n{during}");
    eprintln!("an acknowledgement read its ticket {reads} times");
}
both_backends!(an_acknowledgement_reads_its_ticket_once, ack_reads_once);

fn rand_id() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

async fn metrics_at_start(db: Db) {
    let server = Server::start(&db, &["--metrics-listen", "127.0.0.1:0"]);
    let text = reqwest::get(server.metrics.as_deref().unwrap()).await.unwrap().text().await.unwrap();
    for series in [
        "stringer_escalation_lag_seconds_count 0",
        "stringer_timers_run_total{kind=\"escalation\"} 0",
        "stringer_deliveries_total{channel=\"webhook\",outcome=\"sent\"} 0",
        "stringer_deliveries_total{channel=\"voice\",outcome=\"failed\"} 0",
        "stringer_messages_settled_total 0",
        "stringer_open_tickets{sla_state=\"breached\"} 0",
    ] {
        assert!(text.contains(series), "{series} missing from the first scrape:\n{text}");
    }
}
both_backends!(every_metric_is_on_the_first_scrape, metrics_at_start);
