//! Keeping customers informed by mail. The committer writes one outbox record per occasion
//! the rules name ([`Inform`]); [`dispatch_letters`] turns each into one mail delivery per
//! recipient — the ticket's requester, unless they chose not to get that update or their
//! address bounced — which the delivery worker then sends like any other (durable,
//! idempotent, retried). The letter carries what the mail adapter needs to thread it: the
//! ticket's key, the message ids of the conversation so far, and the signed reply address.

use super::{Inform, LetterPayload, ReplySigner};
use crate::delivery::{DeliveryStore, Dispatched, NewDelivery, Urgency, hand_on};
use crate::links::AckLinks;
use crate::store::StoreError;
use jiff::Timestamp;
use std::future::Future;
use stringer_core::contract::Measure;
use stringer_core::ids::{TicketId, TicketKey};
use stringer_core::mail::MailAddresses;
use stringer_core::sla::ClockState;
use stringer_core::ticket::Ticket;

/// The method id of mail deliveries to customers.
pub const CUSTOMER_MAIL: &str = "customer_mail";

/// An occasion in the outbox not yet turned into deliveries.
#[derive(Clone, Debug)]
pub struct InformEntry {
    /// The outbox row.
    pub id: i64,
    /// The ticket.
    pub ticket: TicketId,
    /// The occasion.
    pub inform: Inform,
    /// The public reply, for [`Inform::Replied`].
    pub comment: Option<String>,
    /// When it happened.
    pub at: Timestamp,
}

/// A customer who gets the letter.
#[derive(Clone, Debug)]
pub struct LetterRecipient {
    /// The user.
    pub user_id: String,
    /// Their address.
    pub email: String,
    /// Their name.
    pub name: String,
}

/// What a letter needs, read when it is dispatched.
#[derive(Clone, Debug)]
pub struct LetterContext {
    /// `ACME-42`.
    pub key: TicketKey,
    /// The ticket's subject.
    pub subject: String,
    /// The org's name.
    pub org_name: String,
    /// The ticket's state (severity, clocks).
    pub state: Ticket,
    /// Who gets it: the requester, if they want this update and their address works.
    pub recipients: Vec<LetterRecipient>,
    /// The reply's author and words.
    pub comment: Option<(String, String)>,
    /// The conversation's message ids, oldest first (the customer's and ours).
    pub thread: Vec<String>,
}

/// Signs reply addresses and knows our domains: what letters need to thread back.
#[derive(Clone, Debug)]
pub struct Correspondence {
    /// Our domains and mailboxes; without a domain, no letters are sent.
    pub addresses: MailAddresses,
    /// Signs reply addresses.
    pub signer: ReplySigner,
}

/// Where the customer updates wait to become letters: the outbox's occasions and what a
/// letter about a ticket needs. The letters are handed on as deliveries, so this is a
/// [`DeliveryStore`] too.
pub trait InformStore: DeliveryStore {
    /// Up to `limit` customer updates in the outbox not yet turned into letters, oldest first.
    fn undispatched_informs(&self, limit: i64) -> impl Future<Output = Result<Vec<InformEntry>, StoreError>> + Send;
    /// What a letter about `ticket` needs; `None` when the ticket is gone.
    fn letter_context(
        &self,
        ticket: &TicketId,
        inform: Inform,
        comment: Option<&str>,
    ) -> impl Future<Output = Result<Option<LetterContext>, StoreError>> + Send;
}

/// Turns up to `limit` undispatched occasions into letter deliveries. Without a mail domain
/// the occasions are marked done with no letters.
pub async fn dispatch_letters<S: InformStore>(
    store: &S,
    links: &AckLinks,
    mail: Option<&Correspondence>,
    now: Timestamp,
    limit: i64,
) -> Result<Dispatched, StoreError> {
    let entries = store.undispatched_informs(limit).await?;
    let mut batch = Vec::with_capacity(entries.len());
    for entry in &entries {
        let mut deliveries = Vec::new();
        if let Some(mail) = mail
            && let Some(domain) = mail.addresses.domains.first()
            && let Some(ctx) = store.letter_context(&entry.ticket, entry.inform, entry.comment.as_deref()).await?
        {
            let reply_to = mail.addresses.reply_address(&ctx.key, &mail.signer.sign(&ctx.key)).unwrap_or_default();
            let (due, within) = response(&ctx.state);
            let severity = ctx.state.severity.to_string();
            for r in &ctx.recipients {
                let id = format!("dlv_{}_{}_{CUSTOMER_MAIL}", entry.id, r.user_id);
                let letter = LetterPayload {
                    inform: entry.inform,
                    key: ctx.key.to_string(),
                    ticket: entry.ticket.to_string(),
                    subject: ctx.subject.clone(),
                    org_name: ctx.org_name.clone(),
                    name: r.name.clone(),
                    severity: severity.clone(),
                    response_due: due.map(|d| d.to_string()),
                    response_within: within.clone(),
                    author: ctx.comment.as_ref().map(|c| c.0.clone()),
                    body: ctx.comment.as_ref().map(|c| c.1.clone()),
                    reply_to: reply_to.clone(),
                    thread: ctx.thread.clone(),
                    url: links.page_url(&format!("/portal/tickets/{}", ctx.key)),
                    domain: domain.clone(),
                };
                let payload = serde_json::json!({ "idempotency_key": id, "letter": letter });
                deliveries.push(NewDelivery {
                    id,
                    ticket: entry.ticket.clone(),
                    user_id: r.user_id.clone(),
                    method_id: CUSTOMER_MAIL.into(),
                    channel: Some(r.email.clone()),
                    payload: payload.to_string(),
                    due: entry.at,
                    urgency: Urgency::Letter,
                });
            }
        }
        batch.push((entry.id, deliveries));
    }
    hand_on(store, batch, now).await
}

/// The running first-response clock's due instant and target in words.
fn response(ticket: &Ticket) -> (Option<Timestamp>, Option<String>) {
    let Some(clock) =
        ticket.clocks.iter().find(|c| c.measures == Measure::FirstResponse && matches!(c.state, ClockState::Running))
    else {
        return (None, None);
    };
    let within = match &clock.cell.calendar {
        Some(calendar) => format!("{} ({calendar})", clock.cell.within),
        None => clock.cell.within.to_string(),
    };
    (clock.due, Some(within))
}
