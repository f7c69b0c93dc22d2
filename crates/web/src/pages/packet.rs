//! `/packet/{org}`: an org's welcome packet in the site's frame (`?format=md` for its
//! Markdown, `?format=html` for a print-friendly document of its own), for the org's own
//! people (linked from the portal) and the staff who see it.

use super::session::Signed;
use super::{Nav, PageResult, render};
use crate::AppState;
use askama::Template;
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

/// The packet inside the site's frame.
#[derive(Template)]
#[template(path = "packet.html")]
struct PacketPage {
    nav: Nav,
    org: String,
    slug: String,
    /// The packet's content, escaped where it was made.
    body: String,
}

/// The packet: a page, or (`?format=md`) Markdown, or (`?format=html`) a document of its own.
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
        Some("html") => {
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], stringer_app::packet::html(&packet)).into_response()
        }
        _ => render(&PacketPage {
            nav: Nav::of(&session),
            org: packet.org.clone(),
            slug: org.slug.to_string(),
            body: stringer_app::packet::html_body(&packet),
        })?,
    })
}
