//! What a stored message becomes. First, mail authentication: a message acts as its From
//! address only when SPF, DKIM and DMARC (or a trusted forwarder's ARC chain) prove it
//! ([`MailAuth::verdict`]); what the From domain's DMARC policy calls forged is ignored, and
//! what is merely unproven is held for staff under the org it is about — it never opens,
//! answers or reopens anything as its From address (staff who route it vouch for a customer
//! sender, never for a staff one). Then, in order: a delivery status report stops mail to
//! the addresses that failed, when it returns a message we sent them; our own message
//! coming back is ignored; a reply joins its ticket
//! (by the signed reply address, by `In-Reply-To`/`References`, or by the `[ACME-42]` key in
//! the subject) as its sender's public comment — if the access policy lets the sender write
//! on it; machine-made mail (auto-replies, lists, bulk) opens nothing and is answered by
//! nothing; `sales@`/`contact@` becomes a general inquiry; `support+<tag>@` and
//! `security@` open a ticket (a security incident) for the org — the tag's, or the sender's
//! when there is none — as the sender, if the policy lets them open one there. A sender who
//! is not one of the org's users is accepted as a new member or held, as the org chose; what
//! cannot be routed is held for staff. Nothing is dropped: every message ends in a state
//! with its reason.

use super::{
    InboundRecord, Letter, LetterReader, MAX_PROCESS_ATTEMPTS, MailOutcome, ReplySigner, SENDER_HOURLY_LIMIT,
    SenderCheck, SettledMail, UnknownSenders, derived_id,
};
use crate::act::{ActError, Command, Found, Principal, Proof, TicketDesk, comment_text};
use crate::desk::AppError;
use crate::files::{self, MAX_PER_TICKET};
use crate::inbox::{Done, Stored, WayIn};
use crate::mail::Mailroom;
use crate::ports::{Accounts, Commands, Files, Inquiries, Queries, Safeguards};
use crate::records::{AttachmentRecord, InquiryRecord, OrgRecord, TicketRecord, UserRecord};
use crate::store::{Extras, TicketDetails};
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use stringer_core::access::{self, Action, Object, Scopes};
use stringer_core::event::{Event, EventKind};
use stringer_core::ids::{Deployment, Intake, OrgSlug, Severity, TicketId, UserId, UserRole};
use stringer_core::mail::{self, MailAddresses, Mailbox};
use stringer_core::mail_auth::{MailAuth, Verdict};
use stringer_core::ticket::Status;

/// What the mail intake reads and changes: stored messages, the tickets, inquiries and
/// files they become, the senders' accounts and budgets.
#[derive(Clone)]
pub struct MailPorts {
    /// Changes tickets (and tells the time and the contract).
    pub commands: Arc<dyn Commands>,
    /// The read port: tickets, comments, timelines.
    pub queries: Arc<dyn Queries>,
    /// Orgs, users, tokens.
    pub accounts: Arc<dyn Accounts>,
    /// The general inquiries of "Contact us".
    pub inquiries: Arc<dyn Inquiries>,
    /// Files attached to tickets.
    pub files: Arc<dyn Files>,
    /// Rate limits, back-off, replay guard, idempotency keys, settings.
    pub safeguards: Arc<dyn Safeguards>,
    /// Received mail, its triage, bounced addresses and mail preferences.
    pub mailroom: Arc<dyn Mailroom>,
}

/// Turns stored messages into tickets, replies and inquiries through the application's
/// ports, asking the access policy as the sender.
pub struct MailDesk {
    /// The application's ports (tickets, accounts, inquiries, files, the per-sender budget,
    /// stored messages).
    pub ports: MailPorts,
    /// The MIME reader.
    pub reader: Arc<dyn LetterReader>,
    /// Our domains and mailboxes.
    pub addresses: MailAddresses,
    /// Checks reply addresses.
    pub signer: ReplySigner,
    /// Mail authentication (SPF, DKIM, DMARC, ARC).
    pub checker: Arc<dyn SenderCheck>,
    /// Forwarders whose ARC chains we believe (`--mail-arc-sealer`).
    pub arc_sealers: Vec<String>,
    /// The one application call for ticket commands: a reply is a comment through it.
    pub tickets: TicketDesk,
}

/// A claimed message with its letter read: what the mail intake processes.
#[derive(Clone, Debug)]
pub struct Received {
    /// The stored message.
    pub message: InboundRecord,
    /// Its letter, read once when claimed.
    pub letter: Letter,
}

impl Stored for Received {
    fn id(&self) -> i64 {
        self.message.id
    }

    fn attempts(&self) -> i64 {
        self.message.attempts
    }
}

/// What processing one message came to: its outcome, and what mail authentication proved.
pub type Processed = (MailOutcome, MailAuth);

/// Received mail through the one intake round ([`crate::inbox::round`]): one sender's
/// messages in the order received, so that a reply finds the ticket its parent opened;
/// different senders' at once; a round's outcomes settled in one write.
#[async_trait]
impl WayIn for MailDesk {
    type Item = Received;
    type Key = ();
    type Outcome = Processed;

    async fn claim(&self, now: i64, lease_until: i64, limit: i64) -> Result<Vec<Received>, AppError> {
        let claimed = self.ports.mailroom.claim(now, lease_until, limit).await?;
        Ok(claimed
            .into_iter()
            .map(|message| Received { letter: self.reader.read(&message.raw).without_nul(), message })
            .collect())
    }

    fn order_key(&self, item: &Received) -> String {
        item.letter.from.clone()
    }

    async fn begin(&self, firsts: &[&Received]) -> Result<Vec<()>, AppError> {
        Ok(vec![(); firsts.len()])
    }

    /// Processes one message: what mail authentication proves, then what it becomes. A
    /// store failure leaves it pending for the next claim, until [`MAX_PROCESS_ATTEMPTS`];
    /// then it is held.
    async fn process(&self, _: &mut (), item: &Received) -> Result<Processed, AppError> {
        let m = &item.message;
        let auth = self.checker.check(m).await;
        let outcome = match self.decide(m, &item.letter, &auth).await {
            Ok(outcome) => outcome,
            Err(e @ (AppError::Store(_) | AppError::Busy(_))) if m.attempts < MAX_PROCESS_ATTEMPTS => return Err(e),
            Err(e) => MailOutcome::Held { reason: format!("could not be processed: {e}"), org: None },
        };
        Ok((outcome, auth))
    }

    /// Records the round's outcomes in one write. If that fails, each is tried alone: one
    /// that cannot be recorded with its letter's words after [`MAX_PROCESS_ATTEMPTS`] is
    /// held for staff with the reason, keeping nothing of the letter but the raw message.
    async fn settle(&self, done: &[Done<MailDesk>]) -> Result<(), AppError> {
        let now = self.ports.commands.now().as_second();
        let settled: Vec<(&Received, SettledMail)> = done
            .iter()
            .flat_map(|d| &d.settled)
            .map(|(r, (outcome, auth))| (r, SettledMail { id: r.message.id, outcome, letter: &r.letter, auth }))
            .collect();
        let all: Vec<SettledMail> = settled.iter().map(|(_, s)| *s).collect();
        if self.ports.mailroom.settle_inbound(&all, now).await.is_ok() {
            return Ok(());
        }
        let mut failed = None;
        for (r, s) in settled {
            match self.ports.mailroom.settle_inbound(&[s], now).await {
                Ok(()) => {}
                Err(e) if r.message.attempts < MAX_PROCESS_ATTEMPTS => failed = Some(e),
                Err(e) => {
                    let reason =
                        format!("could not be recorded after {} attempts: {e}", r.message.attempts).replace('\0', "");
                    let held = MailOutcome::Held { reason, org: None };
                    let bare = SettledMail { outcome: &held, letter: &Letter::default(), ..s };
                    self.ports.mailroom.settle_inbound(&[bare], now).await?;
                }
            }
        }
        failed.map_or(Ok(()), |e| Err(e.into()))
    }
}

impl MailDesk {
    async fn decide(&self, m: &InboundRecord, letter: &Letter, auth: &MailAuth) -> Result<MailOutcome, AppError> {
        let now = self.ports.commands.now().as_second();
        if letter.provenance.ours {
            return Ok(ignored("a message this server sent came back".into(), None));
        }
        let mailbox = m.envelope_to.iter().chain(&letter.recipients).find_map(|a| self.addresses.mailbox(a));
        let thread = self.thread(mailbox.as_ref(), letter).await?;
        let from = if letter.from.is_empty() {
            m.envelope_from.clone().unwrap_or_default().to_ascii_lowercase()
        } else {
            letter.from.clone()
        };
        // The org the message is about, so that it is filed there whatever becomes of it
        // (a federal org's mail is seen only by cleared staff).
        let about = match &thread {
            Some((ticket, _)) => Some(ticket.org.clone()),
            None => self.org_of(m, mailbox.as_ref(), &from).await?,
        };
        if !letter.bounced.is_empty() {
            return self.bounce(letter, about, now).await;
        }
        if !from.contains('@') {
            return Ok(held("the message names no sender address", about));
        }
        let verdict = auth.verdict(&from, &self.arc_sealers);
        let proven = match &verdict {
            Verdict::Forged(why) => return Ok(ignored(format!("{why}: not sent by {from}; nothing done"), about)),
            Verdict::Authenticated(_) => true,
            Verdict::Unverified(_) => false,
        };
        // Staff who routed a held message vouch for a customer sender, never for staff.
        let vouched = m.routed_to.is_some();
        // A bounce stopped mail to them; their own proven mail says the mailbox works again.
        if proven && !vouched && self.ports.mailroom.suppressed(&from).await?.is_some() {
            self.ports.mailroom.unsuppress(&from).await?;
        }
        let machine = mail::machine_made(&letter.provenance);
        // Mail staff routed was counted when it came in. Only a proven sender has a budget of
        // their own; unproven mail counts against the client that sent it.
        if machine.is_none() && !vouched {
            let key = match (&verdict, &m.peer) {
                (Verdict::Authenticated(_), _) => format!("mail-sender:{from}"),
                (_, Some(peer)) => format!("mail-peer:{peer}"),
                (_, None) => format!("mail-unproven:{}", crate::mail::door_name(m.door)),
            };
            let (_, count) = self.ports.safeguards.count_attempt(&key, now, 3600).await?;
            if count > SENDER_HOURLY_LIMIT {
                let who =
                    if proven { from.clone() } else { m.peer.clone().unwrap_or_else(|| "unproven senders".into()) };
                return Ok(held(&format!("more than {SENDER_HOURLY_LIMIT} messages from {who} within an hour"), about));
            }
        }
        if let Some((ticket, deployment)) = thread {
            if !proven && !vouched {
                let why = unproven(&verdict);
                if let Some(reason) = machine {
                    return Ok(ignored(
                        format!("{reason} on {}: kept here, not added to the ticket", ticket.key()),
                        about,
                    ));
                }
                return Ok(held(
                    &format!("answers {} but {why}: held, never recorded as {from}", ticket.key()),
                    Some(ticket.org.clone()),
                ));
            }
            let found = Found { ticket, deployment };
            if let Some(sender) = self.sender_in(&from, &found.ticket.org, proven).await?
                && let Some(sender) = Principal::new(sender, Scopes::READ_WRITE, Proof::Mail)
                && sender.allowed(Action::CommentPublic, Some(found.object()))
            {
                if let Some(reason) = machine {
                    return Ok(ignored(
                        format!("{reason} on {}: kept here, not added to the ticket", found.ticket.key()),
                        about,
                    ));
                }
                return self.reply(m, letter, found, &sender).await;
            }
        }
        if let Some(reason) = machine {
            return Ok(ignored(format!("{reason}: opens nothing and is not answered"), about));
        }
        // Mail staff routed goes to their org (open() reads it), as a security incident if it
        // was sent to security@.
        let mailbox = match (&m.routed_to, mailbox) {
            (Some(_), Some(Mailbox::Security { .. })) => Mailbox::Security { tag: None },
            (Some(_), _) => Mailbox::Support { tag: None },
            (None, Some(mailbox)) => mailbox,
            (None, None) => return Ok(held("not addressed to one of the support mailboxes", about)),
        };
        if !proven && !vouched && !matches!(mailbox, Mailbox::Inquiry) {
            let why = unproven(&verdict);
            return Ok(held(&format!("{why}: held, it opens nothing as {from}"), about));
        }
        let outcome = match mailbox {
            Mailbox::Inquiry => self.inquiry(m, letter, &from).await?,
            Mailbox::Support { tag } => self.open(m, letter, &from, tag, false, proven).await?,
            Mailbox::Security { tag } => self.open(m, letter, &from, tag, true, proven).await?,
            Mailbox::Reply { key, .. } => {
                held(&format!("sent to the reply address of {key}, which does not check out for this sender"), None)
            }
        };
        Ok(match outcome {
            MailOutcome::Held { reason, org: None } => MailOutcome::Held { reason, org: about },
            other => other,
        })
    }

    /// The org a message that answers no ticket is about: the one staff routed it to, its
    /// mailbox's tag, or its sender's only org.
    async fn org_of(
        &self,
        m: &InboundRecord,
        mailbox: Option<&Mailbox>,
        from: &str,
    ) -> Result<Option<OrgSlug>, AppError> {
        if let Some(org) = &m.routed_to {
            return Ok(Some(org.clone()));
        }
        if let Some(Mailbox::Support { tag: Some(tag) } | Mailbox::Security { tag: Some(tag) }) = mailbox
            && let Some(org) = self.ports.accounts.org_by_email_tag(tag).await?
        {
            return Ok(Some(org.slug));
        }
        if !from.contains('@') {
            return Ok(None);
        }
        let orgs = self.ports.mailroom.sender_orgs(from).await?;
        Ok(match orgs.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        })
    }

    /// A delivery status report: it stops mail to an address only when the message it
    /// returns is one we sent to that address (anyone can write a report naming anyone).
    async fn bounce(&self, letter: &Letter, about: Option<OrgSlug>, now: i64) -> Result<MailOutcome, AppError> {
        let delivery = letter.bounced_message.as_deref().and_then(|id| self.our_delivery(id));
        let mut stopped = Vec::new();
        for address in &letter.bounced {
            if let Some(d) = &delivery
                && self.ports.mailroom.mailed(d, address).await?
            {
                self.ports
                    .mailroom
                    .suppress(address, "a delivery status report of our mail to it said delivery failed for good", now)
                    .await?;
                stopped.push(address.clone());
            }
        }
        Ok(ignored(
            if stopped.is_empty() {
                format!(
                    "delivery failure report for {} that returns no message of ours to them: nothing stopped",
                    letter.bounced.join(", ")
                )
            } else {
                format!("delivery failure report: mail to {} stopped", stopped.join(", "))
            },
            about,
        ))
    }

    /// The delivery one of our `Message-ID`s was made for: `stringer.<ticket>.<delivery>@<our
    /// domain>` (letters) or `<delivery>@stringer` (pages and alerts).
    fn our_delivery(&self, id: &str) -> Option<String> {
        let (local, domain) = id.trim_matches(['<', '>']).rsplit_once('@')?;
        if domain.eq_ignore_ascii_case("stringer") {
            return (!local.is_empty()).then(|| local.to_string());
        }
        if !self.addresses.domains.iter().any(|d| d.eq_ignore_ascii_case(domain)) {
            return None;
        }
        let mut parts = local.strip_prefix("stringer.")?.split('.');
        let (_ticket, delivery) = (parts.next()?, parts.next()?);
        (!delivery.is_empty()).then(|| delivery.to_string())
    }

    /// The ticket a message answers, if it names one we know.
    async fn thread(
        &self,
        mailbox: Option<&Mailbox>,
        letter: &Letter,
    ) -> Result<Option<(TicketRecord, Deployment)>, AppError> {
        if let Some(Mailbox::Reply { key, mac }) = mailbox
            && self.signer.verify(key, mac)
            && let Some(found) = self.ports.queries.ticket_by_key(key).await?
        {
            return Ok(Some(found));
        }
        let ours: Vec<TicketId> =
            letter.references.iter().chain(&letter.bounced_message).filter_map(|r| self.our_message(r)).collect();
        for id in &ours {
            if let Some(found) = self.ports.queries.ticket(id).await? {
                return Ok(Some(found));
            }
        }
        if !letter.references.is_empty()
            && let Some(id) = self.ports.mailroom.ticket_of_messages(&letter.references).await?
            && let Some(found) = self.ports.queries.ticket(&id).await?
        {
            return Ok(Some(found));
        }
        if let Some(key) = mail::ticket_key(&letter.subject) {
            return Ok(self.ports.queries.ticket_by_key(&key).await?);
        }
        Ok(None)
    }

    /// The ticket of one of our own `Message-ID`s (`stringer.<ticket>.<delivery>@<our domain>`).
    fn our_message(&self, id: &str) -> Option<TicketId> {
        let (local, domain) = id.rsplit_once('@')?;
        if !self.addresses.domains.iter().any(|d| d.eq_ignore_ascii_case(domain)) {
            return None;
        }
        let ticket = local.strip_prefix("stringer.")?.split('.').next()?;
        ticket.starts_with("tkt_").then(|| TicketId::from(ticket))
    }

    /// The active account of `from` that may act on the org's tickets: a user of the org,
    /// or staff — staff only when the mail proved it is theirs (`proven`).
    async fn sender_in(&self, from: &str, org: &OrgSlug, proven: bool) -> Result<Option<UserRecord>, AppError> {
        let found = match self.ports.accounts.login_account(from, Some(org)).await? {
            Some(user) => Some(user),
            None if proven => self.ports.accounts.login_account(from, None).await?.filter(|u| u.org.is_none()),
            None => None,
        };
        Ok(found.filter(|u| u.deactivated_at.is_none()))
    }

    /// A reply on a ticket through the one application call: the sender's public comment
    /// (reopening a resolved ticket first, when the sender may), all or nothing.
    async fn reply(
        &self,
        m: &InboundRecord,
        letter: &Letter,
        found: Found,
        sender: &Principal,
    ) -> Result<MailOutcome, AppError> {
        let key = found.ticket.key();
        let (ticket, org) = (found.ticket.id.clone(), found.ticket.org.clone());
        let comment_id = derived_id("cmt", m, 0);
        let done = MailOutcome::Ticket {
            ticket: ticket.clone(),
            org: org.clone(),
            what: format!("reply on {key} from {}", sender.user().email),
        };
        // A retry after the reply was recorded: found by its derived id, one indexed read.
        if self.ports.mailroom.reply_recorded(&comment_id).await? {
            return Ok(done);
        }
        let mut commands = Vec::new();
        if !sender.is_staff() && found.ticket.state.status == Status::Resolved {
            commands.push(Command::Reopen);
        }
        commands.push(Command::Comment { id: comment_id, public: true, body: comment_text(&letter.text) });
        self.ports.mailroom.link_inbound(m.id, &ticket, letter.message_id.as_deref()).await?;
        match self.tickets.act_on(sender, found, commands).await {
            Ok(_) => {}
            Err(ActError::App(e)) => return Err(e),
            Err(e) => return Ok(held(&format!("{} may not do this on {key}: {e}", sender.user().email), Some(org))),
        }
        self.attach(m, letter, &ticket, &sender.user().id).await?;
        Ok(done)
    }

    async fn inquiry(&self, m: &InboundRecord, letter: &Letter, from: &str) -> Result<MailOutcome, AppError> {
        let id = derived_id("inq", m, 0);
        if self.ports.inquiries.inquiry(&id).await?.is_none() {
            let now = self.ports.commands.now();
            let contract = self.ports.commands.contract();
            let mut body = letter.text.trim().to_string();
            if !letter.subject.is_empty() {
                body = format!("{}\n\n{body}", letter.subject);
            }
            let who = (letter.from_name.clone().unwrap_or_else(|| from.to_string()), from.to_string(), None);
            let inquiry = InquiryRecord::received(id.clone(), who, body, contract, now);
            self.ports.inquiries.insert_inquiry(&inquiry).await?;
        }
        Ok(MailOutcome::Inquiry { id })
    }

    async fn open(
        &self,
        m: &InboundRecord,
        letter: &Letter,
        from: &str,
        tag: Option<String>,
        security: bool,
        proven: bool,
    ) -> Result<MailOutcome, AppError> {
        let org = match (&m.routed_to, &tag) {
            (Some(slug), _) => self.ports.accounts.org(slug).await?,
            (None, Some(tag)) => self.ports.accounts.org_by_email_tag(tag).await?,
            (None, None) => {
                let orgs = self.ports.mailroom.sender_orgs(from).await?;
                match orgs.as_slice() {
                    [one] => self.ports.accounts.org(one).await?,
                    [] => return Ok(held(&format!("no org tag, and {from} is not a user of any org"), None)),
                    _ => return Ok(held(&format!("no org tag, and {from} is a user of several orgs"), None)),
                }
            }
        };
        let Some(org) = org else {
            return Ok(held(&format!("no org has the tag {:?}", tag.unwrap_or_default()), None));
        };
        let sender = match self.ports.accounts.login_account(from, Some(&org.slug)).await? {
            Some(user) if user.deactivated_at.is_some() => {
                return Ok(held(&format!("{from}'s account in {} is deactivated", org.name), Some(org.slug)));
            }
            Some(user) => user,
            None => match self.sender_in(from, &org.slug, proven).await? {
                // Staff writing to an org's address open the ticket on its behalf.
                Some(staff) => staff,
                None => match self.stranger(m, letter, from, &org).await? {
                    Ok(user) => user,
                    Err(outcome) => return Ok(outcome),
                },
            },
        };
        if !access::decide(&sender.as_sender(), Action::OpenTicket, Some(Object::Org(org.as_ref()))).allowed() {
            return Ok(held(&format!("{from} may not open tickets for {}", org.name), Some(org.slug)));
        }
        let severity = self.severity(&org, letter, security).await?;
        let id = TicketId(derived_id("tkt", m, 0));
        let done = |t: &TicketRecord| MailOutcome::Ticket {
            ticket: t.id.clone(),
            org: t.org.clone(),
            what: format!("opened {} ({severity}{})", t.key(), if security { ", security incident" } else { "" }),
        };
        let now = self.ports.commands.now();
        let kind = EventKind::Opened {
            org: org.slug.clone(),
            severity: severity.clone(),
            intake: Some(Intake::Email),
            security,
        };
        let subject: String = letter.subject.chars().take(200).collect();
        let details = TicketDetails {
            subject: if subject.trim().is_empty() { "(no subject)".into() } else { subject },
            description: letter.text.clone(),
            requester: sender.org.as_ref().map(|_| sender.id.clone()),
        };
        let extras = Extras { actor: Some(sender.id.clone()), details: Some(details), comment: None, applies: None };
        self.ports.mailroom.link_inbound(m.id, &id, letter.message_id.as_deref()).await?;
        // The insert refuses an existing id, so a retry (or another worker whose lease ran
        // out) finds the ticket the first try opened without reading it first.
        if let Err(e) = self.ports.commands.record(vec![Event::new(now, id.clone(), kind)], extras).await {
            if let Some((existing, _)) = self.ports.queries.ticket(&id).await? {
                return Ok(done(&existing));
            }
            return Err(e);
        }
        self.attach(m, letter, &id, &sender.id).await?;
        let (ticket, _) =
            self.ports.queries.ticket(&id).await?.ok_or_else(|| AppError::UnknownTicket(id.to_string()))?;
        Ok(done(&ticket))
    }

    /// A sender who is not one of the org's users: accepted as a new member, or held.
    async fn stranger(
        &self,
        m: &InboundRecord,
        letter: &Letter,
        from: &str,
        org: &OrgRecord,
    ) -> Result<Result<UserRecord, MailOutcome>, AppError> {
        let policy = self.ports.mailroom.mail_policy(&org.slug).await?;
        if m.routed_to.as_ref() != Some(&org.slug) && !policy.accepts(from) {
            let reason = if policy.unknown_senders == UnknownSenders::Accept {
                format!("{from} is not a user of {}, and not of a domain it takes members from by mail", org.name)
            } else {
                format!("{from} is not a user of {}, which holds mail from strangers for staff", org.name)
            };
            return Ok(Err(held(&reason, Some(org.slug.clone()))));
        }
        let user = UserRecord {
            id: UserId(derived_id("usr", m, 0)),
            email: from.to_string(),
            name: letter.from_name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| from.to_string()),
            role: UserRole::Member,
            org: Some(org.slug.clone()),
            federal_cleared: false,
            password_hash: None,
            created_at: self.ports.commands.now().as_second(),
            time_zone: None,
            deactivated_at: None,
        };
        if self.ports.accounts.user(&user.id).await?.is_none() {
            self.ports.accounts.insert_user(&user, None).await?;
        }
        Ok(Ok(user))
    }

    /// The severity of a new ticket by mail: the contract's security severity for a security
    /// incident, whatever the subject marks; else a `[P1]` marker in the subject when the org
    /// lets customers set it, else the tier's `default_severity`.
    async fn severity(&self, org: &OrgRecord, letter: &Letter, security: bool) -> Result<Severity, AppError> {
        let contract = self.ports.commands.contract();
        if security {
            return Ok(contract.security_severity(&org.tier).clone());
        }
        if self.ports.mailroom.mail_policy(&org.slug).await?.subject_severity
            && let Some(marked) = mail::severity_marker(&letter.subject, contract.severities.keys())
        {
            return Ok(marked);
        }
        Ok(contract.default_severity(&org.tier))
    }

    /// Keeps the message's files with the ticket, by the portal's rules; refused ones are
    /// left out (the original message keeps them).
    async fn attach(&self, m: &InboundRecord, letter: &Letter, ticket: &TicketId, by: &UserId) -> Result<(), AppError> {
        if letter.files.is_empty() {
            return Ok(());
        }
        let existing = self.ports.files.attachments(ticket).await?;
        let mut count = existing.len();
        for (i, file) in letter.files.iter().enumerate() {
            let id = derived_id("att", m, i as u32 + 1);
            if count >= MAX_PER_TICKET || existing.iter().any(|a| a.id == id) {
                continue;
            }
            let Ok(content_type) = files::check(&file.name, &file.bytes) else { continue };
            let record = AttachmentRecord {
                id,
                ticket: ticket.clone(),
                filename: file.name.clone(),
                content_type: content_type.to_string(),
                size: file.bytes.len() as i64,
                sha256: hex::encode(Sha256::digest(&file.bytes)),
                public: true,
                uploaded_by: by.clone(),
                created_at: self.ports.commands.now().as_second(),
            };
            self.ports.files.insert_attachment(&record, &file.bytes).await?;
            count += 1;
        }
        Ok(())
    }
}

fn held(reason: &str, org: Option<OrgSlug>) -> MailOutcome {
    MailOutcome::Held { reason: reason.to_string(), org }
}

fn ignored(reason: String, org: Option<OrgSlug>) -> MailOutcome {
    MailOutcome::Ignored { reason, org }
}

/// Why an unproven message does not act as its From address.
fn unproven(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Unverified(why) | Verdict::Forged(why) => format!("its sender is not proven ({why})"),
        Verdict::Authenticated(_) => "its sender is proven".into(),
    }
}

#[cfg(test)]
mod tests;
