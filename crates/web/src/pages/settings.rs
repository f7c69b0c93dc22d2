//! One's own settings: the time zone the pages show instants in, one's phone number (the
//! caller ID the P1 line knows one by, confirmed by the code sent to it by SMS), and the
//! updates one gets by mail about one's tickets; for staff, how they are paged
//! ([`super::paging`]).

use super::paging::{PagingInput, PagingSection};
use super::session::{PageForm, Signed};
use super::{Nav, PageError, PageResult, render};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Query, State};
use serde::Deserialize;
use stringer_app::accounts::numbers::NumberChange;
use stringer_app::mail::Inform;

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    nav: Nav,
    time_zone: String,
    phone: String,
    /// The number a code was sent to, while it can still be confirmed.
    waiting: Option<String>,
    zones: Vec<String>,
    /// (form field, label, chosen) per kind of mail update.
    updates: Vec<(&'static str, &'static str, bool)>,
    flash: Option<String>,
    error: Option<String>,
    /// How one is paged (staff only).
    paging: Option<PagingSection>,
}

/// Each mail update with its words.
fn update_label(i: Inform) -> &'static str {
    match i {
        Inform::Received => "A new ticket was received (its key and when a response is due)",
        Inform::Replied => "Support replied",
        Inform::Resolved => "The ticket was resolved",
        Inform::LineOpen => "A P1 may now be paged to the on-call engineer",
    }
}

/// The settings page with the values and messages given.
pub async fn page(
    state: &AppState,
    session: &super::session::Session,
    time_zone: String,
    phone: Option<String>,
    flash: Option<String>,
    error: Option<String>,
    paging: PagingInput,
) -> PageResult {
    let me = &session.caller.user().id;
    let phone = match phone {
        Some(given) => given,
        None => state.ports.phone.number(me).await?.unwrap_or_default(),
    };
    let now = state.now().as_second();
    let waiting = state
        .ports
        .phone
        .confirmation(me)
        .await?
        .filter(|c| c.expires_at > now && c.attempts < stringer_app::phone::CODE_ATTEMPTS)
        .map(|c| c.number);
    let mut zones: Vec<String> = jiff::tz::db().available().map(|n| n.to_string()).collect();
    zones.sort();
    let chosen = state.ports.mailroom.mail_updates(session.caller.user()).await?;
    let updates = Inform::ALL.into_iter().map(|i| (i.as_str(), update_label(i), chosen.contains(&i))).collect();
    let failed = error.is_some();
    let paging = super::paging::section(state, session, paging).await?;
    let nav = Nav::of(session);
    let mut response = render(&SettingsPage { nav, time_zone, phone, waiting, zones, updates, flash, error, paging })?;
    if failed {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// What a redirect back to the settings says was done.
#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// The settings form.
pub async fn form(State(state): State<AppState>, Query(q): Query<Done>, Signed(session): Signed) -> PageResult {
    let tz = session.caller.user().time_zone.clone().unwrap_or_default();
    let flash = q.done.as_deref().and_then(super::paging::done_words).map(String::from);
    page(&state, &session, tz, None, flash, None, PagingInput::default()).await
}

/// Issues a new calendar feed link for one's on-call shifts, shown this once (the old one
/// stops working).
pub async fn new_feed(
    State(state): State<AppState>,
    PageForm(session, _): PageForm<super::session::EmptyForm>,
) -> PageResult {
    let me = session.caller.user().id.to_string();
    let path = state.paging().new_calendar_feed(session.caller.principal(), &me).await.map_err(ApiError::from)?;
    let tz = session.caller.user().time_zone.clone().unwrap_or_default();
    let flash = Some("A new calendar link is made: the old one no longer works.".to_string());
    let feed = Some(format!("{}{path}", state.public_url));
    page(&state, &session, tz, None, flash, None, PagingInput { feed, ..PagingInput::default() }).await
}

/// What the form sends: the zone, and a checkbox per mail update (present when ticked).
#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    phone: String,
    received: Option<String>,
    replied: Option<String>,
    resolved: Option<String>,
    line_open: Option<String>,
}

/// Saves the settings (through the API's own function).
pub async fn save(State(state): State<AppState>, PageForm(session, form): PageForm<SettingsForm>) -> PageResult {
    let ticked = [
        (Inform::Received, &form.received),
        (Inform::Replied, &form.replied),
        (Inform::Resolved, &form.resolved),
        (Inform::LineOpen, &form.line_open),
    ];
    let updates: Vec<Inform> = ticked.into_iter().filter(|(_, on)| on.is_some()).map(|(i, _)| i).collect();
    let time_zone = Some(Some(form.time_zone.trim().to_string()));
    let me = session.caller.user().id.to_string();
    let (accounts, who) = (state.accounts(), session.caller.principal());
    let saved = match accounts.change_me(who, time_zone).await {
        Ok(user) => accounts.change_number(who, &me, Some(&form.phone)).await.map(|c| (user, c)),
        Err(e) => Err(e),
    }
    .map_err(ApiError::from);
    match saved {
        Ok((user, change)) => {
            state.mail_triage().set_updates(session.caller.principal(), &updates).await.map_err(ApiError::from)?;
            let flash = match change {
                NumberChange::InForce(_) => "Saved.".to_string(),
                NumberChange::Waiting { waiting, .. } => {
                    format!("Saved. A code was sent by SMS to {waiting}: enter it below to confirm the number.")
                }
            };
            page(&state, &session, user.time_zone.unwrap_or_default(), None, Some(flash), None, PagingInput::default())
                .await
        }
        Err(e) if is_form_error(&e) => {
            let why = Some(PageError::from(e).message);
            page(&state, &session, form.time_zone, Some(form.phone), None, why, PagingInput::default()).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A refusal the form shows beside its fields (a bad value, a number someone else holds).
fn is_form_error(e: &ApiError) -> bool {
    matches!(e.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY | axum::http::StatusCode::CONFLICT)
}

/// The code sent to the number waiting to be confirmed.
#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

/// Confirms one's waiting phone number with its code (through the API's own function).
pub async fn confirm_phone(State(state): State<AppState>, PageForm(session, form): PageForm<CodeForm>) -> PageResult {
    let me = session.caller.user().id.to_string();
    let tz = session.caller.user().time_zone.clone().unwrap_or_default();
    match state.accounts().confirm_number(session.caller.principal(), &me, &form.code).await.map_err(ApiError::from) {
        Ok(number) => {
            let flash = format!("{number} is confirmed: the P1 line knows you by it.");
            page(&state, &session, tz, None, Some(flash), None, PagingInput::default()).await
        }
        Err(e) if is_form_error(&e) => {
            page(&state, &session, tz, None, None, Some(PageError::from(e).message), PagingInput::default()).await
        }
        Err(e) => Err(e.into()),
    }
}
