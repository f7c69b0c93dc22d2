//! One-click acknowledgement from a notification: `GET /ack/<token>` shows what the link
//! does and a button (link scanners that prefetch GETs acknowledge nothing); `POST` does it.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use stringer_app::Extras;
use stringer_core::event::Event;

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title></head><body><main><h1>{title}</h1>{body}</main></body></html>"
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html).into_response()
}

fn checked(state: &AppState, token: &str) -> Result<(stringer_core::ids::TicketId, String), ApiError> {
    let links = state.links.as_ref().ok_or_else(|| ApiError::not_found("link"))?;
    links.verify(token, state.now()).ok_or_else(|| ApiError::not_found("link (it may have expired)"))
}

/// `GET /ack/<token>`: a confirmation page.
pub async fn confirm(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    let (ticket, _) = checked(&state, &token)?;
    let form = format!(
        "<p>Acknowledge ticket <code>{ticket}</code> and stop its escalation?</p><form method=\"post\"><button type=\"submit\">Acknowledge</button></form>"
    );
    Ok(page("Acknowledge page", &form))
}

/// `POST /ack/<token>`: acknowledges the ticket as the link's person (idempotent).
pub async fn acknowledge(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    let (ticket, user) = checked(&state, &token)?;
    let event = Event::Acknowledged { at: state.now(), ticket: ticket.clone(), by: user.clone() };
    let extras = Extras { actor: Some(user), details: None, comment: None };
    state.record(event, extras).await?;
    Ok(page(
        "Acknowledged",
        &format!("<p>Ticket <code>{ticket}</code> is acknowledged; its escalation has stopped.</p>"),
    ))
}
