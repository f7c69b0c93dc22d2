//! One-click acknowledgement from a notification: `GET /ack/<token>` shows what the link
//! does and a button (link scanners that prefetch GETs acknowledge nothing); `POST` does it.
//! A link acts as the person it was sent to, and only while the access policy lets that
//! person acknowledge the ticket (a person who lost their clearance, say, cannot).

use crate::AppState;
use crate::error::ApiError;
use crate::extract::PathParams;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use stringer_app::act::{Command, Found, Principal, Proof, TicketRef};
use stringer_core::access::{Action, Scopes};
use stringer_core::ids::UserId;

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title></head><body><main><h1>{title}</h1>{body}</main></body></html>"
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html).into_response()
}

/// The person a genuine, unexpired link was sent to, as the application's principal (none for
/// a deactivated account), and the ticket they may still acknowledge — else 404, as for a
/// link that never was.
async fn checked(state: &AppState, token: &str) -> Result<(Principal, Found), ApiError> {
    let gone = || ApiError::not_found("link (it may have expired)");
    let links = state.links.as_ref().ok_or_else(|| ApiError::not_found("link"))?;
    let (ticket, user) = links.verify(token, state.now()).ok_or_else(gone)?;
    let person = state.ports.accounts.user(&UserId(user)).await?;
    let who = person.and_then(|p| Principal::new(p, Scopes::READ_WRITE, Proof::SignedLink)).ok_or_else(gone)?;
    let found = state.tickets().find(&who, &TicketRef::Id(ticket), &[Action::Acknowledge]).await.map_err(|_| gone())?;
    Ok((who, found))
}

/// `GET /ack/<token>`: a confirmation page.
pub async fn confirm(
    State(state): State<AppState>,
    PathParams(token): PathParams<String>,
) -> Result<Response, ApiError> {
    let (_, found) = checked(&state, &token).await?;
    let ticket = &found.ticket.id;
    let form = format!(
        "<p>Acknowledge ticket <code>{ticket}</code> and stop its escalation?</p><form method=\"post\"><button type=\"submit\">Acknowledge</button></form>"
    );
    Ok(page("Acknowledge page", &form))
}

/// `POST /ack/<token>`: acknowledges the ticket as the link's person (idempotent).
pub async fn acknowledge(
    State(state): State<AppState>,
    PathParams(token): PathParams<String>,
) -> Result<Response, ApiError> {
    let (who, found) = checked(&state, &token).await?;
    let ticket = found.ticket.id.clone();
    state.tickets().act_on(&who, found, vec![Command::Acknowledge]).await?;
    Ok(page(
        "Acknowledged",
        &format!("<p>Ticket <code>{ticket}</code> is acknowledged; its escalation has stopped.</p>"),
    ))
}
