//! "Contact us" (public, no account) and the staff's inquiries queue. The public form is
//! guarded against bots without any third party: a token signed by the server that carries
//! when the form was served (a post within 3 s of it, or an hour after, is refused), a field
//! people never see that must stay empty, and the API's per-address budget.

use super::session::{OpenForm, PageForm, Signed};
use super::text;
use super::{Nav, PageError, PageResult, render};
use crate::AppState;
use crate::auth::new_secret;
use crate::client::client_ip;
use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use serde::Deserialize;
use sha2::Sha256;
use std::net::SocketAddr;
use stringer_app::inquiries::{InquiryError, Message};
use subtle::ConstantTimeEq;

/// The setting holding the key that signs the form's guard.
const KEY_SETTING: &str = "contact_form_key";
/// A post sooner than this after the form was served is a bot's.
const MIN_SECONDS: i64 = 3;
/// The form expires after this long.
const MAX_SECONDS: i64 = 3600;

#[derive(Template)]
#[template(path = "contact.html")]
struct ContactPage {
    guard: String,
    name: String,
    email: String,
    company: String,
    body: String,
    promise: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "contact_sent.html")]
struct SentPage {
    name: String,
    promise: String,
    due: String,
}

/// The contract's promise for inquiries, in words: "1 business day (business hours, Mon–Fri UTC)".
fn promise(state: &AppState) -> String {
    let contract = state.contract();
    contract.target_words(&contract.general_inquiry)
}

/// The server's key for the form's guard (made on first use, kept in the settings).
async fn key(state: &AppState) -> Result<String, PageError> {
    Ok(state.ports.safeguards.setting_or_init(KEY_SETTING, &new_secret()).await?)
}

/// The guard for a form served at `t`: `t` and its HMAC-SHA256 under `key`.
fn sign(key: &str, t: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(t.to_string().as_bytes());
    format!("{t}.{}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether a guard is this server's, for a form served at least [`MIN_SECONDS`] and at most
/// [`MAX_SECONDS`] before `now` (the signature compared in constant time).
fn guard_ok(key: &str, given: &str, now: i64) -> bool {
    let Some(t) = given.split_once('.').and_then(|(t, _)| t.parse::<i64>().ok()) else { return false };
    let expected = sign(key, t);
    bool::from(expected.as_bytes().ct_eq(given.as_bytes())) && now - t >= MIN_SECONDS && now - t <= MAX_SECONDS
}

async fn form_page(state: &AppState, filled: Option<&ContactForm>, error: Option<String>) -> PageResult {
    let guard = sign(&key(state).await?, state.now().as_second());
    let field = |f: fn(&ContactForm) -> &String| filled.map(f).cloned().unwrap_or_default();
    let page = ContactPage {
        guard: guard.clone(),
        name: field(|f| &f.name),
        email: field(|f| &f.email),
        company: field(|f| &f.company),
        body: field(|f| &f.body),
        promise: promise(state),
        error,
    };
    let status =
        if filled.is_some() { axum::http::StatusCode::UNPROCESSABLE_ENTITY } else { axum::http::StatusCode::OK };
    let mut response = render(&page)?;
    *response.status_mut() = status;
    Ok(response)
}

/// The public form.
pub async fn form(State(state): State<AppState>) -> PageResult {
    form_page(&state, None, None).await
}

/// What the form sends.
#[derive(Deserialize)]
pub struct ContactForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    company: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    guard: String,
    /// Hidden from people; bots fill it.
    #[serde(default)]
    website: String,
}

/// Takes the message: the inquiry is due on the contract's general-inquiry target, and the
/// page says by when to expect an answer.
pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    OpenForm(headers, form): OpenForm<ContactForm>,
) -> PageResult {
    let now = state.now().as_second();
    if !guard_ok(&key(&state).await?, &form.guard, now) || !form.website.is_empty() {
        let why = "This form could not be accepted; please wait a moment after opening it, then send it again.";
        return form_page(&state, Some(&form), Some(why.into())).await;
    }
    let ip = client_ip(peer.ip(), &headers, &state.settings.trusted_proxies);
    let message = Message {
        name: form.name.clone(),
        email: form.email.clone(),
        company: Some(form.company.clone()),
        body: form.body.clone(),
    };
    match state.inquiries().receive(&ip.to_string(), message).await.map_err(crate::error::ApiError::from) {
        Ok(inquiry) => {
            let due =
                Timestamp::from_second(inquiry.due_at).map(|t| text::instant(t, &text::zone(None))).unwrap_or_default();
            render(&SentPage { name: inquiry.name, promise: promise(&state), due })
        }
        Err(e) if e.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY => {
            form_page(&state, Some(&form), Some(PageError::from(e).message)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// One inquiry in the queue.
pub struct InquiryLine {
    id: String,
    from: String,
    email: String,
    body: String,
    received: String,
    due: String,
    tone: &'static str,
    answered: String,
    answer: String,
    /// A refused answer as typed, and why.
    typed: Option<(String, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_takes_this_servers_signature_and_a_human_pace() {
        let guard = sign("key", 1_000);
        assert!(guard_ok("key", &guard, 1_000 + MIN_SECONDS));
        assert!(guard_ok("key", &guard, 1_000 + MAX_SECONDS));
        assert!(!guard_ok("key", &guard, 1_000 + MIN_SECONDS - 1), "too fast for a person");
        assert!(!guard_ok("key", &guard, 1_000 + MAX_SECONDS + 1), "expired");
        assert!(!guard_ok("other key", &guard, 1_000 + 10), "another server's");
        assert!(!guard_ok("key", &sign("key", 1_000).replace("1000.", "900."), 1_010), "a forged time");
        assert!(!guard_ok("key", "", 1_010) && !guard_ok("key", "1000", 1_010));
    }
}

#[derive(Template)]
#[template(path = "console_inquiries.html")]
struct InquiriesPage {
    nav: Nav,
    open: Vec<InquiryLine>,
    answered: Vec<InquiryLine>,
    flash: Option<String>,
}

/// What an answer reports back in the address: whom it is mailed to.
#[derive(Deserialize)]
pub struct Answered {
    #[serde(default)]
    answered: Option<String>,
}

/// The inquiries queue: open ones by due time (overdue marked), then the latest answered.
pub async fn queue(State(state): State<AppState>, Signed(session): Signed, Query(done): Query<Answered>) -> PageResult {
    let flash = done.answered.map(|to| format!("The answer was recorded and is mailed to {to}."));
    queue_page(&state, &session, flash, None).await
}

/// An answer refused: the inquiry's id, what was typed, and why.
struct Refused {
    id: String,
    typed: String,
    error: String,
}

async fn queue_page(
    state: &AppState,
    session: &super::session::Session,
    flash: Option<String>,
    mut refused: Option<Refused>,
) -> PageResult {
    let caller = &session.caller;
    let tz = text::zone(caller.user().time_zone.as_deref());
    let now = state.now().as_second();
    let desk = state.inquiries();
    let open = desk.list(caller.principal(), false, 200).await?;
    let answered = desk.list(caller.principal(), true, 50).await?;
    let by = open.iter().chain(&answered).filter_map(|i| i.answered_by.as_ref()).map(|by| by.as_str());
    let names = super::ticket::names(state, by).await?;
    let mut line = |i: stringer_app::records::InquiryRecord| InquiryLine {
        typed: refused.take_if(|r| r.id == i.id).map(|r| (r.typed, r.error)),
        from: match &i.company {
            Some(co) => format!("{} ({co})", i.name),
            None => i.name.clone(),
        },
        received: super::ticket::at(i.received_at, &tz),
        due: super::ticket::at(i.due_at, &tz),
        tone: if i.answered_at.is_none() && i.due_at < now { "breached" } else { "ok" },
        answered: match (i.answered_at, &i.answered_by) {
            (Some(at), Some(by)) => {
                format!("{} by {}", super::ticket::at(at, &tz), names.get(by.as_str()).cloned().unwrap_or_default())
            }
            _ => String::new(),
        },
        answer: i.answer.unwrap_or_default(),
        id: i.id,
        email: i.email,
        body: i.body,
    };
    let open: Vec<InquiryLine> = open.into_iter().map(&mut line).collect();
    let answered = answered.into_iter().map(line).collect();
    let failed = open.iter().any(|i| i.typed.is_some());
    let mut response = render(&InquiriesPage { nav: Nav::of(session), open, answered, flash })?;
    if failed {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// The answer form.
#[derive(Deserialize)]
pub struct AnswerForm {
    answer: String,
}

/// Records the answer and mails it to the inquirer (through the application, as the API
/// does), then back to the queue.
pub async fn answer(
    State(state): State<AppState>,
    Path(id): Path<String>,
    PageForm(session, form): PageForm<AnswerForm>,
) -> PageResult {
    match state.inquiries().answer(session.caller.principal(), &id, &form.answer).await {
        Ok(answered) => {
            let query = serde_urlencoded::to_string([("answered", answered.email)]).unwrap_or_default();
            super::see_other(&format!("/console/inquiries?{query}"))
        }
        Err(InquiryError::Invalid(why)) => {
            let error = PageError::from(crate::ApiError::unprocessable(why)).message;
            queue_page(&state, &session, None, Some(Refused { id, typed: form.answer, error })).await
        }
        Err(e) => Err(e.into()),
    }
}
