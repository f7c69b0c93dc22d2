//! Mail over HTTP: the door for inbound-mail services and `stringer mailgate` (a raw MIME
//! message, stored before the answer), and the triage of held mail (messages no org could
//! be told for, from strangers, or over a sender's budget) that staff route to an org.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Body, Params, PathParams};
use crate::routes::accounts::Items;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use stringer_app::mail::{Door, InboundRecord, MAX_MESSAGE_BYTES, MailState, NewInbound};
use stringer_core::access::{Action, Object};
use stringer_core::ids::OrgSlug;
use utoipa::ToSchema;

/// Where a message was sent, when the service knows it (the envelope recipient).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InboundQuery {
    /// The envelope recipient (`support+acme@…`); without it the message's own `To`,
    /// `Cc` and `Delivered-To` are read.
    #[param(max_length = 254)]
    recipient: Option<String>,
    /// The envelope sender.
    #[param(max_length = 254)]
    sender: Option<String>,
    /// Which door: `mailgate` (the pipe command) or `http` (the default).
    #[param(pattern = "^(mailgate|http)$")]
    via: Option<String>,
}

/// The receipt of a stored message.
#[derive(Serialize, ToSchema)]
pub struct InboundReceipt {
    /// The stored message's id.
    id: i64,
}

/// Hands in one raw RFC 5322 message (`Content-Type: message/rfc822`), as `stringer
/// mailgate` and inbound-mail services do; it is stored before the answer, then processed
/// like mail to the SMTP listener. A staff admin's token with the `write` scope.
#[utoipa::path(post, path = "/api/v1/mail/inbound", security(("bearer" = [])), params(InboundQuery),
    request_body(content = String, content_type = "message/rfc822", description = "The raw message"),
    responses((status = 202, body = InboundReceipt), (status = 403, body = crate::routes::Problem), (status = 413, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn inbound(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Params(q): Params<InboundQuery>,
    raw: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    caller.may(Action::DeliverMail, Some(Object::Staff), "mail")?;
    if raw.is_empty() {
        return Err(ApiError::unprocessable("the body is the raw message; it is empty"));
    }
    if raw.len() > MAX_MESSAGE_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a message takes at most {MAX_MESSAGE_BYTES} bytes"),
        ));
    }
    let address = |a: &Option<String>, what: &str| -> Result<Option<String>, ApiError> {
        match a {
            Some(a) if a.len() > 254 || !a.contains('@') || a.contains(['\r', '\n', ' ']) => {
                Err(ApiError::unprocessable(format!("{what}: one mail address")))
            }
            other => Ok(other.as_ref().map(|a| a.to_ascii_lowercase())),
        }
    };
    let recipient = address(&q.recipient, "recipient")?;
    let sender = address(&q.sender, "sender")?;
    let door = match q.via.as_deref() {
        None | Some("http") => Door::Http,
        Some("mailgate") => Door::Mailgate,
        Some(_) => return Err(ApiError::unprocessable("via: mailgate or http")),
    };
    let message = NewInbound {
        door,
        envelope_from: sender,
        envelope_to: recipient.into_iter().collect(),
        raw: raw.to_vec(),
        received_at_ms: state.now().as_millisecond(),
    };
    let id = state.ports.mailroom.accept(&message).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(InboundReceipt { id })))
}

/// A received message as staff see it in triage.
#[derive(Serialize, ToSchema)]
pub struct MailView {
    id: i64,
    /// smtp | mailgate | http.
    door: String,
    /// RFC 3339.
    received_at: String,
    /// pending | done | held | ignored.
    state: String,
    sender: Option<String>,
    subject: Option<String>,
    /// Why it was held or ignored, or what it became.
    reason: Option<String>,
    ticket: Option<String>,
    org: Option<String>,
}

impl From<InboundRecord> for MailView {
    fn from(m: InboundRecord) -> MailView {
        MailView {
            id: m.id,
            door: serde_json::to_value(m.door).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
            received_at: Timestamp::from_millisecond(m.received_at_ms).map(|t| t.to_string()).unwrap_or_default(),
            state: m.state.as_str().into(),
            sender: m.sender.or(m.envelope_from),
            subject: m.subject,
            reason: m.reason,
            ticket: m.ticket.map(|t| t.0),
            org: m.org.map(|o| o.0),
        }
    }
}

/// Which messages.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MailQuery {
    /// held (the default) | ignored | done | pending.
    #[param(pattern = "^(held|ignored|done|pending)$")]
    state: Option<String>,
}

/// Received messages in a state, newest first: by default those held for triage.
pub async fn messages(state: &AppState, caller: &Caller, which: MailState) -> Result<Vec<InboundRecord>, ApiError> {
    caller.may(Action::TriageMail, Some(Object::Staff), "mail")?;
    Ok(state.ports.mailroom.inbound_in(which, 200).await?)
}

/// Received messages in a state (staff): held ones wait for someone to route them.
#[utoipa::path(get, path = "/api/v1/mail", security(("bearer" = [])), params(MailQuery),
    responses((status = 200, body = Items<MailView>), (status = 403, body = crate::routes::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Params(q): Params<MailQuery>,
) -> Result<axum::Json<Items<MailView>>, ApiError> {
    let which = match q.state.as_deref() {
        None => MailState::Held,
        Some(s) => {
            MailState::parse(s).ok_or_else(|| ApiError::unprocessable("state: held, ignored, done or pending"))?
        }
    };
    let items = messages(&state, &caller, which).await?;
    Ok(axum::Json(Items { items: items.into_iter().map(Into::into).collect() }))
}

/// Where a held message goes.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteMail {
    /// The org's slug; its sender is accepted there (added as a member when new).
    #[schema(max_length = 64)]
    pub org: String,
}

/// Sends a held message back for processing as if it had been addressed to `org`.
pub async fn route_to(state: &AppState, caller: &Caller, id: i64, org: &str) -> Result<(), ApiError> {
    caller.may(Action::TriageMail, Some(Object::Staff), "mail")?;
    let org = state.ports.accounts.org(&OrgSlug::from(org)).await?;
    caller.may(Action::OpenTicket, org.as_ref().map(|o| Object::Org(o.as_ref())), "org")?;
    let org = org.ok_or_else(|| ApiError::not_found("org"))?;
    let routed =
        state.ports.mailroom.route_held(id, &org.slug, caller.user.id.as_str(), state.now().as_second()).await?;
    if !routed {
        return Err(ApiError::conflict("no held message with that id"));
    }
    Ok(())
}

/// Routes a held message to an org (staff): it is processed again there at once.
#[utoipa::path(post, path = "/api/v1/mail/{id}/route", security(("bearer" = [])), params(("id" = i64, Path, description = "The message id", minimum = 1)), request_body = RouteMail,
    responses((status = 202), (status = 404, body = crate::routes::Problem), (status = 409, body = crate::routes::Problem)))]
pub async fn route(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<i64>,
    Body(body): Body<RouteMail>,
) -> Result<StatusCode, ApiError> {
    route_to(&state, &caller, id, &body.org).await?;
    Ok(StatusCode::ACCEPTED)
}

/// The message as received (staff), to read everything the ticket's comment left out.
#[utoipa::path(get, path = "/api/v1/mail/{id}/original", security(("bearer" = [])), params(("id" = i64, Path, description = "The message id", minimum = 1)),
    responses((status = 200, content_type = "message/rfc822", body = String), (status = 404, body = crate::routes::Problem)))]
pub async fn original(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<i64>,
) -> Result<impl IntoResponse, ApiError> {
    caller.may(Action::TriageMail, Some(Object::Staff), "mail")?;
    let m = state.ports.mailroom.inbound(id).await?.ok_or_else(|| ApiError::not_found("message"))?;
    Ok((
        [
            (header::CONTENT_TYPE, "message/rfc822".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"message-{id}.eml\"")),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        m.raw,
    ))
}
