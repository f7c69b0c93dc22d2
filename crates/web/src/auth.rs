//! Who is calling: bearer API tokens (SHA-256 of a 256-bit random secret is stored, so a
//! lookup is one indexed query and the secret never rests anywhere; a token seen in the last
//! second is taken from the [`crate::token_cache`]), and the one way a route asks the access
//! policy ([`Caller::may`]).

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;
pub use stringer_app::accounts::tokens::{new_secret, token_hash};
use stringer_app::act::{Principal, Proof};
use stringer_app::records::UserRecord;
use stringer_core::access::{self, Action, Actor, Decision, Object, Scopes};

/// The authenticated caller of the API or the pages, put in request extensions by
/// [`authenticate`] (or by the session): the application's [`Principal`], proven by a token
/// or a session.
#[derive(Clone, Debug)]
pub struct Caller {
    principal: Principal,
}

impl Caller {
    /// The caller `user` proven by `proof` with `scopes`: `None` for a deactivated account
    /// (the one place every door's principal is refused for it).
    pub fn new(user: UserRecord, scopes: Scopes, proof: Proof) -> Option<Caller> {
        Principal::new(user, scopes, proof).map(|principal| Caller { principal })
    }

    /// The user.
    pub fn user(&self) -> &UserRecord {
        self.principal.user()
    }

    /// Who acts, for the application.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// Staff (not a customer).
    pub fn is_staff(&self) -> bool {
        self.principal.is_staff()
    }

    /// The caller as the access policy sees them.
    pub fn actor(&self) -> Actor<'_> {
        self.principal.actor()
    }

    /// Asks the access policy whether the caller may take `action` on `object` (`None`: it
    /// does not exist); a refusal becomes the problem to answer — 404 "no such `what`"
    /// exactly as for a missing object, or 403 with the reason.
    pub fn may(&self, action: Action, object: Option<Object<'_>>, what: &str) -> Result<(), ApiError> {
        decision_to_result(access::decide(&self.actor(), action, object), what)
    }

    /// Whether the caller may list objects of the kind `action` acts on at all: the
    /// credential's scopes and the caller's role allow it (each object is then filtered with
    /// [`Caller::allowed`]).
    pub fn may_list(&self, action: Action) -> Result<(), ApiError> {
        match access::decide(&self.actor(), action, None) {
            Decision::Forbidden(why) => Err(ApiError::forbidden(why)),
            _ => Ok(()),
        }
    }

    /// Whether the caller may see a ticket's internal notes and staff-only details.
    pub fn sees_internals(&self, found: &stringer_app::act::Found) -> bool {
        self.allowed(Action::ReadInternal, Some(found.object()))
    }

    /// Whether the policy allows it (for filtering lists and redacting views).
    pub fn allowed(&self, action: Action, object: Option<Object<'_>>) -> bool {
        access::decide(&self.actor(), action, object).allowed()
    }
}

/// The problem a refusal answers.
pub fn decision_to_result(decision: Decision, what: &str) -> Result<(), ApiError> {
    match decision {
        Decision::Allow => Ok(()),
        Decision::NotFound => Err(ApiError::not_found(what)),
        Decision::Forbidden(why) => Err(ApiError::forbidden(why)),
    }
}

/// The bearer token of an `Authorization` header; the scheme is case-insensitive (RFC 9110).
fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Middleware: resolves the bearer token to a [`Caller`] or answers 401.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(caller) = bearer_caller(&state, request.headers()).await? else {
        return Err(ApiError::unauthorized("send Authorization: Bearer <token>"));
    };
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
}

/// The caller a request's bearer token names: `None` without one; 401 when the token is
/// unknown, revoked or expired, or its user deactivated.
pub async fn bearer_caller(state: &AppState, headers: &axum::http::HeaderMap) -> Result<Option<Caller>, ApiError> {
    let header = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let Some(secret) = header.and_then(bearer) else { return Ok(None) };
    let now = state.now().as_second();
    let hash = token_hash(secret);
    if let Some(caller) = state.tokens.get(&hash, Instant::now(), now) {
        return Ok(Some(caller));
    }
    let found = state.ports.accounts.token_by_hash(&hash).await?;
    let Some((expires_at, caller)) = found
        .filter(|(t, _)| t.revoked_at.is_none() && t.expires_at.is_none_or(|e| e > now))
        .and_then(|(token, user)| Some((token.expires_at, Caller::new(user, token.scopes, Proof::Token)?)))
    else {
        return Err(ApiError::unauthorized("the token is unknown, revoked or expired, or its user deactivated"));
    };
    state.tokens.put(hash, expires_at, caller.clone(), Instant::now());
    Ok(Some(caller))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer("Bearer stg_a"), Some("stg_a"));
        assert_eq!(bearer("bearer stg_a"), Some("stg_a"));
        assert_eq!(bearer("BEARER  stg_a "), Some("stg_a"));
        assert_eq!(bearer("Basic stg_a"), None);
        assert_eq!(bearer("Bearerstg_a"), None);
    }
}
