//! The P1 phone line: where the telephony provider posts about calls (`/twilio/voice…`,
//! checked and answered by `stringer_integrations::sms_voice::inbound`, answered as TwiML),
//! and the API that sets what the line knows callers by: a user's phone number (caller ID)
//! and an org's phone PIN (shown once; only its keyed hash is stored). A phone number is one
//! person's: set by a staff admin, or confirmed by the code sent to it by SMS.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Body, PathParams};
use crate::routes::accounts::spend;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde::{Deserialize, Serialize};
use stringer_app::AppError;
use stringer_app::phone::{CODE_ATTEMPTS, CODE_KEY_SETTING, CODE_SECONDS, Confirmation, PIN_KEY_SETTING, pin_hash};
use stringer_core::access::{Action, Object};
use stringer_core::ids::UserId;
use stringer_core::phone::e164;
use stringer_integrations::sms_voice::inbound::Refusal;
use subtle::ConstantTimeEq;
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
#[utoipa::path(put, path = "/api/v1/users/{id}/phone", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = PhoneNumber,
    responses((status = 200, body = PhoneNumber), (status = 202, description = "A code was sent to the number by SMS", body = NumberWaiting),
        (status = 404, body = crate::routes::Problem), (status = 409, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem),
        (status = 429, body = crate::routes::Problem)))]
pub async fn set_number(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<PhoneNumber>,
) -> Result<Response, ApiError> {
    Ok(match change_number(&state, &caller, &id, body.number.as_deref()).await? {
        NumberChange::InForce(number) => axum::Json(PhoneNumber { number }).into_response(),
        NumberChange::Waiting { current, waiting, expires_at } => {
            let answer = NumberWaiting { number: current, waiting, expires_at };
            (StatusCode::ACCEPTED, axum::Json(answer)).into_response()
        }
    })
}

/// What a change of phone number came to.
pub enum NumberChange {
    /// The number in force now (`None`: none).
    InForce(Option<String>),
    /// A code was sent to `waiting`; `current` stays in force until it comes back.
    Waiting {
        /// The number in force meanwhile.
        current: Option<String>,
        /// The number the code was sent to.
        waiting: String,
        /// Unix seconds: the code works until then.
        expires_at: i64,
    },
}

/// Sets (or with `None` or blank, clears) user `id`'s phone number as `caller` — for the API
/// and the settings page alike (see [`set_number`]); a number (E.164) is in force at once only
/// when the policy lets the caller skip its confirmation.
pub async fn change_number(
    state: &AppState,
    caller: &Caller,
    id: &str,
    number: Option<&str>,
) -> Result<NumberChange, ApiError> {
    let user = crate::routes::accounts::user_for(state, caller, id, Action::SetCallerId).await?;
    let number = match number.map(str::trim).filter(|n| !n.is_empty()) {
        Some(given) => Some(e164(given).ok_or_else(|| {
            ApiError::unprocessable("a phone number is written in E.164: + and the country code, 8 to 15 digits")
        })?),
        None => None,
    };
    let phone = &state.ports.phone;
    let now = state.now().as_second();
    let current = phone.number(&user.id).await?;
    let Some(number) = number else {
        phone.set_number(&user.id, None, now).await?;
        phone.confirmed(&user.id, None, now).await?;
        return Ok(NumberChange::InForce(None));
    };
    if current.as_deref() == Some(number.as_str()) {
        return Ok(NumberChange::InForce(current));
    }
    if held_by_another(state, &number, &user.id).await? {
        return Err(ApiError::conflict(
            "this number is another person's caller ID; if it is yours, ask a Stringer admin",
        ));
    }
    let (_, org) =
        crate::routes::accounts::user_with_org(state, id).await?.ok_or_else(|| ApiError::not_found("user"))?;
    if caller.allowed(Action::SetCallerIdUnconfirmed, Some(Object::User(user.as_object(org.as_ref())))) {
        phone.confirmed(&user.id, Some(&number), now).await?;
        return Ok(NumberChange::InForce(Some(number)));
    }
    let Some(texts) = &state.texts else {
        return Err(ApiError::conflict(
            "this server sends no SMS (--sms-account), so it cannot confirm a phone number; a staff admin can set it",
        ));
    };
    spend(state, state.settings.limits, format!("phone-code:{}", user.id), "too many codes asked for").await?;
    let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
    let waiting = Confirmation {
        code_hash: code_hash(state, &user.id, &number, &code).await?,
        number,
        created_at: now,
        expires_at: now + CODE_SECONDS,
        attempts: 0,
    };
    phone.set_confirmation(&user.id, &waiting).await?;
    let minutes = CODE_SECONDS / 60;
    let text = format!(
        "Stringer: {code} confirms this phone number for your support account. It works for {minutes} minutes; if you did not ask for it, ignore this message."
    );
    texts.send_text(&waiting.number, &text, &crate::ids::new_id("sms")).await.map_err(|e| {
        tracing::warn!(user = %user.id, "a confirmation code could not be sent: {e}");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the SMS provider did not take the code; try again")
    })?;
    Ok(NumberChange::Waiting { current, waiting: waiting.number, expires_at: waiting.expires_at })
}

/// Whether an active person other than `user` has `number` as their caller ID.
async fn held_by_another(state: &AppState, number: &str, user: &UserId) -> Result<bool, ApiError> {
    for id in state.ports.phone.callers(number).await?.into_iter().filter(|id| id != user) {
        if state.ports.accounts.user(&id).await?.is_some_and(|u| u.deactivated_at.is_none()) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A confirmation code's keyed hash, bound to its user and number.
async fn code_hash(state: &AppState, user: &UserId, number: &str, code: &str) -> Result<String, ApiError> {
    let key = state.ports.safeguards.setting_or_init(CODE_KEY_SETTING, &crate::auth::new_secret()).await?;
    Ok(pin_hash(&key, &format!("{user}|{number}|{code}")))
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
#[utoipa::path(post, path = "/api/v1/users/{id}/phone/confirm", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = ConfirmNumber,
    responses((status = 200, body = PhoneNumber), (status = 404, body = crate::routes::Problem), (status = 409, body = crate::routes::Problem),
        (status = 422, body = crate::routes::Problem)))]
pub async fn confirm(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<ConfirmNumber>,
) -> Result<axum::Json<PhoneNumber>, ApiError> {
    Ok(axum::Json(PhoneNumber { number: Some(confirm_number(&state, &caller, &id, &body.code).await?) }))
}

/// Puts the number waiting for user `id` in force if `code` is the one sent to it (for the API
/// and the settings page alike); answers the number.
pub async fn confirm_number(state: &AppState, caller: &Caller, id: &str, code: &str) -> Result<String, ApiError> {
    let user = crate::routes::accounts::user_for(state, caller, id, Action::SetCallerId).await?;
    let phone = &state.ports.phone;
    let now = state.now().as_second();
    let waiting = phone.confirmation(&user.id).await?.filter(|c| c.expires_at > now && c.attempts < CODE_ATTEMPTS);
    let Some(waiting) = waiting else {
        return Err(ApiError::unprocessable("no code is waiting for this user; set the number again for a new one"));
    };
    let given = code_hash(state, &user.id, &waiting.number, code.trim()).await?;
    if !bool::from(given.as_bytes().ct_eq(waiting.code_hash.as_bytes())) {
        phone.confirmation_failed(&user.id).await?;
        return Err(ApiError::unprocessable("code: not the code sent to the number"));
    }
    if held_by_another(state, &waiting.number, &user.id).await? {
        phone.confirmed(&user.id, None, now).await?;
        return Err(ApiError::conflict(
            "this number is another person's caller ID; if it is yours, ask a Stringer admin",
        ));
    }
    phone.confirmed(&user.id, Some(&waiting.number), now).await?;
    Ok(waiting.number)
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
