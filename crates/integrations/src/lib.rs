//! Stringer's outside systems, one module each, both directions: [`slack`] (messages with
//! buttons, settling them, confirming a member's email, and the signed requests Slack sends
//! in), [`mail`] (SMTP), [`pagerduty`] (the Events API v2 monitoring tools send to),
//! [`alertmanager`] (Prometheus Alertmanager's webhook), [`sms_voice`] (a Twilio-compatible API) and [`webhook`] (signed
//! JSON posts, with the outbound-address guard; [`address_checks`] checks a contact method's
//! address with them). [`Integrations`] sends each delivery over
//! its contact method's kind and settles sent messages. Nothing here decides who is paged or
//! when; inbound requests are checked here and handed to the application's ports.

#![warn(missing_docs)]

pub mod address_checks;
pub mod alertmanager;
pub mod mail;
pub mod nul;
pub mod pagerduty;
pub mod slack;
pub mod sms_voice;
pub mod webhook;

use stringer_app::delivery::{Delivery, MethodKind, NoticePayload, SendError, Sender};
use stringer_app::settle::{Messenger, SentMessage};
use stringer_core::ids::TicketId;

/// What a page says, whatever carries it: what an engineer needs at 3 a.m. — severity,
/// the ticket's key, org and subject, how long it has been open, the customer's incident
/// bridge for a security incident, why they are paged, and the link to the ticket. Read from a delivery's payload; fields an older payload lacks
/// fall back to the ticket id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageSummary {
    /// P1…, or empty for notices that are not pages.
    pub severity: String,
    /// `ACME-42` (the ticket id in older payloads).
    pub key: String,
    /// The org's name.
    pub org: String,
    /// The ticket's subject.
    pub subject: String,
    /// "12 min".
    pub open_for: String,
    /// Why this page went out.
    pub reason: String,
    /// The ticket in the console.
    pub url: String,
    /// A security incident's bridge to join (empty when none was given).
    pub bridge: String,
}

impl PageSummary {
    /// Reads a delivery's payload.
    pub fn of(payload: &str, ticket: &str) -> PageSummary {
        PageSummary::read(&NoticePayload::read(payload), ticket)
    }

    /// Reads a notice's typed payload.
    pub fn read(p: &NoticePayload, ticket: &str) -> PageSummary {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let (n, t) = (&p.notice, &p.ticket);
        PageSummary {
            severity: text(&n.severity),
            key: t.key.clone().unwrap_or_else(|| ticket.to_string()),
            org: t.org_name.clone().or_else(|| p.org.clone()).unwrap_or_default(),
            subject: text(&t.subject),
            open_for: text(&t.open_for),
            reason: n.reason.clone().or_else(|| n.kind.clone()).unwrap_or_else(|| "page".into()),
            url: text(&t.url),
            bridge: text(&t.bridge),
        }
    }

    /// One line, in ASCII apart from the subject (an SMS in the GSM alphabet stays 160
    /// characters a part): "P1 ACME-42 (Acme Corp): Checkout is down - open 12 min".
    pub fn headline(&self) -> String {
        let mut line = format!("{} {}", self.severity, self.key).trim().to_string();
        if !self.org.is_empty() {
            line.push_str(&format!(" ({})", self.org));
        }
        if !self.subject.is_empty() {
            line.push_str(&format!(": {}", self.subject));
        }
        if !self.open_for.is_empty() {
            line.push_str(&format!(" - open {}", self.open_for));
        }
        if !self.bridge.is_empty() {
            line.push_str(&format!(" - bridge {}", self.bridge));
        }
        line
    }
}

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
            // Delivered by being recorded sent: the person's "My pages" lists it.
            MethodKind::Console => Ok(None),
            MethodKind::Sms | MethodKind::Voice => match &self.phone {
                Some(phone) => phone.send(d).await.map(|()| None),
                None => Err(unconfigured("SMS and voice", "--sms-account")),
            },
        }
    }
}

#[async_trait::async_trait]
impl stringer_app::outbox::Sender for Integrations {
    async fn send(&self, id: &str, message: &stringer_app::outbox::Outgoing) -> Result<(), SendError> {
        use stringer_app::outbox::Outgoing;
        match message {
            Outgoing::Mail { to, subject, body, unsubscribe } => match &self.mail {
                Some(mail) => mail.send_notice(id, to, subject, body.clone(), unsubscribe.as_deref()).await,
                None => Err(unconfigured("Mail", "--smtp-url")),
            },
            Outgoing::Webhook { url, payload } => self.webhooks.post_status(url, id, payload).await,
            Outgoing::Slack { channel, text } => match &self.slack {
                // Posted once under the sending's id, looked for since it was written.
                Some(slack) => slack.post_once(channel, text, id, stringer_app::ids::made_at(id)).await.map(drop),
                None => Err(unconfigured("Slack", "--slack-token")),
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
