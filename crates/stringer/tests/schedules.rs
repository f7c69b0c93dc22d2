//! On-call schedules through the API: rotations that hand off at 09:00 local across a DST
//! change, overrides (conflicts refused), who is on call, routing a page to the person on
//! call, and iCalendar feeds read back by a real parser (Python's `icalendar`, in the
//! virtualenv the test command prepares; `STRINGER_TEST_PYTHON` names its interpreter).

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::{Db, Server, desk, open_ticket, parse_ics, receiver};

async fn fetch(server: &Server, path: &str) -> (StatusCode, String) {
    let resp = reqwest::get(format!("{}{path}", server.base)).await.unwrap();
    (resp.status(), resp.text().await.unwrap())
}

async fn schedules(db: Db) {
    let (hooks, log) = receiver().await;
    let server = Server::start(&db, &["--allow-private-webhooks"]);
    let d = desk(&server).await;
    let mut ids = Vec::new();
    for name in ["ana", "ben"] {
        let user = server
            .ok(
                Method::POST,
                "/api/v1/users",
                &d.admin,
                Some(json!({"email": format!("{name}@stringer.example"), "name": name, "role": "engineer"})),
            )
            .await;
        let id = user["id"].as_str().unwrap().to_string();
        server
            .ok(
                Method::POST,
                &format!("/api/v1/users/{id}/contact-methods"),
                &d.admin,
                Some(json!({"kind": "webhook", "address": format!("{hooks}/hook/{name}")})),
            )
            .await;
        ids.push(id);
    }
    let (ana, ben) = (ids[0].clone(), ids[1].clone());
    let rotation = json!({"name": "daily", "time_zone": "America/New_York", "members": [ana, ben], "shift_days": 1, "handoff": "09:00", "start": "2026-10-30"});
    let created = server
        .ok(
            Method::POST,
            "/api/v1/schedules",
            &d.admin,
            Some(json!({"name": "Platform", "layers": [{"rotation": rotation}]})),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let feed = created["ics_path"].as_str().unwrap().to_string();

    // Hand-offs stay at 09:00 local across the end of DST (Sunday 1 November): 25-hour shift.
    let shifts = server
        .ok(
            Method::GET,
            &format!("/api/v1/schedules/{id}/shifts?from=2026-10-30T13:00:00Z&to=2026-11-02T14:00:00Z"),
            &d.engineer,
            None,
        )
        .await;
    let got: Vec<(String, String, String)> = shifts["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (s["start"].as_str().unwrap().into(), s["end"].as_str().unwrap().into(), s["user"].as_str().unwrap().into())
        })
        .collect();
    let expected = [
        ("2026-10-30T13:00:00Z", "2026-10-31T13:00:00Z", &ana),
        ("2026-10-31T13:00:00Z", "2026-11-01T14:00:00Z", &ben),
        ("2026-11-01T14:00:00Z", "2026-11-02T14:00:00Z", &ana),
    ]
    .map(|(a, b, u)| (a.to_string(), b.to_string(), u.to_string()));
    assert_eq!(got, expected);

    // Overrides: add, conflict refused naming the first, replace, remove.
    let path = format!("/api/v1/schedules/{id}/overrides");
    let with = server
        .ok(
            Method::POST,
            &path,
            &d.admin,
            Some(json!({"from": "2026-11-02T14:00:00Z", "to": "2026-11-02T18:00:00Z", "user": ben})),
        )
        .await;
    let ovr = with["spec"]["overrides"][0]["id"].as_str().unwrap().to_string();
    let at = |t: &str| format!("/api/v1/schedules/{id}/on-call?at={t}");
    assert_eq!(server.ok(Method::GET, &at("2026-11-02T15:00:00Z"), &d.engineer, None).await["user"], json!(ben));
    let (status, problem) = server
        .call(
            Method::POST,
            &path,
            Some(&d.admin),
            Some(json!({"from": "2026-11-02T17:00:00Z", "to": "2026-11-02T20:00:00Z", "user": ana})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(problem["detail"].as_str().unwrap().contains(&ovr), "{problem}");
    server.ok(Method::PUT, &format!("{path}/{ovr}"), &d.admin, Some(json!({"user": ana}))).await;
    assert_eq!(server.ok(Method::GET, &at("2026-11-02T15:00:00Z"), &d.engineer, None).await["user"], json!(ana));
    server.ok(Method::DELETE, &format!("{path}/{ovr}"), &d.admin, None).await;
    assert_eq!(server.ok(Method::GET, &at("2026-11-02T15:00:00Z"), &d.engineer, None).await["source"], "layer 0");
    // Only admins and support leads edit; customers do not see schedules at all.
    assert_eq!(
        server
            .call(
                Method::POST,
                &path,
                Some(&d.engineer),
                Some(json!({"from": "2026-11-03T14:00:00Z", "to": "2026-11-03T15:00:00Z", "user": ana}))
            )
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        server.call(Method::GET, &format!("/api/v1/schedules/{id}"), Some(&d.bob), None).await.0,
        StatusCode::NOT_FOUND
    );
    // A bad rotation is refused with its key path.
    let (status, problem) = server.call(Method::POST, "/api/v1/schedules", Some(&d.admin), Some(json!({"name": "x", "layers": [{"rotation": {"name": "r", "time_zone": "Mars/Base", "members": [ana], "shift_days": 1, "handoff": "09:00", "start": "2026-10-30"}}]}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem["detail"].as_str().unwrap().contains("time_zone"), "{problem}");

    // The feed: secret URL, no bearer token; a wrong token answers as a missing calendar.
    let (status, ics) = fetch(&server, &feed).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetch(&server, &feed.replace("token=stg_", "token=stg_x")).await.0, StatusCode::NOT_FOUND);
    if let Some(events) = parse_ics(&ics) {
        assert!(events.len() >= 60, "{} events", events.len());
        let (first, last) = (&events[0].0, &events.last().unwrap().1);
        let api = server
            .ok(Method::GET, &format!("/api/v1/schedules/{id}/shifts?from={first}&to={last}"), &d.engineer, None)
            .await;
        let api: Vec<(String, String)> = api["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["start"].as_str().unwrap().into(), s["end"].as_str().unwrap().into()))
            .collect();
        let parsed: Vec<(String, String)> = events.iter().map(|e| (e.0.clone(), e.1.clone())).collect();
        assert_eq!(parsed, api, "the feed's events are the schedule's shifts");
    }
    let user_feed = server.ok(Method::POST, &format!("/api/v1/users/{ana}/calendar-feed"), &d.admin, None).await;
    let (status, mine) = fetch(&server, user_feed["ics_path"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    if let Some(events) = parse_ics(&mine) {
        assert!(!events.is_empty() && events.iter().all(|e| e.2 == "On call: Platform"));
    }

    // A Pro P1 (bolt has no named engineers) pages whoever the platform schedule has on call.
    let now_on_call =
        server.ok(Method::GET, &format!("/api/v1/schedules/{id}/on-call"), &d.engineer, None).await["user"]
            .as_str()
            .unwrap()
            .to_string();
    let who = if now_on_call == ana { "ana" } else { "ben" };
    let ticket = open_ticket(&server, &d.bob, "bolt", "P1").await["id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    while log.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "no page delivered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = log.lock().unwrap()[0].clone();
    let body: Value = serde_json::from_str(&got.body).unwrap();
    assert_eq!((got.who.as_str(), body["notice"]["ticket"].as_str().unwrap()), (who, ticket.as_str()));
}
both_backends!(schedules_rotate_override_feed_and_route_pages, schedules);
