//! "Forgot your password?", the page a one-time link opens to set one, and changing one's
//! own password when signed in (the current one required). The forgot form answers the same
//! whether or not the address has an account, and spends the sign-in budget of the client
//! address.

use super::session::{self, OpenForm, PageForm, Signed, with_cookie};
use super::{PageError, PageResult, render};
use crate::AppState;
use crate::client::client_ip;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Template)]
#[template(path = "password_forgot.html")]
struct ForgotPage {
    sent: bool,
}

/// The form asking for one's address.
pub async fn forgot_form() -> PageResult {
    render(&ForgotPage { sent: false })
}

/// The address.
#[derive(Deserialize)]
pub struct Forgot {
    #[serde(default)]
    email: String,
}

/// Mails a reset link if the address has an active account with a password or an
/// invitation; answers the same either way.
pub async fn forgot(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    OpenForm(headers, form): OpenForm<Forgot>,
) -> PageResult {
    let ip = client_ip(peer.ip(), &headers, &state.settings.trusted_proxies);
    state.accounts().forgot(&ip.to_string(), &form.email).await?;
    render(&ForgotPage { sent: true })
}

#[derive(Template)]
#[template(path = "password_set.html")]
struct SetPage {
    token: String,
    error: Option<String>,
}

fn spent() -> PageError {
    PageError {
        status: axum::http::StatusCode::GONE,
        message: "This link has expired or was used already. Ask for a new one.".into(),
    }
}

/// The form to set a password, if the link still works.
pub async fn set_form(State(state): State<AppState>, Path(token): Path<String>) -> PageResult {
    state.accounts().usable_link(&token).await?.ok_or_else(spent)?;
    render(&SetPage { token, error: None })
}

/// The new password, twice.
#[derive(Deserialize)]
pub struct NewPassword {
    #[serde(default)]
    password: String,
    #[serde(default)]
    again: String,
}

/// Sets the password (ending the user's other sessions) or, for an invitation, makes the
/// account; uses the link up, and signs in.
pub async fn set(
    State(state): State<AppState>,
    Path(token): Path<String>,
    OpenForm(_, form): OpenForm<NewPassword>,
) -> PageResult {
    state.accounts().usable_link(&token).await?.ok_or_else(spent)?;
    let problem = if form.password.chars().count() < 12 || form.password.len() > 256 {
        Some("A password takes 12 to 256 characters.")
    } else if form.password != form.again {
        Some("The two passwords differ.")
    } else {
        None
    };
    if let Some(p) = problem {
        let mut response = render(&SetPage { token, error: Some(p.into()) })?;
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(response);
    }
    let user = state.accounts().set_password(&token, &form.password).await?.ok_or_else(spent)?;
    let cookie = session::start(&state, user).await?;
    Ok(with_cookie(Redirect::to("/").into_response(), cookie))
}

#[derive(Template)]
#[template(path = "password_change.html")]
struct ChangePage {
    nav: super::Nav,
    /// (field, message): "current", "password", "again" or "form".
    error: Option<(&'static str, String)>,
    /// Set after a change.
    flash: Option<&'static str>,
}

impl ChangePage {
    fn error(&self, field: &str) -> Option<&str> {
        self.error.as_ref().filter(|e| e.0 == field).map(|e| e.1.as_str())
    }
}

/// What a change reports back in the address (`?done=changed`).
#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
}

/// The form to change one's own password.
pub async fn change_form(Signed(session): Signed, Query(done): Query<Done>) -> PageResult {
    let flash = (done.done.as_deref() == Some("changed")).then_some("Your password was changed.");
    render(&ChangePage { nav: super::Nav::of(&session), error: None, flash })
}

/// The current password and the new one, twice.
#[derive(Deserialize)]
pub struct Change {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    again: String,
}

/// Changes one's own password (the current one required), ending one's other sessions; back
/// to the settings.
pub async fn change(State(state): State<AppState>, PageForm(session, form): PageForm<Change>) -> PageResult {
    let refused = if form.password != form.again {
        Some(("again", "The two new passwords differ.".to_string()))
    } else {
        let changed = state
            .accounts()
            .change_password(session.caller.principal(), &form.current, &form.password, &session.id_hash)
            .await
            .map_err(ApiError::from);
        match changed {
            Ok(()) => None,
            Err(e) if e.status.is_client_error() && e.status != axum::http::StatusCode::NOT_FOUND => {
                let field = match e.detail.split(':').next() {
                    Some("current") => "current",
                    Some("password") => "password",
                    _ => "form",
                };
                Some((field, PageError::from(e).message))
            }
            Err(e) => return Err(e.into()),
        }
    };
    match refused {
        None => super::see_other("/settings/password?done=changed"),
        Some(error) => {
            let mut response = render(&ChangePage { nav: super::Nav::of(&session), error: Some(error), flash: None })?;
            *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
    }
}
