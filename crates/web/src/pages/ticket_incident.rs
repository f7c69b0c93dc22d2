//! `/console/tickets/<KEY>/status-incident`: a status page incident opened from a ticket as
//! a form — its title, impact, the components it concerns (none chosen until staff choose
//! them) each with its status, and the first message — shown as a preview before it is
//! published. Publishing goes through the same application function as
//! `POST /api/v1/tickets/{id}/status-incident`.

use super::session::{PageForm, Session, Signed};
use super::{Nav, PageResult, render, see_other};
use crate::AppState;
use crate::error::ApiError;
use crate::reads::ticket_ref;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use stringer_app::status::manage::{ComponentChange, FromTicket, TicketIncident};
use stringer_core::status::{ComponentStatus, Impact};

/// A component as the form offers it.
pub struct Choice {
    id: String,
    name: String,
    /// Chosen as affected.
    chosen: bool,
    /// The status it would be set to (a status's name).
    status: String,
}

/// The form as typed (or as the ticket suggests it at first).
struct Draft {
    name: String,
    impact: String,
    body: String,
    components: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "ticket_incident.html")]
struct IncidentForm {
    nav: Nav,
    key: String,
    page_name: String,
    draft: Draft,
    impacts: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    /// Show the preview.
    preview: bool,
    /// The impact in words, for the preview.
    impact_words: &'static str,
    error: Option<String>,
}

impl IncidentForm {
    /// Whether any component is chosen.
    fn any_chosen(&self) -> bool {
        self.draft.components.iter().any(|c| c.chosen)
    }

    /// A status's words, for the preview.
    fn words(&self, status: &str) -> &'static str {
        ComponentStatus::parse(status).map_or("unchanged", ComponentStatus::words)
    }
}

fn render_form(
    session: &Session,
    key: &str,
    setup: &TicketIncident,
    draft: Draft,
    preview: bool,
    error: Option<String>,
) -> PageResult {
    let failed = error.is_some();
    let impact_words = Impact::parse(&draft.impact).map_or("None", Impact::words);
    let page = IncidentForm {
        nav: Nav::of(session),
        key: key.to_string(),
        page_name: setup.page.name.clone(),
        impacts: Impact::ALL.iter().map(|i| (i.as_str(), i.words())).collect(),
        statuses: ComponentStatus::ALL.iter().map(|s| (s.as_str(), s.words())).collect(),
        draft,
        preview: preview && !failed,
        impact_words,
        error,
    };
    let mut response = render(&page)?;
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// The form, filled in as the ticket suggests: its subject, the impact its severity
/// suggests, no component chosen.
pub async fn form(State(state): State<AppState>, Signed(session): Signed, Path(key): Path<String>) -> PageResult {
    let setup = state.status_pages().ticket_incident(session.caller.principal(), &ticket_ref(&key)?).await?;
    let components = setup
        .components
        .iter()
        .map(|c| Choice { id: c.id.clone(), name: c.name.clone(), chosen: false, status: setup.status.as_str().into() })
        .collect();
    let draft = Draft {
        name: setup.ticket.subject.clone(),
        impact: setup.impact.as_str().into(),
        body: "We are investigating this issue.".into(),
        components,
    };
    render_form(&session, &key, &setup, draft, false, None)
}

/// Previews the incident (`step=preview`) or publishes it, then shows its status page.
pub async fn submit(
    State(state): State<AppState>,
    Path(key): Path<String>,
    PageForm(session, form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let who = session.caller.principal();
    let ticket = ticket_ref(&key)?;
    let setup = state.status_pages().ticket_incident(who, &ticket).await?;
    let value = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string());
    let components: Vec<Choice> = setup
        .components
        .iter()
        .map(|c| Choice {
            chosen: form.iter().any(|(k, v)| k == "affected" && *v == c.id),
            status: value(&format!("status.{}", c.id)).unwrap_or_else(|| setup.status.as_str().into()),
            id: c.id.clone(),
            name: c.name.clone(),
        })
        .collect();
    let draft = Draft {
        name: value("name").unwrap_or_default(),
        impact: value("impact").unwrap_or_default(),
        body: value("body").unwrap_or_default(),
        components,
    };
    let missing = if draft.name.is_empty() {
        Some("Give the incident a title.")
    } else if draft.body.is_empty() {
        Some("Write the first message readers see.")
    } else {
        None
    };
    if let Some(why) = missing {
        return render_form(&session, &key, &setup, draft, false, Some(why.into()));
    }
    if value("step").as_deref() == Some("preview") {
        return render_form(&session, &key, &setup, draft, true, None);
    }
    let asked = FromTicket {
        name: Some(draft.name.clone()),
        body: Some(draft.body.clone()),
        components: Some(
            draft
                .components
                .iter()
                .filter(|c| c.chosen)
                .map(|c| ComponentChange { id: c.id.clone(), status: Some(c.status.clone()) })
                .collect(),
        ),
        impact: Some(draft.impact.clone()),
    };
    match state.status_pages().incident_from_ticket(who, &ticket, asked).await.map_err(ApiError::from) {
        Ok((page, _)) => {
            let query = serde_urlencoded::to_string([("done", format!("Incident opened from {key}."))]);
            see_other(&format!("/console/status/{}?{}", page.id, query.unwrap_or_default()))
        }
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            render_form(&session, &key, &setup, draft, false, Some(super::PageError::from(e).message))
        }
        Err(e) => Err(e.into()),
    }
}
