//! The admin's org pages: every org with the contract's warnings (e.g. an Enterprise org
//! without a TAM), a form that creates one, and one org's form (tier, deployment, TAM, named
//! engineers, Slack channel, email tag, mail rules, phone PIN). Tiers show the contract's
//! display names and people their names, never ids. Each change goes through the same
//! application function as its `/api/v1` route, so the pages can do nothing the API cannot.

use super::session::{PageForm, Session, Signed};
use super::{Nav, PageResult, render, see_other};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use stringer_app::accounts::orgs::{NewOrg, OrgChange, warnings as org_warnings};
use stringer_app::mail::{OrgMailPolicy, UnknownSenders};
use stringer_core::access::Action;
use stringer_core::ids::Deployment;

/// The deployments as the forms offer them: (value, words).
const DEPLOYMENTS: [(&str, &str); 3] =
    [("shared", "Shared platform"), ("dedicated", "Dedicated"), ("federal", "Federal (cleared staff only)")];

/// The words for a deployment.
fn deployment_words(d: Deployment) -> &'static str {
    match d {
        Deployment::Shared => DEPLOYMENTS[0].1,
        Deployment::Dedicated => DEPLOYMENTS[1].1,
        Deployment::Federal => DEPLOYMENTS[2].1,
    }
}

/// The deployment a form's value names.
fn deployment(value: &str) -> Option<Deployment> {
    serde_json::from_value(serde_json::Value::String(value.to_string())).ok()
}

/// The contract's tiers as (name, display name).
fn tiers(state: &AppState) -> Vec<(String, String)> {
    state.contract().tiers.iter().map(|(k, t)| (k.to_string(), t.name.clone())).collect()
}

/// The active staff as (id, "Name (role)"), by name: whom an org's TAM and named engineers
/// are chosen from.
async fn staff(state: &AppState) -> Result<Vec<(String, String)>, super::PageError> {
    let mut staff: Vec<(String, String)> = state
        .ports
        .accounts
        .active_staff()
        .await?
        .into_iter()
        .map(|u| (u.id.to_string(), format!("{} ({})", u.name, u.role.label())))
        .collect();
    staff.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(staff)
}

/// A refusal beside the field it is about: (field, message).
pub struct FieldError {
    field: &'static str,
    message: String,
}

/// The org form's field an application refusal is about (its message names it first).
fn field_error(message: String) -> FieldError {
    let field = [
        ("slug", "slug"),
        ("name", "name"),
        ("unknown tier", "tier"),
        ("email_tag", "email_tag"),
        ("slack", "slack_channel"),
    ]
    .iter()
    .find(|(start, _)| message.starts_with(start))
    .map_or("people", |(_, field)| field);
    let message = super::PageError::from(ApiError::unprocessable(message)).message;
    FieldError { field, message }
}

/// The refusal about `field`, if any (for the templates).
fn error_of<'a>(errors: &'a [FieldError], field: &str) -> Option<&'a str> {
    errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
}

/// An org as listed.
pub struct OrgLine {
    slug: String,
    name: String,
    tier: String,
    deployment: &'static str,
    tam: String,
    warnings: Vec<String>,
}

/// The new-org form as typed.
#[derive(Default)]
pub struct OrgDraft {
    slug: String,
    name: String,
    tier: String,
    deployment: String,
    tam: String,
    named: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin_orgs.html")]
struct OrgsPage {
    nav: Nav,
    orgs: Vec<OrgLine>,
    draft: OrgDraft,
    tiers: Vec<(String, String)>,
    deployments: [(&'static str, &'static str); 3],
    staff: Vec<(String, String)>,
    errors: Vec<FieldError>,
}

impl OrgsPage {
    fn error(&self, field: &str) -> Option<&str> {
        error_of(&self.errors, field)
    }
}

async fn orgs_page(state: &AppState, session: &Session, draft: OrgDraft, errors: Vec<FieldError>) -> PageResult {
    let caller = &session.caller;
    caller.may_list(Action::UpdateOrg)?;
    let orgs = state.accounts().orgs(caller.principal()).await?;
    let names = super::ticket::names(state, orgs.iter().filter_map(|o| o.tam.as_ref()).map(|t| t.as_str())).await?;
    let tiers = tiers(state);
    let orgs = orgs
        .into_iter()
        .map(|o| OrgLine {
            warnings: org_warnings(state.contract(), &o),
            slug: o.slug.to_string(),
            tier: tiers.iter().find(|t| t.0 == o.tier.as_str()).map_or_else(|| o.tier.to_string(), |t| t.1.clone()),
            name: o.name,
            deployment: deployment_words(o.deployment),
            tam: o.tam.map(|t| names.get(t.as_str()).cloned().unwrap_or_default()).unwrap_or_default(),
        })
        .collect();
    let failed = !errors.is_empty();
    let page = OrgsPage {
        nav: Nav::warned(state, session).await?,
        orgs,
        draft,
        tiers,
        deployments: DEPLOYMENTS,
        staff: staff(state).await?,
        errors,
    };
    let mut response = render(&page)?;
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// Every org, and the form that creates one.
pub async fn orgs(State(state): State<AppState>, Signed(session): Signed) -> PageResult {
    orgs_page(&state, &session, OrgDraft::default(), Vec::new()).await
}

/// The value of `name` in a form (the first, trimmed; empty when absent).
fn value(form: &[(String, String)], name: &str) -> String {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).unwrap_or_default()
}

/// Every non-empty value of `name` in a form (a multiple select).
fn values(form: &[(String, String)], name: &str) -> Vec<String> {
    form.iter().filter(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.clone()).collect()
}

/// Creates an org (through the API's own function), then shows it.
pub async fn create(
    State(state): State<AppState>,
    PageForm(session, form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let draft = OrgDraft {
        slug: value(&form, "slug"),
        name: value(&form, "name"),
        tier: value(&form, "tier"),
        deployment: value(&form, "deployment"),
        tam: value(&form, "tam"),
        named: values(&form, "named_engineers"),
    };
    let Some(chosen) = deployment(&draft.deployment) else {
        let error = FieldError { field: "deployment", message: "Choose a deployment.".into() };
        return orgs_page(&state, &session, draft, vec![error]).await;
    };
    let new = NewOrg {
        slug: draft.slug.clone(),
        name: draft.name.clone(),
        tier: draft.tier.clone(),
        deployment: chosen,
        tam: Some(draft.tam.clone()).filter(|t| !t.is_empty()),
        named_engineers: draft.named.clone(),
    };
    match state.accounts().create_org(session.caller.principal(), new).await.map_err(ApiError::from) {
        Ok(org) => see_other(&format!("/admin/orgs/{}?done=created", org.slug)),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::CONFLICT => {
            orgs_page(&state, &session, draft, vec![field_error(e.detail)]).await
        }
        Err(e) => Err(e.into()),
    }
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
    tiers: Vec<(String, String)>,
    deployments: [(&'static str, &'static str); 3],
    staff: Vec<(String, String)>,
    warnings: Vec<String>,
    errors: Vec<FieldError>,
    /// What was just done ("Saved.", a new phone PIN).
    flash: Option<String>,
}

impl OrgPage {
    fn error(&self, field: &str) -> Option<&str> {
        error_of(&self.errors, field)
    }
}

/// One org's form: as stored, or as typed when `typed` (a refused form) is given.
async fn org_page(
    state: &AppState,
    session: &Session,
    slug: &str,
    typed: Option<&[(String, String)]>,
    errors: Vec<FieldError>,
    flash: Option<String>,
) -> PageResult {
    let org = state.accounts().org(session.caller.principal(), slug, Action::UpdateOrg).await?;
    let mail = state.ports.mailroom.mail_policy(&org.slug).await?;
    let failed = !errors.is_empty();
    let mut page = OrgPage {
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
        slack_channel: org.channel.unwrap_or_default(),
        email_tag: org.email_tag,
        tiers: tiers(state),
        deployments: DEPLOYMENTS,
        staff: staff(state).await?,
        errors,
        flash,
    };
    if let Some(form) = typed {
        page.name = value(form, "name");
        page.tier = value(form, "tier");
        page.deployment = value(form, "deployment");
        page.tam = value(form, "tam");
        page.named = values(form, "named_engineers");
        page.slack_channel = value(form, "slack_channel");
        page.email_tag = value(form, "email_tag");
        page.unknown_senders = value(form, "unknown_senders");
        page.accept_domains = value(form, "accept_domains");
        page.subject_severity = !value(form, "subject_severity").is_empty();
    }
    let mut response = render(&page)?;
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// What a change reports back in the address (`?done=…`).
#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
}

/// One org's form, with what was just done.
pub async fn org(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path(slug): Path<String>,
    Query(done): Query<Done>,
) -> PageResult {
    let flash = match done.done.as_deref() {
        Some("created") => {
            let org = state.accounts().org(session.caller.principal(), &slug, Action::UpdateOrg).await?;
            Some(format!("{} was created.", org.name))
        }
        Some("saved") => Some("Saved.".into()),
        _ => None,
    };
    org_page(&state, &session, &slug, None, Vec::new(), flash).await
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
    org_page(&state, &session, &slug, None, Vec::new(), Some(flash)).await
}

/// Saves the org (through the API's own change function): its fields, then its mail rules.
pub async fn save(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    PageForm(session, form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let change = OrgChange {
        name: Some(value(&form, "name")),
        tier: Some(value(&form, "tier")),
        deployment: deployment(&value(&form, "deployment")),
        tam: Some(Some(value(&form, "tam"))),
        named_engineers: Some(values(&form, "named_engineers")),
        channel: Some(Some(value(&form, "slack_channel"))),
        email_tag: Some(value(&form, "email_tag")),
    };
    let unknown_senders =
        if value(&form, "unknown_senders") == "accept" { UnknownSenders::Accept } else { UnknownSenders::Hold };
    let accept_domains =
        value(&form, "accept_domains").split([',', ' ']).filter(|s| !s.is_empty()).map(String::from).collect();
    let subject_severity = !value(&form, "subject_severity").is_empty();
    let mail = OrgMailPolicy { unknown_senders, subject_severity, accept_domains };
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
        Ok(()) => see_other(&format!("/admin/orgs/{slug}?done=saved")),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::CONFLICT => {
            org_page(&state, &session, &slug, Some(&form), vec![field_error(e.detail)], None).await
        }
        Err(e) => Err(e.into()),
    }
}
