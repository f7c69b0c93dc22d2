//! One-click acknowledgement from a notification: `GET /ack/<token>` shows what the link
//! does and a button (link scanners that prefetch GETs acknowledge nothing); `POST` does it.
//! A link acts as the person it was sent to, and only while the access policy lets that
//! person acknowledge the ticket (a person who lost their clearance, say, cannot).

use super::accounts::person;
use crate::AppState;
use crate::auth::decision_to_result;
use crate::error::ApiError;
use crate::extract::PathParams;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use stringer_app::Extras;
use stringer_core::access::{self, Action, Object, OrgRef, Scope, Scopes};
use stringer_core::event::{Event, EventKind};
use stringer_core::ids::{TicketId, UserId};

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title></head><body><main><h1>{title}</h1>{body}</main></body></html>"
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html).into_response()
}

/// The ticket and person of a genuine, unexpired link whose person may still acknowledge it.
async fn checked(state: &AppState, token: &str) -> Result<(TicketId, UserId), ApiError> {
    let links = state.links.as_ref().ok_or_else(|| ApiError::not_found("link"))?;
    let (ticket, user) =
        links.verify(token, state.now()).ok_or_else(|| ApiError::not_found("link (it may have expired)"))?;
    let user = UserId(user);
    let person_record = state.ports.accounts.user(&user).await?;
    let found = state.ports.queries.ticket(&ticket).await?;
    let object =
        found.as_ref().map(|(t, deployment)| Object::Ticket(OrgRef { slug: t.org.as_str(), deployment: *deployment }));
    let decision = match &person_record {
        Some(p) => access::decide(&person(p, Scopes::of(&[Scope::Write])), Action::Acknowledge, object),
        None => access::Decision::NotFound,
    };
    decision_to_result(decision, "link").map_err(|_| ApiError::not_found("link (it may have expired)"))?;
    Ok((ticket, user))
}

/// `GET /ack/<token>`: a confirmation page.
pub async fn confirm(
    State(state): State<AppState>,
    PathParams(token): PathParams<String>,
) -> Result<Response, ApiError> {
    let (ticket, _) = checked(&state, &token).await?;
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
    let (ticket, user) = checked(&state, &token).await?;
    let event = Event::new(state.now(), ticket.clone(), EventKind::Acknowledged { by: user.to_string() });
    let extras = Extras { actor: Some(user), details: None, comment: None };
    state.record(vec![event], extras).await?;
    Ok(page(
        "Acknowledged",
        &format!("<p>Ticket <code>{ticket}</code> is acknowledged; its escalation has stopped.</p>"),
    ))
}
