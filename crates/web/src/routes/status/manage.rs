//! Running status pages through `/api/v1/status-pages`: pages (name, host binding, zone),
//! components and groups, incidents and scheduled maintenances and their updates, and an
//! incident opened from a ticket. The use cases, with the policy's questions (reading needs
//! the page to be visible to the caller; every change is `ManageStatus`), are the
//! application's ([`stringer_app::status::manage::StatusManager`], which the console calls
//! too); incidents are answered in the shape of the public documents (Statuspage's incident
//! object).

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Body, PathParams};
use crate::reads::ticket_ref;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use stringer_app::status::manage::{self, ComponentDraft, IncidentDraft, PageChange, UpdateDraft};
use stringer_app::status::statuspage::{self as json, Urls};
use stringer_app::status::{ComponentRecord, IncidentRecord, PageRecord, StatusDesk};
use stringer_core::access::Action;
use utoipa::ToSchema;

/// A status page.
#[derive(Serialize, ToSchema)]
pub struct PageOut {
    /// Its id (`stp_…`).
    id: String,
    /// The org whose page it is; null for the public platform page.
    org: Option<String>,
    /// Its name.
    name: String,
    /// The host name it also answers at (its paths at the root).
    host: Option<String>,
    /// The IANA zone its days run in.
    time_zone: String,
    /// Its address.
    url: String,
}

fn page_out(state: &AppState, p: &PageRecord) -> PageOut {
    let url = p.url(&state.public_url);
    PageOut {
        id: p.id.clone(),
        org: p.org.as_ref().map(|o| o.0.clone()),
        name: p.name.clone(),
        host: p.host.clone(),
        time_zone: p.time_zone.clone(),
        url,
    }
}

fn desk(state: &AppState) -> StatusDesk {
    StatusDesk { pages: state.ports.status.clone() }
}

/// The status pages the caller may see: the public page, and each dedicated or federal
/// org's page (created with the org, or here for orgs made before pages existed).
#[utoipa::path(get, path = "/api/v1/status-pages", security(("bearer" = [])),
    responses((status = 200, body = [PageOut])))]
pub async fn list_pages(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<axum::Json<Vec<PageOut>>, ApiError> {
    let pages = state.status_pages().visible_pages(caller.principal()).await?;
    Ok(axum::Json(pages.iter().map(|p| page_out(&state, p)).collect()))
}

/// Changes to a page.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PagePatch {
    /// A new name.
    #[schema(pattern = r"\S")]
    name: Option<String>,
    /// A host name to bind it to (its paths then answer at that host's root); "" unbinds.
    /// Admins only; a DNS name of its own (no IP address, port, `localhost` or the server's
    /// own host).
    host: Option<String>,
    /// An IANA zone for its days.
    time_zone: Option<String>,
}

impl From<PagePatch> for PageChange {
    fn from(p: PagePatch) -> PageChange {
        PageChange { name: p.name, host: p.host, time_zone: p.time_zone }
    }
}

/// Renames a page, binds it to a host name (admins), or sets its zone.
#[utoipa::path(patch, path = "/api/v1/status-pages/{page}", security(("bearer" = [])), params(("page" = String, Path)),
    request_body = PagePatch,
    responses((status = 200, body = PageOut), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn update_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(patch): Body<PagePatch>,
) -> Result<axum::Json<PageOut>, ApiError> {
    let page = state.status_pages().change_page(caller.principal(), &id, patch.into()).await?;
    Ok(axum::Json(page_out(&state, &page)))
}

/// A component as read and written.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentIo {
    /// Its id (`stc_…`; ignored when creating).
    #[serde(default)]
    id: Option<String>,
    /// Its name.
    #[schema(pattern = r"\S")]
    name: String,
    /// What it is.
    #[serde(default)]
    description: Option<String>,
    /// The group it is in.
    #[serde(default)]
    #[schema(pattern = "^stc_[0-9A-HJKMNP-TV-Z]{26}$")]
    group_id: Option<String>,
    /// Its place on the page.
    #[serde(default)]
    position: Option<i64>,
    /// Whether it is a group (only when creating).
    #[serde(default)]
    group: bool,
    /// Shown only while not operational.
    #[serde(default)]
    only_show_if_degraded: bool,
    /// Shown with its uptime bar.
    #[serde(default = "yes")]
    showcase: bool,
    /// Its status: operational, degraded_performance, partial_outage, major_outage or
    /// under_maintenance.
    #[serde(default = "operational")]
    #[schema(pattern = "^(operational|degraded_performance|partial_outage|major_outage|under_maintenance)$")]
    status: String,
    /// An alert's dedup key (or Alertmanager alert name) that sets its status while the
    /// alert is triggered.
    #[serde(default)]
    alert_key: Option<String>,
}

impl From<ComponentIo> for ComponentDraft {
    fn from(io: ComponentIo) -> ComponentDraft {
        ComponentDraft {
            name: io.name,
            description: io.description,
            group_id: io.group_id,
            position: io.position,
            group: io.group,
            only_show_if_degraded: io.only_show_if_degraded,
            showcase: io.showcase,
            status: io.status,
            alert_key: io.alert_key,
        }
    }
}

fn yes() -> bool {
    true
}

fn operational() -> String {
    "operational".into()
}

fn component_io(c: ComponentRecord) -> ComponentIo {
    ComponentIo {
        id: Some(c.id),
        name: c.name,
        description: c.description,
        group_id: c.group_id,
        position: Some(c.position),
        group: c.group,
        only_show_if_degraded: c.only_show_if_degraded,
        showcase: c.showcase,
        status: c.status.as_str().into(),
        alert_key: c.alert_key,
    }
}

/// A page's own components and groups, by position.
#[utoipa::path(get, path = "/api/v1/status-pages/{page}/components", security(("bearer" = [])), params(("page" = String, Path)),
    responses((status = 200, body = [ComponentIo]), (status = 404, body = crate::error::Problem)))]
pub async fn list_components(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<Vec<ComponentIo>>, ApiError> {
    let components = state.status_pages().components(caller.principal(), &id).await?;
    Ok(axum::Json(components.into_iter().map(component_io).collect()))
}

/// Adds a component or a group to a page.
#[utoipa::path(post, path = "/api/v1/status-pages/{page}/components", security(("bearer" = [])), params(("page" = String, Path)),
    request_body = ComponentIo,
    responses((status = 201, body = ComponentIo), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn create_component(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(io): Body<ComponentIo>,
) -> Result<(StatusCode, axum::Json<ComponentIo>), ApiError> {
    let added = state.status_pages().add_component(caller.principal(), &id, io.into()).await?;
    Ok((StatusCode::CREATED, axum::Json(component_io(added))))
}

/// Changes a component: its name, place, settings and status.
#[utoipa::path(put, path = "/api/v1/status-pages/{page}/components/{component}", security(("bearer" = [])),
    params(("page" = String, Path), ("component" = String, Path)), request_body = ComponentIo,
    responses((status = 200, body = ComponentIo), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn update_component(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams((id, component)): PathParams<(String, String)>,
    Body(io): Body<ComponentIo>,
) -> Result<axum::Json<ComponentIo>, ApiError> {
    let changed = state.status_pages().change_component(caller.principal(), &id, &component, io.into()).await?;
    Ok(axum::Json(component_io(changed)))
}

/// Deletes a component of the page (with its status history; past updates keep its name as
/// it was; a group's members leave the group). A platform component shown on a tenant's page
/// is deleted on the platform's page only.
#[utoipa::path(delete, path = "/api/v1/status-pages/{page}/components/{component}", security(("bearer" = [])),
    params(("page" = String, Path), ("component" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
pub async fn delete_component(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams((id, component)): PathParams<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.status_pages().delete_component(caller.principal(), &id, &component).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Grants an integration key leave to set the page's components from its alerts (admins;
/// a tenant page's own org's keys need no grant, every other key does).
#[utoipa::path(put, path = "/api/v1/status-pages/{page}/alert-keys/{key}", security(("bearer" = [])),
    params(("page" = String, Path), ("key" = String, Path)),
    responses((status = 204), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn grant_alert_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams((id, key)): PathParams<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.status_pages().grant_alert_key(caller.principal(), &id, &key, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes back an integration key's leave to set the page's components.
#[utoipa::path(delete, path = "/api/v1/status-pages/{page}/alert-keys/{key}", security(("bearer" = [])),
    params(("page" = String, Path), ("key" = String, Path)),
    responses((status = 204), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn revoke_alert_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams((id, key)): PathParams<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.status_pages().grant_alert_key(caller.principal(), &id, &key, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A component an incident concerns, with the status it sets.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentChange {
    /// The component's id (of this page, or the platform's).
    #[schema(pattern = "^stc_[0-9A-HJKMNP-TV-Z]{26}$")]
    id: String,
    /// Its new status; left as is when absent.
    #[serde(default)]
    #[schema(pattern = "^(operational|degraded_performance|partial_outage|major_outage|under_maintenance)$")]
    status: Option<String>,
}

impl From<ComponentChange> for manage::ComponentChange {
    fn from(c: ComponentChange) -> manage::ComponentChange {
        manage::ComponentChange { id: c.id, status: c.status }
    }
}

fn changes(list: Vec<ComponentChange>) -> Vec<manage::ComponentChange> {
    list.into_iter().map(Into::into).collect()
}

/// A new incident or scheduled maintenance.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentIn {
    /// Its name.
    #[schema(pattern = r"\S")]
    name: String,
    /// An incident: investigating, identified, monitoring, resolved or postmortem; a
    /// maintenance: scheduled, in_progress, verifying or completed.
    #[schema(
        pattern = "^(investigating|identified|monitoring|resolved|postmortem|scheduled|in_progress|verifying|completed)$"
    )]
    status: String,
    /// none, minor, major or critical (default: none).
    #[serde(default)]
    #[schema(pattern = "^(none|minor|major|critical)$")]
    impact: Option<String>,
    /// The first update's words.
    #[schema(pattern = r"\S")]
    body: String,
    /// The components it concerns.
    #[serde(default)]
    components: Vec<ComponentChange>,
    /// A maintenance's planned start (RFC 3339); a maintenance needs both.
    #[serde(default)]
    #[schema(format = DateTime)]
    scheduled_for: Option<String>,
    /// A maintenance's planned end (RFC 3339).
    #[serde(default)]
    #[schema(format = DateTime)]
    scheduled_until: Option<String>,
    /// Whether this is a scheduled maintenance.
    #[serde(default)]
    maintenance: bool,
}

impl From<IncidentIn> for IncidentDraft {
    fn from(b: IncidentIn) -> IncidentDraft {
        IncidentDraft {
            name: b.name,
            status: b.status,
            impact: b.impact,
            body: b.body,
            components: changes(b.components),
            scheduled_for: b.scheduled_for,
            scheduled_until: b.scheduled_until,
            maintenance: b.maintenance,
        }
    }
}

/// An update of an incident or maintenance.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateIn {
    /// The status it moves to.
    #[schema(
        pattern = "^(investigating|identified|monitoring|resolved|postmortem|scheduled|in_progress|verifying|completed)$"
    )]
    status: String,
    /// Its words.
    #[schema(pattern = r"\S")]
    body: String,
    /// Components' new statuses (when empty: a resolved incident or completed maintenance
    /// gives its components back as operational, a maintenance in progress puts them under
    /// maintenance).
    #[serde(default)]
    components: Vec<ComponentChange>,
    /// A new impact.
    #[serde(default)]
    #[schema(pattern = "^(none|minor|major|critical)$")]
    impact: Option<String>,
}

impl From<UpdateIn> for UpdateDraft {
    fn from(b: UpdateIn) -> UpdateDraft {
        UpdateDraft { status: b.status, body: b.body, components: changes(b.components), impact: b.impact }
    }
}

/// An incident in the public documents' shape.
async fn incident_json(state: &AppState, page: PageRecord, incident: &IncidentRecord) -> Result<Value, ApiError> {
    let urls = Urls { page: page.url(&state.public_url) };
    let view = desk(state).view(page, state.now().as_second()).await?;
    Ok(json::incident(incident, &view, &urls, &view.zone()))
}

/// Opens an incident or announces a scheduled maintenance on a page.
#[utoipa::path(post, path = "/api/v1/status-pages/{page}/incidents", security(("bearer" = [])), params(("page" = String, Path)),
    request_body = IncidentIn,
    responses((status = 201, description = "The incident, in Statuspage's incident shape", body = Object),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn create_incident(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<IncidentIn>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let (page, incident) = state.status_pages().open_incident(caller.principal(), &id, body.into()).await?;
    Ok((StatusCode::CREATED, axum::Json(incident_json(&state, page, &incident).await?)))
}

/// A page's incidents or maintenances (`?maintenance=true`), newest first, in the public
/// documents' shape.
#[utoipa::path(get, path = "/api/v1/status-pages/{page}/incidents", security(("bearer" = [])), params(("page" = String, Path)),
    responses((status = 200, description = "Incidents in Statuspage's shape", body = Object), (status = 404, body = crate::error::Problem)))]
pub async fn list_incidents(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let (page, _) = state.status_pages().page_for(caller.principal(), &id, Action::ViewStatusPage).await?;
    let urls = Urls { page: page.url(&state.public_url) };
    let view = desk(&state).view(page, state.now().as_second()).await?;
    let doc = json::document("incidents.json", &view, &urls).unwrap_or_default();
    let mut maintenances = json::document("scheduled-maintenances.json", &view, &urls).unwrap_or_default();
    let mut doc = doc;
    doc["scheduled_maintenances"] = maintenances["scheduled_maintenances"].take();
    Ok(axum::Json(doc))
}

/// Adds an update to an incident or maintenance.
#[utoipa::path(post, path = "/api/v1/status-pages/{page}/incidents/{incident}/updates", security(("bearer" = [])),
    params(("page" = String, Path), ("incident" = String, Path)), request_body = UpdateIn,
    responses((status = 201, description = "The incident, in Statuspage's incident shape", body = Object),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn add_update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams((id, incident)): PathParams<(String, String)>,
    Body(body): Body<UpdateIn>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let (page, incident) = state.status_pages().post_update(caller.principal(), &id, &incident, body.into()).await?;
    Ok((StatusCode::CREATED, axum::Json(incident_json(&state, page, &incident).await?)))
}

/// An incident opened from a ticket.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FromTicket {
    /// Its name (default: the ticket's subject).
    #[serde(default)]
    #[schema(pattern = r"\S")]
    name: Option<String>,
    /// The first update's words (default: that the incident is being investigated).
    #[serde(default)]
    body: Option<String>,
    /// The components it concerns (default: every component of the org's own page, at the
    /// status the ticket's severity suggests).
    #[serde(default)]
    components: Option<Vec<ComponentChange>>,
    /// The impact (default: from the severity — the most severe is critical, then major,
    /// then minor).
    #[serde(default)]
    #[schema(pattern = "^(none|minor|major|critical)$")]
    impact: Option<String>,
}

impl From<FromTicket> for manage::FromTicket {
    fn from(b: FromTicket) -> manage::FromTicket {
        manage::FromTicket { name: b.name, body: b.body, components: b.components.map(changes), impact: b.impact }
    }
}

/// Opens an incident from a ticket, on its org's own status page (the public page for an
/// org on the shared platform), linked to the ticket.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/status-incident", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")),
    request_body = FromTicket,
    responses((status = 201, description = "The incident, in Statuspage's incident shape", body = Object),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn from_ticket(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<FromTicket>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let (page, incident) =
        state.status_pages().incident_from_ticket(caller.principal(), &ticket_ref(&id)?, body.into()).await?;
    Ok((StatusCode::CREATED, axum::Json(incident_json(&state, page, &incident).await?)))
}
