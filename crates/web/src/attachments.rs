//! Attachments: what a file may be (size- and type-limited, the type read from the bytes, not
//! taken from the sender), and serving one so a browser never runs it (`Content-Disposition:
//! attachment`, `nosniff`, a sandboxing CSP). The bytes live in the database with the ticket.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use stringer_app::act::Found;
use stringer_app::files::{self, FileRefusal, MAX_PER_TICKET};
use stringer_app::records::AttachmentRecord;
use stringer_core::access::Action;

/// Checks a file by the rules of [`stringer_app::files::check`], as a problem to answer.
pub fn check(filename: &str, bytes: &[u8]) -> Result<&'static str, ApiError> {
    files::check(filename, bytes).map_err(|e| match e {
        FileRefusal::Invalid(why) => ApiError::unprocessable(why),
        FileRefusal::TooLarge(why) => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, why),
        FileRefusal::Type(why) => ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, why),
    })
}

/// Stores a checked attachment on `found` by the caller: customers' are public; staff choose
/// (`internal`), and only who may see internal notes may add an internal one.
pub async fn add(
    state: &AppState,
    caller: &Caller,
    found: &Found,
    filename: &str,
    bytes: Vec<u8>,
    internal: bool,
) -> Result<AttachmentRecord, ApiError> {
    let action = if internal { Action::CommentInternal } else { Action::CommentPublic };
    caller.may(action, Some(found.object()), "ticket")?;
    let content_type = check(filename, &bytes)?;
    if state.ports.files.attachments(&found.ticket.id).await?.len() >= MAX_PER_TICKET {
        return Err(ApiError::conflict(format!("a ticket holds at most {MAX_PER_TICKET} attachments")));
    }
    let record = AttachmentRecord {
        id: state.new_id("att"),
        ticket: found.ticket.id.clone(),
        filename: filename.to_string(),
        content_type: content_type.to_string(),
        size: bytes.len() as i64,
        sha256: hex::encode(Sha256::digest(&bytes)),
        public: !internal,
        uploaded_by: caller.user().id.clone(),
        created_at: state.now().as_second(),
    };
    state.ports.files.insert_attachment(&record, &bytes).await?;
    Ok(record)
}

/// The attachments of `found` the caller may see (internal ones for who sees internal notes).
pub async fn visible(state: &AppState, caller: &Caller, found: &Found) -> Result<Vec<AttachmentRecord>, ApiError> {
    let internal = caller.sees_internals(found);
    Ok(state.ports.files.attachments(&found.ticket.id).await?.into_iter().filter(|a| a.public || internal).collect())
}

/// An attachment as a download: never shown inline, never sniffed, never run.
pub fn download(record: &AttachmentRecord, bytes: Vec<u8>) -> Response {
    let ascii: String =
        record.filename.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
    let encoded: String = record
        .filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }
        })
        .collect();
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    (
        [
            (header::CONTENT_TYPE, record.content_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (header::CONTENT_SECURITY_POLICY, "sandbox; default-src 'none'".to_string()),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// An attachment with its bytes, if the caller may see it: 404 exactly as for a missing one
/// otherwise (another org's, or an internal one for a customer).
pub async fn readable(state: &AppState, caller: &Caller, id: &str) -> Result<(AttachmentRecord, Vec<u8>), ApiError> {
    if !crate::ids::is_id("att", id) {
        return Err(ApiError::bad_request("malformed attachment id"));
    }
    let Some((record, bytes)) = state.ports.files.attachment(id).await? else {
        return Err(ApiError::not_found("attachment"));
    };
    let found: Found = crate::reads::ticket_for(state, caller, record.ticket.as_str(), &[Action::ReadTicket])
        .await
        .map_err(|e| if e.status == StatusCode::NOT_FOUND { ApiError::not_found("attachment") } else { e })?;
    if !record.public && !caller.sees_internals(&found) {
        return Err(ApiError::not_found("attachment"));
    }
    Ok((record, bytes))
}
