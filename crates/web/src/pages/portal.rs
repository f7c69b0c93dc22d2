//! The customer portal: my org's tickets (open and closed, searchable), opening a ticket
//! with the contract's severity definitions and this org's targets beside the chooser, a
//! separate security-incident form, and the ticket page with reply and the on-call page
//! button exactly as the contract allows.

use super::session::{PageForm, Session, Signed};
use super::text;
use super::ticket::{self, status_words};
use super::{Nav, PageError, PageResult, render, see_other};
use crate::AppState;
use crate::ids::new_id;
use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use stringer_app::act::{ActError, Command};
use stringer_app::act::{MAX_SUBJECT, MAX_TEXT};
use stringer_app::records::{OrgRecord, TicketFilter, TicketOrder};
use stringer_app::{Extras, TicketDetails};
use stringer_core::access::{self, Action, Reach};
use stringer_core::event::{Event, EventKind};
use stringer_core::ids::{Deployment, Intake, OrgSlug, TicketId};

/// One row of a ticket list.
pub struct Row {
    /// `ACME-42`.
    pub key: String,
    /// Where it opens.
    pub href: String,
    /// The org's slug.
    pub org: String,
    /// One line.
    pub subject: String,
    /// P1…P4.
    pub severity: String,
    /// In words.
    pub status: String,
    /// The most urgent clock in words.
    pub sla: String,
    /// For the stylesheet.
    pub tone: &'static str,
    /// Who works it.
    pub assignee: String,
    /// How long it has been open.
    pub age: String,
}

/// A ticket as a list row for the reader.
pub fn row(
    state: &AppState,
    t: &stringer_app::records::TicketRecord,
    base: &str,
    tz: &jiff::tz::TimeZone,
    names: &std::collections::HashMap<String, String>,
) -> Row {
    let now = state.now();
    let s = &t.state;
    // The most urgent clock: breached, then running short, then any other (met ones last).
    let worst = s.clocks.iter().map(|c| text::clock(state.contract(), c, now, tz)).min_by_key(|w| match w.tone {
        "breached" => 0,
        "soon" => 1,
        "ok" => 2,
        _ => 3,
    });
    let (sla, tone) = match worst {
        Some(w) => (format!("{}: {}", w.target, w.words), w.tone),
        None => ("—".to_string(), "done"),
    };
    Row {
        key: t.key().to_string(),
        href: format!("{base}/tickets/{}", t.key()),
        org: t.org.to_string(),
        subject: t.subject.clone(),
        severity: s.severity.to_string(),
        status: status_words(s.status).into(),
        sla,
        tone,
        assignee: s.assignee.as_ref().map(|a| names.get(a).cloned().unwrap_or_else(|| a.clone())).unwrap_or_default(),
        age: text::duration(now.as_second() - s.opened_at.as_second()),
    }
}

#[derive(Template)]
#[template(path = "portal_tickets.html")]
struct TicketsPage {
    nav: Nav,
    rows: Vec<Row>,
    q: String,
    show: String,
}

/// Filters of the portal's list.
#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    /// open (default), closed or all.
    #[serde(default)]
    show: String,
}

/// The org's tickets.
pub async fn tickets(State(state): State<AppState>, Signed(session): Signed, Query(q): Query<ListQuery>) -> PageResult {
    let caller = &session.caller;
    caller.may_list(Action::ReadTicket)?;
    let Reach::Org(own) = access::reach(&caller.actor()) else {
        return see_other("/console");
    };
    let search = q.q.trim().chars().take(200).collect::<String>();
    let show = if ["closed", "all"].contains(&q.show.as_str()) { q.show.clone() } else { "open".into() };
    let filter = TicketFilter {
        org: Some(OrgSlug::from(own)),
        unresolved: show == "open",
        status: (show == "closed").then_some(stringer_core::ticket::Status::Resolved),
        search: (!search.is_empty()).then(|| search.clone()),
        limit: 200,
        // Open tickets by urgency, as the console lists them; closed ones newest first.
        order: if show == "open" { TicketOrder::DueFirst } else { TicketOrder::Newest },
        ..TicketFilter::default()
    };
    let tz = text::zone(caller.user().time_zone.as_deref());
    let tickets = state.ports.queries.tickets(&filter).await?;
    let names = ticket::names(&state, tickets.iter().filter_map(|t| t.state.assignee.as_deref())).await?;
    let rows = tickets.iter().map(|t| row(&state, t, "/portal", &tz, &names)).collect();
    render(&TicketsPage { nav: Nav::of(&session), rows, q: search, show })
}

/// `/portal/status`: the status page that concerns the customer's org (its own page for a
/// dedicated or federal deployment, the public page otherwise).
pub async fn status(State(state): State<AppState>, Signed(session): Signed) -> PageResult {
    let Reach::Org(own) = access::reach(&session.caller.actor()) else {
        return see_other("/status");
    };
    let org = state.accounts().org(session.caller.principal(), own, Action::ReadOrg).await?;
    match org.deployment {
        Deployment::Shared => see_other("/status"),
        _ => see_other(&format!("/status/{}", org.slug)),
    }
}

/// One severity in the chooser: what it means and what this org is promised.
pub struct SeverityChoice {
    /// P1…
    pub name: String,
    /// "Critical"
    pub title: String,
    /// The contract's definition.
    pub definition: String,
    /// This org's targets, e.g. "response within 1 hour (24×7)".
    pub targets: Vec<String>,
}

#[derive(Template)]
#[template(path = "portal_new.html")]
struct NewPage {
    nav: Nav,
    org: String,
    tier: String,
    coverage: String,
    severities: Vec<SeverityChoice>,
    security: bool,
    error: Option<String>,
}

/// The severity chooser for an org: the contract's definitions and the org's targets.
pub fn choices(state: &AppState, org: &OrgRecord) -> Vec<SeverityChoice> {
    let contract = state.contract();
    contract
        .severities
        .iter()
        .map(|(sev, def)| {
            let targets = contract
                .targets
                .keys()
                .map(|name| format!("{name} within {}", contract.target_words(contract.target(name, &org.tier, sev))))
                .collect();
            SeverityChoice {
                name: sev.to_string(),
                title: def.name.clone(),
                definition: def.definition.clone(),
                targets,
            }
        })
        .collect()
}

/// Which form: a ticket, or a security incident.
#[derive(Deserialize)]
pub struct Kind {
    #[serde(default)]
    security: bool,
}

async fn own_org(state: &AppState, session: &Session) -> Result<OrgRecord, PageError> {
    let Some(own) = session.caller.user().org.clone() else {
        return Err(PageError::not_found("org"));
    };
    Ok(state.accounts().org(session.caller.principal(), own.as_str(), Action::OpenTicket).await?)
}

fn new_page(state: &AppState, session: &Session, org: &OrgRecord, security: bool, error: Option<String>) -> PageResult {
    let tier = state.contract().tiers.get(&org.tier);
    render(&NewPage {
        nav: Nav::of(session),
        org: org.name.clone(),
        tier: tier.map_or_else(|| org.tier.to_string(), |t| t.name.clone()),
        coverage: tier.and_then(|t| t.summary.clone()).unwrap_or_default(),
        severities: choices(state, org),
        security,
        error,
    })
}

/// The form to open a ticket (or, with `?security=true`, to report a security incident).
pub async fn new_form(State(state): State<AppState>, Signed(session): Signed, Query(k): Query<Kind>) -> PageResult {
    let org = own_org(&state, &session).await?;
    new_page(&state, &session, &org, k.security, None)
}

/// What the open form sends.
#[derive(Deserialize)]
pub struct OpenTicket {
    severity: String,
    subject: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    security: Option<String>,
}

/// Opens a ticket for the customer's org, then shows it.
pub async fn open(State(state): State<AppState>, PageForm(session, form): PageForm<OpenTicket>) -> PageResult {
    let org = own_org(&state, &session).await?;
    let security = form.security.is_some();
    let invalid = |msg: String| new_page(&state, &session, &org, security, Some(msg));
    let Some(severity) = state.contract().severity(&form.severity) else {
        return invalid("Choose a severity.".into());
    };
    if form.subject.trim().is_empty() || form.subject.len() > MAX_SUBJECT {
        return invalid(format!("The subject takes 1 to {MAX_SUBJECT} characters."));
    }
    if form.description.len() > MAX_TEXT {
        return invalid(format!("The description takes at most {MAX_TEXT} bytes."));
    }
    let (subject, description) = (form.subject, form.description);
    let key =
        record_new(&state, &session, &org, severity, security, Intake::Portal, subject, description, None).await?;
    see_other(&format!("/portal/tickets/{key}"))
}

/// Records a new ticket (portal or console) and answers its key.
#[allow(clippy::too_many_arguments)]
pub async fn record_new(
    state: &AppState,
    session: &Session,
    org: &OrgRecord,
    severity: stringer_core::ids::Severity,
    security: bool,
    intake: Intake,
    subject: String,
    description: String,
    requester: Option<stringer_core::ids::UserId>,
) -> Result<String, PageError> {
    let caller = &session.caller;
    let id = TicketId(new_id("tkt"));
    let kind = EventKind::Opened { org: org.slug.clone(), severity, intake: Some(intake), security };
    let details = TicketDetails {
        subject: subject.trim().to_string(),
        description,
        requester: requester.or_else(|| caller.user().org.as_ref().map(|_| caller.user().id.clone())),
    };
    let extras = Extras { actor: Some(caller.user().id.clone()), details: Some(details), comment: None };
    state.record(vec![Event::new(state.now(), id.clone(), kind)], extras).await.map_err(crate::ApiError::from)?;
    let (t, _) = state.ports.queries.ticket(&id).await?.ok_or_else(|| PageError::not_found("ticket"))?;
    Ok(t.key().to_string())
}

/// The ticket page.
pub async fn ticket(State(state): State<AppState>, Signed(session): Signed, Path(key): Path<String>) -> PageResult {
    let found = ticket::find(&state, &session, &key).await?;
    render(&ticket::page(&state, &session, found, false, None).await?)
}

/// A reply's text.
#[derive(Deserialize)]
pub struct Reply {
    body: String,
}

/// Adds the customer's reply.
pub async fn reply(
    State(state): State<AppState>,
    Path(key): Path<String>,
    PageForm(session, form): PageForm<Reply>,
) -> PageResult {
    let found = ticket::find(&state, &session, &key).await?;
    let mut commands = Vec::new();
    // Replying on a resolved ticket reopens it first, as a reply by mail does.
    if found.ticket.state.status == stringer_core::ticket::Status::Resolved {
        commands.push(Command::Reopen);
    }
    commands.push(Command::Comment { id: new_id("cmt"), public: true, body: form.body });
    state.tickets().act_on(session.caller.principal(), found, commands).await.map_err(crate::ApiError::from)?;
    see_other(&format!("/portal/tickets/{key}"))
}

/// "Mark as resolved": the customer resolves their ticket.
pub async fn resolve(
    State(state): State<AppState>,
    Path(key): Path<String>,
    PageForm(session, _): PageForm<serde::de::IgnoredAny>,
) -> PageResult {
    act_and_show(&state, &session, &key, Command::Resolve).await
}

/// "Reopen": the customer reopens a resolved ticket.
pub async fn reopen(
    State(state): State<AppState>,
    Path(key): Path<String>,
    PageForm(session, _): PageForm<serde::de::IgnoredAny>,
) -> PageResult {
    act_and_show(&state, &session, &key, Command::Reopen).await
}

/// Does one command on the customer's ticket through the one application call, then shows
/// the ticket again (POST, then 303 to its page).
async fn act_and_show(state: &AppState, session: &Session, key: &str, command: Command) -> PageResult {
    let found = ticket::find(state, session, key).await?;
    state.tickets().act_on(session.caller.principal(), found, vec![command]).await.map_err(crate::ApiError::from)?;
    see_other(&format!("/portal/tickets/{key}"))
}

/// The on-call page button: what the contract allows happens, and the page says what.
pub async fn page(
    State(state): State<AppState>,
    Path(key): Path<String>,
    PageForm(session, _): PageForm<serde::de::IgnoredAny>,
) -> PageResult {
    let found = ticket::find(&state, &session, &key).await?;
    let acted = state
        .tickets()
        .act_on(session.caller.principal(), found, vec![Command::PageOnCall])
        .await
        .map_err(crate::ApiError::from)?;
    let tz = text::zone(session.caller.user().time_zone.as_deref());
    let flash = match acted.paged() {
        Ok(roles) => {
            let roles: Vec<String> = roles.iter().map(|r| stringer_app::postmortem::words::role(r)).collect();
            format!("Paged the {}: they have been alerted now.", roles.join(" and the "))
        }
        Err(ActError::Refused { reason, opens_at }) => {
            let when = opens_at.map(|t| format!(" It opens {}.", text::instant(t, &tz))).unwrap_or_default();
            format!("Not paged: {reason}.{when}")
        }
        Err(e) => return Err(crate::ApiError::from(e).into()),
    };
    render(&ticket::page(&state, &session, acted.found, false, Some(flash)).await?)
}
