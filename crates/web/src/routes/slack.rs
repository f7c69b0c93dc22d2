//! Where Slack posts: button presses (`/slack/interactions`), Events API callbacks
//! (`/slack/events`) and the `/stringer` slash command (`/slack/commands`). The Slack module
//! of the integrations checks and handles them (`stringer_integrations::slack::inbound`);
//! these routes only mount it and answer its refusals: a request Slack did not sign, or
//! cannot be read, as a problem document; a press or command the access policy refused as
//! a message only its sender sees, with 200 — for any other status Slack shows its own
//! generic error instead.

use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use stringer_integrations::slack::inbound::{EventsAnswer, Inbound, Refusal};

fn inbound(state: &AppState) -> Result<&Inbound, ApiError> {
    state.slack.inbound.as_ref().ok_or_else(|| ApiError::not_found("Slack integration"))
}

fn refused(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::Unauthorized(why) => ApiError::unauthorized(why),
        Refusal::BadRequest(why) => ApiError::bad_request(why),
        Refusal::Forbidden(why) => ApiError::forbidden(why),
        Refusal::NotFound => ApiError::not_found("ticket"),
        Refusal::Store(e) => e.into(),
        Refusal::App(e) => e.into(),
    }
}

/// The request's signature headers.
fn signed(headers: &HeaderMap) -> (String, String) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    (header("x-slack-request-timestamp"), header("x-slack-signature"))
}

/// What a channel kickoff did.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct KickoffView {
    /// The channel's Slack id.
    channel: String,
    /// Created now (else it existed).
    created: bool,
    /// Staff invited (user ids).
    invited: Vec<String>,
    /// Staff not invited, with why.
    not_invited: Vec<String>,
    /// Customer admins invited through Slack Connect.
    shared_with: Vec<String>,
    /// Why Slack Connect invitations were not sent, when they were not.
    shared_refused: Option<String>,
    /// The pinned welcome message's timestamp.
    welcome: String,
}

/// Kicks off an org's shared Slack channel (admin): creates it if missing, invites the TAM
/// and named engineers, invites the org's admins through Slack Connect where the workspace
/// allows it, and posts and pins the welcome message. Also run when an org's channel is set.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/kickoff", security(("bearer" = [])), params(("slug" = String, Path)),
    responses((status = 200, body = KickoffView), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn kickoff(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    crate::extract::PathParams(slug): crate::extract::PathParams<String>,
) -> Result<Json<KickoffView>, ApiError> {
    let org = state.accounts().org(caller.principal(), &slug, stringer_core::access::Action::UpdateOrg).await?;
    let desk = state
        .slack
        .chat
        .as_ref()
        .ok_or_else(|| ApiError::unprocessable("no Slack app is configured (--slack-token)"))?;
    let k = desk.kickoff(&org).await?;
    Ok(Json(KickoffView {
        channel: k.channel,
        created: k.created,
        invited: k.invited,
        not_invited: k.not_invited,
        shared_with: k.shared_with,
        shared_refused: k.shared_refused,
        welcome: k.welcome,
    }))
}

/// A refusal by the access policy, as the message only the presser or the command's sender
/// sees; any other refusal as a problem document.
fn answered(refusal: Refusal) -> Result<Response, ApiError> {
    let text = match refusal {
        Refusal::Forbidden(why) => why.to_string(),
        Refusal::NotFound => "No such ticket.".to_string(),
        other => return Err(refused(other)),
    };
    Ok(Json(json!({"response_type": "ephemeral", "replace_original": false, "text": text})).into_response())
}

/// Handles a button press.
pub async fn interactions(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (timestamp, signature) = signed(&headers);
    let now = state.now().as_second();
    match inbound(&state)?.interaction(&timestamp, &signature, &body, now).await {
        Ok(()) => Ok((StatusCode::OK, "").into_response()),
        Err(refusal) => answered(refusal),
    }
}

/// Handles an Events API callback: the handshake's challenge, or 200 once the event is
/// stored.
pub async fn events(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let (timestamp, signature) = signed(&headers);
    let now = state.now_precise().as_millisecond();
    let retry = headers.contains_key("x-slack-retry-num");
    match inbound(&state)?.events(&timestamp, &signature, &body, now, retry).await.map_err(refused)? {
        EventsAnswer::Challenge(challenge) => Ok(Json(json!({"challenge": challenge})).into_response()),
        EventsAnswer::Ok => Ok((StatusCode::OK, "").into_response()),
    }
}

/// Handles the `/stringer` slash command: the answer as Slack shows it (`in_channel` for
/// everyone, else only to who typed it).
pub async fn commands(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let (timestamp, signature) = signed(&headers);
    let now = state.now().as_second();
    let reply = match inbound(&state)?.command(&timestamp, &signature, &body, now).await {
        Ok(reply) => reply,
        Err(refusal) => return answered(refusal),
    };
    let kind = if reply.in_channel { "in_channel" } else { "ephemeral" };
    Ok(Json(json!({"response_type": kind, "text": reply.text})).into_response())
}
