//! The customer portal: my org's tickets (open and closed, searchable), opening a ticket
//! with the contract's severity definitions and this org's targets beside the chooser, a
//! separate security-incident form, and the ticket page with reply and the on-call page
//! button exactly as the contract allows.

use super::session::{PageForm, Session, Signed};
use super::text;
use super::ticket::{self, status_words};
use super::{Nav, PageError, PageResult, render, see_other};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use stringer_app::act::{ActError, Command, MAX_BRIDGE_URL, PageOutcome, check_bridge_address, in_flight_words};
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
    /// A security incident's severity under the contract, e.g. "P1 — Critical".
    security_severity: String,
    /// What was typed, kept when the form is refused.
    typed: OpenTicket,
    /// Why it was refused, beside the field it concerns.
    errors: FieldErrors,
}

/// Why the open form was refused, field by field.
#[derive(Default)]
struct FieldErrors {
    severity: Option<String>,
    subject: Option<String>,
    description: Option<String>,
    bridge: Option<String>,
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
                .map(|name| match contract.target(name, &org.tier, sev) {
                    Ok(cell) => format!("{name} within {}", contract.target_words(cell)),
                    Err(uncovered) => format!("{name}: {uncovered}"),
                })
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

fn new_page(
    state: &AppState,
    session: &Session,
    org: &OrgRecord,
    typed: OpenTicket,
    errors: FieldErrors,
) -> PageResult {
    let contract = state.contract();
    let tier = contract.tiers.get(&org.tier);
    let security_severity = contract.security_severity(&org.tier);
    let refused = errors.severity.is_some()
        || errors.subject.is_some()
        || errors.description.is_some()
        || errors.bridge.is_some();
    let mut response = render(&NewPage {
        nav: Nav::of(session),
        org: org.name.clone(),
        tier: tier.map_or_else(|| org.tier.to_string(), |t| t.name.clone()),
        coverage: tier.and_then(|t| t.summary.clone()).unwrap_or_default(),
        severities: choices(state, org),
        security: typed.security.is_some(),
        security_severity: contract
            .severities
            .get(security_severity)
            .map_or_else(|| security_severity.to_string(), |def| format!("{security_severity} — {}", def.name)),
        typed,
        errors,
    })?;
    if refused {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// The form to open a ticket (or, with `?security=true`, to report a security incident).
pub async fn new_form(State(state): State<AppState>, Signed(session): Signed, Query(k): Query<Kind>) -> PageResult {
    let org = own_org(&state, &session).await?;
    let typed = OpenTicket { security: k.security.then(|| "on".to_string()), ..OpenTicket::default() };
    new_page(&state, &session, &org, typed, FieldErrors::default())
}

/// What the open form sends.
#[derive(Default, Deserialize)]
pub struct OpenTicket {
    /// Absent on the security form: the contract says which.
    #[serde(default)]
    severity: String,
    subject: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    security: Option<String>,
    /// A security incident's bridge: a meeting link or a phone bridge.
    #[serde(default)]
    bridge: String,
}

/// Opens a ticket (or reports a security incident, at the severity the contract gives it)
/// for the customer's org, then shows it; refused, the form again with what was typed.
pub async fn open(State(state): State<AppState>, PageForm(session, form): PageForm<OpenTicket>) -> PageResult {
    let org = own_org(&state, &session).await?;
    let contract = state.contract();
    let security = form.security.is_some();
    let mut errors = FieldErrors::default();
    let severity =
        if security { Some(contract.security_severity(&org.tier).clone()) } else { contract.severity(&form.severity) };
    if severity.is_none() {
        errors.severity = Some("Choose a severity.".into());
    }
    if form.subject.trim().is_empty() || form.subject.len() > MAX_SUBJECT {
        errors.subject = Some(format!("The subject takes 1 to {MAX_SUBJECT} characters."));
    }
    if form.description.len() > MAX_TEXT {
        errors.description = Some(format!("The description takes at most {MAX_TEXT} bytes."));
    }
    let bridge = match form.bridge.trim() {
        "" => None,
        _ if !security => None,
        typed => match check_bridge_address(typed) {
            Ok(address) => Some(address),
            Err(_) => {
                errors.bridge = Some(format!(
                    "Give a meeting link (https://…) or a phone bridge (+ and the number, then a comma and the access code), at most {MAX_BRIDGE_URL} characters."
                ));
                None
            }
        },
    };
    let Some(severity) =
        severity.filter(|_| errors.subject.is_none() && errors.description.is_none() && errors.bridge.is_none())
    else {
        return new_page(&state, &session, &org, form, errors);
    };
    let details = NewTicket {
        severity,
        security,
        intake: Intake::Portal,
        subject: form.subject,
        description: form.description,
        requester: None,
        bridge,
    };
    let key = record_new(&state, &session, &org, details).await?;
    see_other(&format!("/portal/tickets/{key}"))
}

/// A ticket to open from the pages (portal or console).
pub struct NewTicket {
    /// Its severity.
    pub severity: stringer_core::ids::Severity,
    /// A security incident.
    pub security: bool,
    /// Where it came in.
    pub intake: Intake,
    /// One line.
    pub subject: String,
    /// What is happening.
    pub description: String,
    /// For whom (staff opening it for a customer); the customer themselves when `None`.
    pub requester: Option<stringer_core::ids::UserId>,
    /// A security incident's bridge, checked.
    pub bridge: Option<String>,
}

/// Records a new ticket (portal or console), with the bridge its customer gave, and answers
/// its key.
pub async fn record_new(
    state: &AppState,
    session: &Session,
    org: &OrgRecord,
    new: NewTicket,
) -> Result<String, PageError> {
    let caller = &session.caller;
    let id = TicketId(state.new_id("tkt"));
    let kind = EventKind::Opened {
        org: org.slug.clone(),
        severity: new.severity,
        intake: Some(new.intake),
        security: new.security,
    };
    let details = TicketDetails {
        subject: new.subject.trim().to_string(),
        description: new.description,
        requester: new.requester.or_else(|| caller.user().org.as_ref().map(|_| caller.user().id.clone())),
    };
    let extras = Extras { actor: Some(caller.user().id.clone()), details: Some(details), comment: None, applies: None };
    let now = state.now();
    let mut events = vec![Event::new(now, id.clone(), kind)];
    events.extend(new.bridge.map(|url| Event::new(now, id.clone(), EventKind::BridgeGiven { url })));
    state.record(events, extras).await.map_err(crate::ApiError::from)?;
    let (t, _) = state.ports.queries.ticket(&id).await?.ok_or_else(|| PageError::not_found("ticket"))?;
    Ok(t.key().to_string())
}

/// The ticket page.
pub async fn ticket(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path(key): Path<String>,
    Query(q): Query<PagedQuery>,
) -> PageResult {
    let found = ticket::find(&state, &session, &key).await?;
    let flash = q.paged.map(|outcome| page_words(&state, &session, &found.ticket.state, outcome));
    render(&ticket::page(&state, &session, found, false, flash).await?)
}

/// What the on-call page button did, carried by its redirect so the ticket's page can say it
/// (and a reload says it again without paging again).
#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageResultKind {
    /// Paged now.
    Sent,
    /// The last page is still in flight: nothing paged again.
    InFlight,
    /// The contract did not allow it.
    Refused,
    /// Too soon after the last presses.
    TooSoon,
}

/// The ticket page's query: what the on-call page button did, if it was just pressed.
#[derive(Deserialize)]
pub struct PagedQuery {
    #[serde(default)]
    paged: Option<PageResultKind>,
}

/// What the on-call page button did, in words, from the ticket as it stands.
fn page_words(
    state: &AppState,
    session: &Session,
    t: &stringer_core::ticket::Ticket,
    outcome: PageResultKind,
) -> String {
    let contract = state.contract();
    let tz = text::zone(session.caller.user().time_zone.as_deref());
    let time = |at| text::instant(at, &tz);
    match outcome {
        PageResultKind::Sent => {
            let role = contract.escalation(&t.tier).ok().and_then(|p| p.steps.first()).map_or_else(
                || "on-call engineer".to_string(),
                |s| stringer_app::postmortem::words::role(s.notify.as_str()),
            );
            match t.customer_paged_at {
                Some(at) => format!("Paged the {role} at {}: they have been alerted.", time(at)),
                None => format!("Paged the {role}; they have answered since."),
            }
        }
        PageResultKind::InFlight => match t.customer_page_in_flight(contract) {
            Ok(Some(f)) => format!("Not paged again. {}", in_flight_words(&f, time)),
            Ok(None) => "On-call was paged and has answered since.".to_string(),
            Err(uncovered) => format!("Not paged: {uncovered}."),
        },
        PageResultKind::Refused => match t.customer_page_refusal(contract, state.now()) {
            Some((opens_at, reason)) => {
                let when = opens_at.map(|at| format!(" It opens {}.", time(at))).unwrap_or_default();
                format!("Not paged: {reason}.{when}")
            }
            None => "Not paged then; the on-call line is open now.".to_string(),
        },
        PageResultKind::TooSoon => "Not paged: this ticket was paged a moment ago; try again in a minute.".to_string(),
    }
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
    commands.push(Command::Comment { id: state.new_id("cmt"), public: true, body: form.body });
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

/// The on-call page button: what the contract allows happens (a page, or nothing while the
/// last one is in flight), then POST → 303 → the ticket's page, which says what — so a
/// reload never presses the button again.
pub async fn page(
    State(state): State<AppState>,
    Path(key): Path<String>,
    PageForm(session, _): PageForm<serde::de::IgnoredAny>,
) -> PageResult {
    let found = ticket::find(&state, &session, &key).await?;
    let acted = state.tickets().act_on(session.caller.principal(), found, vec![Command::PageOnCall]).await;
    let outcome = match acted.and_then(|acted| acted.paged()) {
        Ok(PageOutcome::Paged(_)) => "sent",
        Ok(PageOutcome::InFlight(_)) => "in_flight",
        Err(ActError::Refused { .. }) => "refused",
        Err(ActError::TooSoon(_)) => "too_soon",
        Err(e) => return Err(crate::ApiError::from(e).into()),
    };
    see_other(&format!("/portal/tickets/{key}?paged={outcome}"))
}
