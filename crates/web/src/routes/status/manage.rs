//! Running status pages through `/api/v1/status-pages`: pages (name, host binding, zone),
//! components and groups, incidents and scheduled maintenances and their updates, and an
//! incident opened from a ticket. Reading needs the page to be visible to the caller; every
//! change is [`Action::ManageStatus`] (staff, on the pages of orgs they see). Incidents are
//! answered in the shape of the public documents (Statuspage's incident object).

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Body, PathParams};
use crate::ids::new_id;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use stringer_app::records::OrgRecord;
use stringer_app::status::statuspage::{self as json, Urls};
use stringer_app::status::{ComponentRecord, IncidentRecord, NewIncident, NewUpdate, PageRecord, StatusDesk};
use stringer_core::access::{Action, Object};
use stringer_core::ids::Deployment;
use stringer_core::status::{ComponentStatus, Impact, Phase};
use utoipa::ToSchema;

/// A status page.
#[derive(Serialize, ToSchema)]
pub struct PageOut {
    /// Its id (`stp_…`).
    pub(crate) id: String,
    /// The org whose page it is; null for the public platform page.
    pub(crate) org: Option<String>,
    /// Its name.
    pub(crate) name: String,
    /// The host name it also answers at (its paths at the root).
    pub(crate) host: Option<String>,
    /// The IANA zone its days run in.
    pub(crate) time_zone: String,
    /// Its address.
    pub(crate) url: String,
}

pub(crate) fn page_out(state: &AppState, p: &PageRecord) -> PageOut {
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

/// A page and its org, once the caller may take `action` on it (404 as for a missing page
/// otherwise).
pub(crate) async fn page_for(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: Action,
) -> Result<(PageRecord, Option<OrgRecord>), ApiError> {
    let page = state.ports.status.page(id).await?;
    let org = match page.as_ref().and_then(|p| p.org.as_ref()) {
        Some(slug) => state.ports.accounts.org(slug).await?,
        None => None,
    };
    let object = page.as_ref().map(|_| Object::StatusPage(org.as_ref().map(OrgRecord::as_ref)));
    caller.may(action, object, "status page")?;
    let page = page.ok_or_else(|| ApiError::not_found("status page"))?;
    Ok((page, org))
}

/// The status pages the caller may see: the public page, and each dedicated or federal
/// org's page (created with the org, or here for orgs made before pages existed).
#[utoipa::path(get, path = "/api/v1/status-pages", security(("bearer" = [])),
    responses((status = 200, body = [PageOut])))]
pub async fn list_pages(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<axum::Json<Vec<PageOut>>, ApiError> {
    let pages = visible_pages(&state, &caller).await?;
    Ok(axum::Json(pages.iter().map(|p| page_out(&state, p)).collect()))
}

/// The pages `caller` may see: the public page first, then each dedicated or federal org's
/// (created here for orgs made before pages existed).
pub(crate) async fn visible_pages(state: &AppState, caller: &Caller) -> Result<Vec<PageRecord>, ApiError> {
    caller.may_list(Action::ViewStatusPage)?;
    let now = state.now().as_second();
    let desk = desk(state);
    let mut out = vec![desk.platform_page(&super::platform_name(state), now).await?];
    for org in state.ports.accounts.orgs().await? {
        if org.deployment == Deployment::Shared
            || !caller.allowed(Action::ViewStatusPage, Some(Object::StatusPage(Some(org.as_ref()))))
        {
            continue;
        }
        if let Some(page) = desk.tenant_page(&org, now).await? {
            out.push(page);
        }
    }
    Ok(out)
}

/// Sets one component's status as `caller`, keeping everything else about it.
pub(crate) async fn set_status(
    state: &AppState,
    caller: &Caller,
    id: &str,
    component: &str,
    status: &str,
) -> Result<ComponentIo, ApiError> {
    let (page, _) = page_for(state, caller, id, Action::ManageStatus).await?;
    let existing = state.ports.status.components(std::slice::from_ref(&page.id)).await?;
    let Some(before) = existing.into_iter().find(|c| c.id == component) else {
        return Err(ApiError::not_found("component"));
    };
    let io = ComponentIo { status: status.to_string(), ..component_io(before) };
    change_component(state, caller, id, component, io).await
}

/// Changes to a page.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PagePatch {
    /// A new name.
    name: Option<String>,
    /// A host name to bind it to (its paths then answer at that host's root); "" unbinds.
    host: Option<String>,
    /// An IANA zone for its days.
    time_zone: Option<String>,
}

/// Whether `host` is a host name (letters, digits, hyphens, dots; at most 253).
fn host_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Renames a page, binds it to a host name, or sets its zone.
#[utoipa::path(patch, path = "/api/v1/status-pages/{page}", security(("bearer" = [])), params(("page" = String, Path)),
    request_body = PagePatch,
    responses((status = 200, body = PageOut), (status = 404, body = crate::routes::Problem), (status = 409, body = crate::routes::Problem)))]
pub async fn update_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(patch): Body<PagePatch>,
) -> Result<axum::Json<PageOut>, ApiError> {
    let (mut page, _) = page_for(&state, &caller, &id, Action::ManageStatus).await?;
    if let Some(name) = patch.name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > stringer_app::status::MAX_NAME {
            return Err(ApiError::unprocessable("a page's name is 1 to 200 characters"));
        }
        page.name = name.to_string();
    }
    if let Some(host) = patch.host {
        let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
        if !host.is_empty() && !host_name(&host) {
            return Err(ApiError::unprocessable("host is a host name such as status.vendor.example"));
        }
        page.host = (!host.is_empty()).then_some(host);
    }
    if let Some(zone) = patch.time_zone {
        if jiff::tz::TimeZone::get(&zone).is_err() {
            return Err(ApiError::unprocessable(format!("unknown time zone {zone:?}")));
        }
        page.time_zone = zone;
    }
    page.updated_at = state.now().as_second();
    state.ports.status.update_page(&page).await?;
    state.status.clear();
    Ok(axum::Json(page_out(&state, &page)))
}

/// A component as read and written.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentIo {
    /// Its id (`stc_…`; ignored when creating).
    #[serde(default)]
    pub(crate) id: Option<String>,
    /// Its name.
    pub(crate) name: String,
    /// What it is.
    #[serde(default)]
    pub(crate) description: Option<String>,
    /// The group it is in.
    #[serde(default)]
    pub(crate) group_id: Option<String>,
    /// Its place on the page.
    #[serde(default)]
    pub(crate) position: Option<i64>,
    /// Whether it is a group (only when creating).
    #[serde(default)]
    pub(crate) group: bool,
    /// Shown only while not operational.
    #[serde(default)]
    pub(crate) only_show_if_degraded: bool,
    /// Shown with its uptime bar.
    #[serde(default = "yes")]
    pub(crate) showcase: bool,
    /// Its status: operational, degraded_performance, partial_outage, major_outage or
    /// under_maintenance.
    #[serde(default = "operational")]
    pub(crate) status: String,
    /// An alert's dedup key (or Alertmanager alert name) that sets its status while the
    /// alert is triggered.
    #[serde(default)]
    pub(crate) alert_key: Option<String>,
}

fn yes() -> bool {
    true
}

fn operational() -> String {
    "operational".into()
}

fn component_status(name: &str) -> Result<ComponentStatus, ApiError> {
    ComponentStatus::parse(name).ok_or_else(|| {
        ApiError::unprocessable(
            "a component's status is operational, degraded_performance, partial_outage, major_outage or under_maintenance",
        )
    })
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

fn record(io: ComponentIo, id: String, page: &PageRecord, position: i64) -> Result<ComponentRecord, ApiError> {
    Ok(ComponentRecord {
        id,
        page_id: page.id.clone(),
        group_id: io.group_id,
        name: io.name.trim().to_string(),
        description: io.description.filter(|d| !d.trim().is_empty()),
        position: io.position.unwrap_or(position),
        group: io.group,
        only_show_if_degraded: io.only_show_if_degraded,
        showcase: io.showcase,
        status: component_status(&io.status)?,
        alert_key: io.alert_key.map(|k| k.trim().to_string()).filter(|k| !k.is_empty()),
        created_at: 0,
        updated_at: 0,
    })
}

/// A page's own components and groups, by position.
#[utoipa::path(get, path = "/api/v1/status-pages/{page}/components", security(("bearer" = [])), params(("page" = String, Path)),
    responses((status = 200, body = [ComponentIo]), (status = 404, body = crate::routes::Problem)))]
pub async fn list_components(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<Vec<ComponentIo>>, ApiError> {
    let (page, _) = page_for(&state, &caller, &id, Action::ViewStatusPage).await?;
    let components = state.ports.status.components(std::slice::from_ref(&page.id)).await?;
    Ok(axum::Json(components.into_iter().map(component_io).collect()))
}

/// Adds a component or a group to a page.
#[utoipa::path(post, path = "/api/v1/status-pages/{page}/components", security(("bearer" = [])), params(("page" = String, Path)),
    request_body = ComponentIo,
    responses((status = 201, body = ComponentIo), (status = 404, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn create_component(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(io): Body<ComponentIo>,
) -> Result<(StatusCode, axum::Json<ComponentIo>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(add_component(&state, &caller, &id, io).await?)))
}

/// Adds a component or group to page `id` as `caller` (the API and the console alike).
pub(crate) async fn add_component(
    state: &AppState,
    caller: &Caller,
    id: &str,
    io: ComponentIo,
) -> Result<ComponentIo, ApiError> {
    let (page, _) = page_for(state, caller, id, Action::ManageStatus).await?;
    let count = state.ports.status.components(std::slice::from_ref(&page.id)).await?.len() as i64;
    let component = record(io, new_id("stc"), &page, count + 1)?;
    let saved = desk(state).add_component(&page, component, state.now().as_second()).await?;
    state.status.clear();
    Ok(component_io(saved))
}

/// Changes a component: its name, place, settings and status.
#[utoipa::path(put, path = "/api/v1/status-pages/{page}/components/{component}", security(("bearer" = [])),
    params(("page" = String, Path), ("component" = String, Path)), request_body = ComponentIo,
    responses((status = 200, body = ComponentIo), (status = 404, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn update_component(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams((id, component)): PathParams<(String, String)>,
    Body(io): Body<ComponentIo>,
) -> Result<axum::Json<ComponentIo>, ApiError> {
    Ok(axum::Json(change_component(&state, &caller, &id, &component, io).await?))
}

/// Changes component `component` of page `id` as `caller` (the API and the console alike).
pub(crate) async fn change_component(
    state: &AppState,
    caller: &Caller,
    id: &str,
    component: &str,
    io: ComponentIo,
) -> Result<ComponentIo, ApiError> {
    let (page, _) = page_for(state, caller, id, Action::ManageStatus).await?;
    let existing = state.ports.status.components(std::slice::from_ref(&page.id)).await?;
    let Some(before) = existing.into_iter().find(|c| c.id == component) else {
        return Err(ApiError::not_found("component"));
    };
    let mut changed = record(io, before.id.clone(), &page, before.position)?;
    changed.created_at = before.created_at;
    let saved = desk(state).update_component(&page, changed, state.now().as_second()).await?;
    state.status.clear();
    Ok(component_io(saved))
}

/// A component an incident concerns, with the status it sets.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentChange {
    /// The component's id (of this page, or the platform's).
    pub(crate) id: String,
    /// Its new status; left as is when absent.
    #[serde(default)]
    pub(crate) status: Option<String>,
}

/// A new incident or scheduled maintenance.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentIn {
    /// Its name.
    pub(crate) name: String,
    /// An incident: investigating, identified, monitoring, resolved or postmortem; a
    /// maintenance: scheduled, in_progress, verifying or completed.
    pub(crate) status: String,
    /// none, minor, major or critical (default: none).
    #[serde(default)]
    pub(crate) impact: Option<String>,
    /// The first update's words.
    pub(crate) body: String,
    /// The components it concerns.
    #[serde(default)]
    pub(crate) components: Vec<ComponentChange>,
    /// A maintenance's planned start (RFC 3339); a maintenance needs both.
    #[serde(default)]
    pub(crate) scheduled_for: Option<String>,
    /// A maintenance's planned end (RFC 3339).
    #[serde(default)]
    pub(crate) scheduled_until: Option<String>,
    /// Whether this is a scheduled maintenance.
    #[serde(default)]
    pub(crate) maintenance: bool,
}

/// An update of an incident or maintenance.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateIn {
    /// The status it moves to.
    pub(crate) status: String,
    /// Its words.
    pub(crate) body: String,
    /// Components' new statuses (when empty: a resolved incident or completed maintenance
    /// gives its components back as operational, a maintenance in progress puts them under
    /// maintenance).
    #[serde(default)]
    pub(crate) components: Vec<ComponentChange>,
    /// A new impact.
    #[serde(default)]
    pub(crate) impact: Option<String>,
}

fn impact(name: Option<&str>) -> Result<Option<Impact>, ApiError> {
    name.map(|n| Impact::parse(n).ok_or_else(|| ApiError::unprocessable("impact is none, minor, major or critical")))
        .transpose()
}

fn phase(maintenance: bool, name: &str) -> Result<Phase, ApiError> {
    Phase::parse(maintenance, name).ok_or_else(|| {
        ApiError::unprocessable(if maintenance {
            "a maintenance's status is scheduled, in_progress, verifying or completed"
        } else {
            "an incident's status is investigating, identified, monitoring, resolved or postmortem"
        })
    })
}

fn instant(what: &str, text: Option<&str>) -> Result<Option<i64>, ApiError> {
    text.map(|t| {
        t.parse::<jiff::Timestamp>()
            .map(|ts| ts.as_second())
            .map_err(|_| ApiError::unprocessable(format!("{what} is an RFC 3339 instant, e.g. 2026-12-24T02:00:00Z")))
    })
    .transpose()
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
        (status = 404, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn create_incident(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<IncidentIn>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let (page, incident) = open_incident(&state, &caller, &id, body).await?;
    Ok((StatusCode::CREATED, axum::Json(incident_json(&state, page, &incident).await?)))
}

/// Opens an incident or announces a maintenance on page `id` as `caller` (the API and the
/// console alike).
pub(crate) async fn open_incident(
    state: &AppState,
    caller: &Caller,
    id: &str,
    body: IncidentIn,
) -> Result<(PageRecord, IncidentRecord), ApiError> {
    let (page, _) = page_for(state, caller, id, Action::ManageStatus).await?;
    let incident = open(state, &page, body, None).await?;
    Ok((page, incident))
}

async fn open(
    state: &AppState,
    page: &PageRecord,
    body: IncidentIn,
    ticket: Option<stringer_core::ids::TicketId>,
) -> Result<IncidentRecord, ApiError> {
    let from = instant("scheduled_for", body.scheduled_for.as_deref())?;
    let until = instant("scheduled_until", body.scheduled_until.as_deref())?;
    let components = body
        .components
        .iter()
        .map(|c| Ok((c.id.clone(), c.status.as_deref().map(component_status).transpose()?)))
        .collect::<Result<Vec<_>, ApiError>>()?;
    let new = NewIncident {
        id: new_id("sti"),
        update_id: new_id("stu"),
        name: body.name,
        phase: phase(body.maintenance, &body.status)?,
        impact: impact(body.impact.as_deref())?.unwrap_or(Impact::None),
        body: body.body,
        components,
        window: from.zip(until),
        ticket,
    };
    if body.maintenance && new.window.is_none() {
        return Err(ApiError::unprocessable("a maintenance needs scheduled_for and scheduled_until"));
    }
    let incident = desk(state).open(page, new, state.now().as_second()).await?;
    state.status.clear();
    Ok(incident)
}

/// A page's incidents or maintenances (`?maintenance=true`), newest first, in the public
/// documents' shape.
#[utoipa::path(get, path = "/api/v1/status-pages/{page}/incidents", security(("bearer" = [])), params(("page" = String, Path)),
    responses((status = 200, description = "Incidents in Statuspage's shape", body = Object), (status = 404, body = crate::routes::Problem)))]
pub async fn list_incidents(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let (page, _) = page_for(&state, &caller, &id, Action::ViewStatusPage).await?;
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
        (status = 404, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn add_update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams((id, incident)): PathParams<(String, String)>,
    Body(body): Body<UpdateIn>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let (page, incident) = post_update(&state, &caller, &id, &incident, body).await?;
    Ok((StatusCode::CREATED, axum::Json(incident_json(&state, page, &incident).await?)))
}

/// Adds an update to incident `incident` of page `id` as `caller` (the API and the console
/// alike).
pub(crate) async fn post_update(
    state: &AppState,
    caller: &Caller,
    id: &str,
    incident: &str,
    body: UpdateIn,
) -> Result<(PageRecord, IncidentRecord), ApiError> {
    let (page, _) = page_for(state, caller, id, Action::ManageStatus).await?;
    let Some(existing) = state.ports.status.incident(incident).await?.filter(|i| i.page_id == page.id) else {
        return Err(ApiError::not_found("incident"));
    };
    let components = body
        .components
        .iter()
        .map(|c| {
            let status =
                c.status.as_deref().ok_or_else(|| ApiError::unprocessable("an update's component needs a status"))?;
            Ok((c.id.clone(), component_status(status)?))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let update = NewUpdate {
        id: new_id("stu"),
        phase: phase(existing.phase.is_maintenance(), &body.status)?,
        body: body.body,
        components,
        impact: impact(body.impact.as_deref())?,
    };
    let incident = desk(state).update(&page, &existing.id, update, state.now().as_second()).await?;
    state.status.clear();
    Ok((page, incident))
}

/// An incident opened from a ticket.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FromTicket {
    /// Its name (default: the ticket's subject).
    #[serde(default)]
    pub(crate) name: Option<String>,
    /// The first update's words (default: that the incident is being investigated).
    #[serde(default)]
    pub(crate) body: Option<String>,
    /// The components it concerns (default: every component of the org's own page, at the
    /// status the ticket's severity suggests).
    #[serde(default)]
    pub(crate) components: Option<Vec<ComponentChange>>,
    /// The impact (default: from the severity — the most severe is critical, then major,
    /// then minor).
    #[serde(default)]
    pub(crate) impact: Option<String>,
}

/// What a ticket's severity suggests for an incident: the most severe is critical (its
/// components a major outage), the next major (a partial outage), then minor (degraded).
pub fn suggested(rank: usize) -> (Impact, ComponentStatus) {
    match rank {
        0 => (Impact::Critical, ComponentStatus::MajorOutage),
        1 => (Impact::Major, ComponentStatus::PartialOutage),
        _ => (Impact::Minor, ComponentStatus::DegradedPerformance),
    }
}

/// Opens an incident from a ticket, on its org's own status page (the public page for an
/// org on the shared platform), linked to the ticket.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/status-incident", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = FromTicket,
    responses((status = 201, description = "The incident, in Statuspage's incident shape", body = Object),
        (status = 404, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn from_ticket(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<FromTicket>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let (page, incident) = incident_from_ticket(&state, &caller, &id, body).await?;
    Ok((StatusCode::CREATED, axum::Json(incident_json(&state, page, &incident).await?)))
}

/// Opens an incident from ticket `id` as `caller` (the API and the console alike).
pub(crate) async fn incident_from_ticket(
    state: &AppState,
    caller: &Caller,
    id: &str,
    body: FromTicket,
) -> Result<(PageRecord, IncidentRecord), ApiError> {
    let found = crate::reads::ticket_for(state, caller, id, &[Action::ReadInternal]).await?;
    let ticket = &found.ticket;
    let org = state.ports.accounts.org(&ticket.org).await?.ok_or_else(|| ApiError::not_found("org"))?;
    let now = state.now().as_second();
    let desk = desk(state);
    let page = match desk.tenant_page(&org, now).await? {
        Some(page) => page,
        None => desk.platform_page(&super::platform_name(state), now).await?,
    };
    caller.may(
        Action::ManageStatus,
        Some(Object::StatusPage(page.org.as_ref().map(|_| org.as_ref()))),
        "status page",
    )?;
    let rank = state.contract().severities.get_index_of(&ticket.state.severity).unwrap_or(usize::MAX);
    let (default_impact, default_status) = suggested(rank);
    let components = match body.components {
        Some(list) => list,
        None if page.org.is_some() => state
            .ports
            .status
            .components(std::slice::from_ref(&page.id))
            .await?
            .into_iter()
            .filter(|c| !c.group)
            .map(|c| ComponentChange { id: c.id, status: Some(default_status.as_str().into()) })
            .collect(),
        None => Vec::new(),
    };
    let input = IncidentIn {
        name: body.name.unwrap_or_else(|| ticket.subject.clone()),
        status: "investigating".into(),
        impact: Some(body.impact.unwrap_or_else(|| default_impact.as_str().into())),
        body: body.body.unwrap_or_else(|| "We are investigating this issue.".into()),
        components,
        scheduled_for: None,
        scheduled_until: None,
        maintenance: false,
    };
    let incident = open(state, &page, input, Some(ticket.id.clone())).await?;
    Ok((page, incident))
}
