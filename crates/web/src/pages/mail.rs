//! The console's mail page: held mail to route to an org, and what was left alone (auto-
//! replies, lists, bounces), through the same functions as `/api/v1/mail`.

use super::session::{PageForm, Signed};
use super::{Nav, PageResult, render, text};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Path, State};
use serde::Deserialize;
use stringer_app::mail::{InboundRecord, MailState};
use stringer_core::access::{Action, Object};

/// One message as the page shows it.
pub struct MailLine {
    id: i64,
    sender: String,
    subject: String,
    received: String,
    reason: String,
    org: String,
}

#[derive(Template)]
#[template(path = "console_mail.html")]
struct MailPage {
    nav: Nav,
    held: Vec<MailLine>,
    ignored: Vec<MailLine>,
    orgs: Vec<(String, String)>,
}

/// Held mail, and the latest mail left alone.
pub async fn page(State(state): State<AppState>, Signed(session): Signed) -> PageResult {
    let caller = &session.caller;
    let tz = text::zone(caller.user().time_zone.as_deref());
    let line = |m: InboundRecord| MailLine {
        id: m.id,
        sender: m.sender.or(m.envelope_from).unwrap_or_else(|| "(no sender)".into()),
        subject: m.subject.unwrap_or_default(),
        received: super::ticket::at(m.received_at_ms / 1000, &tz),
        reason: m.reason.unwrap_or_default(),
        org: m.org.map(|o| o.0).unwrap_or_default(),
    };
    let triage = state.mail_triage();
    let held = triage.messages(caller.principal(), MailState::Held).await.map_err(ApiError::from)?;
    let held = held.into_iter().map(line).collect();
    let ignored = triage.messages(caller.principal(), MailState::Ignored).await.map_err(ApiError::from)?;
    let ignored = ignored.into_iter().take(50).map(line).collect();
    let orgs = state
        .ports
        .accounts
        .orgs()
        .await?
        .into_iter()
        .filter(|o| caller.allowed(Action::OpenTicket, Some(Object::Org(o.as_ref()))))
        .map(|o| (o.slug.0, o.name))
        .collect();
    render(&MailPage { nav: Nav::of(&session), held, ignored, orgs })
}

/// The route form.
#[derive(Deserialize)]
pub struct RouteForm {
    org: String,
}

/// Routes a held message to an org.
pub async fn route(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    PageForm(session, form): PageForm<RouteForm>,
) -> PageResult {
    let now = state.now().as_second();
    state.mail_triage().route(session.caller.principal(), id, &form.org, now).await.map_err(ApiError::from)?;
    super::see_other("/console/mail")
}

/// A received message as it came (staff who may see its org).
pub async fn original(State(state): State<AppState>, Signed(session): Signed, Path(id): Path<i64>) -> PageResult {
    let m = state.mail_triage().original(session.caller.principal(), id).await.map_err(ApiError::from)?;
    Ok(crate::reads::eml_download(id, m.raw))
}
