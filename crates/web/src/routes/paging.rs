//! Staff contact methods and notification rules: where and when a person is paged.

use super::accounts::Items;
use crate::AppState;
use crate::auth::{Caller, new_secret};
use crate::error::ApiError;
use crate::extract::{Body, PathParams};
use crate::ids::new_id;
use crate::reads::received;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use stringer_app::delivery::MethodKind;
use stringer_app::records::{ContactMethodRecord, UserRecord};
use stringer_core::access::{Action, Object};
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
    /// How it reached the caller: webhook, slack, email, sms, voice.
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

/// A staff user's contact methods.
#[utoipa::path(get, path = "/api/v1/users/{id}/contact-methods", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^usr_[0-9A-HJKMNP-TV-Z]{26}$")),
    responses((status = 200, body = Items<MethodView>), (status = 404, body = crate::routes::Problem)))]
pub async fn list_methods(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<Items<MethodView>>, ApiError> {
    let user = state.accounts().user(caller.principal(), &id, Action::ReadContactMethods).await?;
    let items = state
        .ports
        .oncall
        .contact_methods(&user.id)
        .await?
        .into_iter()
        .map(|m| MethodView { id: m.id, kind: m.kind.as_str().to_string(), address: m.address })
        .collect();
    Ok(axum::Json(Items { items }))
}

/// Adds a contact method to a staff user (themself, or anyone for an admin). A webhook must
/// be a public address. A Slack member ID is linked when Slack confirms the member's email is
/// the user's, or by an admin; one member ID belongs to one user.
#[utoipa::path(post, path = "/api/v1/users/{id}/contact-methods", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^usr_[0-9A-HJKMNP-TV-Z]{26}$")), request_body = AddMethod,
    responses((status = 201, body = NewMethodView), (status = 404, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn add_method(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<AddMethod>,
) -> Result<impl IntoResponse, ApiError> {
    let user = state.accounts().user(caller.principal(), &id, Action::ManageContactMethods).await?;
    let address = match body.kind {
        MethodKind::Webhook => webhook_url(&state, &body.address).await?,
        MethodKind::Slack => {
            let member = slack_member(&body.address)?;
            confirm_slack_member(&state, &caller, &user, &member).await?;
            member
        }
        MethodKind::Email => email_address(&body.address)?,
        MethodKind::Sms | MethodKind::Voice => phone_number(&body.address)?,
    };
    let record = ContactMethodRecord {
        id: new_id("cm"),
        user_id: user.id.clone(),
        kind: body.kind,
        address,
        secret: new_secret(),
        created_at: state.now().as_second(),
    };
    state.ports.oncall.insert_contact_method(&record).await?;
    let view = NewMethodView {
        id: record.id,
        kind: record.kind.as_str().to_string(),
        address: record.address,
        secret: record.secret,
    };
    Ok((StatusCode::CREATED, crate::idempotency::OneTimeSecret, axum::Json(view)))
}

/// Checks a webhook address: an absolute http(s) URL with a host that is, and resolves to,
/// public addresses only (unless the server allows private webhooks). A name that does not
/// resolve now is accepted: every send checks again.
async fn webhook_url(state: &AppState, address: &str) -> Result<String, ApiError> {
    use stringer_integrations::webhook::guard::{Refused, check_url};
    let rest = address.strip_prefix("https://").or_else(|| address.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default()).unwrap_or_default();
    if host.is_empty() || address.len() > 2000 || address.chars().any(char::is_whitespace) {
        return Err(ApiError::unprocessable("address: an http(s) URL with a host"));
    }
    if !state.settings.allow_private_webhooks {
        match check_url(address).await {
            Ok(()) | Err(Refused::Unresolved(_)) => {}
            Err(refused) => return Err(ApiError::unprocessable(format!("address: {refused}"))),
        }
    }
    Ok(address.to_string())
}

/// Whether `member` may be linked to `user`: Slack confirms the member's email is the
/// user's, or an admin links it.
async fn confirm_slack_member(
    state: &AppState,
    caller: &Caller,
    user: &UserRecord,
    member: &str,
) -> Result<(), ApiError> {
    let confirmed = match &state.slack.client {
        Some(slack) => match slack.member_email(member).await {
            Ok(email) => email.is_some_and(|email| email.eq_ignore_ascii_case(&user.email)),
            Err(e) => {
                tracing::warn!(error = %e, "Slack could not be asked about a member");
                false
            }
        },
        None => false,
    };
    if confirmed || caller.allowed(Action::LinkSlackUnverified, Some(Object::User(user.as_object(None)))) {
        Ok(())
    } else {
        Err(ApiError::unprocessable(
            "address: Slack does not confirm that this member's email is the user's; an admin can link it",
        ))
    }
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
    stringer_core::phone::e164(address)
        .ok_or_else(|| ApiError::unprocessable("address: an E.164 phone number such as +14155550100"))
}

/// Replaces a staff user's notification rules ("method M after N seconds"). With no rules,
/// every contact method is notified at once.
#[utoipa::path(put, path = "/api/v1/users/{id}/notification-rules", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^usr_[0-9A-HJKMNP-TV-Z]{26}$")), request_body = SetRules,
    responses((status = 200, body = SetRules), (status = 404, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn set_rules(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<SetRules>,
) -> Result<axum::Json<SetRules>, ApiError> {
    let user = state.accounts().user(caller.principal(), &id, Action::ManageContactMethods).await?;
    let methods = state.ports.oncall.contact_methods(&user.id).await?;
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
        rows.push((new_id("nr"), r.method_id.clone(), r.after_seconds));
    }
    state.ports.oncall.set_notification_rules(&user.id, &rows).await?;
    Ok(axum::Json(body))
}
