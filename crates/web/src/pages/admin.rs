//! The admin pages: users (created, changed, deactivated, mailed a password link) and the
//! loaded contract as tables (the orgs are [`super::orgs`]). Each change goes through the
//! same function as its `/api/v1` route, so the pages can do nothing the API cannot.

use super::session::{PageForm, Signed};
use super::text;
use super::ticket::at;
use super::{Nav, PageResult, render};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Path, State};
use serde::Deserialize;
use stringer_app::accounts::letter::Purpose;
use stringer_app::accounts::users::{Created, NewUser, UserChange};
use stringer_core::access::{Action, Object};
use stringer_core::ids::UserRole;

/// A user as listed.
pub struct UserLine {
    id: String,
    name: String,
    email: String,
    role: UserRole,
    org: String,
    cleared: bool,
    deactivated: String,
    may_deactivate: bool,
    /// The roles this user may be given (staff roles for staff, customer roles for customers).
    roles: Vec<UserRole>,
    /// A password link may be mailed (the server has a mail relay and the admin may change them).
    may_mail_link: bool,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    nav: Nav,
    users: Vec<UserLine>,
    flash: Option<String>,
    error: Option<String>,
    /// For the new-user form: (slug, name) of the orgs one may add customers to.
    orgs: Vec<(String, String)>,
    all_roles: Vec<UserRole>,
}

async fn users_page(
    state: &AppState,
    session: &super::session::Session,
    flash: Option<String>,
    error: Option<String>,
) -> PageResult {
    let caller = &session.caller;
    caller.may_list(Action::UpdateOrg)?;
    let tz = text::zone(caller.user().time_zone.as_deref());
    let orgs = state.ports.accounts.orgs().await?;
    let users = state
        .ports
        .accounts
        .users(None)
        .await?
        .into_iter()
        .filter_map(|u| {
            let org = u.org.as_ref().and_then(|slug| orgs.iter().find(|o| &o.slug == slug));
            let object = Some(Object::User(u.as_object(org)));
            if !caller.allowed(Action::ReadUser, object) {
                return None;
            }
            let may_deactivate = u.deactivated_at.is_none()
                && u.id != caller.user().id
                && caller.allowed(Action::UpdateUser { role: None, cleared: None }, object);
            let roles = UserRole::ALL.into_iter().filter(|r| r.is_staff() == u.role.is_staff()).collect();
            Some(UserLine {
                may_mail_link: may_deactivate && state.settings.mail_configured,
                roles,
                id: u.id.to_string(),
                name: u.name.clone(),
                email: u.email.clone(),
                role: u.role,
                org: u.org.as_ref().map(|o| o.to_string()).unwrap_or_else(|| "staff".into()),
                cleared: u.federal_cleared,
                deactivated: u.deactivated_at.map(|d| at(d, &tz)).unwrap_or_default(),
                may_deactivate,
            })
        })
        .collect();
    let orgs = orgs
        .iter()
        .filter(|o| caller.allowed(Action::ReadOrg, Some(Object::Org(o.as_ref()))))
        .map(|o| (o.slug.to_string(), o.name.clone()))
        .collect();
    let all_roles = UserRole::ALL.to_vec();
    let mut response = render(&UsersPage {
        nav: Nav::warned(state, session).await?,
        users,
        flash,
        orgs,
        all_roles,
        error: error.clone(),
    })?;
    if error.is_some() {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// Every user the admin may see.
pub async fn users(State(state): State<AppState>, Signed(session): Signed) -> PageResult {
    users_page(&state, &session, None, None).await
}

/// The new-user form.
#[derive(Deserialize)]
pub struct NewUserForm {
    email: String,
    name: String,
    role: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    federal_cleared: Option<String>,
    #[serde(default)]
    password: String,
}

/// Creates a user (through the API's own function).
pub async fn create_user(State(state): State<AppState>, PageForm(session, form): PageForm<NewUserForm>) -> PageResult {
    let new = NewUser {
        email: form.email,
        name: form.name,
        role: form.role,
        org: Some(form.org).filter(|o| !o.is_empty()),
        federal_cleared: form.federal_cleared.is_some(),
        password: Some(form.password).filter(|p| !p.is_empty()),
    };
    match state.accounts().add_user(session.caller.principal(), new).await.map_err(ApiError::from) {
        Ok(Created::Account(user)) => {
            users_page(&state, &session, Some(format!("{} was created.", user.name)), None).await
        }
        Ok(Created::Invitation(invitation)) => {
            let flash = format!("An invitation was mailed to {}.", invitation.email);
            users_page(&state, &session, Some(flash), None).await
        }
        Err(e) if e.status.is_client_error() && e.status != axum::http::StatusCode::NOT_FOUND => {
            users_page(&state, &session, None, Some(super::PageError::from(e).message)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Mails a user a "set your password" link: an invitation if they have no password yet, else
/// a reset (through the API's own function).
pub async fn mail_link(
    State(state): State<AppState>,
    Path(id): Path<String>,
    PageForm(session, _): PageForm<serde::de::IgnoredAny>,
) -> PageResult {
    let user = state.accounts().user(session.caller.principal(), &id, Action::ReadUser).await?;
    let purpose = if user.password_hash.is_some() { Purpose::Reset } else { Purpose::Invitation };
    match state.accounts().password_link(session.caller.principal(), &id, purpose).await.map_err(ApiError::from) {
        Ok((user, _)) => {
            let flash = format!("A password link ({}) was mailed to {}.", purpose.as_str(), user.email);
            users_page(&state, &session, Some(flash), None).await
        }
        Err(e) if e.status.is_client_error() && e.status != axum::http::StatusCode::NOT_FOUND => {
            users_page(&state, &session, None, Some(super::PageError::from(e).message)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A user's role and clearance.
#[derive(Deserialize)]
pub struct EditUserForm {
    role: String,
    #[serde(default)]
    federal_cleared: Option<String>,
}

/// Changes a user's role and clearance (through the API's own function).
pub async fn edit_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
    PageForm(session, form): PageForm<EditUserForm>,
) -> PageResult {
    let change = UserChange {
        role: Some(form.role),
        federal_cleared: Some(form.federal_cleared.is_some()),
        ..UserChange::default()
    };
    match state.accounts().change_user(session.caller.principal(), &id, change).await.map_err(ApiError::from) {
        Ok(user) => users_page(&state, &session, Some(format!("{} was changed.", user.name)), None).await,
        Err(e)
            if e.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY
                || e.status == axum::http::StatusCode::FORBIDDEN =>
        {
            users_page(&state, &session, None, Some(super::PageError::from(e).message)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Deactivates a user (through the API's own function): their sessions and tokens stop.
pub async fn deactivate_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
    PageForm(session, _): PageForm<serde::de::IgnoredAny>,
) -> PageResult {
    let user = state.accounts().deactivate(session.caller.principal(), &id).await?;
    let flash = format!("{} is deactivated: their sessions and tokens no longer work.", user.name);
    users_page(&state, &session, Some(flash), None).await
}

/// One target as a table: its name, then per severity one cell per tier.
type TargetTable = (String, Vec<(String, Vec<String>)>);

#[derive(Template)]
#[template(path = "admin_contract.html")]
struct ContractPage {
    nav: Nav,
    severities: Vec<(String, String, String)>,
    tiers: Vec<String>,
    targets: Vec<TargetTable>,
    coverage: Vec<(String, String)>,
    escalation: Vec<(String, Vec<String>)>,
    /// The ledger's public key and fingerprint, once the log has a key.
    ledger_key: Option<(String, String)>,
}

/// The loaded contract, as the seed's tables.
pub async fn contract(State(state): State<AppState>, Signed(session): Signed) -> PageResult {
    session.caller.may_list(Action::OpenConsole)?;
    let c = state.contract();
    let severities = c.severities.iter().map(|(k, d)| (k.to_string(), d.name.clone(), d.definition.clone())).collect();
    let tiers: Vec<String> = c.tiers.keys().map(|t| t.to_string()).collect();
    let targets = c
        .targets
        .keys()
        .map(|name| {
            let rows = c
                .severities
                .keys()
                .map(|sev| {
                    let cells = c
                        .tiers
                        .keys()
                        .map(|tier| c.target(name, tier, sev).map_or_else(|e| e.to_string(), |t| c.target_words(t)))
                        .collect();
                    (sev.to_string(), cells)
                })
                .collect();
            (name.clone(), rows)
        })
        .collect();
    let coverage = c
        .tiers
        .values()
        .map(|t| (t.name.clone(), t.summary.clone().unwrap_or_else(|| c.calendar_name(&t.coverage))))
        .collect();
    let escalation = c
        .escalation
        .iter()
        .map(|(tier, policy)| {
            let steps = policy
                .steps
                .iter()
                .map(|s| {
                    format!("after {}: page the {}", s.after, stringer_app::postmortem::words::role(s.notify.as_str()))
                })
                .collect();
            (tier.to_string(), steps)
        })
        .collect();
    let ledger_key = state.ledger().key().await.ok().map(|k| (k.log.public_key.to_string(), k.fingerprint));
    render(&ContractPage { nav: Nav::of(&session), severities, tiers, targets, coverage, escalation, ledger_key })
}
