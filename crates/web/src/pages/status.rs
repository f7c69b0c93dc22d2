//! The console's status pages: every page the staff member sees, and for one page its
//! components (status set in one click; name, description and group edited; moved up or
//! down; deleted), its open incidents and maintenance with an update form that also sets
//! components' statuses, and a form to open an incident or schedule maintenance. Every change goes through
//! the application ([`stringer_app::status::manage::StatusManager`]) as the API's do, so the
//! policy and the rules are the same at both doors; the console's ticket page offers to open an incident from a
//! P1 on a dedicated or federal tenant (see [`super::ticket_incident`]).

use super::session::{PageForm, Signed};
use super::{Nav, PageError, PageResult, render, see_other};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use stringer_app::status::manage::{ComponentChange, ComponentDraft, IncidentDraft, UpdateDraft};
use stringer_app::status::statuspage::phase_words;
use stringer_core::access::{Action, Object};
use stringer_core::status::{ComponentStatus, Impact, IncidentStatus, MaintenanceStatus, Phase};

#[derive(Template)]
#[template(path = "console_status_pages.html")]
struct PagesPage {
    nav: Nav,
    /// (id, name, whose, public address).
    pages: Vec<(String, String, String, String)>,
}

/// `/console/status`: the pages the staff member sees.
pub async fn pages(State(state): State<AppState>, Signed(session): Signed) -> PageResult {
    session.caller.may(Action::OpenConsole, Some(Object::Staff), "page")?;
    let pages = state.status_pages().visible_pages(session.caller.principal()).await?;
    let rows = pages
        .iter()
        .map(|p| {
            let whose = p.org.as_ref().map_or_else(|| "Everyone (public)".to_string(), |o| format!("{o} only"));
            (p.id.clone(), p.name.clone(), whose, p.url(&state.public_url))
        })
        .collect();
    render(&PagesPage { nav: Nav::of(&session), pages: rows })
}

struct ComponentRow {
    id: String,
    name: String,
    status: &'static str,
    /// Its status in words.
    words: &'static str,
    group: bool,
    in_group: bool,
    shared: bool,
    alert_key: String,
    /// The edit form's name, description and group: as stored, or as typed when refused.
    form: (String, String, String),
    /// Why its edit was just refused.
    error: Option<String>,
}

/// A component's edit form as typed, with the refusal beside its name.
pub struct ComponentEdit {
    id: String,
    name: String,
    description: String,
    group_id: String,
    error: String,
}

struct OpenRow {
    id: String,
    name: String,
    status: &'static str,
    /// Its status in words ("In progress").
    words: String,
    impact: &'static str,
    maintenance: bool,
    window: String,
    /// (status, body, when), newest first.
    updates: Vec<(String, String, String)>,
    /// The statuses it may move to, as (value, words).
    phases: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "console_status.html")]
struct StatusConsole {
    nav: Nav,
    page_id: String,
    page_name: String,
    public: String,
    components: Vec<ComponentRow>,
    groups: Vec<(String, String)>,
    /// (value, words) of each component status.
    status_words: Vec<(&'static str, &'static str)>,
    /// (value, words).
    impacts: Vec<(&'static str, &'static str)>,
    open: Vec<OpenRow>,
    flash: Option<String>,
    error: Option<String>,
}

/// What a change reports back in the address (`?done=…`).
#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
}

async fn show(
    state: &AppState,
    session: &super::session::Session,
    id: &str,
    flash: Option<String>,
    error: Option<String>,
) -> PageResult {
    shown(state, session, id, flash, error, None).await
}

async fn shown(
    state: &AppState,
    session: &super::session::Session,
    id: &str,
    flash: Option<String>,
    error: Option<String>,
    mut edit: Option<ComponentEdit>,
) -> PageResult {
    session.caller.may(Action::OpenConsole, Some(Object::Staff), "page")?;
    let (page, _) = state.status_pages().page_for(session.caller.principal(), id, Action::ViewStatusPage).await?;
    let desk = stringer_app::status::StatusDesk { pages: state.ports.status.clone() };
    let view = desk.view(page.clone(), state.now().as_second()).await.map_err(crate::error::ApiError::from)?;
    let tz = super::text::zone(session.caller.user().time_zone.as_deref());
    let instant =
        |at: i64| super::text::instant(jiff::Timestamp::from_second(at).unwrap_or(jiff::Timestamp::UNIX_EPOCH), &tz);
    let components: Vec<ComponentRow> = view
        .components
        .iter()
        .map(|c| {
            let typed = edit.take_if(|e| e.id == c.id);
            let form = match &typed {
                Some(e) => (e.name.clone(), e.description.clone(), e.group_id.clone()),
                None => {
                    (c.name.clone(), c.description.clone().unwrap_or_default(), c.group_id.clone().unwrap_or_default())
                }
            };
            ComponentRow {
                id: c.id.clone(),
                name: c.name.clone(),
                status: c.status.as_str(),
                words: c.status.words(),
                group: c.group,
                in_group: c.group_id.is_some(),
                shared: c.page_id != page.id,
                alert_key: c.alert_key.clone().unwrap_or_default(),
                form,
                error: typed.map(|e| e.error),
            }
        })
        .collect();
    let groups = view
        .components
        .iter()
        .filter(|c| c.group && c.page_id == page.id)
        .map(|c| (c.id.clone(), c.name.clone()))
        .collect();
    let open = view
        .incidents
        .iter()
        .chain(&view.maintenances)
        .filter(|i| i.page_id == page.id && !i.phase.is_over())
        .map(|i| OpenRow {
            id: i.id.clone(),
            name: i.name.clone(),
            status: i.phase.as_str(),
            words: phase_words(i.phase),
            impact: stringer_app::status::statuspage::impact(i),
            maintenance: i.phase.is_maintenance(),
            window: match (i.scheduled_for, i.scheduled_until) {
                (Some(from), Some(until)) => {
                    format!("{} – {}", instant(from), instant(until))
                }
                _ => String::new(),
            },
            updates: i.updates.iter().map(|u| (phase_words(u.phase), u.body.clone(), instant(u.created_at))).collect(),
            phases: if i.phase.is_maintenance() {
                MaintenanceStatus::ALL
                    .iter()
                    .map(|s| Phase::Maintenance(*s))
                    .map(|p| (p.as_str(), phase_words(p)))
                    .collect()
            } else {
                IncidentStatus::ALL.iter().map(|s| Phase::Incident(*s)).map(|p| (p.as_str(), phase_words(p))).collect()
            },
        })
        .collect();
    let failed = error.is_some() || components.iter().any(|c| c.error.is_some());
    let mut response = render(&StatusConsole {
        nav: Nav::of(session),
        page_id: page.id.clone(),
        page_name: page.name.clone(),
        public: page.url(&state.public_url),
        components,
        groups,
        status_words: ComponentStatus::ALL.iter().map(|s| (s.as_str(), s.words())).collect(),
        impacts: Impact::ALL.iter().map(|s| (s.as_str(), s.words())).collect(),
        open,
        flash,
        error,
    })?;
    if failed {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// `/console/status/{page}`.
pub async fn page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(done): Query<Done>,
    Signed(session): Signed,
) -> PageResult {
    show(&state, &session, &id, done.done, None).await
}

/// After a change: back to the page with what was done, or the page again with why not.
async fn after(
    state: &AppState,
    session: &super::session::Session,
    id: &str,
    result: Result<&str, ApiError>,
) -> PageResult {
    match result {
        Ok(done) => {
            let query = serde_urlencoded::to_string([("done", done)]).unwrap_or_default();
            see_other(&format!("/console/status/{id}?{query}"))
        }
        Err(e) if e.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY => {
            show(state, session, id, None, Some(PageError::from(e).message)).await
        }
        Err(e) => Err(e.into()),
    }
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.trim().is_empty())
}

/// Adds a component.
pub async fn add_component(
    State(state): State<AppState>,
    Path(id): Path<String>,
    PageForm(session, form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let draft = ComponentDraft {
        name: field(&form, "name").unwrap_or_default().to_string(),
        description: None,
        group_id: field(&form, "group_id").map(str::to_string),
        position: None,
        group: field(&form, "group") == Some("true"),
        only_show_if_degraded: false,
        showcase: true,
        status: "operational".into(),
        alert_key: field(&form, "alert_key").map(str::to_string),
    };
    let added = state.status_pages().add_component(session.caller.principal(), &id, draft).await;
    let result = added.map(|_| "Component added.").map_err(ApiError::from);
    after(&state, &session, &id, result).await
}

/// Changes a component's name, description and group (keeping its status and the rest); a
/// refusal is shown beside the name, with what was typed.
pub async fn edit_component(
    State(state): State<AppState>,
    Path((id, component)): Path<(String, String)>,
    PageForm(session, form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let who = session.caller.principal();
    let before = state.status_pages().components(who, &id).await?.into_iter().find(|c| c.id == component);
    let before = before.ok_or_else(|| PageError::not_found("component"))?;
    let typed = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string());
    let draft = ComponentDraft {
        name: typed("name").unwrap_or_default(),
        description: typed("description").filter(|d| !d.is_empty()),
        group_id: if before.group { None } else { typed("group_id").filter(|g| !g.is_empty()) },
        ..ComponentDraft::from(before.clone())
    };
    let edit = ComponentEdit {
        id: before.id.clone(),
        name: draft.name.clone(),
        description: draft.description.clone().unwrap_or_default(),
        group_id: draft.group_id.clone().unwrap_or_default(),
        error: String::new(),
    };
    match state.status_pages().change_component(who, &id, &component, draft).await.map_err(ApiError::from) {
        Ok(_) => after(&state, &session, &id, Ok("Component saved.")).await,
        Err(e) if e.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY => {
            let edit = ComponentEdit { error: PageError::from(e).message, ..edit };
            shown(&state, &session, &id, None, None, Some(edit)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Which way a component moves: "up" or "down".
#[derive(Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    direction: String,
}

/// Moves a component one place up or down among those beside it.
pub async fn move_component(
    State(state): State<AppState>,
    Path((id, component)): Path<(String, String)>,
    PageForm(session, form): PageForm<MoveForm>,
) -> PageResult {
    let up = match form.direction.as_str() {
        "up" => true,
        "down" => false,
        _ => return Err(PageError::bad_request("Move a component up or down.")),
    };
    let moved = state.status_pages().move_component(session.caller.principal(), &id, &component, up).await;
    let result = moved.map(|_| "Component moved.").map_err(ApiError::from);
    after(&state, &session, &id, result).await
}

/// Deletes a component from its page.
pub async fn delete_component(
    State(state): State<AppState>,
    Path((id, component)): Path<(String, String)>,
    PageForm(session, _): PageForm<serde::de::IgnoredAny>,
) -> PageResult {
    let deleted = state.status_pages().delete_component(session.caller.principal(), &id, &component).await?;
    let done = format!("{} was deleted.", deleted.name);
    let query = serde_urlencoded::to_string([("done", done)]).unwrap_or_default();
    see_other(&format!("/console/status/{id}?{query}"))
}

/// The status a component is set to.
#[derive(Deserialize)]
pub struct StatusForm {
    status: String,
}

/// Sets a component's status.
pub async fn set_component(
    State(state): State<AppState>,
    Path((id, component)): Path<(String, String)>,
    PageForm(session, form): PageForm<StatusForm>,
) -> PageResult {
    let set = state.status_pages().set_status(session.caller.principal(), &id, &component, &form.status).await;
    let result = set.map(|_| "Status set.").map_err(ApiError::from);
    after(&state, &session, &id, result).await
}

/// Opens an incident or schedules a maintenance.
pub async fn open(
    State(state): State<AppState>,
    Path(id): Path<String>,
    PageForm(session, form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let maintenance = field(&form, "kind") == Some("maintenance");
    let components = component_changes(&form);
    let draft = IncidentDraft {
        name: field(&form, "name").unwrap_or_default().to_string(),
        status: if maintenance { "scheduled".into() } else { "investigating".into() },
        impact: field(&form, "impact").map(str::to_string),
        body: field(&form, "body").unwrap_or_default().to_string(),
        components,
        scheduled_for: field(&form, "scheduled_for").map(str::to_string),
        scheduled_until: field(&form, "scheduled_until").map(str::to_string),
        maintenance,
    };
    let opened = state.status_pages().open_incident(session.caller.principal(), &id, draft).await;
    let result = opened.map(|_| "Published.").map_err(ApiError::from);
    after(&state, &session, &id, result).await
}

/// The components a form sets (`component.<id>` = a status; empty leaves one as it is).
fn component_changes(form: &[(String, String)]) -> Vec<ComponentChange> {
    form.iter()
        .filter_map(|(k, v)| {
            let id = k.strip_prefix("component.")?;
            (!v.is_empty()).then(|| ComponentChange { id: id.to_string(), status: Some(v.clone()) })
        })
        .collect()
}

/// Posts an update, with the components' new statuses it sets (one change).
pub async fn update(
    State(state): State<AppState>,
    Path((id, incident)): Path<(String, String)>,
    PageForm(session, form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let draft = UpdateDraft {
        status: field(&form, "status").unwrap_or_default().to_string(),
        body: field(&form, "body").unwrap_or_default().to_string(),
        components: component_changes(&form),
        impact: None,
    };
    let posted = state.status_pages().post_update(session.caller.principal(), &id, &incident, draft).await;
    let result = posted.map(|_| "Update posted.").map_err(ApiError::from);
    after(&state, &session, &id, result).await
}
