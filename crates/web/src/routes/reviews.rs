//! The recommendations of an org's quarterly operational review through `/api/v1`: read by
//! whoever may read the review (staff who see the org, its admins), written by whoever the
//! access policy lets complete it (the TAM, a support lead, the VP, an admin). The review
//! itself is read at `/reviews?org=…&quarter=…&format=json|csv|md` and from `stringer review`.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Body, PathParams};
use axum::Extension;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use stringer_app::review::{Recommendations, write_recommendations};
use stringer_core::access::Action;
use stringer_core::review::Quarter;
use utoipa::ToSchema;

/// The recommendations of an org's quarter.
#[derive(Serialize, ToSchema)]
pub struct RecommendationsOut {
    /// The org.
    pub org: String,
    /// The quarter, e.g. `2026-Q3`.
    pub quarter: String,
    /// Markdown (null: not written yet).
    pub body: Option<String>,
    /// Who wrote them last.
    pub author: Option<String>,
    /// When (RFC 3339).
    pub updated_at: Option<String>,
}

/// New recommendations.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecommendationsIn {
    /// Markdown.
    #[schema(pattern = "\\S", max_length = 20000)]
    pub body: String,
}

fn quarter(text: &str) -> Result<Quarter, ApiError> {
    Quarter::parse(text).ok_or_else(|| ApiError::unprocessable(format!("{text:?} is not a quarter (e.g. 2026-Q4)")))
}

fn out(org: &str, quarter: Quarter, r: Option<Recommendations>) -> RecommendationsOut {
    let at = |s: i64| jiff::Timestamp::from_second(s).map(|t| t.to_string()).unwrap_or_default();
    RecommendationsOut {
        org: org.to_string(),
        quarter: quarter.to_string(),
        body: r.as_ref().map(|r| r.body.clone()),
        author: r.as_ref().map(|r| r.author.to_string()),
        updated_at: r.map(|r| at(r.updated_at)),
    }
}

/// The recommendations of an org's quarterly review.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/reviews/{quarter}/recommendations", security(("bearer" = [])),
    params(("slug" = String, Path), ("quarter" = String, Path, pattern = r"^(19[7-9][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-[Qq][1-4]$")),
    responses((status = 200, body = RecommendationsOut), (status = 404, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn get_recommendations(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams((slug, q)): PathParams<(String, String)>,
) -> Result<axum::Json<RecommendationsOut>, ApiError> {
    let org = state.accounts().org(caller.principal(), &slug, Action::ReadReview).await?;
    let quarter = quarter(&q)?;
    let r = state.ports.review_book.recommendations(&org.slug, &quarter.to_string()).await?;
    Ok(axum::Json(out(org.slug.as_str(), quarter, r)))
}

/// Writes the recommendations of an org's quarterly review (the TAM completes them before
/// presenting; at most 20,000 bytes of Markdown).
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/reviews/{quarter}/recommendations", security(("bearer" = [])),
    params(("slug" = String, Path), ("quarter" = String, Path, pattern = r"^(19[7-9][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-[Qq][1-4]$")),
    request_body = RecommendationsIn,
    responses((status = 200, body = RecommendationsOut), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn put_recommendations(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams((slug, q)): PathParams<(String, String)>,
    Body(body): Body<RecommendationsIn>,
) -> Result<axum::Json<RecommendationsOut>, ApiError> {
    let org = state.accounts().org(caller.principal(), &slug, Action::WriteReview).await?;
    let quarter = quarter(&q)?;
    let now = state.now().as_second();
    let written =
        write_recommendations(&state.ports.for_review(), &org, quarter, &body.body, &caller.user().id, now).await?;
    Ok(axum::Json(out(org.slug.as_str(), quarter, Some(written))))
}
