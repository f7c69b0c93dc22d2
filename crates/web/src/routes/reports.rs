//! Post-incident reports through `/api/v1`: a ticket's report (read, start on demand, take a
//! step, comment) and the list of reports. Every door asks the access policy about
//! `Object::Report` inside the application ([`stringer_app::postmortem::ReportDesk`]): staff who
//! see the org read and write reports at every stage, support leads and the VP review them,
//! and the org's own people read them once published (before that, a report does not exist
//! for them). The console and the portal call the same functions of the application.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Body, Params, PathParams};
use crate::reads::ticket_ref;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use stringer_app::postmortem::{Owed, ReportView, StepAsked};
use stringer_core::postmortem::{LineEdit, ReportState, Sections};
use utoipa::{IntoParams, ToSchema};

/// A line of the automatic timeline.
#[derive(Serialize, ToSchema)]
pub struct LineOut {
    /// When (RFC 3339).
    pub at: String,
    /// What happened (to the org's people: what they read of it).
    pub what: String,
    /// Names the line in `timeline_edits`.
    pub key: String,
    /// What the org's people read of it, staff's edits applied (null: they do not see it).
    pub customer: Option<String>,
}

/// A saved version.
#[derive(Serialize, ToSchema)]
pub struct VersionOut {
    /// 1, 2, …
    pub version: i64,
    /// Who saved it (null: Stringer's pre-filled draft).
    pub author: Option<String>,
    /// When (RFC 3339).
    pub at: String,
    /// The customer's timeline as this version edited it.
    pub timeline_edits: Vec<LineEdit>,
}

/// A comment on a report.
#[derive(Serialize, ToSchema)]
pub struct CommentOut {
    /// Its id.
    pub id: String,
    /// Who wrote it.
    pub author: String,
    /// When (RFC 3339).
    pub at: String,
    /// The step it came with (`submit`, `approve`, `request_changes`, `publish`, `edit`).
    pub step: Option<String>,
    /// The words.
    pub body: String,
}

/// A post-incident report.
#[derive(Serialize, ToSchema)]
pub struct ReportOut {
    /// The ticket's key (`ACME-42`).
    pub ticket: String,
    /// The ticket's org.
    pub org: String,
    /// About a security incident.
    pub security: bool,
    /// `draft`, `in_review`, `approved` or `published`.
    pub state: ReportState,
    /// Publish by then (RFC 3339); null for a report written on demand, or while its ticket
    /// is open again (it is owed once the ticket is resolved again).
    pub due: Option<String>,
    /// Unpublished past its due time.
    pub overdue: bool,
    /// The revision a step names (every write counts one).
    pub revision: i64,
    /// The version of the text shown (0: Stringer's pre-filled draft, not saved yet).
    pub version: i64,
    /// When it was published (RFC 3339).
    pub published_at: Option<String>,
    /// The text.
    pub sections: Sections,
    /// The automatic timeline (frozen at publication).
    pub timeline: Vec<LineOut>,
    /// Saved versions (staff only).
    pub versions: Vec<VersionOut>,
    /// The review's comments (staff only).
    pub comments: Vec<CommentOut>,
    /// Where the org's people read it once published.
    pub url: String,
    /// The ledger's signed head the report covers (docs/ledger.md §6.2): the latest signed
    /// when it was published (or now, for a draft); null before the first head. Give it to
    /// `stringer verify --previous-head` with a later bundle of the ticket.
    pub ledger_head: Option<crate::routes::ledger::HeadView>,
}

fn iso(secs: i64) -> String {
    jiff::Timestamp::from_second(secs).map(|t| t.to_string()).unwrap_or_default()
}

/// The report as the caller may see it (staff see versions and comments).
pub fn report_out(state: &AppState, caller: &Caller, view: &ReportView) -> ReportOut {
    let r = &view.record;
    let staff = caller.user().org.is_none();
    let (owed, now) = (Owed::of(&view.ticket, r), state.now().as_second());
    let shown = view.customer_timeline();
    ReportOut {
        ticket: view.ticket.key().to_string(),
        org: r.org.to_string(),
        security: r.security,
        state: r.state,
        due: match owed {
            Owed::Due(d) => Some(iso(d)),
            Owed::Published => r.due.map(iso),
            Owed::Reopened | Owed::OnDemand => None,
        },
        overdue: owed.overdue(now),
        revision: r.revision,
        version: view.current.version,
        published_at: r.published_at.map(iso),
        sections: view.current.sections.clone(),
        timeline: view
            .timeline()
            .iter()
            .map(|l| LineOut {
                at: iso(l.at),
                what: l.what.clone(),
                key: l.key.clone(),
                customer: shown.iter().find(|c| c.key == l.key).map(|c| c.what.clone()),
            })
            .collect(),
        versions: if staff {
            view.versions
                .iter()
                .map(|v| VersionOut {
                    version: v.version,
                    author: v.author.as_ref().map(|a| a.to_string()),
                    at: iso(v.at),
                    timeline_edits: v.sections.timeline_edits.clone(),
                })
                .collect()
        } else {
            Vec::new()
        },
        comments: if staff {
            view.comments
                .iter()
                .map(|c| CommentOut {
                    id: c.id.clone(),
                    author: c.author.to_string(),
                    at: iso(c.at),
                    step: c.step.map(|s| s.as_str().to_string()),
                    body: c.body.clone(),
                })
                .collect()
        } else {
            Vec::new()
        },
        url: format!("{}/reports/{}", state.public_url.trim_end_matches('/'), view.ticket.key()),
        ledger_head: view.ledger_head.as_ref().map(|c| crate::routes::ledger::HeadView(c.head)),
    }
}

/// A ticket's post-incident report: staff see it at every stage, with its versions and the
/// review's comments; the org's people once it is published.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/report", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")),
    responses((status = 200, body = ReportOut), (status = 404, body = crate::error::Problem)))]
pub async fn get_report(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<ReportOut>, ApiError> {
    let view = state.reports().read(caller.principal(), &ticket_ref(&id)?).await?;
    Ok(axum::Json(report_out(&state, &caller, &view)))
}

/// Starts a report on demand (any ticket; a ticket owing one has its draft already).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/report", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")),
    responses((status = 201, body = ReportOut), (status = 200, description = "It existed already", body = ReportOut),
        (status = 404, body = crate::error::Problem)))]
pub async fn start_report(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<(StatusCode, axum::Json<ReportOut>), ApiError> {
    let (view, created) = state.reports().begin(caller.principal(), &ticket_ref(&id)?).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, axum::Json(report_out(&state, &caller, &view))))
}

/// A step in a report's life.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepIn {
    /// `edit` (save `sections` as a new version), `submit` (for review), `approve` or
    /// `request_changes` (support leads and the VP), `publish` (once approved).
    #[schema(pattern = "^(edit|submit|approve|request_changes|publish)$")]
    step: String,
    /// The revision the caller read (a report changed since answers 409).
    revision: i64,
    /// The new text, for `edit`.
    #[serde(default)]
    sections: Option<Sections>,
    /// A comment kept with the step (a reviewer's reasons).
    #[serde(default)]
    comment: Option<String>,
}

impl From<StepIn> for StepAsked {
    fn from(s: StepIn) -> StepAsked {
        StepAsked { step: s.step, revision: s.revision, sections: s.sections, comment: s.comment }
    }
}

/// Takes a step in the report's life: draft → in review → approved → published (a
/// security incident's report needs its root cause and remediation to be published).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/report/steps", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")),
    request_body = StepIn,
    responses((status = 200, body = ReportOut), (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn step(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<StepIn>,
) -> Result<axum::Json<ReportOut>, ApiError> {
    let view = state.reports().take_step(caller.principal(), &ticket_ref(&id)?, body.into()).await?;
    Ok(axum::Json(report_out(&state, &caller, &view)))
}

/// A comment.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentIn {
    /// The words.
    #[schema(pattern = "\\S", max_length = 65536)]
    pub body: String,
}

/// Comments on a report (staff who may write it).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/report/comments", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")),
    request_body = CommentIn,
    responses((status = 200, body = ReportOut), (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn comment(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<CommentIn>,
) -> Result<axum::Json<ReportOut>, ApiError> {
    let view = state.reports().add_comment(caller.principal(), &ticket_ref(&id)?, &body.body).await?;
    Ok(axum::Json(report_out(&state, &caller, &view)))
}

/// Which reports a listing returns.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this org's.
    pub org: Option<String>,
    /// `published`, or `open` (not published yet); both when absent.
    #[param(pattern = "^(published|open)$")]
    pub state: Option<String>,
}

/// One report in a listing.
#[derive(Serialize, ToSchema)]
pub struct ReportItem {
    /// The ticket's key.
    pub ticket: String,
    /// Its org.
    pub org: String,
    /// Where it stands.
    pub state: ReportState,
    /// Publish by then (RFC 3339).
    pub due: Option<String>,
    /// When it was published (RFC 3339).
    pub published_at: Option<String>,
}

/// The post-incident reports the caller may read: staff see every stage, the org's people
/// the published ones.
#[utoipa::path(get, path = "/api/v1/reports", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = [ReportItem]), (status = 422, body = crate::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Params(q): Params<ListQuery>,
) -> Result<axum::Json<Vec<ReportItem>>, ApiError> {
    let published = match q.state.as_deref() {
        None => None,
        Some("published") => Some(true),
        Some("open") => Some(false),
        Some(_) => return Err(ApiError::unprocessable("state is published or open")),
    };
    let items = state
        .reports()
        .visible(caller.principal(), q.org.as_deref(), published)
        .await?
        .into_iter()
        .map(|(t, r)| ReportItem {
            ticket: t.key().to_string(),
            org: r.org.to_string(),
            state: r.state,
            due: r.due.map(iso),
            published_at: r.published_at.map(iso),
        })
        .collect();
    Ok(axum::Json(items))
}
