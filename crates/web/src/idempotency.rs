//! `Idempotency-Key` on POST: the first final response to a key is stored with a hash of the
//! request; a retry with the same key and request gets that response again and changes
//! nothing; the same key with a different request is refused.
//!
//! Only final outcomes are kept: successes and client errors, but not 408, 409, 425 or 429
//! (they depend on the moment — a refused customer page opens later, a limit resets), nor
//! server errors. A request that dies mid-way (the server killed) leaves its key "in
//! progress" for at most its lease ([`LEASE_SECONDS`] by default); a retry after that runs
//! afresh. Keys expire after
//! [`EXPIRY_SECONDS`] and are purged. A response carrying a one-time secret (a new token, a
//! calendar-feed URL, a signing secret) is stored without it, and a replay says so instead of
//! showing the secret again.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, IntoResponseParts, Response, ResponseParts};
use sha2::{Digest, Sha256};
use stringer_app::records::KeyClaim;

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
/// The JSON fields that hold a one-time secret in our responses.
const SECRET_FIELDS: [&str; 3] = ["token", "secret", "ics_path"];

/// Marks a response whose body holds a one-time secret (add it to the response's parts).
#[derive(Clone, Copy, Debug)]
pub struct OneTimeSecret;

impl IntoResponseParts for OneTimeSecret {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        res.extensions_mut().insert(self);
        Ok(res)
    }
}

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
    match store.claim_idempotent(user, &key, &hash, now, state.settings.idempotency_lease, EXPIRY_SECONDS).await? {
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
            let detail = "this request was done already; the one-time secret it returned is shown only once and is not kept (revoke what it created and make another if it was lost)";
            Err(ApiError::conflict(detail).with("id", id.unwrap_or_default()))
        }
        KeyClaim::Done { status, body, redacted: false } => Ok(replay(status, body)),
        KeyClaim::New => {
            let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
            let (parts, body) = response.into_parts();
            let Ok(bytes) = to_bytes(body, usize::MAX).await else {
                store.release_idempotent(user, &key).await?;
                return Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the response could not be read"));
            };
            if !is_final(parts.status) {
                store.release_idempotent(user, &key).await?;
                return Ok(Response::from_parts(parts, Body::from(bytes)));
            }
            let secret = parts.extensions.get::<OneTimeSecret>().is_some();
            let text = if secret { without_secrets(&bytes) } else { String::from_utf8_lossy(&bytes).into_owned() };
            store.finish_idempotent(user, &key, i64::from(parts.status.as_u16()), &text, secret).await?;
            Ok(Response::from_parts(parts, Body::from(bytes)))
        }
    }
}

/// The response body without its secret fields.
fn without_secrets(bytes: &[u8]) -> String {
    let mut value: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        for field in SECRET_FIELDS {
            object.remove(field);
        }
    }
    value.to_string()
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

    #[test]
    fn secrets_are_taken_out() {
        let kept = without_secrets(br#"{"id":"tok_1","token":"stg_x","scopes":["read"]}"#);
        assert_eq!(kept, r#"{"id":"tok_1","scopes":["read"]}"#);
        assert_eq!(without_secrets(br#"{"id":"cm_1","secret":"s","ics_path":"/x?token=y"}"#), r#"{"id":"cm_1"}"#);
    }
}
