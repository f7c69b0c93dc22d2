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
use axum::http::StatusCode;
use axum::response::IntoResponse;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use stringer_app::mail::{
    Door, InboundRecord, Inform, MAX_MESSAGE_BYTES, MailState, NewInbound, OrgMailPolicy, UnknownSenders,
};
use stringer_core::access::{Action, Object};
use utoipa::ToSchema;

/// Where a message was sent, when the service knows it (the envelope recipient).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InboundQuery {
    /// The envelope recipient (`support+acme@…`); without it the message's own `To`,
    /// `Cc` and `Delivered-To` are read.
    #[param(max_length = 254, pattern = r"^[^\r\n ]*@[^\r\n ]*$")]
    recipient: Option<String>,
    /// The envelope sender.
    #[param(max_length = 254, pattern = r"^[^\r\n ]*@[^\r\n ]*$")]
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
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The raw RFC 5322 message (sent as message/rfc822 or application/octet-stream)"),
    responses((status = 202, body = InboundReceipt), (status = 403, body = crate::error::Problem), (status = 413, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
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
            Some(a) if a.chars().count() > 254 || !a.contains('@') || a.contains(['\r', '\n', ' ']) => {
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
        peer: None,
        helo: None,
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
    /// What mail authentication found (`spf=pass dkim=pass (d=…) dmarc=pass`), once
    /// processed.
    authentication: Option<String>,
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
            authentication: m.auth.map(|a| a.summary()),
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

/// Received messages in a state (staff): held ones wait for someone to route them.
#[utoipa::path(get, path = "/api/v1/mail", security(("bearer" = [])), params(MailQuery),
    responses((status = 200, body = Items<MailView>), (status = 403, body = crate::error::Problem)))]
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
    let items = state.mail_triage().messages(caller.principal(), which).await?;
    Ok(axum::Json(Items { items: items.into_iter().map(Into::into).collect() }))
}

/// Where a held message goes.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteMail {
    /// The org's slug; its sender is accepted there (added as a member when new).
    #[schema(max_length = 64, pattern = "^[a-z0-9][a-z0-9-]{1,39}$")]
    pub org: String,
}

/// Routes a held message to an org (staff): it is processed again there at once.
#[utoipa::path(post, path = "/api/v1/mail/{id}/route", security(("bearer" = [])), params(("id" = i64, Path, description = "The message id", minimum = 1)), request_body = RouteMail,
    responses((status = 202), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub async fn route(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<i64>,
    Body(body): Body<RouteMail>,
) -> Result<StatusCode, ApiError> {
    state.mail_triage().route(caller.principal(), id, &body.org, state.now().as_second()).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Lets mail to an address go out again after a bounce stopped it (staff): when the person
/// fixed their mailbox. Answers 204 whether or not it was stopped. (Mail from the person,
/// proven, lifts it too.)
#[utoipa::path(delete, path = "/api/v1/mail/suppressions/{address}", security(("bearer" = [])), params(("address" = String, Path, description = "The mail address")),
    responses((status = 204), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn lift_suppression(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(address): PathParams<String>,
) -> Result<StatusCode, ApiError> {
    state.mail_triage().lift_suppression(caller.principal(), &address).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The message as received (staff), to read everything the ticket's comment left out.
#[utoipa::path(get, path = "/api/v1/mail/{id}/original", security(("bearer" = [])), params(("id" = i64, Path, description = "The message id", minimum = 1)),
    responses((status = 200, content_type = "message/rfc822", body = String), (status = 404, body = crate::error::Problem)))]
pub async fn original(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<i64>,
) -> Result<impl IntoResponse, ApiError> {
    let m = state.mail_triage().original(caller.principal(), id).await?;
    Ok(crate::reads::eml_download(id, m.raw))
}

/// The updates a person gets by mail.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailUpdates {
    /// Any of `received` (a new ticket's acknowledgement), `replied` (public replies),
    /// `resolved`, `line_open` (the on-call line opened for a Pro P1).
    pub updates: Vec<Inform>,
}

/// The updates the caller gets by mail about their tickets (all of them unless they chose).
#[utoipa::path(get, path = "/api/v1/me/mail-updates", security(("bearer" = [])), responses((status = 200, body = MailUpdates)))]
pub async fn my_updates(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<axum::Json<MailUpdates>, ApiError> {
    Ok(axum::Json(MailUpdates { updates: state.mail_triage().updates(caller.principal()).await? }))
}

/// Chooses the updates the caller gets by mail.
#[utoipa::path(put, path = "/api/v1/me/mail-updates", security(("bearer" = [])), request_body = MailUpdates,
    responses((status = 200, body = MailUpdates), (status = 422, body = crate::error::Problem)))]
pub async fn choose_updates(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<MailUpdates>,
) -> Result<axum::Json<MailUpdates>, ApiError> {
    Ok(axum::Json(MailUpdates { updates: state.mail_triage().set_updates(caller.principal(), &body.updates).await? }))
}

/// An org's rules for mail.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgMail {
    /// `hold` (the default: mail from an address that is not one of the org's users waits for
    /// staff) or `accept` (a proven sender of one of `accept_domains` becomes a member
    /// without a password; anyone else's mail is held).
    #[schema(value_type = String, pattern = "^(hold|accept)$")]
    pub unknown_senders: UnknownSenders,
    /// Whether a `[P1]`–`[P4]` marker in a subject sets a new ticket's severity.
    pub subject_severity: bool,
    /// With `accept`: the domains whose proven senders become members (required then; at
    /// most 20). Every member reads all of the org's tickets, so list only the org's own.
    #[serde(default)]
    #[schema(max_items = 20, value_type = Vec<crate::openapi::DomainName>)]
    pub accept_domains: Vec<String>,
}

impl From<OrgMailPolicy> for OrgMail {
    fn from(p: OrgMailPolicy) -> OrgMail {
        OrgMail {
            unknown_senders: p.unknown_senders,
            subject_severity: p.subject_severity,
            accept_domains: p.accept_domains,
        }
    }
}

impl From<OrgMail> for OrgMailPolicy {
    fn from(m: OrgMail) -> OrgMailPolicy {
        OrgMailPolicy {
            unknown_senders: m.unknown_senders,
            subject_severity: m.subject_severity,
            accept_domains: m.accept_domains,
        }
    }
}

/// An org's rules for mail (who may see the org).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/mail", security(("bearer" = [])), params(("slug" = String, Path)),
    responses((status = 200, body = OrgMail), (status = 404, body = crate::error::Problem)))]
pub async fn org_mail(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(slug): PathParams<String>,
) -> Result<axum::Json<OrgMail>, ApiError> {
    Ok(axum::Json(state.mail_triage().org_rules(caller.principal(), &slug).await?.into()))
}

/// Sets an org's rules for mail (admin).
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/mail", security(("bearer" = [])), params(("slug" = String, Path)), request_body = OrgMail,
    responses((status = 200, body = OrgMail), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn update_org_mail(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(slug): PathParams<String>,
    Body(body): Body<OrgMail>,
) -> Result<axum::Json<OrgMail>, ApiError> {
    Ok(axum::Json(state.mail_triage().set_org_rules(caller.principal(), &slug, body.into()).await?.into()))
}
