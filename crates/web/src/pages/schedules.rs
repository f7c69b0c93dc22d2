//! The console's schedules: every schedule one may see with who is on call now; for those
//! the policy lets manage them, a new schedule, its layers (a rotation of members chosen by
//! name, shift length, hand-off, time zone, start, and a weekly restriction), its overrides
//! and its deletion; and each schedule's next four weeks, per layer and final, as tables —
//! all through the application's [`stringer_app::schedules::ScheduleDesk`].

use super::layer_form::{DAYS, Fields, LayerForm, located, one, restriction_words};
use super::session::{EmptyForm, PageForm, Session, Signed};
use super::ticket::names;
use super::{Nav, PageError, PageResult, render, see_other, text};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use std::collections::HashMap;
use stringer_app::accounts::AccountError;
use stringer_app::schedules::{ScheduleError, timeline};
use stringer_core::access::Action;
use stringer_core::calendar::Window;
use stringer_core::oncall::{Override, Schedule, ScheduleSpec};

/// How far the timeline looks ahead.
const AHEAD: SignedDuration = SignedDuration::from_hours(28 * 24);

/// One schedule in the list.
pub struct ScheduleLine {
    href: String,
    name: String,
    covers: String,
    now: String,
}

#[derive(Template)]
#[template(path = "console_schedules.html")]
struct SchedulesPage {
    nav: Nav,
    schedules: Vec<ScheduleLine>,
    may_create: bool,
    /// (slug, name, chosen) per org a schedule may be made for.
    orgs: Vec<(String, String, bool)>,
    staff: Vec<(String, String)>,
    name: String,
    name_error: Option<String>,
    layer: LayerForm,
    flash: Option<String>,
}

/// What a redirect says was done.
#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// The active staff by name: (id, name).
async fn staff(state: &AppState) -> Result<Vec<(String, String)>, PageError> {
    let mut staff: Vec<(String, String)> =
        state.ports.accounts.active_staff().await?.into_iter().map(|u| (u.id.to_string(), u.name)).collect();
    staff.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(staff)
}

async fn list_page(
    state: &AppState,
    session: &Session,
    name: String,
    chosen: &str,
    name_error: Option<String>,
    layer: LayerForm,
    flash: Option<String>,
) -> PageResult {
    let caller = &session.caller;
    caller.may_list(Action::OpenConsole)?;
    caller.may_list(Action::ReadSchedule)?;
    let desk = state.schedules();
    let found = desk.list(caller.principal()).await.map_err(ApiError::from)?;
    let now = state.now();
    let on_call: Vec<Option<String>> = found
        .iter()
        .map(|(s, _)| Schedule::compile(&s.spec).ok().and_then(|c| c.on_call_at(now).map(String::from)))
        .collect();
    let names = names(state, on_call.iter().flatten().map(String::as_str)).await?;
    let schedules = found
        .iter()
        .zip(&on_call)
        .map(|((s, org), who)| ScheduleLine {
            href: format!("/console/schedules/{}", s.id),
            name: s.name.clone(),
            covers: org.as_ref().map_or_else(|| "every org without its own".into(), |o| o.name.clone()),
            now: who.as_ref().map_or_else(|| "nobody".into(), |u| names.get(u).cloned().unwrap_or_else(|| u.clone())),
        })
        .collect();
    let orgs: Vec<(String, String, bool)> = state
        .ports
        .accounts
        .orgs()
        .await?
        .into_iter()
        .filter(|o| desk.may_manage(caller.principal(), Some(o)))
        .map(|o| (o.slug.to_string(), o.name, o.slug.as_str() == chosen))
        .collect();
    let may_create = desk.may_manage(caller.principal(), None);
    let staff = if may_create { staff(state).await? } else { vec![] };
    let failed = name_error.is_some() || layer.error.is_some();
    let page =
        SchedulesPage { nav: Nav::of(session), schedules, may_create, orgs, staff, name, name_error, layer, flash };
    let mut response = render(&page)?;
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// The schedules one may see, and (for those who may) a new one.
pub async fn list(State(state): State<AppState>, Query(q): Query<Done>, Signed(session): Signed) -> PageResult {
    let flash = (q.done.as_deref() == Some("deleted")).then(|| "The schedule is deleted.".to_string());
    list_page(&state, &session, String::new(), "", None, LayerForm::empty("new", "The first layer"), flash).await
}

/// Creates a schedule with its first layer.
pub async fn create(State(state): State<AppState>, PageForm(session, f): PageForm<Fields>) -> PageResult {
    let name = one(&f, "name").to_string();
    let mut layer = LayerForm::sent("new", "The first layer".into(), &f);
    let org = Some(one(&f, "org")).filter(|o| !o.is_empty());
    let refusal = match layer.spec() {
        Err(refused) => refused,
        Ok(spec) => match state.schedules().create(session.caller.principal(), &name, org, vec![spec]).await {
            Ok((s, _)) => return see_other(&format!("/console/schedules/{}", s.id)),
            Err(ScheduleError::Account(AccountError::Invalid(why))) if why.starts_with("name") => {
                return list_page(&state, &session, name, org.unwrap_or(""), Some(why), layer, None).await;
            }
            Err(e) => located(e)?,
        },
    };
    layer.error = Some(refusal);
    list_page(&state, &session, name, org.unwrap_or(""), None, layer, None).await
}

/// One shift of a timeline.
pub struct ShiftLine {
    who: String,
    from: String,
    until: String,
}

/// One track of a timeline.
pub struct TrackLine {
    title: String,
    shifts: Vec<ShiftLine>,
}

/// One override.
pub struct OverrideLine {
    id: String,
    who: String,
    from: String,
    until: String,
}

/// The override form's values and its refusal.
#[derive(Default)]
pub struct OverrideForm {
    user: String,
    from: String,
    to: String,
    /// (field, message).
    error: Option<(String, String)>,
}

impl OverrideForm {
    /// A field's value as sent, by its name.
    pub fn value(&self, field: &str) -> &str {
        if field == "from" { &self.from } else { &self.to }
    }

    /// The refusal to show beside `field`.
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.error.as_ref().filter(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }
}

#[derive(Template)]
#[template(path = "console_schedule.html")]
struct SchedulePage {
    nav: Nav,
    id: String,
    name: String,
    covers: String,
    may_manage: bool,
    /// (form, summary, where the form posts) per layer.
    layers: Vec<(LayerForm, String, String)>,
    new_action: String,
    days: [(&'static str, &'static str); 7],
    new_layer: LayerForm,
    overrides: Vec<OverrideLine>,
    override_form: OverrideForm,
    staff: Vec<(String, String)>,
    tracks: Vec<TrackLine>,
    zone: String,
}

/// What a schedule page shows besides the schedule: the forms as sent, with their refusals.
#[derive(Default)]
struct Sent {
    layer: Option<LayerForm>,
    override_form: OverrideForm,
}

async fn schedule_page(state: &AppState, session: &Session, id: &str, sent: Sent) -> PageResult {
    let caller = &session.caller;
    caller.may_list(Action::OpenConsole)?;
    let desk = state.schedules();
    let (s, org) = desk.get(caller.principal(), id, Action::ReadSchedule).await.map_err(ApiError::from)?;
    let tz = text::zone(caller.user().time_zone.as_deref());
    let now = state.now();
    let tracks = timeline(&s.spec, now, now + AHEAD).map_err(|e| PageError::from(ApiError::conflict(e.to_string())))?;
    let staff = staff(state).await?;
    let by_id: HashMap<&str, &str> = staff.iter().map(|(i, n)| (i.as_str(), n.as_str())).collect();
    let mut people: Vec<&str> = tracks.iter().flat_map(|t| t.shifts.iter().map(|sh| sh.user.as_str())).collect();
    people.extend(s.spec.overrides.iter().map(|o| o.user.as_str()));
    people.extend(s.spec.layers.iter().flat_map(|l| l.rotation.members.iter().map(String::as_str)));
    people.retain(|p| !by_id.contains_key(p));
    let others = names(state, people).await?;
    let name =
        |u: &str| by_id.get(u).map(|n| n.to_string()).or_else(|| others.get(u).cloned()).unwrap_or_else(|| u.into());
    let tracks = tracks
        .into_iter()
        .map(|t| TrackLine {
            title: match t.layer {
                Some(i) => format!("Layer {}: {}", i + 1, s.spec.layers[i].rotation.name),
                None => "Final: who a page reaches".into(),
            },
            shifts: t
                .shifts
                .iter()
                .map(|sh| ShiftLine {
                    who: name(&sh.user),
                    from: text::instant(sh.start, &tz),
                    until: text::instant(sh.end, &tz),
                })
                .collect(),
        })
        .collect();
    let mut sent = sent;
    let layers = s
        .spec
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let form = match sent.layer.take_if(|f| f.prefix == format!("l{i}")) {
                Some(f) => f,
                None => LayerForm::of(i, l),
            };
            let members = l.rotation.members.iter().map(|m| name(m)).collect::<Vec<_>>().join(", ");
            let summary = format!(
                "{members}; {} day shifts handed off at {} {} from {}; {}",
                l.rotation.shift_days,
                l.rotation.handoff,
                l.rotation.time_zone,
                l.rotation.start,
                restriction_words(l)
            );
            let action = format!("/console/schedules/{}/layers/{}", s.id, form.prefix);
            (form, summary, action)
        })
        .collect();
    let new_layer = sent.layer.take_if(|f| f.prefix == "new").unwrap_or_else(|| LayerForm::empty("new", "A new layer"));
    let overrides = s
        .spec
        .overrides
        .iter()
        .filter(|o| o.to > now)
        .map(|o| OverrideLine {
            id: o.id.clone(),
            who: name(&o.user),
            from: text::instant(o.from, &tz),
            until: text::instant(o.to, &tz),
        })
        .collect();
    let failed = new_layer.error.is_some() || sent.override_form.error.is_some();
    let page = SchedulePage {
        nav: Nav::of(session),
        id: s.id.clone(),
        name: s.name.clone(),
        covers: org.as_ref().map_or_else(|| "every org without its own".into(), |o| o.name.clone()),
        may_manage: desk.may_manage(caller.principal(), org.as_ref()),
        layers,
        days: DAYS,
        new_action: format!("/console/schedules/{}/layers/new", s.id),
        new_layer,
        overrides,
        override_form: sent.override_form,
        staff,
        tracks,
        zone: tz.iana_name().unwrap_or("UTC").to_string(),
    };
    let mut response = render(&page)?;
    let layer_failed = page.layers.iter().any(|(f, _, _)| f.error.is_some());
    if failed || layer_failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// One schedule: its layers, overrides and next four weeks.
pub async fn show(State(state): State<AppState>, Path(id): Path<String>, Signed(session): Signed) -> PageResult {
    schedule_page(&state, &session, &id, Sent::default()).await
}

/// Saves a layer (`l0`, `l1`, …) or adds one (`new`).
pub async fn save_layer(
    State(state): State<AppState>,
    Path((id, which)): Path<(String, String)>,
    PageForm(session, f): PageForm<Fields>,
) -> PageResult {
    let index = match which.as_str() {
        "new" => None,
        l => Some(
            l.strip_prefix('l').and_then(|n| n.parse::<usize>().ok()).ok_or_else(|| PageError::not_found("layer"))?,
        ),
    };
    let title = index.map_or_else(|| "A new layer".to_string(), |i| format!("Layer {}", i + 1));
    let mut form = LayerForm::sent(&which, title, &f);
    let refusal = match form.spec() {
        Err(refused) => refused,
        Ok(layer) => {
            let edited = state
                .schedules()
                .edit(session.caller.principal(), &id, |spec: &mut ScheduleSpec| {
                    match index {
                        None => spec.layers.push(layer),
                        Some(i) => {
                            // The form edits the first restriction window; any others stay.
                            let slot = spec.layers.get_mut(i).ok_or(AccountError::NotFound("layer"))?;
                            let others: Vec<Window> =
                                slot.restriction.iter().flat_map(|w| w.iter().skip(1).cloned()).collect();
                            let mut layer = layer;
                            if !others.is_empty() {
                                layer.restriction.get_or_insert_with(Vec::new).extend(others);
                            }
                            *slot = layer;
                        }
                    }
                    Ok(())
                })
                .await;
            match edited {
                Ok(_) => return see_other(&format!("/console/schedules/{id}#layers")),
                Err(e) => located(e)?,
            }
        }
    };
    form.error = Some(refusal);
    schedule_page(&state, &session, &id, Sent { layer: Some(form), ..Sent::default() }).await
}

/// Removes a layer (a schedule keeps at least one).
pub async fn remove_layer(
    State(state): State<AppState>,
    Path((id, which)): Path<(String, usize)>,
    PageForm(session, _): PageForm<EmptyForm>,
) -> PageResult {
    state
        .schedules()
        .edit(session.caller.principal(), &id, |spec: &mut ScheduleSpec| {
            if which >= spec.layers.len() {
                return Err(AccountError::NotFound("layer").into());
            }
            spec.layers.remove(which);
            Ok(())
        })
        .await
        .map_err(ApiError::from)?;
    see_other(&format!("/console/schedules/{id}#layers"))
}

/// The override form.
#[derive(Deserialize)]
pub struct OverrideFields {
    #[serde(default)]
    user: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// A local date-time from a `datetime-local` field, read in the reader's zone.
fn local(value: &str, tz: &jiff::tz::TimeZone) -> Option<Timestamp> {
    let civil: jiff::civil::DateTime = value.trim().parse().ok()?;
    civil.to_zoned(tz.clone()).ok().map(|z| z.timestamp())
}

/// Adds an override: who is on call instead, from when until when (in the reader's zone).
pub async fn add_override(
    State(state): State<AppState>,
    Path(id): Path<String>,
    PageForm(session, f): PageForm<OverrideFields>,
) -> PageResult {
    let tz = text::zone(session.caller.user().time_zone.as_deref());
    let when = "a date and time such as 2026-12-24T09:00";
    let refusal = match (local(&f.from, &tz), local(&f.to, &tz)) {
        (None, _) => ("from".to_string(), when.to_string()),
        (_, None) => ("to".to_string(), when.to_string()),
        (Some(from), Some(to)) if to <= from => ("to".to_string(), "the end must come after the start".to_string()),
        (Some(from), Some(to)) => {
            let desk = state.schedules();
            let o = Override { id: desk.new_override_id(), from, to, user: f.user.clone() };
            match desk.add_override(session.caller.principal(), &id, o).await {
                Ok(_) => return see_other(&format!("/console/schedules/{id}#overrides")),
                Err(ScheduleError::Account(AccountError::Conflict(why))) => ("to".to_string(), override_words(&why)),
                Err(ScheduleError::Account(AccountError::Invalid(why))) => ("user".to_string(), why),
                Err(e) => return Err(ApiError::from(e).into()),
            }
        }
    };
    let override_form = OverrideForm { user: f.user, from: f.from, to: f.to, error: Some(refusal) };
    schedule_page(&state, &session, &id, Sent { override_form, ..Sent::default() }).await
}

/// The core's refusal of an override in people's words, without the overrides' ids.
fn override_words(why: &str) -> String {
    if why.contains("overlaps") {
        "it overlaps another override; remove or shorten that one first".into()
    } else if why.contains("longer than 90 days") {
        "an override lasts at most 90 days; split it or change the rotation".into()
    } else {
        why.into()
    }
}

/// Removes an override.
pub async fn remove_override(
    State(state): State<AppState>,
    Path((id, override_id)): Path<(String, String)>,
    PageForm(session, _): PageForm<EmptyForm>,
) -> PageResult {
    state.schedules().remove_override(session.caller.principal(), &id, &override_id).await.map_err(ApiError::from)?;
    see_other(&format!("/console/schedules/{id}#overrides"))
}

/// Deletes a schedule.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    PageForm(session, _): PageForm<EmptyForm>,
) -> PageResult {
    state.schedules().delete(session.caller.principal(), &id).await.map_err(ApiError::from)?;
    see_other("/console/schedules?done=deleted")
}
