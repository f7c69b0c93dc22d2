//! The pages people use, at `/` of the same server as the API: the customer portal
//! ([`portal`]), the engineer console ([`console`]) and the admin pages ([`admin`], the orgs'
//! included), signed
//! in with a session cookie ([`session`]). Server-rendered askama templates
//! (`crates/web/templates`); every form works without JavaScript, and the vendored htmx
//! only improves them (the console's queue refreshes itself). Pages go through the same
//! ports and the same access policy as the API: a page asks [`crate::auth::Caller::may`]
//! exactly as a route does, and another org's ticket answers 404 here too.

pub mod admin;
mod chart;
pub mod console;
pub mod contact;
mod files;
mod layer_form;
mod mail;
pub mod oncall;
mod orgs;
mod packet;
mod paging;
mod paging_forms;
mod password;
mod people;
pub mod portal;
mod proof;
pub mod reports;
pub mod review;
mod schedules;
pub mod session;
pub mod settings;
mod signin;
mod status;
mod text;
mod ticket;
mod ticket_incident;
pub mod whatif;

use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use session::Session;
use stringer_app::StoreError;
use stringer_core::access::Action;
use stringer_core::ids::UserRole;

/// What every page's frame shows: who is signed in and where they may go.
pub struct Nav {
    /// The signed-in user's name.
    pub name: String,
    /// Their org, for customers.
    pub org: Option<String>,
    /// Staff see the console.
    pub console: bool,
    /// Admins see the admin pages.
    pub admin: bool,
    /// The session's CSRF token, for the sign-out form.
    pub csrf: String,
    /// Sees quarterly reviews (staff, and an org's admins).
    pub reviews: bool,
    /// Invites colleagues into their org (a customer org's admins).
    pub people: bool,
    /// Runs the what-if on history (admins and support leads).
    pub whatif: bool,
    /// People who could be paged but cannot be reached, as the console and admin pages warn.
    pub unreachable: Vec<Unreachable>,
    /// The ledger audit's finding: a stored event no longer matches its leaf (for admins).
    pub ledger_finding: Option<String>,
}

/// Someone who could be paged but cannot be reached, as a warning says it.
pub struct Unreachable {
    /// "You could be paged but have no contact method", "Tina TAM has no contact method".
    pub words: String,
    /// It is the reader: the warning links to their contact methods.
    pub me: bool,
}

impl Nav {
    /// The frame for a session.
    pub fn of(session: &Session) -> Nav {
        let caller = &session.caller;
        Nav {
            name: caller.user().name.clone(),
            org: caller.user().org.as_ref().map(|o| o.to_string()),
            console: caller.may_list(Action::OpenConsole).is_ok(),
            admin: caller.may_list(Action::UpdateOrg).is_ok(),
            csrf: session.csrf.clone(),
            reviews: caller.may_list(Action::ReadReview).is_ok(),
            whatif: stringer_app::whatif::WhatIfDesk::may_run(caller.principal()),
            people: !caller.is_staff()
                && caller.may_list(Action::CreateUser { role: UserRole::Member, cleared: false }).is_ok(),
            unreachable: Vec::new(),
            ledger_finding: None,
        }
    }

    /// The frame with the warning about who could be paged but cannot be reached (for staff:
    /// themself, and everyone for an admin), as the application finds them.
    pub async fn warned(state: &AppState, session: &Session) -> Result<Nav, PageError> {
        let mut nav = Nav::of(session);
        let caller = &session.caller;
        if caller.is_staff() {
            let finding =
                stringer_app::ledger_audit::stored_finding(&*state.ports.ledger_audit, caller.principal()).await?;
            nav.ledger_finding = finding.map(|f| f.message);
            let found = state.paging().unreachable(caller.principal()).await.map_err(ApiError::from)?;
            nav.unreachable = found
                .into_iter()
                .map(|r| {
                    let me = r.user.id == caller.user().id;
                    let who = if me { "You could be paged but".to_string() } else { r.user.name.clone() };
                    let why = match r.why.strip_prefix("has ") {
                        Some(rest) if me => format!("have {rest}"),
                        _ => r.why,
                    };
                    Unreachable { words: format!("{who} {why}."), me }
                })
                .collect();
        }
        Ok(nav)
    }
}

/// An error shown as a page (the API's problems become these on the pages).
#[derive(Debug)]
pub struct PageError {
    /// HTTP status.
    pub status: StatusCode,
    /// What went wrong, for people.
    pub message: String,
}

impl PageError {
    /// 400.
    pub fn bad_request(message: impl Into<String>) -> PageError {
        PageError { status: StatusCode::BAD_REQUEST, message: message.into() }
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> PageError {
        PageError { status: StatusCode::FORBIDDEN, message: message.into() }
    }

    /// 404, also for what the caller may not see.
    pub fn not_found(what: &str) -> PageError {
        PageError { status: StatusCode::NOT_FOUND, message: format!("No such {what}.") }
    }
}

impl From<ApiError> for PageError {
    /// The problem's detail as a sentence ("no such ticket" → "No such ticket.").
    fn from(e: ApiError) -> PageError {
        PageError { status: e.status, message: crate::error_pages::sentence(&e.detail) }
    }
}

impl From<stringer_app::accounts::AccountError> for PageError {
    fn from(e: stringer_app::accounts::AccountError) -> PageError {
        ApiError::from(e).into()
    }
}

impl From<stringer_app::postmortem::ReportError> for PageError {
    fn from(e: stringer_app::postmortem::ReportError) -> PageError {
        ApiError::from(e).into()
    }
}

impl From<stringer_app::inquiries::InquiryError> for PageError {
    fn from(e: stringer_app::inquiries::InquiryError) -> PageError {
        ApiError::from(e).into()
    }
}

impl From<stringer_app::status::manage::ManageError> for PageError {
    fn from(e: stringer_app::status::manage::ManageError) -> PageError {
        ApiError::from(e).into()
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> PageError {
        ApiError::from(e).into()
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> PageError {
        tracing::error!("a page failed to render: {e}");
        PageError { status: StatusCode::INTERNAL_SERVER_ERROR, message: "This page failed to render.".into() }
    }
}

impl IntoResponse for PageError {
    /// The error page; [`crate::error_pages::as_pages`] adds the way back when it knows it.
    fn into_response(self) -> Response {
        crate::error_pages::draw(self.status, &self.message, "Go back and try again.", "/", None)
    }
}

/// A rendered page, or the error page.
pub type PageResult = Result<Response, PageError>;

/// Renders a template as a page.
pub fn render(t: &impl Template) -> PageResult {
    Ok(Html(t.render()?).into_response())
}

/// After a form: back to `to` (303, so a reload does not post again).
pub fn see_other(to: &str) -> PageResult {
    Ok(Redirect::to(to).into_response())
}

/// The vendored front-end assets: compiled into the binary, so nothing is fetched from
/// anywhere at run time.
const HTMX: &str = include_str!("../../static/htmx-2.0.11.min.js");
const STYLE: &str = include_str!("../../static/style.css");
const QUEUE_JS: &str = include_str!("../../static/queue.js");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}

/// Where `/` leads someone: the portal for customers, the console for staff, else the
/// sign-in page.
pub fn home(session: Option<&Session>) -> Response {
    match session {
        Some(s) if s.caller.is_staff() => Redirect::to("/console").into_response(),
        Some(_) => Redirect::to("/portal").into_response(),
        None => Redirect::to("/signin").into_response(),
    }
}

/// The pages' routes and `others` (what other modules serve to browsers, e.g. the status
/// pages and `/`), behind the session middleware.
pub fn router(state: AppState, others: Router<AppState>) -> Router<AppState> {
    Router::new()
        .route("/signin", get(signin::form).post(signin::submit))
        .route("/signout", post(signin::sign_out))
        .route("/password/forgot", get(password::forgot_form).post(password::forgot))
        .route("/password/{token}", get(password::set_form).post(password::set))
        .route("/portal", get(portal::tickets))
        .route("/packet/{slug}", get(packet::page))
        .route("/portal/new", get(portal::new_form).post(portal::open))
        .route("/portal/status", get(portal::status))
        .route("/portal/tickets/{key}", get(portal::ticket))
        .route("/portal/tickets/{key}/proof.json", get(proof::download))
        .route("/console/tickets/{key}/proof.json", get(proof::download))
        .route("/portal/tickets/{key}/reply", post(portal::reply))
        .route("/portal/tickets/{key}/resolve", post(portal::resolve))
        .route("/portal/tickets/{key}/reopen", post(portal::reopen))
        .route("/portal/tickets/{key}/page", post(portal::page))
        .route(
            "/portal/tickets/{key}/attachments",
            post(files::attach).layer(DefaultBodyLimit::max(crate::UPLOAD_LIMIT)),
        )
        .route(
            "/console/tickets/{key}/attachments",
            post(files::attach).layer(DefaultBodyLimit::max(crate::UPLOAD_LIMIT)),
        )
        .route("/files/{id}", get(files::download))
        .route("/console", get(console::queue))
        .route("/console/queue", get(console::queue_rows))
        .route("/console/new", get(console::new_form).post(console::open))
        .route("/console/oncall", get(oncall::on_call))
        .route("/console/schedules", get(schedules::list).post(schedules::create))
        .route("/console/schedules/{id}", get(schedules::show))
        .route("/console/schedules/{id}/layers/{which}", post(schedules::save_layer))
        .route("/console/schedules/{id}/layers/{which}/remove", post(schedules::remove_layer))
        .route("/console/schedules/{id}/overrides", post(schedules::add_override))
        .route("/console/schedules/{id}/overrides/{override_id}/remove", post(schedules::remove_override))
        .route("/console/schedules/{id}/delete", post(schedules::delete))
        .route("/console/inquiries", get(contact::queue))
        .route("/console/inquiries/{id}/answer", post(contact::answer))
        .route("/console/mail", get(mail::page))
        .route("/console/mail/{id}/route", post(mail::route))
        .route("/console/mail/{id}/original", get(mail::original))
        .route("/contact", get(contact::form).post(contact::submit))
        .route("/console/pages", get(oncall::pages))
        .route("/console/status", get(status::pages))
        .route("/console/status/{page}", get(status::page))
        .route("/console/status/{page}/components", post(status::add_component))
        .route("/console/status/{page}/components/{component}", post(status::set_component))
        .route("/console/status/{page}/components/{component}/edit", post(status::edit_component))
        .route("/console/status/{page}/components/{component}/move", post(status::move_component))
        .route("/console/status/{page}/components/{component}/delete", post(status::delete_component))
        .route("/console/status/{page}/incidents", post(status::open))
        .route("/console/status/{page}/incidents/{incident}/updates", post(status::update))
        .route("/console/tickets/{key}/status-incident", get(ticket_incident::form).post(ticket_incident::submit))
        .route("/console/reports", get(reports::list))
        .route("/reports", get(reports::list))
        .route("/reviews", get(review::show).post(review::write))
        .route("/console/whatif", get(whatif::form).post(whatif::run))
        .route("/reports/{key}", get(reports::page))
        .route("/console/tickets/{key}/report", get(reports::edit).post(reports::act))
        .route("/console/tickets/{key}", get(console::ticket))
        .route("/console/tickets/{key}/{action}", post(console::act))
        .route("/settings", get(settings::form).post(settings::save))
        .route("/settings/phone-code", post(settings::confirm_phone))
        .route("/settings/password", get(password::change_form).post(password::change))
        .route("/portal/people", get(people::page).post(people::invite))
        .route("/settings/contact-methods", post(paging_forms::add_method))
        .route("/settings/contact-methods/{id}/remove", post(paging_forms::remove_method))
        .route("/settings/contact-methods/{id}/test", post(paging_forms::send_test))
        .route("/settings/notification-rules", post(paging_forms::add_rule))
        .route("/settings/notification-rules/{id}/remove", post(paging_forms::remove_rule))
        .route("/settings/calendar-feed", post(settings::new_feed))
        .route("/admin", get(|| async { Redirect::to("/admin/orgs") }))
        .route("/admin/orgs", get(orgs::orgs).post(orgs::create))
        .route("/admin/orgs/{slug}", get(orgs::org).post(orgs::save))
        .route("/admin/orgs/{slug}/phone-pin", axum::routing::post(orgs::new_phone_pin))
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route("/admin/users/{id}", post(admin::edit_user))
        .route("/admin/users/{id}/deactivate", post(admin::deactivate_user))
        .route("/admin/users/{id}/password-link", post(admin::mail_link))
        .route("/admin/contract", get(admin::contract))
        .merge(others)
        .route_layer(axum::middleware::from_fn_with_state(state, session::load))
        .route("/static/htmx.min.js", get(|| async { asset("text/javascript; charset=utf-8", HTMX) }))
        .route("/static/style.css", get(|| async { asset("text/css; charset=utf-8", STYLE) }))
        .route("/static/queue.js", get(|| async { asset("text/javascript; charset=utf-8", QUEUE_JS) }))
}
