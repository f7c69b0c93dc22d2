//! On-call schedules: create, read, who is on call, shifts, overrides, and the secret-URL
//! iCalendar feeds (per schedule and per user).

use super::accounts::Items;
use crate::AppState;
use crate::auth::{Caller, token_hash};
use crate::error::ApiError;
use crate::extract::{Body, Params, PathParams};
use crate::ics;
use crate::shown_once::ShownOnce;
use axum::Extension;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use stringer_app::records::ScheduleRecord;
use stringer_core::access::Action;
use stringer_core::ids::UserId;
use stringer_core::oncall::{LayerSpec, Override, Schedule, ScheduleSpec, Source};
use utoipa::ToSchema;

/// How far back and ahead a calendar feed reaches.
const FEED_PAST_DAYS: i64 = 7;
const FEED_AHEAD_DAYS: i64 = 60;

/// A schedule as shown.
#[derive(Serialize, ToSchema)]
pub struct ScheduleView {
    id: String,
    name: String,
    /// The org it serves; absent for the platform-wide schedule.
    org: Option<String>,
    /// Layers and overrides, as written.
    spec: ScheduleSpec,
}

impl From<ScheduleRecord> for ScheduleView {
    fn from(s: ScheduleRecord) -> ScheduleView {
        ScheduleView { id: s.id, name: s.name, org: s.org.map(|o| o.0), spec: s.spec }
    }
}

/// A new schedule; its feed URL is shown this once.
#[derive(Serialize, ToSchema)]
pub struct NewScheduleView {
    #[serde(flatten)]
    schedule: ScheduleView,
    /// The secret iCalendar feed path.
    ics_path: String,
}

/// A schedule to create (admins and support leads).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSchedule {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    /// The org whose named engineers it rotates; omit for the platform-wide schedule.
    #[schema(pattern = "^[a-z0-9][a-z0-9-]{1,39}$")]
    org: Option<String>,
    /// Rotation layers, later ones taking precedence where their restriction applies.
    #[schema(min_items = 1)]
    layers: Vec<LayerSpec>,
}

/// Creates a schedule.
#[utoipa::path(post, path = "/api/v1/schedules", security(("bearer" = [])), request_body = CreateSchedule,
    responses((status = 201, body = NewScheduleView), (status = 422, body = crate::error::Problem)))]
pub async fn create_schedule(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<CreateSchedule>,
) -> Result<impl IntoResponse, ApiError> {
    let (record, secret) =
        state.schedules().create(caller.principal(), &body.name, body.org.as_deref(), body.layers).await?;
    let ics_path = format!("/ical/schedules/{}.ics?token={secret}", record.id);
    Ok(ShownOnce { id: record.id.clone(), view: NewScheduleView { schedule: record.into(), ics_path } })
}

/// Schedules the caller may see (staff).
#[utoipa::path(get, path = "/api/v1/schedules", security(("bearer" = [])), responses((status = 200, body = Items<ScheduleView>)))]
pub async fn list_schedules(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<axum::Json<Items<ScheduleView>>, ApiError> {
    caller.may_list(Action::ReadSchedule)?;
    let items = state.schedules().list(caller.principal()).await?.into_iter().map(|(s, _)| s.into()).collect();
    Ok(axum::Json(Items { items }))
}

/// One schedule.
#[utoipa::path(get, path = "/api/v1/schedules/{id}", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^sch_[0-9A-HJKMNP-TV-Z]{26}$")),
    responses((status = 200, body = ScheduleView), (status = 404, body = crate::error::Problem)))]
pub async fn get_schedule(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<ScheduleView>, ApiError> {
    Ok(axum::Json(state.schedules().get(caller.principal(), &id, Action::ReadSchedule).await?.0.into()))
}

/// An instant to ask about (default: now).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AtQuery {
    /// RFC 3339.
    #[param(format = DateTime)]
    at: Option<String>,
}

/// Who is on call.
#[derive(Serialize, ToSchema)]
pub struct OnCallView {
    at: String,
    /// The user on call; absent when nobody is.
    user: Option<String>,
    /// "layer N" or "override ID".
    source: Option<String>,
}

fn instant(s: &str, what: &str) -> Result<Timestamp, ApiError> {
    crate::ids::parse_instant(s)
        .ok_or_else(|| ApiError::bad_request(format!("{what}: an RFC 3339 instant such as 2026-11-27T09:00:00Z")))
}

fn source_name(s: &Source) -> String {
    match s {
        Source::Layer(i) => format!("layer {i}"),
        Source::Override(id) => format!("override {id}"),
    }
}

/// Who is on call now, or at `at`.
#[utoipa::path(get, path = "/api/v1/schedules/{id}/on-call", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^sch_[0-9A-HJKMNP-TV-Z]{26}$"), AtQuery),
    responses((status = 200, body = OnCallView), (status = 404, body = crate::error::Problem)))]
pub async fn on_call(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Params(q): Params<AtQuery>,
) -> Result<axum::Json<OnCallView>, ApiError> {
    let (s, _) = state.schedules().get(caller.principal(), &id, Action::ReadSchedule).await?;
    let at = q.at.as_deref().map(|a| instant(a, "at")).transpose()?.unwrap_or_else(|| state.now());
    let schedule = Schedule::compile(&s.spec).map_err(|e| ApiError::conflict(e.to_string()))?;
    let found = schedule.assignment_at(at);
    Ok(axum::Json(OnCallView {
        at: at.to_string(),
        user: found.as_ref().map(|(u, _)| u.to_string()),
        source: found.map(|(_, s)| source_name(&s)),
    }))
}

/// A window of shifts.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WindowQuery {
    /// RFC 3339 start.
    #[param(format = DateTime)]
    from: String,
    /// RFC 3339 end (at most 366 days after `from`).
    #[param(format = DateTime)]
    to: String,
}

/// One shift.
#[derive(Serialize, ToSchema)]
pub struct ShiftView {
    start: String,
    end: String,
    user: String,
    source: String,
}

/// The final on-call timeline of a window.
#[utoipa::path(get, path = "/api/v1/schedules/{id}/shifts", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^sch_[0-9A-HJKMNP-TV-Z]{26}$"), WindowQuery),
    responses((status = 200, body = Items<ShiftView>), (status = 400, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn shifts(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Params(q): Params<WindowQuery>,
) -> Result<axum::Json<Items<ShiftView>>, ApiError> {
    let (s, _) = state.schedules().get(caller.principal(), &id, Action::ReadSchedule).await?;
    let schedule = Schedule::compile(&s.spec).map_err(|e| ApiError::conflict(e.to_string()))?;
    let list = schedule
        .shifts(instant(&q.from, "from")?, instant(&q.to, "to")?)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let items = list
        .into_iter()
        .map(|sh| ShiftView {
            start: sh.start.to_string(),
            end: sh.end.to_string(),
            user: sh.user,
            source: source_name(&sh.source),
        })
        .collect();
    Ok(axum::Json(Items { items }))
}

/// An override to add.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddOverride {
    /// RFC 3339.
    #[schema(format = DateTime)]
    from: String,
    /// RFC 3339, after `from`, at most 90 days later.
    #[schema(format = DateTime)]
    to: String,
    /// The staff user on call instead.
    #[schema(pattern = "^usr_[0-9A-HJKMNP-TV-Z]{26}$")]
    user: String,
}

/// A user to put on an existing override.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceOverride {
    #[schema(pattern = "^usr_[0-9A-HJKMNP-TV-Z]{26}$")]
    user: String,
}

/// Adds an override; one overlapping another is refused (409) naming that override.
#[utoipa::path(post, path = "/api/v1/schedules/{id}/overrides", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^sch_[0-9A-HJKMNP-TV-Z]{26}$")), request_body = AddOverride,
    responses((status = 201, body = ScheduleView), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub async fn add_override(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<AddOverride>,
) -> Result<impl IntoResponse, ApiError> {
    let o = Override {
        id: state.schedules().new_override_id(),
        from: instant(&body.from, "from")?,
        to: instant(&body.to, "to")?,
        user: body.user,
    };
    let view = state.schedules().add_override(caller.principal(), &id, o).await?;
    Ok((StatusCode::CREATED, axum::Json(ScheduleView::from(view))))
}

/// Puts another user on an override.
#[utoipa::path(put, path = "/api/v1/schedules/{id}/overrides/{override_id}", security(("bearer" = [])),
    params(("id" = String, Path, pattern = r"^sch_[0-9A-HJKMNP-TV-Z]{26}$"), ("override_id" = String, Path)), request_body = ReplaceOverride,
    responses((status = 200, body = ScheduleView), (status = 404, body = crate::error::Problem)))]
pub async fn replace_override(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams((id, override_id)): PathParams<(String, String)>,
    Body(body): Body<ReplaceOverride>,
) -> Result<axum::Json<ScheduleView>, ApiError> {
    let view = state.schedules().replace_override(caller.principal(), &id, &override_id, &body.user).await?;
    Ok(axum::Json(view.into()))
}

/// Removes an override.
#[utoipa::path(delete, path = "/api/v1/schedules/{id}/overrides/{override_id}", security(("bearer" = [])),
    params(("id" = String, Path, pattern = r"^sch_[0-9A-HJKMNP-TV-Z]{26}$"), ("override_id" = String, Path)),
    responses((status = 200, body = ScheduleView), (status = 404, body = crate::error::Problem)))]
pub async fn remove_override(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams((id, override_id)): PathParams<(String, String)>,
) -> Result<axum::Json<ScheduleView>, ApiError> {
    let view = state.schedules().remove_override(caller.principal(), &id, &override_id).await?;
    Ok(axum::Json(view.into()))
}

/// A user's calendar feed path, with a new secret (the old one stops working).
#[derive(Serialize, ToSchema)]
pub struct FeedView {
    ics_path: String,
}

/// Issues a new secret calendar-feed URL for a staff user's shifts (themself or an admin).
#[utoipa::path(post, path = "/api/v1/users/{id}/calendar-feed", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^usr_[0-9A-HJKMNP-TV-Z]{26}$")),
    responses((status = 201, body = FeedView), (status = 404, body = crate::error::Problem)))]
pub async fn user_feed(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<impl IntoResponse, ApiError> {
    let view = FeedView { ics_path: state.paging().new_calendar_feed(caller.principal(), &id).await? };
    Ok(ShownOnce { id, view })
}

/// The `token` of a feed URL.
#[derive(Deserialize)]
pub struct FeedQuery {
    token: String,
}

fn same_hash(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn feed_window(state: &AppState) -> (Timestamp, Timestamp) {
    let now = state.now();
    (now - SignedDuration::from_hours(24 * FEED_PAST_DAYS), now + SignedDuration::from_hours(24 * FEED_AHEAD_DAYS))
}

fn calendar_response(body: String) -> axum::response::Response {
    ([(header::CONTENT_TYPE, "text/calendar; charset=utf-8")], body).into_response()
}

/// `GET /ical/schedules/{id}.ics?token=…`: the schedule's shifts, a week back to 60 days ahead.
pub async fn schedule_feed(
    State(state): State<AppState>,
    PathParams(file): PathParams<String>,
    Params(q): Params<FeedQuery>,
) -> Result<axum::response::Response, ApiError> {
    let id = file.strip_suffix(".ics").unwrap_or_default();
    let s = state
        .ports
        .oncall
        .schedule(id)
        .await?
        .filter(|s| same_hash(&s.ics_secret_hash, &token_hash(&q.token)))
        .ok_or_else(|| ApiError::not_found("calendar"))?;
    let schedule = Schedule::compile(&s.spec).map_err(|e| ApiError::conflict(e.to_string()))?;
    let (from, to) = feed_window(&state);
    let list = schedule.shifts(from, to).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let names =
        stringer_app::ports::names(state.ports.accounts.as_ref(), list.iter().map(|sh| sh.user.as_str())).await?;
    let titles: Vec<String> = list
        .iter()
        .map(|sh| format!("On call: {} ({})", names.get(sh.user.as_str()).unwrap_or(&sh.user), s.name))
        .collect();
    let events: Vec<ics::Event<'_>> = list
        .iter()
        .zip(&titles)
        .map(|(sh, title)| ics::Event {
            uid: format!("{}-{}@stringer", s.id, sh.start.as_second()),
            start: sh.start,
            end: sh.end,
            summary: title,
        })
        .collect();
    Ok(calendar_response(ics::calendar(&s.name, &events, state.now())))
}

/// `GET /ical/users/{id}.ics?token=…`: the user's shifts across every schedule.
pub async fn user_feed_ics(
    State(state): State<AppState>,
    PathParams(file): PathParams<String>,
    Params(q): Params<FeedQuery>,
) -> Result<axum::response::Response, ApiError> {
    let id = file.strip_suffix(".ics").unwrap_or_default();
    let stored = state.ports.oncall.user_ics_secret(&UserId::from(id)).await?;
    if !stored.is_some_and(|h| same_hash(&h, &token_hash(&q.token))) {
        return Err(ApiError::not_found("calendar"));
    }
    let (from, to) = feed_window(&state);
    let mut mine = Vec::new();
    for s in state.ports.oncall.schedules().await? {
        let Ok(schedule) = Schedule::compile(&s.spec) else { continue };
        for sh in schedule.shifts(from, to).unwrap_or_default().into_iter().filter(|sh| sh.user == id) {
            mine.push((
                format!("{}-{}-{id}@stringer", s.id, sh.start.as_second()),
                sh.start,
                sh.end,
                format!("On call: {}", s.name),
            ));
        }
    }
    mine.sort_by_key(|m| m.1);
    let events: Vec<ics::Event<'_>> = mine
        .iter()
        .map(|(uid, start, end, title)| ics::Event { uid: uid.clone(), start: *start, end: *end, summary: title })
        .collect();
    Ok(calendar_response(ics::calendar("My on-call shifts", &events, state.now())))
}
