//! Post-incident reports as pages: the console's list of reports (those owed, counting down
//! to their due time, and the published ones), the console's editor (sections, action items,
//! the automatic timeline, the review's steps and comments, the versions), and the reading
//! page at `/reports/{key}` that the org's people see once a report is published — printable
//! as it is (the browser's "Save as PDF" makes the PDF). Every decision is the application's
//! ([`stringer_app::postmortem::ReportDesk`]), as for the API.

use super::session::{PageForm, Signed};
use super::{Nav, PageError, PageResult, render, see_other};
use crate::AppState;
use crate::error::ApiError;
use crate::reads::ticket_ref;
use askama::Template;
use axum::extract::{Path, Query, State};
use jiff::civil::Date;
use serde::Deserialize;
use stringer_app::postmortem::StepAsked;
use stringer_app::postmortem::{Owed, ReportView};
use stringer_core::access::{Action, Object, OrgRef};
use stringer_core::postmortem::{ActionItem, ItemState, ReportState, Sections};

/// Markdown as safe HTML: CommonMark (with tables and strikethrough) rendered by
/// pulldown-cmark, then cleaned by ammonia, so a report's text cannot carry a script, a
/// style or an event handler into the page.
pub fn markdown(text: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let mut out = String::new();
    html::push_html(&mut out, Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH));
    // No images: a picture from elsewhere would be fetched by every reader's browser, and
    // an image without words is invisible to a screen reader.
    ammonia::Builder::default().rm_tags(["img"]).clean(&out).to_string()
}

fn state_words(s: ReportState) -> &'static str {
    match s {
        ReportState::Draft => "draft",
        ReportState::InReview => "in review",
        ReportState::Approved => "approved",
        ReportState::Published => "published",
    }
}

fn item_state(s: ItemState) -> &'static str {
    match s {
        ItemState::Open => "open",
        ItemState::InProgress => "in_progress",
        ItemState::Done => "done",
    }
}

/// A report's due time in words, counting down: "in 2 d 3 h" or "overdue by 4 h".
fn countdown(owed: Owed, now: i64) -> String {
    match owed {
        Owed::Published => String::new(),
        Owed::Due(d) if d >= now => format!("due in {}", super::text::duration(d - now)),
        Owed::Due(d) => format!("overdue by {}", super::text::duration(now - d)),
        Owed::Reopened => "not due while the ticket is open again".into(),
        Owed::OnDemand => "no due time (written on demand)".into(),
    }
}

struct Row {
    key: String,
    org: String,
    state: &'static str,
    due: String,
    countdown: String,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ListPage {
    nav: Nav,
    staff: bool,
    /// The orgs whose quarterly review the reader may open: (slug, name).
    orgs: Vec<(String, String)>,
    open: Vec<Row>,
    published: Vec<Row>,
}

/// `/console/reports` (staff: reports owed, nearest due first, and the published) and
/// `/reports` (the org's people: their published reports).
pub async fn list(State(state): State<AppState>, Signed(session): Signed) -> PageResult {
    let caller = &session.caller;
    let staff = caller.user().org.is_none();
    let tz = super::text::zone(caller.user().time_zone.as_deref());
    let now = state.now().as_second();
    let mut open = Vec::new();
    let mut published = Vec::new();
    for (t, r) in state.reports().visible(caller.principal(), None, None).await? {
        let owed = Owed::of(&t, &r);
        let row = Row {
            key: t.key().to_string(),
            org: r.org.to_string(),
            state: state_words(r.state),
            due: match owed {
                Owed::Due(d) => super::ticket::at(d, &tz),
                Owed::Published => r.due.map(|d| super::ticket::at(d, &tz)).unwrap_or_default(),
                Owed::Reopened | Owed::OnDemand => String::new(),
            },
            countdown: countdown(owed, now),
            overdue: owed.overdue(now),
        };
        if r.state == ReportState::Published { published.push(row) } else { open.push(row) }
    }
    open.sort_by(|a, b| (a.due.is_empty(), &a.due).cmp(&(b.due.is_empty(), &b.due)));
    let orgs = if staff {
        state
            .ports
            .accounts
            .orgs()
            .await?
            .into_iter()
            .filter(|o| caller.allowed(Action::ReadReview, Some(Object::Org(o.as_ref()))))
            .map(|o| (o.slug.to_string(), o.name))
            .collect()
    } else {
        Vec::new()
    };
    render(&ListPage { nav: Nav::of(&session), staff, orgs, open, published })
}

struct Section {
    title: &'static str,
    html: String,
}

struct ItemRow {
    what: String,
    owner: String,
    due: String,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReadPage {
    nav: Nav,
    key: String,
    subject: String,
    org: String,
    state: &'static str,
    published: String,
    security: bool,
    sections: Vec<Section>,
    items: Vec<ItemRow>,
    /// (when, what).
    timeline: Vec<(String, String)>,
    staff: bool,
}

fn items(s: &Sections) -> Vec<ItemRow> {
    s.action_items
        .iter()
        .map(|i| ItemRow {
            what: i.what.clone(),
            owner: i.owner.clone(),
            due: i.due.map(|d| d.to_string()).unwrap_or_default(),
            state: item_state(i.state),
        })
        .collect()
}

/// `/reports/{key}`: the report to read and print — the org's people once it is published,
/// staff at any stage.
pub async fn page(State(state): State<AppState>, Path(key): Path<String>, Signed(session): Signed) -> PageResult {
    let view = state.reports().read(session.caller.principal(), &ticket_ref(&key)?).await?;
    let tz = super::text::zone(session.caller.user().time_zone.as_deref());
    let s = &view.current.sections;
    let org = state.ports.accounts.org(&view.ticket.org).await?.map_or_else(|| view.ticket.org.to_string(), |o| o.name);
    render(&ReadPage {
        nav: Nav::of(&session),
        key: view.ticket.key().to_string(),
        subject: view.ticket.subject.clone(),
        org,
        state: state_words(view.record.state),
        published: view.record.published_at.map(|p| super::ticket::at(p, &tz)).unwrap_or_default(),
        security: view.record.security,
        sections: s
            .titled()
            .into_iter()
            .filter(|(_, text)| !text.trim().is_empty())
            .map(|(title, text)| Section { title, html: markdown(text) })
            .collect(),
        items: items(s),
        timeline: view.timeline().iter().map(|l| (super::ticket::at(l.at, &tz), l.what.clone())).collect(),
        staff: session.caller.user().org.is_none(),
    })
}

#[derive(Template)]
#[template(path = "report_edit.html")]
struct EditPage {
    nav: Nav,
    key: String,
    subject: String,
    org: String,
    state: &'static str,
    countdown: String,
    overdue: bool,
    revision: i64,
    version: i64,
    security: bool,
    summary: String,
    impact: String,
    root_cause: String,
    resolution: String,
    remediation: String,
    lessons: String,
    items_text: String,
    timeline: Vec<(String, String)>,
    /// (version, by, when).
    versions: Vec<(i64, String, String)>,
    /// (by, when, step, body as HTML).
    comments: Vec<(String, String, String, String)>,
    may_edit: bool,
    may_review: bool,
    flash: Option<String>,
    error: Option<String>,
}

/// Action items as the editor writes them: one per line, `what | owner | YYYY-MM-DD |
/// open, in_progress or done` (the last three may be left out).
fn items_text(s: &Sections) -> String {
    s.action_items
        .iter()
        .map(|i| {
            let due = i.due.map(|d| d.to_string()).unwrap_or_default();
            format!("{} | {} | {due} | {}", i.what, i.owner, item_state(i.state))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn parse_items(text: &str) -> Result<Vec<ActionItem>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, line)| {
            let parts: Vec<&str> = line.split('|').map(str::trim).collect();
            let due = match parts.get(2).filter(|d| !d.is_empty()) {
                Some(d) => Some(
                    d.parse::<Date>()
                        .map_err(|_| format!("action item line {}: {d:?} is not a date (YYYY-MM-DD)", n + 1))?,
                ),
                None => None,
            };
            let state = match parts.get(3).copied().unwrap_or("") {
                "" | "open" => ItemState::Open,
                "in_progress" | "in progress" => ItemState::InProgress,
                "done" => ItemState::Done,
                other => return Err(format!("action item line {}: {other:?} is open, in_progress or done", n + 1)),
            };
            Ok(ActionItem { what: parts[0].to_string(), owner: parts.get(1).unwrap_or(&"").to_string(), due, state })
        })
        .collect()
}

async fn editor(
    state: &AppState,
    session: &super::session::Session,
    view: &ReportView,
    flash: Option<String>,
    error: Option<String>,
) -> PageResult {
    let caller = &session.caller;
    let tz = super::text::zone(caller.user().time_zone.as_deref());
    let authors = view.versions.iter().filter_map(|v| v.author.as_ref()).chain(view.comments.iter().map(|c| &c.author));
    let names = super::ticket::names(state, authors.map(|a| a.as_str())).await?;
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let org = state.ports.accounts.org(&view.ticket.org).await?.ok_or_else(|| PageError::not_found("org"))?;
    let r = &view.record;
    let object = Some(Object::Report {
        org: OrgRef { slug: org.slug.as_str(), deployment: org.deployment },
        published: r.state == ReportState::Published,
    });
    let s = &view.current.sections;
    let (owed, now) = (Owed::of(&view.ticket, r), state.now().as_second());
    let failed = error.is_some();
    let mut response = render(&EditPage {
        nav: Nav::of(session),
        key: view.ticket.key().to_string(),
        subject: view.ticket.subject.clone(),
        org: org.name.clone(),
        state: state_words(r.state),
        countdown: countdown(owed, now),
        overdue: owed.overdue(now),
        revision: r.revision,
        version: view.current.version,
        security: r.security,
        summary: s.summary.clone(),
        impact: s.impact.clone(),
        root_cause: s.root_cause.clone(),
        resolution: s.resolution.clone(),
        remediation: s.remediation.clone(),
        lessons: s.lessons.clone(),
        items_text: items_text(s),
        timeline: view.timeline().iter().map(|l| (super::ticket::at(l.at, &tz), l.what.clone())).collect(),
        versions: view
            .versions
            .iter()
            .map(|v| {
                let by = v.author.as_ref().map_or_else(|| "Stringer".to_string(), |a| name(a.as_str()));
                (v.version, by, super::ticket::at(v.at, &tz))
            })
            .collect(),
        comments: view
            .comments
            .iter()
            .map(|c| {
                let step = c.step.map(|s| s.as_str().replace('_', " ")).unwrap_or_default();
                (name(c.author.as_str()), super::ticket::at(c.at, &tz), step, markdown(&c.body))
            })
            .collect(),
        may_edit: r.state != ReportState::Published && caller.allowed(Action::WriteReport, object),
        may_review: r.state != ReportState::Published && caller.allowed(Action::ReviewReport, object),
        flash,
        error,
    })?;
    if failed {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// What a change reports back in the address (`?done=…`).
#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "report_start.html")]
struct StartPage {
    nav: Nav,
    key: String,
    subject: String,
}

/// `/console/tickets/{key}/report`: the editor; for a ticket without a report, a button to
/// start one on demand.
pub async fn edit(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(done): Query<Done>,
    Signed(session): Signed,
) -> PageResult {
    session.caller.may(Action::OpenConsole, Some(Object::Staff), "page")?;
    let who = session.caller.principal();
    let (ticket, report) = state.reports().report_for(who, &ticket_ref(&key)?, Action::WriteReport).await?;
    if report.is_none() {
        return render(&StartPage { nav: Nav::of(&session), key: ticket.key().to_string(), subject: ticket.subject });
    }
    let view = state.reports().view(&ticket).await?;
    let view = view.ok_or_else(|| PageError::not_found("report"))?;
    editor(&state, &session, &view, done.done, None).await
}

/// The editor's form: which step, the revision read, the text, a comment.
#[derive(Deserialize)]
pub struct EditForm {
    step: String,
    #[serde(default)]
    revision: i64,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    impact: Option<String>,
    #[serde(default)]
    root_cause: Option<String>,
    #[serde(default)]
    resolution: Option<String>,
    #[serde(default)]
    remediation: Option<String>,
    #[serde(default)]
    lessons: Option<String>,
    #[serde(default)]
    action_items: Option<String>,
    #[serde(default)]
    comment: Option<String>,
}

/// Takes the editor's step (saving the text first when the step is `edit`).
pub async fn act(
    State(state): State<AppState>,
    Path(key): Path<String>,
    PageForm(session, form): PageForm<EditForm>,
) -> PageResult {
    if form.step == "start" {
        state.reports().begin(session.caller.principal(), &ticket_ref(&key)?).await?;
        return see_other(&format!("/console/tickets/{key}/report?done=Report+started."));
    }
    let sections = if form.step == "edit" {
        match parse_items(form.action_items.as_deref().unwrap_or("")) {
            Ok(action_items) => Some(Sections {
                summary: form.summary.unwrap_or_default(),
                impact: form.impact.unwrap_or_default(),
                root_cause: form.root_cause.unwrap_or_default(),
                resolution: form.resolution.unwrap_or_default(),
                remediation: form.remediation.unwrap_or_default(),
                lessons: form.lessons.unwrap_or_default(),
                action_items,
            }),
            Err(why) => {
                let view = state.reports().read(session.caller.principal(), &ticket_ref(&key)?).await?;
                return editor(&state, &session, &view, None, Some(why)).await;
            }
        }
    } else {
        None
    };
    let done = match form.step.as_str() {
        "edit" => "Saved as a new version.",
        "submit" => "Submitted for review.",
        "approve" => "Approved.",
        "request_changes" => "Sent back to draft.",
        "publish" => "Published: the org's people see it now, and its admins and channel are told.",
        _ => "Done.",
    };
    let asked = StepAsked { step: form.step, revision: form.revision, sections, comment: form.comment };
    let ticket = ticket_ref(&key)?;
    match state.reports().take_step(session.caller.principal(), &ticket, asked).await.map_err(ApiError::from) {
        Ok(_) => {
            let query = serde_urlencoded::to_string([("done", done)]).unwrap_or_default();
            see_other(&format!("/console/tickets/{key}/report?{query}"))
        }
        Err(e)
            if e.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY
                || e.status == axum::http::StatusCode::CONFLICT =>
        {
            let view = state.reports().read(session.caller.principal(), &ticket_ref(&key)?).await?;
            editor(&state, &session, &view, None, Some(PageError::from(e).message)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_keeps_formatting_and_drops_scripts() {
        let html = markdown("**Root cause**: a bad deploy.\n\n<script>alert(1)</script><img src=x onerror=alert(1)>");
        assert!(html.contains("<strong>Root cause</strong>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onerror") && !html.contains("<img"), "{html}");
        let table = markdown("| a | b |\n|---|---|\n| 1 | 2 |");
        assert!(table.contains("<table>"), "{table}");
    }

    #[test]
    fn action_items_read_as_written_and_bad_lines_are_named() {
        let items =
            parse_items("Add a canary | ana@vendor.example | 2026-12-15 | in_progress\n\nWrite the runbook").unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].due, Some(jiff::civil::date(2026, 12, 15)));
        assert_eq!(items[0].state, ItemState::InProgress);
        assert_eq!(items[1].owner, "");
        assert_eq!(items[1].state, ItemState::Open);
        assert!(parse_items("x | y | 15/12/2026").unwrap_err().contains("line 1"));
        assert!(parse_items("ok\nx | y | | later").unwrap_err().contains("line 2"));
        assert_eq!(
            parse_items(&items_text(&Sections { action_items: items.clone(), ..Sections::default() })).unwrap(),
            items
        );
    }
}
