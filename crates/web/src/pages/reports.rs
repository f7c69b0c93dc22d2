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
use stringer_app::postmortem::{Owed, ReportError, ReportView};
use stringer_core::access::{Action, Object, OrgRef};
use stringer_core::postmortem::{ActionItem, ItemState, LineEdit, ReportState, Sections};

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
    /// The section on the ledger's signed head the report covers, rendered.
    ledger: String,
}

fn items(s: &Sections, name: &dyn Fn(&str) -> String) -> Vec<ItemRow> {
    s.action_items
        .iter()
        .map(|i| ItemRow {
            what: i.what.clone(),
            owner: name(&i.owner),
            due: i.due.map(|d| d.to_string()).unwrap_or_default(),
            state: item_state(i.state),
        })
        .collect()
}

/// `/reports/{key}`: the report to read and print — the org's people once it is published,
/// staff at any stage — with the timeline the org's people read.
pub async fn page(State(state): State<AppState>, Path(key): Path<String>, Signed(session): Signed) -> PageResult {
    let view = state.reports().read(session.caller.principal(), &ticket_ref(&key)?).await?;
    let tz = super::text::zone(session.caller.user().time_zone.as_deref());
    let s = &view.current.sections;
    let org = state.ports.accounts.org(&view.ticket.org).await?.map_or_else(|| view.ticket.org.to_string(), |o| o.name);
    let names = super::ticket::names(&state, s.action_items.iter().map(|i| i.owner.as_str())).await?;
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
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
        items: items(s, &name),
        timeline: view.customer_timeline().iter().map(|l| (super::ticket::at(l.at, &tz), l.what.clone())).collect(),
        staff: session.caller.user().org.is_none(),
        ledger: markdown(&stringer_app::ledger::cover::markdown("report", view.ledger_head.as_ref())),
    })
}

/// A Markdown section of the editor, with the reason it was refused when it was.
struct TextField {
    name: &'static str,
    label: &'static str,
    rows: u8,
    value: String,
    error: Option<String>,
}

/// An action item row of the editor (blank rows add items), with the reasons its fields
/// were refused.
struct ItemField {
    what: String,
    owner: String,
    due: String,
    state: &'static str,
    what_error: Option<String>,
    owner_error: Option<String>,
    due_error: Option<String>,
}

/// A line of the customer's timeline in the editor: its key, when, the words the org's
/// people will read, and whether staff hid it.
struct LineField {
    key: String,
    at: String,
    words: String,
    hide: bool,
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
    texts: Vec<TextField>,
    items: Vec<ItemField>,
    items_error: Option<String>,
    /// The staff who may own an action item: (id, name).
    owners: Vec<(String, String)>,
    lines: Vec<LineField>,
    /// The whole story, staff's only: (when, what).
    internal: Vec<(String, String)>,
    comment: String,
    /// (version, by, when, what it changed in the customer's timeline).
    versions: Vec<(i64, String, String, String)>,
    /// (by, when, step, body as HTML).
    comments: Vec<(String, String, String, String)>,
    may_edit: bool,
    may_review: bool,
    flash: Option<String>,
    error: Option<String>,
}

/// Blank rows the editor offers for new action items.
const BLANK_ITEMS: usize = 2;

/// What the editor holds: as saved, or as typed into a refused form (with the reasons).
struct Typed {
    step: String,
    revision: i64,
    /// The sections by their form names, in the editor's order.
    texts: Vec<(&'static str, String)>,
    items: Vec<ItemField>,
    /// (key, words, hidden).
    lines: Vec<(String, String, bool)>,
    comment: String,
}

/// The sections' form names and labels, in the editor's order.
const TEXTS: [(&str, &str, u8); 6] = [
    ("summary", "Summary", 5),
    ("impact", "Impact", 6),
    ("root_cause", "Root cause", 5),
    ("resolution", "Resolution", 4),
    ("remediation", "Remediation", 4),
    ("lessons", "Lessons learned", 4),
];

impl Typed {
    /// The report's text in force.
    fn saved(view: &ReportView) -> Typed {
        let s = &view.current.sections;
        let texts = TEXTS.iter().zip(s.titled()).map(|((name, _, _), (_, text))| (*name, text.to_string())).collect();
        let items = s
            .action_items
            .iter()
            .map(|i| ItemField {
                what: i.what.clone(),
                owner: i.owner.clone(),
                due: i.due.map(|d| d.to_string()).unwrap_or_default(),
                state: item_state(i.state),
                what_error: None,
                owner_error: None,
                due_error: None,
            })
            .collect();
        let lines = view
            .customer_timeline()
            .into_iter()
            .map(|l| (l.key, l.what, false))
            .chain(
                s.timeline_edits
                    .iter()
                    .filter(|e| e.hide)
                    .filter_map(|e| view.timeline().iter().find(|l| l.key == e.line))
                    .filter_map(|l| {
                        let edit = s.timeline_edits.iter().find(|e| e.line == l.key);
                        let words = edit.and_then(|e| e.words.clone()).or_else(|| l.customer.clone())?;
                        Some((l.key.clone(), words, true))
                    }),
            )
            .collect();
        Typed { step: String::new(), revision: view.record.revision, texts, items, lines, comment: String::new() }
    }

    /// The editor's form as typed (`name=value` pairs: the sections, `item_*_N` rows,
    /// `line_*_N` lines).
    fn posted(pairs: &[(String, String)]) -> Typed {
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
        let rows = |prefix: &str| -> Vec<String> {
            let mut found: Vec<String> =
                pairs.iter().filter_map(|(k, _)| k.strip_prefix(prefix).map(String::from)).collect();
            found.sort_by_key(|n| n.parse::<usize>().unwrap_or(usize::MAX));
            found.dedup();
            found
        };
        let items = rows("item_what_")
            .into_iter()
            .filter(|n| get(&format!("item_remove_{n}")).is_empty())
            .map(|n| ItemField {
                what: get(&format!("item_what_{n}")),
                owner: get(&format!("item_owner_{n}")),
                due: get(&format!("item_due_{n}")),
                state: match get(&format!("item_state_{n}")).as_str() {
                    "in_progress" => "in_progress",
                    "done" => "done",
                    _ => "open",
                },
                what_error: None,
                owner_error: None,
                due_error: None,
            })
            .filter(|i| !(i.what.trim().is_empty() && i.owner.is_empty() && i.due.is_empty()))
            .collect();
        let lines = rows("line_key_")
            .into_iter()
            .map(|n| {
                let words = get(&format!("line_words_{n}"));
                (get(&format!("line_key_{n}")), words, !get(&format!("line_hide_{n}")).is_empty())
            })
            .collect();
        Typed {
            step: get("step"),
            revision: get("revision").parse().unwrap_or(-1),
            texts: TEXTS.iter().map(|(name, _, _)| (*name, get(name))).collect(),
            items,
            lines,
            comment: get("comment"),
        }
    }

    /// The sections this text makes, over the report's timeline in `view` (a line's words
    /// are an edit only where they differ from the words the policy gives it), or `None`
    /// after marking the fields refused.
    fn sections(&mut self, view: &ReportView) -> Option<Sections> {
        let mut valid = true;
        let mut action_items = Vec::new();
        for i in &mut self.items {
            if i.what.trim().is_empty() {
                i.what_error = Some("say what is to be done".into());
            }
            if i.owner.is_empty() {
                i.owner_error = Some("choose who owns it".into());
            }
            let due = match i.due.trim() {
                "" => None,
                d => match d.parse::<Date>() {
                    Ok(d) => Some(d),
                    Err(_) => {
                        i.due_error = Some(format!("{d:?} is not a date (YYYY-MM-DD)"));
                        None
                    }
                },
            };
            if i.what_error.is_some() || i.owner_error.is_some() || i.due_error.is_some() {
                valid = false;
                continue;
            }
            let state = match i.state {
                "in_progress" => ItemState::InProgress,
                "done" => ItemState::Done,
                _ => ItemState::Open,
            };
            action_items.push(ActionItem { what: i.what.trim().to_string(), owner: i.owner.clone(), due, state });
        }
        let timeline_edits = self
            .lines
            .iter()
            .filter_map(|(key, words, hide)| {
                let own = view.timeline().iter().find(|l| &l.key == key)?.customer.clone()?;
                let words = (words.trim() != own).then(|| words.trim().to_string());
                (*hide || words.is_some()).then(|| LineEdit { line: key.clone(), hide: *hide, words })
            })
            .collect();
        let text = |name: &str| self.texts.iter().find(|(n, _)| *n == name).map(|(_, t)| t.clone()).unwrap_or_default();
        valid.then(|| Sections {
            summary: text("summary"),
            impact: text("impact"),
            root_cause: text("root_cause"),
            resolution: text("resolution"),
            remediation: text("remediation"),
            lessons: text("lessons"),
            action_items,
            timeline_edits,
        })
    }
}

/// The editor showing `typed` (the saved text, or a refused form as it was typed, with the
/// reasons beside the `fields` refused — or above the form for the step itself).
async fn editor(
    state: &AppState,
    session: &super::session::Session,
    view: &ReportView,
    typed: Typed,
    flash: Option<String>,
    error: Option<(String, Vec<&'static str>)>,
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
    let (owed, now) = (Owed::of(&view.ticket, r), state.now().as_second());
    let failed = error.is_some();
    let (message, fields) = error.map_or((None, Vec::new()), |(m, f)| (Some(m), f));
    let blame = |name: &str| fields.contains(&name).then(|| message.clone().unwrap_or_default());
    let texts = TEXTS
        .iter()
        .map(|(name, label, rows)| TextField {
            name,
            label,
            rows: *rows,
            value: typed.texts.iter().find(|(n, _)| n == name).map(|(_, t)| t.clone()).unwrap_or_default(),
            error: blame(name),
        })
        .collect();
    let items_error = blame("action_items");
    let general = if fields.is_empty() { message.clone() } else { None };
    let mut items = typed.items;
    items.extend((0..BLANK_ITEMS).map(|_| ItemField {
        what: String::new(),
        owner: String::new(),
        due: String::new(),
        state: "open",
        what_error: None,
        owner_error: None,
        due_error: None,
    }));
    let mut owners: Vec<(String, String)> =
        state.ports.accounts.active_staff().await?.into_iter().map(|u| (u.id.to_string(), u.name)).collect();
    owners.sort_by(|a, b| a.1.cmp(&b.1));
    for i in &items {
        if !i.owner.is_empty() && !owners.iter().any(|(id, _)| id == &i.owner) {
            owners.push((i.owner.clone(), format!("{} (not a staff member)", i.owner)));
        }
    }
    let at = |key: &str| view.timeline().iter().find(|l| l.key == key).map(|l| super::ticket::at(l.at, &tz));
    let mut lines: Vec<LineField> = typed
        .lines
        .into_iter()
        .filter_map(|(key, words, hide)| Some(LineField { at: at(&key)?, key, words, hide }))
        .collect();
    lines.sort_by_key(|l| view.timeline().iter().position(|t| t.key == l.key));
    let history = view.timeline_history();
    let mut response = render(&EditPage {
        nav: Nav::of(session),
        key: view.ticket.key().to_string(),
        subject: view.ticket.subject.clone(),
        org: org.name.clone(),
        state: state_words(r.state),
        countdown: countdown(owed, now),
        overdue: owed.overdue(now),
        revision: typed.revision,
        version: view.current.version,
        security: r.security,
        texts,
        items,
        items_error,
        owners,
        lines,
        internal: view.timeline().iter().map(|l| (super::ticket::at(l.at, &tz), l.what.clone())).collect(),
        comment: typed.comment,
        versions: view
            .versions
            .iter()
            .zip(history)
            .map(|(v, changes)| {
                let by = v.author.as_ref().map_or_else(|| "Stringer".to_string(), |a| name(a.as_str()));
                (v.version, by, super::ticket::at(v.at, &tz), changes.join("; "))
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
        error: general,
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
    let typed = Typed::saved(&view);
    editor(&state, &session, &view, typed, done.done, None).await
}

/// Takes the editor's step with the text as typed (one form: every step saves what was
/// typed first, when it changed); a refused form comes back as typed, the reasons beside
/// the fields.
pub async fn act(
    State(state): State<AppState>,
    Path(key): Path<String>,
    PageForm(session, pairs): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let who = session.caller.principal();
    let mut typed = Typed::posted(&pairs);
    if typed.step == "start" {
        state.reports().begin(who, &ticket_ref(&key)?).await?;
        return see_other(&format!("/console/tickets/{key}/report?done=Report+started."));
    }
    let view = state.reports().read(who, &ticket_ref(&key)?).await?;
    let Some(sections) = typed.sections(&view) else {
        let why = "some action items need putting right (see beside them)".to_string();
        return editor(&state, &session, &view, typed, None, Some((why, vec!["action_items"]))).await;
    };
    let done = match typed.step.as_str() {
        "edit" => "Saved as a new version.",
        "submit" => "Submitted for review.",
        "approve" => "Approved.",
        "request_changes" => "Sent back to draft.",
        "publish" => "Published: the org's people see it now, and its admins and channel are told.",
        _ => "Done.",
    };
    let comment = Some(typed.comment.clone()).filter(|c| !c.trim().is_empty());
    let asked = StepAsked { step: typed.step.clone(), revision: typed.revision, sections: Some(sections), comment };
    match state.reports().take_step(who, &ticket_ref(&key)?, asked).await {
        Ok(_) => {
            let query = serde_urlencoded::to_string([("done", done)]).unwrap_or_default();
            see_other(&format!("/console/tickets/{key}/report?{query}"))
        }
        Err(ReportError::Incomplete { why, fields }) => {
            editor(&state, &session, &view, typed, None, Some((why, fields))).await
        }
        Err(e @ (ReportError::Refused(_) | ReportError::Stale(_))) => {
            editor(&state, &session, &view, typed, None, Some((e.to_string(), Vec::new()))).await
        }
        Err(e) => Err(ApiError::from(e).into()),
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
}
