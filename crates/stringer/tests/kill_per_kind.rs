//! Nothing lost, nothing sent twice, per kind of background work, black box: for each kind
//! of outgoing message (pages by webhook and by mail, status page notices to mail and
//! webhook subscribers, post-incident report announcements to the org's admins and Slack
//! channel, welcome-packet letters, public comments into the tickets' Slack threads) and of
//! incoming message (mail over SMTP, Events API v2 signals, Slack channel messages), a burst
//! is produced against the real server on SQLite and on PostgreSQL, and the server is killed
//! (SIGKILL) twice while the burst is worked through — once after a seeded random step in
//! the middle of the burst and once right after its last request was accepted — and
//! restarted at once on the same database. Afterwards the test waits (polling, with a
//! deadline) until everything is in, and counts at local receivers (webhook, SMTP and Slack
//! stand-ins) or through the API.
//!
//! What "once" means (the rule of `crash.rs`, where a page is counted by its idempotency key):
//!
//! - **Outgoing, with an identity a receiver dedupes by** (a webhook's `Idempotency-Key`, a
//!   mail's `Message-ID`): each expected message arrives under exactly as many distinct
//!   identities as it is messages — 0 lost, and never two identities for one message (two
//!   deliveries). A work item the killed server had claimed but not recorded as sent is sent
//!   again with the same identity once its lease ends; such repeats are redeliveries a
//!   receiver drops, allowed, counted and reported.
//! - **Outgoing, without such an identity** (a Slack post): every post is what a reader sees,
//!   so each must be there exactly once. Slack's `chat.postMessage` takes no idempotency
//!   key: a post carries a mark in its message metadata, and a post into a ticket's thread
//!   (an update, an opening's answer) tried before is looked for in the thread first, a post
//!   in a channel (a report announcement) in the channel's recent history, so a kill between
//!   Slack's answer and the post's record makes no second post.
//! - **Incoming**: every accepted message (a mail, an event, a Slack message) is exactly one
//!   ticket, or one comment on the ticket it answers, and each signal's action is applied
//!   once (one acknowledgement or resolution on the ticket's timeline).
//!
//! Settled means: everything expected has arrived and the longest lease of the kind's work
//! has run out since the last kill (plus a margin), so whatever the killed server had claimed
//! has been taken up again and any second sending would have happened. `STRINGER_CRASH_SEED`
//! replays another kill schedule.
//!
//! Messages of one key in the same burst (a reply after its opening, a repeated trigger or an
//! acknowledgement after its trigger) are cases of their own: the killed server's claims stay
//! leased, and the inbox takes no later item of their key meanwhile.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use support::{Db, Mails, Server, desk, until};

/// How long the webhook receiver takes to answer (it records first): a kill often lands
/// mid-send.
const RECEIVER_LATENCY: Duration = Duration::from_millis(40);
/// The longest lease a killed server's claim holds today, per kind of work: what it had
/// claimed is taken up again only after it (deliveries 20 s; status notices, letters and
/// report announcements 60 s; the intakes of mail, signals and chat 15 s).
const PAGE_LEASE: Duration = Duration::from_secs(20);
const OUTBOX_LEASE: Duration = Duration::from_secs(60);
const INTAKE_LEASE: Duration = Duration::from_secs(15);
/// Time past a lease for the work to be taken up and finished.
const MARGIN: Duration = Duration::from_secs(5);
/// How long after settling should have been possible the test gives up.
const PATIENCE: Duration = Duration::from_secs(60);
const DEFAULT_SEED: u64 = 0x2545_F491_4F6C_DD1D;
const SLACK_SECRET: &str = "kill-per-kind-secret";
const MAIL_DOMAIN: &str = "support.vendor.example";

both_backends!(pages_by_webhook_and_mail, pages);
both_backends!(status_notices_to_mail_and_webhook_subscribers, status_notices);
both_backends!(report_announcements_to_admins_and_channel, announcements);
both_backends!(welcome_packet_letters, letters);
both_backends!(public_comments_into_slack_threads, slack_updates);
both_backends!(mail_in_over_smtp, mail_in_openings);
both_backends!(events_v2_triggers, signals_triggers);
both_backends!(slack_channel_messages, slack_openings);
// After a kill, what the killed server had claimed stays leased: the inbox's claim takes no
// later item of the same key meanwhile, so a reply, a repeated trigger or an acknowledgement
// is never worked before what it answers.
both_backends!(mail_in_replies_in_the_same_burst, mail_in_with_replies);
// A signal whose ticket change committed before the kill but which was not yet settled is
// processed again after the restart: its receipt, committed with the change, keeps the
// ticket from being acknowledged or resolved a second time.
both_backends!(events_v2_repeats_acknowledgements_and_resolutions_in_the_same_burst, signals_with_follow_ups);
both_backends!(slack_channel_replies_and_answers_in_the_same_burst, slack_with_replies);

async fn mail_in_openings(db: Db) {
    mail_in(db, 0).await;
}

async fn mail_in_with_replies(db: Db) {
    mail_in(db, 4).await;
}

async fn signals_triggers(db: Db) {
    signals(db, false).await;
}

async fn signals_with_follow_ups(db: Db) {
    signals(db, true).await;
}

async fn slack_openings(db: Db) {
    slack_in(db, false).await;
}

async fn slack_with_replies(db: Db) {
    slack_in(db, true).await;
}

/// xorshift64: a fixed seed gives a fixed kill schedule.
struct XorShift(u64);

impl XorShift {
    fn from_env() -> XorShift {
        let seed = std::env::var("STRINGER_CRASH_SEED").ok().map_or(DEFAULT_SEED, |s| s.parse().expect("a u64 seed"));
        XorShift(seed.max(1))
    }

    /// Uniform in [lo, hi).
    fn below(&mut self, lo: usize, hi: usize) -> usize {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        lo + (x % (hi - lo) as u64) as usize
    }
}

/// A server that is killed and restarted on its database during a burst of `len` steps:
/// after a seeded random step in its middle third, and after its last step.
struct Victim {
    server: Server,
    args: Vec<String>,
    kill_after: [usize; 2],
    /// When each kill happened, and how many of the expected messages were in just before.
    kills: Vec<(Instant, usize)>,
}

impl Victim {
    fn start(db: &Db, args: &[&str]) -> Victim {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let server = Server::start(db, &args.iter().map(String::as_str).collect::<Vec<_>>());
        Victim { server, args, kill_after: [0, 0], kills: Vec::new() }
    }

    /// Plans the kills of a burst of `len` steps.
    fn plan(&mut self, len: usize) {
        let mut rng = XorShift::from_env();
        self.kill_after = [rng.below(len / 3, 2 * len / 3), len - 1];
    }

    /// Kills and restarts the server if step `i` of the burst is one to kill after; `done`
    /// is how many expected messages were in before the kill.
    fn after_step(&mut self, i: usize, done: usize) {
        if !self.kill_after.contains(&i) {
            return;
        }
        self.server.kill();
        self.kills.push((Instant::now(), done));
        let db = self.server.db.clone();
        self.server = Server::start(&db, &self.args.iter().map(String::as_str).collect::<Vec<_>>());
    }

    /// When the kind's work is settled at the earliest: its lease after the last kill.
    fn quiet_from(&self, lease: Duration) -> Instant {
        self.kills.last().expect("the burst was killed").0 + lease + MARGIN
    }

    fn at_kills(&self) -> String {
        self.kills.iter().map(|(_, n)| n.to_string()).collect::<Vec<_>>().join("/")
    }
}

/// One message as a receiver saw it: what it is (in the test's terms) and the identity a
/// receiver would drop a second copy by.
type Seen = Vec<(String, String)>;

/// Waits until every expected message is seen and `quiet_from` has passed; answers what was
/// seen then.
async fn settle<F, Fut>(label: &str, expected: &BTreeMap<String, usize>, quiet_from: Instant, mut look: F) -> Seen
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Seen>,
{
    let deadline = quiet_from + PATIENCE;
    loop {
        let seen = look().await;
        let got: BTreeSet<&String> = seen.iter().map(|(what, _)| what).collect();
        let missing: Vec<&String> = expected.keys().filter(|w| !got.contains(w)).collect();
        if missing.is_empty() && Instant::now() >= quiet_from {
            return seen;
        }
        if Instant::now() >= deadline {
            let mut identities: BTreeMap<&String, BTreeSet<&String>> = BTreeMap::new();
            for (what, id) in &seen {
                identities.entry(what).or_default().insert(id);
            }
            let over: Vec<(&&String, &BTreeSet<&String>)> =
                identities.iter().filter(|(w, ids)| ids.len() > expected.get(**w).copied().unwrap_or(0)).collect();
            panic!(
                "{label}: not settled: {} of {} expected messages missing: {missing:?}; \
                 more than expected (or unexpected): {over:?}",
                missing.len(),
                expected.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Checks outgoing messages by the rule of the file's doc: each expected message under
/// exactly its number of distinct identities; repeats of one identity are redeliveries
/// (counted). A Slack post's identity is the post itself, so a second post is a second
/// identity.
fn outgoing_once(label: &str, victim: &Victim, expected: &BTreeMap<String, usize>, seen: &Seen) {
    let mut identities: BTreeMap<&String, BTreeSet<&String>> = BTreeMap::new();
    let mut copies: BTreeMap<&String, usize> = BTreeMap::new();
    for (what, id) in seen {
        identities.entry(what).or_default().insert(id);
        *copies.entry(id).or_default() += 1;
    }
    let unexpected: Vec<&&String> = identities.keys().filter(|w| !expected.contains_key(**w)).collect();
    let lost: Vec<(&String, usize, usize)> = expected
        .iter()
        .map(|(w, n)| (w, *n, identities.get(w).map_or(0, BTreeSet::len)))
        .filter(|(_, n, got)| got < n)
        .collect();
    let twice: Vec<(&String, usize, usize)> = expected
        .iter()
        .map(|(w, n)| (w, *n, identities.get(w).map_or(0, BTreeSet::len)))
        .filter(|(_, n, got)| got > n)
        .collect();
    let redelivered: Vec<(&&String, &usize)> = copies.iter().filter(|(_, n)| **n > 1).collect();
    let total: usize = expected.values().sum();
    eprintln!(
        "kill_per_kind[{label}]: {total} messages expected; {} received, {} distinct identities; \
         in before the kills: {}; lost {}, sent twice {}, redeliveries of one identity {} ({} identities)",
        seen.len(),
        copies.len(),
        victim.at_kills(),
        lost.len(),
        twice.len(),
        seen.len() - copies.len(),
        redelivered.len()
    );
    assert!(unexpected.is_empty(), "{label}: messages nobody expected: {unexpected:?}");
    assert!(lost.is_empty(), "{label}: lost (what, expected, distinct identities seen): {lost:?}");
    assert!(twice.is_empty(), "{label}: sent twice (what, expected, distinct identities seen): {twice:?}");
}

/// Checks incoming messages: each became exactly one thing (`seen` is (message, what it
/// became)).
fn incoming_once(label: &str, victim: &Victim, expected: &BTreeSet<String>, seen: &Seen) {
    let mut made: BTreeMap<&String, Vec<&String>> = BTreeMap::new();
    for (what, id) in seen {
        made.entry(what).or_default().push(id);
    }
    let lost: Vec<&String> = expected.iter().filter(|w| !made.contains_key(w)).collect();
    let twice: Vec<(&&String, &Vec<&String>)> = made.iter().filter(|(_, ids)| ids.len() > 1).collect();
    let unexpected: Vec<&&String> = made.keys().filter(|w| !expected.contains(**w)).collect();
    eprintln!(
        "kill_per_kind[{label}]: {} accepted; {} records made; done before the kills: {}; lost {}, made twice {}",
        expected.len(),
        seen.len(),
        victim.at_kills(),
        lost.len(),
        twice.len()
    );
    assert!(unexpected.is_empty(), "{label}: records of nothing sent: {unexpected:?}");
    assert!(lost.is_empty(), "{label}: accepted but never processed: {lost:?}");
    assert!(twice.is_empty(), "{label}: processed more than once: {twice:?}");
}

fn label(db: &Db, kind: &str) -> String {
    format!("{kind}/{}", if matches!(db, Db::Sqlite(_)) { "sqlite" } else { "postgres" })
}

/// A header of a recorded mail (folded lines joined), empty when absent.
fn header(mail: &str, name: &str) -> String {
    let unfolded = mail.replace("\r\n", "\n").replace("\n ", " ").replace("\n\t", " ");
    let head = unfolded.split("\n\n").next().unwrap_or_default();
    head.lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim()))
        .unwrap_or_default()
        .to_string()
}

/// The recorded mails to `to` whose text contains `text`: (unfolded text, Message-ID).
fn mails_to(mails: &Mails, to: &str, text: &str) -> Vec<(String, String)> {
    let to = format!("<{to}>");
    mails
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, rcpt, _)| rcpt.contains(&to))
        .map(|(_, _, data)| (support::mail_text(data), header(data, "Message-ID")))
        .filter(|(body, _)| body.contains(text))
        .collect()
}

/// The burst marker (`burst-007`) in a text, if any.
fn marker(text: &str) -> Option<String> {
    let at = text.find("burst-")?;
    let digits = text.get(at + 6..at + 9)?;
    digits.chars().all(|c| c.is_ascii_digit()).then(|| format!("burst-{digits}"))
}

/// Whether `text` names the ticket `key` (not a longer key it begins).
fn mentions(text: &str, key: &str) -> bool {
    text.match_indices(key).any(|(at, _)| !text[at + key.len()..].starts_with(|c: char| c.is_ascii_digit()))
}

fn burst(i: usize) -> String {
    format!("burst-{i:03}")
}

async fn tickets(server: &Server, token: &str) -> Vec<Value> {
    let (status, body) = server.call(Method::GET, "/api/v1/tickets?limit=200", Some(token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().unwrap().clone()
}

/// Tickets whose subject carries a burst marker: (marker, ticket key).
async fn burst_tickets(server: &Server, token: &str) -> Seen {
    tickets(server, token)
        .await
        .iter()
        .filter_map(|t| Some((marker(t["subject"].as_str()?)?, t["key"].as_str()?.to_string())))
        .collect()
}

/// Pages: Enterprise P1 tickets each page the org's on-call engineer, who has a webhook and
/// a mail contact method: one delivery per ticket and method.
async fn pages(db: Db) {
    let label = label(&db, "pages");
    let (hooks, log) = support::receiver_answering_after(RECEIVER_LATENCY).await;
    let (smtp_port, mails) = support::smtp_receiver().await;
    let smtp = format!("smtp://127.0.0.1:{smtp_port}");
    let mut victim =
        Victim::start(&db, &["--allow-private-webhooks", "--smtp-url", &smtp, "--mail-domain", MAIL_DOMAIN]);
    let (d, zoe, _, ids) = support::paging_desk(&victim.server, &hooks).await;
    let method = json!({"kind": "email", "address": "nico@stringer.example"});
    let path = format!("/api/v1/users/{}/contact-methods", ids["nico"]);
    victim.server.ok(Method::POST, &path, &d.admin, Some(method)).await;

    let count = 30;
    let look = |opened: &BTreeMap<String, String>| -> Seen {
        let mut seen: Seen = log
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.who == "nico")
            .filter_map(|r| {
                let body: Value = serde_json::from_str(&r.body).ok()?;
                let ticket = body["notice"]["ticket"].as_str()?;
                Some((format!("{} webhook", opened.get(ticket)?), r.key.clone()))
            })
            .collect();
        for (text, id) in mails_to(&mails, "nico@stringer.example", "[Stringer] page") {
            seen.push((format!("{} mail", marker(&text).unwrap_or_default()), id));
        }
        seen
    };
    victim.plan(count);
    // Ticket id → marker.
    let mut opened: BTreeMap<String, String> = BTreeMap::new();
    for i in 0..count {
        let body = json!({"org": "zen", "severity": "P1", "subject": burst(i), "description": "kill test"});
        let t = victim.server.ok(Method::POST, "/api/v1/tickets", &zoe, Some(body)).await;
        opened.insert(t["id"].as_str().unwrap().to_string(), burst(i));
        let done = look(&opened).len();
        victim.after_step(i, done);
    }
    let expected: BTreeMap<String, usize> =
        (0..count).flat_map(|i| [(format!("{} webhook", burst(i)), 1), (format!("{} mail", burst(i)), 1)]).collect();
    let seen = settle(&label, &expected, victim.quiet_from(PAGE_LEASE), || async { look(&opened) }).await;
    outgoing_once(&label, &victim, &expected, &seen);
}

/// Status notices: mail subscribers (subscribed with the page's form and confirmed) and
/// webhook subscribers of the platform page hear of each incident's opening and its update.
async fn status_notices(db: Db) {
    let label = label(&db, "status-notices");
    let (hooks, log) = support::receiver_answering_after(RECEIVER_LATENCY).await;
    let (smtp_port, mails) = support::smtp_receiver().await;
    let smtp = format!("smtp://127.0.0.1:{smtp_port}");
    let mut victim =
        Victim::start(&db, &["--allow-private-webhooks", "--smtp-url", &smtp, "--mail-domain", MAIL_DOMAIN]);
    let server = &victim.server;
    let d = desk(server).await;
    let pages = server.ok(Method::GET, "/api/v1/status-pages", &d.admin, None).await;
    let platform =
        pages.as_array().unwrap().iter().find(|p| p["org"].is_null()).unwrap()["id"].as_str().unwrap().to_string();
    let components = format!("/api/v1/status-pages/{platform}/components");
    let api = server.ok(Method::POST, &components, &d.engineer, Some(json!({"name": "API"}))).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The form takes five subscriptions an hour from one address.
    let readers: Vec<String> = (0..5).map(|i| format!("reader{i}@reader.example")).collect();
    let client = reqwest::Client::new();
    for reader in &readers {
        let form = serde_urlencoded::to_string([("email", reader.as_str()), ("component", api.as_str())]).unwrap();
        let response = client
            .post(format!("{}/status/subscribe", server.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{reader} subscribes");
    }
    for reader in &readers {
        let confirmation = until(&format!("{reader}'s confirmation"), || async {
            mails_to(&mails, reader, "Confirm here: ").pop().map(|(text, _)| text)
        })
        .await;
        let start = confirmation.find("Confirm here: ").unwrap() + "Confirm here: ".len();
        let link = confirmation[start..].split_whitespace().next().unwrap().to_string();
        let confirmed = client.post(format!("{link}/confirm")).send().await.unwrap();
        assert_eq!(confirmed.status(), StatusCode::OK, "{reader} confirms");
    }
    let hookers: Vec<String> = (0..10).map(|i| format!("sub{i}")).collect();
    for who in &hookers {
        let body = json!({"kind": "webhook", "address": format!("{hooks}/hook/{who}")});
        server.ok(Method::POST, &format!("/api/v1/status-pages/{platform}/subscribers"), &d.engineer, Some(body)).await;
    }

    // Each incident is opened and updated: two notices per subscriber and incident.
    let incidents = 6;
    let look = || -> Seen {
        let mut seen: Seen = Vec::new();
        for reader in &readers {
            for (text, id) in mails_to(&mails, reader, "burst-") {
                seen.push((format!("{reader} {}", marker(&text).unwrap_or_default()), id));
            }
        }
        for r in log.lock().unwrap().iter() {
            let name =
                serde_json::from_str::<Value>(&r.body).ok().and_then(|b| marker(b["incident"]["name"].as_str()?));
            seen.push((format!("{} {}", r.who, name.unwrap_or_default()), r.key.clone()));
        }
        seen
    };
    victim.plan(incidents * 2);
    let path = format!("/api/v1/status-pages/{platform}/incidents");
    let mut opened = Vec::new();
    for step in 0..incidents * 2 {
        let i = step / 2;
        if step % 2 == 0 {
            let body = json!({"name": burst(i), "status": "investigating", "body": "Looking.",
                "components": [{"id": api, "status": "major_outage"}]});
            let created = victim.server.ok(Method::POST, &path, &d.engineer, Some(body)).await;
            opened.push(created["id"].as_str().unwrap().to_string());
        } else {
            let body = json!({"status": "identified", "body": "Found it."});
            victim.server.ok(Method::POST, &format!("{path}/{}/updates", opened[i]), &d.engineer, Some(body)).await;
        }
        let done = look().len();
        victim.after_step(step, done);
    }
    let expected: BTreeMap<String, usize> = (0..incidents)
        .flat_map(|i| readers.iter().chain(&hookers).map(move |s| (format!("{s} {}", burst(i)), 2)))
        .collect();
    let seen = settle(&label, &expected, victim.quiet_from(OUTBOX_LEASE), || async { look() }).await;
    outgoing_once(&label, &victim, &expected, &seen);
}

/// Report announcements: each published post-incident report is posted in the org's Slack
/// channel and mailed to each of its admins.
async fn announcements(db: Db) {
    let label = label(&db, "announcements");
    let (smtp_port, mails) = support::smtp_receiver().await;
    let (slack, posts) = support::slack_api(&[]).await;
    let smtp = format!("smtp://127.0.0.1:{smtp_port}");
    let args =
        ["--smtp-url", &smtp, "--mail-domain", MAIL_DOMAIN, "--slack-token", "xoxb-test", "--slack-api-url", &slack];
    let mut victim = Victim::start(&db, &args);
    let server = &victim.server;
    let d = desk(server).await;
    let lead = json!({"email": "lena@stringer.example", "name": "Lena Lead", "role": "support_lead", "password": "lena-password-123"});
    server.ok(Method::POST, "/api/v1/users", &d.admin, Some(lead)).await;
    let login = json!({"email": "lena@stringer.example", "password": "lena-password-123"});
    let lead = server.ok(Method::POST, "/api/v1/login", "", Some(login)).await["token"].as_str().unwrap().to_string();
    let admins = ["alice@acme.example", "ada@acme.example"];
    let ada = json!({"email": admins[1], "name": "Ada", "role": "org_admin", "org": "acme"});
    server.ok(Method::POST, "/api/v1/users", &d.admin, Some(ada)).await;
    let eng = server.ok(Method::GET, "/api/v1/me", &d.engineer, None).await["id"].as_str().unwrap().to_string();
    let setup = json!({"slack_channel": "#acme-ops", "named_engineers": [eng]});
    server.ok(Method::PATCH, "/api/v1/orgs/acme", &d.admin, Some(setup)).await;
    // The channel's kickoff creates it: the announcements look for themselves in it.
    until("the channel created", || async {
        let created = support::slack_calls(&posts, "conversations.create");
        created.iter().any(|(_, a)| a["name"] == "acme-ops").then_some(())
    })
    .await;

    // Reports resolved, reviewed and approved; publishing them is the burst.
    let count = 8;
    let mut keys = Vec::new();
    for i in 0..count {
        let body = json!({"org": "acme", "severity": "P1", "subject": burst(i), "description": "kill test"});
        let key =
            server.ok(Method::POST, "/api/v1/tickets", &d.alice, Some(body)).await["key"].as_str().unwrap().to_string();
        server.ok(Method::POST, &format!("/api/v1/tickets/{key}/acknowledge"), &d.engineer, None).await;
        server.ok(Method::POST, &format!("/api/v1/tickets/{key}/resolve"), &d.engineer, None).await;
        let steps = format!("/api/v1/tickets/{key}/report/steps");
        server.ok(Method::POST, &steps, &d.engineer, Some(json!({"step": "submit", "revision": 0}))).await;
        server.ok(Method::POST, &steps, &lead, Some(json!({"step": "approve", "revision": 1}))).await;
        keys.push(key);
    }
    let marker_of = |text: &str| marker(text).or_else(|| keys.iter().position(|k| mentions(text, k)).map(burst));
    let look = || -> Seen {
        let mut seen: Seen = Vec::new();
        for admin in admins {
            for (text, id) in mails_to(&mails, admin, "Post-incident report") {
                let what = marker_of(&text).unwrap_or_else(|| header(&text, "Subject"));
                seen.push((format!("{admin} {what}"), id));
            }
        }
        for (n, (_, args)) in support::slack_calls(&posts, "chat.postMessage").into_iter().enumerate() {
            let text = args["text"].as_str().unwrap_or_default();
            if text.contains("post-incident report") {
                let what = marker_of(text).unwrap_or_else(|| text.to_string());
                seen.push((format!("{} {what}", args["channel"].as_str().unwrap_or_default()), format!("post {n}")));
            }
        }
        seen
    };
    victim.plan(count);
    for (i, key) in keys.iter().enumerate() {
        let steps = format!("/api/v1/tickets/{key}/report/steps");
        let done =
            victim.server.ok(Method::POST, &steps, &d.engineer, Some(json!({"step": "publish", "revision": 2}))).await;
        assert_eq!(done["state"], "published", "{done}");
        let done = look().len();
        victim.after_step(i, done);
    }
    let expected: BTreeMap<String, usize> = (0..count)
        .flat_map(|i| {
            admins.iter().map(move |a| (format!("{a} {}", burst(i)), 1)).chain([(format!("#acme-ops {}", burst(i)), 1)])
        })
        .collect();
    let seen = settle(&label, &expected, victim.quiet_from(OUTBOX_LEASE), || async { look() }).await;
    let (mail, slack): (Seen, Seen) = seen.into_iter().partition(|(what, _)| !what.starts_with('#'));
    let (mail_expected, slack_expected): (BTreeMap<String, usize>, BTreeMap<String, usize>) =
        expected.into_iter().partition(|(what, _)| !what.starts_with('#'));
    outgoing_once(&format!("{label}/mail"), &victim, &mail_expected, &mail);
    outgoing_once(&format!("{label}/slack"), &victim, &slack_expected, &slack);
}

/// Letters: each new org admin is mailed the welcome packet.
async fn letters(db: Db) {
    let label = label(&db, "letters");
    let (smtp_port, mails) = support::smtp_receiver().await;
    let smtp = format!("smtp://127.0.0.1:{smtp_port}");
    let mut victim = Victim::start(&db, &["--smtp-url", &smtp, "--mail-domain", MAIL_DOMAIN]);
    let d = desk(&victim.server).await;
    let count = 40;
    let admin = |i: usize| format!("{}@acme.example", burst(i));
    let look = || -> Seen {
        (0..count)
            .flat_map(|i| mails_to(&mails, &admin(i), "welcome packet").into_iter().map(move |(_, id)| (admin(i), id)))
            .collect()
    };
    victim.plan(count);
    for i in 0..count {
        let body = json!({"email": admin(i), "name": burst(i), "role": "org_admin", "org": "acme"});
        victim.server.ok(Method::POST, "/api/v1/users", &d.admin, Some(body)).await;
        let done = look().len();
        victim.after_step(i, done);
    }
    let expected: BTreeMap<String, usize> = (0..count).map(|i| (admin(i), 1)).collect();
    let seen = settle(&label, &expected, victim.quiet_from(OUTBOX_LEASE), || async { look() }).await;
    outgoing_once(&label, &victim, &expected, &seen);
}

/// Posts a customer's message in acme's channel (`CSTRINGER-ACME`), signed as Slack signs
/// it, and checks it is taken.
async fn slack_message(server: &Server, event_id: &str, ts: &str, thread: Option<&str>, text: &str) {
    let mut event = json!({"type": "message", "channel": "CSTRINGER-ACME", "user": "UALICE", "ts": ts, "text": text});
    if let Some(t) = thread {
        event["thread_ts"] = json!(t);
    }
    let body =
        json!({"type": "event_callback", "team_id": "T1", "event_id": event_id, "event_time": 1, "event": event})
            .to_string();
    let timestamp = jiff::Timestamp::now().as_second();
    let signature = stringer_integrations::slack::sign_request(SLACK_SECRET, timestamp, body.as_bytes());
    let (status, answer) =
        support::slack_post_signed(server, "/slack/events", "application/json", &body, timestamp, &signature).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

/// Slack thread updates: public comments written through the API on tickets opened in the
/// org's Slack channel are each posted into the ticket's thread exactly once (a Slack post
/// carries nothing a reader could drop a second copy by: a retry looks for its mark in the
/// thread before it posts).
async fn slack_updates(db: Db) {
    let label = label(&db, "slack-updates");
    let (api, posts) = support::slack_api(&[("UALICE", "alice@acme.example")]).await;
    let args = ["--slack-token", "xoxb-test", "--slack-signing-secret", SLACK_SECRET, "--slack-api-url", &api];
    let mut victim = Victim::start(&db, &args);
    let d = desk(&victim.server).await;
    victim
        .server
        .ok(Method::PATCH, "/api/v1/orgs/acme", &d.admin, Some(json!({"slack_channel": "#stringer-acme"})))
        .await;
    let (threads, per_thread) = (10, 3);
    let ts = |i: usize| format!("1700000100.{:06}", i + 1);
    for i in 0..threads {
        slack_message(&victim.server, &format!("EvUpd{i}"), &ts(i), None, &burst(i)).await;
    }
    let server = &victim.server;
    let opened = until("the tickets opened and answered in their threads", || async {
        let tickets = burst_tickets(server, &d.admin).await;
        let answered = support::slack_calls(&posts, "chat.postMessage")
            .iter()
            .filter(|(_, a)| a.get("thread_ts").is_some())
            .count();
        (tickets.len() == threads && answered == threads).then_some(tickets)
    })
    .await;
    let thread_of: BTreeMap<String, String> =
        opened.iter().map(|(m, key)| (key.clone(), ts(m.trim_start_matches("burst-").parse().unwrap()))).collect();
    let comment = |n: usize| format!("comment {n:03}");
    let look = || -> Seen {
        support::slack_calls(&posts, "chat.postMessage")
            .into_iter()
            .enumerate()
            .filter_map(|(n, (_, a))| {
                let text = a["text"].as_str()?;
                let at = text.find("comment ")?;
                let what = format!("{} {}", a.get("thread_ts")?.as_str()?, text.get(at..at + 11)?);
                Some((what, format!("post {n}")))
            })
            .collect()
    };
    let steps: Vec<(String, usize)> = (0..threads * per_thread).map(|n| (opened[n % threads].1.clone(), n)).collect();
    victim.plan(steps.len());
    for (step, (key, n)) in steps.iter().enumerate() {
        let body = json!({"body": comment(*n), "public": true});
        victim.server.ok(Method::POST, &format!("/api/v1/tickets/{key}/comments"), &d.engineer, Some(body)).await;
        victim.after_step(step, look().len());
    }
    let expected: BTreeMap<String, usize> =
        steps.iter().map(|(key, n)| (format!("{} {}", thread_of[key], comment(*n)), 1)).collect();
    let seen = settle(&label, &expected, victim.quiet_from(OUTBOX_LEASE), || async { look() }).await;
    outgoing_once(&label, &victim, &expected, &seen);
}

/// Mail in: every message accepted over SMTP becomes exactly one ticket, and every reply
/// to one of them (threaded by `References`, sent in the same burst: `replied` per chunk of
/// twenty) one comment on it.
async fn mail_in(db: Db, replied: usize) {
    let label = label(&db, "mail-in");
    // The burst is more than a client may send in a minute by default.
    let args = ["--smtp-listen", "127.0.0.1:0", "--mail-trust-loopback", "--mail-domain", MAIL_DOMAIN];
    let mut victim = Victim::start(&db, &[&args[..], &["--smtp-messages-per-minute", "10000"]].concat());
    let d = desk(&victim.server).await;
    let put = json!({"unknown_senders": "accept", "subject_severity": true, "accept_domains": ["acme.example"]});
    victim.server.ok(Method::PUT, "/api/v1/orgs/acme/mail", &d.admin, Some(put)).await;
    // Each chunk: its openings, then replies to the first few of them.
    let (chunks, per_chunk) = (6, 20);
    let to = format!("support+acme@{MAIL_DOMAIN}");
    let mail = |from: &str, subject: &str, id: &str, extra: &str, body: &str| {
        format!(
            "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{id}@acme.example>\r\n{extra}\
             Date: Tue, 01 Dec 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
        )
    };
    let from = |i: usize| format!("user{}@acme.example", i % 25);
    let replies: BTreeSet<usize> = (0..chunks).flat_map(|c| c * per_chunk..c * per_chunk + replied).collect();
    victim.plan(chunks);
    for c in 0..chunks {
        let openings = (c * per_chunk..(c + 1) * per_chunk)
            .map(|i| (from(i), mail(&from(i), &burst(i), &burst(i), "", "kill test")));
        let answers = (c * per_chunk..c * per_chunk + replied).map(|i| {
            let thread = format!("In-Reply-To: <{0}@acme.example>\r\nReferences: <{0}@acme.example>\r\n", burst(i));
            let raw = mail(
                &from(i),
                &format!("Re: {}", burst(i)),
                &format!("re-{}", burst(i)),
                &thread,
                &format!("reply to {}", burst(i)),
            );
            (from(i), raw)
        });
        let messages: Vec<(String, String)> = openings.chain(answers).collect();
        let batch: Vec<(&str, &str, String)> =
            messages.iter().map(|(f, raw)| (f.as_str(), to.as_str(), raw.clone())).collect();
        support::smtp_deliver(&support::smtp_address(&victim.server), &batch).await;
        let done = burst_tickets(&victim.server, &d.admin).await.len();
        victim.after_step(c, done);
    }
    let expected: BTreeSet<String> =
        (0..chunks * per_chunk).map(burst).chain(replies.iter().map(|i| format!("reply to {}", burst(*i)))).collect();
    let wanted: BTreeMap<String, usize> = expected.iter().map(|m| (m.clone(), 1)).collect();
    let server = &victim.server;
    let look = || async {
        let tickets = burst_tickets(server, &d.admin).await;
        let mut seen = replies_on(server, &d.admin, &tickets, &replies).await;
        seen.extend(tickets);
        seen
    };
    let seen = settle(&label, &wanted, victim.quiet_from(INTAKE_LEASE), look).await;
    incoming_once(&label, &victim, &expected, &seen);
}

/// The comments `reply to burst-NNN` on the tickets (marker, key) of the `replied` bursts:
/// (comment body, comment id).
async fn replies_on(server: &Server, token: &str, tickets: &Seen, replied: &BTreeSet<usize>) -> Seen {
    let mut seen = Vec::new();
    for (m, key) in tickets {
        if !replied.iter().any(|i| burst(*i) == *m) {
            continue;
        }
        let comments = server.ok(Method::GET, &format!("/api/v1/tickets/{key}/comments"), token, None).await;
        for c in comments["items"].as_array().unwrap() {
            let body = c["body"].as_str().unwrap_or_default();
            if body.starts_with("reply to ") {
                seen.push((body.to_string(), c["id"].to_string()));
            }
        }
    }
    seen
}

/// Events API v2: each trigger opens one ticket; with `follow_ups`, a repeated trigger
/// opens nothing more and each acknowledgement and resolution sent after the triggers is
/// applied once to its ticket.
async fn signals(db: Db, follow_ups: bool) {
    let label = label(&db, "events-v2");
    let mut victim = Victim::start(&db, &[]);
    let d = desk(&victim.server).await;
    let created = victim
        .server
        .ok(
            Method::POST,
            "/api/v1/orgs/acme/integration-keys",
            &d.admin,
            Some(json!({"name": "Prometheus", "kind": "events_v2"})),
        )
        .await;
    let secret = created["key"].as_str().unwrap().to_string();
    // (event action, alert): a trigger for each alert, then (with follow-ups) a repeated
    // trigger for the first third, an acknowledgement of the first half and a resolution of
    // the first quarter, in the order sent.
    let alerts = 60;
    let (acked, resolved) = if follow_ups { (alerts / 2, alerts / 4) } else { (0, 0) };
    let repeats = if follow_ups { alerts / 3 } else { 0 };
    let mut events: Vec<(&str, usize)> = (0..alerts).chain(0..repeats).map(|i| ("trigger", i)).collect();
    events.extend((0..acked).map(|i| ("acknowledge", i)));
    events.extend((0..resolved).map(|i| ("resolve", i)));
    victim.plan(events.len());
    for (step, (action, i)) in events.iter().enumerate() {
        let mut event = json!({"routing_key": secret, "event_action": action, "dedup_key": burst(*i)});
        if *action == "trigger" {
            event["payload"] = json!({"summary": burst(*i), "source": "db1.prod", "severity": "critical"});
        }
        let (status, body) = victim
            .server
            .raw(Method::POST, "/v2/enqueue", "", event.to_string().into_bytes(), "application/json")
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let done =
            if victim.kill_after.contains(&step) { burst_tickets(&victim.server, &d.admin).await.len() } else { 0 };
        victim.after_step(step, done);
    }
    let expected: BTreeSet<String> = (0..alerts).map(burst).collect();
    let server = &victim.server;
    let wanted: BTreeMap<String, usize> = expected.iter().map(|m| (m.clone(), 1)).collect();
    let seen = settle(&label, &wanted, victim.quiet_from(INTAKE_LEASE), || burst_tickets(server, &d.admin)).await;
    incoming_once(&label, &victim, &expected, &seen);
    // Each acknowledgement and resolution once on its ticket's timeline (the intake is idle
    // by now; a short wait for the last of them).
    let actions = || async {
        let (mut counts, mut wrong) = (BTreeMap::<&str, usize>::new(), Vec::new());
        for (m, key) in &seen {
            let i: usize = m.trim_start_matches("burst-").parse().unwrap();
            let path = format!("/api/v1/tickets/{key}/timeline?limit=500");
            let timeline = server.ok(Method::GET, &path, &d.engineer, None).await;
            let items = timeline["items"].as_array().unwrap();
            for (kind, owed) in [("ticket.acknowledged", i < acked), ("ticket.resolved", i < resolved)] {
                let n = items.iter().filter(|e| e["kind"] == kind).count();
                *counts.entry(kind).or_default() += n;
                if n != usize::from(owed) {
                    wrong.push(format!("{m} ({key}): {kind} {n} times, owed {}", usize::from(owed)));
                }
            }
        }
        (counts, wrong)
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let (counts, wrong) = loop {
        let (counts, wrong) = actions().await;
        if wrong.is_empty() || Instant::now() > deadline {
            break (counts, wrong);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    eprintln!(
        "kill_per_kind[{label}]: {} events accepted ({} acknowledgements, {} resolutions); applied: {counts:?}; wrong: {}",
        events.len(),
        acked,
        resolved,
        wrong.len()
    );
    assert!(wrong.is_empty(), "{label}: signals not applied exactly once ({}): {wrong:#?}", wrong.len());
}

/// Slack channel messages: each customer message in the org's channel opens one ticket;
/// with `follow_ups`, each of ten replies in the threads of the first tickets (sent after
/// the openings) is one comment, and each opening is answered exactly once in its thread
/// (a Slack post carries nothing a reader could drop a second copy by).
async fn slack_in(db: Db, follow_ups: bool) {
    let label = label(&db, "slack-in");
    let (api, posts) = support::slack_api(&[("UALICE", "alice@acme.example")]).await;
    let args = ["--slack-token", "xoxb-test", "--slack-signing-secret", SLACK_SECRET, "--slack-api-url", &api];
    let mut victim = Victim::start(&db, &args);
    let d = desk(&victim.server).await;
    let setup = json!({"slack_channel": "#stringer-acme"});
    victim.server.ok(Method::PATCH, "/api/v1/orgs/acme", &d.admin, Some(setup)).await;
    let openings = 30;
    let replies = if follow_ups { 10 } else { 0 };
    let ts = |i: usize| format!("1700000000.{:06}", i + 1);
    // (event id, message ts, thread, text)
    let mut messages: Vec<(String, String, Option<String>, String)> =
        (0..openings).map(|i| (format!("EvOpen{i}"), ts(i), None, burst(i))).collect();
    messages.extend(
        (0..replies).map(|i| (format!("EvReply{i}"), ts(openings + i), Some(ts(i)), format!("reply to {}", burst(i)))),
    );
    victim.plan(messages.len());
    for (step, (event_id, ts, thread, text)) in messages.iter().enumerate() {
        slack_message(&victim.server, event_id, ts, thread.as_deref(), text).await;
        let done =
            if victim.kill_after.contains(&step) { burst_tickets(&victim.server, &d.admin).await.len() } else { 0 };
        victim.after_step(step, done);
    }
    let server = &victim.server;
    // Tickets by their opening, and comments by their reply.
    let replied: BTreeSet<usize> = (0..replies).collect();
    let look = || async {
        let tickets = burst_tickets(server, &d.admin).await;
        let mut seen = replies_on(server, &d.admin, &tickets, &replied).await;
        seen.extend(tickets);
        seen
    };
    let expected: BTreeSet<String> = messages.iter().map(|(_, _, _, text)| text.clone()).collect();
    let wanted: BTreeMap<String, usize> = expected.iter().map(|m| (m.clone(), 1)).collect();
    let seen = settle(&label, &wanted, victim.quiet_from(INTAKE_LEASE), look).await;
    incoming_once(&label, &victim, &expected, &seen);

    if !follow_ups {
        return;
    }
    // Each opening is answered once in its thread (a Slack post: every copy is seen; a retry
    // looks for its mark in the thread before it posts).
    let answers = || async {
        support::slack_calls(&posts, "chat.postMessage")
            .into_iter()
            .enumerate()
            .filter_map(|(n, (_, a))| Some((format!("thread {}", a.get("thread_ts")?.as_str()?), format!("post {n}"))))
            .collect::<Seen>()
    };
    let expected: BTreeMap<String, usize> = (0..openings).map(|i| (format!("thread {}", ts(i)), 1)).collect();
    let label = format!("{label}/answers");
    let answers = settle(&label, &expected, victim.quiet_from(OUTBOX_LEASE), answers).await;
    outgoing_once(&label, &victim, &expected, &answers);
}
