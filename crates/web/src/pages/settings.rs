//! One's own settings: the time zone the pages show instants in.

use super::session::{PageForm, Signed};
use super::{Nav, PageError, PageResult, render};
use crate::AppState;
use crate::routes::accounts::{UpdateMe, change_me};
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    nav: Nav,
    time_zone: String,
    zones: Vec<String>,
    flash: Option<String>,
    error: Option<String>,
}

fn page(
    session: &super::session::Session,
    time_zone: String,
    flash: Option<String>,
    error: Option<String>,
) -> PageResult {
    let mut zones: Vec<String> = jiff::tz::db().available().map(|n| n.to_string()).collect();
    zones.sort();
    let failed = error.is_some();
    let mut response = render(&SettingsPage { nav: Nav::of(session), time_zone, zones, flash, error })?;
    if failed {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// The settings form.
pub async fn form(Signed(session): Signed) -> PageResult {
    let tz = session.caller.user.time_zone.clone().unwrap_or_default();
    page(&session, tz, None, None)
}

/// What the form sends.
#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    time_zone: String,
}

/// Saves the settings (through the API's own function).
pub async fn save(State(state): State<AppState>, PageForm(session, form): PageForm<SettingsForm>) -> PageResult {
    let change = UpdateMe { time_zone: Some(Some(form.time_zone.trim().to_string())) };
    match change_me(&state, &session.caller, change).await {
        Ok(user) => page(&session, user.time_zone.unwrap_or_default(), Some("Saved.".into()), None),
        Err(e) if e.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY => {
            page(&session, form.time_zone, None, Some(PageError::from(e).message))
        }
        Err(e) => Err(e.into()),
    }
}
