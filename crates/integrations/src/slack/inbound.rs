//! What Slack sends in. Every request must carry a valid Slack signature made within the
//! last five minutes and is accepted once (a replay is refused).
//! - Interactions (`/slack/interactions`): the Acknowledge and Resolve buttons of page
//!   messages (`block_actions`). The Slack member must be linked to a staff user, and the
//!   press acts as that user only as far as the access policy lets them act on the ticket.
//! - Events (`/slack/events`): the `url_verification` handshake, and messages posted in
//!   channels, stored (once per event id: Slack's retries are ignored) for the chat desk to
//!   process after the answer, so Slack hears back well within its three seconds.
//! - The `/stringer` slash command (`/slack/commands`), answered by the chat desk.
//!
//! The web front mounts these.

use super::{ACK_ACTION, MAX_SKEW_SECONDS, OPEN_TICKET_SHORTCUT, RESOLVE_ACTION, verify_request};
use serde::Deserialize;
use std::sync::Arc;
use stringer_app::act::{ActError, Command, Principal, Proof, TicketDesk, TicketRef};
use stringer_app::chat::{Accepted, ChatDesk, ChatMessage, ChatRoom, MAX_TEXT, Reply, SlashCommand};
use stringer_app::ports::{Accounts, OnCall, Safeguards};
use stringer_app::{AppError, StoreError};
use stringer_core::access::Scopes;
use stringer_core::ids::TicketId;

/// The refusal of a request accepted before.
const REPLAY: &str = "this Slack request was accepted already; a replay is refused";

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
    #[serde(default)]
    callback_id: Option<String>,
    #[serde(default)]
    channel: Option<SlackChannel>,
    #[serde(default)]
    message: Option<ShortcutMessage>,
}

#[derive(Deserialize)]
struct SlackUser {
    id: String,
}

#[derive(Deserialize)]
struct SlackChannel {
    id: String,
}

#[derive(Deserialize)]
struct ShortcutMessage {
    #[serde(default)]
    user: Option<String>,
    ts: String,
    #[serde(default)]
    text: String,
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
    /// Acts on the pressed ticket as the presser.
    pub tickets: TicketDesk,
    /// Reads the presser.
    pub accounts: Arc<dyn Accounts>,
    /// Finds who a Slack member is.
    pub oncall: Arc<dyn OnCall>,
    /// Remembers accepted requests.
    pub safeguards: Arc<dyn Safeguards>,
    /// Stores channel messages.
    pub chat: Arc<dyn ChatRoom>,
    /// Answers slash commands (when the Slack app has a bot token to read channels and
    /// members with).
    pub desk: Option<Arc<ChatDesk>>,
}

/// What the Events API door answers.
#[derive(Debug, PartialEq, Eq)]
pub enum EventsAnswer {
    /// The `url_verification` handshake: answer the challenge.
    Challenge(String),
    /// Stored, a retry of a stored event, or nothing to store: 200.
    Ok,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    challenge: Option<String>,
    #[serde(default)]
    event_id: Option<String>,
    #[serde(default)]
    event: Option<ChannelEvent>,
}

#[derive(Deserialize)]
struct ChannelEvent {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    subtype: Option<String>,
    #[serde(default)]
    bot_id: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    ts: Option<String>,
    #[serde(default)]
    thread_ts: Option<String>,
}

#[derive(Deserialize)]
struct CommandForm {
    channel_id: String,
    user_id: String,
    #[serde(default)]
    text: String,
}

impl Inbound {
    /// Checks a request's signature and that it was not accepted before.
    async fn check(&self, timestamp: &str, signature: &str, body: &[u8], now: i64) -> Result<(), Refusal> {
        self.verify(timestamp, signature, body, now)?;
        self.first_time(timestamp, signature, now).await
    }

    /// Checks a request's signature (made within the last five minutes) and its bytes.
    fn verify(&self, timestamp: &str, signature: &str, body: &[u8], now: i64) -> Result<(), Refusal> {
        if !verify_request(&self.signing_secret, timestamp, body, signature, now) {
            return Err(Refusal::Unauthorized("bad or stale Slack signature"));
        }
        if body.contains(&0) {
            return Err(Refusal::BadRequest(crate::nul::REFUSAL.into()));
        }
        Ok(())
    }

    /// Refuses a request seen before (by its signature, remembered as long as it is valid).
    async fn first_time(&self, timestamp: &str, signature: &str, now: i64) -> Result<(), Refusal> {
        let expires = timestamp.parse::<i64>().unwrap_or(now) + MAX_SKEW_SECONDS;
        if !self.safeguards.first_sighting(&format!("slack:{signature}"), now, expires).await? {
            return Err(Refusal::Unauthorized(REPLAY));
        }
        Ok(())
    }

    /// Handles an Events API request (JSON): answers the handshake; stores a human's message
    /// posted in a channel (top level or in a thread) and answers at once. Messages by bots
    /// (this app's own among them), edits and deletions are not stored. Slack's own retry
    /// (`retry`: it carries `X-Slack-Retry-Num`) of a request already accepted is answered
    /// as done — it changes nothing — so Slack stops retrying; any other repeat is refused.
    pub async fn events(
        &self,
        timestamp: &str,
        signature: &str,
        body: &[u8],
        now_ms: i64,
        retry: bool,
    ) -> Result<EventsAnswer, Refusal> {
        let now = now_ms.div_euclid(1000);
        self.verify(timestamp, signature, body, now)?;
        match self.event(timestamp, signature, body, now_ms).await {
            Err(Refusal::Unauthorized(REPLAY)) if retry => Ok(EventsAnswer::Ok),
            answer => answer,
        }
    }

    /// An Events API request whose signature was checked.
    async fn event(&self, timestamp: &str, signature: &str, body: &[u8], now_ms: i64) -> Result<EventsAnswer, Refusal> {
        let now = now_ms.div_euclid(1000);
        if crate::nul::in_json(body) {
            return Err(Refusal::BadRequest(crate::nul::REFUSAL.into()));
        }
        let envelope: Envelope =
            serde_json::from_slice(body).map_err(|e| Refusal::BadRequest(format!("unreadable event: {e}")))?;
        let message = envelope.event.as_ref().is_some_and(|e| {
            e.kind == "message" && e.bot_id.is_none() && matches!(e.subtype.as_deref(), None | Some("thread_broadcast"))
        });
        // A message's replay is caught with its one write below; anything else here.
        if !(envelope.kind == "event_callback" && message) {
            self.first_time(timestamp, signature, now).await?;
        }
        match envelope.kind.as_str() {
            "url_verification" => {
                let challenge = envelope.challenge.filter(|c| !c.is_empty() && c.len() <= 200);
                return challenge.map(EventsAnswer::Challenge).ok_or(Refusal::BadRequest("no challenge".into()));
            }
            "event_callback" => {}
            _ => return Ok(EventsAnswer::Ok),
        }
        let (Some(event_id), Some(event)) = (envelope.event_id, envelope.event) else {
            return Err(Refusal::BadRequest("an event callback without event_id or event".into()));
        };
        if !message {
            return Ok(EventsAnswer::Ok);
        }
        let (Some(channel), Some(user), Some(ts)) = (event.channel, event.user, event.ts) else {
            return Err(Refusal::BadRequest("a message event without channel, user or ts".into()));
        };
        if event_id.len() > 100 || channel.len() > 100 || user.len() > 100 || ts.len() > 50 {
            return Err(Refusal::BadRequest("an id is too long".into()));
        }
        let message = ChatMessage {
            event_id,
            channel,
            user,
            message_id: ts,
            thread: event.thread_ts.filter(|t| t.len() <= 50),
            text: event.text.unwrap_or_default().chars().take(MAX_TEXT).collect(),
            received_at_ms: now_ms,
        };
        match self.chat.accept_message(&message, signature).await? {
            Accepted::Replay => Err(Refusal::Unauthorized(REPLAY)),
            Accepted::New | Accepted::Retry => Ok(EventsAnswer::Ok),
        }
    }

    /// Handles a `/stringer` slash command (a form): the chat desk's answer, to post back
    /// as the command's response.
    pub async fn command(&self, timestamp: &str, signature: &str, body: &[u8], now: i64) -> Result<Reply, Refusal> {
        self.check(timestamp, signature, body, now).await?;
        if crate::nul::in_form(body) {
            return Err(Refusal::BadRequest(crate::nul::REFUSAL.into()));
        }
        let form: CommandForm = serde_urlencoded::from_bytes(body)
            .map_err(|_| Refusal::BadRequest("expected a slash command form (channel_id, user_id, text)".into()))?;
        let Some(desk) = &self.desk else {
            return Err(Refusal::Forbidden("the Slack app has no bot token (--slack-token) to answer commands with"));
        };
        let command =
            SlashCommand { channel: form.channel_id, user: form.user_id, text: form.text.chars().take(4000).collect() };
        desk.command(&command).await.map_err(Refusal::App)
    }

    /// The message shortcut "Open a ticket from this message"; the desk answers in the
    /// message's thread. A refusal is logged; Slack shows the presser nothing more.
    async fn shortcut(&self, interaction: Interaction, now: i64) -> Result<(), Refusal> {
        let desk = self.desk.as_ref().ok_or(Refusal::Forbidden("the Slack app has no bot token (--slack-token)"))?;
        let (Some(channel), Some(message)) = (interaction.channel, interaction.message) else {
            return Err(Refusal::BadRequest("a message shortcut without channel or message".into()));
        };
        if channel.id.len() > 100 || message.ts.len() > 50 || message.user.as_ref().is_some_and(|u| u.len() > 100) {
            return Err(Refusal::BadRequest("an id is too long".into()));
        }
        let message = ChatMessage {
            event_id: format!("shortcut:{}:{}", channel.id, message.ts),
            channel: channel.id,
            user: message.user.unwrap_or_default(),
            message_id: message.ts,
            thread: None,
            text: message.text.chars().take(MAX_TEXT).collect(),
            received_at_ms: now * 1000,
        };
        let reply = desk.open_from_message(&interaction.user.id, &message).await.map_err(Refusal::App)?;
        tracing::info!(member = %interaction.user.id, outcome = %reply.text, "message shortcut");
        Ok(())
    }

    /// Handles an interaction request: `timestamp` and `signature` are its
    /// `X-Slack-Request-Timestamp` and `X-Slack-Signature` headers, `body` the form it
    /// posted, `now` the current Unix second. Presses on a ticket in a state they do not
    /// apply to (acknowledging a resolved ticket) are answered as done: Slack cannot show
    /// more than that.
    pub async fn interaction(&self, timestamp: &str, signature: &str, body: &[u8], now: i64) -> Result<(), Refusal> {
        self.check(timestamp, signature, body, now).await?;
        let form: Form = serde_urlencoded::from_bytes(body)
            .map_err(|_| Refusal::BadRequest("expected a form with a payload field".into()))?;
        if form.payload.contains('\0') || crate::nul::in_json(form.payload.as_bytes()) {
            return Err(Refusal::BadRequest(crate::nul::REFUSAL.into()));
        }
        let interaction: Interaction = serde_json::from_str(&form.payload)
            .map_err(|e| Refusal::BadRequest(format!("unreadable interaction: {e}")))?;
        if interaction.kind == "message_action" && interaction.callback_id.as_deref() == Some(OPEN_TICKET_SHORTCUT) {
            return self.shortcut(interaction, now).await;
        }
        if interaction.kind != "block_actions" {
            return Ok(());
        }
        let user_id = self
            .oncall
            .staff_by_slack_member(&interaction.user.id)
            .await?
            .ok_or(Refusal::Forbidden("this Slack member is not a Stringer staff user"))?;
        let user = self.accounts.user(&user_id).await?;
        let presser = user
            .and_then(|u| Principal::new(u, Scopes::READ_WRITE, Proof::ChannelMember))
            .ok_or(Refusal::Forbidden("this Slack member is not an active Stringer staff user"))?;
        for press in interaction.actions {
            let command = match press.action_id.as_str() {
                ACK_ACTION => Command::Acknowledge,
                RESOLVE_ACTION => Command::Resolve,
                _ => continue,
            };
            let ticket = TicketRef::Id(TicketId(press.value.clone()));
            match self.tickets.act(&presser, &ticket, vec![command]).await {
                Ok(_) | Err(ActError::App(AppError::Rejected(_))) => {}
                Err(ActError::App(e)) => return Err(Refusal::App(e)),
                Err(_) => return Err(Refusal::NotFound),
            }
        }
        Ok(())
    }
}
