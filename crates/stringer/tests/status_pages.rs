//! Status pages, black-box on SQLite and PostgreSQL: staff build the public page and a
//! dedicated tenant's page through the API; an incident moves the page's state and its
//! components, resolving gives them back; the Statuspage documents answer with ETags (304
//! on a match), public caching and CORS; a tenant's page is 404 to everyone but its org's
//! people and the staff who see it (a federal org's only to cleared staff); a maintenance
//! starts and completes by itself on time; a page bound to a host name answers at its root;
//! an incident opened from a P1 carries the ticket's org, components and impact; a deleted
//! component leaves its page and its history, and past updates keep its name.
//! (`tests/outside/test_status.py` checks the documents' shapes against fixtures written
//! from Statuspage's documentation, and parses the feeds.)

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Db, Server, desk, until};

both_backends!(status_pages, status_pages_on);
both_backends!(deleted_components_leave_the_page, deleted_components_on);

/// A GET with extra headers: status, headers and body text.
async fn get(
    server: &Server,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let mut request = reqwest::Client::new().get(format!("{}{path}", server.base));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

async fn doc(server: &Server, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
    let (status, _, body) = get(server, path, &headers).await;
    (status, serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

fn page_id(pages: &Value, org: Option<&str>) -> String {
    let page = pages.as_array().unwrap().iter().find(|p| p["org"].as_str() == org).expect("the page is listed");
    page["id"].as_str().unwrap().to_string()
}

fn statuses(summary: &Value) -> Vec<(String, String)> {
    summary["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_string(), c["status"].as_str().unwrap().to_string()))
        .collect()
}

fn status_of(summary: &Value, name: &str) -> String {
    statuses(summary).into_iter().find(|(n, _)| n == name).map(|(_, s)| s).unwrap_or_default()
}

async fn status_pages_on(db: Db) {
    let server = Server::start(&db, &["--tick-seconds", "1"]);
    let d = desk(&server).await;

    // Pages: the public one, and one per dedicated or federal org, each seen by whom may.
    let all = server.ok(Method::GET, "/api/v1/status-pages", &d.admin, None).await;
    let orgs: Vec<Option<&str>> = all.as_array().unwrap().iter().map(|p| p["org"].as_str()).collect();
    assert_eq!(orgs, [None, Some("acme"), Some("fedco")], "{all}");
    let seen = server.ok(Method::GET, "/api/v1/status-pages", &d.engineer, None).await;
    assert_eq!(seen.as_array().unwrap().len(), 2, "an uncleared engineer does not see the federal page: {seen}");
    let alice_pages = server.ok(Method::GET, "/api/v1/status-pages", &d.alice, None).await;
    let orgs: Vec<Option<&str>> = alice_pages.as_array().unwrap().iter().map(|p| p["org"].as_str()).collect();
    assert_eq!(orgs, [None, Some("acme")]);
    let platform = page_id(&all, None);
    let acme = page_id(&all, Some("acme"));
    let fedco = page_id(&all, Some("fedco"));

    // Components: a group with two components on the public page, one on acme's.
    let components = |page: &str| format!("/api/v1/status-pages/{page}/components");
    let core = server
        .ok(Method::POST, &components(&platform), &d.engineer, Some(json!({"name": "Core", "group": true})))
        .await;
    let core_id = core["id"].as_str().unwrap().to_string();
    let api = server
        .ok(
            Method::POST,
            &components(&platform),
            &d.engineer,
            Some(json!({"name": "API", "group_id": core_id, "description": "The JSON API"})),
        )
        .await;
    let api_id = api["id"].as_str().unwrap().to_string();
    server
        .ok(Method::POST, &components(&platform), &d.engineer, Some(json!({"name": "Portal", "group_id": core_id})))
        .await;
    let cluster = server.ok(Method::POST, &components(&acme), &d.engineer, Some(json!({"name": "Acme cluster"}))).await;
    let cluster_id = cluster["id"].as_str().unwrap().to_string();

    // Bad input is refused and writes nothing; customers and the unseen may not manage.
    for (body, why) in [
        (json!({"name": "X", "status": "broken"}), "unknown status"),
        (json!({"name": " "}), "blank name"),
        (json!({"name": "X", "group_id": api_id}), "a component is not a group"),
        (json!({"name": "X", "colour": "red"}), "unknown field"),
    ] {
        let (status, problem) = server.call(Method::POST, &components(&platform), Some(&d.engineer), Some(body)).await;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
            "{why}: {status} {problem}"
        );
    }
    let (status, _) =
        server.call(Method::POST, &components(&acme), Some(&d.alice), Some(json!({"name": "Mine"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "customers do not run status pages");
    let (status, _) =
        server.call(Method::POST, &components(&fedco), Some(&d.engineer), Some(json!({"name": "F"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the federal page does not exist for uncleared staff");
    server.ok(Method::POST, &components(&fedco), &d.cleared, Some(json!({"name": "Fed cluster"}))).await;

    // The public documents: everything operational, with ETag, public caching and CORS.
    let (status, headers, body) = get(&server, "/status/api/v2/summary.json", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let summary: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(summary["status"], json!({"indicator": "none", "description": "All Systems Operational"}));
    assert_eq!(statuses(&summary).len(), 3, "the public page shows its own components only: {summary}");
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_eq!(headers["cache-control"], "public, max-age=10");
    let etag = headers["etag"].to_str().unwrap().to_string();
    let (status, headers, body) = get(&server, "/status/api/v2/summary.json", &[("if-none-match", &etag)]).await;
    assert_eq!((status, body.as_str()), (StatusCode::NOT_MODIFIED, ""));
    assert_eq!(headers["etag"].to_str().unwrap(), etag);
    // Browsers get the same document gzipped, under its own ETag.
    let response = reqwest::Client::new()
        .get(format!("{}/status/api/v2/summary.json", server.base))
        .header("accept-encoding", "gzip, deflate, br")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert_eq!(response.headers()["vary"], "Accept-Encoding");
    let gz_etag = response.headers()["etag"].to_str().unwrap().to_string();
    assert_ne!(gz_etag, etag, "each encoding has its own tag");
    let packed = response.bytes().await.unwrap();
    let mut unpacked = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&packed[..]), &mut unpacked).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&unpacked).unwrap(), summary);
    let (status, _, _) =
        get(&server, "/status/api/v2/summary.json", &[("accept-encoding", "gzip"), ("if-none-match", &gz_etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    let (_, headers, _) =
        get(&server, "/status/api/v2/summary.json", &[("accept-encoding", "gzip;q=0, identity")]).await;
    assert!(headers.get("content-encoding").is_none(), "q=0 refuses gzip");
    let (status, _) = doc(&server, "/status/api/v2/nothing.json", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // An incident on the API: the page's state is the worst of impact and components.
    let incidents = format!("/api/v1/status-pages/{platform}/incidents");
    let opened = server
        .ok(
            Method::POST,
            &incidents,
            &d.engineer,
            Some(json!({"name": "API errors", "status": "investigating", "impact": "minor", "body": "We are looking into errors.",
                        "components": [{"id": api_id, "status": "partial_outage"}]})),
        )
        .await;
    let incident_id = opened["id"].as_str().unwrap().to_string();
    assert_eq!(opened["incident_updates"][0]["affected_components"][0]["old_status"], "operational");
    assert_eq!(opened["incident_updates"][0]["affected_components"][0]["new_status"], "partial_outage");
    let (status, summary) = doc(&server, "/status/api/v2/summary.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(summary["status"]["indicator"], "major", "a partial outage outweighs a minor impact: {summary}");
    assert_eq!(status_of(&summary, "API"), "partial_outage");
    assert_eq!(status_of(&summary, "Core"), "partial_outage", "a group is as bad as its worst component");
    assert_eq!(summary["incidents"].as_array().unwrap().len(), 1);
    let (_, _, again) = get(&server, "/status/api/v2/summary.json", &[("if-none-match", &etag)]).await;
    assert!(!again.is_empty(), "a change gives a new ETag");

    // Once a second of it has passed, today's bar of the API tells of the outage.
    until("today's bar shows the partial outage", || async {
        let (_, _, html) = get(&server, "/status", &[]).await;
        html.contains("% uptime, Partial outage").then_some(())
    })
    .await;

    // Invalid updates are refused; resolving gives the components back.
    let updates = format!("{incidents}/{incident_id}/updates");
    let (status, _) =
        server.call(Method::POST, &updates, Some(&d.engineer), Some(json!({"status": "completed", "body": "x"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "completed is a maintenance's status");
    let (status, _) = server
        .call(Method::POST, &updates, Some(&d.engineer), Some(json!({"status": "monitoring", "body": "x", "components": [{"id": cluster_id, "status": "major_outage"}]})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a tenant's component is not on the public page");
    server.ok(Method::POST, &updates, &d.engineer, Some(json!({"status": "resolved", "body": "Fixed."}))).await;
    let (_, summary) = doc(&server, "/status/api/v2/summary.json", None).await;
    assert_eq!(summary["status"]["indicator"], "none");
    assert_eq!(status_of(&summary, "API"), "operational");
    let (_, unresolved) = doc(&server, "/status/api/v2/incidents/unresolved.json", None).await;
    assert_eq!(unresolved["incidents"], json!([]));
    let (_, all_incidents) = doc(&server, "/status/api/v2/incidents.json", None).await;
    let incident = &all_incidents["incidents"][0];
    assert_eq!(incident["status"], "resolved");
    assert!(incident["resolved_at"].is_string());
    let update_statuses: Vec<&str> =
        incident["incident_updates"].as_array().unwrap().iter().map(|u| u["status"].as_str().unwrap()).collect();
    assert_eq!(update_statuses, ["resolved", "investigating"], "updates newest first");
    assert_eq!(incident["incident_updates"][0]["affected_components"][0]["new_status"], "operational");

    // The HTML page, the incident's page and the feeds.
    let (status, _, html) = get(&server, "/status", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("All Systems Operational") && html.contains("API errors"), "{html}");
    assert_eq!(html.matches("class=\"day ").count(), 2 * 90, "two components, 90 days each");
    let (status, _, page) = get(&server, &format!("/status/incidents/{incident_id}"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("We are looking into errors.") && page.contains("Fixed."));
    let (status, headers, atom) = get(&server, "/status/history.atom", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"].to_str().unwrap().starts_with("application/atom+xml"));
    assert!(atom.contains("<title>API errors</title>"));
    let (status, _, rss) = get(&server, "/status/history.rss", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(rss.contains("<rss version=\"2.0\""));

    // A tenant's page: its org's people and the staff who see it; nobody else learns it exists.
    for (path, who, expected) in [
        ("/status/acme/api/v2/summary.json", None, StatusCode::NOT_FOUND),
        ("/status/acme/api/v2/summary.json", Some(&d.bob), StatusCode::NOT_FOUND),
        ("/status/acme/api/v2/summary.json", Some(&d.alice), StatusCode::OK),
        ("/status/acme/api/v2/summary.json", Some(&d.engineer), StatusCode::OK),
        ("/status/acme/history.atom", None, StatusCode::NOT_FOUND),
        ("/status/acme", None, StatusCode::NOT_FOUND),
        ("/status/fedco/api/v2/summary.json", Some(&d.engineer), StatusCode::NOT_FOUND),
        ("/status/fedco/api/v2/summary.json", Some(&d.cleared), StatusCode::OK),
        ("/status/fedco/api/v2/summary.json", Some(&d.fiona), StatusCode::OK),
        ("/status/bolt/api/v2/summary.json", Some(&d.admin), StatusCode::NOT_FOUND),
        ("/status/nobody/api/v2/summary.json", Some(&d.admin), StatusCode::NOT_FOUND),
        ("/status/acme/api/v2/summary.json", Some(&"stg_not-a-token".to_string()), StatusCode::NOT_FOUND),
    ] {
        let (status, body) = doc(&server, path, who.map(String::as_str)).await;
        assert_eq!(status, expected, "{path} as {who:?}: {body}");
    }
    let auth = format!("Bearer {}", d.alice);
    let (_, headers, body) = get(&server, "/status/acme/api/v2/summary.json", &[("authorization", &auth)]).await;
    assert_eq!(headers["cache-control"], "private, no-cache");
    assert!(headers.get("access-control-allow-origin").is_none(), "a private page is not readable cross-origin");
    let tenant: Value = serde_json::from_str(&body).unwrap();
    let names: Vec<String> = statuses(&tenant).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["Core", "API", "Portal", "Acme cluster"], "the platform's components, then its own");
    let (_, fed) = doc(&server, "/status/fedco/api/v2/components.json", Some(&d.cleared)).await;
    assert!(!fed.to_string().contains("Acme cluster"), "one tenant's components never show on another's page");

    // A maintenance starts and completes on time by itself.
    let now = jiff::Timestamp::now();
    let from = (now + jiff::SignedDuration::from_secs(2)).to_string();
    let to = (now + jiff::SignedDuration::from_secs(4)).to_string();
    let acme_incidents = format!("/api/v1/status-pages/{acme}/incidents");
    let (status, _) = server
        .call(
            Method::POST,
            &acme_incidents,
            Some(&d.engineer),
            Some(json!({"name": "M", "status": "scheduled", "body": "b", "maintenance": true})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a maintenance needs its window");
    let maintenance = server
        .ok(
            Method::POST,
            &acme_incidents,
            &d.engineer,
            Some(json!({"name": "Cluster upgrade", "status": "scheduled", "body": "We will upgrade the cluster.", "maintenance": true,
                        "scheduled_for": from, "scheduled_until": to, "components": [{"id": cluster_id}]})),
        )
        .await;
    assert_eq!(maintenance["impact"], "maintenance");
    let (_, upcoming) = doc(&server, "/status/acme/api/v2/scheduled-maintenances/upcoming.json", Some(&d.alice)).await;
    assert_eq!(upcoming["scheduled_maintenances"][0]["name"], "Cluster upgrade");
    let active = until("the maintenance starts", || async {
        let (_, v) = doc(&server, "/status/acme/api/v2/scheduled-maintenances/active.json", Some(&d.alice)).await;
        (v["scheduled_maintenances"].as_array().is_some_and(|a| !a.is_empty())).then_some(v)
    })
    .await;
    assert_eq!(active["scheduled_maintenances"][0]["status"], "in_progress");
    let (_, during) = doc(&server, "/status/acme/api/v2/summary.json", Some(&d.alice)).await;
    assert_eq!(status_of(&during, "Acme cluster"), "under_maintenance", "{during}");
    assert_eq!(during["status"]["indicator"], "maintenance");
    let done = until("the maintenance completes", || async {
        let (_, v) = doc(&server, "/status/acme/api/v2/scheduled-maintenances.json", Some(&d.alice)).await;
        (v["scheduled_maintenances"][0]["status"] == "completed").then_some(v)
    })
    .await;
    let steps: Vec<&str> = done["scheduled_maintenances"][0]["incident_updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["status"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["completed", "in_progress", "scheduled"], "each move once, though two cycles may race");
    let listed = server.ok(Method::GET, &acme_incidents, &d.engineer, None).await;
    let link = listed["scheduled_maintenances"][0]["shortlink"].as_str().unwrap().to_string();
    assert!(link.contains("/status/acme/incidents/sti_"), "links point at the tenant's own page: {link}");
    let (_, after) = doc(&server, "/status/acme/api/v2/summary.json", Some(&d.alice)).await;
    assert_eq!(status_of(&after, "Acme cluster"), "operational");

    // A page bound to a host name (by an admin) answers at that host's root.
    let (status, _) = server
        .call(
            Method::PATCH,
            &format!("/api/v1/status-pages/{platform}"),
            Some(&d.admin),
            Some(json!({"host": "not a host"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    server
        .ok(
            Method::PATCH,
            &format!("/api/v1/status-pages/{platform}"),
            &d.admin,
            Some(json!({"host": "Status.Vendor.Example", "name": "Vendor"})),
        )
        .await;
    let (status, _, body) = get(&server, "/api/v2/status.json", &[("host", "status.vendor.example:8443")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let bound: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(bound["page"]["name"], "Vendor");
    let (status, _, html) = get(&server, "/", &[("host", "status.vendor.example")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Vendor status"));
    let (status, _, _) = get(&server, "/api/v2/status.json", &[("host", "elsewhere.example")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = server
        .call(
            Method::PATCH,
            &format!("/api/v1/status-pages/{acme}"),
            Some(&d.admin),
            Some(json!({"host": "status.vendor.example"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "one page per host");

    // An incident from a P1 on the dedicated tenant: its page, its components, critical.
    let ticket = support::open_ticket(&server, &d.alice, "acme", "P1").await;
    let key = ticket["key"].as_str().unwrap();
    let (status, _) = server
        .call(Method::POST, &format!("/api/v1/tickets/{key}/status-incident"), Some(&d.alice), Some(json!({})))
        .await;
    assert!(
        status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
        "customers do not open incidents: {status}"
    );
    let from_ticket =
        server.ok(Method::POST, &format!("/api/v1/tickets/{key}/status-incident"), &d.engineer, Some(json!({}))).await;
    assert_eq!(from_ticket["page_id"], acme.as_str());
    assert_eq!(from_ticket["impact"], "critical");
    assert_eq!(from_ticket["name"], ticket["subject"]);
    let (_, now_acme) = doc(&server, "/status/acme/api/v2/summary.json", Some(&d.alice)).await;
    assert_eq!(status_of(&now_acme, "Acme cluster"), "major_outage");
    assert_eq!(now_acme["status"]["indicator"], "critical");
    let (_, public) = doc(&server, "/status/api/v2/status.json", None).await;
    assert_eq!(public["status"]["indicator"], "none", "a tenant's incident stays on the tenant's page");

    // Alerts set the components bound to them: acme's key sets acme's component and, once
    // an admin granted it there, the public page's; never another tenant's.
    let created = server
        .ok(
            Method::POST,
            "/api/v1/orgs/acme/integration-keys",
            &d.admin,
            Some(json!({"name": "monitor", "kind": "events_v2"})),
        )
        .await;
    let key = created["key"].as_str().unwrap().to_string();
    let grant = format!("/api/v1/status-pages/{platform}/alert-keys/{}", created["id"].as_str().unwrap());
    let (status, _) = server.call(Method::PUT, &grant, Some(&d.admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let bind = |page: &str, component: &str, name: &str| {
        (format!("/api/v1/status-pages/{page}/components/{component}"), json!({"name": name, "alert_key": "db/down"}))
    };
    let fed_components = server.ok(Method::GET, &components(&fedco), &d.cleared, None).await;
    let fed_id = fed_components[0]["id"].as_str().unwrap().to_string();
    for (page, component, name, token) in [
        (&acme, &cluster_id, "Acme cluster", &d.engineer),
        (&platform, &api_id, "API", &d.engineer),
        (&fedco, &fed_id, "Fed cluster", &d.cleared),
    ] {
        let (path, body) = bind(page, component, name);
        server.ok(Method::PUT, &path, token, Some(body)).await;
    }
    let event = |action: &str| {
        json!({"routing_key": key, "event_action": action, "dedup_key": "db/down",
               "payload": {"summary": "Database down", "source": "db1", "severity": "error"}})
    };
    let enqueue =
        |body: Value| server.raw(Method::POST, "/v2/enqueue", "", body.to_string().into_bytes(), "application/json");
    assert_eq!(enqueue(event("trigger")).await.0, StatusCode::ACCEPTED);
    until("the bound components go down", || async {
        let (_, v) = doc(&server, "/status/api/v2/components.json", None).await;
        (v["components"].as_array().unwrap().iter().any(|c| c["name"] == "API" && c["status"] == "partial_outage"))
            .then_some(())
    })
    .await;
    let (_, fed) = doc(&server, "/status/fedco/api/v2/components.json", Some(&d.cleared)).await;
    let fed_status: Vec<&str> = fed["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "Fed cluster")
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(fed_status, ["operational"], "another tenant's component is not acme's monitor's to set");
    assert_eq!(enqueue(event("resolve")).await.0, StatusCode::ACCEPTED);
    until("the bound components come back", || async {
        let (_, v) = doc(&server, "/status/api/v2/components.json", None).await;
        (v["components"].as_array().unwrap().iter().any(|c| c["name"] == "API" && c["status"] == "operational"))
            .then_some(())
    })
    .await;
}

async fn deleted_components_on(db: Db) {
    let server = Server::start(&db, &[]);
    let d = desk(&server).await;
    let all = server.ok(Method::GET, "/api/v1/status-pages", &d.admin, None).await;
    let (platform, acme) = (page_id(&all, None), page_id(&all, Some("acme")));
    let components = |page: &str| format!("/api/v1/status-pages/{page}/components");
    let acme_components = components(&acme);
    let add = |body: Value| server.ok(Method::POST, &acme_components, &d.engineer, Some(body));
    let region = add(json!({"name": "EU region", "group": true})).await["id"].as_str().unwrap().to_string();
    let db_id = add(json!({"name": "Database", "group_id": region})).await["id"].as_str().unwrap().to_string();
    let web = add(json!({"name": "Web"})).await["id"].as_str().unwrap().to_string();
    let shared = server.ok(Method::POST, &components(&platform), &d.engineer, Some(json!({"name": "API"}))).await;
    let incidents = format!("/api/v1/status-pages/{acme}/incidents");
    let incident = json!({"name": "Web down", "status": "investigating", "impact": "major", "body": "Down.",
                          "components": [{"id": web, "status": "major_outage"}]});
    server.ok(Method::POST, &incidents, &d.engineer, Some(incident)).await;

    let one = |page: &str, id: &str| format!("/api/v1/status-pages/{page}/components/{id}");
    let (status, _) = server.call(Method::DELETE, &one(&acme, &web), Some(&d.alice), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "customers do not run status pages");
    let (status, _) =
        server.call(Method::DELETE, &one(&acme, shared["id"].as_str().unwrap()), Some(&d.engineer), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a platform component is not the tenant page's to delete");
    for id in [&web, &region] {
        let (status, body) = server.call(Method::DELETE, &one(&acme, id), Some(&d.engineer), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    let (status, _) = server.call(Method::DELETE, &one(&acme, &web), Some(&d.engineer), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "deleted once");
    let left = server.ok(Method::GET, &components(&acme), &d.engineer, None).await;
    let left: Vec<(&str, &Value)> =
        left.as_array().unwrap().iter().map(|c| (c["id"].as_str().unwrap(), &c["group_id"])).collect();
    assert_eq!(left, [(db_id.as_str(), &Value::Null)], "the group's member left the group");
    let listed = server.ok(Method::GET, &incidents, &d.engineer, None).await;
    let affected = &listed["incidents"][0]["incident_updates"][0]["affected_components"][0];
    assert_eq!(affected["name"], "Web", "the update keeps the component's name: {listed}");
}
