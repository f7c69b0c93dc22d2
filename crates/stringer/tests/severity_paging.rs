//! End to end, on a contract whose durations are seconds (the TAM step at 5 s, the VP step at
//! 10 s; Enterprise responses due in 20 s for a P1, 40 s for a P2, 60 s for a P3): severity
//! changes page as docs/contract.md says — a step passed over because of the severity fires
//! when the ticket is raised, lowering after a raise counts from the opening, a P1 lowered
//! and raised back is paged again, an acknowledged ticket is never paged again — and a slow
//! receiver (8 s an answer, a burst of its pages waiting) delays no other page: every other
//! page reaches its local webhook receiver within 1 s of its instant. The simulator, given
//! the events the server recorded, decides the same notices at the same instants.

use crate::support;

use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};
use support::{Db, Log, Server, paging_desk, receiver};

/// The seconds contract: the seed's terms with minutes and hours made seconds.
fn seconds_contract() -> std::path::PathBuf {
    support::contract_with(&[
        ("{ notify = \"tam\", after = \"15 minutes\"", "{ notify = \"tam\", after = \"5 seconds\""),
        (
            "{ notify = \"vp_engineering\", after = \"30 minutes\"",
            "{ notify = \"vp_engineering\", after = \"10 seconds\"",
        ),
        ("P1 = { within = \"1 hour\" }", "P1 = { within = \"20 seconds\" }"),
        ("P2 = { within = \"4 hours\" }", "P2 = { within = \"40 seconds\" }"),
        (
            "P3 = { within = \"8 business hours\", calendar = \"enterprise_coverage\" }",
            "P3 = { within = \"60 seconds\" }",
        ),
    ])
}

/// The wall clock as Unix seconds (with the fraction).
fn unix(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs_f64()
}

fn instant_of(v: &Value) -> i64 {
    v.as_str().unwrap().parse::<jiff::Timestamp>().unwrap().as_second()
}

/// Opens a ticket; answers its id and the wall-clock instant the request was sent.
async fn open(server: &Server, token: &str, org: &str, severity: &str) -> (String, f64) {
    let sent = unix(SystemTime::now());
    let t = support::open_ticket(server, token, org, severity).await;
    (t["id"].as_str().unwrap().to_string(), sent)
}

/// Changes a ticket's severity; answers the wall-clock instant the request was sent.
async fn set_severity(server: &Server, token: &str, id: &str, severity: &str) -> f64 {
    let sent = unix(SystemTime::now());
    server.ok(Method::PATCH, &format!("/api/v1/tickets/{id}"), token, Some(json!({"severity": severity}))).await;
    sent
}

async fn at_second(start: Instant, seconds: f64) {
    tokio::time::sleep((start + Duration::from_secs_f64(seconds)).saturating_duration_since(Instant::now())).await;
}

async fn timeline(server: &Server, token: &str, id: &str) -> Vec<Value> {
    server.ok(Method::GET, &format!("/api/v1/tickets/{id}/timeline"), token, None).await["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// Pages the receiver got for `ticket`: (who, role, wall-clock arrival).
fn pages_for(log: &Log, ticket: &str) -> Vec<(String, String, f64)> {
    log.lock()
        .unwrap()
        .iter()
        .filter_map(|r| {
            let body: Value = serde_json::from_str(&r.body).ok()?;
            (body["notice"]["ticket"] == ticket && body["notice"]["kind"] == "page")
                .then(|| (r.who.clone(), body["notice"]["role"].as_str().unwrap_or_default().to_string(), unix(r.wall)))
        })
        .collect()
}

/// What the server's timeline and the simulator both decide, compared: (kind, role or
/// target, instant).
fn notices(entries: &[Value]) -> Vec<(String, String, i64)> {
    entries
        .iter()
        .filter(|e| matches!(e["kind"].as_str(), Some("page" | "sla.met" | "sla.breached" | "queue.notified")))
        .map(|e| {
            let b = if e["body"].is_object() { &e["body"] } else { e };
            let what = b["role"].as_str().or(b["target"].as_str()).unwrap_or_default().to_string();
            (b["kind"].as_str().unwrap().to_string(), what, instant_of(&b["at"]))
        })
        .collect()
}

/// Runs `stringer simulate` on the events the server recorded for these tickets, until
/// `until` (Unix seconds).
fn simulate(contract: &std::path::Path, events: &[Value], until: i64) -> Vec<Value> {
    let mut events = events.to_vec();
    events.sort_by_key(|e| instant_of(&e["at"]));
    let mut scenario =
        String::from("{\"kind\":\"org\",\"org\":\"zen\",\"tier\":\"enterprise\",\"deployment\":\"dedicated\"}\n");
    for e in &events {
        scenario.push_str(&e.to_string());
        scenario.push('\n');
    }
    let path = std::env::temp_dir().join(format!("{}.jsonl", support::unique("stringer-severity-scenario")));
    std::fs::write(&path, scenario).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stringer"))
        .args(["simulate", path.to_str().unwrap(), "--contract", contract.to_str().unwrap()])
        .args(["--until", &jiff::Timestamp::from_second(until).unwrap().to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "simulate: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

async fn severity_changes_page_on_time(db: Db) {
    let (hooks, log) = receiver().await;
    let contract = seconds_contract();
    let server = Server::start(
        &db,
        &["--contract", contract.to_str().unwrap(), "--allow-private-webhooks", "--metrics-listen", "127.0.0.1:0"],
    );
    let (d, zoe, _, _) = paging_desk(&server, &hooks).await;

    // The org "slo", whose on-call engineer sam takes 8 s to answer a webhook.
    let mut ids = HashMap::new();
    for (name, role, address) in
        [("sam", "engineer", format!("{hooks}/slow/8/sam")), ("tim", "tam", format!("{hooks}/hook/tim"))]
    {
        let body = json!({"email": format!("{name}@stringer.example"), "name": name, "role": role});
        let id =
            server.ok(Method::POST, "/api/v1/users", &d.admin, Some(body)).await["id"].as_str().unwrap().to_string();
        let method = json!({"kind": "webhook", "address": address});
        server.ok(Method::POST, &format!("/api/v1/users/{id}/contact-methods"), &d.admin, Some(method)).await;
        ids.insert(name, id);
    }
    let org = json!({"slug": "slo", "name": "Slo", "tier": "enterprise", "deployment": "dedicated", "tam": ids["tim"], "named_engineers": [ids["sam"]]});
    server.ok(Method::POST, "/api/v1/orgs", &d.admin, Some(org)).await;
    let sue = json!({"email": "sue@slo.example", "name": "sue", "role": "member", "org": "slo", "password": "sue-password-123"});
    server.ok(Method::POST, "/api/v1/users", &d.admin, Some(sue)).await;
    let login = json!({"email": "sue@slo.example", "password": "sue-password-123"});
    let sue = server.ok(Method::POST, "/api/v1/login", "", Some(login)).await["token"].as_str().unwrap().to_string();

    // A burst of P1s at slo: six pages wait on sam's slow receiver.
    let mut slow = Vec::new();
    for _ in 0..6 {
        slow.push(open(&server, &sue, "slo", "P1").await.0);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Meanwhile at zen (each a path of docs/contract.md), and a burst of twenty P1s.
    let start = Instant::now();
    let (a, a_opened) = open(&server, &zoe, "zen", "P2").await; // raised to P1 after the VP step's time
    let (b, _) = open(&server, &zoe, "zen", "P3").await; // raised to P1, lowered back to P3
    let (c, c_opened) = open(&server, &zoe, "zen", "P1").await; // lowered to P3, raised back to P1
    let (e, e_opened) = open(&server, &zoe, "zen", "P2").await; // acknowledged, then raised
    let incident =
        json!({"org": "zen", "severity": "P1", "subject": "a breach", "description": "details", "security": true});
    let s = server.ok(Method::POST, "/api/v1/tickets", &zoe, Some(incident)).await["id"].as_str().unwrap().to_string();
    let mut burst = Vec::new();
    for _ in 0..20 {
        burst.push(open(&server, &zoe, "zen", "P1").await);
    }
    at_second(start, 1.5).await;
    server.ok(Method::POST, &format!("/api/v1/tickets/{e}/acknowledge"), &d.engineer, None).await;
    server.ok(Method::POST, &format!("/api/v1/tickets/{s}/acknowledge"), &d.engineer, None).await;
    at_second(start, 2.0).await;
    let b_raised = set_severity(&server, &d.engineer, &b, "P1").await;
    set_severity(&server, &d.engineer, &c, "P3").await;
    set_severity(&server, &d.engineer, &e, "P1").await;
    at_second(start, 3.0).await;
    for (id, _) in &burst {
        server.ok(Method::POST, &format!("/api/v1/tickets/{id}/acknowledge"), &d.engineer, None).await;
    }
    at_second(start, 4.0).await;
    set_severity(&server, &d.engineer, &b, "P3").await;
    let c_raised = set_severity(&server, &d.engineer, &c, "P1").await;
    at_second(start, 12.0).await;
    let a_raised = set_severity(&server, &d.engineer, &a, "P1").await;

    // Everything due has happened by 17 s after the start; the slow receiver's six pages
    // (two at a time, 8 s each) by about 26 s.
    support::until("sam's six pages", || async {
        let got = slow.iter().map(|t| pages_for(&log, t).iter().filter(|p| p.0 == "sam").count()).sum::<usize>();
        (got >= 6 && start.elapsed() > Duration::from_secs(17)).then_some(())
    })
    .await;
    // The security incident's bridge, due with its response (20 s), nobody joined: the TAM
    // hears of it (the contract's [security.bridge] overdue_notify), on time.
    let missed = support::until("the missed bridge told to the TAM", || async {
        log.lock().unwrap().iter().find_map(|r| {
            let body: Value = serde_json::from_str(&r.body).ok()?;
            (body["notice"]["ticket"] == s.as_str() && body["notice"]["kind"] == "bridge.overdue")
                .then(|| (r.who.clone(), unix(r.wall), instant_of(&body["notice"]["at"])))
        })
    })
    .await;
    assert_eq!(missed.0, "tina");
    assert!(missed.1 - (missed.2 as f64) < 1.0, "the missed bridge arrived {:.2} s late", missed.1 - missed.2 as f64);
    tokio::time::sleep(Duration::from_secs(1)).await;

    // The server's own instants: each ticket's events as recorded (up to two seconds ago, so
    // no timer due before is still running).
    let until = unix(SystemTime::now()) as i64 - 2;
    let mut recorded = HashMap::new();
    for id in [&a, &b, &c, &e] {
        recorded.insert(id.clone(), timeline(&server, &d.admin, id).await);
    }
    let event_at = |id: &str, kind: &str, n: usize| -> i64 {
        recorded[id].iter().filter(|x| x["kind"] == kind).nth(n).map(|x| instant_of(&x["at"])).unwrap()
    };
    let opened = |id: &str| event_at(id, "ticket.opened", 0);
    let changed = |id: &str, n: usize| event_at(id, "ticket.severity_changed", n);

    // Who was paged, and the instant each page was due: a page caused by a request is due
    // when the request was sent; a step is due at its whole second.
    type Expected = Vec<(&'static str, &'static str, f64)>;
    let expected: Vec<(&str, &String, Expected)> = vec![
        (
            "P2 raised to P1 after the VP step's time: the VP at the raise",
            &a,
            vec![
                ("nico", "oncall", a_opened),
                ("tina", "tam", (opened(&a) + 5) as f64),
                ("vera", "vp_engineering", a_raised),
            ],
        ),
        ("P3 raised to P1 and lowered back before the TAM step: on-call only", &b, vec![("nico", "oncall", b_raised)]),
        (
            "P1 lowered and raised back: paged again, the steps timed from the new page",
            &c,
            vec![
                ("nico", "oncall", c_opened),
                ("nico", "oncall", c_raised),
                ("tina", "tam", (changed(&c, 1) + 5) as f64),
                ("vera", "vp_engineering", (changed(&c, 1) + 10) as f64),
            ],
        ),
        ("Acknowledged, then raised: nobody more", &e, vec![("nico", "oncall", e_opened)]),
    ];
    let mut lateness = Vec::new();
    for (promise, id, want) in &expected {
        let got = pages_for(&log, id);
        let who: Vec<(&str, &str)> = got.iter().map(|(w, r, _)| (w.as_str(), r.as_str())).collect();
        let want_who: Vec<(&str, &str)> = want.iter().map(|(w, r, _)| (*w, *r)).collect();
        assert_eq!(who, want_who, "{promise}");
        for ((_, role, arrived), (_, _, due)) in got.iter().zip(want) {
            lateness.push((format!("{promise}: {role}"), arrived - due));
        }
    }
    for (id, sent) in &burst {
        let got = pages_for(&log, id);
        assert_eq!(got.len(), 1, "one page for each ticket of the burst");
        lateness.push(("burst: oncall".to_string(), got[0].2 - sent));
    }
    for (what, late) in &lateness {
        assert!(*late < 1.0, "{what} arrived {late:.2} s after its instant, while sam's receiver was slow");
    }
    let worst = lateness.iter().map(|l| l.1).fold(f64::MIN, f64::max);
    eprintln!("{} pages to fast receivers, the latest {worst:.3} s after its instant", lateness.len());

    // The response's due instant after the changes, as the contract reads.
    let due_of = |t: &Value| instant_of(&t["sla"][0]["due"]);
    let mut now = HashMap::new();
    for id in [&a, &b, &c, &e] {
        now.insert(id.clone(), server.ok(Method::GET, &format!("/api/v1/tickets/{id}"), &d.admin, None).await);
    }
    assert_eq!(due_of(&now[&a]), changed(&a, 0) + 20, "raised: 20 s from the raise");
    assert_eq!(due_of(&now[&b]), opened(&b) + 60, "lowered after a raise: 60 s from the opening");
    assert_eq!(due_of(&now[&c]), changed(&c, 1) + 20, "raised again: 20 s from that raise");
    assert_eq!(now[&e]["sla"][0]["state"], "met");

    // The lowered ticket went back to the queue.
    let kinds: Vec<&str> = recorded[&b].iter().map(|x| x["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "queue.notified").count(), 2, "{kinds:?}");

    // The simulator, given the events the server recorded, decides the same: every page,
    // queue notice and met target, at the same instant (a timer's notice to the second it
    // ran, so one second of lag is allowed there).
    for id in [&a, &b, &c, &e] {
        let events: Vec<Value> = recorded[id]
            .iter()
            .filter(|x| x["kind"].as_str().unwrap().starts_with("ticket.") || x["kind"] == "customer.page_requested")
            .map(|x| x["body"].clone())
            .collect();
        let simulated = notices(&simulate(&contract, &events, until));
        let served: Vec<_> = notices(&recorded[id]).into_iter().filter(|n| n.2 <= until).collect();
        assert_eq!(simulated.len(), served.len(), "{id}: simulated {simulated:?}, served {served:?}");
        for (s, r) in simulated.iter().zip(&served) {
            assert_eq!((&s.0, &s.1), (&r.0, &r.1), "{id}: simulated {simulated:?}, served {served:?}");
            assert!((0..=1).contains(&(r.2 - s.2)), "{id}: simulated {simulated:?}, served {served:?}");
        }
    }

    // The slow receiver's pages did arrive, two at a time, and the wait is measured.
    let metrics = reqwest::get(server.metrics.as_deref().unwrap()).await.unwrap().text().await.unwrap();
    let count = metrics
        .lines()
        .find(|l| l.starts_with("stringer_delivery_lag_seconds_count{urgency=\"page\"}"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or_default();
    assert!(count >= lateness.len() as f64, "page delivery lag is measured: {count}\n{metrics}");
}

both_backends!(severity_changes_page_on_time_on, severity_changes_page_on_time);
