//! The ticket page, shared by the portal and the console: the conversation, the SLA clocks
//! in words, and — for staff — internal notes set apart, the full timeline naming people
//! (who was paged, how, delivered or failed and why, who acknowledged) and the buttons the
//! policy allows. What a customer sees of the timeline is what the API shows them.

use super::text::{self, ClockWords};
use super::{Nav, PageError};
use crate::AppState;
use crate::reads::ticket_for;
use askama::Template;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::collections::HashMap;
use stringer_app::act::Found;
use stringer_core::access::Action;
use stringer_core::ticket::Status;

use super::session::Session;

/// One comment as shown.
pub struct CommentLine {
    /// Who wrote it (a name).
    pub author: String,
    /// When, in the reader's zone.
    pub at: String,
    /// The text (escaped by the template).
    pub body: String,
    /// An internal note (staff only).
    pub internal: bool,
}

/// One timeline line.
pub struct TimelineLine {
    /// When.
    pub at: String,
    /// What happened, in words.
    pub what: String,
}

/// One delivery of a page.
pub struct DeliveryLine {
    /// To whom.
    pub to: String,
    /// How (mail, Slack, SMS, voice, webhook).
    pub method: String,
    /// sent, failed, pending …
    pub status: String,
    /// Why it failed, if it did.
    pub error: String,
    /// When it was sent or queued.
    pub at: String,
}

/// A security incident's bridge as shown.
pub struct BridgeLine {
    /// When someone of the contract's role must have joined.
    pub due: String,
    /// Who joined in that role, and when; empty while nobody has.
    pub joined: String,
    /// Where the bridge is, if said: a meeting link or a phone bridge.
    pub url: String,
    /// The link that joins it: the meeting link, or `tel:` and the phone bridge.
    pub href: String,
    /// The staff role the contract requires.
    pub role: String,
}

/// An attachment as listed.
pub struct FileLine {
    /// Where to download it.
    pub href: String,
    /// Its name.
    pub name: String,
    /// "12 KB".
    pub size: String,
    /// Who attached it, and when.
    pub by: String,
    /// Staff only.
    pub internal: bool,
}

/// What the buttons may do, as the policy answers for this reader and ticket.
pub struct Allowed {
    /// Public reply.
    pub reply: bool,
    /// Internal note.
    pub note: bool,
    /// Acknowledge.
    pub acknowledge: bool,
    /// Resolve.
    pub resolve: bool,
    /// Reopen.
    pub reopen: bool,
    /// Take / assign.
    pub assign: bool,
    /// Page on-call (customers): the contract allows it now.
    pub page: bool,
    /// When the on-call page opens for this ticket, if it will (customers), in words.
    pub page_opens: String,
    /// Change severity.
    pub severity: bool,
    /// Record the incident bridge.
    pub bridge: bool,
    /// Set it to wait on the customer (staff, an open ticket).
    pub wait: bool,
    /// End the wait on the customer (staff, a waiting ticket).
    pub stop_waiting: bool,
}

/// The ticket page.
#[derive(Template)]
#[template(path = "ticket.html")]
pub struct TicketPage {
    /// The frame.
    pub nav: Nav,
    /// Console (staff) or portal.
    pub staff: bool,
    /// Where the page's forms post, e.g. `/console/tickets/ACME-42`.
    pub base: String,
    /// `ACME-42`.
    pub key: String,
    /// The org's name.
    pub org: String,
    /// One line.
    pub subject: String,
    /// As written.
    pub description: String,
    /// P1…P4.
    pub severity: String,
    /// What it means, from the contract.
    pub severity_meaning: String,
    /// open, waiting on customer, resolved.
    pub status: String,
    /// A security incident.
    pub security: bool,
    /// Who asked.
    pub requester: String,
    /// Who works it.
    pub assignee: String,
    /// When it opened, and for how long.
    pub opened: String,
    /// The clocks in words.
    pub clocks: Vec<ClockWords>,
    /// The conversation.
    pub comments: Vec<CommentLine>,
    /// The timeline (staff: everything; customers: what the API shows them).
    pub timeline: Vec<TimelineLine>,
    /// Deliveries of the pages (staff).
    pub deliveries: Vec<DeliveryLine>,
    /// What the buttons may do.
    pub allowed: Allowed,
    /// For the severity chooser.
    pub severities: Vec<String>,
    /// The result of the last action (e.g. "Paged on-call: on_call, tam").
    pub flash: Option<String>,
    /// The staff one may assign to: (id, name).
    pub staff_list: Vec<(String, String)>,
    /// The incident bridge, for security incidents.
    pub bridge: Option<BridgeLine>,
    /// The attachments the reader may see.
    pub files: Vec<FileLine>,
    /// Staff: the messages that came in by mail, each with its original.
    pub mails: Vec<(String, String)>,
    /// Staff: the monitoring alerts behind the ticket, in words.
    pub alerts: Vec<String>,
    /// Staff: what changed around it (the org's change events), in words.
    pub changes: Vec<String>,
    /// Staff: the status page incident opened from it, or the suggestion to open one.
    pub status_incident: Option<StatusIncidentLine>,
    /// Staff: its post-incident report's stage and due time in words, when it has one.
    pub report: Option<String>,
    /// "Verify this timeline": the ledger bundle's download and the head it covers.
    pub ledger: Option<super::proof::LedgerNote>,
}

/// A ticket's incident on its org's status page, as the console shows it.
pub struct StatusIncidentLine {
    /// The incident opened from the ticket: (its name and status, the console's page of it).
    pub opened: Option<(String, String)>,
    /// The ticket is its tenant's most severe kind, on a dedicated or federal deployment,
    /// and the reader may open an incident: the console suggests it.
    pub suggest: bool,
}

/// Reads a ticket for the ticket page (404, also for another org's ticket, exactly like a
/// missing one).
pub async fn find(state: &AppState, session: &Session, key: &str) -> Result<Found, PageError> {
    ticket_for(state, &session.caller, key, &[Action::ReadTicket]).await.map_err(|e| {
        if e.status == axum::http::StatusCode::BAD_REQUEST { PageError::not_found("ticket") } else { e.into() }
    })
}

/// Builds the ticket page for the reader.
pub async fn page(
    state: &AppState,
    session: &Session,
    found: Found,
    staff: bool,
    flash: Option<String>,
) -> Result<TicketPage, PageError> {
    let caller = &session.caller;
    let tz = text::zone(caller.user().time_zone.as_deref());
    let now = state.now();
    let contract = state.contract();
    let internal = caller.sees_internals(&found);
    let object = found.object();
    let may = |a: Action| caller.allowed(a, Some(object));
    let t = &found.ticket;
    let s = &t.state;
    let comments: Vec<_> =
        state.ports.queries.comments(&t.id).await?.into_iter().filter(|c| c.public || internal).collect();
    let entries: Vec<_> = state
        .ports
        .queries
        .timeline(&t.id, 0, 1000)
        .await?
        .into_iter()
        .filter_map(|e| if internal { Some(e) } else { e.customer_view() })
        .collect();
    let deliveries = if caller.allowed(Action::ReadDeliveries, Some(object)) {
        state.ports.queries.deliveries(&t.id).await?
    } else {
        Vec::new()
    };
    let files = crate::attachments::visible(state, caller, &found).await?;
    // The people this page names, and only they, are read.
    let mut named: Vec<String> = comments.iter().map(|c| c.author.to_string()).collect();
    named.extend(deliveries.iter().map(|d| d.user_id.clone()));
    named.extend(files.iter().map(|a| a.uploaded_by.to_string()));
    named.extend(t.requester.iter().map(|r| r.to_string()));
    named.extend(s.assignee.iter().cloned());
    named.extend(s.bridge.as_ref().and_then(|b| b.joined.as_ref()).map(|(_, by)| by.clone()));
    named.extend(entries.iter().flat_map(stringer_app::postmortem::words::people));
    let names = names(state, named.iter().map(String::as_str)).await?;
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let comments = comments
        .into_iter()
        .map(|c| CommentLine {
            author: name(c.author.as_str()),
            at: at(c.created_at, &tz),
            body: c.body,
            internal: !c.public,
        })
        .collect();
    let timeline = entries
        .into_iter()
        .map(|e| TimelineLine { at: at(e.at, &tz), what: stringer_app::postmortem::words::describe(&e, &name) })
        .collect();
    let deliveries = deliveries
        .into_iter()
        .map(|d| DeliveryLine {
            to: name(&d.user_id),
            method: format!("{:?}", d.kind).to_lowercase(),
            status: d.status,
            error: d.last_error.unwrap_or_default(),
            at: at(d.sent_at.unwrap_or(d.created_at), &tz),
        })
        .collect();
    let files = files
        .into_iter()
        .map(|a| FileLine {
            href: format!("/files/{}", a.id),
            size: if a.size < 1024 { format!("{} bytes", a.size) } else { format!("{} KB", (a.size + 1023) / 1024) },
            by: format!("{}, {}", name(a.uploaded_by.as_str()), at(a.created_at, &tz)),
            internal: !a.public,
            name: a.filename,
        })
        .collect();
    let mails = if internal {
        state
            .ports
            .mailroom
            .inbound_of_ticket(&found.ticket.id, 50)
            .await?
            .into_iter()
            .map(|m| {
                let what = format!(
                    "{} · {} · {}",
                    m.sender.unwrap_or_default(),
                    m.subject.unwrap_or_default(),
                    at(m.received_at_ms / 1000, &tz)
                );
                (format!("/console/mail/{}/original", m.id), what)
            })
            .collect()
    } else {
        Vec::new()
    };
    let (alerts, changes) = if internal {
        let alerts = state.ports.alerts.alerts_of_ticket(&found.ticket.id).await?;
        let alerts = alerts
            .into_iter()
            .map(|a| {
                let state = if a.open { "open" } else { "resolved by the monitor" };
                format!(
                    "{} · {} · {} trigger(s), last {} · {state}",
                    a.dedup_key,
                    a.summary,
                    a.count,
                    at(a.last_at, &tz)
                )
            })
            .collect();
        let changes = crate::reads::changes_near(state, &found.ticket)
            .await?
            .into_iter()
            .map(|c| format!("{} · {} · {}", at(c.at, &tz), c.summary, c.source))
            .collect();
        (alerts, changes)
    } else {
        (Vec::new(), Vec::new())
    };
    let open = s.status != Status::Resolved;
    let status_incident = if internal {
        let opened = state
            .ports
            .status
            .incident_of_ticket(&t.id)
            .await?
            .map(|i| (format!("{} ({})", i.name, i.phase.as_str()), format!("/console/status/{}", i.page_id)));
        let tenant = stringer_core::access::OrgRef { slug: t.org.as_str(), deployment: found.deployment };
        let most_severe = contract.severities.get_index_of(&s.severity) == Some(0);
        let suggest = opened.is_none()
            && open
            && most_severe
            && found.deployment != stringer_core::ids::Deployment::Shared
            && caller.allowed(Action::ManageStatus, Some(stringer_core::access::Object::StatusPage(Some(tenant))));
        (opened.is_some() || suggest).then_some(StatusIncidentLine { opened, suggest })
    } else {
        None
    };
    let report = if internal {
        state.ports.reports.report(&t.id).await?.map(|r| {
            let due = match r.due {
                Some(due) if r.published_at.is_none() && due < now.as_second() => {
                    format!(", overdue by {}", text::duration(now.as_second() - due))
                }
                Some(due) if r.published_at.is_none() => format!(", due {}", at(due, &tz)),
                _ => String::new(),
            };
            format!("{}{due}", r.state.as_str().replace('_', " "))
        })
    } else {
        None
    };
    let customer_may_page = !staff && may(Action::PageOnCall);
    let refusal = s.customer_page_refusal(contract, now);
    let allowed = Allowed {
        // A customer's reply on a resolved ticket reopens it, as their mail does.
        reply: (open || (!staff && may(Action::Reopen))) && may(Action::CommentPublic),
        note: open && staff && may(Action::CommentInternal),
        acknowledge: open && staff && s.acknowledged.is_none() && may(Action::Acknowledge),
        resolve: open && may(Action::Resolve),
        reopen: !open && may(Action::Reopen),
        assign: open && staff && may(Action::Assign),
        page: customer_may_page && refusal.is_none(),
        page_opens: match refusal {
            Some((Some(opens), _)) if customer_may_page => text::instant(opens, &tz),
            _ => String::new(),
        },
        severity: open && staff && may(Action::LowerSeverity),
        bridge: open && staff && s.bridge.is_some() && may(Action::RecordBridge),
        wait: staff && s.status == Status::Open && may(Action::WaitOnCustomer),
        stop_waiting: staff && s.status == Status::WaitingOnCustomer && may(Action::WaitOnCustomer),
    };
    let bridge = s.bridge.as_ref().map(|b| BridgeLine {
        due: text::instant(b.due, &tz),
        joined: b
            .joined
            .as_ref()
            .map(|(at, by)| format!("{} joined {}", name(by), text::instant(*at, &tz)))
            .unwrap_or_default(),
        url: b.url.clone().unwrap_or_default(),
        href: b.url.as_deref().map(bridge_href).unwrap_or_default(),
        role: stringer_app::postmortem::words::role(&contract.security.bridge.role),
    });
    let staff_list = if allowed.assign || allowed.bridge {
        let mut list: Vec<(String, String)> =
            state.ports.accounts.active_staff().await?.into_iter().map(|u| (u.id.to_string(), u.name)).collect();
        list.sort_by(|a, b| a.1.cmp(&b.1));
        list
    } else {
        Vec::new()
    };
    let org = state.ports.accounts.org(&t.org).await?.map_or_else(|| t.org.to_string(), |o| o.name);
    let severity_meaning = contract.severities.get(&s.severity).map(|d| d.name.clone()).unwrap_or_default();
    let base = format!("/{}/tickets/{}", if staff { "console" } else { "portal" }, t.key());
    let ledger = super::proof::note(state, session, &base).await;
    Ok(TicketPage {
        nav: Nav::of(session),
        staff,
        base,
        key: t.key().to_string(),
        org,
        subject: t.subject.clone(),
        description: t.description.clone(),
        severity: s.severity.to_string(),
        severity_meaning,
        status: status_words(s.status).into(),
        security: s.security,
        requester: t.requester.as_ref().map(|r| name(r.as_str())).unwrap_or_else(|| "—".into()),
        assignee: s.assignee.as_deref().map(&name).unwrap_or_else(|| "nobody yet".into()),
        opened: format!(
            "{} ({} ago)",
            text::instant(s.opened_at, &tz),
            text::duration(now.as_second() - s.opened_at.as_second())
        ),
        clocks: s.clocks.iter().map(|c| text::clock(contract, c, now, &tz)).collect(),
        comments,
        timeline,
        deliveries,
        allowed,
        severities: contract.severities.keys().map(|k| k.to_string()).collect(),
        flash,
        staff_list,
        bridge,
        files,
        mails,
        alerts,
        changes,
        status_incident,
        report,
        ledger,
    })
}

/// The display names of the people `ids` name, by id: a page reads those it shows, and
/// nobody else.
pub async fn names<'a>(
    state: &AppState,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<HashMap<String, String>, PageError> {
    Ok(stringer_app::ports::names(state.ports.accounts.as_ref(), ids).await?)
}

/// Unix seconds as an instant in the reader's zone.
pub fn at(secs: i64, tz: &TimeZone) -> String {
    Timestamp::from_second(secs).map(|t| text::instant(t, tz)).unwrap_or_default()
}

/// A status in words.
pub fn status_words(s: Status) -> &'static str {
    match s {
        Status::Open => "open",
        Status::WaitingOnCustomer => "waiting on customer",
        Status::Resolved => "resolved",
    }
}

/// The link that joins a bridge: a meeting link as it is, a phone bridge as a `tel:` link
/// (its spaces and dashes dropped; commas are the dialer's pauses before the access code).
fn bridge_href(address: &str) -> String {
    if address.starts_with("https://") || address.starts_with("http://") {
        address.to_string()
    } else {
        let number: String = address.trim_start_matches("tel:").chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        format!("tel:{number}")
    }
}
