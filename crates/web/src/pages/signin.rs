//! Signing in and out. The sign-in form is checked exactly like the API's login (the same
//! rate limits, back-off and constant-cost answer for unknown accounts), and guarded against
//! cross-site posts by a double-submit cookie, since there is no session yet.

use super::session::{self, OpenForm, PageForm, set_cookie, with_cookie};
use super::{PageError, PageResult, render};
use crate::AppState;
use crate::auth::new_secret;
use crate::client::client_ip;
use crate::cookies::{SIGNIN_COOKIE, cookie};
use crate::error::ApiError;
use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use std::net::SocketAddr;
use subtle::ConstantTimeEq;

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    next: String,
    email: String,
    error: Option<String>,
    guard: String,
}

/// Where to go after signing in.
#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// A path on this site, else `/`.
fn local(next: Option<String>) -> String {
    next.as_deref().and_then(session::local_path).unwrap_or("/").to_string()
}

fn page(state: &AppState, next: String, email: String, error: Option<String>) -> PageResult {
    let guard = new_secret();
    let response = render(&SignInPage { next, email, error, guard: guard.clone() })?;
    Ok(with_cookie(response, set_cookie(state, SIGNIN_COOKIE, &guard, 3600, "Strict")))
}

/// The sign-in form.
pub async fn form(State(state): State<AppState>, Query(q): Query<Next>) -> PageResult {
    page(&state, local(q.next), String::new(), None)
}

/// What the sign-in form sends.
#[derive(Deserialize)]
pub struct SignIn {
    email: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    guard: String,
}

/// Checks the form; on success starts a session and goes on to `next`.
pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    OpenForm(headers, form): OpenForm<SignIn>,
) -> PageResult {
    let next = local(form.next);
    let expected = cookie(&headers, SIGNIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !bool::from(expected.as_bytes().ct_eq(form.guard.as_bytes())) {
        return page(&state, next, form.email, Some("The form expired; please sign in again.".into()));
    }
    let ip = client_ip(peer.ip(), &headers, &state.settings.trusted_proxies);
    match state.accounts().sign_in(&ip.to_string(), &form.email, &form.password, None).await.map_err(ApiError::from) {
        Ok(user) => {
            let cookie = session::start(&state, user).await?;
            Ok(with_cookie(Redirect::to(&next).into_response(), cookie))
        }
        Err(e) if e.status.is_client_error() => {
            let response = page(&state, next, form.email, Some(e.detail))?;
            Ok((e.status, response).into_response())
        }
        Err(e) => Err(PageError::from(e)),
    }
}

/// Ends the session.
pub async fn sign_out(
    State(state): State<AppState>,
    PageForm(session, _): PageForm<serde::de::IgnoredAny>,
) -> PageResult {
    let cookie = session::end(&state, &session).await?;
    Ok(with_cookie(Redirect::to("/signin").into_response(), cookie))
}
