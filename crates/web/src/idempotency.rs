//! `Idempotency-Key` on POST: the first final response to a key is stored with a hash of the
//! request; a retry with the same key and request gets that response again and changes
//! nothing; the same key with a different request is refused.
//!
//! Only final outcomes are kept: successes and client errors, but not 408, 409, 425 or 429
//! (they depend on the moment — a refused customer page opens later, a limit resets), nor
//! server errors. Every keyed write records its key's outcome in its own transaction
//! ([`stringer_app::keyed`]): a ticket change through the Desk, every other write (a user, a
//! schedule, a component, a token…) in the store, which is given [`current_key`] as the Desk
//! is. A request killed after its write committed leaves its key "written", and a retry
//! answers from what it wrote instead of writing again (see `replay_written`: the thing read
//! again, a one-time secret's 409, or "done"). A request that died before writing leaves its
//! key "in progress" for at most its lease ([`LEASE_SECONDS`] by default); a retry after that
//! runs afresh, and the old request, should it still write, finds its claim gone and writes
//! nothing. When the request completes, its full response is stored as before. Keys expire
//! after [`EXPIRY_SECONDS`] and are purged.
//!
//! Two keyed POSTs record nothing in their transaction: a password link and an org admin's
//! invitation, each mailed straight to the relay after it is stored — marking them would let
//! a retry answer "done" for a link whose mail was never sent (see [`stringer_app::keyed`]).
//!
//! A response carrying a one-time secret (a token, an integration key, a PIN, a signing
//! secret, a secret feed URL) is a [`ShownOnce`](crate::shown_once::ShownOnce): only the id of what it created is stored,
//! and a replay says the secret was shown once and names the id.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::PathParams;
use crate::reads::ticket_for;
use crate::routes::tickets::view;
use crate::routes::{accounts, reports, schedules};
use crate::shown_once;
use axum::Extension;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::future::Future;
use stringer_app::keyed::{KeyedWrite, Replay, Written};

tokio::task_local! {
    /// The key the running request's writes answer to.
    static CURRENT: KeyedWrite;
}

/// The key the running request's writes answer to, if it sent one: what the Desk is given
/// ([`stringer_app::Desk::keyed_by`]) so the key's outcome commits with the change.
pub fn current_key() -> Option<KeyedWrite> {
    CURRENT.try_with(Clone::clone).ok()
}

/// `work` under the running request's key, if any: for work spawned off the request's task
/// (a spawned task does not inherit it).
pub(crate) fn carry<F: Future>(work: F) -> impl Future<Output = F::Output> {
    let keyed = current_key();
    async move {
        match keyed {
            Some(keyed) => CURRENT.scope(keyed, work).await,
            None => work.await,
        }
    }
}
use stringer_app::records::KeyClaim;
use stringer_core::access::Action;

/// Header name.
pub const HEADER: &str = "idempotency-key";
/// Largest body buffered for hashing (the API's body limit).
pub const MAX_BODY: usize = 64 * 1024;
/// How long a key stays "in progress" before a retry may take it over, by default
/// (`--idempotency-lease`): far longer than any request takes, so only a request that died
/// leaves it that long.
pub const LEASE_SECONDS: i64 = 30;
/// How long a finished key is remembered (the customary 24 hours).
pub const EXPIRY_SECONDS: i64 = 86_400;

/// Whether a response is a final outcome, worth replaying.
fn is_final(status: StatusCode) -> bool {
    status.is_success() || (status.is_client_error() && ![408, 409, 425, 429].contains(&status.as_u16()))
}

/// Middleware (inside authentication).
pub async fn idempotency(State(state): State<AppState>, request: Request, next: Next) -> Result<Response, ApiError> {
    let key = request.headers().get(HEADER).map(|v| v.to_str().map(str::to_string));
    let (Method::POST, Some(key)) = (request.method().clone(), key) else {
        return Ok(next.run(request).await);
    };
    let key = key.map_err(|_| ApiError::bad_request("Idempotency-Key must be visible ASCII"))?;
    if key.is_empty() || key.len() > 255 {
        return Err(ApiError::bad_request("Idempotency-Key must be 1 to 255 characters"));
    }
    let caller = request.extensions().get::<Caller>().cloned().expect("authenticated before idempotency");
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "the body is too large"))?;
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str());
    hasher.update(parts.uri.path());
    hasher.update(&bytes);
    let hash = hex::encode(hasher.finalize());
    let now = state.now().as_second();
    let user = &caller.user().id;
    let store = &state.ports.safeguards;
    let lease = state.settings.idempotency_lease;
    match store.claim_idempotent(user, &key, &hash, &state.new_id("clm"), now, lease, EXPIRY_SECONDS).await? {
        KeyClaim::OtherRequest => {
            Err(ApiError::unprocessable("this Idempotency-Key was used with a different request"))
        }
        KeyClaim::InProgress => {
            let mut e = ApiError::conflict("a request with this Idempotency-Key is still in progress");
            e.retry_after = Some(1);
            Err(e)
        }
        KeyClaim::Done { body, redacted: true, .. } => {
            let id = serde_json::from_str::<serde_json::Value>(&body).ok().and_then(|b| b.get("id").cloned());
            Err(secret_replayed(id.unwrap_or_default()))
        }
        KeyClaim::Done { status, body, redacted: false } => Ok(replay(status, body)),
        KeyClaim::Written(written) => replay_written(&state, &caller, written).await,
        KeyClaim::New { claim } => {
            let keyed = KeyedWrite { user: user.clone(), key: key.clone(), claim };
            let response = CURRENT.scope(keyed.clone(), next.run(Request::from_parts(parts, Body::from(bytes)))).await;
            let (parts, body) = response.into_parts();
            let Ok(bytes) = to_bytes(body, usize::MAX).await else {
                store.release_idempotent(user, &key, &keyed.claim, false).await?;
                return Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the response could not be read"));
            };
            if !is_final(parts.status) {
                // A "not now" (409, 429…) did not do what was asked; a 5xx may have.
                let refused = parts.status.is_client_error();
                store.release_idempotent(user, &key, &keyed.claim, refused).await?;
                return Ok(Response::from_parts(parts, Body::from(bytes)));
            }
            let status = i64::from(parts.status.as_u16());
            // A one-time secret's answer is kept as the id of what it created, nothing more.
            let (kept, redacted) = match parts.extensions.get::<shown_once::OneTimeSecret>() {
                Some(shown) => (serde_json::json!({ "id": shown.id }).to_string(), true),
                None => (String::from_utf8_lossy(&bytes).into_owned(), false),
            };
            store.finish_idempotent(user, &key, &keyed.claim, status, &kept, redacted).await?;
            Ok(Response::from_parts(parts, Body::from(bytes)))
        }
    }
}

/// The answer to a retry whose first request wrote but died before it answered, from what it
/// wrote (see [`stringer_app::keyed::Written`]), marked `idempotent-replayed`: what it wrote,
/// read again as the caller may see it now, with the status the write answers (a ticket, a
/// user, an org, a schedule, a report); 409 naming what it created, for a one-time secret; or
/// the recorded status with a body that names what was written and says the request was done
/// (an action with nothing to read back, or a thing with no read of its own: a component, an
/// incident, an attachment…).
async fn replay_written(state: &AppState, caller: &Caller, written: Written) -> Result<Response, ApiError> {
    if written.replay == Replay::Secret {
        return Err(secret_replayed(serde_json::Value::String(written.id)));
    }
    let status =
        u16::try_from(written.status).ok().and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::OK);
    let (state, who, id) = (State(state.clone()), Extension(caller.clone()), PathParams(written.id.clone()));
    let read = match (written.replay, written.kind.as_str()) {
        (Replay::Reread, "ticket") => {
            let found = ticket_for(&state, caller, &written.id, &[Action::ReadTicket]).await?;
            Some(axum::Json(view(state.contract(), found.ticket, state.now())).into_response())
        }
        (Replay::Reread, "user") => Some(accounts::get_user(state, who, id).await?.into_response()),
        (Replay::Reread, "org") => Some(accounts::get_org(state, who, id).await?.into_response()),
        (Replay::Reread, "schedule") => Some(schedules::get_schedule(state, who, id).await?.into_response()),
        (Replay::Reread, "report") => Some(reports::get_report(state, who, id).await?.into_response()),
        _ => None,
    };
    let mut response = match read {
        Some(read) => read,
        None if status == StatusCode::NO_CONTENT => status.into_response(),
        None => axum::Json(serde_json::json!({
            "id": written.id,
            "kind": written.kind,
            "detail": "this request was done already (its answer was lost); what it wrote is named here",
        }))
        .into_response(),
    };
    *response.status_mut() = status;
    response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(response)
}

/// The answer to a retry of a request whose answer held a one-time secret: 409 naming what it
/// created (`id`), never the secret.
fn secret_replayed(id: serde_json::Value) -> ApiError {
    let detail = "this request was done already; the one-time secret it returned is shown only once and is not kept (revoke what it created and make another if it was lost)";
    ApiError::conflict(detail).with("id", id)
}

fn replay(status: i64, body: String) -> Response {
    let status = u16::try_from(status).ok().and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::OK);
    let content_type = if status.is_success() { "application/json" } else { "application/problem+json" };
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_final_outcomes_are_kept() {
        for kept in [200, 201, 202, 204, 400, 403, 404, 422] {
            assert!(is_final(StatusCode::from_u16(kept).unwrap()), "{kept}");
        }
        for passing in [408, 409, 425, 429, 500, 503] {
            assert!(!is_final(StatusCode::from_u16(passing).unwrap()), "{passing}");
        }
    }
}
