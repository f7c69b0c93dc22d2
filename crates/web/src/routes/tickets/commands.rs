//! Changing tickets: open one, change its severity or status, comment, acknowledge, resolve,
//! reopen, page on-call. A request reads the ticket once (for the policy and the answer) and
//! records all its events as one change: everything it asks for happens, or nothing.

use super::{TicketView, check_severity, parse_status, view};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Body, PathParams};
use crate::reads::{ticket_for, ticket_ref};
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use stringer_app::act::{Acted, Command, PageOutcome, check_bridge_address, in_flight_words};
use stringer_app::act::{MAX_SUBJECT, MAX_TEXT};
use stringer_app::{Extras, TicketDetails};
use stringer_core::access::Action;
use stringer_core::event::{Event, EventKind};
use stringer_core::ids::{Intake, TicketId, UserId};
use stringer_core::ticket::Status;
use utoipa::ToSchema;

/// A new ticket.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTicket {
    /// The customer org; customers may omit it (their own).
    #[schema(pattern = "^[a-z0-9][a-z0-9-]{1,39}$")]
    org: Option<String>,
    /// One of the contract's severities; a security incident may omit it, and takes only the
    /// one the contract's security rule names (P1 by default).
    severity: Option<String>,
    #[schema(min_length = 1, max_length = 300)]
    subject: String,
    description: String,
    #[serde(default)]
    security: bool,
    /// A security incident: where the customer's incident bridge is — a meeting link (http or
    /// https) or a phone bridge (`+14155550100,,987654#`), at most 500 bytes.
    #[schema(max_length = 500)]
    bridge: Option<String>,
    /// Where it came in: portal | email | slack | phone | api (default api).
    #[schema(value_type = Option<String>, pattern = "^(portal|email|slack|phone|api)$")]
    channel: Option<Intake>,
}

/// Opens a ticket; its SLA clocks start now.
#[utoipa::path(post, path = "/api/v1/tickets", security(("bearer" = [])), request_body = CreateTicket,
    responses((status = 201, body = TicketView), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn create_ticket(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<CreateTicket>,
) -> Result<impl IntoResponse, ApiError> {
    let org_slug = match (&caller.user().org, body.org) {
        (Some(own), None) => own.to_string(),
        (_, Some(org)) => org,
        (None, None) => return Err(ApiError::unprocessable("org: which customer org the ticket is for")),
    };
    let org = state.accounts().org(caller.principal(), &org_slug, Action::OpenTicket).await?;
    let contract = state.contract();
    let severity = match (body.severity.as_deref(), body.security) {
        (Some(s), security) => {
            let severity = check_severity(contract, s)?;
            match contract.security_severity_refusal(&org.tier, &severity).filter(|_| security) {
                Some(why) => return Err(ApiError::unprocessable(format!("severity: {why}"))),
                None => severity,
            }
        }
        (None, true) => contract.security_severity(&org.tier).clone(),
        (None, false) => return Err(ApiError::unprocessable("severity: one of the contract's severities")),
    };
    let bridge = match body.bridge.as_deref().filter(|b| !b.trim().is_empty()) {
        Some(_) if !body.security => {
            return Err(ApiError::unprocessable("bridge: only a security incident has an incident bridge"));
        }
        Some(b) => Some(check_bridge_address(b)?),
        None => None,
    };
    if body.subject.trim().is_empty() || body.subject.len() > MAX_SUBJECT {
        return Err(ApiError::unprocessable(format!("subject: 1 to {MAX_SUBJECT} characters")));
    }
    if body.description.len() > MAX_TEXT {
        return Err(ApiError::unprocessable(format!("description: at most {MAX_TEXT} bytes")));
    }
    let now = state.now();
    let id = TicketId(state.new_id("tkt"));
    let kind = EventKind::Opened {
        org: org.slug.clone(),
        severity,
        intake: Some(body.channel.unwrap_or(Intake::Api)),
        security: body.security,
    };
    let details = TicketDetails {
        subject: body.subject,
        description: body.description,
        requester: caller.user().org.as_ref().map(|_| caller.user().id.clone()),
    };
    let extras =
        Extras { actor: Some(caller.user().id.clone()), details: Some(details.clone()), comment: None, applies: None };
    let mut events = vec![Event::new(now, id.clone(), kind)];
    events.extend(bridge.map(|url| Event::new(now, id.clone(), EventKind::BridgeGiven { url })));
    state.record(events, extras).await?;
    // Read back for the number the store gave it (its key).
    let (t, _) = state.ports.queries.ticket(&id).await?.ok_or_else(|| ApiError::not_found("ticket"))?;
    Ok((StatusCode::CREATED, axum::Json(view(state.contract(), t, now))))
}

/// Does what the caller asked, through the application's one call, and answers with the
/// ticket afterwards.
async fn act(state: &AppState, caller: &Caller, id: &str, commands: Vec<Command>) -> Result<Acted, ApiError> {
    Ok(state.tickets().act(caller.principal(), &ticket_ref(id)?, commands).await?)
}

fn answer(state: &AppState, acted: Acted) -> axum::Json<TicketView> {
    axum::Json(view(state.contract(), acted.found.ticket, state.now()))
}

/// Changes to severity and/or status: at least one of them.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct UpdateTicket {
    #[schema(nullable = false)]
    severity: Option<String>,
    /// waiting_on_customer | resolved | open (reopens a resolved ticket, or ends the wait on the
    /// customer).
    #[schema(nullable = false, pattern = "^(open|waiting_on_customer|resolved)$")]
    status: Option<String>,
}

/// Changes a ticket's severity (the contract's rules for severity changes apply) and/or its
/// status, as one change: both happen, or neither.
#[utoipa::path(patch, path = "/api/v1/tickets/{id}", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")), request_body = UpdateTicket,
    responses((status = 200, body = TicketView), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn update_ticket(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<UpdateTicket>,
) -> Result<axum::Json<TicketView>, ApiError> {
    let found = ticket_for(&state, &caller, &id, &[Action::ReadTicket]).await?;
    let mut asked = Vec::new();
    if let Some(s) = &body.severity {
        asked.push(Command::ChangeSeverity(check_severity(state.contract(), s)?));
    }
    if let Some(s) = &body.status {
        let wanted = parse_status(s).map_err(|e| ApiError::unprocessable(e.detail))?;
        asked.push(match (found.ticket.state.status, wanted) {
            (_, Status::WaitingOnCustomer) => Command::WaitOnCustomer,
            (_, Status::Resolved) => Command::Resolve,
            (Status::Resolved, Status::Open) => Command::Reopen,
            (Status::WaitingOnCustomer, Status::Open) => Command::StopWaiting,
            (Status::Open, Status::Open) => return Err(ApiError::unprocessable("the ticket is open already")),
        });
    }
    if asked.is_empty() {
        return Err(ApiError::unprocessable("give severity and/or status"));
    }
    let acted = state.tickets().act_on(caller.principal(), found, asked).await?;
    Ok(answer(&state, acted))
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
    responses((status = 201, body = TicketView), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn add_comment(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<AddComment>,
) -> Result<impl IntoResponse, ApiError> {
    let comment = Command::Comment { id: state.new_id("cmt"), public: body.public.unwrap_or(true), body: body.body };
    let acted = act(&state, &caller, &id, vec![comment]).await?;
    Ok((StatusCode::CREATED, answer(&state, acted)))
}

/// Acknowledges a ticket (and its pages): stops escalation and counts as the response.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/acknowledge", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")),
    responses((status = 200, body = TicketView), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub async fn acknowledge(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<TicketView>, ApiError> {
    Ok(answer(&state, act(&state, &caller, &id, vec![Command::Acknowledge]).await?))
}

/// Resolves a ticket.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/resolve", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")),
    responses((status = 200, body = TicketView), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub async fn resolve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<TicketView>, ApiError> {
    Ok(answer(&state, act(&state, &caller, &id, vec![Command::Resolve]).await?))
}

/// Reopens a resolved ticket.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/reopen", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")),
    responses((status = 200, body = TicketView), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub async fn reopen(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<TicketView>, ApiError> {
    Ok(answer(&state, act(&state, &caller, &id, vec![Command::Reopen]).await?))
}

/// Who works a ticket.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    /// A staff user who may see the ticket; `null` gives it back to the queue.
    #[schema(value_type = Option<String>, pattern = "^usr_[0-9A-HJKMNP-TV-Z]{26}$")]
    assignee: Option<String>,
}

/// Gives a ticket to a staff member to work (take it: name yourself), or back to the queue.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/assign", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")), request_body = Assign,
    responses((status = 200, body = TicketView), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn assign(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<Assign>,
) -> Result<axum::Json<TicketView>, ApiError> {
    let to = body.assignee.map(UserId);
    Ok(answer(&state, act(&state, &caller, &id, vec![Command::Assign(to)]).await?))
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

/// Records who joined a security incident's bridge (and where it is): the contract's
/// bridge deadline is met when someone of its required role joins in time.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/bridge", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")), request_body = RecordBridge,
    responses((status = 200, body = TicketView), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn record_bridge(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<RecordBridge>,
) -> Result<axum::Json<TicketView>, ApiError> {
    let command =
        Command::RecordBridge { url: body.url, joined_by: body.joined_by.filter(|j| !j.is_empty()).map(UserId) };
    Ok(answer(&state, act(&state, &caller, &id, vec![command]).await?))
}

/// What a customer page did.
#[derive(Serialize, ToSchema)]
pub struct PageView {
    /// The pages sent, by role (none while the customer's last page is in flight).
    paged: Vec<String>,
    /// The customer's last page, still unanswered: nothing was paged again.
    #[serde(skip_serializing_if = "Option::is_none")]
    in_flight: Option<InFlightView>,
    /// The ticket afterwards.
    ticket: TicketView,
}

/// A customer page in flight: made and not answered (the ticket not acknowledged) yet.
#[derive(Serialize, ToSchema)]
pub struct InFlightView {
    /// When on-call was paged (RFC 3339).
    paged_at: String,
    /// When the escalation's next step pages someone else, if one will (RFC 3339).
    escalates_at: Option<String>,
    /// The same in words.
    says: String,
}

/// The customer's "page on-call" (portal button, API, or staff taking the phone line):
/// Enterprise for any open ticket; Pro for a P1 still unacknowledged 30 minutes after opening
/// — before that it is refused with `opens_at`, the instant it opens (409: it depends on the
/// moment, like a conflict with the ticket's current state). While the customer's last page
/// is in flight (not answered: the ticket not acknowledged since), nothing is paged again and
/// the answer (200) says when it was paged and when it escalates. Rate-limited per ticket.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/page", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")),
    responses((status = 202, description = "Paged", body = PageView), (status = 200, description = "The last page is still in flight: nothing paged again", body = PageView), (status = 404, body = crate::error::Problem), (status = 409, description = "Refused; `opens_at` says when it opens, if ever", body = crate::error::Problem), (status = 429, body = crate::error::Problem)))]
pub async fn page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<impl IntoResponse, ApiError> {
    let acted = act(&state, &caller, &id, vec![Command::PageOnCall]).await?;
    let (status, paged, in_flight) = match acted.paged()? {
        PageOutcome::Paged(roles) => (StatusCode::ACCEPTED, roles, None),
        PageOutcome::InFlight(f) => {
            let says = in_flight_words(&f, |t| t.strftime("%H:%M UTC").to_string());
            let view = InFlightView {
                paged_at: f.paged_at.to_string(),
                escalates_at: f.escalates_at.map(|t| t.to_string()),
                says,
            };
            (StatusCode::OK, Vec::new(), Some(view))
        }
    };
    Ok((
        status,
        axum::Json(PageView { paged, in_flight, ticket: view(state.contract(), acted.found.ticket, state.now()) }),
    ))
}
