//! Login, the caller, orgs, users and API tokens as the JSON API shows them. The use cases
//! are the application's ([`stringer_app::accounts`]): a handler reads the request, hands it
//! with the caller's principal to the [`AccountDesk`](stringer_app::accounts::AccountDesk)
//! and shows the answer.

use crate::AppState;
use crate::auth::Caller;
use crate::client::client_ip;
use crate::error::ApiError;
use crate::extract::{Body, PathParams};
use crate::shown_once::ShownOnce;
use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use stringer_app::accounts::letter::Purpose;
use stringer_app::accounts::orgs::{NewOrg, OrgChange, warnings};
use stringer_app::accounts::tokens::NewToken;
use stringer_app::accounts::users::{Created, NewUser, UserChange};
use stringer_app::records::{InvitationRecord, OrgRecord, TokenRecord, UserRecord};
use stringer_core::access::Action;
use stringer_core::contract::Contract;
use stringer_core::ids::Deployment;
use utoipa::ToSchema;

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
        let warnings = warnings(contract, &o);
        OrgView { warnings, ..OrgView::from(o) }
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
            slack_channel: o.channel,
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

impl NewTokenView {
    /// The answer: the token is shown this once.
    fn shown_once(self) -> ShownOnce<NewTokenView> {
        ShownOnce { id: self.id.clone(), view: self }
    }
}

impl From<NewToken> for NewTokenView {
    fn from(t: NewToken) -> NewTokenView {
        let scopes = t.record.scopes.names().into_iter().map(String::from).collect();
        NewTokenView { id: t.record.id, token: t.secret, scopes, expires_at: t.record.expires_at }
    }
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

/// Exchanges email and password for a 12-hour token (the application's sign-in, with its
/// back-off); behind a trusted proxy the client address is the proxy's client's.
#[utoipa::path(post, path = "/api/v1/login", request_body = Login,
    responses((status = 201, body = NewTokenView), (status = 401, body = crate::error::Problem), (status = 429, body = crate::error::Problem)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Body(body): Body<Login>,
) -> Result<impl IntoResponse, ApiError> {
    let ip = client_ip(peer.ip(), &headers, &state.settings.trusted_proxies);
    let user = state.accounts().sign_in(&ip.to_string(), &body.email, &body.password, body.org.as_deref()).await?;
    let token = state.accounts().login_token(&user).await?;
    Ok(NewTokenView::from(token).shown_once())
}

/// The calling user.
#[utoipa::path(get, path = "/api/v1/me", security(("bearer" = [])), responses((status = 200, body = UserView)))]
pub async fn me(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<axum::Json<UserView>, ApiError> {
    Ok(axum::Json(state.accounts().me(caller.principal())?.into()))
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

/// Changes the caller's own settings (the time zone pages are shown in).
#[utoipa::path(patch, path = "/api/v1/me", security(("bearer" = [])), request_body = UpdateMe,
    responses((status = 200, body = UserView), (status = 422, body = crate::error::Problem)))]
pub async fn update_me(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<UpdateMe>,
) -> Result<axum::Json<UserView>, ApiError> {
    Ok(axum::Json(state.accounts().change_me(caller.principal(), body.time_zone).await?.into()))
}

/// Orgs the caller may see.
#[utoipa::path(get, path = "/api/v1/orgs", security(("bearer" = [])), responses((status = 200, body = Items<OrgView>)))]
pub async fn list_orgs(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<axum::Json<Items<OrgView>>, ApiError> {
    let orgs = state.accounts().orgs(caller.principal()).await?;
    let items = orgs.into_iter().map(|o| OrgView::of(state.contract(), o)).collect();
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
    #[schema(pattern = "^usr_[0-9A-HJKMNP-TV-Z]{26}$")]
    tam: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<crate::openapi::UserRef>)]
    named_engineers: Vec<String>,
}

/// Creates an org (admin): Enterprise orgs get their Slack channel `#stringer-<slug>`. The TAM
/// and named engineers must be staff who may serve the org (cleared, for a federal org).
#[utoipa::path(post, path = "/api/v1/orgs", security(("bearer" = [])), request_body = CreateOrg,
    responses((status = 201, body = OrgView), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn create_org(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<CreateOrg>,
) -> Result<impl IntoResponse, ApiError> {
    let new = NewOrg {
        slug: body.slug,
        name: body.name,
        tier: body.tier,
        deployment: body.deployment,
        tam: body.tam,
        named_engineers: body.named_engineers,
    };
    let org = state.accounts().create_org(caller.principal(), new).await?;
    Ok((StatusCode::CREATED, axum::Json(OrgView::of(state.contract(), org))))
}

/// One org.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}", security(("bearer" = [])), params(("slug" = String, Path)),
    responses((status = 200, body = OrgView), (status = 404, body = crate::error::Problem)))]
pub async fn get_org(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(slug): PathParams<String>,
) -> Result<axum::Json<OrgView>, ApiError> {
    let org = state.accounts().org(caller.principal(), &slug, Action::ReadOrg).await?;
    Ok(axum::Json(OrgView::of(state.contract(), org)))
}

/// Changes to an org; absent fields stay as they are (`tam: null` removes the TAM).
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrg {
    #[schema(min_length = 1, max_length = 200)]
    name: Option<String>,
    tier: Option<String>,
    #[schema(value_type = Option<String>, pattern = "^(shared|dedicated|federal)$")]
    deployment: Option<Deployment>,
    /// A staff user who may serve the org; `null` for none.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, pattern = "^(usr_[0-9A-HJKMNP-TV-Z]{26})?$")]
    tam: Option<Option<String>>,
    #[schema(value_type = Option<Vec<crate::openapi::UserRef>>)]
    named_engineers: Option<Vec<String>>,
    /// The shared Slack channel, e.g. `#stringer-acme`; `null` for none.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    slack_channel: Option<Option<String>>,
    /// The tag of the org's support address (`support+TAG@…`).
    #[schema(pattern = r"^[a-z0-9][a-z0-9-]{1,39}$")]
    email_tag: Option<String>,
}

impl From<UpdateOrg> for OrgChange {
    fn from(b: UpdateOrg) -> OrgChange {
        OrgChange {
            name: b.name,
            tier: b.tier,
            deployment: b.deployment,
            tam: b.tam,
            named_engineers: b.named_engineers,
            channel: b.slack_channel,
            email_tag: b.email_tag,
        }
    }
}

/// A field that is present (even as `null`) is `Some`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Changes an org (admin): name, tier, deployment, TAM, named engineers, Slack channel,
/// email tag. The answer carries warnings, e.g. an Enterprise org left without a TAM.
#[utoipa::path(patch, path = "/api/v1/orgs/{slug}", security(("bearer" = [])), params(("slug" = String, Path)), request_body = UpdateOrg,
    responses((status = 200, body = OrgView), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn update_org(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(slug): PathParams<String>,
    Body(body): Body<UpdateOrg>,
) -> Result<axum::Json<OrgView>, ApiError> {
    let org = state.accounts().change_org(caller.principal(), &slug, body.into()).await?;
    Ok(axum::Json(OrgView::of(state.contract(), org)))
}

/// Users the caller may see: staff see staff and visible orgs' customers; customers see their org.
#[utoipa::path(get, path = "/api/v1/users", security(("bearer" = [])), responses((status = 200, body = Items<UserView>)))]
pub async fn list_users(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<axum::Json<Items<UserView>>, ApiError> {
    let users = state.accounts().users(caller.principal()).await?;
    Ok(axum::Json(Items { items: users.into_iter().map(Into::into).collect() }))
}

/// A new user: admins create staff and customers; a customer org admin invites customers
/// into their own org (the invitee chooses their password; see [`Invited`]). Only a staff
/// admin gives an address an account in several orgs.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(pattern = "^[^@]+@[^@]+$", max_length = 254)]
    email: String,
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    #[schema(pattern = "^(engineer|platform_engineer|tam|vp_engineering|support_lead|admin|member|org_admin)$")]
    role: String,
    #[serde(default)]
    org: Option<String>,
    #[serde(default)]
    federal_cleared: bool,
    /// Staff admins only: an org admin never sets someone else's password.
    #[serde(default)]
    #[schema(min_length = 12, max_length = 256)]
    password: Option<String>,
}

impl From<CreateUser> for NewUser {
    fn from(b: CreateUser) -> NewUser {
        NewUser {
            email: b.email,
            name: b.name,
            role: b.role,
            org: b.org,
            federal_cleared: b.federal_cleared,
            password: b.password,
        }
    }
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

/// Creates a user (staff admin: 201 and the account) or invites one into the caller's org
/// (customer org admin: 202 and the invitation, the same answer for every address; the
/// invitation needs a mail relay, else 409).
#[utoipa::path(post, path = "/api/v1/users", security(("bearer" = [])), request_body = CreateUser,
    responses((status = 201, body = UserView), (status = 202, description = "An org admin's invitation was mailed", body = Invited),
        (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn create_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<CreateUser>,
) -> Result<axum::response::Response, ApiError> {
    Ok(match state.accounts().add_user(caller.principal(), body.into()).await? {
        Created::Account(user) => (StatusCode::CREATED, axum::Json(UserView::from(user))).into_response(),
        Created::Invitation(invitation) => {
            (StatusCode::ACCEPTED, axum::Json(Invited::from(invitation))).into_response()
        }
    })
}

/// Who a welcome packet goes to.
#[derive(Serialize, ToSchema)]
pub struct PacketSent {
    /// The org admins' addresses (the mail goes out through the outbox within seconds).
    sent_to: Vec<String>,
}

/// Mails the org's welcome packet to its admins again (admin).
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/packet", security(("bearer" = [])), params(("slug" = String, Path)),
    responses((status = 200, body = PacketSent), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn send_packet(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(slug): PathParams<String>,
) -> Result<axum::Json<PacketSent>, ApiError> {
    Ok(axum::Json(PacketSent { sent_to: state.accounts().send_packet(caller.principal(), &slug).await? }))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^usr_[0-9A-HJKMNP-TV-Z]{26}$")),
    responses((status = 200, body = UserView), (status = 404, body = crate::error::Problem)))]
pub async fn get_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<UserView>, ApiError> {
    Ok(axum::Json(state.accounts().user(caller.principal(), &id, Action::ReadUser).await?.into()))
}

/// Changes to a user; absent fields stay as they are.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[schema(min_length = 1, max_length = 200)]
    name: Option<String>,
    /// A role of the same kind (staff or customer) as the user's.
    #[schema(pattern = "^(engineer|platform_engineer|tam|vp_engineering|support_lead|admin|member|org_admin)$")]
    role: Option<String>,
    /// Staff only; granting it takes an admin cleared for federal.
    federal_cleared: Option<bool>,
    /// An IANA time zone; `null` for UTC.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    time_zone: Option<Option<String>>,
}

impl From<UpdateUser> for UserChange {
    fn from(b: UpdateUser) -> UserChange {
        UserChange { name: b.name, role: b.role, federal_cleared: b.federal_cleared, time_zone: b.time_zone }
    }
}

/// Changes a user's name, role or clearance. Staff roles and clearance are granted by admins
/// (clearance by cleared admins); a customer org admin changes their org's users. Clearance
/// cannot be withdrawn from someone who still serves a federal org. The user's tokens carry
/// the change at once.
#[utoipa::path(patch, path = "/api/v1/users/{id}", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^usr_[0-9A-HJKMNP-TV-Z]{26}$")), request_body = UpdateUser,
    responses((status = 200, body = UserView), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn update_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<UpdateUser>,
) -> Result<axum::Json<UserView>, ApiError> {
    Ok(axum::Json(state.accounts().change_user(caller.principal(), &id, body.into()).await?.into()))
}

/// Deactivates a user (who may change them may deactivate them): their tokens and sessions
/// stop at once, they are paged no more, and nothing of theirs is deleted; deactivating again
/// changes nothing.
#[utoipa::path(delete, path = "/api/v1/users/{id}", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^usr_[0-9A-HJKMNP-TV-Z]{26}$")),
    responses((status = 200, body = UserView), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn deactivate_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<UserView>, ApiError> {
    Ok(axum::Json(state.accounts().deactivate(caller.principal(), &id).await?.into()))
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

/// Mails a user a one-time "set your password" link: an invitation or a reset.
#[utoipa::path(post, path = "/api/v1/users/{id}/password-link", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^usr_[0-9A-HJKMNP-TV-Z]{26}$")), request_body = SendPasswordLink,
    responses((status = 202, body = PasswordLinkSent), (status = 404, body = crate::error::Problem), (status = 409, description = "No mail relay is configured", body = crate::error::Problem)))]
pub async fn send_password_link(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<SendPasswordLink>,
) -> Result<impl IntoResponse, ApiError> {
    let purpose =
        Purpose::parse(&body.purpose).ok_or_else(|| ApiError::unprocessable("purpose: invitation or reset"))?;
    let (user, expires_at) = state.accounts().password_link(caller.principal(), &id, purpose).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(PasswordLinkSent { sent_to: user.email, expires_at })))
}

/// The caller's tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", security(("bearer" = [])), responses((status = 200, body = Items<TokenView>)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<axum::Json<Items<TokenView>>, ApiError> {
    let items = state.accounts().tokens(caller.principal()).await?.into_iter().map(Into::into).collect();
    Ok(axum::Json(Items { items }))
}

/// A new token for the caller.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    /// A non-empty subset of the calling token's scopes: read, write, admin.
    #[schema(min_items = 1, value_type = Vec<crate::openapi::ScopeName>)]
    scopes: Vec<String>,
    /// Days until it expires (1–366).
    #[schema(minimum = 1, maximum = 366)]
    expires_in_days: i64,
}

/// Creates a token for the caller, with at most the caller's own scopes. Rate-limited.
#[utoipa::path(post, path = "/api/v1/tokens", security(("bearer" = [])), request_body = CreateToken,
    responses((status = 201, body = NewTokenView), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem), (status = 429, body = crate::error::Problem)))]
pub async fn create_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<CreateToken>,
) -> Result<impl IntoResponse, ApiError> {
    let token =
        state.accounts().create_token(caller.principal(), &body.name, &body.scopes, body.expires_in_days).await?;
    Ok(NewTokenView::from(token).shown_once())
}

/// Revokes one of the caller's tokens; a token cannot revoke one with scopes it lacks.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^tok_[0-9A-HJKMNP-TV-Z]{26}$")),
    responses((status = 204), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<StatusCode, ApiError> {
    state.accounts().revoke_token(caller.principal(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
