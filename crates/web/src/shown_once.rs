//! Answers that carry a one-time secret (a token, an integration key, a PIN, a signing secret,
//! a secret feed URL): the routes answer with a [`ShownOnce`], and the `Idempotency-Key`
//! recorder keeps only the id it names, never the secret (see [`crate::idempotency`]). Its own
//! module, so the routes and the recorder (which reads some of them back for a replay) do not
//! import each other.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A created thing whose answer carries a one-time secret (an API token, an integration key,
/// a phone PIN, a webhook's signing secret, a secret calendar-feed URL): answered 201 with
/// `view`. Under an `Idempotency-Key` only `id` (what was created) is stored, never the view,
/// and a replay answers 409 naming `id` instead of showing the secret again.
pub struct ShownOnce<T> {
    /// What was created (its id; for an org's PIN, the org).
    pub id: String,
    /// The answer, secret included.
    pub view: T,
}

/// The mark a [`ShownOnce`] answer carries for the recorder: what it created.
#[derive(Clone, Debug)]
pub(crate) struct OneTimeSecret {
    /// What was created.
    pub(crate) id: String,
}

impl<T: Serialize> IntoResponse for ShownOnce<T> {
    fn into_response(self) -> Response {
        let mut response = (StatusCode::CREATED, axum::Json(self.view)).into_response();
        response.extensions_mut().insert(OneTimeSecret { id: self.id });
        response
    }
}
