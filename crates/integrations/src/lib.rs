//! Stringer's outside systems, one module each, both directions: [`slack`] (messages with
//! buttons, settling them, confirming a member's email, and the signed requests Slack sends
//! in), [`mail`] (SMTP), [`sms_voice`] (a Twilio-compatible API) and [`webhook`] (signed
//! JSON posts, with the outbound-address guard). [`Integrations`] sends each delivery over
//! its contact method's kind and settles sent messages. Nothing here decides who is paged or
//! when; inbound requests are checked here and handed to the application's ports.

#![warn(missing_docs)]

pub mod mail;
pub mod slack;
pub mod sms_voice;
pub mod webhook;

use stringer_app::delivery::{Delivery, MethodKind, SendError, Sender};
use stringer_app::settle::{Messenger, SentMessage};
use stringer_core::ids::TicketId;

/// Every configured outside system; sends each delivery over its contact method's kind.
#[derive(Clone, Debug)]
pub struct Integrations {
    /// Webhooks (always available).
    pub webhooks: webhook::Webhooks,
    /// The Slack app, when a bot token is configured.
    pub slack: Option<slack::Slack>,
    /// The SMTP relay, when configured.
    pub mail: Option<mail::Mail>,
    /// The SMS/voice provider, when configured.
    pub phone: Option<sms_voice::Phone>,
}

fn unconfigured(what: &str, flag: &str) -> SendError {
    SendError::Permanent(format!("{what} is not configured on this server ({flag})"))
}

impl Sender for Integrations {
    async fn send(&self, d: &Delivery) -> Result<Option<String>, SendError> {
        match d.kind {
            MethodKind::Webhook => self.webhooks.send(d).await.map(|()| None),
            MethodKind::Slack => match &self.slack {
                Some(slack) => slack.send(d).await.map(Some),
                None => Err(unconfigured("Slack", "--slack-token")),
            },
            MethodKind::Email => match &self.mail {
                Some(mail) => mail.send(d).await.map(|()| None),
                None => Err(unconfigured("Mail", "--smtp-url")),
            },
            MethodKind::Sms | MethodKind::Voice => match &self.phone {
                Some(phone) => phone.send(d).await.map(|()| None),
                None => Err(unconfigured("SMS and voice", "--sms-account")),
            },
        }
    }
}

impl Messenger for Integrations {
    async fn settle(&self, message: &SentMessage, ticket: &TicketId, outcome: &str) -> Result<(), SendError> {
        match &self.slack {
            Some(slack) => {
                slack
                    .settle(&message.receipt, &slack::Slack::page_text(&message.payload, ticket.as_str()), outcome)
                    .await
            }
            None => Err(unconfigured("Slack", "--slack-token")),
        }
    }
}
