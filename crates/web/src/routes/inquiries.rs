//! "Contact us": anyone (a prospect, a customer who lost access) writes to the vendor without
//! an account; the inquiry is due on the contract's general-inquiry target and waits in the
//! staff's inquiries queue. Rate-limited per client address; the page adds a bot guard.

use crate::AppState;
use crate::auth::Caller;
use crate::client::client_ip;
use crate::error::ApiError;
use crate::extract::{Body, Params, PathParams};
use crate::ids::new_id;
use crate::ratelimit::spend;
use crate::routes::accounts::Items;
use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use stringer_app::records::InquiryRecord;
use stringer_core::access::{Action, Object};
use utoipa::ToSchema;

/// The longest inquiry, in bytes.
pub const MAX_INQUIRY: usize = 8 * 1024;

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
    pub name: String,
    #[schema(pattern = "^[^@]+@[^@]+$", max_length = 254)]
    pub email: String,
    #[schema(max_length = 200)]
    pub company: Option<String>,
    #[schema(min_length = 1, max_length = 8192)]
    pub body: String,
}

/// The receipt: when to expect an answer.
#[derive(Serialize, ToSchema)]
pub struct ContactReceipt {
    id: String,
    /// RFC 3339: the answer is due by then.
    answer_due: String,
}

/// Checks and stores an inquiry from client address `ip`, due on the contract's
/// general-inquiry target from now. A client address may send a few per hour.
pub async fn receive(state: &AppState, ip: &str, c: Contact) -> Result<InquiryRecord, ApiError> {
    spend(state, state.settings.contact_limit, format!("contact:{ip}"), "too many messages from this address").await?;
    let one_line = |s: &str| !s.contains(['\r', '\n']);
    if c.name.trim().is_empty() || c.name.len() > 200 || !one_line(&c.name) {
        return Err(ApiError::unprocessable("name: 1 to 200 characters on one line"));
    }
    let at = c.email.find('@');
    if c.email.len() > 254 || !one_line(&c.email) || at.is_none_or(|i| i == 0 || i + 1 == c.email.len()) {
        return Err(ApiError::unprocessable("email: an address to answer"));
    }
    if c.company.as_ref().is_some_and(|co| co.len() > 200 || !one_line(co)) {
        return Err(ApiError::unprocessable("company: at most 200 characters on one line"));
    }
    if c.body.trim().is_empty() || c.body.len() > MAX_INQUIRY {
        return Err(ApiError::unprocessable(format!("body: 1 to {MAX_INQUIRY} bytes")));
    }
    let now = state.now();
    let contract = state.contract();
    let inquiry = InquiryRecord {
        id: new_id("inq"),
        name: c.name.trim().to_string(),
        email: c.email.trim().to_string(),
        company: c.company.map(|co| co.trim().to_string()).filter(|co| !co.is_empty()),
        body: c.body,
        received_at: now.as_second(),
        due_at: contract.due(&contract.general_inquiry, now).as_second(),
        answered_at: None,
        answered_by: None,
        answer: None,
    };
    state.ports.inquiries.insert_inquiry(&inquiry).await?;
    Ok(inquiry)
}

/// Writes to the vendor without an account (see the "Contact us" page): answered on the
/// contract's general-inquiry target. Rate-limited per client address.
#[utoipa::path(post, path = "/api/v1/contact", request_body = Contact,
    responses((status = 202, body = ContactReceipt), (status = 422, body = crate::routes::Problem), (status = 429, body = crate::routes::Problem)))]
pub async fn contact(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Body(body): Body<Contact>,
) -> Result<impl IntoResponse, ApiError> {
    let ip = client_ip(peer.ip(), &headers, &state.settings.trusted_proxies);
    let inquiry = receive(&state, &ip.to_string(), body).await?;
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
    responses((status = 200, body = Items<InquiryView>), (status = 403, body = crate::routes::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Params(q): Params<InquiryQuery>,
) -> Result<axum::Json<Items<InquiryView>>, ApiError> {
    caller.may(Action::ReadInquiries, Some(Object::Staff), "inquiry")?;
    let items = state.ports.inquiries.inquiries(q.answered.unwrap_or(false), 200).await?;
    Ok(axum::Json(Items { items: items.into_iter().map(Into::into).collect() }))
}

/// An answer.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    #[schema(min_length = 1, max_length = 8192)]
    pub answer: String,
}

/// Records the answer to an open inquiry (staff); answered once.
pub async fn record_answer(
    state: &AppState,
    caller: &Caller,
    id: &str,
    answer: String,
) -> Result<InquiryRecord, ApiError> {
    caller.may(Action::HandleInquiries, Some(Object::Staff), "inquiry")?;
    if answer.trim().is_empty() || answer.len() > MAX_INQUIRY {
        return Err(ApiError::unprocessable(format!("answer: 1 to {MAX_INQUIRY} bytes")));
    }
    if !crate::ids::is_id("inq", id) {
        return Err(ApiError::bad_request("malformed inquiry id"));
    }
    let now = state.now().as_second();
    if !state.ports.inquiries.answer_inquiry(id, &caller.user().id, &answer, now).await? {
        return match state.ports.inquiries.inquiry(id).await? {
            Some(_) => Err(ApiError::conflict("this inquiry was answered already")),
            None => Err(ApiError::not_found("inquiry")),
        };
    }
    state.ports.inquiries.inquiry(id).await?.ok_or_else(|| ApiError::not_found("inquiry"))
}

/// Records the answer to an inquiry (staff).
#[utoipa::path(post, path = "/api/v1/inquiries/{id}/answer", security(("bearer" = [])), params(("id" = String, Path, pattern = r"^inq_[0-9A-HJKMNP-TV-Z]{26}$")), request_body = Answer,
    responses((status = 200, body = InquiryView), (status = 404, body = crate::routes::Problem), (status = 409, body = crate::routes::Problem)))]
pub async fn answer(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(body): Body<Answer>,
) -> Result<axum::Json<InquiryView>, ApiError> {
    Ok(axum::Json(record_answer(&state, &caller, &id, body.answer).await?.into()))
}
