//! A ticket's conversation and timeline, as the access policy lets the caller see them:
//! staff see internal notes and who was paged and how; customers see the public
//! conversation and what happened, without the vendor's internal details.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Params, PathParams};
use crate::reads::ticket_for;
use crate::routes::accounts::Items;
use axum::Extension;
use axum::extract::State;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use stringer_app::records::{CommentRecord, TimelineRecord};
use stringer_core::access::Action;
use utoipa::ToSchema;

/// A comment as shown.
#[derive(Serialize, ToSchema)]
pub struct CommentView {
    id: String,
    author: String,
    public: bool,
    body: String,
    created_at: String,
}

impl From<CommentRecord> for CommentView {
    fn from(c: CommentRecord) -> CommentView {
        let at = Timestamp::from_second(c.created_at).map(|t| t.to_string()).unwrap_or_default();
        CommentView { id: c.id, author: c.author.0, public: c.public, body: c.body, created_at: at }
    }
}

/// A ticket's comments (customers see public ones only).
#[utoipa::path(get, path = "/api/v1/tickets/{id}/comments", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")),
    responses((status = 200, body = Items<CommentView>), (status = 404, body = crate::error::Problem)))]
pub async fn list_comments(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<Items<CommentView>>, ApiError> {
    let found = ticket_for(&state, &caller, &id, &[Action::ReadTicket]).await?;
    let internal = caller.sees_internals(&found);
    let comments = state.ports.queries.comments(&found.ticket.id).await?;
    let items = comments.into_iter().filter(|c| c.public || internal).map(Into::into).collect();
    Ok(axum::Json(Items { items }))
}

/// A timeline entry as shown.
#[derive(Serialize, ToSchema)]
pub struct TimelineView {
    /// Its position; pass as `after` for the next page.
    seq: i64,
    at: String,
    kind: String,
    actor: Option<String>,
    /// The event or notice, in `stringer simulate`'s vocabulary.
    #[schema(value_type = Object)]
    body: serde_json::Value,
}

impl From<TimelineRecord> for TimelineView {
    fn from(t: TimelineRecord) -> TimelineView {
        let at = Timestamp::from_second(t.at).map(|x| x.to_string()).unwrap_or_default();
        TimelineView { seq: t.seq, at, kind: t.kind, actor: t.actor.map(|a| a.0), body: t.body }
    }
}

/// A page of the timeline.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TimelineQuery {
    /// Only entries after this position (a previous entry's `seq`); default 0.
    #[param(minimum = 0)]
    after: Option<i64>,
    /// 1–1000, default 1000.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// The ticket's append-only timeline (events and notices), oldest first, a page at a time.
/// Staff see every entry whole; customers see it without internal notes and staff-only
/// details.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/timeline", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$"), TimelineQuery),
    responses((status = 200, body = Items<TimelineView>), (status = 404, body = crate::error::Problem)))]
pub async fn timeline(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Params(q): Params<TimelineQuery>,
) -> Result<axum::Json<Items<TimelineView>>, ApiError> {
    let limit = q.limit.unwrap_or(1000);
    if !(1..=1000).contains(&limit) || q.after.is_some_and(|a| a < 0) {
        return Err(ApiError::bad_request("after: 0 or more; limit: 1 to 1000"));
    }
    let found = ticket_for(&state, &caller, &id, &[Action::ReadTicket]).await?;
    let internal = caller.sees_internals(&found);
    let entries = state.ports.queries.timeline(&found.ticket.id, q.after.unwrap_or(0), limit).await?;
    let items = entries
        .into_iter()
        .filter_map(|entry| if internal { Some(entry) } else { entry.customer_view() })
        .map(Into::into)
        .collect();
    Ok(axum::Json(Items { items }))
}
