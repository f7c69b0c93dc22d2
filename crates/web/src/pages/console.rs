//! The engineer console: the queue sorted by what breaches first (breached at the top), with
//! filters and full-text search, refreshing itself every few seconds (htmx polling; without
//! JavaScript it is a plain page to reload); the ticket page with take/assign, reply,
//! internal note, acknowledge, severity, resolve and reopen; and opening a ticket on a
//! customer's behalf.

use super::portal::{NewTicket, Row, choices, record_new, row};
use super::session::{PageForm, Session, Signed};
use super::text;
use super::ticket;
use super::{Nav, PageError, PageResult, render, see_other};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use stringer_app::act::Command;
use stringer_app::act::MAX_SUBJECT;
use stringer_app::records::{TicketFilter, TicketOrder};
use stringer_core::access::{self, Action, Object, Reach};
use stringer_core::ids::{Intake, OrgSlug, UserId};
use stringer_core::ticket::Status;

/// The queue's filters (all optional; as a query string, so a filtered queue is a link).
#[derive(Deserialize, Default, Clone)]
pub struct QueueQuery {
    #[serde(default)]
    org: String,
    #[serde(default)]
    tier: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    status: String,
    /// `mine`, `unassigned`, or a staff user id.
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    q: String,
}

impl QueueQuery {
    fn query_string(&self) -> String {
        serde_urlencoded::to_string([
            ("org", &self.org),
            ("tier", &self.tier),
            ("severity", &self.severity),
            ("status", &self.status),
            ("assignee", &self.assignee),
            ("q", &self.q),
        ])
        .unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "console_queue.html")]
struct QueuePage {
    nav: Nav,
    rows: Vec<Row>,
    f: QueueQuery,
    query: String,
    orgs: Vec<(String, String)>,
    tiers: Vec<String>,
    severities: Vec<String>,
}

#[derive(Template)]
#[template(path = "queue_rows.html")]
struct QueueRows {
    rows: Vec<Row>,
}

/// The rows of the queue for a reader and filters, most urgent first.
async fn rows(state: &AppState, session: &Session, f: &QueueQuery) -> Result<Vec<Row>, PageError> {
    let caller = &session.caller;
    caller.may_list(Action::OpenConsole)?;
    let reach = access::reach(&caller.actor());
    let org = if f.org.is_empty() {
        None
    } else {
        match state.ports.accounts.org(&OrgSlug::from(f.org.as_str())).await? {
            Some(o) if reach.includes(o.as_ref()) => Some(o.slug),
            _ => return Ok(Vec::new()),
        }
    };
    let status = match f.status.as_str() {
        "open" => Some(Status::Open),
        "waiting_on_customer" => Some(Status::WaitingOnCustomer),
        "resolved" => Some(Status::Resolved),
        _ => None,
    };
    let assignee = match f.assignee.as_str() {
        "" => None,
        "mine" => Some(Some(caller.user().id.clone())),
        "unassigned" => Some(None),
        other => Some(Some(UserId::from(other))),
    };
    let search = f.q.trim().chars().take(200).collect::<String>();
    let filter = TicketFilter {
        org,
        hide_federal: matches!(reach, Reach::AllOrgs { federal: false }),
        status,
        unresolved: status.is_none(),
        severity: state.contract().severity(&f.severity),
        tier: state.contract().tier(&f.tier),
        assignee,
        search: (!search.is_empty()).then_some(search),
        search_internal: true,
        limit: 100,
        order: TicketOrder::DueFirst,
        ..TicketFilter::default()
    };
    let tickets = state.ports.queries.tickets(&filter).await?;
    let tz = text::zone(caller.user().time_zone.as_deref());
    let names = ticket::names(state, tickets.iter().filter_map(|t| t.state.assignee.as_deref())).await?;
    Ok(tickets.iter().map(|t| row(state, t, "/console", &tz, &names)).collect())
}

/// The queue.
pub async fn queue(State(state): State<AppState>, Signed(session): Signed, Query(f): Query<QueueQuery>) -> PageResult {
    let rows = rows(&state, &session, &f).await?;
    let reach = access::reach(&session.caller.actor());
    let orgs = state
        .ports
        .accounts
        .orgs()
        .await?
        .into_iter()
        .filter(|o| reach.includes(o.as_ref()))
        .map(|o| (o.slug.to_string(), o.name))
        .collect();
    let contract = state.contract();
    render(&QueuePage {
        nav: Nav::warned(&state, &session).await?,
        rows,
        query: f.query_string(),
        f,
        orgs,
        tiers: contract.tiers.keys().map(|t| t.to_string()).collect(),
        severities: contract.severities.keys().map(|s| s.to_string()).collect(),
    })
}

/// The queue's rows alone, for the page to refresh itself.
pub async fn queue_rows(
    State(state): State<AppState>,
    Signed(session): Signed,
    Query(f): Query<QueueQuery>,
) -> PageResult {
    render(&QueueRows { rows: rows(&state, &session, &f).await? })
}

/// The ticket page.
pub async fn ticket(State(state): State<AppState>, Signed(session): Signed, Path(key): Path<String>) -> PageResult {
    session.caller.may_list(Action::OpenConsole)?;
    let found = ticket::find(&state, &session, &key).await?;
    render(&ticket::page(&state, &session, found, true, None).await?)
}

/// What the ticket page's forms send (each form the fields of its action).
#[derive(Deserialize)]
pub struct ActForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    url: String,
}

/// One of the ticket page's actions: take, assign, reply, note, acknowledge, severity,
/// bridge, wait on the customer and stop waiting, resolve, reopen. Each is asked of the policy, then recorded as one change.
pub async fn act(
    State(state): State<AppState>,
    Path((key, action)): Path<(String, String)>,
    PageForm(session, form): PageForm<ActForm>,
) -> PageResult {
    session.caller.may_list(Action::OpenConsole)?;
    let found = ticket::find(&state, &session, &key).await?;
    let command = match action.as_str() {
        "take" => Command::Assign(Some(session.caller.user().id.clone())),
        "assign" => Command::Assign((!form.assignee.is_empty()).then(|| UserId(form.assignee.clone()))),
        "reply" | "note" => Command::Comment { id: state.new_id("cmt"), public: action == "reply", body: form.body },
        "bridge" => Command::RecordBridge {
            url: Some(form.url.clone()),
            joined_by: (!form.assignee.is_empty()).then(|| UserId(form.assignee.clone())),
        },
        "acknowledge" => Command::Acknowledge,
        "resolve" => Command::Resolve,
        "reopen" => Command::Reopen,
        "wait" => Command::WaitOnCustomer,
        "stop-waiting" => Command::StopWaiting,
        "severity" => match state.contract().severity(&form.severity) {
            Some(severity) => Command::ChangeSeverity(severity),
            None => return Err(PageError::bad_request("Choose a severity.")),
        },
        _ => return Err(PageError::not_found("action")),
    };
    state.tickets().act_on(session.caller.principal(), found, vec![command]).await.map_err(crate::ApiError::from)?;
    see_other(&format!("/console/tickets/{key}"))
}

#[derive(Template)]
#[template(path = "console_new.html")]
struct NewPage {
    nav: Nav,
    orgs: Vec<(String, String)>,
    requesters: Vec<(String, String)>,
    severities: Vec<super::portal::SeverityChoice>,
    error: Option<String>,
}

async fn new_page(state: &AppState, session: &Session, error: Option<String>) -> PageResult {
    let caller = &session.caller;
    let orgs: Vec<_> = state
        .ports
        .accounts
        .orgs()
        .await?
        .into_iter()
        .filter(|o| caller.allowed(Action::OpenTicket, Some(Object::Org(o.as_ref()))))
        .collect();
    let mut requesters = Vec::new();
    for o in &orgs {
        for u in state.ports.accounts.users(Some(&o.slug)).await? {
            if u.deactivated_at.is_none() {
                requesters.push((u.id.to_string(), format!("{} ({}, {})", u.name, u.email, o.name)));
            }
        }
    }
    let severities = orgs.first().map(|o| choices(state, o)).unwrap_or_default();
    let orgs = orgs.into_iter().map(|o| (o.slug.to_string(), o.name)).collect();
    render(&NewPage { nav: Nav::of(session), orgs, requesters, severities, error })
}

/// The form to open a ticket on a customer's behalf (a call, a conversation).
pub async fn new_form(State(state): State<AppState>, Signed(session): Signed) -> PageResult {
    session.caller.may_list(Action::OpenConsole)?;
    new_page(&state, &session, None).await
}

/// What the on-behalf form sends.
#[derive(Deserialize)]
pub struct OnBehalf {
    org: String,
    #[serde(default)]
    requester: String,
    severity: String,
    subject: String,
    #[serde(default)]
    description: String,
    /// phone, email, slack, portal or api: how the request came in.
    #[serde(default)]
    channel: String,
    #[serde(default)]
    security: Option<String>,
}

/// Opens the ticket with the requester recorded, then shows it.
pub async fn open(State(state): State<AppState>, PageForm(session, form): PageForm<OnBehalf>) -> PageResult {
    session.caller.may_list(Action::OpenConsole)?;
    let org = state.accounts().org(session.caller.principal(), &form.org, Action::OpenTicket).await?;
    let Some(severity) = state.contract().severity(&form.severity) else {
        return new_page(&state, &session, Some("Choose a severity.".into())).await;
    };
    if form.subject.trim().is_empty() || form.subject.len() > MAX_SUBJECT {
        return new_page(&state, &session, Some(format!("The subject takes 1 to {MAX_SUBJECT} characters."))).await;
    }
    let requester = if form.requester.is_empty() {
        None
    } else {
        let user = state.ports.accounts.user(&UserId::from(form.requester.as_str())).await?;
        match user.filter(|u| u.org.as_ref() == Some(&org.slug)) {
            Some(u) => Some(u.id),
            None => return new_page(&state, &session, Some("The requester is not a user of that org.".into())).await,
        }
    };
    let intake = serde_json::from_value(serde_json::Value::String(form.channel.clone())).unwrap_or(Intake::Phone);
    let security = form.security.is_some();
    // A security incident opens at the contract's security severity, as the core rules it.
    let severity = if security { state.contract().security_severity(&org.tier).clone() } else { severity };
    let new = NewTicket {
        severity,
        security,
        intake,
        subject: form.subject,
        description: form.description,
        requester,
        bridge: None,
    };
    let key = record_new(&state, &session, &org, new).await?;
    see_other(&format!("/console/tickets/{key}"))
}
