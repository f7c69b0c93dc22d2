//! Routes: public (health, OpenAPI, login) and the authenticated API.

pub(crate) mod accounts;
mod ack;
pub mod alerts;
pub(crate) mod inquiries;
pub(crate) mod ledger;
pub(crate) mod mail;
pub(crate) mod paging;
pub(crate) mod phone;
pub mod reports;
pub(crate) mod reviews;
pub(crate) mod schedules;
pub(crate) mod slack;
pub mod status;
pub(crate) mod tickets;

use crate::AppState;
use crate::auth::authenticate;
use crate::idempotency::idempotency;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::get;
use std::sync::Arc;
use utoipa::Modify;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Declares the bearer-token scheme in the document.
pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The documented API.
pub fn api(base: OpenApiRouter<AppState>, state: AppState) -> OpenApiRouter<AppState> {
    let protected = OpenApiRouter::new()
        .routes(routes!(accounts::me, accounts::update_me))
        .routes(routes!(accounts::list_orgs, accounts::create_org))
        .routes(routes!(accounts::get_org, accounts::update_org))
        .routes(routes!(accounts::send_packet))
        .routes(routes!(accounts::list_users, accounts::create_user))
        .routes(routes!(accounts::get_user, accounts::update_user, accounts::deactivate_user))
        .routes(routes!(accounts::list_tokens, accounts::create_token))
        .routes(routes!(accounts::revoke_token))
        .routes(routes!(accounts::send_password_link))
        .routes(routes!(tickets::views::list_tickets, tickets::commands::create_ticket))
        .routes(routes!(tickets::views::get_ticket, tickets::commands::update_ticket))
        .routes(routes!(tickets::timeline::list_comments, tickets::commands::add_comment))
        .routes(routes!(tickets::commands::acknowledge))
        .routes(routes!(tickets::commands::resolve))
        .routes(routes!(tickets::commands::reopen))
        .routes(routes!(tickets::timeline::timeline))
        .routes(routes!(tickets::commands::page))
        .routes(routes!(tickets::commands::assign))
        .routes(routes!(tickets::commands::record_bridge))
        .routes(routes!(tickets::files::list, tickets::files::upload))
        .routes(routes!(tickets::files::download))
        .routes(routes!(ledger::proof))
        .routes(routes!(ledger::review_proof))
        .routes(routes!(ledger::consistency))
        .routes(routes!(ledger::list_heads, ledger::sign_head))
        .routes(routes!(paging::my_pages))
        .routes(routes!(paging::list_methods, paging::add_method))
        .routes(routes!(paging::set_rules))
        .routes(routes!(schedules::list_schedules, schedules::create_schedule))
        .routes(routes!(schedules::get_schedule))
        .routes(routes!(schedules::on_call))
        .routes(routes!(schedules::shifts))
        .routes(routes!(schedules::add_override))
        .routes(routes!(schedules::replace_override, schedules::remove_override))
        .routes(routes!(schedules::user_feed))
        .routes(routes!(reports::get_report, reports::start_report))
        .routes(routes!(reports::step))
        .routes(routes!(reports::comment))
        .routes(routes!(reports::list))
        .routes(routes!(reviews::get_recommendations, reviews::put_recommendations))
        .routes(routes!(inquiries::list))
        .routes(routes!(inquiries::answer))
        .routes(routes!(mail::inbound))
        .routes(routes!(mail::list))
        .routes(routes!(mail::route))
        .routes(routes!(mail::original))
        .routes(routes!(mail::lift_suppression))
        .routes(routes!(mail::my_updates, mail::choose_updates))
        .routes(routes!(mail::org_mail, mail::update_org_mail))
        .routes(routes!(alerts::list_keys, alerts::create_key))
        .routes(routes!(alerts::revoke_key))
        .routes(routes!(alerts::ticket_changes))
        .routes(routes!(slack::kickoff))
        .routes(routes!(phone::get_number, phone::set_number))
        .routes(routes!(phone::confirm))
        .routes(routes!(phone::new_pin))
        .routes(routes!(status::manage::list_pages))
        .routes(routes!(status::manage::update_page))
        .routes(routes!(status::manage::list_components, status::manage::create_component))
        .routes(routes!(status::manage::update_component, status::manage::delete_component))
        .routes(routes!(status::manage::list_incidents, status::manage::create_incident))
        .routes(routes!(status::manage::add_update))
        .routes(routes!(status::manage::from_ticket))
        .routes(routes!(status::manage::grant_alert_key, status::manage::revoke_alert_key))
        .routes(routes!(status::subscribe::list, status::subscribe::create))
        .routes(routes!(status::subscribe::remove))
        .route_layer(middleware::from_fn_with_state(state.clone(), idempotency))
        .route_layer(middleware::from_fn_with_state(state, authenticate));
    base.merge(protected).routes(routes!(accounts::login)).routes(routes!(inquiries::contact))
}

/// Health and the OpenAPI document.
pub fn public(doc: Arc<serde_json::Value>) -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/ack/{token}", get(ack::confirm).post(ack::acknowledge))
        .route("/slack/interactions", axum::routing::post(slack::interactions))
        .route("/slack/events", axum::routing::post(slack::events))
        .route("/slack/commands", axum::routing::post(slack::commands))
        .route("/twilio/voice", axum::routing::post(phone::voice))
        .route("/twilio/voice/{step}", axum::routing::post(phone::voice))
        .route("/v2/enqueue", axum::routing::post(alerts::enqueue))
        .route("/v2/change/enqueue", axum::routing::post(alerts::change_enqueue))
        .route("/api/v1/alerts/alertmanager", axum::routing::post(alerts::alertmanager_bearer))
        .route("/api/v1/alerts/alertmanager/{key}", axum::routing::post(alerts::alertmanager_path))
        .route("/ical/schedules/{file}", get(schedules::schedule_feed))
        .route("/ical/users/{file}", get(schedules::user_feed_ics))
        .route("/.well-known/stringer-ledger/key", get(ledger::well_known_key))
        .route("/.well-known/stringer-ledger/head", get(ledger::well_known_head))
        .route("/.well-known/stringer-ledger/heads", get(ledger::well_known_heads))
        .route("/api/v1/openapi.json", get(move || async move { axum::Json(doc.as_ref().clone()) }))
}

/// Ready when the database answers and no background cycle has stalled; otherwise 503,
/// saying why (each stalled cycle by name, with how long it has made no progress).
async fn ready(State(state): State<AppState>) -> (StatusCode, String) {
    if state.ports.queries.ping().await.is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable".into());
    }
    let stalled = state.liveness.as_ref().map(|l| l.stalled()).unwrap_or_default();
    if stalled.is_empty() {
        return (StatusCode::OK, "ready".into());
    }
    let cycles: Vec<String> = stalled
        .iter()
        .map(|s| format!("{} (no progress for {} s, allowed {} s)", s.cycle, s.quiet_seconds, s.allowed_seconds))
        .collect();
    (StatusCode::SERVICE_UNAVAILABLE, format!("stalled: {}", cycles.join(", ")))
}

/// Error statuses any operation may answer (authentication, scopes, body and query parsing,
/// rate limits, a fault of the server, an unavailable database), each an RFC 9457 problem
/// document.
const COMMON_PROBLEMS: [(&str, &str); 9] = [
    ("400", "Malformed request: bad JSON, query or id"),
    ("401", "Missing, unknown, revoked or expired token"),
    ("403", "The token or role does not allow this"),
    ("413", "The body is larger than the limit"),
    ("415", "The body is not application/json"),
    ("422", "The body is well-formed JSON but its values are invalid"),
    ("429", "Too many attempts"),
    ("500", "An internal error: a fault of the server, logged with its cause"),
    ("503", "The database is unavailable"),
];

/// Makes the document say what the server does for errors: every 4xx/5xx response is
/// `application/problem+json` with the [`Problem`] schema, and every operation lists the
/// common error statuses.
pub fn document_problems(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let problem = || ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
    for item in doc.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
        for operation in operations.into_iter().flatten() {
            let responses = &mut operation.responses.responses;
            for (code, response) in responses.iter_mut() {
                if let (true, RefOr::T(r)) = (code.starts_with('4') || code.starts_with('5'), response) {
                    r.content.clear();
                    r.content.insert("application/problem+json".into(), problem());
                }
            }
            for (code, description) in COMMON_PROBLEMS {
                responses.entry(code.to_string()).or_insert_with(|| {
                    RefOr::T(
                        ResponseBuilder::new()
                            .description(description)
                            .content("application/problem+json", problem())
                            .build(),
                    )
                });
            }
        }
    }
}
