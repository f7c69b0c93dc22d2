//! The ledger's doors (docs/ledger.md §6): a ticket's bundle, consistency proofs and the signed
//! heads in the API; the published key and heads under `/.well-known/stringer-ledger/`, for
//! anyone. Each asks the application's `LedgerDesk`, which asks the access policy.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Params, PathParams};
use crate::reads::ticket_ref;
use crate::routes::accounts::Items;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use stringer_app::ledger::LedgerError;
use stringer_app::ledger::desk::PublishedKey;
use stringer_core::access::Action;
use stringer_core::review::Quarter;
use stringer_ledger::Hash;
use stringer_ledger::bundle::{Bundle, LogInfo, ReviewBundle};
use stringer_ledger::head::SignedHead;
use utoipa::ToSchema;

impl From<LedgerError> for ApiError {
    fn from(e: LedgerError) -> ApiError {
        match e {
            LedgerError::NotFound => ApiError::not_found("ticket"),
            LedgerError::NoFigures => ApiError::not_found("review figures"),
            LedgerError::Forbidden(why) => ApiError::forbidden(why),
            LedgerError::BadRange(detail) => ApiError::bad_request(detail),
            LedgerError::KeyRefused(detail) | LedgerError::Unavailable(detail) => ApiError::conflict(detail),
            LedgerError::Store(e) => e.into(),
        }
    }
}

/// A signed tree head in its JSON form (docs/ledger.md §6.2): `log_id`, `tree_size`,
/// `root_hash`, `timestamp`, `key_id`, `signature`.
#[derive(Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct HeadView(pub SignedHead);

/// A ticket's ledger bundle (docs/ledger.md §6.3, format `stringer-ledger-bundle/1`).
#[derive(Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct BundleView(pub Bundle);

/// The log's published key: its id, current key, key id and fingerprint, and the rotations
/// that lead to the key, oldest first.
#[derive(Serialize)]
pub struct KeyView {
    #[serde(flatten)]
    log: LogInfo,
    fingerprint: String,
}

impl From<PublishedKey> for KeyView {
    fn from(k: PublishedKey) -> KeyView {
        KeyView { log: k.log, fingerprint: k.fingerprint }
    }
}

/// Which head a bundle's consistency proof starts from.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProofQuery {
    /// The tree size of a head the reader holds: the bundle then proves its head extends it.
    #[param(minimum = 1)]
    from: Option<u64>,
}

/// A ticket's entries in the ledger, each with its inclusion proof under the latest signed
/// head, as the reader may see them: exactly the timeline this caller is shown, the fields
/// they see disclosed with their salts and the rest withheld as digests; entries appended
/// since the head under `pending`. `from` adds a consistency proof from that tree size.
/// Check it offline with `stringer verify` or `tools/verify-bundle.py`.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/proof", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$"), ProofQuery),
    responses((status = 200, body = BundleView), (status = 404, body = crate::error::Problem), (status = 409, description = "No head is signed yet", body = crate::error::Problem)))]
pub async fn proof(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Params(q): Params<ProofQuery>,
) -> Result<axum::Json<BundleView>, ApiError> {
    let ticket = ticket_ref(&id)?;
    Ok(axum::Json(BundleView(state.ledger().bundle(caller.principal(), &ticket, q.from).await?)))
}

/// An org's quarterly-review figure bundle (docs/ledger.md §6.5, format
/// `stringer-ledger-review/1`).
#[derive(Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct ReviewBundleView(pub ReviewBundle);

/// An org's quarterly-review figures as the ledger froze them when the review round was
/// written (integers only), with their inclusion proof under the latest signed head; `from`
/// adds a consistency proof from that tree size. For whoever may read the review (staff who
/// see the org, its admins). Check it offline with `stringer verify` or
/// `tools/verify-bundle.py`.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/reviews/{quarter}/proof", security(("bearer" = [])),
    params(("slug" = String, Path), ("quarter" = String, Path, pattern = r"^(19[7-9][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-[Qq][1-4]$"), ProofQuery),
    responses((status = 200, body = ReviewBundleView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, description = "No head is signed yet, or none since the figures", body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
pub async fn review_proof(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams((slug, q)): PathParams<(String, String)>,
    Params(p): Params<ProofQuery>,
) -> Result<axum::Json<ReviewBundleView>, ApiError> {
    let org = state.accounts().org(caller.principal(), &slug, Action::ReadReview).await?;
    let quarter = Quarter::parse(&q)
        .ok_or_else(|| ApiError::unprocessable(format!("{q:?} is not a quarter (e.g. 2026-Q4)")))?
        .to_string();
    let bundle = state.ledger().review_bundle(caller.principal(), &org, &quarter, p.from).await?;
    Ok(axum::Json(ReviewBundleView(bundle)))
}

/// Two tree sizes of the log.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    /// The earlier size (at least 1).
    #[param(minimum = 1)]
    from: u64,
    /// The later size (above `from`, at most the log's size).
    #[param(minimum = 2)]
    to: u64,
}

/// A consistency proof (RFC 9162 §2.1.4.1) between two tree sizes.
#[derive(Serialize, ToSchema)]
pub struct ConsistencyView {
    from: u64,
    to: u64,
    /// The proof's hashes, in lowercase hex.
    #[serde(with = "stringer_ledger::wire::hex32_vec")]
    #[schema(value_type = Vec<String>)]
    proof: Vec<Hash>,
}

/// The proof that the log of `to` leaves extends the log of its first `from` leaves, for
/// checking two signed heads against each other. 400 unless `0 < from < to <=` the log's size.
#[utoipa::path(get, path = "/api/v1/ledger/consistency", security(("bearer" = [])), params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyView)))]
pub async fn consistency(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Params(q): Params<ConsistencyQuery>,
) -> Result<axum::Json<ConsistencyView>, ApiError> {
    let p = state.ledger().consistency(caller.principal(), q.from, q.to).await?;
    Ok(axum::Json(ConsistencyView { from: p.from, to: p.to, proof: p.proof }))
}

/// A page of signed heads.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HeadsQuery {
    /// Only heads of tree sizes above this one; default: from the first.
    #[param(minimum = 0, maximum = 9223372036854775807_i64)]
    after: Option<u64>,
    /// 1–1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
}

impl HeadsQuery {
    /// `after`, refused beyond the largest tree size a log can hold (as its schema says).
    fn after(&self) -> Result<Option<u64>, ApiError> {
        match self.after {
            Some(after) if after > i64::MAX as u64 => Err(ApiError::bad_request("after: a tree size, 0 to 2^63 - 1")),
            after => Ok(after),
        }
    }
}

/// The log's signed heads, smallest tree size first, a page at a time.
#[utoipa::path(get, path = "/api/v1/ledger/heads", security(("bearer" = [])), params(HeadsQuery),
    responses((status = 200, body = Items<HeadView>)))]
pub async fn list_heads(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Params(q): Params<HeadsQuery>,
) -> Result<axum::Json<Items<HeadView>>, ApiError> {
    let heads = state.ledger().heads(Some(caller.principal()), q.after()?, q.limit.unwrap_or(100)).await?;
    Ok(axum::Json(Items { items: heads.into_iter().map(HeadView).collect() }))
}

/// Signs the log's head now (admins) and answers it; when the log has not grown since the
/// latest head, that head is answered and nothing is signed.
#[utoipa::path(post, path = "/api/v1/ledger/heads", security(("bearer" = [])),
    responses((status = 201, body = HeadView), (status = 409, description = "This server's key may not sign", body = crate::error::Problem)))]
pub async fn sign_head(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<(StatusCode, axum::Json<HeadView>), ApiError> {
    let head = state.ledger().sign(caller.principal()).await?;
    Ok((StatusCode::CREATED, axum::Json(HeadView(head))))
}

/// `/.well-known/stringer-ledger/key`: the log's key, its fingerprint and rotations.
pub async fn well_known_key(State(state): State<AppState>) -> Result<axum::Json<KeyView>, ApiError> {
    Ok(axum::Json(state.ledger().key().await?.into()))
}

/// `/.well-known/stringer-ledger/head`: the latest signed head.
pub async fn well_known_head(State(state): State<AppState>) -> Result<axum::Json<HeadView>, ApiError> {
    Ok(axum::Json(HeadView(state.ledger().head(None).await?)))
}

/// `/.well-known/stringer-ledger/heads?after=&limit=`: signed heads, smallest first.
pub async fn well_known_heads(
    State(state): State<AppState>,
    Params(q): Params<HeadsQuery>,
) -> Result<axum::Json<Items<HeadView>>, ApiError> {
    let heads = state.ledger().heads(None, q.after()?, q.limit.unwrap_or(100)).await?;
    Ok(axum::Json(Items { items: heads.into_iter().map(HeadView).collect() }))
}
