//! The P1 phone line: where the telephony provider posts about calls (`/twilio/voice…`,
//! checked and answered by `stringer_integrations::sms_voice::inbound`, answered as TwiML),
//! and the API that sets what the line knows callers by: a user's phone number (caller ID)
//! and an org's phone PIN (shown once; only its keyed hash is stored).

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Body, PathParams};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde::{Deserialize, Serialize};
use stringer_app::AppError;
use stringer_app::phone::{PIN_KEY_SETTING, pin_hash};
use stringer_core::access::Action;
use stringer_core::phone::e164;
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
    #[schema(max_length = 32)]
    pub number: Option<String>,
}

/// A user's phone number.
#[utoipa::path(get, path = "/api/v1/users/{id}/phone", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = PhoneNumber), (status = 404, body = crate::routes::Problem)))]
pub async fn get_number(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<PhoneNumber>, ApiError> {
    let user = crate::routes::accounts::user_for(&state, &caller, &id, Action::ReadUser).await?;
    Ok(axum::Json(PhoneNumber { number: state.ports.phone.number(&user.id).await? }))
}

/// Sets or clears a user's phone number (their own, or as an admin): calls to the P1 line
/// from it are theirs.
#[utoipa::path(put, path = "/api/v1/users/{id}/phone", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = PhoneNumber,
    responses((status = 200, body = PhoneNumber), (status = 404, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn set_number(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<PhoneNumber>,
) -> Result<axum::Json<PhoneNumber>, ApiError> {
    Ok(axum::Json(PhoneNumber { number: change_number(&state, &caller, &id, body.number.as_deref()).await? }))
}

/// Sets (or with `None` or blank, clears) user `id`'s phone number as `caller` — for the API
/// and the settings page alike; answers the number as stored (E.164).
pub async fn change_number(
    state: &AppState,
    caller: &Caller,
    id: &str,
    number: Option<&str>,
) -> Result<Option<String>, ApiError> {
    let user = crate::routes::accounts::user_for(state, caller, id, Action::SetCallerId).await?;
    let number = match number.map(str::trim).filter(|n| !n.is_empty()) {
        Some(given) => Some(e164(given).ok_or_else(|| {
            ApiError::unprocessable("a phone number is written in E.164: + and the country code, 8 to 15 digits")
        })?),
        None => None,
    };
    state.ports.phone.set_number(&user.id, number.as_deref(), state.now().as_second()).await?;
    Ok(number)
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
    responses((status = 201, body = PhonePin), (status = 404, body = crate::routes::Problem)))]
pub async fn new_pin(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(slug): PathParams<String>,
) -> Result<(StatusCode, axum::Json<PhonePin>), ApiError> {
    let pin = draw_pin(&state, &caller, &slug).await?;
    Ok((StatusCode::CREATED, axum::Json(PhonePin { org: slug, pin })))
}

/// Gives org `slug` a new phone PIN as `caller` (for the API and the admin page alike);
/// answers the PIN, which is stored only as its keyed hash.
pub async fn draw_pin(state: &AppState, caller: &Caller, slug: &str) -> Result<String, ApiError> {
    let org = crate::routes::accounts::org_for(state, caller, slug, Action::UpdateOrg).await?;
    let key = state.ports.safeguards.setting_or_init(PIN_KEY_SETTING, &crate::auth::new_secret()).await?;
    // Another org may hold a drawn PIN: draw again.
    for _ in 0..16 {
        let pin = format!("{:08}", rand::rng().random_range(0..100_000_000u32));
        if state.ports.phone.set_pin(&org.slug, &pin_hash(&key, &pin), state.now().as_second()).await? {
            return Ok(pin);
        }
    }
    Err(ApiError::conflict("no free PIN was found; try again"))
}
