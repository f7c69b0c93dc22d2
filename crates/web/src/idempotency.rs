//! `Idempotency-Key` on POST: the first response to a key is stored with a hash of the
//! request; a retry with the same key and request gets that response again and changes
//! nothing; the same key with a different request is refused.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// Header name.
pub const HEADER: &str = "idempotency-key";
/// Largest body buffered for hashing (the API's body limit).
pub const MAX_BODY: usize = 64 * 1024;

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
    match state.store.claim_idempotent(&caller.user.id, &key, &hash, now).await? {
        Some((seen, _, _)) if seen != hash => {
            Err(ApiError::unprocessable("this Idempotency-Key was used with a different request"))
        }
        Some((_, 0, _)) => Err(ApiError::conflict("a request with this Idempotency-Key is still in progress")),
        Some((_, status, body)) => Ok(replay(status, body)),
        None => {
            let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
            let (parts, body) = response.into_parts();
            let Ok(bytes) = to_bytes(body, usize::MAX).await else {
                state.store.release_idempotent(&caller.user.id, &key).await?;
                return Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the response could not be read"));
            };
            if parts.status.is_server_error() {
                state.store.release_idempotent(&caller.user.id, &key).await?;
            } else {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                state.store.finish_idempotent(&caller.user.id, &key, i64::from(parts.status.as_u16()), &text).await?;
            }
            Ok(Response::from_parts(parts, Body::from(bytes)))
        }
    }
}

fn replay(status: i64, body: String) -> Response {
    let status = u16::try_from(status).ok().and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::OK);
    let content_type = if status.is_success() { "application/json" } else { "application/problem+json" };
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
