//! `/packet/{org}`: an org's welcome packet as a print-friendly page (`?format=md` for its
//! Markdown), for the org's own people (linked from the portal) and the staff who see it.

use super::PageResult;
use super::session::Signed;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use serde::Deserialize;
use stringer_core::access::Action;

/// The format asked for.
#[derive(Deserialize)]
pub struct Format {
    #[serde(default)]
    format: Option<String>,
}

/// The packet, as HTML or (`?format=md`) Markdown.
pub async fn page(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path(slug): Path<String>,
    Query(format): Query<Format>,
) -> PageResult {
    let org = state.accounts().org(session.caller.principal(), &slug, Action::ReadOrg).await?;
    let packet = crate::packet::of(&state, &org).await?;
    Ok(match format.format.as_deref() {
        Some("md") => {
            ([(header::CONTENT_TYPE, "text/markdown; charset=utf-8")], stringer_app::packet::markdown(&packet))
                .into_response()
        }
        _ => {
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], stringer_app::packet::html(&packet)).into_response()
        }
    })
}
