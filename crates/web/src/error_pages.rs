//! Errors as pages for people: a browser that asked for a page and got an error (an API
//! problem, a refused upload, an unreadable form, an unknown address) is shown an HTML page
//! that says what went wrong, what to do, and links back to where it came from. API clients
//! (paths under `/api/`, or no `text/html` in `Accept`) keep their problem documents.

use crate::cookies::{COOKIE_NAME, cookie};
use askama::Template;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

/// The sentence a page handler chose for its error, carried to [`as_pages`] so that every
/// error page is drawn in one place.
#[derive(Clone, Debug)]
pub struct Shown(pub String);

/// The largest problem document read back for its `detail`.
const PROBLEM_READ_LIMIT: usize = 16 * 1024;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    reason: &'a str,
    message: &'a str,
    hint: &'a str,
    back: &'a str,
    sign_in: Option<String>,
}

/// The middleware: pages' errors as pages. A page a handler drew itself (a form shown
/// again with its errors) is left as it is.
pub async fn as_pages(request: Request, next: Next) -> Response {
    let wants_page = wants_page(request.method(), request.uri().path(), request.headers());
    let path = request.uri().path().to_string();
    let back = back(request.headers());
    let signed_in = cookie(request.headers(), COOKIE_NAME).is_some();
    let response = next.run(request).await;
    let status = response.status();
    // A page of its own (a form shown again with its errors beside the fields) stays.
    let own_page = response.extensions().get::<Shown>().is_none()
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/html"));
    if !wants_page || own_page || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
    let message = message(response).await;
    let sign_in = (!signed_in && matches!(status.as_u16(), 401 | 403 | 404)).then(|| {
        let query = serde_urlencoded::to_string([("next", path.as_str())]).unwrap_or_default();
        format!("/signin?{query}")
    });
    let hint = hint(status, &path, sign_in.is_some());
    let mut page = draw(status, &message, &hint, &back, sign_in);
    if let Some(value) = retry_after {
        page.headers_mut().insert(header::RETRY_AFTER, value);
    }
    page
}

/// Draws the error page (also used where no request is at hand).
pub fn draw(status: StatusCode, message: &str, hint: &str, back: &str, sign_in: Option<String>) -> Response {
    let page = ErrorPage {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("Error"),
        message,
        hint,
        back,
        sign_in,
    };
    let body = page.render().unwrap_or_else(|_| message.to_string());
    let mut response = (status, Html(body)).into_response();
    response.extensions_mut().insert(Shown(message.to_string()));
    response
}

/// A browser asking for a page: a navigation (GET) or a form post, taking HTML, outside
/// the API and the status pages' machine-readable documents.
fn wants_page(method: &Method, path: &str, headers: &HeaderMap) -> bool {
    let takes_html = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|t| t.trim().starts_with("text/html")));
    let machine = path.starts_with("/api/")
        || path.contains("/api/v2/")
        || [".json", ".atom", ".rss", ".ics"].iter().any(|ext| path.ends_with(ext));
    (method == Method::GET || method == Method::POST) && takes_html && !machine
}

/// Where "back" goes: the page the browser came from when it is on this site, else home.
fn back(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.parse::<axum::http::Uri>().ok())
        .filter(|uri| uri.authority().map(|a| a.as_str()) == host && host.is_some())
        .and_then(|uri| uri.path_and_query().map(|p| p.as_str().to_string()))
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .unwrap_or_else(|| "/".to_string())
}

/// What went wrong, in a sentence: the page's own words, a problem's `detail`, or the status's.
async fn message(response: Response) -> String {
    let status = response.status();
    if let Some(Shown(message)) = response.extensions().get::<Shown>() {
        return message.clone();
    }
    let problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/problem+json"));
    let detail = if problem {
        let bytes = to_bytes(Body::new(response.into_body()), PROBLEM_READ_LIMIT).await.unwrap_or_default();
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("detail").and_then(|d| d.as_str()).map(sentence))
    } else {
        None
    };
    detail.unwrap_or_else(|| match status {
        StatusCode::NOT_FOUND => "There is no page at this address.".into(),
        StatusCode::PAYLOAD_TOO_LARGE => "That was larger than the server accepts.".into(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "The form arrived in a form the server does not read.".into(),
        StatusCode::UNPROCESSABLE_ENTITY => "Something in the form could not be accepted.".into(),
        StatusCode::METHOD_NOT_ALLOWED => "This address does not take that kind of request.".into(),
        s if s.is_server_error() => "Something failed on our side.".into(),
        _ => "The request could not be completed.".into(),
    })
}

/// A problem's detail as a sentence: "no such ticket" → "No such ticket."
pub(crate) fn sentence(detail: &str) -> String {
    let mut out: String = detail.chars().take(1).flat_map(char::to_uppercase).chain(detail.chars().skip(1)).collect();
    if !out.ends_with(['.', '?', '!']) {
        out.push('.');
    }
    out
}

/// What to do about it.
fn hint(status: StatusCode, path: &str, offer_sign_in: bool) -> String {
    let words = match status.as_u16() {
        404 if offer_sign_in && path.starts_with("/status/") => {
            "If this is your organisation's private status page, sign in to see it."
        }
        401 | 403 | 404 if offer_sign_in => "If this is yours to see, sign in and you will be brought back here.",
        404 => "Check the address, or go back. A page that is not yours to see answers like a missing one.",
        403 => "Your account may not do this. Ask your administrator if you think it should.",
        413 => {
            let mb = stringer_app::files::MAX_ATTACHMENT / (1024 * 1024);
            return format!("Go back and choose a smaller file (attachments up to {mb} MB), or send less at once.");
        }
        415 => "Go back and send the form again from its page.",
        422 => "Go back, correct what is marked, and send it again: your browser keeps what you typed.",
        429 => "Wait a minute, then try again.",
        s if s >= 500 => "It has been logged. Try again in a moment; if it keeps failing, tell your support contact.",
        _ => "Go back and try again.",
    };
    words.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_browsers_asking_for_pages_get_pages() {
        let html = |accept: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT, accept.parse().unwrap());
            h
        };
        let browser = html("text/html,application/xhtml+xml,*/*;q=0.8");
        assert!(wants_page(&Method::GET, "/portal/tickets/ACME-9", &browser));
        assert!(wants_page(&Method::POST, "/portal/tickets/ACME-9/attachments", &browser));
        assert!(!wants_page(&Method::GET, "/api/v1/tickets", &browser));
        assert!(!wants_page(&Method::GET, "/status/acme/api/v2/summary.json", &browser));
        assert!(!wants_page(&Method::GET, "/portal", &html("application/json")));
        assert!(!wants_page(&Method::DELETE, "/portal", &browser));
    }

    #[test]
    fn back_is_the_referring_page_of_this_site_only() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "desk.example".parse().unwrap());
        h.insert(header::REFERER, "https://desk.example/portal/new?security=true".parse().unwrap());
        assert_eq!(back(&h), "/portal/new?security=true");
        h.insert(header::REFERER, "https://evil.example/phish".parse().unwrap());
        assert_eq!(back(&h), "/");
        h.remove(header::REFERER);
        assert_eq!(back(&h), "/");
    }
}
