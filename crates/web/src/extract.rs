//! Request extractors whose rejections are problem responses, and the edge checks every
//! request passes: a bounded URI, and no NUL byte anywhere (PostgreSQL cannot store one, and
//! no field of ours has a use for it).

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// The longest request target (path and query) accepted, in bytes.
pub const MAX_URI: usize = 8 * 1024;

/// A JSON body; malformed, oversized or mistyped bodies become 400/413/415/422 problems, and
/// a NUL character in any string a 400.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
            });
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Expected request with `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
        if stringer_integrations::nul::in_json(&bytes) {
            return Err(nul());
        }
        // Every body the API takes is an object; serde would also read a struct whose fields
        // all have defaults from an array.
        let object = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        if !object && serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok() {
            return Err(ApiError::unprocessable("the body is a JSON object"));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(e) => match whole_numbers(&bytes).and_then(|v| serde_json::from_value(v).ok()) {
                Some(v) => Ok(Body(v)),
                None => Err(json_problem(e)),
            },
        }
    }
}

/// JSON Schema counts `105.0` as an integer and serde does not: the body again, with every
/// whole number written as a fraction (within ±2^53, where a double is exact) made an
/// integer — when it holds such a number (`None` otherwise, and for a body that does not
/// parse). Read only after the body failed as it came, so well-written bodies pay nothing.
fn whole_numbers(bytes: &[u8]) -> Option<serde_json::Value> {
    use serde_json::Value;
    fn walk(value: &mut Value, changed: &mut bool) {
        match value {
            Value::Number(n) => {
                if let Some(f) =
                    n.as_f64().filter(|f| n.is_f64() && f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0)
                {
                    *value = Value::from(f as i64);
                    *changed = true;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, changed)),
            Value::Object(fields) => fields.values_mut().for_each(|v| walk(v, changed)),
            _ => {}
        }
    }
    let mut value: Value = serde_json::from_slice(bytes).ok()?;
    let mut changed = false;
    walk(&mut value, &mut changed);
    changed.then_some(value)
}

fn nul() -> ApiError {
    ApiError::bad_request(stringer_integrations::nul::REFUSAL)
}

fn json_problem(e: JsonRejection) -> ApiError {
    ApiError::new(e.status(), e.body_text())
}

/// A raw body (an upload), up to [`crate::UPLOAD_LIMIT`] bytes whatever the default body
/// limit; a larger one is a 413 problem.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        axum::body::to_bytes(req.into_body(), crate::UPLOAD_LIMIT).await.map(RawBody).map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {} bytes", crate::UPLOAD_LIMIT),
            )
        })
    }
}

/// Query parameters; unknown or malformed ones become a 400 problem.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Params(v)),
            Err(e) => Err(query_problem(e)),
        }
    }
}

fn query_problem(e: QueryRejection) -> ApiError {
    ApiError::bad_request(e.body_text())
}

/// Path parameters; a segment that does not decode becomes a 400 problem.
pub struct PathParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(PathParams(v)),
            Err(e) => Err(path_problem(e)),
        }
    }
}

fn path_problem(e: PathRejection) -> ApiError {
    ApiError::bad_request(format!("malformed path: {}", e.body_text()))
}

/// Middleware: refuses an overlong request target (414) and a NUL byte, raw or
/// percent-encoded, in the path or query (400), before any route runs.
pub async fn edge_checks(request: Request, next: Next) -> Response {
    let target = request.uri().path_and_query().map_or("", |pq| pq.as_str());
    if target.len() > MAX_URI {
        let detail = format!("the request target is longer than {MAX_URI} bytes");
        return ApiError::new(StatusCode::URI_TOO_LONG, detail).into_response();
    }
    if target.contains("%00") || target.bytes().any(|b| b == 0) {
        return nul().into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_written_as_fractions_are_read_as_integers() {
        let read = whole_numbers(br#"{"a":105.0,"b":[1.0,{"c":-2e3}],"d":1.5,"e":7}"#).unwrap();
        assert_eq!(read, serde_json::json!({"a":105,"b":[1,{"c":-2000}],"d":1.5,"e":7}));
        assert_eq!(whole_numbers(br#"{"a":1,"b":1.5}"#), None, "nothing to change");
        assert_eq!(whole_numbers(br#"{"a":1e300}"#), None, "beyond what a double holds exactly");
        assert_eq!(whole_numbers(b"{"), None);
    }
}
