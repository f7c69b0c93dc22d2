//! Staff contact methods and notification rules: where and when a person is paged.

use super::accounts::Items;
use crate::AppState;
use crate::auth::{Caller, new_secret};
use crate::error::ApiError;
use crate::extract::Body;
use crate::ids::{is_id, new_id};
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use stringer_app::delivery::MethodKind;
use stringer_store::ContactMethodRecord;
use utoipa::ToSchema;

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
    /// webhook | slack | email | sms | voice
    #[schema(value_type = String, pattern = "^(webhook|slack|email|sms|voice)$")]
    kind: MethodKind,
    /// A webhook's http(s) URL, a Slack member ID (e.g. U024BE7LH), an email address, or an
    /// E.164 phone number (e.g. +14155550100) for SMS and voice.
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

/// The user whose paging settings the caller may change: themself, or anyone for an admin;
/// only staff are paged. Others answer 404.
async fn pageable(state: &AppState, caller: &Caller, id: &str) -> Result<(), ApiError> {
    if !is_id("usr", id) {
        return Err(ApiError::bad_request("malformed user id"));
    }
    let allowed = caller.user.id == id || caller.is_admin();
    match state.store.get_user(id).await? {
        Some(u) if allowed && u.org.is_none() => Ok(()),
        _ => Err(ApiError::not_found("user")),
    }
}

/// A staff user's contact methods.
#[utoipa::path(get, path = "/api/v1/users/{id}/contact-methods", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^usr_[0-9A-HJKMNP-TV-Z]{26}$")),
    responses((status = 200, body = Items<MethodView>), (status = 404, body = crate::routes::Problem)))]
pub async fn list_methods(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<axum::Json<Items<MethodView>>, ApiError> {
    caller.require_scope("read")?;
    pageable(&state, &caller, &id).await?;
    let items = state
        .store
        .contact_methods(&id)
        .await?
        .into_iter()
        .map(|m| MethodView { id: m.id, kind: m.kind.as_str().to_string(), address: m.address })
        .collect();
    Ok(axum::Json(Items { items }))
}

/// Adds a contact method to a staff user (themself, or anyone for an admin).
#[utoipa::path(post, path = "/api/v1/users/{id}/contact-methods", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^usr_[0-9A-HJKMNP-TV-Z]{26}$")), request_body = AddMethod,
    responses((status = 201, body = NewMethodView), (status = 404, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn add_method(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Body(body): Body<AddMethod>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require_scope("write")?;
    pageable(&state, &caller, &id).await?;
    let address = match body.kind {
        MethodKind::Webhook => webhook_url(&body.address)?,
        MethodKind::Slack => slack_member(&body.address)?,
        MethodKind::Email => email_address(&body.address)?,
        MethodKind::Sms | MethodKind::Voice => phone_number(&body.address)?,
    };
    let record = ContactMethodRecord {
        id: new_id("cm", state.now().as_millisecond().max(0) as u64),
        user_id: id,
        kind: body.kind,
        address,
        secret: new_secret(),
        created_at: state.now().as_second(),
    };
    state.store.insert_contact_method(&record).await?;
    let view = NewMethodView {
        id: record.id,
        kind: record.kind.as_str().to_string(),
        address: record.address,
        secret: record.secret,
    };
    Ok((StatusCode::CREATED, axum::Json(view)))
}

/// Checks a webhook address is an absolute http(s) URL with a host.
fn webhook_url(address: &str) -> Result<String, ApiError> {
    let rest = address.strip_prefix("https://").or_else(|| address.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default()).unwrap_or_default();
    if host.is_empty() || address.len() > 2000 || address.chars().any(char::is_whitespace) {
        return Err(ApiError::unprocessable("address: an http(s) URL with a host"));
    }
    Ok(address.to_string())
}

/// Checks a Slack member ID: U or W followed by 2–20 upper-case letters and digits.
fn slack_member(address: &str) -> Result<String, ApiError> {
    let ok = (3..=21).contains(&address.len())
        && matches!(address.as_bytes()[0], b'U' | b'W')
        && address.bytes().skip(1).all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if ok {
        Ok(address.to_string())
    } else {
        Err(ApiError::unprocessable("address: a Slack member ID such as U024BE7LH"))
    }
}

/// Checks an email address: one @, something on both sides, no spaces, at most 254 bytes.
fn email_address(address: &str) -> Result<String, ApiError> {
    let ok = address.len() <= 254
        && !address.chars().any(|c| c.is_whitespace() || c == '<' || c == '>')
        && address
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.contains('@'));
    if ok {
        Ok(address.to_string())
    } else {
        Err(ApiError::unprocessable("address: an email address such as eve@example.com"))
    }
}

/// Checks an E.164 phone number: + and 8 to 15 digits.
fn phone_number(address: &str) -> Result<String, ApiError> {
    let digits = address.strip_prefix('+').unwrap_or_default();
    if (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(address.to_string())
    } else {
        Err(ApiError::unprocessable("address: an E.164 phone number such as +14155550100"))
    }
}

/// Replaces a staff user's notification rules ("method M after N seconds"). With no rules,
/// every contact method is notified at once.
#[utoipa::path(put, path = "/api/v1/users/{id}/notification-rules", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^usr_[0-9A-HJKMNP-TV-Z]{26}$")), request_body = SetRules,
    responses((status = 200, body = SetRules), (status = 404, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn set_rules(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Body(body): Body<SetRules>,
) -> Result<axum::Json<SetRules>, ApiError> {
    caller.require_scope("write")?;
    pageable(&state, &caller, &id).await?;
    let methods = state.store.contact_methods(&id).await?;
    if body.rules.len() > 20 {
        return Err(ApiError::unprocessable("rules: at most 20"));
    }
    let mut rows = Vec::new();
    for r in &body.rules {
        if !methods.iter().any(|m| m.id == r.method_id) {
            return Err(ApiError::unprocessable(format!(
                "method_id {:?} is not one of this user's contact methods",
                r.method_id
            )));
        }
        if !(0..=86_400).contains(&r.after_seconds) {
            return Err(ApiError::unprocessable("after_seconds: 0 to 86400"));
        }
        rows.push((new_id("nr", state.now().as_millisecond().max(0) as u64), r.method_id.clone(), r.after_seconds));
    }
    state.store.set_notification_rules(&id, &rows).await?;
    Ok(axum::Json(body))
}
