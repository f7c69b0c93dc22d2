//! Changing tickets: open one, change its severity or status, comment, acknowledge, resolve,
//! reopen, page on-call. A request reads the ticket once (for the policy and the answer) and
//! records all its events as one change: everything it asks for happens, or nothing.

use super::{Found, MAX_SUBJECT, MAX_TEXT, TicketView, check_severity, parse_status, ticket_for, view};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Body, PathParams};
use crate::ids::new_id;
use crate::routes::accounts::{org_for, person, spend};
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use stringer_app::records::TicketRecord;
use stringer_app::{Extras, NewComment, Recorded, TicketDetails};
use stringer_core::access::{self, Action, Scope, Scopes};
use stringer_core::event::{Event, EventKind, NoticeBody};
use stringer_core::ids::{Intake, TicketId, UserId};
use stringer_core::ticket::Status;
use utoipa::ToSchema;

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
    /// Where it came in: portal | email | slack | phone | api (default api).
    #[schema(value_type = Option<String>)]
    channel: Option<Intake>,
}

/// Opens a ticket; its SLA clocks start now.
#[utoipa::path(post, path = "/api/v1/tickets", security(("bearer" = [])), request_body = CreateTicket,
    responses((status = 201, body = TicketView), (status = 404, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn create_ticket(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<CreateTicket>,
) -> Result<impl IntoResponse, ApiError> {
    let org_slug = match (&caller.user.org, body.org) {
        (Some(own), None) => own.to_string(),
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
    let id = TicketId(new_id("tkt"));
    let kind = EventKind::Opened {
        org: org.slug.clone(),
        severity,
        intake: Some(body.channel.unwrap_or(Intake::Api)),
        security: body.security,
    };
    let details = TicketDetails {
        subject: body.subject,
        description: body.description,
        requester: caller.user.org.as_ref().map(|_| caller.user.id.clone()),
    };
    let extras = Extras { actor: Some(caller.user.id.clone()), details: Some(details.clone()), comment: None };
    state.record(vec![Event::new(now, id.clone(), kind)], extras).await?;
    // Read back for the number the store gave it (its key).
    let (t, _) = state.ports.queries.ticket(&id).await?.ok_or_else(|| ApiError::not_found("ticket"))?;
    Ok((StatusCode::CREATED, axum::Json(view(state.contract(), t, now))))
}

/// Records what the caller asked on a ticket read (and allowed) before, as one change, and
/// answers with the ticket afterwards.
async fn record(
    state: &AppState,
    caller: &Caller,
    found: Found,
    kinds: Vec<EventKind>,
    comment: Option<NewComment>,
) -> Result<(TicketRecord, Recorded), ApiError> {
    let now = state.now();
    let events = kinds.into_iter().map(|kind| Event::new(now, found.ticket.id.clone(), kind)).collect();
    let extras = Extras { actor: Some(caller.user.id.clone()), details: None, comment };
    let recorded = state.record(events, extras).await?;
    let mut ticket = found.ticket;
    ticket.state = recorded.ticket.clone();
    ticket.version = recorded.version as i64;
    ticket.updated_at = now.as_second();
    Ok((ticket, recorded))
}

/// Asks the policy about each action, then records their events as one change.
async fn change(
    state: &AppState,
    caller: &Caller,
    id: &str,
    asked: Vec<(Action, EventKind)>,
    comment: Option<NewComment>,
) -> Result<axum::Json<TicketView>, ApiError> {
    let actions: Vec<Action> = asked.iter().map(|(a, _)| *a).collect();
    let found = ticket_for(state, caller, id, &actions).await?;
    let kinds = asked.into_iter().map(|(_, k)| k).collect();
    let (ticket, _) = record(state, caller, found, kinds, comment).await?;
    Ok(axum::Json(view(state.contract(), ticket, state.now())))
}

/// Changes to severity and/or status.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTicket {
    severity: Option<String>,
    /// waiting_on_customer | resolved | open (reopens a resolved ticket).
    status: Option<String>,
}

/// Changes a ticket's severity (the contract's rules for severity changes apply) and/or its
/// status, as one change: both happen, or neither.
#[utoipa::path(patch, path = "/api/v1/tickets/{id}", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")), request_body = UpdateTicket,
    responses((status = 200, body = TicketView), (status = 404, body = crate::routes::Problem), (status = 409, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn update_ticket(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<UpdateTicket>,
) -> Result<axum::Json<TicketView>, ApiError> {
    let found = ticket_for(&state, &caller, &id, &[Action::ReadTicket]).await?;
    let mut asked = Vec::new();
    if let Some(s) = &body.severity {
        let severity = check_severity(state.contract(), s)?;
        let contract = state.contract();
        let action = if contract.rank(&severity) <= contract.rank(&found.ticket.state.severity) {
            Action::RaiseSeverity
        } else {
            Action::LowerSeverity
        };
        asked.push((action, EventKind::SeverityChanged { severity }));
    }
    if let Some(s) = &body.status {
        let wanted = parse_status(s).map_err(|e| ApiError::unprocessable(e.detail))?;
        asked.push(match (found.ticket.state.status, wanted) {
            (_, Status::WaitingOnCustomer) => (Action::WaitOnCustomer, EventKind::WaitingOnCustomer),
            (_, Status::Resolved) => (Action::Resolve, EventKind::Resolved),
            (Status::Resolved, Status::Open) => (Action::Reopen, EventKind::Reopened),
            (_, Status::Open) => {
                return Err(ApiError::unprocessable(
                    "the ticket is not resolved; a ticket waiting on the customer opens again when the customer replies",
                ));
            }
        });
    }
    if asked.is_empty() {
        return Err(ApiError::unprocessable("give severity and/or status"));
    }
    for (action, _) in &asked {
        caller.may(*action, Some(found.object()), "ticket")?;
    }
    let kinds = asked.into_iter().map(|(_, k)| k).collect();
    let (ticket, _) = record(&state, &caller, found, kinds, None).await?;
    Ok(axum::Json(view(state.contract(), ticket, state.now())))
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

/// Adds a comment. A public staff reply counts as the response.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/comments", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")), request_body = AddComment,
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
    let kind = if caller.is_staff() {
        EventKind::Replied { by: caller.user.id.to_string(), public }
    } else {
        EventKind::CustomerReplied
    };
    let comment = NewComment { id: new_id("cmt"), author: caller.user.id.clone(), public, body: body.body };
    let view = change(&state, &caller, &id, vec![(action, kind)], Some(comment)).await?;
    Ok((StatusCode::CREATED, view))
}

/// Acknowledges a ticket (and its pages): stops escalation and counts as the response.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/acknowledge", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")),
    responses((status = 200, body = TicketView), (status = 403, body = crate::routes::Problem), (status = 404, body = crate::routes::Problem), (status = 409, body = crate::routes::Problem)))]
pub async fn acknowledge(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<TicketView>, ApiError> {
    let kind = EventKind::Acknowledged { by: caller.user.id.to_string() };
    change(&state, &caller, &id, vec![(Action::Acknowledge, kind)], None).await
}

/// Resolves a ticket.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/resolve", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")),
    responses((status = 200, body = TicketView), (status = 404, body = crate::routes::Problem), (status = 409, body = crate::routes::Problem)))]
pub async fn resolve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<TicketView>, ApiError> {
    change(&state, &caller, &id, vec![(Action::Resolve, EventKind::Resolved)], None).await
}

/// Reopens a resolved ticket.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/reopen", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")),
    responses((status = 200, body = TicketView), (status = 404, body = crate::routes::Problem), (status = 409, body = crate::routes::Problem)))]
pub async fn reopen(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<TicketView>, ApiError> {
    change(&state, &caller, &id, vec![(Action::Reopen, EventKind::Reopened)], None).await
}

/// Who works a ticket.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    /// A staff user who may see the ticket; `null` gives it back to the queue.
    #[schema(value_type = Option<String>)]
    assignee: Option<String>,
}

/// The assignment a staff member may be given on `found`: the user exists, is active staff
/// and may see the ticket (cleared, for a federal org's).
pub async fn check_assignee(state: &AppState, found: &Found, id: &str) -> Result<UserId, ApiError> {
    let user = state.ports.accounts.user(&UserId::from(id)).await?;
    let Some(user) = user.filter(|u| u.org.is_none() && u.deactivated_at.is_none()) else {
        return Err(ApiError::unprocessable(format!("{id:?} is not an active staff user")));
    };
    let may_see = access::decide(&person(&user, Scopes::of(&[Scope::Read])), Action::ReadTicket, Some(found.object()));
    if !may_see.allowed() {
        return Err(ApiError::unprocessable(format!("{} may not see this ticket", user.name)));
    }
    Ok(user.id)
}

/// Gives a ticket to a staff member to work (take it: name yourself), or back to the queue.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/assign", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")), request_body = Assign,
    responses((status = 200, body = TicketView), (status = 403, body = crate::routes::Problem), (status = 404, body = crate::routes::Problem), (status = 409, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn assign(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<Assign>,
) -> Result<axum::Json<TicketView>, ApiError> {
    let found = ticket_for(&state, &caller, &id, &[Action::Assign]).await?;
    let to = match &body.assignee {
        Some(who) => Some(check_assignee(&state, &found, who).await?.to_string()),
        None => None,
    };
    let (ticket, _) = record(&state, &caller, found, vec![EventKind::Assigned { to }], None).await?;
    Ok(axum::Json(view(state.contract(), ticket, state.now())))
}

/// Who joined a security incident's bridge, and where it is.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordBridge {
    /// The bridge's address (http or https), when known.
    #[schema(max_length = 500)]
    url: Option<String>,
    /// The staff user who joined (default: the caller); their role is what the contract's
    /// bridge rule counts.
    joined_by: Option<String>,
}

/// Checks a bridge address: http(s), at most 500 bytes, no spaces.
pub fn check_bridge_url(url: &str) -> Result<(), ApiError> {
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 500
        && !url.contains(char::is_whitespace);
    if ok { Ok(()) } else { Err(ApiError::unprocessable("url: an http(s) address of at most 500 bytes")) }
}

/// Records who joined a security incident's bridge (and where it is): the contract's
/// bridge deadline is met when someone of its required role joins in time.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/bridge", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")), request_body = RecordBridge,
    responses((status = 200, body = TicketView), (status = 403, body = crate::routes::Problem), (status = 404, body = crate::routes::Problem), (status = 409, body = crate::routes::Problem), (status = 422, body = crate::routes::Problem)))]
pub async fn record_bridge(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<RecordBridge>,
) -> Result<axum::Json<TicketView>, ApiError> {
    let found = ticket_for(&state, &caller, &id, &[Action::RecordBridge]).await?;
    let kind = bridge_event(&state, &caller, &found, body.url, body.joined_by).await?;
    let (ticket, _) = record(&state, &caller, found, vec![kind], None).await?;
    Ok(axum::Json(view(state.contract(), ticket, state.now())))
}

/// The event recording a bridge join on `found`, checked: a security incident, an http(s)
/// address, and a joiner who is active staff allowed to see the ticket.
pub async fn bridge_event(
    state: &AppState,
    caller: &Caller,
    found: &Found,
    url: Option<String>,
    joined_by: Option<String>,
) -> Result<EventKind, ApiError> {
    if found.ticket.state.bridge.is_none() {
        return Err(ApiError::unprocessable("only a security incident has an incident bridge"));
    }
    let url = url.filter(|u| !u.trim().is_empty());
    if let Some(u) = &url {
        check_bridge_url(u)?;
    }
    let joiner = match joined_by.filter(|j| !j.is_empty()) {
        Some(id) => check_assignee(state, found, &id).await?,
        None => caller.user.id.clone(),
    };
    let role = state.ports.accounts.user(&joiner).await?.map(|u| u.role.as_str().to_string()).unwrap_or_default();
    Ok(EventKind::BridgeJoined { by: joiner.to_string(), role, url })
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
/// — before that it is refused with `opens_at`, the instant it opens (409: it depends on the
/// moment, like a conflict with the ticket's current state). Rate-limited per ticket.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/page", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")),
    responses((status = 202, body = PageView), (status = 404, body = crate::routes::Problem), (status = 409, description = "Refused; `opens_at` says when it opens, if ever", body = crate::routes::Problem), (status = 429, body = crate::routes::Problem)))]
pub async fn page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<impl IntoResponse, ApiError> {
    let found = ticket_for(&state, &caller, &id, &[Action::PageOnCall]).await?;
    let key = format!("page:{}", found.ticket.id);
    spend(&state, state.settings.limits, key, "this ticket was paged a moment ago").await?;
    let (ticket, recorded) = record(&state, &caller, found, vec![EventKind::CustomerPageRequested], None).await?;
    let mut paged = Vec::new();
    for n in recorded.notices {
        match n.body {
            NoticeBody::CustomerPageRefused { opens_at, reason } => {
                return Err(ApiError::conflict(reason).with("opens_at", opens_at.map(|t| t.to_string()).into()));
            }
            NoticeBody::Page { role, .. } => paged.push(role.as_str().to_string()),
            _ => {}
        }
    }
    Ok((StatusCode::ACCEPTED, axum::Json(PageView { paged, ticket: view(state.contract(), ticket, state.now()) })))
}
