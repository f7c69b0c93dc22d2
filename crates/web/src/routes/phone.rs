//! The P1 phone line: where the telephony provider posts about calls (`/twilio/voice…`,
//! checked and answered by `stringer_integrations::sms_voice::inbound`, answered as TwiML),
//! and the API that sets what the line knows callers by: a user's phone number (caller ID)
//! and an org's phone PIN (shown once; only its keyed hash is stored). A phone number is one
//! person's: set by a staff admin, or confirmed by the code sent to it by SMS — the
//! application's rules ([`stringer_app::accounts::numbers`]), which the settings page calls too.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Body, PathParams};
use crate::shown_once::ShownOnce;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use stringer_app::AppError;
use stringer_app::accounts::numbers::NumberChange;
use stringer_integrations::sms_voice::inbound::Refusal;
use utoipa::ToSchema;

/// A request about a call: its TwiML, or a refusal.
pub async fn voice(State(state): State<AppState>, uri: OriginalUri, headers: HeaderMap, body: Bytes) -> Response {
    let Some(line) = state.phone.as_ref() else {
        return ApiError::not_found("phone line").into_response();
    };
    let signature = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
    match line.handle(uri.path(), uri.query().unwrap_or_default(), &body, signature).await {
        Ok(twiml) => (StatusCode::OK, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], twiml).into_response(),
        Err(Refusal::Unauthorized(why)) => ApiError::forbidden(why).into_response(),
        Err(Refusal::BadRequest(why)) => ApiError::bad_request(why).into_response(),
        Err(Refusal::App(AppError::UnknownTicket(_))) => ApiError::not_found("call").into_response(),
        Err(Refusal::App(e)) => ApiError::from(e).into_response(),
    }
}

/// A user's phone number: the caller ID the P1 line knows them by.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneNumber {
    /// E.164 (`+` and 8 to 15 digits; spaces, dots, dashes and brackets are dropped); `null`
    /// clears it.
    #[schema(
        max_length = 32,
        pattern = r"^(\s*|[ .()\-]*(\+|0[ .()\-]*0)[ .()\-]*[1-9]([ .()\-]*[0-9]){7,14}[ .()\-]*)$"
    )]
    pub number: Option<String>,
}

/// A user's phone number.
#[utoipa::path(get, path = "/api/v1/users/{id}/phone", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^usr_[0-9A-HJKMNP-TV-Z]{26}$")),
    responses((status = 200, body = PhoneNumber), (status = 404, body = crate::error::Problem)))]
pub async fn get_number(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<PhoneNumber>, ApiError> {
    Ok(axum::Json(PhoneNumber { number: state.accounts().number(caller.principal(), &id).await? }))
}

/// A phone number waiting to be confirmed by the code sent to it.
#[derive(Serialize, ToSchema)]
pub struct NumberWaiting {
    /// The number in force meanwhile (E.164), if any.
    number: Option<String>,
    /// The number the code was sent to by SMS (E.164).
    waiting: String,
    /// Unix seconds: the code works until then.
    expires_at: i64,
}

/// Sets or clears a user's phone number (their own, or as an admin): calls to the P1 line
/// from it are theirs. A staff admin's number is in force at once (200); anyone else's gets
/// a code by SMS and is in force once the code comes back (202; `POST …/phone/confirm`). A
/// number another active person holds is refused (409) without saying whose it is.
#[utoipa::path(put, path = "/api/v1/users/{id}/phone", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^usr_[0-9A-HJKMNP-TV-Z]{26}$")),
    request_body = PhoneNumber,
    responses((status = 200, body = PhoneNumber), (status = 202, description = "A code was sent to the number by SMS", body = NumberWaiting),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem),
        (status = 429, body = crate::error::Problem)))]
pub async fn set_number(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<PhoneNumber>,
) -> Result<Response, ApiError> {
    Ok(match state.accounts().change_number(caller.principal(), &id, body.number.as_deref()).await? {
        NumberChange::InForce(number) => axum::Json(PhoneNumber { number }).into_response(),
        NumberChange::Waiting { current, waiting, expires_at } => {
            let answer = NumberWaiting { number: current, waiting, expires_at };
            (StatusCode::ACCEPTED, axum::Json(answer)).into_response()
        }
    })
}

/// The code sent by SMS to the number waiting to be confirmed.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmNumber {
    /// Six digits.
    #[schema(max_length = 16)]
    pub code: String,
}

/// Confirms the number waiting for user `id` with the code sent to it: it is then their
/// caller ID. Five wrong codes, or ten minutes, end the confirmation.
#[utoipa::path(post, path = "/api/v1/users/{id}/phone/confirm", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^usr_[0-9A-HJKMNP-TV-Z]{26}$")),
    request_body = ConfirmNumber,
    responses((status = 200, body = PhoneNumber), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn confirm(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<ConfirmNumber>,
) -> Result<axum::Json<PhoneNumber>, ApiError> {
    let number = state.accounts().confirm_number(caller.principal(), &id, &body.code).await?;
    Ok(axum::Json(PhoneNumber { number: Some(number) }))
}

/// An org's new phone PIN, shown once.
#[derive(Serialize, ToSchema)]
pub struct PhonePin {
    /// The org.
    org: String,
    /// Eight digits; callers whose number the line does not know key it in.
    pin: String,
}

/// Gives an org a new phone PIN (admin); the old one stops working.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/phone-pin", security(("bearer" = [])), params(("slug" = String, Path)),
    responses((status = 201, body = PhonePin), (status = 404, body = crate::error::Problem)))]
pub async fn new_pin(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(slug): PathParams<String>,
) -> Result<ShownOnce<PhonePin>, ApiError> {
    let pin = state.accounts().draw_pin(caller.principal(), &slug).await?;
    Ok(ShownOnce { id: slug.clone(), view: PhonePin { org: slug, pin } })
}
