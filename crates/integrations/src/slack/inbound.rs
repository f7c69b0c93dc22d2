//! What Slack sends in: the Acknowledge and Resolve buttons of page messages
//! (`block_actions` interactions). A request must carry a valid Slack signature made within
//! the last five minutes and is accepted once (a replay is refused). The Slack member must be
//! linked to a staff user, and the press acts as that user only as far as the access policy
//! lets them act on the ticket. The web front mounts this at `/slack/interactions`.

use super::{ACK_ACTION, MAX_SKEW_SECONDS, RESOLVE_ACTION, verify_request};
use serde::Deserialize;
use std::sync::Arc;
use stringer_app::ports::{Accounts, Commands, OnCall, Queries, Safeguards};
use stringer_app::{AppError, Extras, StoreError};
use stringer_core::access::{self, Action, Actor, Decision, Object, OrgRef, Scope, Scopes};
use stringer_core::event::{Event, EventKind};
use stringer_core::ids::{TicketId, UserId};

/// Why an inbound request was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Not signed by Slack, signed too long ago, or a replay.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Unreadable.
    #[error("{0}")]
    BadRequest(String),
    /// The member is no Stringer staff user.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The policy refused the press (answered exactly as for a missing ticket).
    #[error("no such ticket")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The change failed for another reason than a business rule.
    #[error(transparent)]
    App(AppError),
}

#[derive(Deserialize)]
struct Form {
    payload: String,
}

#[derive(Deserialize)]
struct Interaction {
    #[serde(rename = "type")]
    kind: String,
    user: SlackUser,
    #[serde(default)]
    actions: Vec<ButtonPress>,
}

#[derive(Deserialize)]
struct SlackUser {
    id: String,
}

#[derive(Deserialize)]
struct ButtonPress {
    action_id: String,
    #[serde(default)]
    value: String,
}

/// The Slack app's inbound side: its signing secret and the ports a press acts through.
#[derive(Clone)]
pub struct Inbound {
    /// The Slack app's signing secret.
    pub signing_secret: String,
    /// Records the press's event.
    pub commands: Arc<dyn Commands>,
    /// Reads the pressed ticket.
    pub queries: Arc<dyn Queries>,
    /// Reads the presser.
    pub accounts: Arc<dyn Accounts>,
    /// Finds who a Slack member is.
    pub oncall: Arc<dyn OnCall>,
    /// Remembers accepted requests.
    pub safeguards: Arc<dyn Safeguards>,
}

impl Inbound {
    /// Handles an interaction request: `timestamp` and `signature` are its
    /// `X-Slack-Request-Timestamp` and `X-Slack-Signature` headers, `body` the form it
    /// posted, `now` the current Unix second. Presses on a ticket in a state they do not
    /// apply to (acknowledging a resolved ticket) are answered as done: Slack cannot show
    /// more than that.
    pub async fn interaction(&self, timestamp: &str, signature: &str, body: &[u8], now: i64) -> Result<(), Refusal> {
        if !verify_request(&self.signing_secret, timestamp, body, signature, now) {
            return Err(Refusal::Unauthorized("bad or stale Slack signature"));
        }
        let expires = timestamp.parse::<i64>().unwrap_or(now) + MAX_SKEW_SECONDS;
        if !self.safeguards.first_sighting(&format!("slack:{signature}"), now, expires).await? {
            return Err(Refusal::Unauthorized("this Slack request was accepted already; a replay is refused"));
        }
        let form: Form = serde_urlencoded::from_bytes(body)
            .map_err(|_| Refusal::BadRequest("expected a form with a payload field".into()))?;
        if form.payload.contains('\0') {
            return Err(Refusal::BadRequest("a NUL character is not allowed in any field".into()));
        }
        let interaction: Interaction = serde_json::from_str(&form.payload)
            .map_err(|e| Refusal::BadRequest(format!("unreadable interaction: {e}")))?;
        if interaction.kind != "block_actions" {
            return Ok(());
        }
        let user_id = self
            .oncall
            .staff_by_slack_member(&interaction.user.id)
            .await?
            .ok_or(Refusal::Forbidden("this Slack member is not a Stringer staff user"))?;
        let user = self.accounts.user(&user_id).await?.ok_or(Refusal::Forbidden("no such staff user"))?;
        let presser = Actor {
            user: user.id.as_str(),
            role: user.role,
            org: user.org.as_ref().map(|o| o.as_str()),
            federal_cleared: user.federal_cleared,
            scopes: Scopes::of(&[Scope::Write]),
        };
        for press in interaction.actions {
            let ticket = TicketId(press.value.clone());
            let (action, kind) = match press.action_id.as_str() {
                ACK_ACTION => (Action::Acknowledge, EventKind::Acknowledged { by: user.id.to_string() }),
                RESOLVE_ACTION => (Action::Resolve, EventKind::Resolved),
                _ => continue,
            };
            let found = self.queries.ticket(&ticket).await?;
            let object = found
                .as_ref()
                .map(|(t, deployment)| Object::Ticket(OrgRef { slug: t.org.as_str(), deployment: *deployment }));
            if access::decide(&presser, action, object) != Decision::Allow {
                return Err(Refusal::NotFound);
            }
            let event = Event::new(self.commands.now(), ticket, kind);
            let extras = Extras { actor: Some(UserId(user.id.to_string())), details: None, comment: None };
            match self.commands.record(vec![event], extras).await {
                Ok(_) | Err(AppError::Rejected(_)) => {}
                Err(e) => return Err(Refusal::App(e)),
            }
        }
        Ok(())
    }
}
