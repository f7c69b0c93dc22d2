//! "Forgot your password?" and the page a one-time link opens to set one. The forgot form
//! answers the same whether or not the address has an account, and spends the sign-in budget
//! of the client address.

use super::session::{self, OpenForm, with_cookie};
use super::{PageError, PageResult, render};
use crate::AppState;
use crate::auth::hash_password;
use crate::client::client_ip;
use crate::ids::{is_id, new_id};
use crate::password_links::{self, Purpose};
use crate::routes::accounts::{post_packet, spend};
use askama::Template;
use axum::extract::{ConnectInfo, Path, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use std::net::SocketAddr;
use stringer_app::records::UserRecord;
use stringer_core::ids::{UserId, UserRole};

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
    spend(&state, state.settings.login_limit, format!("login-ip:{ip}"), "too many attempts from this address").await?;
    let email = form.email.trim().to_lowercase();
    if email.len() <= 254
        && let Some(user) = state.ports.accounts.login_account(&email, None).await?
        && user.deactivated_at.is_none()
        && let Err(e) = password_links::send(&state, &user, Purpose::Reset).await
    {
        tracing::warn!("a reset link was asked for but not sent: {}", e.detail);
    }
    render(&ForgotPage { sent: true })
}

#[derive(Template)]
#[template(path = "password_set.html")]
struct SetPage {
    token: String,
    error: Option<String>,
}

/// The link's id, if the link is genuine, unexpired and unused, and its user active (for an
/// invitation: its address still held by nobody outside its org).
async fn usable(state: &AppState, token: &str) -> Result<Option<String>, PageError> {
    let now = state.now().as_second();
    let Some(id) = password_links::verify(state, token, now).await? else { return Ok(None) };
    let accounts = &state.ports.accounts;
    let usable = if is_id("inv", &id) {
        accounts.invitation_usable(&id, now).await?
    } else {
        accounts.password_link_usable(&id, now).await?
    };
    Ok(usable.then_some(id))
}

fn spent() -> PageError {
    PageError {
        status: axum::http::StatusCode::GONE,
        message: "This link has expired or was used already. Ask for a new one.".into(),
    }
}

/// The form to set a password, if the link still works.
pub async fn set_form(State(state): State<AppState>, Path(token): Path<String>) -> PageResult {
    usable(&state, &token).await?.ok_or_else(spent)?;
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

/// Makes the account an invitation is for, with the password hash `hash`; a new org admin
/// is posted the org's welcome packet.
async fn accept(state: &AppState, id: &str, hash: &str, now: i64) -> Result<UserRecord, PageError> {
    let user = UserId(new_id("usr"));
    let user = state.ports.accounts.accept_invitation(id, &user, hash, now).await?.ok_or_else(spent)?;
    if user.role == UserRole::OrgAdmin
        && state.mail.is_some()
        && let Some(org) = user.org.as_ref()
        && let Some(org) = state.ports.accounts.org(org).await?
    {
        post_packet(state, &org, &user).await;
    }
    Ok(user)
}

/// Sets the password (ending the user's other sessions) or, for an invitation, makes the
/// account; uses the link up, and signs in.
pub async fn set(
    State(state): State<AppState>,
    Path(token): Path<String>,
    OpenForm(_, form): OpenForm<NewPassword>,
) -> PageResult {
    let id = usable(&state, &token).await?.ok_or_else(spent)?;
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
    let now = state.now().as_second();
    let hash = hash_password(&form.password);
    let user = if is_id("inv", &id) {
        accept(&state, &id, &hash, now).await?
    } else {
        let user = state.ports.accounts.use_password_link(&id, &hash, now).await?.ok_or_else(spent)?;
        state.ports.accounts.user(&user).await?.ok_or_else(spent)?
    };
    state.tokens.clear();
    let cookie = session::start(&state, user).await?;
    Ok(with_cookie(Redirect::to("/").into_response(), cookie))
}
