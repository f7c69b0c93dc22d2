//! Stringer's HTTP front: the JSON API under `/api/v1` with its OpenAPI document, accounts,
//! idempotent creates, one-click acknowledgement links, the Slack interactions endpoint,
//! health and metrics endpoints, and the pages people use ([`pages`]: portal, console, admin). It serves HTTP and holds nothing but the application's
//! ports ([`Ports`]): every read goes through the read port, every change through
//! `Commands`, every permission through the access policy. It never names a store.

#![warn(missing_docs)]

mod attachments;
pub mod auth;
pub mod bootstrap;
pub mod client;
mod cookies;
mod demo_history;
mod error;
mod error_pages;
mod extract;
mod headers;
mod ics;
mod idempotency;
pub mod ids;
mod openapi;
pub mod packet;
pub mod pages;
mod ports;
mod ratelimit;
mod reads;
mod routes;
mod shown_once;
pub mod token_cache;

pub use error::ApiError;
pub use idempotency::{
    EXPIRY_SECONDS as IDEMPOTENCY_EXPIRY_SECONDS, LEASE_SECONDS as IDEMPOTENCY_LEASE_SECONDS, current_key,
};
pub use ratelimit::RateLimit;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use jiff::Timestamp;
use routes::BearerAuth;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use stringer_app::links::AckLinks;
use stringer_core::contract::Contract;
use stringer_integrations::slack;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use ports::Ports;

/// How the front behaves (from the server's settings).
#[derive(Clone, Debug)]
pub struct Settings {
    /// The budget of token-creation and customer-page attempts.
    pub limits: RateLimit,
    /// The budget of sign-in attempts per client address, whatever the account.
    pub login_limit: RateLimit,
    /// The budget of "Contact us" messages per client address.
    pub contact_limit: RateLimit,
    /// Reverse proxies trusted to name their client in `X-Forwarded-For`.
    pub trusted_proxies: Vec<client::Cidr>,
    /// Whether webhooks may go to internal addresses (`--allow-private-webhooks`).
    pub allow_private_webhooks: bool,
    /// Seconds an `Idempotency-Key` stays "in progress" before a retry may run afresh.
    pub idempotency_lease: i64,
    /// Mark cookies `Secure` (the server's public URL is https).
    pub secure_cookies: bool,
    /// Events each integration key may send per minute (bursts of ten seconds' worth);
    /// past it the doors answer 429.
    pub alert_events_per_minute: u32,
    /// Whether the server has a mail relay (`--smtp-url`): mail to people (password links,
    /// packets) is then written to the outbox, which the engine sends.
    pub mail_configured: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            limits: RateLimit { limit: 10, window: 60 },
            login_limit: RateLimit { limit: 30, window: 60 },
            contact_limit: RateLimit { limit: 5, window: 3600 },
            trusted_proxies: Vec::new(),
            allow_private_webhooks: false,
            idempotency_lease: idempotency::LEASE_SECONDS,
            secure_cookies: false,
            alert_events_per_minute: 6000,
            mail_configured: false,
        }
    }
}

/// The Slack app, when configured: its inbound side (button presses, events, commands; the
/// door's checks live in `stringer_integrations::slack::inbound`) and the shared channels'
/// desk.
#[derive(Clone)]
pub struct SlackApp {
    /// Handles what Slack sends in.
    pub inbound: Option<slack::inbound::Inbound>,
    /// The shared channels' desk (kickoff, commands), when the app has a bot token.
    pub chat: Option<std::sync::Arc<stringer_app::chat::ChatDesk>>,
}

/// What every handler shares, behind one reference count: axum clones the state for every
/// request, every state-taking middleware and every extractor, and a copy of each field (two
/// dozen reference counts, a string and a list) was a measurable share of a ticket
/// creation's CPU. Reading goes through [`Deref`]; the server's set-up writes through
/// [`DerefMut`], which copies the fields first if the state was shared meanwhile — the same
/// value semantics as before.
#[derive(Clone)]
pub struct AppState(Arc<Front>);

impl Deref for AppState {
    type Target = Front;

    fn deref(&self) -> &Front {
        &self.0
    }
}

impl DerefMut for AppState {
    fn deref_mut(&mut self) -> &mut Front {
        Arc::make_mut(&mut self.0)
    }
}

impl AppState {
    /// State over the application's ports, with default settings.
    pub fn new(ports: Ports) -> AppState {
        AppState(Arc::new(Front {
            ports,
            settings: Settings::default(),
            tokens: Arc::default(),
            links: None,
            slack: SlackApp { inbound: None, chat: None },
            public_url: String::new(),
            alert_door: Arc::default(),
            phone: None,
            status: Arc::default(),
            whatif_runs: Arc::default(),
            mail_addresses: None,
            phone_line: None,
            texts: None,
            address_checks: Arc::new(stringer_integrations::address_checks::OutsideChecks {
                allow_private: false,
                slack: None,
            }),
            liveness: None,
            notary: None,
        }))
    }
}

/// The fields of [`AppState`].
#[derive(Clone)]
pub struct Front {
    /// The application.
    pub ports: Ports,
    /// How the front behaves.
    pub settings: Settings,
    /// Tokens authenticated in the last second (see [`token_cache`]).
    pub tokens: Arc<token_cache::TokenCache>,
    /// Signs and checks one-click acknowledgement links (`/ack/…`), once configured.
    pub links: Option<AckLinks>,
    /// The Slack app.
    pub slack: SlackApp,
    /// The server's own address (`--public-url`), for links in mail.
    pub public_url: String,
    /// The alert doors' budgets and recently read keys (see [`routes::alerts`]).
    pub alert_door: Arc<routes::alerts::AlertDoor>,
    /// The P1 phone line's inbound side, when the telephony provider is configured.
    pub phone: Option<stringer_integrations::sms_voice::inbound::VoiceLine>,
    /// Status pages computed in the last second (see [`routes::status`]).
    pub status: Arc<routes::status::StatusCache>,
    /// The what-if replays running (one at a time).
    pub whatif_runs: Arc<stringer_app::whatif::Runs>,
    /// The support mailboxes, when the server takes mail (`--mail-domain`).
    pub mail_addresses: Option<stringer_core::mail::MailAddresses>,
    /// The P1 phone line's number, when the server has one (`--sms-from`).
    pub phone_line: Option<String>,
    /// The telephony provider, for SMS to people that is not a page (the code confirming a
    /// phone number), when configured (`--sms-account`).
    pub texts: Option<Arc<dyn stringer_app::accounts::Texts>>,
    /// The checks of a contact method's address that need an outside system (a webhook's
    /// host, a Slack member's email).
    pub address_checks: Arc<dyn stringer_app::paging::AddressChecks>,
    /// The engine's cycles, when they run beside this front: `/readyz` answers unready while
    /// one of them has stalled.
    pub liveness: Option<Arc<dyn stringer_app::ports::Liveness>>,
    /// The ledger's notary, on a server that holds the log's key (`POST
    /// /api/v1/ledger/heads` signs through it).
    pub notary: Option<Arc<stringer_app::ledger::Notary>>,
}

impl Front {
    /// The application's account and org use cases, over this front's ports and the outside
    /// systems it was given: mail for password links, SMS for confirmation codes, the Slack
    /// app's channel kickoffs; a change of a user empties the token cache.
    /// The mail channel's use cases (triage, org mail rules, mail updates) for a principal.
    pub fn mail_triage(&self) -> stringer_app::mail::triage::MailTriage {
        stringer_app::mail::triage::MailTriage::new(self.ports.for_triage())
    }

    /// The account and org use cases for a principal.
    pub fn accounts(&self) -> stringer_app::accounts::AccountDesk {
        use stringer_app::accounts::Outside;
        let tokens = self.tokens.clone();
        let outside = Outside {
            login_limit: self.settings.login_limit,
            limits: self.settings.limits,
            public_url: self.public_url.clone(),
            sends_mail: self.settings.mail_configured,
            texts: self.texts.clone(),
            kicks_off: self.slack.chat.is_some(),
            forget: Arc::new(move || tokens.clear()),
            new_id: self.id_maker(),
        };
        stringer_app::accounts::AccountDesk::new(self.ports.for_accounts(), outside)
    }

    /// On-call schedules: listed, read, created, changed and deleted as the policy allows.
    pub fn schedules(&self) -> stringer_app::schedules::ScheduleDesk {
        stringer_app::schedules::ScheduleDesk::new(
            self.ports.for_schedules(),
            self.accounts(),
            self.id_maker(),
            auth::new_secret,
        )
    }

    /// Where and when staff are paged (contact methods, rules, test pages, who cannot be
    /// reached), with the checks of an address the server was given ([`Front::address_checks`]).
    pub fn paging(&self) -> stringer_app::paging::PagingDesk {
        let outside = stringer_app::paging::PagingOutside {
            checks: self.address_checks.clone(),
            new_id: self.id_maker(),
            new_secret: auth::new_secret,
        };
        stringer_app::paging::PagingDesk::new(self.ports.for_paging(), self.accounts(), outside)
    }

    /// The application's "Contact us": each client address may send as many inquiries as
    /// [`Settings::contact_limit`] allows.
    pub fn inquiries(&self) -> stringer_app::inquiries::InquiryDesk {
        stringer_app::inquiries::InquiryDesk::new(
            self.ports.for_inquiries(),
            self.settings.contact_limit,
            self.id_maker(),
        )
    }

    /// The application's running of status pages; a change drops what this instance kept of
    /// the pages (see [`routes::status`]).
    pub fn status_pages(&self) -> stringer_app::status::manage::StatusManager {
        let cache = self.status.clone();
        stringer_app::status::manage::StatusManager::new(
            self.ports.for_status(),
            self.id_maker(),
            Arc::new(move || cache.clear()),
            own_host(&self.public_url),
        )
    }

    /// The what-if on history, over this front's ports.
    pub fn whatif(&self) -> stringer_app::whatif::WhatIfDesk {
        stringer_app::whatif::WhatIfDesk {
            ports: self.ports.for_whatif(),
            commands: self.ports.commands.clone(),
            runs: self.whatif_runs.clone(),
        }
    }

    /// The application's post-incident reports, over this front's ports.
    pub fn reports(&self) -> stringer_app::postmortem::ReportDesk {
        stringer_app::postmortem::ReportDesk { ports: self.ports.for_reports() }
    }

    /// The ledger's use cases (bundles, proofs, published key and heads, signing on demand),
    /// over this front's ports.
    pub fn ledger(&self) -> stringer_app::ledger::LedgerDesk {
        stringer_app::ledger::LedgerDesk {
            book: self.ports.ledger.clone(),
            tickets: self.tickets(),
            notary: self.notary.clone(),
        }
    }

    /// The application's one way to act on tickets, over this front's ports; customers may
    /// page as often as [`Settings::limits`] allows.
    pub fn tickets(&self) -> stringer_app::act::TicketDesk {
        let p = &self.ports;
        let RateLimit { limit, window } = self.settings.limits;
        stringer_app::act::TicketDesk::new(
            p.commands.clone(),
            p.queries.clone(),
            p.accounts.clone(),
            p.safeguards.clone(),
            stringer_app::act::PageLimit { limit, window },
        )
    }

    /// The contract in force.
    pub fn contract(&self) -> &Contract {
        self.ports.commands.contract()
    }

    /// Now, whole seconds.
    pub fn now(&self) -> Timestamp {
        self.ports.commands.now()
    }

    /// Now to the millisecond (the arrival order of channel messages).
    pub fn now_precise(&self) -> Timestamp {
        self.ports.commands.now_precise()
    }

    /// A new id `PREFIX_` + 26 characters, created now by the desk's clock.
    pub fn new_id(&self, prefix: &str) -> String {
        ids::new_id(prefix, self.now_precise())
    }

    /// What makes new ids for the application's desks: [`Front::new_id`]'s.
    pub fn id_maker(&self) -> stringer_app::ids::NewId {
        let commands = self.ports.commands.clone();
        Arc::new(move |prefix| ids::new_id(prefix, commands.now_precise()))
    }

    /// Records events on one ticket through the Desk on a task of its own, so a client
    /// hanging up mid-request cannot cancel a change halfway: it commits or fails as a whole
    /// either way. The task carries the request's `Idempotency-Key`, recorded with the change.
    /// A panic on that task goes on in the request, which [`catch_panics`] answers as an
    /// internal error (it is not the database's failure).
    pub async fn record(
        &self,
        events: Vec<stringer_core::event::Event>,
        extras: stringer_app::Extras,
    ) -> Result<stringer_app::Recorded, stringer_app::AppError> {
        let commands = self.ports.commands.clone();
        let work = idempotency::carry(async move { commands.record(events, extras).await });
        match tokio::spawn(work).await {
            Ok(recorded) => recorded,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(stringer_app::AppError::Store(stringer_app::StoreError::Backend(format!(
                "the change task failed: {e}"
            )))),
        }
    }
}

/// The host name in the server's own address (`https://desk.vendor.example:8443/` →
/// `desk.vendor.example`), lowercased.
fn own_host(public_url: &str) -> Option<String> {
    let rest = public_url.split_once("://").map_or(public_url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    (!host.is_empty()).then(|| host.trim_end_matches('.').to_ascii_lowercase())
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Stringer API", description = "Support desk with live SLA clocks. Errors are RFC 9457 problem documents."),
    components(schemas(error::Problem)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

/// The largest request body accepted, but for uploads.
pub const BODY_LIMIT: usize = idempotency::MAX_BODY;

/// The largest upload body (an attachment, with room for a form's other fields).
pub const UPLOAD_LIMIT: usize = stringer_app::files::MAX_ATTACHMENT + 64 * 1024;

/// The body limit of a request: uploads (`…/attachments`) and raw mail may be larger.
fn body_limit(path: &str) -> usize {
    if path.ends_with("/attachments") {
        UPLOAD_LIMIT
    } else if path == "/api/v1/mail/inbound" {
        stringer_app::mail::MAX_MESSAGE_BYTES
    } else if path == "/v2/enqueue" || path == "/v2/change/enqueue" {
        stringer_integrations::pagerduty::MAX_EVENT_BYTES
    } else if path.starts_with("/api/v1/alerts/alertmanager") {
        stringer_integrations::alertmanager::MAX_NOTIFICATION_BYTES
    } else {
        BODY_LIMIT
    }
}

/// `router` with every handler's panic answered as a 500 problem that says an internal error
/// happened, the panic's message logged (`stringer serve`'s router has it).
pub fn catch_panics<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.layer(tower_http::catch_panic::CatchPanicLayer::custom(error::panicked))
}

/// The router and its OpenAPI document (served at `/api/v1/openapi.json`). Every answer
/// that is not a success is a problem document, including unknown paths and methods.
pub fn router(state: AppState) -> Router {
    let (api, mut doc) = routes::api(OpenApiRouter::with_openapi(ApiDoc::openapi()), state.clone()).split_for_parts();
    routes::document_problems(&mut doc);
    let doc = Arc::new(openapi::served(&doc, state.contract()));
    let routes = Router::new()
        .merge(api)
        .merge(routes::public(doc))
        .merge(pages::router(state.clone(), routes::status::router()))
        .fallback(|| async { ApiError::not_found("resource at this path") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(axum::http::StatusCode::METHOD_NOT_ALLOWED, "this path does not take that method")
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(refuse_declared_oversize))
        .layer(axum::middleware::from_fn(extract::edge_checks));
    let router = catch_panics(routes).layer(axum::middleware::from_fn(error_pages::as_pages)).with_state(state);
    headers::on_every_answer(router)
}

/// The router of the metrics listener (`--metrics-listen`): `/metrics` only, kept off the
/// public listener because it counts every tenant's tickets.
pub fn metrics_router(handle: metrics_exporter_prometheus::PrometheusHandle) -> Router {
    let scrape = move || {
        let text = handle.render();
        async move { ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text) }
    };
    Router::new()
        .route("/metrics", axum::routing::get(scrape))
        .fallback(|| async { ApiError::not_found("resource at this path") })
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
    let limit = body_limit(request.uri().path());
    if length.is_some_and(|n| n > limit as u64) {
        let detail = format!("the body is larger than {limit} bytes");
        return ApiError::new(axum::http::StatusCode::PAYLOAD_TOO_LARGE, detail).into_response();
    }
    next.run(request).await
}
