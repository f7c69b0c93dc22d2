//! "Verify this timeline": a ticket's ledger bundle as a download from its page, and the note
//! beside the timeline naming the signed head it covers and the log's key fingerprint. The
//! bundle is the application's (`LedgerDesk::bundle`), the one the API answers too.

use super::session::Signed;
use super::{PageError, text};
use crate::AppState;
use crate::error::ApiError;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use stringer_app::act::TicketRef;

/// What the ticket page says of its ledger bundle.
pub struct LedgerNote {
    /// The download.
    pub href: String,
    /// The tree size of the signed head the bundle covers.
    pub tree_size: u64,
    /// When that head was signed, in the reader's zone.
    pub signed: String,
    /// The log's key fingerprint, to compare with the welcome packet's.
    pub fingerprint: String,
}

/// The note for the ticket page whose forms post to `base`; none before a head is signed.
pub async fn note(state: &AppState, session: &super::session::Session, base: &str) -> Option<LedgerNote> {
    let ledger = state.ledger();
    let head = ledger.head(Some(session.caller.principal())).await.ok()?;
    let key = ledger.key().await.ok()?;
    let tz = text::zone(session.caller.user().time_zone.as_deref());
    let signed = Timestamp::from_second(head.head.timestamp as i64).ok()?;
    Some(LedgerNote {
        href: format!("{base}/proof.json"),
        tree_size: head.head.tree_size,
        signed: text::instant(signed, &tz),
        fingerprint: key.fingerprint,
    })
}

/// `/portal/tickets/{key}/proof.json` (and the console's): the ticket's bundle as the reader
/// may see it, as an attachment; another org's ticket is missing, as on its page.
pub async fn download(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path(key): Path<String>,
) -> Result<Response, PageError> {
    let ticket = TicketRef::parse(&key).ok_or_else(|| PageError::not_found("ticket"))?;
    let bundle = state.ledger().bundle(session.caller.principal(), &ticket, None).await.map_err(ApiError::from)?;
    let body = serde_json::to_vec_pretty(&bundle).map_err(|e| PageError::bad_request(e.to_string()))?;
    let disposition = format!("attachment; filename=\"{}-ledger.json\"", bundle.ticket.key);
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        body,
    )
        .into_response())
}
