//! `POST /slack/interactions`: the Acknowledge and Resolve buttons of Slack pages. The
//! request must carry a valid Slack signature made within the last five minutes, and is
//! accepted once (a replayed request is refused). The Slack member must be linked to a staff
//! user, and the press acts as that user only as far as the access policy lets them act on
//! the ticket. Once paging is over, the ticket's page messages are settled (see `settle`),
//! whichever way it was acknowledged.

use super::accounts::person;
use crate::AppState;
use crate::auth::decision_to_result;
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use stringer_app::Extras;
use stringer_core::access::{self, Action, Object, OrgRef, Scope, Scopes};
use stringer_core::event::Event;
use stringer_core::ids::TicketId;
use stringer_notify::slack::{ACK_ACTION, MAX_SKEW_SECONDS, RESOLVE_ACTION, verify_request};

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
    actions: Vec<ButtonPress>,
}

#[derive(Deserialize)]
struct SlackUser {
    id: String,
}

#[derive(Deserialize)]
struct ButtonPress {
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
    let (timestamp, signature) = (header("x-slack-request-timestamp"), header("x-slack-signature"));
    let now = jiff::Timestamp::now().as_second();
    if !verify_request(secret, timestamp, &body, signature, now) {
        return Err(ApiError::unauthorized("bad or stale Slack signature"));
    }
    let expires = timestamp.parse::<i64>().unwrap_or(now) + MAX_SKEW_SECONDS;
    if !state.store.first_sighting(&format!("slack:{signature}"), now, expires).await? {
        return Err(ApiError::unauthorized("this Slack request was accepted already; a replay is refused"));
    }
    let form: Form = serde_urlencoded::from_bytes(&body)
        .map_err(|_| ApiError::bad_request("expected a form with a payload field"))?;
    if form.payload.contains('\0') {
        return Err(ApiError::bad_request("a NUL character is not allowed in any field"));
    }
    let interaction: Interaction = serde_json::from_str(&form.payload)
        .map_err(|e| ApiError::bad_request(format!("unreadable interaction: {e}")))?;
    if interaction.kind != "block_actions" {
        return Ok((StatusCode::OK, ""));
    }
    let user_id = state
        .store
        .staff_by_slack_member(&interaction.user.id)
        .await?
        .ok_or_else(|| ApiError::forbidden("this Slack member is not a Stringer staff user"))?;
    let user = state.store.get_user(&user_id).await?.ok_or_else(|| ApiError::forbidden("no such staff user"))?;
    let presser = person(&user, Scopes::of(&[Scope::Write]));
    for press in interaction.actions {
        let ticket = TicketId(press.value.clone());
        if !crate::ids::is_id("tkt", ticket.as_str()) {
            return Err(ApiError::bad_request("malformed ticket id in the action"));
        }
        let at = state.now();
        let (action, event) = match press.action_id.as_str() {
            ACK_ACTION => (Action::Acknowledge, Event::Acknowledged { at, ticket, by: user.id.clone() }),
            RESOLVE_ACTION => (Action::Resolve, Event::Resolved { at, ticket }),
            _ => continue,
        };
        let found = state.store.get_ticket_for_access(event.ticket().as_str()).await?;
        let object =
            found.as_ref().map(|(t, deployment)| Object::Ticket(OrgRef { slug: &t.org, deployment: *deployment }));
        decision_to_result(access::decide(&presser, action, object), "ticket")?;
        let extras = Extras { actor: Some(user.id.clone()), details: None, comment: None };
        match state.record(event, extras).await {
            Ok(_) | Err(stringer_app::AppError::Rejected(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok((StatusCode::OK, ""))
}
