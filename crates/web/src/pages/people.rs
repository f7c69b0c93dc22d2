//! `/portal/people`: an org admin's colleagues and the form that invites another. The
//! invitation goes through the same application function as `POST /api/v1/users` (the
//! policy's `CreateUser`): the invitee is mailed a link and chooses their own password, and
//! the answer is the same whatever the address (it reveals no account outside the org).

use super::session::{PageForm, Session, Signed};
use super::{Nav, PageResult, render, see_other};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use stringer_app::accounts::users::{Created, NewUser};
use stringer_core::access::{Action, Object};
use stringer_core::ids::UserRole;

/// The roles an org admin invites with, as (value, words).
const ROLES: [(&str, &str); 2] = [("member", "Member"), ("org_admin", "Org admin (invites and manages colleagues)")];

/// A colleague as listed.
pub struct Colleague {
    name: String,
    email: String,
    role: &'static str,
    state: &'static str,
}

/// The invitation form as typed, with the refusal beside its field.
#[derive(Default, Deserialize)]
pub struct Invite {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

#[derive(Template)]
#[template(path = "portal_people.html")]
struct PeoplePage {
    nav: Nav,
    org: String,
    people: Vec<Colleague>,
    roles: [(&'static str, &'static str); 2],
    typed: Invite,
    /// (field, message): "name", "email" or "form".
    error: Option<(&'static str, String)>,
    flash: Option<String>,
}

impl PeoplePage {
    fn error(&self, field: &str) -> Option<&str> {
        self.error.as_ref().filter(|e| e.0 == field).map(|e| e.1.as_str())
    }
}

/// The caller's org, if the policy lets them invite into it (an org admin's own).
async fn org_of(state: &AppState, session: &Session) -> Result<stringer_app::records::OrgRecord, super::PageError> {
    let caller = &session.caller;
    let Some(slug) = caller.user().org.as_ref() else { return Err(super::PageError::not_found("page")) };
    let org = state.accounts().org(caller.principal(), slug.as_str(), Action::ReadOrg).await?;
    let invite = Action::CreateUser { role: UserRole::Member, cleared: false };
    caller.may(invite, Some(Object::Org(org.as_ref())), "org")?;
    Ok(org)
}

async fn people_page(
    state: &AppState,
    session: &Session,
    typed: Invite,
    error: Option<(&'static str, String)>,
    flash: Option<String>,
) -> PageResult {
    let org = org_of(state, session).await?;
    let mut people: Vec<Colleague> = state
        .accounts()
        .users(session.caller.principal())
        .await?
        .into_iter()
        .map(|u| Colleague {
            role: if u.role == UserRole::OrgAdmin { "Org admin" } else { "Member" },
            state: if u.deactivated_at.is_some() { "deactivated" } else { "active" },
            name: u.name,
            email: u.email,
        })
        .collect();
    people.sort_by(|a, b| a.name.cmp(&b.name));
    let failed = error.is_some();
    let page = PeoplePage { nav: Nav::of(session), org: org.name, people, roles: ROLES, typed, error, flash };
    let mut response = render(&page)?;
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// What an invitation reports back in the address.
#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    invited: Option<String>,
}

/// The org's people and the invitation form.
pub async fn page(State(state): State<AppState>, Signed(session): Signed, Query(done): Query<Done>) -> PageResult {
    let flash = done.invited.map(|to| format!("An invitation was mailed to {to}."));
    people_page(&state, &session, Invite::default(), None, flash).await
}

/// Invites a colleague into the caller's org (through the API's own function).
pub async fn invite(State(state): State<AppState>, PageForm(session, form): PageForm<Invite>) -> PageResult {
    let org = org_of(&state, &session).await?;
    let new = NewUser {
        email: form.email.trim().to_string(),
        name: form.name.trim().to_string(),
        role: form.role.clone(),
        org: Some(org.slug.to_string()),
        federal_cleared: false,
        password: None,
    };
    match state.accounts().add_user(session.caller.principal(), new).await.map_err(ApiError::from) {
        Ok(Created::Invitation(invitation)) => {
            let query = serde_urlencoded::to_string([("invited", invitation.email)]).unwrap_or_default();
            see_other(&format!("/portal/people?{query}"))
        }
        Ok(Created::Account(_)) => see_other("/portal/people"),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let field = if e.detail.starts_with("email") {
                "email"
            } else if e.detail.starts_with("name") {
                "name"
            } else {
                "form"
            };
            let message = super::PageError::from(e).message;
            people_page(&state, &session, form, Some((field, message)), None).await
        }
        Err(e) => Err(e.into()),
    }
}
