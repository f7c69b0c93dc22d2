//! Stringer's outside systems, one module each, both directions: [`slack`] (messages with
//! buttons, settling them, confirming a member's email, and the signed requests Slack sends
//! in), [`mail`] (SMTP), [`pagerduty`] (the Events API v2 monitoring tools send to),
//! [`alertmanager`] (Prometheus Alertmanager's webhook), [`sms_voice`] (a Twilio-compatible API) and [`webhook`] (signed
//! JSON posts, with the outbound-address guard; [`address_checks`] checks a contact method's
//! address with them). [`Integrations`] is the application's one `Sender`: it sends each
//! outgoing message by its kind (a delivery's parcel over its contact method's kind) and
//! settles sent messages. Nothing here decides who is paged or when; inbound requests are
//! checked here and handed to the application's ports.

#![warn(missing_docs)]

pub mod address_checks;
pub mod alertmanager;
pub mod mail;
pub mod nul;
pub mod pagerduty;
pub mod slack;
pub mod sms_voice;
pub mod webhook;

use stringer_app::delivery::{MethodKind, NoticePayload, Parcel, SendError};
use stringer_app::outbox::{Outgoing, Sender};
use stringer_app::settle::{Messenger, SentMessage};
use stringer_core::ids::TicketId;

/// What a page says, whatever carries it: what an engineer needs at 3 a.m. — severity,
/// the ticket's key, org and subject, how long it has been open, the customer's incident
/// bridge for a security incident, why they are paged, and the link to the ticket. Read from
/// a delivery's payload; fields an older payload lacks fall back to the ticket id.
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

/// Every configured outside system: the application's one [`Sender`], sending each message
/// by its kind.
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

#[async_trait::async_trait]
impl Sender for Integrations {
    async fn send(&self, id: &str, message: &Outgoing) -> Result<Option<String>, SendError> {
        let sent = match message {
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
            Outgoing::Delivery(parcel) => return self.deliver(id, parcel).await,
        };
        // A notice, an announcement or a letter of the desk's is never changed once sent.
        sent.map(|()| None)
    }
}

impl Integrations {
    /// Sends a delivery's parcel over its contact method's kind; answers the receipt of a
    /// Slack message, which is settled once paging is over.
    async fn deliver(&self, id: &str, parcel: &Parcel) -> Result<Option<String>, SendError> {
        match parcel.kind {
            MethodKind::Webhook => self.webhooks.send(id, parcel).await.map(|()| None),
            MethodKind::Slack => match &self.slack {
                Some(slack) => slack.send(id, parcel).await.map(Some),
                None => Err(unconfigured("Slack", "--slack-token")),
            },
            MethodKind::Email => match &self.mail {
                Some(mail) => mail.send(id, parcel).await.map(|()| None),
                None => Err(unconfigured("Mail", "--smtp-url")),
            },
            // Delivered by being recorded sent: the person's "My pages" lists it.
            MethodKind::Console => Ok(None),
            MethodKind::Sms | MethodKind::Voice => match &self.phone {
                Some(phone) => phone.send(id, parcel).await.map(|()| None),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use stringer_app::delivery::Urgency;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn parcel(kind: MethodKind, address: &str) -> Outgoing {
        Outgoing::Delivery(Arc::new(Parcel {
            ticket: "tkt_1".into(),
            kind,
            address: address.into(),
            secret: String::new(),
            urgency: Urgency::Page,
            payload: r#"{"notice":{"kind":"page","severity":"P1"},"ticket":{"key":"ACME-1"}}"#.into(),
        }))
    }

    fn outside(slack: Option<slack::Slack>) -> Integrations {
        let clock = Arc::new(stringer_app::VirtualClock::new(jiff::Timestamp::UNIX_EPOCH));
        Integrations { webhooks: webhook::Webhooks::new(true, clock), slack, mail: None, phone: None }
    }

    /// A Web API that answers one request with `body`, once it has read the whole request.
    async fn answering_once(body: &'static str) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let (mut request, mut buf) = (Vec::new(), [0u8; 4096]);
            loop {
                let n = socket.read(&mut buf).await.unwrap();
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).to_lowercase();
                let complete = text.split_once("\r\n\r\n").is_some_and(|(head, rest)| {
                    let length = head.lines().find_map(|l| l.strip_prefix("content-length:"));
                    rest.len() >= length.map_or(0, |l| l.trim().parse().unwrap())
                });
                if complete || n == 0 {
                    break;
                }
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(answer.as_bytes()).await.unwrap();
        });
        url
    }

    #[tokio::test]
    async fn a_delivery_to_a_system_not_configured_is_refused_for_good() {
        let outside = outside(None);
        let cases = [
            (parcel(MethodKind::Slack, "C1"), "--slack-token"),
            (parcel(MethodKind::Email, "a@example.com"), "--smtp-url"),
            (parcel(MethodKind::Sms, "+15550100"), "--sms-account"),
            (parcel(MethodKind::Voice, "+15550100"), "--sms-account"),
            (
                Outgoing::Mail { to: "a@example.com".into(), subject: "s".into(), body: "b".into(), unsubscribe: None },
                "--smtp-url",
            ),
        ];
        for (message, flag) in cases {
            match outside.send("dlv_1", &message).await {
                Err(SendError::Permanent(why)) => assert!(why.contains(flag), "{why}"),
                other => panic!("{message:?}: {other:?}"),
            }
        }
        assert_eq!(outside.send("dlv_1", &parcel(MethodKind::Console, "")).await.unwrap(), None, "recorded sent");
    }

    #[tokio::test]
    async fn a_page_posted_in_slack_answers_the_receipt_that_settles_it_later() {
        let api = answering_once(r#"{"ok":true,"channel":"C1","ts":"1700000000.000100"}"#).await;
        let outside = outside(Some(slack::Slack::new(&api, "xoxb-test")));
        let receipt = outside.send("dlv_1", &parcel(MethodKind::Slack, "C1")).await.unwrap();
        let receipt: serde_json::Value = serde_json::from_str(&receipt.expect("a receipt")).unwrap();
        assert_eq!(receipt, serde_json::json!({"channel": "C1", "ts": "1700000000.000100"}));
    }
}
