//! Login, the caller, orgs, users and API tokens.

use crate::AppState;
use crate::auth::{
    CUSTOMER_ROLES, Caller, SCOPES, STAFF_ROLES, hash_password, new_secret, token_hash, verify_password,
};
use crate::error::ApiError;
use crate::extract::Body;
use crate::ids::{is_id, new_id};
use axum::Extension;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use stringer_core::ids::Deployment;
use stringer_store::{OrgRecord, TokenRecord, UserRecord};
use utoipa::ToSchema;

/// Longest a token may live, and the lifetime of a login token.
const MAX_TOKEN_DAYS: i64 = 366;
const LOGIN_TOKEN_HOURS: i64 = 12;

/// A user as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct UserView {
    id: String,
    email: String,
    name: String,
    role: String,
    org: Option<String>,
    federal_cleared: bool,
}

impl From<UserRecord> for UserView {
    fn from(u: UserRecord) -> UserView {
        UserView {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
            org: u.org,
            federal_cleared: u.federal_cleared,
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
}

impl From<OrgRecord> for OrgView {
    fn from(o: OrgRecord) -> OrgView {
        OrgView {
            slug: o.slug,
            name: o.name,
            tier: o.tier,
            deployment: o.deployment,
            tam: o.tam,
            named_engineers: o.named_engineers,
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
            scopes: t.scopes,
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
    email: String,
    password: String,
}

fn millis(state: &AppState) -> u64 {
    state.now().as_millisecond().max(0) as u64
}

async fn limit(state: &AppState, key: String) -> Result<(), ApiError> {
    match state.limits.check(&state.store, &key, state.now().as_second()).await? {
        None => Ok(()),
        Some(wait) => {
            Err(ApiError::new(StatusCode::TOO_MANY_REQUESTS, format!("too many attempts; try again in {wait} s")))
        }
    }
}

async fn issue_token(
    state: &AppState,
    user: &UserRecord,
    name: &str,
    scopes: Vec<String>,
    expires_at: Option<i64>,
) -> Result<NewTokenView, ApiError> {
    let secret = new_secret();
    let record = TokenRecord {
        id: new_id("tok", millis(state)),
        user_id: user.id.clone(),
        name: name.to_string(),
        secret_hash: token_hash(&secret),
        scopes: scopes.clone(),
        created_at: state.now().as_second(),
        expires_at,
        revoked_at: None,
    };
    state.store.insert_token(&record, Some(&user.id)).await?;
    Ok(NewTokenView { id: record.id, token: secret, scopes, expires_at })
}

/// Exchanges email and password for a 12-hour token. Rate-limited per address and client.
#[utoipa::path(post, path = "/api/v1/login", request_body = Login,
    responses((status = 201, body = NewTokenView), (status = 401, body = crate::routes::Problem), (status = 429, body = crate::routes::Problem)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Body(body): Body<Login>,
) -> Result<impl IntoResponse, ApiError> {
    limit(&state, format!("login:{}", body.email.to_lowercase())).await?;
    limit(&state, format!("login-ip:{}", peer.ip())).await?;
    let user = state.store.get_user_by_email(&body.email).await?;
    let ok = user.as_ref().and_then(|u| u.password_hash.as_deref()).is_some_and(|h| verify_password(&body.password, h));
    let Some(user) = user.filter(|_| ok) else {
        return Err(ApiError::unauthorized("wrong email or password"));
    };
    let expires = state.now().as_second() + LOGIN_TOKEN_HOURS * 3600;
    let scopes = if user.role == "admin" { SCOPES.to_vec() } else { vec!["read", "write"] };
    let view =
        issue_token(&state, &user, "login", scopes.into_iter().map(String::from).collect(), Some(expires)).await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

/// The calling user.
#[utoipa::path(get, path = "/api/v1/me", security(("bearer" = [])), responses((status = 200, body = UserView)))]
pub async fn me(Extension(caller): Extension<Caller>) -> axum::Json<UserView> {
    axum::Json(caller.user.into())
}

/// Orgs the caller may see.
#[utoipa::path(get, path = "/api/v1/orgs", security(("bearer" = [])), responses((status = 200, body = Items<OrgView>)))]
pub async fn list_orgs(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<axum::Json<Items<OrgView>>, ApiError> {
    caller.require_scope("read")?;
    let items = state.store.list_orgs().await?.into_iter().filter(|o| caller.can_see(o)).map(Into::into).collect();
    Ok(axum::Json(Items { items }))
}

/// A new org (admin).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrg {
    #[schema(pattern = r"^[a-z0-9][a-z0-9-]{1,39}$")]
    slug: String,
    #[schema(min_length = 1)]
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

/// Creates an org (admin): Enterprise orgs get their Slack channel `#stringer-<slug>`.
#[utoipa::path(post, path = "/api/v1/orgs", security(("bearer" = [])), request_body = CreateOrg,
    responses((status = 201, body = OrgView), (status = 409, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn create_org(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<CreateOrg>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require_scope("admin")?;
    if !caller.is_admin() {
        return Err(ApiError::forbidden("only admins create orgs"));
    }
    if !valid_slug(&body.slug) {
        return Err(ApiError::unprocessable("slug: 2–40 lowercase letters, digits or dashes"));
    }
    if state.contract().tier(&body.tier).is_none() {
        let tiers: Vec<&str> = state.contract().tiers.keys().map(|t| t.as_str()).collect();
        return Err(ApiError::unprocessable(format!("unknown tier {:?}; tiers are {}", body.tier, tiers.join(", "))));
    }
    for id in body.tam.iter().chain(&body.named_engineers) {
        let staff = state.store.get_user(id).await?.filter(|u| u.org.is_none());
        if staff.is_none() {
            return Err(ApiError::unprocessable(format!("{id} is not a staff user")));
        }
    }
    let enterprise = body.tier == "enterprise";
    let org = OrgRecord {
        slack_channel: enterprise.then(|| format!("#stringer-{}", body.slug)),
        email_tag: body.slug.clone(),
        slug: body.slug,
        name: body.name,
        tier: body.tier,
        deployment: body.deployment,
        tam: body.tam,
        named_engineers: body.named_engineers,
        created_at: state.now().as_second(),
    };
    state.store.insert_org(&org, Some(&caller.user.id)).await?;
    Ok((StatusCode::CREATED, axum::Json(OrgView::from(org))))
}

/// Resolves an org the caller may see, else 404 (also for others' orgs).
pub async fn visible_org(state: &AppState, caller: &Caller, slug: &str) -> Result<OrgRecord, ApiError> {
    match state.store.get_org(slug).await? {
        Some(org) if caller.can_see(&org) => Ok(org),
        _ => Err(ApiError::not_found("org")),
    }
}

/// One org.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}", security(("bearer" = [])), params(("slug" = String, Path)),
    responses((status = 200, body = OrgView), (status = 404, body = crate::routes::Problem)))]
pub async fn get_org(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(slug): Path<String>,
) -> Result<axum::Json<OrgView>, ApiError> {
    caller.require_scope("read")?;
    Ok(axum::Json(visible_org(&state, &caller, &slug).await?.into()))
}

/// Users the caller may see: staff see staff and visible orgs' customers; customers see their org.
#[utoipa::path(get, path = "/api/v1/users", security(("bearer" = [])), responses((status = 200, body = Items<UserView>)))]
pub async fn list_users(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<axum::Json<Items<UserView>>, ApiError> {
    caller.require_scope("read")?;
    let users = state.store.list_users(caller.user.org.as_deref()).await?;
    let orgs = state.store.list_orgs().await?;
    let visible = |u: &UserRecord| match &u.org {
        None => caller.is_staff(),
        Some(slug) => orgs.iter().any(|o| &o.slug == slug && caller.can_see(o)),
    };
    Ok(axum::Json(Items { items: users.into_iter().filter(visible).map(Into::into).collect() }))
}

/// A new user: admins create staff and customers; a customer org admin creates customers of
/// their own org.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(pattern = "^[^@]+@[^@]+$", max_length = 254)]
    email: String,
    name: String,
    #[schema(pattern = "^(engineer|platform_engineer|tam|vp_engineering|support_lead|admin|member|org_admin)$")]
    role: String,
    #[serde(default)]
    org: Option<String>,
    #[serde(default)]
    federal_cleared: bool,
    #[serde(default)]
    #[schema(min_length = 12, max_length = 256)]
    password: Option<String>,
}

/// Creates a user.
#[utoipa::path(post, path = "/api/v1/users", security(("bearer" = [])), request_body = CreateUser,
    responses((status = 201, body = UserView), (status = 403, body = crate::routes::Problem), (status = 409, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn create_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<CreateUser>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require_scope("write")?;
    let staff_role = STAFF_ROLES.contains(&body.role.as_str());
    if !staff_role && !CUSTOMER_ROLES.contains(&body.role.as_str()) {
        return Err(ApiError::unprocessable(format!(
            "unknown role {:?}; staff roles: {}; customer roles: {}",
            body.role,
            STAFF_ROLES.join(", "),
            CUSTOMER_ROLES.join(", ")
        )));
    }
    if staff_role != body.org.is_none() {
        return Err(ApiError::unprocessable("staff users have no org; customer users need one"));
    }
    let allowed =
        caller.is_admin() || (caller.user.role == "org_admin" && body.org == caller.user.org && !body.federal_cleared);
    if !allowed {
        return Err(ApiError::forbidden("admins create users; customer org admins create users of their own org"));
    }
    if let Some(org) = &body.org {
        visible_org(&state, &caller, org).await.map_err(|_| ApiError::unprocessable(format!("unknown org {org:?}")))?;
    }
    if !body.email.contains('@') || body.email.len() > 254 {
        return Err(ApiError::unprocessable("email: a valid address"));
    }
    if body.password.as_ref().is_some_and(|p| p.len() < 12 || p.len() > 256) {
        return Err(ApiError::unprocessable("password: 12 to 256 characters"));
    }
    let user = UserRecord {
        id: new_id("usr", millis(&state)),
        email: body.email,
        name: body.name,
        role: body.role,
        org: body.org,
        federal_cleared: body.federal_cleared && staff_role,
        password_hash: body.password.as_deref().map(hash_password),
        created_at: state.now().as_second(),
    };
    state.store.insert_user(&user, Some(&caller.user.id)).await?;
    Ok((StatusCode::CREATED, axum::Json(UserView::from(user))))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^usr_[0-9A-HJKMNP-TV-Z]{26}$")),
    responses((status = 200, body = UserView), (status = 404, body = crate::routes::Problem)))]
pub async fn get_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<axum::Json<UserView>, ApiError> {
    caller.require_scope("read")?;
    if !is_id("usr", &id) {
        return Err(ApiError::bad_request("malformed user id"));
    }
    let user = state.store.get_user(&id).await?.ok_or_else(|| ApiError::not_found("user"))?;
    let visible = match &user.org {
        None => caller.is_staff(),
        Some(org) => visible_org(&state, &caller, org).await.is_ok(),
    };
    if !visible {
        return Err(ApiError::not_found("user"));
    }
    Ok(axum::Json(user.into()))
}

/// The caller's tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", security(("bearer" = [])), responses((status = 200, body = Items<TokenView>)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<axum::Json<Items<TokenView>>, ApiError> {
    let items = state.store.list_tokens(&caller.user.id).await?.into_iter().map(Into::into).collect();
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
    responses((status = 201, body = NewTokenView), (status = 422, body = crate::routes::Problem), (status = 429, body = crate::routes::Problem)))]
pub async fn create_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<CreateToken>,
) -> Result<impl IntoResponse, ApiError> {
    limit(&state, format!("token:{}", caller.user.id)).await?;
    if body.scopes.is_empty() || body.scopes.iter().any(|s| !caller.scopes.contains(s)) {
        return Err(ApiError::unprocessable(format!(
            "scopes: a non-empty subset of this token's scopes ({})",
            caller.scopes.join(", ")
        )));
    }
    if !(1..=MAX_TOKEN_DAYS).contains(&body.expires_in_days) {
        return Err(ApiError::unprocessable(format!("expires_in_days: 1 to {MAX_TOKEN_DAYS}")));
    }
    if body.name.trim().is_empty() || body.name.len() > 100 {
        return Err(ApiError::unprocessable("name: 1 to 100 characters"));
    }
    let expires = state.now().as_second() + body.expires_in_days * 86_400;
    let view = issue_token(&state, &caller.user, &body.name, body.scopes, Some(expires)).await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

/// Revokes one of the caller's tokens.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^tok_[0-9A-HJKMNP-TV-Z]{26}$")),
    responses((status = 204), (status = 404, body = crate::routes::Problem)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if !is_id("tok", &id) {
        return Err(ApiError::bad_request("malformed token id"));
    }
    if state.store.revoke_token(&caller.user.id, &id, state.now().as_second()).await? {
        state.tokens.clear();
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("token"))
    }
}
