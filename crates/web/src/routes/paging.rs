//! Staff contact methods and notification rules: where and when a person is paged.

use super::accounts::Items;
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Body, PathParams};
use crate::reads::received;
use crate::shown_once::ShownOnce;
use axum::Extension;
use axum::extract::State;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use stringer_app::delivery::MethodKind;
use utoipa::ToSchema;

/// A page the caller received.
#[derive(Serialize, ToSchema)]
pub struct ReceivedPageView {
    /// The delivery.
    id: String,
    ticket: String,
    /// `ACME-42`.
    key: String,
    subject: String,
    severity: String,
    /// How it reached the caller: webhook, slack, email, sms, voice, console.
    method: String,
    /// pending, sent, failed, cancelled.
    status: String,
    /// RFC 3339, when sent (or queued).
    at: String,
    /// RFC 3339, once someone acknowledged the ticket.
    acknowledged_at: Option<String>,
}

/// The pages the caller received, newest first (their "my pages" list).
#[utoipa::path(get, path = "/api/v1/me/pages", security(("bearer" = [])), responses((status = 200, body = Items<ReceivedPageView>)))]
pub async fn my_pages(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<axum::Json<Items<ReceivedPageView>>, ApiError> {
    let items = received(&state, &caller)
        .await?
        .into_iter()
        .map(|(d, t)| ReceivedPageView {
            at: jiff::Timestamp::from_second(d.sent_at.unwrap_or(d.created_at))
                .map(|x| x.to_string())
                .unwrap_or_default(),
            method: serde_json::to_value(d.kind).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
            id: d.id,
            status: d.status,
            key: t.key().to_string(),
            ticket: t.id.to_string(),
            severity: t.state.severity.to_string(),
            acknowledged_at: t.state.acknowledged.as_ref().map(|(at, _)| at.to_string()),
            subject: t.subject,
        })
        .collect();
    Ok(axum::Json(Items { items }))
}

/// A contact method as listed (never its secret).
#[derive(Serialize, ToSchema)]
pub struct MethodView {
    id: String,
    /// webhook
    kind: String,
    address: String,
}

/// A new contact method: its signing secret is shown this once.
#[derive(Serialize, ToSchema)]
pub struct NewMethodView {
    id: String,
    kind: String,
    address: String,
    /// HMAC-SHA256 key of the `Stringer-Signature` header.
    secret: String,
}

/// A contact method to add.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMethod {
    /// webhook | slack | email | sms | voice | console
    #[schema(value_type = String, pattern = "^(webhook|slack|email|sms|voice|console)$")]
    kind: MethodKind,
    /// A webhook's http(s) URL, a Slack member ID (e.g. U024BE7LH), an email address, or an
    /// E.164 phone number (e.g. +14155550100) for SMS and voice; ignored for console (the
    /// person's "My pages").
    #[schema(min_length = 1, max_length = 2000)]
    address: String,
}

/// The user's rules, replacing the previous ones.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRules {
    rules: Vec<RuleInput>,
}

/// "Notify via this method N seconds after an unacknowledged page."
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    #[schema(pattern = r"^cm_[0-9A-HJKMNP-TV-Z]{26}$")]
    method_id: String,
    #[schema(minimum = 0, maximum = 86400)]
    after_seconds: i64,
}

/// A staff user's contact methods.
#[utoipa::path(get, path = "/api/v1/users/{id}/contact-methods", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^usr_[0-9A-HJKMNP-TV-Z]{26}$")),
    responses((status = 200, body = Items<MethodView>), (status = 404, body = crate::error::Problem)))]
pub async fn list_methods(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<Items<MethodView>>, ApiError> {
    let items = state
        .paging()
        .methods(caller.principal(), &id)
        .await?
        .into_iter()
        .map(|m| MethodView { id: m.method.id, kind: m.method.kind.as_str().to_string(), address: m.method.address })
        .collect();
    Ok(axum::Json(Items { items }))
}

/// Adds a contact method to a staff user (themself, or anyone for an admin). A webhook must
/// be a public address. A Slack member ID is linked when Slack confirms the member's email is
/// the user's, or by an admin; one member ID belongs to one user.
#[utoipa::path(post, path = "/api/v1/users/{id}/contact-methods", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^usr_[0-9A-HJKMNP-TV-Z]{26}$")), request_body = AddMethod,
    responses((status = 201, body = NewMethodView), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn add_method(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<AddMethod>,
) -> Result<impl IntoResponse, ApiError> {
    let record = state.paging().add_method(caller.principal(), &id, body.kind, &body.address).await?;
    let view = NewMethodView {
        id: record.id,
        kind: record.kind.as_str().to_string(),
        address: record.address,
        secret: record.secret,
    };
    Ok(ShownOnce { id: view.id.clone(), view })
}

/// Replaces a staff user's notification rules ("method M after N seconds"). With no rules,
/// every contact method is notified at once.
#[utoipa::path(put, path = "/api/v1/users/{id}/notification-rules", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^usr_[0-9A-HJKMNP-TV-Z]{26}$")), request_body = SetRules,
    responses((status = 200, body = SetRules), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn set_rules(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<SetRules>,
) -> Result<axum::Json<SetRules>, ApiError> {
    let rules: Vec<(String, i64)> = body.rules.iter().map(|r| (r.method_id.clone(), r.after_seconds)).collect();
    state.paging().set_rules(caller.principal(), &id, &rules).await?;
    Ok(axum::Json(body))
}
