//! `POST /slack/interactions`: where Slack posts button presses. The Slack module of the
//! integrations checks and handles them (`stringer_integrations::slack::inbound`); this
//! route only mounts it and answers its refusals as problem documents.

use crate::AppState;
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use stringer_integrations::slack::inbound::Refusal;

/// Handles a button press.
pub async fn interactions(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, &'static str), ApiError> {
    let inbound = state.slack.inbound.as_ref().ok_or_else(|| ApiError::not_found("Slack integration"))?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let now = jiff::Timestamp::now().as_second();
    match inbound.interaction(header("x-slack-request-timestamp"), header("x-slack-signature"), &body, now).await {
        Ok(()) => Ok((StatusCode::OK, "")),
        Err(Refusal::Unauthorized(why)) => Err(ApiError::unauthorized(why)),
        Err(Refusal::BadRequest(why)) => Err(ApiError::bad_request(why)),
        Err(Refusal::Forbidden(why)) => Err(ApiError::forbidden(why)),
        Err(Refusal::NotFound) => Err(ApiError::not_found("ticket")),
        Err(Refusal::Store(e)) => Err(e.into()),
        Err(Refusal::App(e)) => Err(e.into()),
    }
}
