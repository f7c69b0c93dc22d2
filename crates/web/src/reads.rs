//! What the JSON API and the pages both read for a caller, each asked of the access policy
//! for them: a ticket (by id or key), the pages a person received, and the changes around a
//! ticket. Neither door calls the other; both call these.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use stringer_app::act::{Found, TicketRef};
use stringer_app::alerts::ChangeRecord;
use stringer_app::records::{DeliveryRecord, TicketRecord};
use stringer_core::access::{Action, Object, OrgRef};

/// How long before a ticket opened its org's changes are shown with it.
pub const CHANGES_BEFORE_SECONDS: i64 = 24 * 3600;

/// Which ticket a path names: its id (`tkt_…`) or its key (`ACME-42`); 400 for anything else.
pub fn ticket_ref(id: &str) -> Result<TicketRef, ApiError> {
    TicketRef::parse(id).ok_or_else(|| ApiError::bad_request("malformed ticket id or key (tkt_… or ACME-42)"))
}

/// Reads the ticket `id` (its id or its key) once and asks the policy about each of
/// `actions` on it, through the application; a refusal answers as the policy says (404
/// exactly as for a missing ticket).
pub async fn ticket_for(state: &AppState, caller: &Caller, id: &str, actions: &[Action]) -> Result<Found, ApiError> {
    Ok(state.tickets().find(caller.principal(), &ticket_ref(id)?, actions).await?)
}

/// The newest 100 pages delivered to the caller that they may still see, with their tickets.
pub async fn received(state: &AppState, caller: &Caller) -> Result<Vec<(DeliveryRecord, TicketRecord)>, ApiError> {
    caller.may(Action::ReadAccount, Some(Object::Account(caller.user().id.as_str())), "user")?;
    let orgs = state.ports.accounts.orgs().await?;
    let pages = state.ports.queries.deliveries_to(&caller.user().id, 100).await?;
    Ok(pages
        .into_iter()
        .filter(|(_, t)| {
            orgs.iter().find(|o| o.slug == t.org).is_some_and(|o| {
                let org = OrgRef { slug: o.slug.as_str(), deployment: o.deployment };
                caller.allowed(Action::ReadTicket, Some(Object::Ticket(org)))
            })
        })
        .collect())
}

/// The change events of a ticket's org from a day before it opened until it was resolved
/// (or now), newest first, at most 50: what changed around the problem. For staff.
pub async fn changes_near(state: &AppState, ticket: &TicketRecord) -> Result<Vec<ChangeRecord>, ApiError> {
    let from = ticket.state.opened_at.as_second() - CHANGES_BEFORE_SECONDS;
    let to = ticket.state.resolved_at.map_or(state.now().as_second(), |t| t.as_second());
    Ok(state.ports.alerts.changes(&ticket.org, from, to, 50).await?)
}

/// A received message as a download (`message/rfc822`, never sniffed as anything else).
pub fn eml_download(id: i64, raw: Vec<u8>) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, "message/rfc822".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"message-{id}.eml\"")),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        raw,
    )
        .into_response()
}
