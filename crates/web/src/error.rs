//! One error type for every handler, answered as RFC 9457 `application/problem+json`.
//! Internal details are logged, never sent.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use stringer_app::accounts::AccountError;
use stringer_app::act::ActError;
use stringer_app::inquiries::InquiryError;
use stringer_app::limits::Spent;
use stringer_app::postmortem::ReportError;
use stringer_app::status::manage::ManageError;
use stringer_app::{AppError, StoreError};

/// An error answered to the client.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// A specific explanation for this occurrence.
    pub detail: String,
    /// RFC 9457 extension members (e.g. `opens_at` of a refused customer page).
    pub extensions: serde_json::Map<String, serde_json::Value>,
    /// Seconds to wait before trying again (`Retry-After`), for 429 and 409 "in progress".
    pub retry_after: Option<i64>,
}

impl ApiError {
    /// An error with this status and detail.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> ApiError {
        ApiError { status, detail: detail.into(), extensions: serde_json::Map::new(), retry_after: None }
    }

    /// 429, try again in `seconds`.
    pub fn too_many(detail: impl Into<String>, seconds: i64) -> ApiError {
        let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, detail);
        e.retry_after = Some(seconds.max(1));
        e
    }

    /// Adds an extension member to the problem document.
    pub fn with(mut self, key: &str, value: serde_json::Value) -> ApiError {
        self.extensions.insert(key.to_string(), value);
        self
    }

    /// 400.
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, detail)
    }

    /// 404: also what another tenant's data answers, so existence does not leak.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, format!("no such {what}"))
    }

    /// 403.
    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, detail)
    }

    /// 409.
    pub fn conflict(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, detail)
    }

    /// 422.
    pub fn unprocessable(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
    }

    /// 401.
    pub fn unauthorized(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, detail)
    }
}

/// The answer to a request whose handler panicked: a 500 problem saying an internal error
/// happened (never that the database is unavailable), with the panic's message logged.
pub fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = message, "a request failed: its handler panicked");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "an internal error happened; it is logged for the operators")
        .into_response()
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Duplicate(what) => ApiError::conflict(format!("{what} already exists")),
            StoreError::Missing(what) => {
                ApiError::unprocessable(format!("{what} refers to something that does not exist"))
            }
            StoreError::Conflict(id) => ApiError::conflict(format!("ticket {id} changed concurrently; retry")),
            StoreError::KeyTakenOver => ApiError::conflict(
                "this request outlived its Idempotency-Key's lease and a retry with the key took it over; the retry's outcome counts",
            ),
            StoreError::Applied(receipt) => ApiError::conflict(format!("inbox item {receipt} was applied before")),
            StoreError::Backend(detail) => {
                tracing::error!(%detail, "store failure");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the database is unavailable; retry shortly")
            }
        }
    }
}

impl From<ActError> for ApiError {
    fn from(e: ActError) -> ApiError {
        match e {
            ActError::NotFound => ApiError::not_found("ticket"),
            ActError::Forbidden(why) => ApiError::forbidden(why),
            ActError::Invalid(detail) => ApiError::unprocessable(detail),
            ActError::Refused { reason, opens_at } => {
                ApiError::conflict(reason).with("opens_at", opens_at.map(|t| t.to_string()).into())
            }
            e @ ActError::TooSoon(wait) => ApiError::too_many(e.to_string(), wait),
            ActError::App(e) => e.into(),
        }
    }
}

impl From<Spent> for ApiError {
    fn from(spent: Spent) -> ApiError {
        ApiError::too_many(spent.to_string(), spent.wait)
    }
}

impl From<InquiryError> for ApiError {
    fn from(e: InquiryError) -> ApiError {
        match e {
            InquiryError::Spent(spent) => spent.into(),
            InquiryError::Invalid(detail) => ApiError::unprocessable(detail),
            InquiryError::Malformed => ApiError::bad_request(e.to_string()),
            InquiryError::NotFound => ApiError::not_found("inquiry"),
            InquiryError::Forbidden(why) => ApiError::forbidden(why),
            InquiryError::Answered => ApiError::conflict(e.to_string()),
            InquiryError::Store(e) => e.into(),
        }
    }
}

impl From<ManageError> for ApiError {
    fn from(e: ManageError) -> ApiError {
        match e {
            ManageError::NotFound(what) => ApiError::not_found(what),
            ManageError::Forbidden(why) => ApiError::forbidden(why),
            ManageError::Invalid(detail) => ApiError::unprocessable(detail),
            ManageError::App(e) => e.into(),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> ApiError {
        match e {
            AccountError::NotFound(what) => ApiError::not_found(what),
            AccountError::Forbidden(why) => ApiError::forbidden(why),
            AccountError::Invalid(detail) => ApiError::unprocessable(detail),
            AccountError::Malformed(detail) => ApiError::bad_request(detail),
            AccountError::Unauthorized(detail) => ApiError::unauthorized(detail),
            AccountError::Spent(spent) => spent.into(),
            AccountError::Conflict(detail) => ApiError::conflict(detail),
            AccountError::Unavailable(detail) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, detail),
            AccountError::App(e) => e.into(),
        }
    }
}

impl From<stringer_app::schedules::ScheduleError> for ApiError {
    fn from(e: stringer_app::schedules::ScheduleError) -> ApiError {
        use stringer_app::schedules::ScheduleError;
        match e {
            ScheduleError::Spec(e) => ApiError::unprocessable(e.to_string()),
            ScheduleError::Account(e) => e.into(),
        }
    }
}

impl From<stringer_app::paging::PagingError> for ApiError {
    fn from(e: stringer_app::paging::PagingError) -> ApiError {
        use stringer_app::paging::PagingError;
        match e {
            PagingError::Field { .. } => ApiError::unprocessable(e.to_string()),
            PagingError::Account(e) => e.into(),
        }
    }
}

impl From<ReportError> for ApiError {
    fn from(e: ReportError) -> ApiError {
        match e {
            ReportError::NotFound => ApiError::not_found("report"),
            ReportError::Refused(why) | ReportError::Incomplete { why, .. } => ApiError::unprocessable(why),
            ReportError::Forbidden(why) => ApiError::forbidden(why),
            ReportError::Stale(_) => ApiError::conflict(e.to_string()),
            ReportError::App(e) => e.into(),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        match e {
            AppError::Rejected(detail) => ApiError::unprocessable(detail),
            AppError::Busy(id) => {
                let mut e = ApiError::conflict(format!("ticket {id} kept changing meanwhile; retry"));
                e.retry_after = Some(1);
                e
            }
            e @ AppError::Uncovered(_) => {
                tracing::error!("{e}");
                ApiError::conflict(e.to_string())
            }
            AppError::UnknownTicket(_) => ApiError::not_found("ticket"),
            AppError::UnknownOrg(_) => ApiError::not_found("org"),
            AppError::Store(s) => s.into(),
        }
    }
}

fn title(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Error")
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = self.extensions;
        body.insert("type".into(), "about:blank".into());
        body.insert("title".into(), title(self.status).into());
        body.insert("status".into(), self.status.as_u16().into());
        body.insert("detail".into(), self.detail.into());
        let body = serde_json::Value::Object(body);
        let mut response =
            (self.status, [(header::CONTENT_TYPE, "application/problem+json")], body.to_string()).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

/// An RFC 9457 problem document.
#[derive(utoipa::ToSchema, serde::Serialize)]
pub struct Problem {
    /// Always "about:blank".
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's reason phrase.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong, for people.
    pub detail: String,
}
