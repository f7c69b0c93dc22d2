//! Tickets: create, list, read, change severity or status, comment, acknowledge, resolve,
//! reopen, and the timeline. Every change goes through the Desk with the caller as actor.

use super::accounts::{Items, org_for};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Body, Params, PathParams};
use crate::ids::{is_id, new_id};
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use stringer_app::{Extras, NewComment, TicketDetails};
use stringer_core::access::{self, Action, EntryView, Object, OrgRef, Reach};
use stringer_core::contract::Contract;
use stringer_core::event::{Event, NoticeBody};
use stringer_core::ids::{Channel, OrgSlug, Severity, TicketId};
use stringer_core::sla::ClockState;
use stringer_core::ticket::Status;
use stringer_store::{CommentRecord, TicketFilter, TicketRecord, TimelineRecord};
use utoipa::ToSchema;

/// One SLA clock as shown with a ticket.
#[derive(Serialize, ToSchema)]
pub struct SlaView {
    /// The contract target, e.g. "response".
    target: String,
    /// Its length as the contract writes it.
    within: String,
    /// The calendar it counts on ("clock" for clock time).
    calendar: String,
    /// running | paused | met | breached.
    state: String,
    /// RFC 3339; absent while paused.
    due: Option<String>,
    /// Wall-clock seconds until due (negative once past); absent unless running.
    seconds_left: Option<i64>,
    /// Target time left on its calendar; absent once stopped.
    business_seconds_left: Option<i64>,
    /// When it was met or stopped.
    stopped_at: Option<String>,
    /// When it was breached.
    breached_at: Option<String>,
}

/// A ticket with its live SLA clocks.
#[derive(Serialize, ToSchema)]
pub struct TicketView {
    id: String,
    org: String,
    requester: Option<String>,
    subject: String,
    description: String,
    severity: String,
    status: String,
    security: bool,
    channel: Option<String>,
    opened_at: String,
    acknowledged_at: Option<String>,
    acknowledged_by: Option<String>,
    resolved_at: Option<String>,
    version: i64,
    sla: Vec<SlaView>,
}

fn enum_name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

fn view(contract: &Contract, t: TicketRecord, now: Timestamp) -> TicketView {
    let s = &t.state;
    let sla = s
        .clocks
        .iter()
        .map(|c| SlaView {
            target: c.target.clone(),
            within: c.cell.within.to_string(),
            calendar: c.cell.calendar.clone().unwrap_or_else(|| "clock".into()),
            state: enum_name(&c.state),
            due: c.due.map(|d| d.to_string()),
            seconds_left: c.due.filter(|_| c.state == ClockState::Running).map(|d| d.as_second() - now.as_second()),
            business_seconds_left: c.is_active().then(|| c.remaining(contract, now)),
            stopped_at: c.stopped_at.map(|d| d.to_string()),
            breached_at: c.breached_at.map(|d| d.to_string()),
        })
        .collect();
    TicketView {
        id: t.id,
        org: t.org,
        requester: t.requester,
        subject: t.subject,
        description: t.description,
        severity: s.severity.to_string(),
        status: enum_name(&s.status),
        security: s.security,
        channel: s.channel.map(|c| enum_name(&c)),
        opened_at: s.opened_at.to_string(),
        acknowledged_at: s.acknowledged.as_ref().map(|(at, _)| at.to_string()),
        acknowledged_by: s.acknowledged.as_ref().map(|(_, by)| by.clone()),
        resolved_at: s.resolved_at.map(|d| d.to_string()),
        version: t.version,
        sla,
    }
}

/// A page of tickets.
#[derive(Serialize, ToSchema)]
pub struct TicketPage {
    items: Vec<TicketView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

/// Listing filters.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this org's tickets.
    org: Option<String>,
    /// open | waiting_on_customer | resolved.
    status: Option<String>,
    /// A severity of the contract.
    severity: Option<String>,
    /// Only tickets with a running SLA clock due within this many seconds.
    breaching_within: Option<i64>,
    /// From a previous page's `next_cursor`.
    #[param(pattern = r"^tkt_[0-9A-HJKMNP-TV-Z]{26}$")]
    cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

fn parse_status(s: &str) -> Result<Status, ApiError> {
    serde_json::from_value(serde_json::Value::String(s.into())).map_err(|_| {
        ApiError::bad_request(format!("unknown status {s:?}; statuses are open, waiting_on_customer, resolved"))
    })
}

fn check_severity(contract: &Contract, s: &str) -> Result<Severity, ApiError> {
    contract.severity(s).ok_or_else(|| {
        let list: Vec<&str> = contract.severities.keys().map(|s| s.as_str()).collect();
        ApiError::unprocessable(format!("unknown severity {s:?}; severities are {}", list.join(", ")))
    })
}

/// Tickets the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/tickets", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = TicketPage), (status = 400, body = crate::routes::Problem)))]
pub async fn list_tickets(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Params(q): Params<ListQuery>,
) -> Result<axum::Json<TicketPage>, ApiError> {
    caller.may_list(Action::ReadTicket)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request("limit: 1 to 200"));
    }
    if q.cursor.as_ref().is_some_and(|c| !is_id("tkt", c)) {
        return Err(ApiError::bad_request("malformed cursor"));
    }
    let reach = access::reach(&caller.actor());
    let empty = || Ok(axum::Json(TicketPage { items: vec![], next_cursor: None }));
    let org = match (reach, q.org) {
        (_, Some(asked)) => match state.store.get_org(&asked).await? {
            Some(o) if reach.includes(o.as_ref()) => Some(o.slug),
            _ => return empty(),
        },
        (Reach::Org(own), None) => Some(own.to_string()),
        (Reach::AllOrgs { .. }, None) => None,
    };
    let now = state.now();
    let filter = TicketFilter {
        org,
        hide_federal: matches!(reach, Reach::AllOrgs { federal: false }),
        status: q.status.as_deref().map(parse_status).transpose()?,
        severity: q
            .severity
            .as_deref()
            .map(|s| check_severity(state.contract(), s).map(|s| s.0))
            .transpose()
            .map_err(|e| ApiError::bad_request(e.detail))?,
        due_before: q.breaching_within.map(|s| now.as_second() + s.clamp(0, 10 * 366 * 86_400)),
        before_id: q.cursor,
        limit: limit + 1,
    };
    let mut rows = state.store.list_tickets(&filter).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|t| t.id.clone())
    } else {
        None
    };
    let items = rows.into_iter().map(|t| view(state.contract(), t, now)).collect();
    Ok(axum::Json(TicketPage { items, next_cursor }))
}

/// A new ticket.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTicket {
    /// The customer org; customers may omit it (their own).
    org: Option<String>,
    severity: String,
    #[schema(min_length = 1, max_length = 300)]
    subject: String,
    description: String,
    #[serde(default)]
    security: bool,
    /// portal | email | slack | phone | api (default api).
    #[schema(value_type = Option<String>)]
    channel: Option<Channel>,
}

const MAX_SUBJECT: usize = 300;
const MAX_TEXT: usize = 32 * 1024;

/// Opens a ticket; its SLA clocks start now.
#[utoipa::path(post, path = "/api/v1/tickets", security(("bearer" = [])), request_body = CreateTicket,
    responses((status = 201, body = TicketView), (status = 404, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn create_ticket(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<CreateTicket>,
) -> Result<impl IntoResponse, ApiError> {
    let org_slug = match (&caller.user.org, body.org) {
        (Some(own), None) => own.clone(),
        (_, Some(org)) => org,
        (None, None) => return Err(ApiError::unprocessable("org: which customer org the ticket is for")),
    };
    let org = org_for(&state, &caller, &org_slug, Action::OpenTicket).await?;
    let severity = check_severity(state.contract(), &body.severity)?;
    if body.subject.trim().is_empty() || body.subject.len() > MAX_SUBJECT {
        return Err(ApiError::unprocessable(format!("subject: 1 to {MAX_SUBJECT} characters")));
    }
    if body.description.len() > MAX_TEXT {
        return Err(ApiError::unprocessable(format!("description: at most {MAX_TEXT} bytes")));
    }
    let now = state.now();
    let id = new_id("tkt");
    let event = Event::Opened {
        at: now,
        ticket: TicketId(id.clone()),
        org: OrgSlug(org.slug.clone()),
        severity,
        channel: Some(body.channel.unwrap_or(Channel::Api)),
        security: body.security,
    };
    let extras = Extras {
        actor: Some(caller.user.id.clone()),
        details: Some(TicketDetails {
            subject: body.subject,
            description: body.description,
            requester: caller.user.org.as_ref().map(|_| caller.user.id.clone()),
        }),
        comment: None,
    };
    let details = extras.details.clone().unwrap_or_default();
    let recorded = state.record(event, extras).await?;
    let t = TicketRecord {
        id,
        org: org.slug,
        requester: details.requester,
        subject: details.subject,
        description: details.description,
        state: recorded.ticket,
        version: recorded.version as i64,
        updated_at: now.as_second(),
    };
    Ok((StatusCode::CREATED, axum::Json(view(state.contract(), t, now))))
}

/// The ticket `id` if the policy lets the caller take `action` on it; else the policy's
/// refusal (404 exactly as for a missing ticket).
async fn ticket_for(state: &AppState, caller: &Caller, id: &str, action: Action) -> Result<TicketRecord, ApiError> {
    if !is_id("tkt", id) {
        return Err(ApiError::bad_request("malformed ticket id"));
    }
    let found = state.store.get_ticket_for_access(id).await?;
    let object = found.as_ref().map(|(t, deployment)| Object::Ticket(OrgRef { slug: &t.org, deployment: *deployment }));
    caller.may(action, object, "ticket")?;
    Ok(found.expect("the policy allows only existing tickets").0)
}

/// One ticket with its SLA clocks.
#[utoipa::path(get, path = "/api/v1/tickets/{id}", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^tkt_[0-9A-HJKMNP-TV-Z]{26}$")),
    responses((status = 200, body = TicketView), (status = 404, body = crate::routes::Problem)))]
pub async fn get_ticket(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<TicketView>, ApiError> {
    let t = ticket_for(&state, &caller, &id, Action::ReadTicket).await?;
    Ok(axum::Json(view(state.contract(), t, state.now())))
}

/// Records events on a ticket the policy let the caller act on (each event's action is
/// asked before any is recorded) and answers with the ticket afterwards.
async fn change(
    state: &AppState,
    caller: &Caller,
    id: &str,
    events: Vec<(Action, Event)>,
    comment: Option<NewComment>,
) -> Result<axum::Json<TicketView>, ApiError> {
    for (action, _) in &events {
        ticket_for(state, caller, id, *action).await?;
    }
    let mut comment = comment;
    for (_, event) in events {
        let extras = Extras { actor: Some(caller.user.id.clone()), details: None, comment: comment.take() };
        state.record(event, extras).await?;
    }
    let t = state.store.get_ticket(id).await?.ok_or_else(|| ApiError::not_found("ticket"))?;
    Ok(axum::Json(view(state.contract(), t, state.now())))
}

/// Changes to severity and/or status.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTicket {
    severity: Option<String>,
    /// waiting_on_customer | resolved | open (reopens a resolved ticket).
    status: Option<String>,
}

/// Changes a ticket's severity (SLA rules of CONTRACT.md apply) or status.
#[utoipa::path(patch, path = "/api/v1/tickets/{id}", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^tkt_[0-9A-HJKMNP-TV-Z]{26}$")), request_body = UpdateTicket,
    responses((status = 200, body = TicketView), (status = 404, body = crate::routes::Problem), (status = 409, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn update_ticket(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<UpdateTicket>,
) -> Result<axum::Json<TicketView>, ApiError> {
    let t = ticket_for(&state, &caller, &id, Action::ReadTicket).await?;
    let now = state.now();
    let ticket = TicketId(id.clone());
    let mut events = Vec::new();
    if let Some(s) = &body.severity {
        let severity = check_severity(state.contract(), s)?;
        let contract = state.contract();
        let action = if contract.rank(&severity) <= contract.rank(&t.state.severity) {
            Action::RaiseSeverity
        } else {
            Action::LowerSeverity
        };
        events.push((action, Event::SeverityChanged { at: now, ticket: ticket.clone(), severity }));
    }
    if let Some(s) = &body.status {
        let wanted = parse_status(s).map_err(|e| ApiError::unprocessable(e.detail))?;
        events.push(match (t.state.status, wanted) {
            (_, Status::WaitingOnCustomer) => {
                (Action::WaitOnCustomer, Event::WaitingOnCustomer { at: now, ticket: ticket.clone() })
            }
            (_, Status::Resolved) => (Action::Resolve, Event::Resolved { at: now, ticket: ticket.clone() }),
            (Status::Resolved, Status::Open) => (Action::Reopen, Event::Reopened { at: now, ticket: ticket.clone() }),
            (_, Status::Open) => return Err(ApiError::conflict("the ticket is not resolved; a ticket waiting on the customer opens again when the customer replies")),
        });
    }
    if events.is_empty() {
        return Err(ApiError::unprocessable("give severity and/or status"));
    }
    change(&state, &caller, &id, events, None).await
}

/// A comment: staff comments are public replies or internal notes; customer comments are
/// always public.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddComment {
    #[schema(min_length = 1, max_length = 32768)]
    body: String,
    /// Default true.
    public: Option<bool>,
}

/// A comment as shown.
#[derive(Serialize, ToSchema)]
pub struct CommentView {
    id: String,
    author: String,
    public: bool,
    body: String,
    created_at: String,
}

impl From<CommentRecord> for CommentView {
    fn from(c: CommentRecord) -> CommentView {
        let at = Timestamp::from_second(c.created_at).map(|t| t.to_string()).unwrap_or_default();
        CommentView { id: c.id, author: c.author, public: c.public, body: c.body, created_at: at }
    }
}

/// Adds a comment. A public staff reply counts as the response.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/comments", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^tkt_[0-9A-HJKMNP-TV-Z]{26}$")), request_body = AddComment,
    responses((status = 201, body = TicketView), (status = 404, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn add_comment(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<AddComment>,
) -> Result<impl IntoResponse, ApiError> {
    if body.body.trim().is_empty() || body.body.len() > MAX_TEXT {
        return Err(ApiError::unprocessable(format!("body: 1 to {MAX_TEXT} bytes")));
    }
    let public = body.public.unwrap_or(true);
    let action = if public { Action::CommentPublic } else { Action::CommentInternal };
    let now = state.now();
    let ticket = TicketId(id.clone());
    let event = if caller.is_staff() {
        Event::Replied { at: now, ticket, by: caller.user.id.clone(), public }
    } else {
        Event::CustomerReplied { at: now, ticket }
    };
    let comment = NewComment { id: new_id("cmt"), author: caller.user.id.clone(), public, body: body.body };
    let view = change(&state, &caller, &id, vec![(action, event)], Some(comment)).await?;
    Ok((StatusCode::CREATED, view))
}

/// A ticket's comments (customers see public ones only).
#[utoipa::path(get, path = "/api/v1/tickets/{id}/comments", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^tkt_[0-9A-HJKMNP-TV-Z]{26}$")),
    responses((status = 200, body = Items<CommentView>), (status = 404, body = crate::routes::Problem)))]
pub async fn list_comments(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<Items<CommentView>>, ApiError> {
    let t = ticket_for(&state, &caller, &id, Action::ReadTicket).await?;
    let internal = internal_visible(&state, &caller, &t).await?;
    let items =
        state.store.list_comments(&id).await?.into_iter().filter(|c| c.public || internal).map(Into::into).collect();
    Ok(axum::Json(Items { items }))
}

/// Whether the caller may see a ticket's internal notes and staff-only timeline details.
async fn internal_visible(state: &AppState, caller: &Caller, t: &TicketRecord) -> Result<bool, ApiError> {
    let org = state.store.get_org(&t.org).await?;
    Ok(org.is_some_and(|o| caller.allowed(Action::ReadInternal, Some(Object::Ticket(o.as_ref())))))
}

/// Acknowledges a ticket (and its pages): stops escalation and counts as the response.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/acknowledge", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^tkt_[0-9A-HJKMNP-TV-Z]{26}$")),
    responses((status = 200, body = TicketView), (status = 403, body = crate::routes::Problem), (status = 404, body = crate::routes::Problem), (status = 409, body = crate::routes::Problem)))]
pub async fn acknowledge(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<TicketView>, ApiError> {
    let event = Event::Acknowledged { at: state.now(), ticket: TicketId(id.clone()), by: caller.user.id.clone() };
    change(&state, &caller, &id, vec![(Action::Acknowledge, event)], None).await
}

/// Resolves a ticket.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/resolve", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^tkt_[0-9A-HJKMNP-TV-Z]{26}$")),
    responses((status = 200, body = TicketView), (status = 404, body = crate::routes::Problem), (status = 409, body = crate::routes::Problem)))]
pub async fn resolve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<TicketView>, ApiError> {
    let event = Event::Resolved { at: state.now(), ticket: TicketId(id.clone()) };
    change(&state, &caller, &id, vec![(Action::Resolve, event)], None).await
}

/// Reopens a resolved ticket.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/reopen", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^tkt_[0-9A-HJKMNP-TV-Z]{26}$")),
    responses((status = 200, body = TicketView), (status = 404, body = crate::routes::Problem), (status = 409, body = crate::routes::Problem)))]
pub async fn reopen(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<TicketView>, ApiError> {
    let event = Event::Reopened { at: state.now(), ticket: TicketId(id.clone()) };
    change(&state, &caller, &id, vec![(Action::Reopen, event)], None).await
}

/// A timeline entry as shown.
#[derive(Serialize, ToSchema)]
pub struct TimelineView {
    seq: i64,
    at: String,
    kind: String,
    actor: Option<String>,
    /// The event or notice, in `stringer simulate`'s vocabulary.
    #[schema(value_type = Object)]
    body: serde_json::Value,
}

impl From<TimelineRecord> for TimelineView {
    fn from(t: TimelineRecord) -> TimelineView {
        let at = Timestamp::from_second(t.at).map(|x| x.to_string()).unwrap_or_default();
        TimelineView { seq: t.seq, at, kind: t.kind, actor: t.actor, body: t.body }
    }
}

/// The ticket's append-only timeline (events and notices). Staff only see internal entries;
/// customers see the timeline without internal notes.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/timeline", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^tkt_[0-9A-HJKMNP-TV-Z]{26}$")),
    responses((status = 200, body = Items<TimelineView>), (status = 404, body = crate::routes::Problem)))]
pub async fn timeline(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<Items<TimelineView>>, ApiError> {
    let t = ticket_for(&state, &caller, &id, Action::ReadTicket).await?;
    let internal = internal_visible(&state, &caller, &t).await?;
    let items = state
        .store
        .timeline(&id)
        .await?
        .into_iter()
        .filter_map(|entry| if internal { Some(entry) } else { customer_entry(entry) })
        .map(Into::into)
        .collect();
    Ok(axum::Json(Items { items }))
}

/// A timeline entry as the policy lets someone without internal access see it.
fn customer_entry(mut entry: TimelineRecord) -> Option<TimelineRecord> {
    let public = entry.body.get("public") != Some(&serde_json::Value::Bool(false));
    match access::customer_view(&entry.kind, public) {
        EntryView::Hidden => None,
        EntryView::Redacted { actor } => {
            if let Some(body) = entry.body.as_object_mut() {
                for field in access::STAFF_ONLY_FIELDS {
                    body.remove(field);
                }
                if !actor {
                    body.remove("by");
                }
            }
            if !actor {
                entry.actor = None;
            }
            Some(entry)
        }
    }
}

/// What a customer page did.
#[derive(Serialize, ToSchema)]
pub struct PageView {
    /// The pages sent, by role.
    paged: Vec<String>,
    /// The ticket afterwards.
    ticket: TicketView,
}

/// The customer's "page on-call" (portal button, API, or staff taking the phone line):
/// Enterprise for any open ticket; Pro for a P1 still unacknowledged 30 minutes after opening
/// — before that it is refused with `opens_at`, the instant it opens. Rate-limited per ticket.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/page", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^tkt_[0-9A-HJKMNP-TV-Z]{26}$")),
    responses((status = 202, body = PageView), (status = 404, body = crate::routes::Problem), (status = 409, description = "Refused; `opens_at` says when it opens, if ever", body = crate::routes::Problem), (status = 429, body = crate::routes::Problem)))]
pub async fn page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<impl IntoResponse, ApiError> {
    ticket_for(&state, &caller, &id, Action::PageOnCall).await?;
    super::accounts::spend(&state, state.limits, format!("page:{id}"), "this ticket was paged a moment ago").await?;
    let event = Event::CustomerPageRequested { at: state.now(), ticket: TicketId(id.clone()) };
    let extras = Extras { actor: Some(caller.user.id.clone()), details: None, comment: None };
    let notices = state.record(event, extras).await?.notices;
    let mut paged = Vec::new();
    for n in notices {
        match n.body {
            NoticeBody::CustomerPageRefused { opens_at, reason } => {
                return Err(ApiError::conflict(reason).with("opens_at", opens_at.map(|t| t.to_string()).into()));
            }
            NoticeBody::Page { role, .. } => paged.push(role.as_str().to_string()),
            _ => {}
        }
    }
    let t = state.store.get_ticket(&id).await?.ok_or_else(|| ApiError::not_found("ticket"))?;
    Ok((StatusCode::ACCEPTED, axum::Json(PageView { paged, ticket: view(state.contract(), t, state.now()) })))
}
