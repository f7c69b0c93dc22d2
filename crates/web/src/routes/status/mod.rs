//! Status pages as the world reads them: the public platform page at `/status` and a
//! tenant's page at `/status/<org>`, each as HTML (`…/`, `…/incidents/<id>`), Statuspage's
//! v2 JSON (`…/api/v2/summary.json` and the rest, see [`json`]) and feeds
//! (`…/history.atom`, `…/history.rss`). A page bound to a host name answers the same paths
//! at that host's root.
//!
//! - **Who sees a page** is the access policy's answer
//!   ([`stringer_core::access::view_status_page`]): the public page is for everyone; a
//!   tenant's page answers 404 to anyone but its org's people (a portal session or a token)
//!   and the staff who see the org — for a federal org, staff cleared for federal.
//! - **Caching**: a page's view and each of its rendered documents are kept for a second
//!   ([`FRESH`]) and dropped at once when this instance changes a page; other instances see
//!   a change within that second. Every answer carries a strong `ETag` (SHA-256 of the body),
//!   `If-None-Match` answers 304, and `Cache-Control` lets browsers and proxies keep a public
//!   page for 10 seconds; a tenant's page is `private, no-cache`.
//! - **CORS**: the public page's documents may be read from any origin (widgets); a tenant's
//!   page sends no CORS header, so other sites cannot read it with a visitor's credentials.
//! - **The ledger**: the HTML page's footer names the ledger's latest signed head (tree size,
//!   root hash prefix, when, the key's fingerprint) and links `/.well-known/stringer-ledger/head`.
//!   The v2 JSON documents keep Statuspage's shapes: they carry no head (it has a document of
//!   its own at that address).

mod feeds;
mod html;
pub(crate) mod manage;
pub(crate) mod subscribe;

use crate::AppState;
use crate::auth::bearer_caller;
use crate::error::ApiError;
use crate::pages::session::Session;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stringer_app::ledger::Cover;
use stringer_app::records::OrgRecord;
use stringer_app::status::statuspage::{self, Urls};
use stringer_app::status::{PageView, StatusDesk};
use stringer_core::access::{self, Decision};
use stringer_core::ids::OrgSlug;

/// How long a page's view and documents are served from memory.
pub const FRESH: Duration = Duration::from_secs(1);

/// Which page: the platform's, or an org's.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Scope {
    Platform,
    Org(String),
}

/// A page as computed for serving from one base path.
struct Shown {
    view: PageView,
    /// The org whose page it is.
    org: Option<OrgRecord>,
    urls: Urls,
    /// The ledger's latest signed head when the view was computed, for the page's footer.
    ledger_head: Option<Cover>,
    /// Documents rendered so far, by name.
    rendered: Mutex<HashMap<String, Arc<Body>>>,
}

/// A rendered document, and its gzip encoding made once with it (a page with 90-day bars
/// is mostly repetition: it shrinks manyfold).
struct Body {
    bytes: Bytes,
    etag: HeaderValue,
    gzip: Bytes,
    gzip_etag: HeaderValue,
    content_type: &'static str,
}

impl Body {
    fn new(bytes: Vec<u8>, content_type: &'static str) -> Body {
        use std::io::Write;
        let digest = hex::encode(&Sha256::digest(&bytes)[..16]);
        let tag =
            |suffix: &str| HeaderValue::from_str(&format!("\"{digest}{suffix}\"")).expect("hex is a valid header");
        let mut encoder =
            flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 8), flate2::Compression::default());
        let gzip =
            encoder.write_all(&bytes).and_then(|()| encoder.finish()).expect("compressing into memory cannot fail");
        Body { bytes: Bytes::from(bytes), etag: tag(""), gzip: Bytes::from(gzip), gzip_etag: tag("-gz"), content_type }
    }
}

/// Whether a request takes gzip (`Accept-Encoding` names it, or `*`, without `q=0`).
fn takes_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| p.replace(' ', "").eq_ignore_ascii_case("q=0"));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        },
    )
}

type Entry<T> = (Instant, T);
/// A page's key in the cache: which page, served under which base path.
type ShownKey = (Scope, String);

/// A page as computed, and whether a request is computing it afresh.
struct Cached {
    at: Instant,
    shown: Option<Arc<Shown>>,
    refreshing: bool,
}

/// Pages computed in the last second, and which page each host name is bound to.
#[derive(Default)]
pub struct StatusCache {
    shown: Mutex<HashMap<ShownKey, Cached>>,
    hosts: Mutex<HashMap<String, Entry<Option<Scope>>>>,
}

impl StatusCache {
    /// Forgets everything (after this instance changed a page).
    pub fn clear(&self) {
        self.shown.lock().expect("status cache").clear();
        self.hosts.lock().expect("status cache").clear();
    }
}

/// What is asked of a page.
enum What {
    Html,
    Json(String),
    Incident(String),
    Atom,
    Rss,
}

/// The status pages' routes and `/` (behind the pages' session middleware, so a portal session
/// opens a tenant's page).
pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/", get(home))
        .route("/status", get(|s: State<AppState>, h: HeaderMap, v: Visitor| serve(s, h, v, None, What::Html)))
        .route(
            "/status/api/v2/{*path}",
            get(|s: State<AppState>, h: HeaderMap, v: Visitor, Path(p): Path<String>| {
                serve(s, h, v, None, What::Json(p))
            }),
        )
        .route(
            "/status/incidents/{id}",
            get(|s: State<AppState>, h: HeaderMap, v: Visitor, Path(i): Path<String>| {
                serve(s, h, v, None, What::Incident(i))
            }),
        )
        .route(
            "/status/history.atom",
            get(|s: State<AppState>, h: HeaderMap, v: Visitor| serve(s, h, v, None, What::Atom)),
        )
        .route(
            "/status/history.rss",
            get(|s: State<AppState>, h: HeaderMap, v: Visitor| serve(s, h, v, None, What::Rss)),
        )
        .route(
            "/status/{org}",
            get(|s: State<AppState>, h: HeaderMap, v: Visitor, Path(o): Path<String>| {
                serve(s, h, v, Some(o), What::Html)
            }),
        )
        .route(
            "/status/{org}/api/v2/{*path}",
            get(|s: State<AppState>, h: HeaderMap, v: Visitor, Path((o, p)): Path<(String, String)>| {
                serve(s, h, v, Some(o), What::Json(p))
            }),
        )
        .route(
            "/status/{org}/incidents/{id}",
            get(|s: State<AppState>, h: HeaderMap, v: Visitor, Path((o, i)): Path<(String, String)>| {
                serve(s, h, v, Some(o), What::Incident(i))
            }),
        )
        .route(
            "/status/{org}/history.atom",
            get(|s: State<AppState>, h: HeaderMap, v: Visitor, Path(o): Path<String>| {
                serve(s, h, v, Some(o), What::Atom)
            }),
        )
        .route(
            "/status/{org}/history.rss",
            get(|s: State<AppState>, h: HeaderMap, v: Visitor, Path(o): Path<String>| {
                serve(s, h, v, Some(o), What::Rss)
            }),
        )
        .route("/status/subscribe", axum::routing::post(|s, p, v, f| subscribe::form(s, p, v, None, f)))
        .route(
            "/status/{org}/subscribe",
            axum::routing::post(|s, p, v, Path(o): Path<String>, f| subscribe::form(s, p, v, Some(o), f)),
        )
        .route("/status/subscriptions/{token}", get(subscribe::show))
        .route("/status/subscriptions/{token}/confirm", axum::routing::post(subscribe::confirm))
        .route("/status/subscriptions/{token}/unsubscribe", axum::routing::post(subscribe::unsubscribe))
        .route(
            "/api/v2/{*path}",
            get(|s: State<AppState>, h: HeaderMap, v: Visitor, Path(p): Path<String>| on_host(s, h, v, What::Json(p))),
        )
        .route(
            "/incidents/{id}",
            get(|s: State<AppState>, h: HeaderMap, v: Visitor, Path(i): Path<String>| {
                on_host(s, h, v, What::Incident(i))
            }),
        )
        .route("/history.atom", get(|s: State<AppState>, h: HeaderMap, v: Visitor| on_host(s, h, v, What::Atom)))
        .route("/history.rss", get(|s: State<AppState>, h: HeaderMap, v: Visitor| on_host(s, h, v, What::Rss)))
}

/// The signed-in visitor, if any (a portal or console session).
type Visitor = Option<Extension<Session>>;

/// The host name a request was sent to, without its port, lowercased.
fn host_of(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    Some(name.to_ascii_lowercase())
}

/// The page bound to the request's host name, if any (kept for a second).
async fn bound_scope(state: &AppState, headers: &HeaderMap) -> Result<Option<Scope>, ApiError> {
    let Some(host) = host_of(headers) else { return Ok(None) };
    if let Some((at, scope)) = state.status.hosts.lock().expect("status cache").get(&host)
        && at.elapsed() < FRESH
    {
        return Ok(scope.clone());
    }
    let page = state.ports.status.page_by_host(&host).await?;
    let scope = page.map(|p| p.org.map_or(Scope::Platform, |o| Scope::Org(o.0)));
    state.status.hosts.lock().expect("status cache").insert(host, (Instant::now(), scope.clone()));
    Ok(scope)
}

/// `/`: on a host bound to a status page, that page; else where the pages lead the visitor
/// ([`crate::pages::home`]).
async fn home(State(state): State<AppState>, headers: HeaderMap, visitor: Visitor) -> Response {
    match bound_scope(&state, &headers).await {
        Ok(Some(_)) => on_host(State(state.clone()), headers.clone(), visitor, What::Html).await,
        Ok(None) => crate::pages::home(visitor.as_deref()),
        Err(e) => e.into_response(),
    }
}

async fn on_host(State(state): State<AppState>, headers: HeaderMap, visitor: Visitor, what: What) -> Response {
    match bound_scope(&state, &headers).await {
        Ok(Some(scope)) => answer(&state, &headers, visitor, scope, String::new(), what).await,
        Ok(None) => ApiError::not_found("resource at this path").into_response(),
        Err(e) => e.into_response(),
    }
}

/// The page an `/status[/{org}]` path names, and the path its links start with.
fn scope_of(org: Option<String>) -> (Scope, String) {
    match org {
        None => (Scope::Platform, "/status".to_string()),
        Some(slug) => {
            let base = format!("/status/{slug}");
            (Scope::Org(slug), base)
        }
    }
}

async fn serve(
    State(state): State<AppState>,
    headers: HeaderMap,
    visitor: Visitor,
    org: Option<String>,
    what: What,
) -> Response {
    let (scope, base) = scope_of(org);
    answer(&state, &headers, visitor, scope, base, what).await
}

async fn answer(
    state: &AppState,
    headers: &HeaderMap,
    visitor: Visitor,
    scope: Scope,
    base: String,
    what: What,
) -> Response {
    match respond(state, headers, visitor, scope, base, what).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn respond(
    state: &AppState,
    headers: &HeaderMap,
    visitor: Visitor,
    scope: Scope,
    base: String,
    what: What,
) -> Result<Response, ApiError> {
    // A page that is not there and one the visitor may not see answer alike, whatever was
    // asked of it (a document, an incident), so that no answer tells which orgs exist.
    let hidden = || ApiError::not_found("status page");
    let Some(shown) = shown(state, &scope, &base).await? else { return Err(hidden()) };
    let private = shown.org.is_some();
    if !may_view(state, headers, visitor, &shown).await {
        return Err(hidden());
    }
    let body = match what {
        What::Incident(id) => {
            let incident = state.ports.status.incident(&id).await?.filter(|i| shown.view.shows.contains(&i.page_id));
            let Some(incident) = incident else { return Err(ApiError::not_found("incident")) };
            Arc::new(Body::new(html::incident(&shown.view, &base, &incident)?.into_bytes(), html::TYPE))
        }
        what => {
            let name = match &what {
                What::Json(path) => path.clone(),
                What::Html => "index.html".into(),
                What::Atom => "history.atom".into(),
                What::Rss => "history.rss".into(),
                What::Incident(_) => return Err(ApiError::not_found("incident")),
            };
            if let Some(body) = shown.rendered.lock().expect("status cache").get(&name) {
                return Ok(finish(headers, body, private));
            }
            let body = match &what {
                What::Json(path) => {
                    let Some(doc) = statuspage::document(path, &shown.view, &shown.urls) else {
                        return Err(ApiError::not_found("status document"));
                    };
                    Body::new(serde_json::to_vec(&doc).expect("documents serialize"), "application/json")
                }
                What::Html => {
                    Body::new(html::page(&shown.view, &base, shown.ledger_head.as_ref())?.into_bytes(), html::TYPE)
                }
                What::Atom => Body::new(feeds::atom(&shown.view, &shown.urls).into_bytes(), feeds::ATOM),
                _ => Body::new(feeds::rss(&shown.view, &shown.urls).into_bytes(), feeds::RSS),
            };
            let body = Arc::new(body);
            shown.rendered.lock().expect("status cache").insert(name, body.clone());
            body
        }
    };
    Ok(finish(headers, &body, private))
}

/// Whether the visitor — a session, else a bearer token, else nobody — may see the page:
/// the access policy's answer ([`access::view_status_page`]). A bad token sees what an
/// anonymous visitor sees.
async fn may_view(state: &AppState, headers: &HeaderMap, visitor: Visitor, shown: &Shown) -> bool {
    let Some(org) = &shown.org else { return true };
    let caller = match visitor {
        Some(Extension(session)) => Some(session.caller),
        None => bearer_caller(state, headers).await.ok().flatten(),
    };
    access::view_status_page(caller.as_ref().map(|c| c.actor()).as_ref(), Some(org.as_ref())) == Decision::Allow
}

/// The answer for a rendered document: 304 when the client has it, else the body, with the
/// caching and CORS headers its page calls for.
fn finish(headers: &HeaderMap, body: &Body, private: bool) -> Response {
    let gzip = takes_gzip(headers);
    let (bytes, etag) = if gzip { (&body.gzip, &body.gzip_etag) } else { (&body.bytes, &body.etag) };
    let fresh =
        headers.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
            |tag| {
                let tag = tag.trim();
                tag == "*" || tag.trim_start_matches("W/").as_bytes() == etag.as_bytes()
            },
        );
    let mut response = if fresh { StatusCode::NOT_MODIFIED.into_response() } else { bytes.clone().into_response() };
    let h = response.headers_mut();
    if !fresh {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(body.content_type));
        if gzip {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
    }
    h.insert(header::ETAG, etag.clone());
    if private {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding, Cookie, Authorization"));
    } else {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=10"));
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("ETag"));
    }
    response
}

/// The page of `scope` as served under `base`, from memory when computed in the last
/// second; `None` when there is no such page (an unknown org, or one without a page). When
/// the second is over, one request computes the page afresh while the others are still
/// answered from the previous one, so a busy page is computed once a second, not once per
/// waiting request; a change on this instance empties the cache, and the next request
/// computes.
async fn shown(state: &AppState, scope: &Scope, base: &str) -> Result<Option<Arc<Shown>>, ApiError> {
    let key = (scope.clone(), base.to_string());
    {
        let mut cache = state.status.shown.lock().expect("status cache");
        if let Some(entry) = cache.get_mut(&key) {
            if entry.at.elapsed() < FRESH || entry.refreshing {
                return Ok(entry.shown.clone());
            }
            entry.refreshing = true;
        }
    }
    let computed = compute(state, scope, base).await;
    let mut cache = state.status.shown.lock().expect("status cache");
    match computed {
        Ok(shown) => {
            let shown = shown.map(Arc::new);
            cache.insert(key, Cached { at: Instant::now(), shown: shown.clone(), refreshing: false });
            Ok(shown)
        }
        Err(e) => {
            if let Some(entry) = cache.get_mut(&key) {
                entry.refreshing = false;
            }
            Err(e)
        }
    }
}

async fn compute(state: &AppState, scope: &Scope, base: &str) -> Result<Option<Shown>, ApiError> {
    let desk = StatusDesk { pages: state.ports.status.clone() };
    let now = state.now().as_second();
    let (page, org) = match scope {
        Scope::Platform => (desk.platform_page(&platform_name(state), now).await?, None),
        Scope::Org(slug) => {
            let Some(org) = state.ports.accounts.org(&OrgSlug(slug.clone())).await? else { return Ok(None) };
            let Some(page) = desk.tenant_page(&org, now).await? else { return Ok(None) };
            (page, Some(org))
        }
    };
    let view = desk.view(page, now).await?;
    let urls = Urls { page: format!("{}{base}", state.public_url.trim_end_matches('/')) };
    let ledger_head = state.ledger().cover(now).await?;
    Ok(Some(Shown { view, org, urls, ledger_head, rendered: Mutex::default() }))
}

/// The public page's name: the contract's (the vendor's support) until staff rename it.
pub(crate) fn platform_name(state: &AppState) -> String {
    state.contract().name.clone()
}
