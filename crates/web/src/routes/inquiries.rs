//! "Contact us": anyone (a prospect, a customer who lost access) writes to the vendor without
//! an account; the inquiry is due on the contract's general-inquiry target and waits in the
//! staff's inquiries queue. Rate-limited per client address; the page adds a bot guard. The
//! use cases are the application's ([`stringer_app::inquiries::InquiryDesk`]).

use crate::AppState;
use crate::auth::Caller;
use crate::client::client_ip;
use crate::error::ApiError;
use crate::extract::{Body, Params, PathParams};
use crate::routes::accounts::Items;
use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use stringer_app::inquiries::Message;
use stringer_app::records::InquiryRecord;
use utoipa::ToSchema;

/// An inquiry as shown to staff.
#[derive(Serialize, ToSchema)]
pub struct InquiryView {
    id: String,
    name: String,
    email: String,
    company: Option<String>,
    body: String,
    /// RFC 3339.
    received_at: String,
    /// RFC 3339: the answer is due then (the contract's general-inquiry target).
    due_at: String,
    answered_at: Option<String>,
    answered_by: Option<String>,
    answer: Option<String>,
}

fn rfc3339(secs: i64) -> String {
    Timestamp::from_second(secs).map(|t| t.to_string()).unwrap_or_default()
}

impl From<InquiryRecord> for InquiryView {
    fn from(i: InquiryRecord) -> InquiryView {
        InquiryView {
            received_at: rfc3339(i.received_at),
            due_at: rfc3339(i.due_at),
            answered_at: i.answered_at.map(rfc3339),
            answered_by: i.answered_by.map(|u| u.0),
            id: i.id,
            name: i.name,
            email: i.email,
            company: i.company,
            body: i.body,
            answer: i.answer,
        }
    }
}

/// What a person writes.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    #[schema(pattern = "^[^@]+@[^@]+$", max_length = 254)]
    email: String,
    #[schema(max_length = 200)]
    company: Option<String>,
    #[schema(min_length = 1, max_length = 8192)]
    body: String,
}

impl From<Contact> for Message {
    fn from(c: Contact) -> Message {
        Message { name: c.name, email: c.email, company: c.company, body: c.body }
    }
}

/// The receipt: when to expect an answer.
#[derive(Serialize, ToSchema)]
pub struct ContactReceipt {
    id: String,
    /// RFC 3339: the answer is due by then.
    answer_due: String,
}

/// Writes to the vendor without an account (see the "Contact us" page): answered on the
/// contract's general-inquiry target. Rate-limited per client address.
#[utoipa::path(post, path = "/api/v1/contact", request_body = Contact,
    responses((status = 202, body = ContactReceipt), (status = 422, body = crate::error::Problem), (status = 429, body = crate::error::Problem)))]
pub async fn contact(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Body(body): Body<Contact>,
) -> Result<impl IntoResponse, ApiError> {
    let ip = client_ip(peer.ip(), &headers, &state.settings.trusted_proxies);
    let inquiry = state.inquiries().receive(&ip.to_string(), body.into()).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(ContactReceipt { id: inquiry.id, answer_due: rfc3339(inquiry.due_at) })))
}

/// Which inquiries.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InquiryQuery {
    /// Answered ones (newest first) instead of open ones (by due time).
    answered: Option<bool>,
}

/// The inquiries queue (staff).
#[utoipa::path(get, path = "/api/v1/inquiries", security(("bearer" = [])), params(InquiryQuery),
    responses((status = 200, body = Items<InquiryView>), (status = 403, body = crate::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Params(q): Params<InquiryQuery>,
) -> Result<axum::Json<Items<InquiryView>>, ApiError> {
    let items = state.inquiries().list(caller.principal(), q.answered.unwrap_or(false), 200).await?;
    Ok(axum::Json(Items { items: items.into_iter().map(Into::into).collect() }))
}

/// An answer.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    #[schema(min_length = 1, max_length = 8192)]
    answer: String,
}

/// Records the answer to an inquiry (staff).
#[utoipa::path(post, path = "/api/v1/inquiries/{id}/answer", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^inq_[0-9A-HJKMNP-TV-Z]{26}$")), request_body = Answer,
    responses((status = 200, body = InquiryView), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub async fn answer(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<Answer>,
) -> Result<axum::Json<InquiryView>, ApiError> {
    Ok(axum::Json(state.inquiries().answer(caller.principal(), &id, &body.answer).await?.into()))
}
