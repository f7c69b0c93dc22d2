//! `/reviews?org=…&quarter=…`: an org's quarterly operational review as a page, for the staff
//! who see the org and for the org's own admins (linked from the portal and the console):
//! the same review `stringer review` prints, with its figures in tables and two charts as
//! inline SVG beside them (no script, nothing fetched), its exports (`format=json`,
//! `format=csv`, `format=md`), and the form in which the TAM completes its recommendations.
//! [`document`] is the same review as a standalone HTML file, for `stringer review`.

use super::chart::{self, Bar};
use super::session::{PageForm, Signed};
use super::{Nav, PageError, PageResult, render, see_other};
use crate::AppState;
use crate::Ports;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use serde::Deserialize;
use stringer_app::StoreError;
use stringer_app::review::{Review, hours, pct};
use stringer_core::access::{Action, Object};
use stringer_core::review::Quarter;

/// Which review, and in what form.
#[derive(Deserialize)]
pub struct Which {
    /// The org (an org admin's own by default).
    #[serde(default)]
    org: Option<String>,
    /// `2026-Q4`; the current quarter by default.
    #[serde(default)]
    quarter: Option<String>,
    /// `json`, `csv` or `md` for the exports; the page otherwise.
    #[serde(default)]
    format: Option<String>,
    /// What a change reports back.
    #[serde(default)]
    done: Option<String>,
}

/// The recommendations form.
#[derive(Deserialize)]
pub struct RecommendationsForm {
    org: String,
    quarter: String,
    recommendations: String,
}

struct Line {
    cells: Vec<String>,
}

/// The review as both the page and the standalone document show it.
struct Body {
    org: String,
    name: String,
    tier: String,
    quarter: String,
    previous: String,
    next: String,
    tickets: usize,
    attainment: Vec<Line>,
    attainment_chart: String,
    times: Vec<(&'static str, Vec<Line>)>,
    /// (title, what the first column holds, rows).
    volumes: Vec<(&'static str, &'static str, Vec<Line>)>,
    weeks_chart: String,
    /// ("Week of 5 Oct", tickets opened).
    weeks: Vec<(String, u32)>,
    paging: Vec<(&'static str, u32)>,
    reports: Vec<Line>,
    items: Vec<Line>,
    incidents: Vec<Line>,
    uptime: Vec<Line>,
    observations: Vec<String>,
    /// The TAM's recommendations, rendered (Markdown, cleaned), once written.
    recommendations: Option<String>,
    /// Who wrote them and when.
    recommended_by: String,
    /// The section on the ledger's signed head the review covers, rendered.
    ledger: String,
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    nav: Nav,
    b: Body,
    /// Whether this caller may complete the recommendations.
    may_write: bool,
    /// The editor's text: the recommendations, or the observations to start from.
    draft: String,
    flash: Option<String>,
    error: Option<String>,
}

/// The review as a standalone, print-friendly HTML document (`stringer review --format html`).
#[derive(Template)]
#[template(path = "review_document.html")]
struct ReviewDocument {
    b: Body,
}

/// The review as a standalone HTML document: the page's own layout, without the site around it.
pub async fn document(ports: &Ports, r: &Review, quarter: Quarter) -> Result<String, DocumentError> {
    let by = recommended_by(ports, r).await?;
    Ok(ReviewDocument { b: body(r, quarter, by) }.render()?)
}

/// Why the standalone document could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// Reading who wrote the recommendations failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The template failed.
    #[error(transparent)]
    Render(#[from] askama::Error),
}

/// The page of `review` as `session` sees it, with a flash or an error above the form.
async fn page(
    state: &AppState,
    session: &super::session::Session,
    org: &stringer_app::records::OrgRecord,
    review: &Review,
    quarter: Quarter,
    flash: Option<String>,
    error: Option<String>,
) -> PageResult {
    let by = recommended_by(&state.ports, review).await.map_err(crate::error::ApiError::from)?;
    let failed = error.is_some();
    let mut response = render(&ReviewPage {
        nav: Nav::of(session),
        b: body(review, quarter, by),
        may_write: session.caller.allowed(Action::WriteReview, Some(Object::Org(org.as_ref()))),
        draft: match &review.recommendations {
            Some(rec) => rec.body.clone(),
            None => review.observations.iter().map(|o| format!("- {o}\n")).collect(),
        },
        flash,
        error,
    })?;
    if failed {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

fn body(r: &Review, quarter: Quarter, recommended_by: String) -> Body {
    let f = &r.figures;
    let line = |cells: Vec<String>| Line { cells };
    let attainment = f
        .attainment
        .iter()
        .map(|a| {
            line(vec![
                a.severity.clone(),
                a.target.clone(),
                a.met.to_string(),
                a.breached.to_string(),
                a.running.to_string(),
                a.withdrawn.to_string(),
                pct(a.percent()),
                a.weekend_breached.to_string(),
            ])
        })
        .collect();
    let met: Vec<Bar> = f
        .attainment
        .iter()
        .map(|a| Bar { label: format!("{} {}", a.severity, a.target), value: a.percent(), shown: pct(a.percent()) })
        .collect();
    let spread = |list: &[stringer_core::review::Spread]| {
        list.iter().map(|s| line(vec![s.severity.clone(), s.count.to_string(), hours(s.p50), hours(s.p90)])).collect()
    };
    let volume = |list: &[stringer_core::review::Volume]| {
        list.iter()
            .map(|v| line(vec![v.key.clone(), v.count.to_string(), v.previous.to_string(), pct(v.change())]))
            .collect()
    };
    let weeks: Vec<(String, u32)> = f
        .by_week
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let monday = quarter.first_day().checked_add(jiff::Span::new().days(7 * i as i64)).unwrap_or_default();
            (format!("Week of {}", monday.strftime("%-d %b")), *n)
        })
        .collect();
    let week_bars: Vec<Bar> = weeks
        .iter()
        .map(|(label, n)| Bar { label: label.clone(), value: Some(f64::from(*n)), shown: n.to_string() })
        .collect();
    let most = f.by_week.iter().copied().max().unwrap_or(0);
    Body {
        org: r.org.clone(),
        name: r.name.clone(),
        tier: r.tier_name.clone(),
        quarter: r.quarter.clone(),
        previous: quarter.previous().to_string(),
        next: quarter.next().to_string(),
        tickets: r.tickets,
        attainment,
        attainment_chart: chart::horizontal("Targets met, percent", &met, 100.0, "percent met"),
        times: vec![
            ("First response", spread(&f.first_response)),
            ("Acknowledgement", spread(&f.acknowledge)),
            ("Resolution", spread(&f.resolve)),
        ],
        volumes: vec![
            ("Tickets by severity", "Severity", volume(&f.by_severity)),
            ("Tickets by channel", "Channel", volume(&f.by_channel)),
        ],
        weeks_chart: chart::horizontal("Tickets by week", &week_bars, f64::from(most), "tickets opened"),
        weeks,
        paging: vec![
            ("Tickets that paged", f.paging.tickets_paged),
            ("Pages sent", f.paging.pages),
            ("Escalated to the TAM", f.paging.reached_tam),
            ("Escalated to the VP of Engineering", f.paging.reached_vp),
            ("Customer pages", f.paging.customer_pages),
        ],
        reports: r.reports.iter().map(|l| line(vec![l.ticket.clone(), l.standing.to_string()])).collect(),
        items: r
            .open_items
            .iter()
            .map(|i| {
                line(vec![
                    i.ticket.clone(),
                    i.item.what.clone(),
                    i.owner.clone(),
                    i.item.due.map(|d| d.to_string()).unwrap_or_default(),
                ])
            })
            .collect(),
        incidents: r
            .incidents
            .iter()
            .map(|i| {
                line(vec![
                    i.started_at.clone(),
                    i.name.clone(),
                    i.impact.to_string(),
                    i.components.join(", "),
                    i.minutes.map_or_else(|| "open".to_string(), |m| m.to_string()),
                    i.ticket.clone().unwrap_or_default(),
                ])
            })
            .collect(),
        uptime: r.uptime.iter().map(|u| line(vec![u.name.clone(), format!("{:.3} %", u.percent)])).collect(),
        observations: r.observations.clone(),
        recommendations: r.recommendations.as_ref().map(|rec| super::reports::markdown(&rec.body)),
        recommended_by,
        ledger: super::reports::markdown(&stringer_app::ledger::cover::markdown("review", r.ledger_head.as_ref())),
    }
}

/// The review page, or one of its exports.
pub async fn show(State(state): State<AppState>, Signed(session): Signed, Query(which): Query<Which>) -> PageResult {
    let caller = &session.caller;
    let slug = match which.org.as_deref().filter(|o| !o.is_empty()) {
        Some(o) => o.to_string(),
        None => {
            caller.user().org.as_ref().map(|o| o.to_string()).ok_or_else(|| PageError::bad_request("Choose an org."))?
        }
    };
    let org = state.accounts().org(caller.principal(), &slug, Action::ReadReview).await?;
    let now = state.now();
    let quarter = match which.quarter.as_deref().filter(|q| !q.is_empty()) {
        Some(q) => Quarter::parse(q)
            .ok_or_else(|| PageError::bad_request(format!("{q:?} is not a quarter (e.g. 2026-Q4).")))?,
        None => Quarter::of(now),
    };
    let review = stringer_app::review::review(&state.ports.for_review(), &org, quarter, now.as_second(), &mut |_| {})
        .await
        .map_err(crate::error::ApiError::from)?;
    let download = |kind: &str, ext: &str, body: String| {
        let name = format!("attachment; filename=\"review-{}-{quarter}.{ext}\"", org.slug);
        ([(header::CONTENT_TYPE, kind.to_string()), (header::CONTENT_DISPOSITION, name)], body).into_response()
    };
    match which.format.as_deref() {
        Some("json") => Ok(download(
            "application/json",
            "json",
            serde_json::to_string_pretty(&review).map_err(|e| PageError::bad_request(e.to_string()))?,
        )),
        Some("csv") => Ok(download("text/csv; charset=utf-8", "csv", stringer_app::review::csv(&review))),
        Some("md") => Ok(download("text/markdown; charset=utf-8", "md", stringer_app::review::markdown(&review))),
        Some(other) => Err(PageError::bad_request(format!("{other:?} is not an export (json, csv or md)."))),
        None => page(&state, &session, &org, &review, quarter, which.done, None).await,
    }
}

/// "Written by NAME on DATE" for the recommendations, or nothing.
async fn recommended_by(ports: &Ports, review: &Review) -> Result<String, StoreError> {
    let Some(rec) = &review.recommendations else { return Ok(String::new()) };
    let name = ports.accounts.user(&rec.author).await?;
    let name = name.map_or_else(|| rec.author.to_string(), |u| u.name);
    let day =
        jiff::Timestamp::from_second(rec.updated_at).map(|t| t.strftime("%Y-%m-%d").to_string()).unwrap_or_default();
    Ok(format!("Written by {name} on {day}."))
}

/// Saves the recommendations (the TAM's, or a lead's, the VP's, an admin's: the policy says).
pub async fn write(
    State(state): State<AppState>,
    PageForm(session, form): PageForm<RecommendationsForm>,
) -> PageResult {
    let caller = &session.caller;
    let org = state.accounts().org(caller.principal(), &form.org, Action::WriteReview).await?;
    let quarter = Quarter::parse(&form.quarter)
        .ok_or_else(|| PageError::bad_request(format!("{:?} is not a quarter (e.g. 2026-Q4).", form.quarter)))?;
    let now = state.now().as_second();
    match stringer_app::review::write_recommendations(
        &state.ports.for_review(),
        &org,
        quarter,
        &form.recommendations,
        &caller.user().id,
        now,
    )
    .await
    {
        Ok(_) => {
            let query = serde_urlencoded::to_string([
                ("org", org.slug.as_str()),
                ("quarter", &quarter.to_string()),
                ("done", "Recommendations saved."),
            ])
            .unwrap_or_default();
            see_other(&format!("/reviews?{query}"))
        }
        Err(stringer_app::AppError::Rejected(why)) => {
            let review = stringer_app::review::review(&state.ports.for_review(), &org, quarter, now, &mut |_| {})
                .await
                .map_err(crate::error::ApiError::from)?;
            page(&state, &session, &org, &review, quarter, None, Some(why)).await
        }
        Err(e) => Err(crate::error::ApiError::from(e).into()),
    }
}
