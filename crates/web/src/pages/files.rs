//! Attachments on the pages: attaching a file to a ticket, and downloading one (always as an
//! attachment), with the same rules as the API.

use super::session::{PageUpload, Signed};
use super::{PageError, PageResult, see_other};
use crate::AppState;
use crate::attachments::readable;
use crate::attachments::{add, download as as_download};
use axum::extract::{Path, State};
use stringer_core::access::Action;

/// Attaches the posted file to the ticket, then shows the ticket again.
pub async fn attach(State(state): State<AppState>, Path(key): Path<String>, upload: PageUpload) -> PageResult {
    let session = &upload.session;
    let found = super::ticket::find(&state, session, &key).await?;
    let staff = session.caller.may_list(Action::OpenConsole).is_ok();
    add(&state, &session.caller, &found, &upload.filename, upload.bytes, staff && upload.internal).await?;
    see_other(&format!("/{}/tickets/{key}", if staff { "console" } else { "portal" }))
}

/// Downloads an attachment the reader may see (404 as for a missing one otherwise).
pub async fn download(State(state): State<AppState>, Signed(session): Signed, Path(id): Path<String>) -> PageResult {
    let (record, bytes) = readable(&state, &session.caller, &id).await.map_err(|e| {
        if e.status == axum::http::StatusCode::BAD_REQUEST { PageError::not_found("attachment") } else { e.into() }
    })?;
    Ok(as_download(&record, bytes))
}
