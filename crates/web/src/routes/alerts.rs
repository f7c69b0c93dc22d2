//! Alerts from monitoring. Admins create an org's integration keys (`/api/v1/orgs/{slug}/
//! integration-keys`: the secret is shown once, only its SHA-256 is stored; revocable).
//! Monitoring tools send with them: PagerDuty's Events API v2 (`POST /v2/enqueue`, answered
//! exactly as PagerDuty answers) and Prometheus Alertmanager's webhook
//! (`POST /api/v1/alerts/alertmanager`, the key as a bearer token or in the path). A door
//! checks the event's shape and its key, stores it and answers; the engine turns stored
//! signals into tickets by the core's rules.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Body, PathParams};
use crate::ids::is_id;
use crate::reads::{changes_near, ticket_for};
use crate::routes::accounts::Items;
use crate::shown_once::ShownOnce;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use stringer_app::alerts::{ChangeRecord, IntegrationKey, KeyKind, Signal, secret_hash};
use stringer_core::access::{Action, Object};
use stringer_core::alert::{OnResolve, SeverityMap};
use stringer_core::ids::Severity;
use stringer_integrations::{alertmanager, pagerduty};
use utoipa::ToSchema;

/// A new integration key.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// What people call it ("Prometheus production").
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    /// `events_v2` (PagerDuty's Events API v2) or `alertmanager`.
    #[schema(pattern = "^(events_v2|alertmanager)$")]
    kind: String,
    /// This key's severity for each alert level; absent: the contract's default table
    /// (its severities in order, most severe first: critical, error, warning, info).
    severity: Option<LevelSeverities>,
    /// What the monitor's resolve does: `resolve` (the default) or `note` (only notes it on
    /// the ticket; people resolve).
    #[schema(pattern = "^(resolve|note)$")]
    on_resolve: Option<String>,
}

/// A severity per alert level.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelSeverities {
    critical: String,
    error: String,
    warning: String,
    info: String,
}

/// An integration key as admins see it (never the secret, but once at creation).
#[derive(Serialize, ToSchema)]
pub struct KeyView {
    /// `ink_…`.
    id: String,
    org: String,
    name: String,
    /// events_v2 | alertmanager.
    kind: String,
    /// The severity each alert level opens at (the contract's default when the key has none).
    severity: LevelSeverities,
    /// resolve | note.
    on_resolve: String,
    /// RFC 3339.
    created_at: String,
    /// RFC 3339, when revoked.
    revoked_at: Option<String>,
    /// The secret: the Events API's `routing_key`, or Alertmanager's bearer credential.
    /// Shown only in the answer that created the key.
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    /// Where the tool sends.
    url: String,
}

fn at(seconds: i64) -> String {
    Timestamp::from_second(seconds).map(|t| t.to_string()).unwrap_or_default()
}

impl KeyView {
    fn of(state: &AppState, k: IntegrationKey, secret: Option<String>) -> KeyView {
        let map = k.severity.clone().unwrap_or_else(|| SeverityMap::default_for(state.contract()));
        let path = match k.kind {
            KeyKind::EventsV2 => "/v2/enqueue",
            KeyKind::Alertmanager => "/api/v1/alerts/alertmanager",
        };
        KeyView {
            id: k.id,
            org: k.org.to_string(),
            name: k.name,
            kind: k.kind.as_str().into(),
            severity: LevelSeverities {
                critical: map.critical.to_string(),
                error: map.error.to_string(),
                warning: map.warning.to_string(),
                info: map.info.to_string(),
            },
            on_resolve: k.on_resolve.as_str().into(),
            created_at: at(k.created_at),
            revoked_at: k.revoked_at.map(at),
            key: secret,
            url: format!("{}{path}", state.public_url.trim_end_matches('/')),
        }
    }
}

/// A key's secret: 32 lowercase hex digits (128 random bits), the shape of PagerDuty's
/// routing keys, so tools that check the shape take it.
fn new_key_secret() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Creates an integration key for an org (a staff admin who sees the org). The answer holds
/// the secret, once.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/integration-keys", security(("bearer" = [])),
    params(("slug" = String, Path)), request_body = NewKey,
    responses((status = 201, body = KeyView), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn create_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(slug): PathParams<String>,
    Body(body): Body<NewKey>,
) -> Result<ShownOnce<KeyView>, ApiError> {
    let org = state.accounts().org(caller.principal(), &slug, Action::ManageIntegrations).await?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::unprocessable("name: 1 to 200 characters"));
    }
    let kind = KeyKind::parse(&body.kind).ok_or_else(|| ApiError::unprocessable("kind: events_v2 or alertmanager"))?;
    let on_resolve = match body.on_resolve.as_deref() {
        None => OnResolve::Resolve,
        Some(o) => OnResolve::parse(o).ok_or_else(|| ApiError::unprocessable("on_resolve: resolve or note"))?,
    };
    let severity = body.severity.map(|s| SeverityMap {
        critical: Severity(s.critical),
        error: Severity(s.error),
        warning: Severity(s.warning),
        info: Severity(s.info),
    });
    if let Some(unknown) = severity.as_ref().and_then(|m| m.unknown_in(state.contract())) {
        return Err(ApiError::unprocessable(format!("severity: the contract has no severity {unknown}")));
    }
    let secret = new_key_secret();
    let key = IntegrationKey {
        id: state.new_id("ink"),
        org: org.slug.clone(),
        name: name.to_string(),
        kind,
        severity,
        on_resolve,
        secret_hash: secret_hash(&secret),
        created_by: caller.user().id.clone(),
        created_at: state.now().as_second(),
        revoked_at: None,
    };
    state.ports.alerts.insert_key(&key).await?;
    tracing::info!(key = %key.id, org = %key.org, by = %caller.user().id, "integration key created");
    Ok(ShownOnce { id: key.id.clone(), view: KeyView::of(&state, key, Some(secret)) })
}

/// An org's integration keys, newest first (revoked ones too). A staff admin's token with
/// the read and admin scopes.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/integration-keys", security(("bearer" = [])),
    params(("slug" = String, Path)),
    responses((status = 200, body = Items<KeyView>), (status = 404, body = crate::error::Problem)))]
pub async fn list_keys(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(slug): PathParams<String>,
) -> Result<axum::Json<Items<KeyView>>, ApiError> {
    // Reading keys takes the read scope as well as an admin's say over integrations.
    let org = state.accounts().org(caller.principal(), &slug, Action::ReadOrg).await?;
    caller.may(Action::ManageIntegrations, Some(Object::Org(org.as_ref())), "org")?;
    let keys = state.ports.alerts.keys(&org.slug).await?;
    Ok(axum::Json(Items { items: keys.into_iter().map(|k| KeyView::of(&state, k, None)).collect() }))
}

/// Revokes an integration key: its tool's events are refused from then on.
#[utoipa::path(delete, path = "/api/v1/integration-keys/{id}", security(("bearer" = [])),
    params(("id" = String, Path, pattern = r"^ink_[0-9A-HJKMNP-TV-Z]{26}$")),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
pub async fn revoke_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<StatusCode, ApiError> {
    if !is_id("ink", &id) {
        return Err(ApiError::bad_request("malformed integration key id"));
    }
    let key = state.ports.alerts.key(&id).await?.filter(|k| k.revoked_at.is_none());
    let org = match &key {
        Some(k) => state.ports.accounts.org(&k.org).await?,
        None => None,
    };
    caller.may(Action::ManageIntegrations, org.as_ref().map(|o| Object::Org(o.as_ref())), "integration key")?;
    if !state.ports.alerts.revoke_key(&id, state.now().as_second()).await? {
        return Err(ApiError::not_found("integration key"));
    }
    state.alert_door.forget_keys();
    tracing::info!(key = %id, by = %caller.user().id, "integration key revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// How long a key read from the database is trusted (a revocation on another instance takes
/// effect within it; on this one at once).
const KEY_CACHE_TTL: Duration = Duration::from_secs(1);
/// The most keys (and unknown secrets) remembered; past it, all are forgotten.
const KEY_CACHE_MAX: usize = 10_000;

/// What the alert doors keep in this process: each key's budget of events (a token bucket
/// refilled at the configured rate, holding up to ten seconds' worth) and the keys read in
/// the last second, so a busy monitor's every event does not cost a database read.
#[derive(Default)]
pub struct AlertDoor {
    budgets: Mutex<HashMap<String, (f64, Instant)>>,
    keys: Mutex<HashMap<String, (Instant, Option<IntegrationKey>)>>,
}

impl AlertDoor {
    /// Takes one event from the key's budget at `per_minute`; false when it is spent.
    fn take(&self, key: &str, per_minute: u32) -> bool {
        let rate = f64::from(per_minute) / 60.0;
        let capacity = (rate * 10.0).max(1.0);
        let now = Instant::now();
        let mut buckets = self.budgets.lock().expect("budget lock");
        if buckets.len() > KEY_CACHE_MAX {
            buckets.clear();
        }
        let (tokens, last) = buckets.entry(key.to_string()).or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(capacity);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn cached(&self, hash: &str) -> Option<Option<IntegrationKey>> {
        let keys = self.keys.lock().expect("key cache lock");
        keys.get(hash).filter(|(at, _)| at.elapsed() < KEY_CACHE_TTL).map(|(_, key)| key.clone())
    }

    fn remember(&self, hash: String, key: Option<IntegrationKey>) {
        let mut keys = self.keys.lock().expect("key cache lock");
        if keys.len() >= KEY_CACHE_MAX {
            keys.clear();
        }
        keys.insert(hash, (Instant::now(), key));
    }

    /// Forgets every key read (after a revocation).
    fn forget_keys(&self) {
        self.keys.lock().expect("key cache lock").clear();
    }
}

/// The live key of this kind whose secret is `secret`.
async fn live_key(state: &AppState, secret: &str, kind: KeyKind) -> Result<Option<IntegrationKey>, ApiError> {
    if secret.is_empty() || secret.len() > 200 {
        return Ok(None);
    }
    let hash = secret_hash(secret);
    let key = match state.alert_door.cached(&hash) {
        Some(key) => key,
        None => {
            let key = state.ports.alerts.key_by_hash(&hash).await?;
            state.alert_door.remember(hash, key.clone());
            key
        }
    };
    Ok(key.filter(|k| k.revoked_at.is_none() && k.kind == kind))
}

fn json(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// PagerDuty's `429` for a key whose budget is spent, with `Retry-After`: the seconds one
/// event takes to come back into the budget at `per_minute` (the most a client must wait).
fn throttled(per_minute: u32) -> Response {
    let seconds = 60u32.div_ceil(per_minute.max(1)).max(1);
    (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, seconds.to_string())], axum::Json(pagerduty::throttled()))
        .into_response()
}

/// PagerDuty's Events API v2: one alert event. Answers as PagerDuty does: `202` with the
/// deduplication key (made up for a trigger without one), `400` listing what is invalid
/// (a routing key of the wrong shape, an unknown or revoked one too), `429` with
/// `Retry-After` over the key's budget.
pub async fn enqueue(State(state): State<AppState>, body: Bytes) -> Response {
    let event = match pagerduty::read_event(&body) {
        Ok(event) => event,
        Err(refusal) => return json(StatusCode::BAD_REQUEST, refusal.body()),
    };
    let key = match live_key(&state, &event.routing_key, KeyKind::EventsV2).await {
        Ok(Some(key)) => key,
        Ok(None) => return json(StatusCode::BAD_REQUEST, pagerduty::invalid(&["Invalid routing key".into()])),
        Err(e) => return e.into_response(),
    };
    if !state.alert_door.take(&key.id, state.settings.alert_events_per_minute) {
        return throttled(state.settings.alert_events_per_minute);
    }
    let dedup_key = event.dedup_key.unwrap_or_else(new_key_secret);
    let signal = Signal {
        key: key.id,
        action: event.action,
        dedup_key: dedup_key.clone(),
        summary: event.summary,
        source: event.source,
        level: event.level,
        details: event.details,
        received_at_ms: state.now().as_millisecond(),
    };
    match state.ports.alerts.accept_signal(&signal).await {
        Ok(_) => json(StatusCode::ACCEPTED, pagerduty::accepted(&dedup_key)),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// PagerDuty's change events (`POST /v2/change/enqueue`): a deploy or a configuration change,
/// shown beside the tickets of the key's org at that time. Answers as PagerDuty does.
pub async fn change_enqueue(State(state): State<AppState>, body: Bytes) -> Response {
    let change = match pagerduty::read_change(&body) {
        Ok(change) => change,
        Err(refusal) => return json(StatusCode::BAD_REQUEST, refusal.body()),
    };
    let key = match live_key(&state, &change.routing_key, KeyKind::EventsV2).await {
        Ok(Some(key)) => key,
        Ok(None) => return json(StatusCode::BAD_REQUEST, pagerduty::invalid(&["Invalid routing key".into()])),
        Err(e) => return e.into_response(),
    };
    if !state.alert_door.take(&key.id, state.settings.alert_events_per_minute) {
        return throttled(state.settings.alert_events_per_minute);
    }
    let received_at = state.now().as_second();
    let record = ChangeRecord {
        id: 0,
        key: key.id,
        org: key.org,
        summary: change.summary,
        source: change.source,
        at: change.timestamp.map_or(received_at, |t| t.as_second()),
        details: change.details,
        received_at,
    };
    match state.ports.alerts.insert_change(&record).await {
        Ok(_) => json(StatusCode::ACCEPTED, pagerduty::change_accepted()),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// A change event as staff see it beside a ticket.
#[derive(Serialize, ToSchema)]
pub struct ChangeView {
    /// RFC 3339: when it happened.
    at: String,
    summary: String,
    source: String,
    /// The integration key it came with.
    integration_key: String,
    /// Everything else the tool sent (custom details, links), as JSON text.
    details: String,
}

/// What changed around a ticket: its org's change events (deploys, configuration changes
/// sent to `/v2/change/enqueue`) from a day before it opened until it was resolved, newest
/// first (at most 50). For staff.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/changes", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")),
    responses((status = 200, body = Items<ChangeView>), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn ticket_changes(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<Items<ChangeView>>, ApiError> {
    let found = ticket_for(&state, &caller, &id, &[Action::ReadInternal]).await?;
    let items = changes_near(&state, &found.ticket)
        .await?
        .into_iter()
        .map(|c| ChangeView {
            at: at(c.at),
            summary: c.summary,
            source: c.source,
            integration_key: c.key,
            details: c.details,
        })
        .collect();
    Ok(axum::Json(Items { items }))
}

/// Prometheus Alertmanager's webhook, the key as `Authorization: Bearer KEY` (Alertmanager's
/// `http_config.authorization`).
pub async fn alertmanager_bearer(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let secret = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, secret)| secret.trim().to_string())
        .unwrap_or_default();
    alertmanager_with(&state, &secret, &body).await
}

/// Prometheus Alertmanager's webhook, the key in the path (for setups that cannot set a
/// header; the path then is a secret).
pub async fn alertmanager_path(
    State(state): State<AppState>,
    axum::extract::Path(secret): axum::extract::Path<String>,
    body: Bytes,
) -> Response {
    alertmanager_with(&state, &secret, &body).await
}

async fn alertmanager_with(state: &AppState, secret: &str, body: &[u8]) -> Response {
    let key = match live_key(state, secret, KeyKind::Alertmanager).await {
        Ok(Some(key)) => key,
        Ok(None) => return ApiError::unauthorized("unknown or revoked integration key").into_response(),
        Err(e) => return e.into_response(),
    };
    let group = match alertmanager::read_notification(body) {
        Ok(group) => group,
        Err(why) => return ApiError::bad_request(why).into_response(),
    };
    if !state.alert_door.take(&key.id, state.settings.alert_events_per_minute) {
        return ApiError::too_many("this integration key's budget of events is spent; retry later", 10).into_response();
    }
    let signal = Signal {
        key: key.id,
        action: group.action,
        dedup_key: group.dedup_key,
        summary: group.summary,
        source: group.source,
        level: Some(group.level),
        details: group.details,
        received_at_ms: state.now().as_millisecond(),
    };
    match state.ports.alerts.accept_signal(&signal).await {
        Ok(id) => {
            (StatusCode::ACCEPTED, axum::Json(serde_json::json!({"status": "accepted", "id": id}))).into_response()
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}
