//! A ticket's attachments over the API: upload (the raw bytes, `?filename=`), list, and
//! download (always as an attachment). Customers see and add public ones; staff may add
//! internal ones, which only who sees internal notes sees.

use crate::AppState;
use crate::attachments::{self, add, readable, visible};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Params, PathParams, RawBody};
use crate::reads::ticket_for;
use crate::routes::accounts::Items;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use stringer_app::records::AttachmentRecord;
use stringer_core::access::Action;
use utoipa::ToSchema;

/// An attachment as listed.
#[derive(Serialize, ToSchema)]
pub struct AttachmentView {
    id: String,
    filename: String,
    content_type: String,
    size: i64,
    sha256: String,
    /// The customer sees it.
    public: bool,
    uploaded_by: String,
    /// RFC 3339.
    created_at: String,
    /// Where to download it.
    url: String,
}

impl From<AttachmentRecord> for AttachmentView {
    fn from(a: AttachmentRecord) -> AttachmentView {
        AttachmentView {
            url: format!("/api/v1/attachments/{}", a.id),
            created_at: Timestamp::from_second(a.created_at).map(|t| t.to_string()).unwrap_or_default(),
            uploaded_by: a.uploaded_by.0,
            id: a.id,
            filename: a.filename,
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256,
            public: a.public,
        }
    }
}

/// How the upload is named and who sees it.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The file's name (no path), e.g. `error.log`.
    #[param(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^./\\\u0000-\u001f\u007f-\u009f][^/\\\u0000-\u001f\u007f-\u009f]*$"
    )]
    filename: String,
    /// Staff only: visible to staff alone (default false).
    internal: Option<bool>,
}

/// Attaches a file (the request body, at most 10 MiB: PNG, JPEG, GIF, WebP, PDF, ZIP, gzip,
/// JSON or text — the type is read from the bytes, and the name's extension must fit it).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/attachments", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$"), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = AttachmentView), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 413, body = crate::error::Problem), (status = 415, body = crate::error::Problem)))]
pub async fn upload(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Params(q): Params<UploadQuery>,
    RawBody(bytes): RawBody,
) -> Result<impl IntoResponse, ApiError> {
    let found = ticket_for(&state, &caller, &id, &[Action::ReadTicket]).await?;
    let record = add(&state, &caller, &found, &q.filename, bytes.to_vec(), q.internal.unwrap_or(false)).await?;
    Ok((StatusCode::CREATED, axum::Json(AttachmentView::from(record))))
}

/// A ticket's attachments the caller may see, oldest first.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/attachments", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")),
    responses((status = 200, body = Items<AttachmentView>), (status = 404, body = crate::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<Items<AttachmentView>>, ApiError> {
    let found = ticket_for(&state, &caller, &id, &[Action::ReadTicket]).await?;
    let items = visible(&state, &caller, &found).await?.into_iter().map(Into::into).collect();
    Ok(axum::Json(Items { items }))
}

/// Downloads an attachment (always `Content-Disposition: attachment`, never rendered).
#[utoipa::path(get, path = "/api/v1/attachments/{id}", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^att_[0-9A-HJKMNP-TV-Z]{26}$")),
    responses((status = 200, description = "The file", content_type = "*/*", body = Vec<u8>), (status = 404, body = crate::error::Problem)))]
pub async fn download(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<Response, ApiError> {
    let (record, bytes) = readable(&state, &caller, &id).await?;
    Ok(attachments::download(&record, bytes))
}
