//! The site's cookies by name, and reading one from a request: what the session, the sign-in
//! form and the error pages share, in a leaf module so none of them imports another for it.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "stringer_session";
/// The sign-in form's double-submit cookie.
pub const SIGNIN_COOKIE: &str = "stringer_signin";
/// The value of cookie `name` in a request's headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}
