//! Headers every answer carries, telling browsers what the site's pages may do: load
//! scripts, styles and images only from the site itself (the pages have no inline script or
//! style; htmx is served from `/static`), post forms only to it, never be framed by another
//! site, and never tell another site which page a visitor came from (paths can carry
//! one-time tokens). A route that sets one of them itself keeps its own.

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// The pages' Content Security Policy.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The headers, as (name, value) pairs.
pub const HEADERS: [(HeaderName, &str); 4] = [
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "same-origin"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
];

/// `router` with each of [`HEADERS`] set on its answers that do not set it already.
pub fn on_every_answer(mut router: Router) -> Router {
    for (name, value) in HEADERS {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value)));
    }
    router
}
