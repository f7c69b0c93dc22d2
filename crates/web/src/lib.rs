//! Stringer's HTTP face: the JSON API under `/api/v1` with its OpenAPI document, accounts,
//! tenant isolation, idempotent creates, and health endpoints. The only crate that speaks
//! HTTP; every state change goes through the app's `Desk`.

#![warn(missing_docs)]

pub mod auth;
pub mod bootstrap;
pub mod client;
mod error;
mod extract;
mod ics;
mod idempotency;
pub mod ids;
pub mod links;
pub mod metrics;
mod ratelimit;
mod routes;
mod settle;
pub mod token_cache;

pub use error::ApiError;
pub use idempotency::{EXPIRY_SECONDS as IDEMPOTENCY_EXPIRY_SECONDS, LEASE_SECONDS as IDEMPOTENCY_LEASE_SECONDS};
pub use ratelimit::RateLimit;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use jiff::Timestamp;
use routes::BearerAuth;
use std::sync::Arc;
use stringer_app::{Clock, Desk};
use stringer_core::contract::Contract;
use stringer_store::SqlStore;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// The system clock, in whole seconds: the server's [`Clock`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_second(Timestamp::now().as_second()).expect("now is a valid instant")
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The use cases.
    pub desk: Arc<Desk<SqlStore, SystemClock>>,
    /// Direct reads and account writes.
    pub store: SqlStore,
    /// The budget of token-creation and customer-page attempts (counted in the database).
    pub limits: RateLimit,
    /// The budget of sign-in attempts per client address, whatever the account.
    pub login_limit: RateLimit,
    /// Reverse proxies trusted to name their client in `X-Forwarded-For`.
    pub trusted_proxies: Vec<client::Cidr>,
    /// Whether webhooks may go to internal addresses (`--allow-private-webhooks`).
    pub allow_private_webhooks: bool,
    /// Seconds an `Idempotency-Key` stays "in progress" before a retry may run afresh.
    pub idempotency_lease: i64,
    /// Tokens authenticated in the last second (see [`token_cache`]).
    pub tokens: Arc<token_cache::TokenCache>,
    /// Signs and checks one-click acknowledgement links (`/ack/…`), once configured.
    pub links: Option<links::AckLinks>,
    /// The Slack app's signing secret, when Slack is configured (`/slack/interactions`).
    pub slack_signing_secret: Option<String>,
    /// The Slack Web API client, when Slack is configured: page messages are settled (updated
    /// to say who took the page) once paging for their ticket is over.
    pub slack_client: Option<stringer_notify::slack::Slack>,
    /// The Prometheus recorder, when installed (`/metrics` on the metrics listener).
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

impl AppState {
    /// State over a store and contract, with the default rate limit (10 a minute per key).
    pub fn new(store: SqlStore, contract: Arc<Contract>) -> AppState {
        AppState {
            desk: Arc::new(Desk::new(contract, store.clone(), SystemClock)),
            store,
            limits: RateLimit { limit: 10, window: 60 },
            login_limit: RateLimit { limit: 30, window: 60 },
            trusted_proxies: Vec::new(),
            allow_private_webhooks: false,
            idempotency_lease: idempotency::LEASE_SECONDS,
            tokens: Arc::default(),
            metrics: None,
            links: None,
            slack_signing_secret: None,
            slack_client: None,
        }
    }

    /// The contract in force.
    pub fn contract(&self) -> &Contract {
        self.desk.contract()
    }

    /// Now, whole seconds.
    pub fn now(&self) -> Timestamp {
        self.desk.clock().now()
    }

    /// Records an event through the Desk on a task of its own, so a client hanging up
    /// mid-request cannot cancel a commit halfway and leave a pooled connection inside a
    /// transaction: the change commits or fails as a whole either way.
    pub async fn record(
        &self,
        event: stringer_core::event::Event,
        extras: stringer_app::Extras,
    ) -> Result<stringer_app::Recorded, stringer_app::AppError> {
        let desk = self.desk.clone();
        let (event_copy, actor) = (event.clone(), extras.actor.clone());
        let recorded = tokio::spawn(async move { desk.record_with(event, extras).await }).await.map_err(|e| {
            stringer_app::AppError::Store(stringer_app::StoreError::Backend(format!("the change task failed: {e}")))
        })??;
        settle::after(self, &event_copy, actor.as_deref(), &recorded);
        Ok(recorded)
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Stringer API", description = "Support desk with live SLA clocks. Errors are RFC 9457 problem documents."),
    components(schemas(routes::Problem)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

/// The largest request body accepted.
pub const BODY_LIMIT: usize = idempotency::MAX_BODY;

/// The router and its OpenAPI document (served at `/api/v1/openapi.json`). Every answer
/// that is not a success is a problem document, including unknown paths and methods.
pub fn router(state: AppState) -> Router {
    let (api, mut doc) = routes::api(OpenApiRouter::with_openapi(ApiDoc::openapi()), state.clone()).split_for_parts();
    routes::document_problems(&mut doc);
    let doc = Arc::new(doc);
    Router::new()
        .merge(api)
        .merge(routes::public(doc))
        .fallback(|| async { ApiError::not_found("resource at this path") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(axum::http::StatusCode::METHOD_NOT_ALLOWED, "this path does not take that method")
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(refuse_declared_oversize))
        .layer(axum::middleware::from_fn(extract::edge_checks))
        .with_state(state)
}

/// The router of the metrics listener (`--metrics-listen`): `/metrics` only, kept off the
/// public listener because it counts every tenant's tickets.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", axum::routing::get(metrics::scrape))
        .fallback(|| async { ApiError::not_found("resource at this path") })
        .with_state(state)
}

/// Answers 413 at once when the declared `Content-Length` is over the limit, without reading
/// the body (bodies without a length are cut off at the limit while being read).
async fn refuse_declared_oversize(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let length =
        request.headers().get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if length.is_some_and(|n| n > BODY_LIMIT as u64) {
        let detail = format!("the body is larger than {BODY_LIMIT} bytes");
        return ApiError::new(axum::http::StatusCode::PAYLOAD_TOO_LARGE, detail).into_response();
    }
    next.run(request).await
}
