//! The admin pages: orgs (tier, deployment, TAM, named engineers, Slack channel, email tag,
//! with the contract's warnings, e.g. an Enterprise org without a TAM), users (deactivate),
//! and the loaded contract as tables. Each change goes through the same function as its
//! `/api/v1` route, so the pages can do nothing the API cannot.

use super::session::{PageForm, Signed};
use super::text;
use super::ticket::at;
use super::{Nav, PageResult, render};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Path, State};
use serde::Deserialize;
use stringer_app::accounts::links::Purpose;
use stringer_app::accounts::orgs::{OrgChange, warnings as org_warnings};
use stringer_app::accounts::users::{Created, NewUser, UserChange};
use stringer_app::mail::{OrgMailPolicy, UnknownSenders};
use stringer_core::access::{Action, Object};
use stringer_core::ids::Deployment;

/// An org as listed.
pub struct OrgLine {
    slug: String,
    name: String,
    tier: String,
    deployment: String,
    tam: String,
    warnings: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin_orgs.html")]
struct OrgsPage {
    nav: Nav,
    orgs: Vec<OrgLine>,
}

/// Every org.
pub async fn orgs(State(state): State<AppState>, Signed(session): Signed) -> PageResult {
    let caller = &session.caller;
    caller.may_list(Action::UpdateOrg)?;
    let orgs: Vec<_> = state
        .ports
        .accounts
        .orgs()
        .await?
        .into_iter()
        .filter(|o| caller.allowed(Action::ReadOrg, Some(Object::Org(o.as_ref()))))
        .collect();
    let names = super::ticket::names(&state, orgs.iter().filter_map(|o| o.tam.as_ref()).map(|t| t.as_str())).await?;
    let orgs = orgs
        .into_iter()
        .map(|o| OrgLine {
            warnings: org_warnings(state.contract(), &o),
            slug: o.slug.to_string(),
            name: o.name,
            tier: o.tier.to_string(),
            deployment: format!("{:?}", o.deployment).to_lowercase(),
            tam: o.tam.map(|t| names.get(t.as_str()).cloned().unwrap_or_else(|| t.to_string())).unwrap_or_default(),
        })
        .collect();
    render(&OrgsPage { nav: Nav::warned(&state, &session).await?, orgs })
}

#[derive(Template)]
#[template(path = "admin_org.html")]
struct OrgPage {
    nav: Nav,
    slug: String,
    name: String,
    tier: String,
    deployment: String,
    tam: String,
    named: Vec<String>,
    slack_channel: String,
    email_tag: String,
    /// Mail from strangers: "hold" or "accept".
    unknown_senders: String,
    /// The domains whose proven senders may join by mail, comma-separated.
    accept_domains: String,
    /// A `[P1]` subject marker sets a mailed ticket's severity.
    subject_severity: bool,
    tiers: Vec<String>,
    staff: Vec<(String, String)>,
    warnings: Vec<String>,
    error: Option<String>,
    /// What was just done ("Saved.", a new phone PIN).
    flash: Option<String>,
}

async fn org_page(
    state: &AppState,
    session: &super::session::Session,
    slug: &str,
    error: Option<String>,
    flash: Option<String>,
) -> PageResult {
    let org = state.accounts().org(session.caller.principal(), slug, Action::UpdateOrg).await?;
    let mut staff: Vec<(String, String)> = state
        .ports
        .accounts
        .active_staff()
        .await?
        .into_iter()
        .map(|u| (u.id.to_string(), format!("{} ({})", u.name, u.role)))
        .collect();
    staff.sort_by(|a, b| a.1.cmp(&b.1));
    let mail = state.ports.mailroom.mail_policy(&org.slug).await?;
    render(&OrgPage {
        unknown_senders: if mail.unknown_senders == UnknownSenders::Accept { "accept" } else { "hold" }.into(),
        accept_domains: mail.accept_domains.join(", "),
        subject_severity: mail.subject_severity,
        nav: Nav::of(session),
        warnings: org_warnings(state.contract(), &org),
        slug: org.slug.to_string(),
        name: org.name,
        tier: org.tier.to_string(),
        deployment: format!("{:?}", org.deployment).to_lowercase(),
        tam: org.tam.map(|t| t.to_string()).unwrap_or_default(),
        named: org.named_engineers.iter().map(|e| e.to_string()).collect(),
        slack_channel: org.slack_channel.unwrap_or_default(),
        email_tag: org.email_tag,
        tiers: state.contract().tiers.keys().map(|t| t.to_string()).collect(),
        staff,
        error,
        flash,
    })
}

/// One org's form.
pub async fn org(State(state): State<AppState>, Signed(session): Signed, Path(slug): Path<String>) -> PageResult {
    org_page(&state, &session, &slug, None, None).await
}

/// Draws the org a new phone PIN (through the API's own function) and shows it once.
pub async fn new_phone_pin(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    PageForm(session, _): PageForm<serde::de::IgnoredAny>,
) -> PageResult {
    let pin = state.accounts().draw_pin(session.caller.principal(), &slug).await?;
    let flash = format!(
        "New phone PIN: {pin}. It is shown this once; give it to the org's people for calls to the P1 line \
         from numbers it does not know. The previous PIN no longer works."
    );
    org_page(&state, &session, &slug, None, Some(flash)).await
}

/// What the org form sends.
#[derive(Deserialize)]
pub struct OrgForm {
    name: String,
    tier: String,
    deployment: String,
    #[serde(default)]
    tam: String,
    /// Staff user ids, separated by commas or spaces.
    #[serde(default)]
    named_engineers: String,
    #[serde(default)]
    slack_channel: String,
    email_tag: String,
    /// "hold" or "accept".
    #[serde(default)]
    unknown_senders: String,
    /// The domains whose people may join by mail, separated by commas or spaces.
    #[serde(default)]
    accept_domains: String,
    /// Present when ticked.
    subject_severity: Option<String>,
}

/// Saves the org (through the API's own change function).
pub async fn save_org(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    PageForm(session, form): PageForm<OrgForm>,
) -> PageResult {
    let deployment: Option<Deployment> = serde_json::from_value(serde_json::Value::String(form.deployment)).ok();
    let change = OrgChange {
        name: Some(form.name),
        tier: Some(form.tier),
        deployment,
        tam: Some(Some(form.tam)),
        named_engineers: Some(
            form.named_engineers.split([',', ' ']).filter(|s| !s.is_empty()).map(String::from).collect(),
        ),
        slack_channel: Some(Some(form.slack_channel)),
        email_tag: Some(form.email_tag),
    };
    let unknown_senders = if form.unknown_senders == "accept" { UnknownSenders::Accept } else { UnknownSenders::Hold };
    let accept_domains = form.accept_domains.split([',', ' ']).filter(|s| !s.is_empty()).map(String::from).collect();
    let mail = OrgMailPolicy { unknown_senders, subject_severity: form.subject_severity.is_some(), accept_domains };
    let saved =
        match state.accounts().change_org(session.caller.principal(), &slug, change).await.map_err(ApiError::from) {
            Ok(_) => state
                .mail_triage()
                .set_org_rules(session.caller.principal(), &slug, mail)
                .await
                .map(|_| ())
                .map_err(ApiError::from),
            Err(e) => Err(e),
        };
    match saved {
        Ok(()) => org_page(&state, &session, &slug, None, Some("Saved.".into())).await,
        Err(e)
            if e.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY
                || e.status == axum::http::StatusCode::CONFLICT =>
        {
            let mut response = org_page(&state, &session, &slug, Some(e.detail), None).await?;
            *response.status_mut() = e.status;
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}

/// A user as listed.
pub struct UserLine {
    id: String,
    name: String,
    email: String,
    role: String,
    org: String,
    cleared: bool,
    deactivated: String,
    may_deactivate: bool,
    /// The roles this user may be given (staff roles for staff, customer roles for customers).
    roles: Vec<String>,
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
    all_roles: Vec<String>,
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
            let roles = stringer_core::ids::UserRole::ALL
                .iter()
                .filter(|r| r.is_staff() == u.role.is_staff())
                .map(|r| r.as_str().to_string())
                .collect();
            Some(UserLine {
                may_mail_link: may_deactivate && state.mail.is_some(),
                roles,
                id: u.id.to_string(),
                name: u.name.clone(),
                email: u.email.clone(),
                role: u.role.to_string(),
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
    let all_roles = stringer_core::ids::UserRole::ALL.iter().map(|r| r.as_str().to_string()).collect();
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
                        .map(|tier| {
                            let cell = c.target(name, tier, sev);
                            match &cell.calendar {
                                Some(cal) => format!("{} ({cal})", cell.within),
                                None => cell.within.to_string(),
                            }
                        })
                        .collect();
                    (sev.to_string(), cells)
                })
                .collect();
            (name.clone(), rows)
        })
        .collect();
    let coverage =
        c.tiers.values().map(|t| (t.name.clone(), t.summary.clone().unwrap_or_else(|| t.coverage.clone()))).collect();
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
    render(&ContractPage { nav: Nav::of(&session), severities, tiers, targets, coverage, escalation })
}
