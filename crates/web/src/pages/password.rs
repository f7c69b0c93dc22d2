//! "Forgot your password?" and the page a one-time link opens to set one. The forgot form
//! answers the same whether or not the address has an account, and spends the sign-in budget
//! of the client address.

use super::session::{self, OpenForm, with_cookie};
use super::{PageError, PageResult, render};
use crate::AppState;
use crate::client::client_ip;
use askama::Template;
use axum::extract::{ConnectInfo, Path, State};
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
