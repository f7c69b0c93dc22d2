//! Mail, both directions. Out: pages and alerts to staff, and letters that keep customers
//! informed, over SMTP to the configured relay (lettre); the Message-ID is derived from the
//! delivery's idempotency key, so a redelivery is the same message. In: [`listener`] (the
//! built-in SMTP server), [`read`] (MIME into a `Letter`) and [`quotes`] (the new words of a
//! reply); the mailgate and HTTP doors are the binary's and the web front's.

pub mod auth;
pub mod client_limits;
pub mod letter;
pub mod listener;
mod quotes;
pub mod read;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::Value;
use stringer_app::delivery::{Delivery, SendError};
use stringer_app::mail::letters::LetterPayload;

/// An SMTP relay and the sender address.
#[derive(Clone)]
pub struct Mail {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    instance: String,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail").field("from", &self.from).finish_non_exhaustive()
    }
}

impl Mail {
    /// A relay at `url` (`smtp://host:port` plain, `smtp://host:587?tls=required` STARTTLS,
    /// `smtps://host:465`; `user:password@` for authentication) sending as `from`; every
    /// message carries `instance` in its loop header, so the intake knows its own mail.
    pub fn new(url: &str, from: &str, instance: &str) -> Result<Mail, String> {
        let transport =
            AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| format!("bad SMTP URL: {e}"))?.build();
        let from = from.parse().map_err(|e| format!("bad sender address {from:?}: {e}"))?;
        Ok(Mail { transport, from, instance: instance.to_string() })
    }

    /// The message for a delivery.
    pub fn message(&self, d: &Delivery) -> Result<Message, SendError> {
        let payload: Value = serde_json::from_str(&d.payload).unwrap_or(Value::Null);
        if let Ok(l) = serde_json::from_value::<LetterPayload>(payload["letter"].clone()) {
            return letter::message(&self.from, &self.instance, d, &l);
        }
        let kind = payload["notice"]["kind"].as_str().unwrap_or("notice");
        let s = crate::PageSummary::of(&d.payload, d.ticket.as_str());
        let subject = match kind {
            "page" => format!("[Stringer] page: {}", s.headline()),
            "report.overdue" => format!("[Stringer] post-incident report overdue: {}", s.headline()),
            "bridge.overdue" => format!("[Stringer] incident bridge not joined in time: {}", s.headline()),
            other => format!("[Stringer] {other}: {}", s.headline()),
        };
        let mut body = format!("{}\n\nWhy: {}.\n", s.headline(), s.reason);
        if !s.url.is_empty() {
            body.push_str(&format!("Open the ticket: {}\n", s.url));
        }
        if let Some(link) = payload["ack_url"].as_str() {
            body.push_str(&format!("\nAcknowledge (stops the escalation): {link}\n"));
        }
        let to: Mailbox =
            d.address.parse().map_err(|e| SendError::Permanent(format!("bad recipient {:?}: {e}", d.address)))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(format!("<{}@stringer>", d.id)))
            .raw_header(loop_header(&self.instance))
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))
    }

    /// Hands the message to the relay.
    pub async fn send(&self, d: &Delivery) -> Result<(), SendError> {
        self.hand_over(self.message(d)?).await
    }

    /// Sends a plain-text mail to one person (a password link, a confirmation), at once.
    pub async fn send_text(&self, to: &str, subject: &str, body: String) -> Result<(), SendError> {
        let to: Mailbox = to.parse().map_err(|e| SendError::Permanent(format!("bad recipient {to:?}: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .raw_header(loop_header(&self.instance))
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))?;
        self.hand_over(message).await
    }

    /// Sends a status page's notice to a subscriber: its Message-ID derived from the notice,
    /// and with a subscription's one-click unsubscribe (RFC 8058: `List-Unsubscribe` and
    /// `List-Unsubscribe-Post`).
    pub async fn send_notice(
        &self,
        id: &str,
        to: &str,
        subject: &str,
        body: String,
        unsubscribe: Option<&str>,
    ) -> Result<(), SendError> {
        use lettre::message::header::{HeaderName, HeaderValue};
        let to: Mailbox = to.parse().map_err(|e| SendError::Permanent(format!("bad recipient {to:?}: {e}")))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(format!("<{id}@stringer>")))
            .raw_header(loop_header(&self.instance))
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Auto-Submitted"), "auto-generated".into()));
        if let Some(url) = unsubscribe {
            builder = builder
                .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("List-Unsubscribe"), format!("<{url}>")))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".into(),
                ));
        }
        let message = builder
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))?;
        self.hand_over(message).await
    }

    async fn hand_over(&self, message: Message) -> Result<(), SendError> {
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(format!("the relay refused the message: {e}"))),
            Err(e) => Err(SendError::Temporary(format!("the relay did not take the message: {e}"))),
        }
    }
}

/// The header that marks a message as this installation's, so its own mail coming back is
/// recognised and never answered.
pub(crate) fn loop_header(instance: &str) -> lettre::message::header::HeaderValue {
    use lettre::message::header::{HeaderName, HeaderValue};
    HeaderValue::new(HeaderName::new_from_ascii_str(read::LOOP_HEADER), instance.to_string())
}

#[async_trait::async_trait]
impl stringer_app::accounts::AccountMail for Mail {
    async fn send_text(&self, to: &str, subject: &str, body: String) -> Result<(), SendError> {
        Mail::send_text(self, to, subject, body).await
    }
}
