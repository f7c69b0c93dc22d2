//! Login, the caller, orgs, users and API tokens. Every permission is the access policy's
//! (`Caller::may`); this module validates input and moves records.

use crate::AppState;
use crate::auth::{Caller, decision_to_result, hash_password, new_secret, token_hash, verify_password};
use crate::client::client_ip;
use crate::error::ApiError;
use crate::extract::{Body, PathParams};
use crate::ids::{is_id, new_id};
use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use stringer_app::records::{InvitationRecord, OrgRecord, TokenRecord, UserRecord};
use stringer_core::access::{self, Action, Actor, Object, OrgRef, Scopes};
use stringer_core::contract::Contract;
use stringer_core::ids::{Deployment, OrgSlug, Role, Tier, UserId, UserRole};
use utoipa::ToSchema;

/// Longest a token may live, and the lifetime of a login token.
const MAX_TOKEN_DAYS: i64 = 366;
const LOGIN_TOKEN_HOURS: i64 = 12;
/// Failed sign-ins per client address and account are forgotten after an hour without one.
const FORGET_FAILURES_SECONDS: i64 = 3600;

/// A user as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct UserView {
    id: String,
    email: String,
    name: String,
    role: String,
    org: Option<String>,
    federal_cleared: bool,
    /// IANA time zone pages are shown in (UTC when absent).
    time_zone: Option<String>,
    /// Unix seconds, once deactivated.
    deactivated_at: Option<i64>,
}

impl From<UserRecord> for UserView {
    fn from(u: UserRecord) -> UserView {
        UserView {
            id: u.id.0,
            email: u.email,
            name: u.name,
            role: u.role.to_string(),
            org: u.org.map(|o| o.0),
            federal_cleared: u.federal_cleared,
            time_zone: u.time_zone,
            deactivated_at: u.deactivated_at,
        }
    }
}

/// An org as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct OrgView {
    slug: String,
    name: String,
    tier: String,
    #[schema(value_type = String)]
    deployment: Deployment,
    tam: Option<String>,
    named_engineers: Vec<String>,
    slack_channel: Option<String>,
    email_tag: String,
    /// What is wrong with the org's set-up, e.g. no TAM where the contract escalates to one.
    warnings: Vec<String>,
}

impl OrgView {
    /// The org as shown, with the warnings the contract gives reason for.
    pub fn of(contract: &Contract, o: OrgRecord) -> OrgView {
        let warnings = org_warnings(contract, &o);
        OrgView { warnings, ..OrgView::from(o) }
    }
}

/// What is wrong with an org's set-up under the contract: its tier escalates to a TAM but it
/// has none (that step would page nobody).
pub fn org_warnings(contract: &Contract, o: &OrgRecord) -> Vec<String> {
    let escalates_to_tam = contract.escalation(&o.tier).steps.iter().any(|s| s.notify == Role::Tam);
    if escalates_to_tam && o.tam.is_none() {
        vec![format!(
            "{} is {} and its escalation path pages the TAM, but it has no TAM: that step would page nobody",
            o.name, o.tier
        )]
    } else {
        vec![]
    }
}

impl From<OrgRecord> for OrgView {
    fn from(o: OrgRecord) -> OrgView {
        OrgView {
            warnings: vec![],
            slug: o.slug.0,
            name: o.name,
            tier: o.tier.0,
            deployment: o.deployment,
            tam: o.tam.map(|t| t.0),
            named_engineers: o.named_engineers.into_iter().map(|e| e.0).collect(),
            slack_channel: o.slack_channel,
            email_tag: o.email_tag,
        }
    }
}

/// A token as listed (never its secret).
#[derive(Serialize, ToSchema)]
pub struct TokenView {
    id: String,
    name: String,
    scopes: Vec<String>,
    created_at: i64,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl From<TokenRecord> for TokenView {
    fn from(t: TokenRecord) -> TokenView {
        TokenView {
            id: t.id,
            name: t.name,
            scopes: t.scopes.names().into_iter().map(String::from).collect(),
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// A new token: its secret is shown this once.
#[derive(Serialize, ToSchema)]
pub struct NewTokenView {
    id: String,
    token: String,
    scopes: Vec<String>,
    expires_at: Option<i64>,
}

/// A list.
#[derive(Serialize, ToSchema)]
pub struct Items<T: ToSchema> {
    /// The entries.
    pub items: Vec<T>,
}

/// Login with email and password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    #[schema(max_length = 254)]
    email: String,
    #[schema(max_length = 256)]
    password: String,
    /// The customer org to sign in to, for an address with accounts in several orgs.
    #[serde(default)]
    org: Option<String>,
}

/// Counts an attempt against a budget; 429 once it is spent.
pub async fn spend(state: &AppState, limit: crate::RateLimit, key: String, what: &str) -> Result<(), ApiError> {
    match limit.check(state.ports.safeguards.as_ref(), &key, state.now().as_second()).await? {
        None => Ok(()),
        Some(wait) => Err(ApiError::too_many(format!("{what}; try again in {wait} s"), wait)),
    }
}

async fn issue_token(
    state: &AppState,
    user: &UserRecord,
    name: &str,
    scopes: Scopes,
    expires_at: Option<i64>,
) -> Result<(NewTokenView, crate::idempotency::OneTimeSecret), ApiError> {
    let secret = new_secret();
    let record = TokenRecord {
        id: new_id("tok"),
        user_id: user.id.clone(),
        name: name.to_string(),
        secret_hash: token_hash(&secret),
        scopes,
        created_at: state.now().as_second(),
        expires_at,
        revoked_at: None,
    };
    state.ports.accounts.insert_token(&record, Some(&user.id)).await?;
    let names = scopes.names().into_iter().map(String::from).collect();
    Ok((NewTokenView { id: record.id, token: secret, scopes: names, expires_at }, crate::idempotency::OneTimeSecret))
}

/// How long a client address is held back from an account after `failures` wrong
/// passwords in a row: not at all for the first four, then doubling from 2 s to 15 min.
fn backoff(failures: i64) -> i64 {
    if failures < 5 { 0 } else { 2i64.saturating_pow((failures - 4).min(20) as u32).min(900) }
}

/// Checks a sign-in (the API's login and the pages' sign-in form): the account for `email`
/// (in `org` when given) if `password` is its password and it is active. Failed attempts slow
/// down the client address `ip` trying that account (not the account itself), and every
/// address has a budget of attempts per minute. A sign-in without such an account takes as
/// long as one with a wrong password.
pub async fn sign_in(
    state: &AppState,
    ip: &str,
    email: &str,
    password: &str,
    org: Option<&str>,
) -> Result<UserRecord, ApiError> {
    if email.len() > 254 || password.len() > 256 || org.is_some_and(|o| o.len() > 40) {
        return Err(ApiError::unauthorized("wrong email or password"));
    }
    let email = email.trim().to_lowercase();
    let now = state.now().as_second();
    spend(state, state.settings.login_limit, format!("login-ip:{ip}"), "too many sign-in attempts from this address")
        .await?;
    let safeguards = &state.ports.safeguards;
    let key = format!("{ip}|{email}|{}", org.unwrap_or(""));
    if let Some(until) = safeguards.login_locked_until(&key, now).await? {
        let wait = until - now;
        return Err(ApiError::too_many(format!("too many failed sign-ins; try again in {wait} s"), wait));
    }
    let org = org.map(OrgSlug::from);
    let user = state.ports.accounts.login_account(&email, org.as_ref()).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
    let ok = verify_password(password, hash);
    let Some(user) = user.filter(|u| ok && u.deactivated_at.is_none()) else {
        safeguards.record_login_failure(&key, now, FORGET_FAILURES_SECONDS, backoff).await?;
        return Err(ApiError::unauthorized("wrong email or password"));
    };
    safeguards.clear_login_failures(&key).await?;
    Ok(user)
}

/// Exchanges email and password for a 12-hour token (see [`sign_in`]); behind a trusted
/// proxy the client address is the proxy's client's.
#[utoipa::path(post, path = "/api/v1/login", request_body = Login,
    responses((status = 201, body = NewTokenView), (status = 401, body = crate::routes::Problem), (status = 429, body = crate::routes::Problem)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Body(body): Body<Login>,
) -> Result<impl IntoResponse, ApiError> {
    let ip = client_ip(peer.ip(), &headers, &state.settings.trusted_proxies);
    let user = sign_in(&state, &ip.to_string(), &body.email, &body.password, body.org.as_deref()).await?;
    let now = state.now().as_second();
    let expires = now + LOGIN_TOKEN_HOURS * 3600;
    let scopes = Scopes::for_role(user.role);
    let (view, secret) = issue_token(&state, &user, "login", scopes, Some(expires)).await?;
    Ok((StatusCode::CREATED, secret, axum::Json(view)))
}

/// The calling user.
#[utoipa::path(get, path = "/api/v1/me", security(("bearer" = [])), responses((status = 200, body = UserView)))]
pub async fn me(Extension(caller): Extension<Caller>) -> Result<axum::Json<UserView>, ApiError> {
    caller.may(Action::ReadAccount, Some(Object::Account(caller.user().id.as_str())), "user")?;
    Ok(axum::Json(caller.user().clone().into()))
}

/// Changes to one's own settings; absent fields stay as they are.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateMe {
    /// An IANA time zone the pages show instants in, e.g. `Europe/Berlin`; `null` for UTC.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub time_zone: Option<Option<String>>,
}

/// Checks an IANA time zone name.
pub fn check_time_zone(name: &str) -> Result<(), ApiError> {
    if name.len() > 64 || jiff::tz::TimeZone::get(name).is_err() {
        return Err(ApiError::unprocessable(format!("time_zone: {name:?} is not an IANA time zone")));
    }
    Ok(())
}

/// Applies a change of one's own settings.
pub async fn change_me(state: &AppState, caller: &Caller, body: UpdateMe) -> Result<UserRecord, ApiError> {
    caller.may(Action::UpdateOwnSettings, Some(Object::Account(caller.user().id.as_str())), "user")?;
    let mut user = state.ports.accounts.user(&caller.user().id).await?.ok_or_else(|| ApiError::not_found("user"))?;
    set_time_zone(&mut user, body.time_zone)?;
    save_user(state, caller, user).await
}

/// Applies a time-zone change (`Some(None)` or an empty name: UTC), checked.
fn set_time_zone(user: &mut UserRecord, change: Option<Option<String>>) -> Result<(), ApiError> {
    if let Some(tz) = change {
        let tz = tz.filter(|t| !t.is_empty());
        if let Some(name) = &tz {
            check_time_zone(name)?;
        }
        user.time_zone = tz;
    }
    Ok(())
}

/// Stores a changed user, recording the caller as who changed it; their tokens carry the
/// change at once.
async fn save_user(state: &AppState, caller: &Caller, user: UserRecord) -> Result<UserRecord, ApiError> {
    if !state.ports.accounts.update_user(&user, &caller.user().id, state.now().as_second()).await? {
        return Err(ApiError::not_found("user"));
    }
    state.tokens.clear();
    Ok(user)
}

/// Changes the caller's own settings (the time zone pages are shown in).
#[utoipa::path(patch, path = "/api/v1/me", security(("bearer" = [])), request_body = UpdateMe,
    responses((status = 200, body = UserView), (status = 422, body = crate::routes::Problem)))]
pub async fn update_me(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<UpdateMe>,
) -> Result<axum::Json<UserView>, ApiError> {
    Ok(axum::Json(change_me(&state, &caller, body).await?.into()))
}

/// Orgs the caller may see.
#[utoipa::path(get, path = "/api/v1/orgs", security(("bearer" = [])), responses((status = 200, body = Items<OrgView>)))]
pub async fn list_orgs(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<axum::Json<Items<OrgView>>, ApiError> {
    caller.may_list(Action::ReadOrg)?;
    let items = state
        .ports
        .accounts
        .orgs()
        .await?
        .into_iter()
        .filter(|o| caller.allowed(Action::ReadOrg, Some(Object::Org(o.as_ref()))))
        .map(|o| OrgView::of(state.contract(), o))
        .collect();
    Ok(axum::Json(Items { items }))
}

/// A new org (admin).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrg {
    #[schema(pattern = r"^[a-z0-9][a-z0-9-]{1,39}$")]
    slug: String,
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    tier: String,
    #[schema(value_type = String, pattern = "^(shared|dedicated|federal)$")]
    deployment: Deployment,
    #[serde(default)]
    tam: Option<String>,
    #[serde(default)]
    named_engineers: Vec<String>,
}

fn valid_slug(s: &str) -> bool {
    (2..=40).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
}

/// The policy's view of a person acting on their own behalf (being paged, serving an org,
/// following a link sent to them) with the given scopes.
pub fn person(user: &UserRecord, scopes: Scopes) -> Actor<'_> {
    Actor {
        user: user.id.as_str(),
        role: user.role,
        org: user.org.as_ref().map(OrgSlug::as_str),
        federal_cleared: user.federal_cleared,
        scopes,
    }
}

/// Checks that every user in `ids` is staff who may serve `org` (be its TAM, a named
/// engineer or on its schedule): uncleared staff cannot serve a federal org.
pub async fn check_servers(state: &AppState, ids: &[&str], org: Option<OrgRef<'_>>) -> Result<(), ApiError> {
    for id in ids {
        let Some(user) = state.ports.accounts.user(&UserId::from(*id)).await?.filter(|u| u.org.is_none()) else {
            return Err(ApiError::unprocessable(format!("{id:?} is not a staff user")));
        };
        if let Some(org) = org {
            let decision = access::decide(&person(&user, Scopes::NONE), Action::ServeOrg, Some(Object::Org(org)));
            if !decision.allowed() {
                return Err(ApiError::unprocessable(format!(
                    "{} ({id}) cannot serve {}: only staff cleared for federal serve a federal org",
                    user.name, org.slug
                )));
            }
        }
    }
    Ok(())
}

/// Creates an org (admin): Enterprise orgs get their Slack channel `#stringer-<slug>`. The TAM
/// and named engineers must be staff who may serve the org (cleared, for a federal org).
#[utoipa::path(post, path = "/api/v1/orgs", security(("bearer" = [])), request_body = CreateOrg,
    responses((status = 201, body = OrgView), (status = 409, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn create_org(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<CreateOrg>,
) -> Result<impl IntoResponse, ApiError> {
    let new = OrgRef { slug: &body.slug, deployment: body.deployment };
    caller.may(Action::CreateOrg, Some(Object::Org(new)), "org")?;
    if !valid_slug(&body.slug) {
        return Err(ApiError::unprocessable("slug: 2–40 lowercase letters, digits or dashes"));
    }
    if body.name.trim().is_empty() || body.name.len() > 200 {
        return Err(ApiError::unprocessable("name: 1 to 200 characters"));
    }
    if state.contract().tier(&body.tier).is_none() {
        let tiers: Vec<&str> = state.contract().tiers.keys().map(|t| t.as_str()).collect();
        return Err(ApiError::unprocessable(format!("unknown tier {:?}; tiers are {}", body.tier, tiers.join(", "))));
    }
    let servers: Vec<&str> = body.tam.iter().chain(&body.named_engineers).map(String::as_str).collect();
    check_servers(&state, &servers, Some(new)).await?;
    let enterprise = body.tier == "enterprise";
    let org = OrgRecord {
        slack_channel: enterprise.then(|| format!("#stringer-{}", body.slug)),
        email_tag: body.slug.clone(),
        slug: OrgSlug(body.slug),
        name: body.name,
        tier: Tier(body.tier),
        deployment: body.deployment,
        tam: body.tam.map(UserId),
        named_engineers: body.named_engineers.into_iter().map(UserId).collect(),
        created_at: state.now().as_second(),
    };
    state.ports.accounts.insert_org(&org, Some(&caller.user().id)).await?;
    // A dedicated or federal org's own status page comes with it.
    let status = stringer_app::status::StatusDesk { pages: state.ports.status.clone() };
    status.tenant_page(&org, org.created_at).await?;
    Ok((StatusCode::CREATED, axum::Json(OrgView::of(state.contract(), org))))
}

/// The org `slug` if the policy lets the caller take `action` on it; else the policy's
/// refusal (404 exactly as for a missing org).
pub async fn org_for(state: &AppState, caller: &Caller, slug: &str, action: Action) -> Result<OrgRecord, ApiError> {
    let org = state.ports.accounts.org(&OrgSlug::from(slug)).await?;
    caller.may(action, org.as_ref().map(|o| Object::Org(o.as_ref())), "org")?;
    Ok(org.expect("the policy allows only existing orgs"))
}

/// One org.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}", security(("bearer" = [])), params(("slug" = String, Path)),
    responses((status = 200, body = OrgView), (status = 404, body = crate::routes::Problem)))]
pub async fn get_org(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(slug): PathParams<String>,
) -> Result<axum::Json<OrgView>, ApiError> {
    Ok(axum::Json(OrgView::of(state.contract(), org_for(&state, &caller, &slug, Action::ReadOrg).await?)))
}

/// Changes to an org; absent fields stay as they are (`tam: null` removes the TAM).
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrg {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    pub tier: Option<String>,
    #[schema(value_type = Option<String>, pattern = "^(shared|dedicated|federal)$")]
    pub deployment: Option<Deployment>,
    /// A staff user who may serve the org; `null` for none.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub tam: Option<Option<String>>,
    pub named_engineers: Option<Vec<String>>,
    /// The shared Slack channel, e.g. `#stringer-acme`; `null` for none.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub slack_channel: Option<Option<String>>,
    /// The tag of the org's support address (`support+TAG@…`).
    #[schema(pattern = r"^[a-z0-9][a-z0-9-]{1,39}$")]
    pub email_tag: Option<String>,
}

/// A field that is present (even as `null`) is `Some`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Applies an org change (admin): the same checks as creating one; the TAM and named
/// engineers must be staff who may serve the org as it will be.
pub async fn change_org(state: &AppState, caller: &Caller, slug: &str, body: UpdateOrg) -> Result<OrgRecord, ApiError> {
    let mut org = org_for(state, caller, slug, Action::UpdateOrg).await?;
    let channel_before = org.slack_channel.clone();
    if let Some(deployment) = body.deployment {
        let changed = OrgRef { slug: org.slug.as_str(), deployment };
        caller.may(Action::UpdateOrg, Some(Object::Org(changed)), "org")?;
        org.deployment = deployment;
    }
    if let Some(name) = body.name {
        if name.trim().is_empty() || name.len() > 200 {
            return Err(ApiError::unprocessable("name: 1 to 200 characters"));
        }
        org.name = name;
    }
    if let Some(tier) = body.tier {
        let Some(tier) = state.contract().tier(&tier) else {
            let tiers: Vec<&str> = state.contract().tiers.keys().map(|t| t.as_str()).collect();
            return Err(ApiError::unprocessable(format!("unknown tier {tier:?}; tiers are {}", tiers.join(", "))));
        };
        org.tier = tier;
    }
    if let Some(tam) = body.tam {
        org.tam = tam.filter(|t| !t.is_empty()).map(UserId);
    }
    if let Some(named) = body.named_engineers {
        org.named_engineers = named.into_iter().map(UserId).collect();
    }
    if let Some(channel) = body.slack_channel {
        let channel = channel.filter(|c| !c.is_empty());
        if channel.as_ref().is_some_and(|c| !c.starts_with('#') || c.len() > 80 || c.contains(char::is_whitespace)) {
            return Err(ApiError::unprocessable("slack_channel: '#' and a channel name without spaces"));
        }
        org.slack_channel = channel;
    }
    if let Some(tag) = body.email_tag {
        if !valid_slug(&tag) {
            return Err(ApiError::unprocessable("email_tag: 2–40 lowercase letters, digits or dashes"));
        }
        org.email_tag = tag;
    }
    let servers: Vec<&str> = org.tam.iter().chain(&org.named_engineers).map(UserId::as_str).collect();
    check_servers(state, &servers, Some(org.as_ref())).await?;
    if !state.ports.accounts.update_org(&org, &caller.user().id, state.now().as_second()).await? {
        return Err(ApiError::not_found("org"));
    }
    if org.slack_channel.is_some() && org.slack_channel != channel_before {
        kick_off_in_background(state, &org);
    }
    Ok(org)
}

/// Kicks off an org's new shared channel after the answer (Slack calls take their time);
/// the outcome is logged, and `POST /api/v1/orgs/{slug}/kickoff` runs it again and tells.
fn kick_off_in_background(state: &AppState, org: &OrgRecord) {
    let Some(desk) = state.slack.chat.clone() else { return };
    let org = org.clone();
    tokio::spawn(async move {
        match desk.kickoff(&org).await {
            Ok(k) => {
                tracing::info!(org = %org.slug, channel = %k.channel, created = k.created, invited = k.invited.len(), "Slack channel kicked off")
            }
            Err(e) => {
                tracing::warn!(org = %org.slug, error = %e, "kicking off the Slack channel failed; POST /api/v1/orgs/SLUG/kickoff retries")
            }
        }
    });
}

/// Changes an org (admin): name, tier, deployment, TAM, named engineers, Slack channel,
/// email tag. The answer carries warnings, e.g. an Enterprise org left without a TAM.
#[utoipa::path(patch, path = "/api/v1/orgs/{slug}", security(("bearer" = [])), params(("slug" = String, Path)), request_body = UpdateOrg,
    responses((status = 200, body = OrgView), (status = 403, body = crate::routes::Problem), (status = 404, body = crate::routes::Problem), (status = 409, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn update_org(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(slug): PathParams<String>,
    Body(body): Body<UpdateOrg>,
) -> Result<axum::Json<OrgView>, ApiError> {
    let org = change_org(&state, &caller, &slug, body).await?;
    Ok(axum::Json(OrgView::of(state.contract(), org)))
}

/// Users the caller may see: staff see staff and visible orgs' customers; customers see their org.
#[utoipa::path(get, path = "/api/v1/users", security(("bearer" = [])), responses((status = 200, body = Items<UserView>)))]
pub async fn list_users(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<axum::Json<Items<UserView>>, ApiError> {
    caller.may_list(Action::ReadUser)?;
    let users = state.ports.accounts.users(caller.user().org.as_ref()).await?;
    let orgs = state.ports.accounts.orgs().await?;
    let org_of = |slug: &OrgSlug| orgs.iter().find(|o| &o.slug == slug);
    let visible = |u: &UserRecord| {
        let org = u.org.as_ref().and_then(org_of);
        caller.allowed(Action::ReadUser, Some(Object::User(u.as_object(org))))
    };
    Ok(axum::Json(Items { items: users.into_iter().filter(visible).map(Into::into).collect() }))
}

/// A new user: admins create staff and customers; a customer org admin invites customers
/// into their own org (the invitee chooses their password; see [`Invited`]). Only a staff
/// admin gives an address an account in several orgs.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(pattern = "^[^@]+@[^@]+$", max_length = 254)]
    pub email: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(pattern = "^(engineer|platform_engineer|tam|vp_engineering|support_lead|admin|member|org_admin)$")]
    pub role: String,
    #[serde(default)]
    pub org: Option<String>,
    #[serde(default)]
    pub federal_cleared: bool,
    /// Staff admins only: an org admin never sets someone else's password.
    #[serde(default)]
    #[schema(min_length = 12, max_length = 256)]
    pub password: Option<String>,
}

/// An invitation an org admin sent: the account is made when the invitee follows the mailed
/// link and chooses a password. The answer is the same whatever the address (an address
/// held by staff or by another org's user is sent a notice instead of a link, and never gets
/// an account this way), so it tells nothing about accounts outside the org.
#[derive(Serialize, ToSchema)]
pub struct Invited {
    /// The invitation (`inv_…`); the account gets an id of its own when it is made.
    id: String,
    email: String,
    name: String,
    role: String,
    org: String,
    /// Unix seconds: the link works until then.
    expires_at: i64,
}

impl From<InvitationRecord> for Invited {
    fn from(i: InvitationRecord) -> Invited {
        Invited {
            id: i.id,
            email: i.email,
            name: i.name,
            role: i.role.to_string(),
            org: i.org.0,
            expires_at: i.expires_at,
        }
    }
}

/// What creating a user came to.
pub enum Created {
    /// A staff admin made the account.
    Account(UserRecord),
    /// An org admin invited the address.
    Invitation(InvitationRecord),
}

fn parse_role(name: &str) -> Result<UserRole, ApiError> {
    UserRole::parse(name).ok_or_else(|| {
        let names: Vec<&str> = UserRole::ALL.iter().map(|r| r.as_str()).collect();
        ApiError::unprocessable(format!("unknown role {name:?}; roles are {}", names.join(", ")))
    })
}

/// Creates a user (staff admin: 201 and the account) or invites one into the caller's org
/// (customer org admin: 202 and the invitation, the same answer for every address; the
/// invitation needs a mail relay, else 409).
#[utoipa::path(post, path = "/api/v1/users", security(("bearer" = [])), request_body = CreateUser,
    responses((status = 201, body = UserView), (status = 202, description = "An org admin's invitation was mailed", body = Invited),
        (status = 403, body = crate::routes::Problem), (status = 409, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn create_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<CreateUser>,
) -> Result<axum::response::Response, ApiError> {
    Ok(match add_user(&state, &caller, body).await? {
        Created::Account(user) => (StatusCode::CREATED, axum::Json(UserView::from(user))).into_response(),
        Created::Invitation(invitation) => {
            (StatusCode::ACCEPTED, axum::Json(Invited::from(invitation))).into_response()
        }
    })
}

/// Creates a user or sends an invitation (see [`create_user`]); the admin pages call it too.
pub async fn add_user(state: &AppState, caller: &Caller, body: CreateUser) -> Result<Created, ApiError> {
    let role = parse_role(&body.role)?;
    if role.is_staff() != body.org.is_none() {
        return Err(ApiError::unprocessable("staff users have no org; customer users need one"));
    }
    let org = match &body.org {
        Some(slug) => state.ports.accounts.org(&OrgSlug::from(slug.as_str())).await?,
        None => None,
    };
    let object = match (&body.org, &org) {
        (None, _) => Some(Object::Staff),
        (Some(_), found) => found.as_ref().map(|o| Object::Org(o.as_ref())),
    };
    let action = Action::CreateUser { role, cleared: body.federal_cleared };
    match access::decide(&caller.actor(), action, object) {
        access::Decision::NotFound => {
            let slug = body.org.as_deref().unwrap_or_default();
            return Err(ApiError::unprocessable(format!("unknown org {slug:?}")));
        }
        other => decision_to_result(other, "org")?,
    }
    let email = body.email.trim().to_string();
    if !email.contains('@') || email.len() > 254 {
        return Err(ApiError::unprocessable("email: a valid address"));
    }
    if body.name.trim().is_empty() || body.name.len() > 200 {
        return Err(ApiError::unprocessable("name: 1 to 200 characters"));
    }
    if !caller.user().role.is_staff() {
        let org = org.expect("the policy lets org admins create users only in their existing org");
        return invite(state, caller, org, role, email, body).await.map(Created::Invitation);
    }
    if body.password.as_ref().is_some_and(|p| p.len() < 12 || p.len() > 256) {
        return Err(ApiError::unprocessable("password: 12 to 256 characters"));
    }
    let user = UserRecord {
        id: UserId(new_id("usr")),
        email,
        name: body.name,
        role,
        org: body.org.map(OrgSlug),
        federal_cleared: body.federal_cleared,
        password_hash: body.password.as_deref().map(hash_password),
        created_at: state.now().as_second(),
        time_zone: None,
        deactivated_at: None,
    };
    state.ports.accounts.insert_user(&user, Some(&caller.user().id)).await?;
    // A new org admin is posted the org's welcome packet, where the server sends mail.
    if let (UserRole::OrgAdmin, Some(org), Some(_)) = (user.role, &org, &state.mail) {
        post_packet(state, org, &user).await;
    }
    Ok(Created::Account(user))
}

/// An org admin invites `email` into their org: the invitation is stored and its link mailed
/// to the address, unless staff or another org's user holds the address — then the holder is
/// told of the attempt and no link is made. Either way the caller gets the same answer.
async fn invite(
    state: &AppState,
    caller: &Caller,
    org: OrgRecord,
    role: UserRole,
    email: String,
    body: CreateUser,
) -> Result<InvitationRecord, ApiError> {
    if body.password.is_some() {
        return Err(ApiError::unprocessable(
            "password: an org admin invites; the person chooses their own password through the mailed link",
        ));
    }
    crate::password_links::relay(state)?;
    let held = state.ports.accounts.address_held_elsewhere(&email, &org.slug).await?;
    let now = state.now().as_second();
    let invitation = InvitationRecord {
        id: new_id("inv"),
        org: org.slug.clone(),
        email,
        name: body.name,
        role,
        invited_by: caller.user().id.clone(),
        created_at: now,
        expires_at: now + crate::password_links::INVITATION_SECONDS,
    };
    state.ports.accounts.insert_invitation(&invitation).await?;
    if held {
        crate::password_links::notice_held(state, &invitation, &org.name).await?;
    } else {
        crate::password_links::invite(state, &invitation, &org.name).await?;
    }
    Ok(invitation)
}

/// Posts the org's welcome packet to a new org admin; a failure is logged (the packet can be
/// sent again with `POST /api/v1/orgs/{slug}/packet`).
pub async fn post_packet(state: &AppState, org: &OrgRecord, admin: &UserRecord) {
    if let Err(e) = crate::packet::mail(state, org, std::slice::from_ref(admin)).await {
        tracing::warn!(user = %admin.id, "the welcome packet was not posted: {}", e.detail);
    }
}

/// Who a welcome packet goes to.
#[derive(Serialize, ToSchema)]
pub struct PacketSent {
    /// The org admins' addresses (the mail goes out through the outbox within seconds).
    sent_to: Vec<String>,
}

/// Mails the org's welcome packet to its admins again (admin).
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/packet", security(("bearer" = [])), params(("slug" = String, Path)),
    responses((status = 200, body = PacketSent), (status = 404, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn send_packet(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(slug): PathParams<String>,
) -> Result<axum::Json<PacketSent>, ApiError> {
    let org = org_for(&state, &caller, &slug, Action::UpdateOrg).await?;
    let admins = stringer_app::ports::org_admins(&state.ports, &org.slug).await?;
    if admins.is_empty() {
        return Err(ApiError::unprocessable("the org has no admin to send the packet to"));
    }
    Ok(axum::Json(PacketSent { sent_to: crate::packet::mail(&state, &org, &admins).await? }))
}

/// A user and their org, if the id is well-formed and the user exists.
pub async fn user_with_org(state: &AppState, id: &str) -> Result<Option<(UserRecord, Option<OrgRecord>)>, ApiError> {
    if !is_id("usr", id) {
        return Err(ApiError::bad_request("malformed user id"));
    }
    let Some(user) = state.ports.accounts.user(&UserId::from(id)).await? else { return Ok(None) };
    let org = match &user.org {
        Some(slug) => state.ports.accounts.org(slug).await?,
        None => None,
    };
    Ok(Some((user, org)))
}

/// The user `id` if the policy lets the caller take `action` on them.
pub async fn user_for(state: &AppState, caller: &Caller, id: &str, action: Action) -> Result<UserRecord, ApiError> {
    let found = user_with_org(state, id).await?;
    caller.may(action, found.as_ref().map(|(u, o)| Object::User(u.as_object(o.as_ref()))), "user")?;
    Ok(found.expect("the policy allows only existing users").0)
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^usr_[0-9A-HJKMNP-TV-Z]{26}$")),
    responses((status = 200, body = UserView), (status = 404, body = crate::routes::Problem)))]
pub async fn get_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<UserView>, ApiError> {
    Ok(axum::Json(user_for(&state, &caller, &id, Action::ReadUser).await?.into()))
}

/// Changes to a user; absent fields stay as they are.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// A role of the same kind (staff or customer) as the user's.
    #[schema(pattern = "^(engineer|platform_engineer|tam|vp_engineering|support_lead|admin|member|org_admin)$")]
    pub role: Option<String>,
    /// Staff only; granting it takes an admin cleared for federal.
    pub federal_cleared: Option<bool>,
    /// An IANA time zone; `null` for UTC.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub time_zone: Option<Option<String>>,
}

/// Federal orgs and schedules the user serves (as TAM, named engineer or schedule member).
async fn federal_duties(state: &AppState, user: &UserId) -> Result<Vec<String>, ApiError> {
    let orgs = state.ports.accounts.orgs().await?;
    let federal = |slug: &OrgSlug| orgs.iter().any(|o| &o.slug == slug && o.deployment == Deployment::Federal);
    let mut duties: Vec<String> = orgs
        .iter()
        .filter(|o| o.deployment == Deployment::Federal)
        .filter(|o| o.tam.as_ref() == Some(user) || o.named_engineers.contains(user))
        .map(|o| format!("org {}", o.slug))
        .collect();
    for s in state.ports.oncall.schedules().await? {
        let member = s.spec.layers.iter().any(|l| l.rotation.members.iter().any(|m| m == user.as_str()))
            || s.spec.overrides.iter().any(|o| o.user == user.as_str());
        if member && s.org.as_ref().is_some_and(federal) {
            duties.push(format!("schedule {}", s.name));
        }
    }
    Ok(duties)
}

/// Changes a user's name, role or clearance. Staff roles and clearance are granted by admins
/// (clearance by cleared admins); a customer org admin changes their org's users. Clearance
/// cannot be withdrawn from someone who still serves a federal org. The user's tokens carry
/// the change at once.
#[utoipa::path(patch, path = "/api/v1/users/{id}", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^usr_[0-9A-HJKMNP-TV-Z]{26}$")), request_body = UpdateUser,
    responses((status = 200, body = UserView), (status = 403, body = crate::routes::Problem), (status = 404, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn update_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<UpdateUser>,
) -> Result<axum::Json<UserView>, ApiError> {
    Ok(axum::Json(change_user(&state, &caller, &id, body).await?.into()))
}

/// Applies a change to a user (see [`update_user`]); the admin pages call it too.
pub async fn change_user(
    state: &AppState,
    caller: &Caller,
    id: &str,
    body: UpdateUser,
) -> Result<UserRecord, ApiError> {
    let role = body.role.as_deref().map(parse_role).transpose()?;
    let action = Action::UpdateUser { role, cleared: body.federal_cleared };
    let mut user = user_for(state, caller, id, action).await?;
    if role.is_some_and(|r| r.is_staff() != user.role.is_staff()) {
        return Err(ApiError::unprocessable("role: staff keep a staff role and customers a customer role"));
    }
    if body.federal_cleared == Some(true) && !user.role.is_staff() {
        return Err(ApiError::unprocessable("federal_cleared: customers are not cleared for federal data"));
    }
    if body.name.as_ref().is_some_and(|n| n.trim().is_empty() || n.len() > 200) {
        return Err(ApiError::unprocessable("name: 1 to 200 characters"));
    }
    if body.federal_cleared == Some(false) && user.federal_cleared {
        let duties = federal_duties(state, &user.id).await?;
        if !duties.is_empty() {
            return Err(ApiError::unprocessable(format!(
                "{} still serves {}; reassign that first",
                user.name,
                duties.join(", ")
            )));
        }
    }
    if let Some(name) = body.name {
        user.name = name;
    }
    if let Some(role) = role {
        user.role = role;
    }
    if let Some(cleared) = body.federal_cleared {
        user.federal_cleared = cleared;
    }
    set_time_zone(&mut user, body.time_zone)?;
    save_user(state, caller, user).await
}

/// Deactivates a user (who may change them may deactivate them): their tokens and sessions
/// stop at once, they are paged no more, and nothing of theirs is deleted. Nobody changes
/// themselves (the policy's rule), so nobody deactivates themselves either.
pub async fn deactivate(state: &AppState, caller: &Caller, id: &str) -> Result<UserRecord, ApiError> {
    let action = Action::UpdateUser { role: None, cleared: None };
    let user = user_for(state, caller, id, action).await?;
    let duties = federal_duties(state, &user.id).await?;
    let now = state.now().as_second();
    state.ports.accounts.deactivate_user(&user.id, &caller.user().id, now).await?;
    state.tokens.clear();
    if !duties.is_empty() {
        tracing::warn!(user = %user.id, "deactivated a user who still serves {}", duties.join(", "));
    }
    Ok(UserRecord { deactivated_at: user.deactivated_at.or(Some(now)), ..user })
}

/// Deactivates a user (see [`deactivate`]); deactivating again changes nothing.
#[utoipa::path(delete, path = "/api/v1/users/{id}", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^usr_[0-9A-HJKMNP-TV-Z]{26}$")),
    responses((status = 200, body = UserView), (status = 403, body = crate::routes::Problem), (status = 404, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn deactivate_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<UserView>, ApiError> {
    Ok(axum::Json(deactivate(&state, &caller, &id).await?.into()))
}

/// Which password link to send.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendPasswordLink {
    /// invitation (works 7 days) or reset (works 1 hour).
    #[schema(pattern = "^(invitation|reset)$")]
    purpose: String,
}

/// Where and until when a link was sent.
#[derive(Serialize, ToSchema)]
pub struct PasswordLinkSent {
    sent_to: String,
    /// Unix seconds.
    expires_at: i64,
}

/// Mails a user a one-time "set your password" link (who may change the user may send it);
/// the link is never shown to the caller.
pub async fn password_link(
    state: &AppState,
    caller: &Caller,
    id: &str,
    purpose: crate::password_links::Purpose,
) -> Result<(UserRecord, i64), ApiError> {
    let user = user_for(state, caller, id, Action::UpdateUser { role: None, cleared: None }).await?;
    if user.deactivated_at.is_some() {
        return Err(ApiError::unprocessable("this user is deactivated"));
    }
    let expires = crate::password_links::send(state, &user, purpose).await?;
    Ok((user, expires))
}

/// Mails a user a one-time "set your password" link: an invitation or a reset.
#[utoipa::path(post, path = "/api/v1/users/{id}/password-link", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^usr_[0-9A-HJKMNP-TV-Z]{26}$")), request_body = SendPasswordLink,
    responses((status = 202, body = PasswordLinkSent), (status = 404, body = crate::routes::Problem), (status = 409, description = "No mail relay is configured", body = crate::routes::Problem)))]
pub async fn send_password_link(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<SendPasswordLink>,
) -> Result<impl IntoResponse, ApiError> {
    use crate::password_links::Purpose;
    let purpose = match body.purpose.as_str() {
        "invitation" => Purpose::Invitation,
        "reset" => Purpose::Reset,
        _ => return Err(ApiError::unprocessable("purpose: invitation or reset")),
    };
    let (user, expires_at) = password_link(&state, &caller, &id, purpose).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(PasswordLinkSent { sent_to: user.email, expires_at })))
}

/// The caller's tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", security(("bearer" = [])), responses((status = 200, body = Items<TokenView>)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<axum::Json<Items<TokenView>>, ApiError> {
    caller.may(Action::ReadAccount, Some(Object::Account(caller.user().id.as_str())), "user")?;
    let items = state.ports.accounts.tokens(&caller.user().id).await?.into_iter().map(Into::into).collect();
    Ok(axum::Json(Items { items }))
}

/// A new token for the caller.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    /// A non-empty subset of the calling token's scopes: read, write, admin.
    #[schema(min_items = 1)]
    scopes: Vec<String>,
    /// Days until it expires (1–366).
    #[schema(minimum = 1, maximum = 366)]
    expires_in_days: i64,
}

/// Creates a token for the caller, with at most the caller's own scopes. Rate-limited.
#[utoipa::path(post, path = "/api/v1/tokens", security(("bearer" = [])), request_body = CreateToken,
    responses((status = 201, body = NewTokenView), (status = 403, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem), (status = 429, body = crate::routes::Problem)))]
pub async fn create_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<CreateToken>,
) -> Result<impl IntoResponse, ApiError> {
    let scopes =
        Scopes::parse(&body.scopes).ok_or_else(|| ApiError::unprocessable("scopes: each one of read, write, admin"))?;
    caller.may(Action::CreateToken(scopes), Some(Object::Account(caller.user().id.as_str())), "user")?;
    spend(&state, state.settings.limits, format!("token:{}", caller.user().id), "too many new tokens").await?;
    if !(1..=MAX_TOKEN_DAYS).contains(&body.expires_in_days) {
        return Err(ApiError::unprocessable(format!("expires_in_days: 1 to {MAX_TOKEN_DAYS}")));
    }
    if body.name.trim().is_empty() || body.name.len() > 100 {
        return Err(ApiError::unprocessable("name: 1 to 100 characters"));
    }
    let expires = state.now().as_second() + body.expires_in_days * 86_400;
    let (view, secret) = issue_token(&state, caller.user(), &body.name, scopes, Some(expires)).await?;
    Ok((StatusCode::CREATED, secret, axum::Json(view)))
}

/// Revokes one of the caller's tokens; a token cannot revoke one with scopes it lacks.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^tok_[0-9A-HJKMNP-TV-Z]{26}$")),
    responses((status = 204), (status = 403, body = crate::routes::Problem), (status = 404, body = crate::routes::Problem)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<StatusCode, ApiError> {
    if !is_id("tok", &id) {
        return Err(ApiError::bad_request("malformed token id"));
    }
    let token = state.ports.accounts.token(&id).await?.filter(|t| t.revoked_at.is_none());
    let object = token.as_ref().map(|t| Object::Token { owner: t.user_id.as_str(), scopes: t.scopes });
    caller.may(Action::RevokeToken, object, "token")?;
    if state.ports.accounts.revoke_token(&caller.user().id, &id, state.now().as_second()).await? {
        state.tokens.clear();
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("token"))
    }
}
