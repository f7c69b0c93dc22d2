//! `/console/whatif`: the what-if on history for admins and support leads — paste a proposed
//! contract (it is checked, its errors shown beside it with their line and column), choose
//! the window and the orgs, and see what it would have changed: targets per tier, severity
//! and target under both contracts, the tickets whose outcome changes (linked), pages by role
//! and the load on people, deadlines, each org's review attainment and the observations —
//! the same report `stringer whatif` prints, exported as Markdown, CSV or JSON from the same
//! form. The application decides who may run it and which orgs they see.

use super::session::{PageForm, Signed};
use super::{Nav, PageError, PageResult, render};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use jiff::Timestamp;
use serde::Deserialize;
use stringer_app::whatif::render::{due, page_rows, percent};
use stringer_app::whatif::{Ask, Report, WhatIfError, render as report};
use stringer_core::ids::OrgSlug;
use stringer_core::review::Quarter;
use stringer_core::whatif::Counts;

/// The form as posted.
#[derive(Deserialize, Default)]
pub struct WhatIfForm {
    /// The proposed contract (TOML).
    #[serde(default)]
    contract: String,
    /// `2026-Q3`, used when no first and last day are given.
    #[serde(default)]
    quarter: String,
    /// The window's first day, `2026-07-01`.
    #[serde(default)]
    from: String,
    /// The window's last day, included.
    #[serde(default)]
    to: String,
    /// Org slugs, separated by commas or spaces (blank: every org the caller sees).
    #[serde(default)]
    orgs: String,
    /// `severity:OLD=NEW` / `tier:OLD=NEW`, one a line.
    #[serde(default)]
    maps: String,
    /// `ORG=TIER`, one a line.
    #[serde(default)]
    retiers: String,
    /// `md`, `csv` or `json` for an export; the page otherwise.
    #[serde(default)]
    format: String,
}

/// One row of a table, as shown.
struct Line {
    cells: Vec<String>,
}

/// A changed target, as shown: the ticket links to its page.
struct ChangedLine {
    key: String,
    cells: Vec<String>,
}

/// The report as the page and the document show it.
struct Shown {
    /// Whether changed tickets link to their console pages (not in a standalone file).
    links: bool,
    title: String,
    summary: String,
    observations: Vec<String>,
    rows: Vec<Line>,
    changed: Vec<ChangedLine>,
    more: u32,
    pages: Vec<Line>,
    load: Vec<Line>,
    deadlines: Vec<Line>,
    reviews: Vec<Line>,
    not_comparable: Vec<Line>,
    notes: Vec<String>,
}

#[derive(Template)]
#[template(path = "console_whatif.html")]
struct WhatIfPage {
    nav: Nav,
    form: WhatIfForm,
    /// The orgs the caller may replay, for the hint.
    orgs: String,
    /// Why the contract does not load (shown beside it).
    contract_error: Option<String>,
    /// Why the rest of the form is not usable.
    error: Option<String>,
    report: Option<Shown>,
}

/// The report as a standalone, print-friendly HTML document (`stringer whatif --format html`).
#[derive(Template)]
#[template(path = "whatif_document.html")]
struct WhatIfDocument {
    r: Shown,
}

/// The report as a standalone HTML document: the page's own tables, without the site around
/// them (changed tickets named, not linked).
pub fn document(report: &Report) -> Result<String, askama::Error> {
    WhatIfDocument { r: shown(report, false) }.render()
}

/// The page: the form, with the contract in force as the text to start from.
pub async fn form(State(state): State<AppState>, Signed(session): Signed) -> PageResult {
    let desk = state.whatif();
    let orgs = desk.orgs(session.caller.principal()).await.map_err(page_error)?;
    let form = WhatIfForm {
        contract: state.ports.commands.contract().source().to_string(),
        quarter: Quarter::of(state.now()).previous().to_string(),
        ..WhatIfForm::default()
    };
    render(&WhatIfPage {
        nav: Nav::of(&session),
        form,
        orgs: list(&orgs),
        contract_error: None,
        error: None,
        report: None,
    })
}

/// Runs the what-if and shows it, or answers its export.
pub async fn run(State(state): State<AppState>, PageForm(session, form): PageForm<WhatIfForm>) -> PageResult {
    let desk = state.whatif();
    let principal = session.caller.principal();
    let visible = desk.orgs(principal).await.map_err(page_error)?;
    let failed = |form: WhatIfForm, contract_error: Option<String>, error: Option<String>| {
        let mut response = render(&WhatIfPage {
            nav: Nav::of(&session),
            form,
            orgs: list(&visible),
            contract_error,
            error,
            report: None,
        })?;
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        Ok(response)
    };
    let (from, until) = match window(&form) {
        Ok(window) => window,
        Err(why) => return failed(form, None, Some(why)),
    };
    let lines = |text: &str| text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect();
    let ask = Ask {
        proposed: form.contract.clone(),
        from: Some(from),
        until: Some(until),
        orgs: form.orgs.split([',', ' ']).filter(|o| !o.is_empty()).map(OrgSlug::from).collect(),
        maps: lines(&form.maps),
        retiers: lines(&form.retiers),
    };
    let done = match desk.run(principal, &ask, state.now()).await {
        Ok(done) => done,
        Err(WhatIfError::Contract(why)) => return failed(form, Some(why), None),
        Err(WhatIfError::Request(why)) => return failed(form, None, Some(why)),
        Err(WhatIfError::Busy) => return failed(form, None, Some(WhatIfError::Busy.to_string())),
        Err(e) => return Err(page_error(e)),
    };
    let export = |kind: &str, text: String, name: &str| {
        let disposition = format!("attachment; filename=\"whatif-{name}\"");
        Ok(([(header::CONTENT_TYPE, kind.to_string()), (header::CONTENT_DISPOSITION, disposition)], text)
            .into_response())
    };
    match form.format.as_str() {
        "md" => export("text/markdown; charset=utf-8", report::markdown(&done), "report.md"),
        "csv" => export("text/csv; charset=utf-8", report::csv(&done), "changed.csv"),
        "json" => {
            let json = serde_json::to_string_pretty(&done).map_err(|e| PageError::bad_request(e.to_string()))?;
            export("application/json", json, "report.json")
        }
        _ => render(&WhatIfPage {
            nav: Nav::of(&session),
            orgs: list(&visible),
            report: Some(shown(&done, true)),
            form,
            contract_error: None,
            error: None,
        }),
    }
}

fn list(orgs: &[OrgSlug]) -> String {
    orgs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// The window the form names: its first and last day (UTC), or its quarter.
fn window(form: &WhatIfForm) -> Result<(Timestamp, Timestamp), String> {
    let day = |text: &str| -> Result<Timestamp, String> {
        let date: jiff::civil::Date =
            text.trim().parse().map_err(|_| format!("{text:?} is not a day (write e.g. 2026-07-01)"))?;
        date.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp()).map_err(|e| e.to_string())
    };
    match (form.from.trim(), form.to.trim()) {
        ("", "") => {
            let quarter = Quarter::parse(form.quarter.trim())
                .ok_or_else(|| format!("{:?} is not a quarter (write e.g. 2026-Q3)", form.quarter))?;
            Ok((quarter.start(), quarter.end()))
        }
        (from, to) if !from.is_empty() && !to.is_empty() => {
            let (from, last) = (day(from)?, day(to)?);
            let until = last + jiff::SignedDuration::from_hours(24);
            if from >= until {
                return Err("the window's first day must not come after its last".into());
            }
            Ok((from, until))
        }
        _ => Err("give both the first and the last day, or neither and a quarter".into()),
    }
}

fn page_error(e: WhatIfError) -> PageError {
    match e {
        WhatIfError::Refused(why) => PageError::forbidden(why),
        WhatIfError::Contract(why) | WhatIfError::Request(why) => PageError::bad_request(why),
        WhatIfError::Busy => PageError::bad_request(WhatIfError::Busy.to_string()),
        WhatIfError::App(e) => crate::error::ApiError::from(e).into(),
    }
}

fn counts(c: &Counts) -> String {
    format!("{} met, {} breached, {} withdrawn, {} running", c.met, c.breached, c.withdrawn, c.running)
}

fn shown(r: &Report, links: bool) -> Shown {
    let w = &r.whatif;
    let line = |cells: Vec<String>| Line { cells };
    let pages = page_rows(&w.pages.baseline, &w.pages.proposed);
    let load =
        |l: &stringer_core::whatif::Load| format!("{} ({} at night, {} at weekends)", l.pages, l.night, l.weekend);
    let shift = |what: &str, s: &stringer_core::whatif::Shift| {
        line(vec![
            what.into(),
            s.same.to_string(),
            s.earlier.to_string(),
            s.later.to_string(),
            s.added.to_string(),
            s.removed.to_string(),
        ])
    };
    Shown {
        links,
        title: format!("{} instead of {}", r.proposed, r.baseline),
        summary: format!(
            "Tickets opened from {} until {} at {}: {} compared, {} with a target whose outcome changes.",
            r.from.strftime("%Y-%m-%d"),
            r.until.strftime("%Y-%m-%d"),
            if r.orgs.is_empty() { "no org".to_string() } else { r.orgs.join(", ") },
            w.tickets,
            w.changed_tickets
        ),
        observations: w.observations.clone(),
        rows: w
            .rows
            .iter()
            .map(|row| {
                line(vec![
                    row.tier.clone(),
                    row.severity.clone(),
                    row.target.clone(),
                    counts(&row.baseline),
                    percent(&row.baseline),
                    counts(&row.proposed),
                    percent(&row.proposed),
                    row.due_moved.to_string(),
                ])
            })
            .collect(),
        changed: w
            .changed
            .iter()
            .take(500)
            .map(|c| ChangedLine {
                key: c.key.clone(),
                cells: vec![c.tier.clone(), c.severity.clone(), c.target.clone(), due(&c.baseline), due(&c.proposed)],
            })
            .collect(),
        more: w.changed_total.saturating_sub(500),
        pages: pages.iter().map(|(what, x, y)| line(vec![what.to_string(), x.to_string(), y.to_string()])).collect(),
        load: w
            .load
            .iter()
            .map(|l| line(vec![l.person.clone(), l.week.clone(), load(&l.baseline), load(&l.proposed)]))
            .collect(),
        deadlines: vec![
            shift("Customer may page on-call", &w.customer_page),
            shift("Bridge", &w.bridges),
            shift("Post-incident report", &w.reports),
        ],
        reviews: w
            .reviews
            .iter()
            .flat_map(|q| {
                q.rows.iter().map(|row| {
                    line(vec![
                        q.org.clone(),
                        q.quarter.clone(),
                        row.severity.clone(),
                        row.target.clone(),
                        percent(&row.baseline),
                        percent(&row.proposed),
                    ])
                })
            })
            .collect(),
        not_comparable: w
            .not_comparable
            .iter()
            .take(500)
            .map(|n| line(vec![n.key.clone(), n.org.clone(), n.reason.clone()]))
            .collect(),
        notes: r.notes.clone(),
    }
}
