//! Subscribing to a status page: the page's mail form (double opt-in: the confirmation link
//! must be followed first), a subscriber's own page (confirm, unsubscribe), one-click
//! unsubscribe for mail clients (RFC 8058: a POST to the `List-Unsubscribe` address), and
//! `/api/v1/status-pages/{page}/subscribers` for staff (webhooks, the org's Slack channel,
//! mail).

use super::{Visitor, may_view, scope_of, shown};
use crate::AppState;
use crate::auth::Caller;
use crate::client::client_ip;
use crate::error::ApiError;
use crate::extract::{Body, PathParams};
use crate::pages::session::OpenForm;
use crate::ratelimit::spend;
use askama::Template;
use axum::Extension;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use stringer_app::status::subscribers::{
    MAX_ADDRESS, SubscriberKind, SubscriberRecord, TOKEN_KEY_SETTING, token, token_hash,
};
use stringer_core::access::Action;
use utoipa::ToSchema;

#[derive(Template)]
#[template(path = "status_subscription.html")]
struct SubscriptionPage {
    name: String,
    base: String,
    heading: String,
    message: String,
    token: Option<String>,
    pending: bool,
    active: bool,
}

fn html(status: StatusCode, page: SubscriptionPage) -> Response {
    match page.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => {
            tracing::error!("a subscription page failed to render: {e}");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the page failed to render").into_response()
        }
    }
}

async fn key(state: &AppState) -> Result<String, ApiError> {
    Ok(state.ports.safeguards.setting_or_init(TOKEN_KEY_SETTING, &crate::auth::new_secret()).await?)
}

/// Whether `address` is a mail address we would send to (one line, a local part and a
/// domain, at most 254 characters).
fn mail_address(address: &str) -> bool {
    let at = address.rfind('@');
    address.len() <= 254
        && !address.contains(['\r', '\n', ' ', '<', '>', ','])
        && at.is_some_and(|i| i > 0 && i + 1 < address.len() && address[i + 1..].contains('.'))
}

/// A new subscriber of `page` (a mail address waits for its confirmation).
async fn subscribe(
    state: &AppState,
    page: &str,
    kind: SubscriberKind,
    address: String,
    components: Vec<String>,
) -> Result<SubscriberRecord, ApiError> {
    let id = state.new_id("sts");
    let now = state.now().as_second();
    let subscriber = SubscriberRecord {
        token_hash: token_hash(&token(&key(state).await?, &id)),
        id,
        page_id: page.to_string(),
        kind,
        address,
        components,
        confirmed_at: (kind != SubscriberKind::Email).then_some(now),
        unsubscribed_at: None,
        created_at: now,
    };
    state.ports.status.add_subscriber(&subscriber).await?;
    Ok(subscriber)
}

/// The page's mail form: `/status/subscribe` and `/status/{org}/subscribe`.
pub async fn form(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    visitor: Visitor,
    org: Option<String>,
    OpenForm(headers, form): OpenForm<Vec<(String, String)>>,
) -> Response {
    let (scope, base) = scope_of(org);
    let result: Result<(String, String), ApiError> = async {
        let shown = shown(&state, &scope, &base).await?.ok_or_else(|| ApiError::not_found("status page"))?;
        if !may_view(&state, &headers, visitor, &shown).await {
            return Err(ApiError::not_found("status page"));
        }
        let ip = client_ip(peer.ip(), &headers, &state.settings.trusted_proxies);
        spend(
            &state,
            state.settings.contact_limit,
            format!("subscribe:{}", stringer_app::limits::client_key(&ip.to_string())),
            "too many subscriptions from this address",
        )
        .await?;
        let email = form.iter().find(|(k, _)| k == "email").map(|(_, v)| v.trim().to_string()).unwrap_or_default();
        if !mail_address(&email) {
            return Err(ApiError::unprocessable("a mail address to send updates to"));
        }
        let shown_ids: Vec<&str> = shown.view.components.iter().map(|c| c.id.as_str()).collect();
        let mut components: Vec<String> =
            form.iter().filter(|(k, _)| k == "component").map(|(_, v)| v.clone()).collect();
        components.retain(|c| shown_ids.contains(&c.as_str()));
        components.sort();
        components.dedup();
        match subscribe(&state, &shown.view.page.id, SubscriberKind::Email, email.clone(), components).await {
            // Already subscribed: the same answer, so the form tells nobody who follows a page.
            Ok(_) | Err(ApiError { status: StatusCode::CONFLICT, .. }) => Ok((shown.view.page.name.clone(), email)),
            Err(e) => Err(e),
        }
    }
    .await;
    match result {
        Ok((name, email)) => html(
            StatusCode::OK,
            SubscriptionPage {
                name,
                base,
                heading: "Check your inbox".into(),
                message: format!("We sent a link to {email}. Follow it to confirm: nothing else is sent until you do."),
                token: None,
                pending: false,
                active: false,
            },
        ),
        Err(e) if e.status == StatusCode::NOT_FOUND => e.into_response(),
        Err(e) => html(
            e.status,
            SubscriptionPage {
                name: "Status".into(),
                base,
                heading: "Not subscribed".into(),
                message: crate::pages::PageError::from(e).message,
                token: None,
                pending: false,
                active: false,
            },
        ),
    }
}

/// The subscriber a token names.
async fn subscriber(state: &AppState, token: &str) -> Result<SubscriberRecord, ApiError> {
    let found = if token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        state.ports.status.subscriber_by_token(&token_hash(token)).await?
    } else {
        None
    };
    found.ok_or_else(|| ApiError::not_found("subscription"))
}

async fn subscription_page(state: &AppState, token: &str, heading: &str) -> Response {
    let result: Result<Response, ApiError> = async {
        let s = subscriber(state, token).await?;
        let page = state.ports.status.page(&s.page_id).await?;
        let (name, base) = page.map_or_else(
            || ("Status".to_string(), "/status".to_string()),
            |p| {
                let base = p.path();
                (p.name, base)
            },
        );
        let active = s.unsubscribed_at.is_none();
        let pending = active && s.confirmed_at.is_none();
        let message = match (active, pending) {
            (false, _) => format!("{} no longer gets {name} status updates.", s.address),
            (true, true) => format!("Confirm that {} should get {name} status updates.", s.address),
            (true, false) => format!("{} gets {name} status updates.", s.address),
        };
        Ok(html(
            StatusCode::OK,
            SubscriptionPage {
                name,
                base,
                heading: heading.to_string(),
                message,
                token: Some(token.to_string()),
                pending,
                active,
            },
        ))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `/status/subscriptions/{token}`: a subscriber's own page. Following the link confirms
/// nothing by itself (mail scanners follow links): the page's button does.
pub async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    subscription_page(&state, &token, "Your subscription").await
}

/// What a subscriber's page's buttons do.
enum Step {
    Confirm,
    Unsubscribe,
}

async fn take(state: &AppState, token: &str, step: Step) -> Response {
    let result = async {
        let s = subscriber(state, token).await?;
        let now = state.now().as_second();
        match step {
            Step::Confirm => state.ports.status.confirm_subscriber(&s.id, now).await?,
            Step::Unsubscribe => state.ports.status.unsubscribe(&s.id, now).await?,
        };
        Ok::<_, ApiError>(())
    }
    .await;
    let heading = match step {
        Step::Confirm => "Subscribed",
        Step::Unsubscribe => "Unsubscribed",
    };
    match result {
        Ok(()) => subscription_page(state, token, heading).await,
        Err(e) => e.into_response(),
    }
}

/// Confirms a subscription.
pub async fn confirm(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    take(&state, &token, Step::Confirm).await
}

/// Unsubscribes, from the page's button or a mail client's one-click POST (whatever its
/// body).
pub async fn unsubscribe(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    take(&state, &token, Step::Unsubscribe).await
}

/// A subscriber as the API shows and takes it.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriberIo {
    /// Its id (`sts_…`; ignored when creating).
    #[serde(default)]
    id: Option<String>,
    /// email (double opt-in: confirmed by following the mailed link), webhook (Statuspage's
    /// payload is posted), or slack (the org's shared channel; tenant pages only).
    #[schema(pattern = "^(email|webhook|slack)$")]
    kind: String,
    /// A mail address or an http(s) URL; for slack, left out (the org's channel).
    #[serde(default)]
    address: Option<String>,
    /// The components followed; empty: all.
    #[serde(default)]
    components: Vec<String>,
    /// Whether it is confirmed (read only).
    #[serde(default)]
    confirmed: bool,
}

fn io(s: SubscriberRecord) -> SubscriberIo {
    SubscriberIo {
        id: Some(s.id),
        kind: s.kind.as_str().into(),
        address: Some(s.address),
        components: s.components,
        confirmed: s.confirmed_at.is_some(),
    }
}

/// A page's subscribers.
#[utoipa::path(get, path = "/api/v1/status-pages/{page}/subscribers", security(("bearer" = [])), params(("page" = String, Path)),
    responses((status = 200, body = [SubscriberIo]), (status = 404, body = crate::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<Vec<SubscriberIo>>, ApiError> {
    let (page, _) = state.status_pages().page_for(caller.principal(), &id, Action::ReadSubscribers).await?;
    Ok(axum::Json(state.ports.status.subscribers(&page.id).await?.into_iter().map(io).collect()))
}

/// Subscribes a webhook, the org's Slack channel, or a mail address (which must confirm).
#[utoipa::path(post, path = "/api/v1/status-pages/{page}/subscribers", security(("bearer" = [])), params(("page" = String, Path)),
    request_body = SubscriberIo,
    responses((status = 201, body = SubscriberIo), (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<SubscriberIo>,
) -> Result<(StatusCode, axum::Json<SubscriberIo>), ApiError> {
    let (page, org) = state.status_pages().page_for(caller.principal(), &id, Action::ManageStatus).await?;
    let kind =
        SubscriberKind::parse(&body.kind).ok_or_else(|| ApiError::unprocessable("kind is email, webhook or slack"))?;
    let given = body.address.map(|a| a.trim().to_string()).filter(|a| !a.is_empty());
    let address = match kind {
        SubscriberKind::Email => {
            given.filter(|a| mail_address(a)).ok_or_else(|| ApiError::unprocessable("address: a mail address"))?
        }
        SubscriberKind::Webhook => {
            let url = given
                .filter(|a| a.len() <= MAX_ADDRESS)
                .ok_or_else(|| ApiError::unprocessable("address: the webhook's URL"))?;
            stringer_integrations::webhook::check_destination(&url, state.settings.allow_private_webhooks)
                .await
                .map_err(|e| ApiError::unprocessable(format!("address: {e}")))?;
            url
        }
        SubscriberKind::OrgChannel => org
            .and_then(|o| o.channel)
            .ok_or_else(|| ApiError::unprocessable("only a tenant page whose org has a Slack channel posts there"))?,
    };
    let known = state.ports.status.components(std::slice::from_ref(&page.id)).await?;
    if let Some(unknown) = body.components.iter().find(|c| !known.iter().any(|k| &k.id == *c)) {
        return Err(ApiError::unprocessable(format!("component {unknown} is not on this page")));
    }
    let subscriber = subscribe(&state, &page.id, kind, address, body.components).await?;
    Ok((StatusCode::CREATED, axum::Json(io(subscriber))))
}

/// Ends a subscription.
#[utoipa::path(delete, path = "/api/v1/status-pages/{page}/subscribers/{subscriber}", security(("bearer" = [])),
    params(("page" = String, Path), ("subscriber" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
pub async fn remove(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams((id, subscriber)): PathParams<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (page, _) = state.status_pages().page_for(caller.principal(), &id, Action::ManageStatus).await?;
    let listed = state.ports.status.subscribers(&page.id).await?;
    let Some(s) = listed.into_iter().find(|s| s.id == subscriber) else {
        return Err(ApiError::not_found("subscriber"));
    };
    state.ports.status.unsubscribe(&s.id, state.now().as_second()).await?;
    Ok(StatusCode::NO_CONTENT)
}
