//! Browser sessions: the cookie (`HttpOnly`, `SameSite=Lax`, `Secure` behind https) holds a
//! random secret whose SHA-256 keys the session row, so a copy of the database opens no
//! session. Each session has a CSRF token that every form carries ([`PageForm`]); the
//! sign-in form, before there is a session, is guarded by a double-submit cookie. A session
//! ends at sign-out, after [`IDLE_SECONDS`] unused, after [`MAX_SECONDS`] whatever happens,
//! and at once when its user is deactivated.

use super::PageError;
use crate::AppState;
use crate::auth::{Caller, new_secret, token_hash};
use crate::cookies::{COOKIE_NAME, cookie};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::header::{HOST, ORIGIN, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use stringer_app::act::Proof;
use stringer_app::records::SessionRecord;
use stringer_core::access::Scopes;
use subtle::ConstantTimeEq;

/// A session unused this long is over.
pub const IDLE_SECONDS: i64 = 2 * 3600;
/// A session is over this long after sign-in, whatever happens.
pub const MAX_SECONDS: i64 = 12 * 3600;
/// The largest form accepted.
const MAX_FORM: usize = 64 * 1024;

/// A signed-in browser: who, with what their role allows, and the session's CSRF token.
#[derive(Clone, Debug)]
pub struct Session {
    /// The user as the access policy sees them (a session carries its role's scopes).
    pub caller: Caller,
    /// The token the session's forms carry.
    pub csrf: String,
    /// The session row's key.
    pub id_hash: String,
}

/// A `Set-Cookie` value: `HttpOnly`, on the whole site, `Secure` when served over https.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: i64, same_site: &str) -> HeaderValue {
    let secure = if state.settings.secure_cookies { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite={same_site}{secure}");
    HeaderValue::from_str(&text).expect("cookie values are base64url")
}

/// Starts a session for `caller`'s user: answers the cookie to set.
pub async fn start(state: &AppState, user: stringer_app::records::UserRecord) -> Result<HeaderValue, PageError> {
    let secret = new_secret();
    let now = state.now().as_second();
    let record = SessionRecord {
        id_hash: token_hash(&secret),
        user_id: user.id,
        csrf: new_secret(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + MAX_SECONDS,
    };
    state.ports.accounts.insert_session(&record).await?;
    Ok(set_cookie(state, COOKIE_NAME, &secret, MAX_SECONDS, "Lax"))
}

/// Middleware for the pages: resolves the session cookie into a [`Session`] in the
/// request's extensions (none when absent, unknown, expired or its user deactivated), and
/// refuses a state-changing request whose `Origin` is another site.
pub async fn load(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let writes = request.method() != Method::GET && request.method() != Method::HEAD;
    if writes && !same_origin(request.headers()) && !from_public_url(request.headers(), &state.public_url) {
        return PageError::forbidden("this form was sent from another site").into_response();
    }
    if let Some(secret) = cookie(request.headers(), COOKIE_NAME) {
        match resolve(&state, secret).await {
            Ok(Some(session)) => {
                request.extensions_mut().insert(session);
            }
            Ok(None) => {}
            Err(e) => return e.into_response(),
        }
    }
    next.run(request).await
}

/// The live session a cookie secret opens, if any (touching it at most once a minute).
async fn resolve(state: &AppState, secret: &str) -> Result<Option<Session>, PageError> {
    let id_hash = token_hash(secret);
    let now = state.now().as_second();
    let Some((record, user)) = state.ports.accounts.session(&id_hash).await? else { return Ok(None) };
    if !live(&record, user.deactivated_at, now) {
        state.ports.accounts.delete_session(&id_hash).await?;
        return Ok(None);
    }
    if now - record.last_seen_at >= 60 {
        state.ports.accounts.touch_session(&id_hash, now).await?;
    }
    let scopes = Scopes::for_role(user.role);
    let Some(caller) = Caller::new(user, scopes, Proof::Session) else { return Ok(None) };
    Ok(Some(Session { caller, csrf: record.csrf, id_hash }))
}

/// Whether a session still opens pages at `now`: not past its end, used within
/// [`IDLE_SECONDS`], and its user not deactivated.
fn live(record: &SessionRecord, deactivated_at: Option<i64>, now: i64) -> bool {
    record.expires_at > now && record.last_seen_at + IDLE_SECONDS > now && deactivated_at.is_none()
}

/// Whether a request's `Origin` is the server's public address (behind a reverse proxy that
/// rewrites `Host`).
fn from_public_url(headers: &HeaderMap, public_url: &str) -> bool {
    let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok()).unwrap_or_default();
    !public_url.is_empty() && origin == public_url.trim_end_matches('/')
}

/// Whether a request's `Origin` (when the browser sends one) is this site.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    let host = headers.get(HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
    !host.is_empty() && origin_host == host
}

/// A page for signed-in people only: without a session, the browser is sent to sign in
/// and brought back afterwards.
pub struct Signed(pub Session);

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Response> {
        match parts.extensions.get::<Session>() {
            Some(s) => Ok(Signed(s.clone())),
            None => Err(to_sign_in(parts.uri.path_and_query().map_or("/", |p| p.as_str()))),
        }
    }
}

/// `next` when it is a path on this site however a browser reads it, else `None`.
///
/// Browsers drop tabs and newlines anywhere in a URL, trim control characters and spaces at
/// its ends and read a backslash as `/`, so `/<TAB>/evil.example` or `/\evil.example` would leave the
/// site; and a header cannot carry control characters. Nothing is stripped: a path is taken
/// only as written — visible ASCII without backslashes, one `/` first and not two.
pub fn local_path(next: &str) -> Option<&str> {
    let visible = next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    (visible && next.starts_with('/') && !next.starts_with("//")).then_some(next)
}

/// A redirect to the sign-in page that comes back to `next` (a path on this site).
pub fn to_sign_in(next: &str) -> Response {
    let next = local_path(next).unwrap_or("/");
    let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
    Redirect::to(&format!("/signin?{query}")).into_response()
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// A form that only proves the session (its CSRF token).
#[derive(serde::Deserialize)]
pub struct EmptyForm {}

/// A form posted by a signed-in person, refused unless it carries the session's CSRF token
/// (compared in constant time). Size-limited; a NUL byte anywhere is refused.
pub struct PageForm<T>(pub Session, pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for PageForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let Some(session) = req.extensions().get::<Session>().cloned() else {
            return Err(to_sign_in("/"));
        };
        let bytes = read_form(req, state).await.map_err(IntoResponse::into_response)?;
        let given: CsrfField = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| PageError::bad_request("this form could not be read").into_response())?;
        if !bool::from(given.csrf.as_bytes().ct_eq(session.csrf.as_bytes())) || given.csrf.is_empty() {
            return Err(PageError::forbidden(
                "this form has expired or did not come from this site; reload the page and try again",
            )
            .into_response());
        }
        let form = parse_form(&bytes).map_err(IntoResponse::into_response)?;
        Ok(PageForm(session, form))
    }
}

/// A file posted by a signed-in person (`multipart/form-data`: `csrf`, `file`, and for staff
/// `internal`), refused unless it carries the session's CSRF token. The route sets the body
/// limit ([`crate::UPLOAD_LIMIT`]).
pub struct PageUpload {
    /// Who.
    pub session: Session,
    /// The file's name as sent.
    pub filename: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Staff only: an internal attachment.
    pub internal: bool,
}

impl FromRequest<AppState> for PageUpload {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let Some(session) = req.extensions().get::<Session>().cloned() else {
            return Err(to_sign_in("/"));
        };
        let unreadable = |_| PageError::bad_request("this upload could not be read").into_response();
        let mut form = axum::extract::Multipart::from_request(req, state).await.map_err(|e| {
            PageError { status: e.status(), message: "send the file as multipart/form-data".into() }.into_response()
        })?;
        let (mut csrf, mut filename, mut bytes, mut internal) = (String::new(), String::new(), Vec::new(), false);
        while let Some(field) = form.next_field().await.map_err(unreadable)? {
            match field.name().unwrap_or_default() {
                "csrf" => csrf = field.text().await.map_err(unreadable)?,
                "internal" => internal = true,
                "file" => {
                    filename = field.file_name().unwrap_or_default().to_string();
                    bytes = field.bytes().await.map_err(unreadable)?.to_vec();
                }
                _ => {}
            }
        }
        if csrf.is_empty() || !bool::from(csrf.as_bytes().ct_eq(session.csrf.as_bytes())) {
            return Err(PageError::forbidden(
                "this form has expired or did not come from this site; reload the page and try again",
            )
            .into_response());
        }
        Ok(PageUpload { session, filename, bytes, internal })
    }
}

/// A form posted without a session (sign-in): parsed like [`PageForm`], with no CSRF token.
pub struct OpenForm<T>(pub HeaderMap, pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for OpenForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let headers = req.headers().clone();
        let bytes = read_form(req, state).await.map_err(IntoResponse::into_response)?;
        Ok(OpenForm(headers, parse_form(&bytes).map_err(IntoResponse::into_response)?))
    }
}

async fn read_form(req: Request, state: &AppState) -> Result<Bytes, PageError> {
    let form = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Err(PageError::bad_request("send the form as application/x-www-form-urlencoded"));
    }
    let bytes = Bytes::from_request(req, state).await.map_err(|_| PageError::bad_request("this form is too large"))?;
    if bytes.len() > MAX_FORM {
        return Err(PageError::bad_request("this form is too large"));
    }
    Ok(bytes)
}

fn parse_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, PageError> {
    let form: T = serde_urlencoded::from_bytes(bytes)
        .map_err(|e| PageError::bad_request(format!("this form could not be read: {e}")))?;
    let nul = serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes)
        .map_err(|_| PageError::bad_request("this form could not be read"))?
        .iter()
        .any(|(k, v)| k.contains('\0') || v.contains('\0'));
    if nul {
        return Err(PageError::bad_request("this form holds a NUL character"));
    }
    Ok(form)
}

/// Ends the session: the row goes and the cookie is cleared.
pub async fn end(state: &AppState, session: &Session) -> Result<HeaderValue, PageError> {
    state.ports.accounts.delete_session(&session.id_hash).await?;
    Ok(set_cookie(state, COOKIE_NAME, "", 0, "Lax"))
}

/// Adds `Set-Cookie` to a response.
pub fn with_cookie(mut response: Response, cookie: HeaderValue) -> Response {
    response.headers_mut().append(SET_COOKIE, cookie);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_ends_when_idle_when_old_or_when_its_user_is_deactivated() {
        let session = |created: i64, seen: i64| SessionRecord {
            id_hash: "h".into(),
            user_id: "usr_1".into(),
            csrf: "c".into(),
            created_at: created,
            last_seen_at: seen,
            expires_at: created + MAX_SECONDS,
        };
        let t0 = 1_000_000;
        for (what, record, deactivated, now, expected) in [
            ("fresh", session(t0, t0), None, t0 + 1, true),
            ("used a minute ago", session(t0, t0 + 3600), None, t0 + 3660, true),
            ("idle for the idle limit", session(t0, t0), None, t0 + IDLE_SECONDS, false),
            ("in use, but past its end", session(t0, t0 + MAX_SECONDS - 60), None, t0 + MAX_SECONDS, false),
            ("its user deactivated", session(t0, t0), Some(t0), t0 + 1, false),
        ] {
            assert_eq!(live(&record, deactivated, now), expected, "{what}");
        }
    }

    #[test]
    fn only_this_sites_origin_may_post() {
        let headers = |origin: Option<&str>| {
            let mut h = HeaderMap::new();
            h.insert(HOST, HeaderValue::from_static("127.0.0.1:8080"));
            if let Some(o) = origin {
                h.insert(ORIGIN, HeaderValue::from_str(o).unwrap());
            }
            h
        };
        assert!(same_origin(&headers(None)), "browsers may omit it on same-origin posts");
        assert!(same_origin(&headers(Some("http://127.0.0.1:8080"))));
        assert!(!same_origin(&headers(Some("http://evil.example"))));
        assert!(!same_origin(&headers(Some("null"))));
        let proxied = headers(Some("https://support.vendor.example"));
        assert!(from_public_url(&proxied, "https://support.vendor.example/"));
        assert!(!from_public_url(&proxied, "https://other.example") && !from_public_url(&proxied, ""));
    }
}
