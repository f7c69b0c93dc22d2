//! Email as a channel. Inbound: every door (the SMTP listener, `stringer mailgate`, the HTTP
//! endpoint) hands the raw message to [`Mailroom::accept`], which stores it before the door
//! answers, so accepted mail is never lost; the engine's intake round ([`crate::inbox`])
//! then claims stored messages, and [`intake::MailDesk`] turns each into a ticket, a reply, an inquiry, a held message or an
//! ignored one — once, since every id it makes is derived from the stored message. Outbound:
//! [`letters`] turns the customer updates the rules name ([`Inform`]) into mail deliveries.

pub mod intake;
pub mod letters;
pub mod triage;

use crate::ids::ulid;
use crate::inbox::{Inbox, Stored};
use crate::records::UserRecord;
use crate::store::StoreError;
use async_trait::async_trait;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use stringer_core::ids::{OrgSlug, TicketId, TicketKey};
use stringer_core::mail::Provenance;
use stringer_core::mail_auth::MailAuth;
pub use stringer_core::ticket::inform::Inform;

/// Largest message any door accepts (headers, body and attachments, as sent).
pub const MAX_MESSAGE_BYTES: usize = 25 * 1024 * 1024;

/// Messages one sender may hand in per hour before the rest are held for triage.
pub const SENDER_HOURLY_LIMIT: i64 = 60;

/// Attempts at processing a stored message before it is held for a person to look at.
pub const MAX_PROCESS_ATTEMPTS: i64 = 5;

/// A message as the mail adapter read it: the parts the intake rules look at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Letter {
    /// `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    /// `In-Reply-To` then `References`, newest first, without angle brackets.
    pub references: Vec<String>,
    /// The sender's address, lower case (`From`, else `Sender`, else the envelope's).
    pub from: String,
    /// The sender's display name.
    pub from_name: Option<String>,
    /// `To`, `Cc` and `Delivered-To` addresses, lower case.
    pub recipients: Vec<String>,
    /// The subject, decoded (`(no subject)` when missing).
    pub subject: String,
    /// What the sender wrote this time: quoted history and signature cut off.
    pub text: String,
    /// The whole body as text (HTML made into text), for the record.
    pub full_text: String,
    /// Attached files (inline images included), at most as many as a ticket takes.
    pub files: Vec<LetterFile>,
    /// What tells a machine's message from a person's.
    pub provenance: Provenance,
    /// For a delivery status report: the recipients that failed for good.
    pub bounced: Vec<String>,
    /// For a delivery status report: the `Message-ID` of the message it returns (from its
    /// returned headers), without angle brackets.
    pub bounced_message: Option<String>,
}

impl Letter {
    /// The letter with every NUL character dropped from its headers and decoded text: a
    /// mail may carry one (PostgreSQL cannot store it, and it means nothing to a reader), so
    /// the mail doors clean it rather than refuse the message (README, "Mail").
    pub fn without_nul(mut self) -> Letter {
        fn clean(s: &mut String) {
            if s.contains('\0') {
                s.retain(|c| c != '\0');
            }
        }
        let strings =
            [&mut self.from, &mut self.subject, &mut self.text, &mut self.full_text, &mut self.provenance.from];
        strings.into_iter().for_each(clean);
        let optional = [
            &mut self.message_id,
            &mut self.from_name,
            &mut self.bounced_message,
            &mut self.provenance.auto_submitted,
            &mut self.provenance.precedence,
        ];
        optional.into_iter().flatten().for_each(clean);
        self.references.iter_mut().chain(&mut self.recipients).chain(&mut self.bounced).for_each(clean);
        for f in &mut self.files {
            clean(&mut f.name);
            clean(&mut f.content_type);
        }
        self
    }
}

/// A file that came with a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LetterFile {
    /// The name as sent (no path).
    pub name: String,
    /// The type the message declared.
    pub content_type: String,
    /// The bytes, decoded.
    pub bytes: Vec<u8>,
}

/// Reads raw bytes into a [`Letter`]. Never fails: what cannot be read is left empty and
/// the rules treat it as such.
pub trait LetterReader: Send + Sync {
    /// Reads one RFC 5322 message.
    fn read(&self, raw: &[u8]) -> Letter;
}

/// Mail authentication: what SPF, DKIM, DMARC and ARC prove about a stored message's
/// sender. The mail adapter implements it (it does the DNS work); the intake asks it once per
/// message and keeps the answer with the message.
#[async_trait]
pub trait SenderCheck: Send + Sync {
    /// Checks a stored message; never fails (a DNS failure is a `temperror` result).
    async fn check(&self, message: &InboundRecord) -> MailAuth;
}

/// Which door a message came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Door {
    /// The built-in SMTP listener.
    Smtp,
    /// `stringer mailgate` (a pipe from the mail server).
    Mailgate,
    /// `POST /api/v1/mail/inbound`.
    Http,
}

/// The name of a door, as stored and shown.
pub fn door_name(door: Door) -> &'static str {
    match door {
        Door::Smtp => "smtp",
        Door::Mailgate => "mailgate",
        Door::Http => "http",
    }
}

/// A message to store, as a door received it.
#[derive(Clone, Debug)]
pub struct NewInbound {
    /// Which door.
    pub door: Door,
    /// The envelope sender (SMTP `MAIL FROM`), when the door knows it.
    pub envelope_from: Option<String>,
    /// The envelope recipients (SMTP `RCPT TO`), when the door knows them.
    pub envelope_to: Vec<String>,
    /// The message as received.
    pub raw: Vec<u8>,
    /// Unix milliseconds.
    pub received_at_ms: i64,
    /// The SMTP client's IP address (the SMTP door only): what SPF checks.
    pub peer: Option<String>,
    /// The name the SMTP client gave in `EHLO`/`HELO` (the SMTP door only).
    pub helo: Option<String>,
}

/// Where a stored message stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailState {
    /// Stored, not yet processed.
    Pending,
    /// Became a ticket, a reply or an inquiry.
    Done,
    /// Waits for staff to route it (see [`MailOutcome::Held`]).
    Held,
    /// Recorded and left alone: a bounce, an auto-reply, our own message.
    Ignored,
}

impl MailState {
    /// The name used in JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            MailState::Pending => "pending",
            MailState::Done => "done",
            MailState::Held => "held",
            MailState::Ignored => "ignored",
        }
    }

    /// The state of that name.
    pub fn parse(name: &str) -> Option<MailState> {
        [MailState::Pending, MailState::Done, MailState::Held, MailState::Ignored]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// A stored inbound message.
#[derive(Clone, Debug)]
pub struct InboundRecord {
    /// Row id: also the seed of every id processing makes.
    pub id: i64,
    /// Which door.
    pub door: Door,
    /// Envelope sender.
    pub envelope_from: Option<String>,
    /// Envelope recipients.
    pub envelope_to: Vec<String>,
    /// The message as received.
    pub raw: Vec<u8>,
    /// Unix milliseconds.
    pub received_at_ms: i64,
    /// Where it stands.
    pub state: MailState,
    /// Why it was held or ignored, or what it became.
    pub reason: Option<String>,
    /// The ticket it opened or joined.
    pub ticket: Option<TicketId>,
    /// The org it was routed to (or held for).
    pub org: Option<OrgSlug>,
    /// Staff routed a held message to this org; processing accepts its sender there.
    pub routed_to: Option<OrgSlug>,
    /// The sender, as read when processed.
    pub sender: Option<String>,
    /// The subject, as read when processed.
    pub subject: Option<String>,
    /// Processing attempts so far.
    pub attempts: i64,
    /// The SMTP client's IP address, when it came through the SMTP door.
    pub peer: Option<String>,
    /// The SMTP client's `EHLO`/`HELO` name.
    pub helo: Option<String>,
    /// What mail authentication proved, once processed.
    pub auth: Option<MailAuth>,
}

impl Stored for InboundRecord {
    fn id(&self) -> i64 {
        self.id
    }

    fn attempts(&self) -> i64 {
        self.attempts
    }
}

/// What processing made of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailOutcome {
    /// A new ticket or a comment on one.
    Ticket {
        /// The ticket.
        ticket: TicketId,
        /// Its org.
        org: OrgSlug,
        /// What happened, in words ("opened ACME-42", "reply on ACME-42").
        what: String,
    },
    /// A general inquiry.
    Inquiry {
        /// The inquiry.
        id: String,
    },
    /// Held for staff: no org could be told, or the sender is not a user of the org and the
    /// org holds such mail, or the sender sent too much.
    Held {
        /// Why.
        reason: String,
        /// The org it was addressed to, when known.
        org: Option<OrgSlug>,
    },
    /// Recorded, nothing done and nothing answered.
    Ignored {
        /// Why.
        reason: String,
        /// The org it was about, when known (a bounce or an auto-reply of one of its letters).
        org: Option<OrgSlug>,
    },
}

impl MailOutcome {
    /// The state it leaves the stored message in.
    pub fn state(&self) -> MailState {
        match self {
            MailOutcome::Ticket { .. } | MailOutcome::Inquiry { .. } => MailState::Done,
            MailOutcome::Held { .. } => MailState::Held,
            MailOutcome::Ignored { .. } => MailState::Ignored,
        }
    }
}

/// What an org does with mail from an address that is not one of its users.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownSenders {
    /// Hold it for staff to look at (the default: a customer's support contract is theirs).
    #[default]
    Hold,
    /// Accept it and add the sender to the org as a member without a password.
    Accept,
}

/// An org's rules for mail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgMailPolicy {
    /// What to do with mail from strangers.
    pub unknown_senders: UnknownSenders,
    /// Whether a `[P1]`–`[P4]` marker in a subject sets a new ticket's severity.
    pub subject_severity: bool,
    /// With [`UnknownSenders::Accept`], the domains (lower case) whose proven senders become
    /// members; anyone else's mail is held. Every member reads all of the org's tickets, so
    /// only the org's own domains belong here.
    #[serde(default)]
    pub accept_domains: Vec<String>,
}

impl Default for OrgMailPolicy {
    fn default() -> OrgMailPolicy {
        OrgMailPolicy { unknown_senders: UnknownSenders::Hold, subject_severity: true, accept_domains: Vec::new() }
    }
}

impl OrgMailPolicy {
    /// Whether a stranger writing from `address` becomes a member.
    pub fn accepts(&self, address: &str) -> bool {
        let domain = address.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default();
        self.unknown_senders == UnknownSenders::Accept && self.accept_domains.iter().any(|d| d == &domain)
    }
}

/// What processing made of one message, as it is settled.
#[derive(Clone, Copy, Debug)]
pub struct SettledMail<'a> {
    /// The stored message's id.
    pub id: i64,
    /// What it became.
    pub outcome: &'a MailOutcome,
    /// The letter as read (its sender, subject and `Message-ID` are kept with it).
    pub letter: &'a Letter,
    /// What mail authentication proved.
    pub auth: &'a MailAuth,
}

/// Persistence of the mail channel; its stored messages are claimed through the
/// [`Inbox`] every way in shares.
#[async_trait]
pub trait Mailroom: Inbox<InboundRecord> + Send + Sync {
    /// Stores a received message durably; answers its row id. Only after this returns may a
    /// door acknowledge the message.
    async fn accept(&self, message: &NewInbound) -> Result<i64, StoreError>;
    /// Records, in one write, what processing made of messages (with the sender and subject
    /// read, and what mail authentication proved); they are not claimed again.
    async fn settle_inbound(&self, settled: &[SettledMail<'_>], at: i64) -> Result<(), StoreError>;
    /// Notes the ticket a message is about to open or join, with its `Message-ID`, before the
    /// change is recorded: a letter dispatched at once already threads to it, and a reply
    /// processed right after finds it.
    async fn link_inbound(&self, id: i64, ticket: &TicketId, message_id: Option<&str>) -> Result<(), StoreError>;
    /// Whether the reply comment of this (derived) id is recorded: a retry of a message
    /// that was already added to its ticket.
    async fn reply_recorded(&self, comment_id: &str) -> Result<bool, StoreError>;
    /// One stored message.
    async fn inbound(&self, id: i64) -> Result<Option<InboundRecord>, StoreError>;
    /// The messages that opened or joined a ticket, oldest first.
    async fn inbound_of_ticket(&self, ticket: &TicketId, limit: i64) -> Result<Vec<InboundRecord>, StoreError>;
    /// Messages in a state, newest first.
    async fn inbound_in(&self, state: MailState, limit: i64) -> Result<Vec<InboundRecord>, StoreError>;
    /// Sends a held message back for processing, accepted for `org` by `by`.
    async fn route_held(&self, id: i64, org: &OrgSlug, by: &str, at: i64) -> Result<bool, StoreError>;
    /// The ticket a processed message with one of these `Message-ID`s joined or opened.
    async fn ticket_of_messages(&self, message_ids: &[String]) -> Result<Option<TicketId>, StoreError>;
    /// Stops all mail to an address (a bounce of one of our letters said it does not exist).
    async fn suppress(&self, address: &str, reason: &str, at: i64) -> Result<(), StoreError>;
    /// Why mail to an address is stopped, if it is.
    async fn suppressed(&self, address: &str) -> Result<Option<String>, StoreError>;
    /// Lets mail to an address go out again; answers whether it was stopped.
    async fn unsuppress(&self, address: &str) -> Result<bool, StoreError>;
    /// Whether delivery `id` was a mail to `address`: a bounce suppresses an address only
    /// when it returns one of our own messages to it.
    async fn mailed(&self, delivery: &str, address: &str) -> Result<bool, StoreError>;
    /// The updates a user gets by mail (every one unless they chose).
    async fn mail_updates(&self, user: &UserRecord) -> Result<Vec<Inform>, StoreError>;
    /// Sets the updates a user gets by mail.
    async fn set_mail_updates(&self, user: &UserRecord, updates: &[Inform]) -> Result<(), StoreError>;
    /// The customer orgs in which `email` has an active account.
    async fn sender_orgs(&self, email: &str) -> Result<Vec<OrgSlug>, StoreError>;
    /// The org's mail rules.
    async fn mail_policy(&self, org: &OrgSlug) -> Result<OrgMailPolicy, StoreError>;
    /// Sets them.
    async fn set_mail_policy(&self, org: &OrgSlug, policy: OrgMailPolicy) -> Result<(), StoreError>;
}

/// Signs the reply addresses of tickets (`support+acme.42.<mac>@…`) so that a reply reaches
/// its ticket even from a client that drops `In-Reply-To`, and nobody can make one up.
#[derive(Clone)]
pub struct ReplySigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for ReplySigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplySigner").finish_non_exhaustive()
    }
}

impl ReplySigner {
    /// Signs with `key` (the server's secret, kept in the database).
    pub fn new(key: &str) -> ReplySigner {
        ReplySigner { key: key.as_bytes().to_vec() }
    }

    fn mac(&self, key: &TicketKey) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(format!("reply|{key}").as_bytes());
        mac
    }

    /// The signature in a ticket's reply address: 80 bits, hex.
    pub fn sign(&self, key: &TicketKey) -> String {
        hex::encode(&self.mac(key).finalize().into_bytes()[..10])
    }

    /// Whether `mac` signs `key` (compared in constant time).
    pub fn verify(&self, key: &TicketKey, mac: &str) -> bool {
        let Ok(bytes) = hex::decode(mac) else { return false };
        bytes.len() == 10 && self.mac(key).verify_truncated_left(&bytes).is_ok()
    }
}

/// The `n`th id of kind `prefix` that processing stored message `inbound` makes: the same
/// every time, so a retry after a crash finds what the first try wrote. Ids sort as the
/// messages arrived (the arrival time, then the message's row id), so two replies received
/// within one second keep their order.
pub fn derived_id(prefix: &str, inbound: &InboundRecord, n: u32) -> String {
    let digest = Sha256::digest(format!("{prefix}|{}|{}|{n}", inbound.id, inbound.received_at_ms).as_bytes());
    let mut random = [0u8; 10];
    random[..8].copy_from_slice(&(inbound.id.max(0) as u64).to_be_bytes());
    random[8..].copy_from_slice(&digest[..2]);
    ulid(prefix, inbound.received_at_ms.max(0) as u64, random)
}

#[cfg(test)]
mod tests {
    use super::*;
    use stringer_core::ids::OrgSlug;

    #[test]
    fn reply_signatures_verify_only_for_their_ticket() {
        let signer = ReplySigner::new("secret");
        let key = TicketKey { org: OrgSlug("acme".into()), number: 42 };
        let other = TicketKey { org: OrgSlug("acme".into()), number: 43 };
        let mac = signer.sign(&key);
        assert_eq!(mac.len(), 20);
        assert!(signer.verify(&key, &mac));
        assert!(!signer.verify(&other, &mac));
        assert!(!ReplySigner::new("other").verify(&key, &mac));
        assert!(!signer.verify(&key, &mac[..18]));
        assert!(!signer.verify(&key, "zz"));
    }

    #[test]
    fn ids_derived_from_a_message_repeat_and_differ_by_kind_and_index() {
        let m = InboundRecord {
            id: 7,
            door: Door::Smtp,
            envelope_from: None,
            envelope_to: vec![],
            raw: vec![],
            received_at_ms: 1_780_000_000_000,
            state: MailState::Pending,
            reason: None,
            ticket: None,
            org: None,
            routed_to: None,
            sender: None,
            subject: None,
            attempts: 0,
            peer: None,
            helo: None,
            auth: None,
        };
        let a = derived_id("tkt", &m, 0);
        assert_eq!(a, derived_id("tkt", &m, 0));
        assert_ne!(a[4..], derived_id("cmt", &m, 1)[4..]);
        let later = InboundRecord { id: 8, ..m.clone() };
        assert!(derived_id("cmt", &m, 0) < derived_id("cmt", &later, 0), "ids sort as the messages arrived");
        assert_eq!(a.len(), 30);
        assert!(a.starts_with("tkt_"));
    }

    #[test]
    fn a_letter_loses_its_nul_characters_and_nothing_else() {
        let letter = Letter {
            message_id: Some("a\0b@x".into()),
            references: vec!["r\0@x".into()],
            from: "al\0ice@acme.example".into(),
            from_name: Some("Al\0ice".into()),
            recipients: vec!["support\0@x".into()],
            subject: "Disk\0 full".into(),
            text: "The disk\0 is full.".into(),
            full_text: "The disk\0 is full.\n> quoted".into(),
            files: vec![LetterFile { name: "a\0.txt".into(), content_type: "text/plain".into(), bytes: vec![0, 1] }],
            ..Letter::default()
        }
        .without_nul();
        assert_eq!(letter.message_id.as_deref(), Some("ab@x"));
        assert_eq!((letter.from.as_str(), letter.from_name.as_deref()), ("alice@acme.example", Some("Alice")));
        assert_eq!((letter.subject.as_str(), letter.text.as_str()), ("Disk full", "The disk is full."));
        assert_eq!(letter.references, ["r@x"]);
        assert_eq!(letter.recipients, ["support@x"]);
        assert_eq!(letter.full_text, "The disk is full.\n> quoted");
        assert_eq!(letter.files[0].name, "a.txt");
        assert_eq!(letter.files[0].bytes, [0, 1], "a file's bytes are its own");
    }
}

/// The letter as the mail adapter renders it (the delivery's payload, under `letter`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterPayload {
    /// The occasion.
    pub inform: Inform,
    /// `ACME-42`.
    pub key: String,
    /// The ticket's id (our message ids carry it).
    pub ticket: String,
    /// The ticket's subject.
    pub subject: String,
    /// The org's name.
    pub org_name: String,
    /// The recipient's name.
    pub name: String,
    /// `P2`.
    pub severity: String,
    /// When the first response is due, while it is (RFC 3339).
    pub response_due: Option<String>,
    /// The target in words: "8 business hours (pro_coverage)".
    pub response_within: Option<String>,
    /// The reply's author.
    pub author: Option<String>,
    /// The reply.
    pub body: Option<String>,
    /// Where replies go: the ticket's signed address.
    pub reply_to: String,
    /// `In-Reply-To` / `References`, oldest first.
    pub thread: Vec<String>,
    /// The ticket in the portal.
    pub url: String,
    /// Our domain, for the `Message-ID`.
    pub domain: String,
}
