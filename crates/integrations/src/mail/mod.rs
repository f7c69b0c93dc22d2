//! Mail, both directions. Out: pages and alerts to staff, letters that keep customers
//! informed, status notices, announcements, reviews, packets and account links, over SMTP to
//! the configured relay (lettre), every one made by [`Mail::envelope`]: the same From, Date,
//! MIME-Version and loop header, and a Message-ID under our mail domain derived from what the
//! mail is for, so a redelivery is the same message. In: [`listener`] (the
//! built-in SMTP server), [`read`] (MIME into a `Letter`) and [`quotes`] (the new words of a
//! reply); the mailgate and HTTP doors are the binary's and the web front's.

pub mod auth;
pub mod client_limits;
pub mod letter;
pub mod listener;
mod quotes;
pub mod read;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MessageBuilder, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use stringer_app::delivery::{Carried, Parcel, SendError};

/// An SMTP relay, the sender address and the domain our Message-IDs name.
#[derive(Clone)]
pub struct Mail {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    instance: String,
    domain: String,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail").field("from", &self.from).field("domain", &self.domain).finish_non_exhaustive()
    }
}

impl Mail {
    /// A relay at `url` (`smtp://host:port` plain, `smtp://host:587?tls=required` STARTTLS,
    /// `smtps://host:465`; `user:password@` for authentication) sending as `from`; every
    /// message carries `instance` in its loop header, so the intake knows its own mail, and a
    /// Message-ID under `domain` (the support domain; the sender address's when none is set).
    pub fn new(url: &str, from: &str, instance: &str, domain: Option<&str>) -> Result<Mail, String> {
        let transport =
            AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| format!("bad SMTP URL: {e}"))?.build();
        let from: Mailbox = from.parse().map_err(|e| format!("bad sender address {from:?}: {e}"))?;
        let domain = domain.map_or_else(|| from.email.domain().to_string(), str::to_string);
        Ok(Mail { transport, from, instance: instance.to_string(), domain })
    }

    /// The start of every mail we send, whatever it carries: From, To, Subject, Date,
    /// `Message-ID: <id@domain>` (`id` names what it is for, so a redelivery is the same
    /// message), the loop header and, once a body is added, MIME-Version.
    pub fn envelope(&self, to: &str, subject: String, id: &str) -> Result<MessageBuilder, SendError> {
        let to: Mailbox = to.parse().map_err(|e| SendError::Permanent(format!("bad recipient {to:?}: {e}")))?;
        Ok(Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .date_now()
            .message_id(Some(format!("<{id}@{}>", self.domain)))
            .raw_header(loop_header(&self.instance)))
    }

    /// A plain-text mail from its envelope.
    fn text(envelope: MessageBuilder, body: String) -> Result<Message, SendError> {
        envelope.singlepart(SinglePart::plain(body)).map_err(unbuildable)
    }

    /// The message for a delivery's parcel (its Message-ID derived from the delivery's `id`):
    /// a customer letter, or a notice to staff (by its kind).
    pub fn message(&self, id: &str, p: &Parcel) -> Result<Message, SendError> {
        let payload = match p.carried()? {
            Carried::Letter(l) => return letter::message(self, id, p, &l),
            Carried::Notice(payload) => payload,
        };
        let kind = payload.notice.kind.as_deref().unwrap_or("notice");
        let s = crate::PageSummary::read(&payload, p.ticket.as_str());
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
        if let Some(link) = &payload.ack_url {
            body.push_str(&format!("\nAcknowledge (stops the escalation): {link}\n"));
        }
        Mail::text(self.envelope(&p.address, subject, id)?, body)
    }

    /// Hands a delivery's message to the relay.
    pub async fn send(&self, id: &str, p: &Parcel) -> Result<(), SendError> {
        self.hand_over(self.message(id, p)?).await
    }

    /// Sends a status page's notice (or another outbox letter: a confirmation, an
    /// announcement, a review, a packet) to a subscriber: its Message-ID derived from the
    /// notice, `Auto-Submitted: auto-generated`, and with a subscription's one-click
    /// unsubscribe (RFC 8058: `List-Unsubscribe` and `List-Unsubscribe-Post`).
    pub async fn send_notice(
        &self,
        id: &str,
        to: &str,
        subject: &str,
        body: String,
        unsubscribe: Option<&str>,
    ) -> Result<(), SendError> {
        let mut envelope =
            self.envelope(to, subject.to_string(), id)?.raw_header(header("Auto-Submitted", "auto-generated"));
        if let Some(url) = unsubscribe {
            envelope = envelope
                .raw_header(header("List-Unsubscribe", &format!("<{url}>")))
                .raw_header(header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"));
        }
        self.hand_over(Mail::text(envelope, body)?).await
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
fn loop_header(instance: &str) -> HeaderValue {
    header(read::LOOP_HEADER, instance)
}

/// A header lettre has no type for.
fn header(name: &'static str, value: &str) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value.to_string())
}

/// Why a message could not be built (a relay would refuse it, whenever it is tried).
fn unbuildable(e: lettre::error::Error) -> SendError {
    SendError::Permanent(format!("cannot build the message: {e}"))
}
