//! `POST /slack/interactions`: the Acknowledge and Resolve buttons of Slack pages. The
//! request must carry a valid Slack signature made within the last five minutes; the Slack
//! member must be a staff user's Slack contact method. Once paging is over, the ticket's page
//! messages are settled (see `settle`), whichever way it was acknowledged.

use crate::AppState;
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use stringer_app::Extras;
use stringer_core::event::Event;
use stringer_core::ids::TicketId;
use stringer_notify::slack::{ACK_ACTION, RESOLVE_ACTION, verify_request};

#[derive(Deserialize)]
struct Form {
    payload: String,
}

#[derive(Deserialize)]
struct Interaction {
    #[serde(rename = "type")]
    kind: String,
    user: SlackUser,
    #[serde(default)]
    actions: Vec<Action>,
}

#[derive(Deserialize)]
struct SlackUser {
    id: String,
}

#[derive(Deserialize)]
struct Action {
    action_id: String,
    #[serde(default)]
    value: String,
}

/// Handles a button press.
pub async fn interactions(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, &'static str), ApiError> {
    let secret = state.slack_signing_secret.as_deref().ok_or_else(|| ApiError::not_found("Slack integration"))?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let signed = verify_request(
        secret,
        header("x-slack-request-timestamp"),
        &body,
        header("x-slack-signature"),
        jiff::Timestamp::now().as_second(),
    );
    if !signed {
        return Err(ApiError::unauthorized("bad or stale Slack signature"));
    }
    let form: Form = serde_urlencoded::from_bytes(&body)
        .map_err(|_| ApiError::bad_request("expected a form with a payload field"))?;
    let interaction: Interaction = serde_json::from_str(&form.payload)
        .map_err(|e| ApiError::bad_request(format!("unreadable interaction: {e}")))?;
    if interaction.kind != "block_actions" {
        return Ok((StatusCode::OK, ""));
    }
    let user = state
        .store
        .staff_by_slack_member(&interaction.user.id)
        .await?
        .ok_or_else(|| ApiError::forbidden("this Slack member is not a Stringer staff user"))?;
    for action in interaction.actions {
        let ticket = TicketId(action.value.clone());
        if !crate::ids::is_id("tkt", ticket.as_str()) {
            return Err(ApiError::bad_request("malformed ticket id in the action"));
        }
        let at = state.now();
        let event = match action.action_id.as_str() {
            ACK_ACTION => Event::Acknowledged { at, ticket, by: user.clone() },
            RESOLVE_ACTION => Event::Resolved { at, ticket },
            _ => continue,
        };
        let extras = Extras { actor: Some(user.clone()), details: None, comment: None };
        match state.record(event, extras).await {
            Ok(_) | Err(stringer_app::AppError::Rejected(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok((StatusCode::OK, ""))
}
