//! The forms of the "Paging" section of one's settings ([`super::paging`]): contact methods
//! added, removed and tested, notification rules added and removed — each through the
//! application's [`stringer_app::paging::PagingDesk`]; a refusal shows the settings page again
//! with the values typed and the error beside its field.

use super::paging::{KINDS, PagingInput};
use super::session::{EmptyForm, PageForm, Session};
use super::{PageResult, see_other, settings};
use crate::AppState;
use crate::error::ApiError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use stringer_app::paging::PagingError;

/// A refusal the forms show beside a field; anything else is an error page.
fn refusal(e: PagingError) -> Result<(&'static str, String), ApiError> {
    match e {
        PagingError::Field { field, message } => Ok((field, message)),
        e => {
            let e = ApiError::from(e);
            if e.status == StatusCode::CONFLICT { Ok(("address", e.detail)) } else { Err(e) }
        }
    }
}

/// The settings page again, refused (422), with the paging forms' values and errors.
async fn refused(state: &AppState, session: &Session, input: PagingInput) -> PageResult {
    let tz = session.caller.user().time_zone.clone().unwrap_or_default();
    let mut response = settings::page(state, session, tz, None, None, None, input).await?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

/// The add-a-method form.
#[derive(Deserialize)]
pub struct MethodForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    address: String,
}

/// Adds one of one's contact methods.
pub async fn add_method(State(state): State<AppState>, PageForm(session, form): PageForm<MethodForm>) -> PageResult {
    let me = session.caller.user().id.to_string();
    let address = form.address.trim().to_string();
    let added = match KINDS.iter().find(|(k, _)| k.as_str() == form.kind) {
        Some((kind, _)) => {
            state.paging().add_method(session.caller.principal(), &me, *kind, &address).await.map(|_| ())
        }
        None => Err(PagingError::Field { field: "address", message: "choose how you are reached".into() }),
    };
    match added {
        Ok(()) => see_other("/settings?done=method-added#contact-methods"),
        Err(e) => {
            let (_, message) = refusal(e)?;
            let input = PagingInput {
                kind: form.kind,
                address: form.address,
                address_error: Some(message),
                ..PagingInput::default()
            };
            refused(&state, &session, input).await
        }
    }
}

/// Removes one of one's contact methods (and the rules naming it).
pub async fn remove_method(
    State(state): State<AppState>,
    Path(method): Path<String>,
    PageForm(session, _): PageForm<EmptyForm>,
) -> PageResult {
    let me = session.caller.user().id.to_string();
    state.paging().remove_method(session.caller.principal(), &me, &method).await.map_err(ApiError::from)?;
    see_other("/settings?done=method-removed#contact-methods")
}

/// Sends a test page to one of one's contact methods.
pub async fn send_test(
    State(state): State<AppState>,
    Path(method): Path<String>,
    PageForm(session, _): PageForm<EmptyForm>,
) -> PageResult {
    let me = session.caller.user().id.to_string();
    let queued = state.paging().send_test(session.caller.principal(), &me, &method).await.map_err(ApiError::from)?;
    see_other(if queued {
        "/settings?done=test-sent#contact-methods"
    } else {
        "/settings?done=test-again#contact-methods"
    })
}

/// The add-a-rule form: a method and minutes after the page.
#[derive(Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    method: String,
    #[serde(default)]
    after_minutes: String,
}

/// Adds one of one's notification rules.
pub async fn add_rule(State(state): State<AppState>, PageForm(session, form): PageForm<RuleForm>) -> PageResult {
    let me = session.caller.user().id.to_string();
    let max = stringer_app::paging::MAX_RULE_SECONDS / 60;
    let added = match form.after_minutes.trim().parse::<i64>() {
        Ok(m) if (0..=max).contains(&m) => {
            state.paging().add_rule(session.caller.principal(), &me, &form.method, m * 60).await
        }
        _ => Err(PagingError::Field { field: "after_seconds", message: format!("whole minutes from 0 to {max}") }),
    };
    match added {
        Ok(()) => see_other("/settings?done=rule-added#notification-rules"),
        Err(e) => {
            let (field, message) = refusal(e)?;
            let mut input =
                PagingInput { rule_method: form.method, rule_after: form.after_minutes, ..PagingInput::default() };
            if field == "after_seconds" {
                input.rule_after_error = Some(message);
            } else {
                input.rule_method_error = Some(message);
            }
            refused(&state, &session, input).await
        }
    }
}

/// Removes one of one's notification rules.
pub async fn remove_rule(
    State(state): State<AppState>,
    Path(rule): Path<String>,
    PageForm(session, _): PageForm<EmptyForm>,
) -> PageResult {
    let me = session.caller.user().id.to_string();
    state.paging().remove_rule(session.caller.principal(), &me, &rule).await.map_err(ApiError::from)?;
    see_other("/settings?done=rule-removed#notification-rules")
}
