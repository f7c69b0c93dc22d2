//! Mail's way in, in memory: the stored messages with what each came to, the links to their
//! tickets, stopped addresses and the orgs' mail rules; and a post office that hands each
//! raw message's letter and authentication to the desk as the test wrote them.

// The stubs answer the same error whatever they are asked.
#![allow(unused_variables)]

use super::{World, absent};
use crate::inbox::Inbox;
use crate::mail::{
    InboundRecord, Inform, Letter, LetterReader, MailOutcome, MailState, Mailroom, NewInbound, OrgMailPolicy,
    SenderCheck, SettledMail,
};
use crate::records::UserRecord;
use crate::store::StoreError;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use stringer_core::ids::{OrgSlug, TicketId};
use stringer_core::mail_auth::MailAuth;

/// One stored message: as claimed, its lease, and what it came to once settled.
struct Row {
    record: InboundRecord,
    leased_until: Option<i64>,
    outcome: Option<MailOutcome>,
}

/// Stored mail and the mail channel's records, in memory; senders' orgs and recorded
/// replies as the [`World`] has them.
pub struct MemoryMailroom {
    world: Arc<World>,
    rows: Mutex<Vec<Row>>,
    /// (stored message, ticket, its `Message-ID`) linked.
    links: Mutex<Vec<(i64, TicketId, Option<String>)>>,
    /// Addresses mail is stopped to.
    pub suppressed: Mutex<Vec<String>>,
    /// (delivery, address): the mails we sent.
    pub mailed: Mutex<Vec<(String, String)>>,
    /// The orgs' mail rules (the default for any other).
    pub policies: Mutex<HashMap<OrgSlug, OrgMailPolicy>>,
}

impl MemoryMailroom {
    /// No mail; accounts and comments as `world` has them.
    pub fn new(world: Arc<World>) -> MemoryMailroom {
        MemoryMailroom {
            world,
            rows: Mutex::default(),
            links: Mutex::default(),
            suppressed: Mutex::default(),
            mailed: Mutex::default(),
            policies: Mutex::default(),
        }
    }

    /// What each stored message came to, in the order stored (`None`: not settled).
    pub fn outcomes(&self) -> Vec<Option<MailOutcome>> {
        self.rows.lock().unwrap().iter().map(|r| r.outcome.clone()).collect()
    }
}

#[async_trait]
impl Inbox<InboundRecord> for MemoryMailroom {
    async fn claim(&self, now: i64, lease_until: i64, limit: i64) -> Result<Vec<InboundRecord>, StoreError> {
        let mut rows = self.rows.lock().unwrap();
        let rows = rows.iter_mut().map(|r| (&mut r.leased_until, r.outcome.is_some(), &mut r.record));
        Ok(super::claim_held(rows, (now, lease_until, limit), |r| &mut r.attempts))
    }
}

#[async_trait]
impl Mailroom for MemoryMailroom {
    async fn accept(&self, message: &NewInbound) -> Result<i64, StoreError> {
        let mut rows = self.rows.lock().unwrap();
        let id = rows.len() as i64 + 1;
        let record = InboundRecord {
            id,
            door: message.door,
            envelope_from: message.envelope_from.clone(),
            envelope_to: message.envelope_to.clone(),
            raw: message.raw.clone(),
            received_at_ms: message.received_at_ms,
            state: MailState::Pending,
            reason: None,
            ticket: None,
            org: None,
            routed_to: None,
            sender: None,
            subject: None,
            attempts: 0,
            peer: message.peer.clone(),
            helo: message.helo.clone(),
            auth: None,
        };
        rows.push(Row { record, leased_until: None, outcome: None });
        Ok(id)
    }

    async fn settle_inbound(&self, settled: &[SettledMail<'_>], at: i64) -> Result<(), StoreError> {
        let mut rows = self.rows.lock().unwrap();
        for s in settled {
            if let Some(row) = rows.iter_mut().find(|r| r.record.id == s.id) {
                row.outcome = Some(s.outcome.clone());
                row.record.state = s.outcome.state();
                (row.record.org, row.record.ticket) = match s.outcome {
                    MailOutcome::Ticket { ticket, org, .. } => (Some(org.clone()), Some(ticket.clone())),
                    MailOutcome::Held { org, .. } | MailOutcome::Ignored { org, .. } => (org.clone(), None),
                    MailOutcome::Inquiry { .. } => (None, None),
                };
            }
        }
        Ok(())
    }

    async fn link_inbound(&self, id: i64, ticket: &TicketId, message_id: Option<&str>) -> Result<(), StoreError> {
        self.links.lock().unwrap().push((id, ticket.clone(), message_id.map(String::from)));
        Ok(())
    }

    async fn reply_recorded(&self, comment_id: &str) -> Result<bool, StoreError> {
        Ok(self.world.comments.lock().unwrap().iter().any(|(_, c)| c.id == comment_id))
    }

    async fn inbound(&self, id: i64) -> Result<Option<InboundRecord>, StoreError> {
        Ok(self.rows.lock().unwrap().iter().find(|r| r.record.id == id).map(|r| r.record.clone()))
    }

    async fn inbound_of_ticket(&self, ticket: &TicketId, limit: i64) -> Result<Vec<InboundRecord>, StoreError> {
        Err(absent("inbound_of_ticket"))
    }

    async fn inbound_in(&self, state: MailState, limit: i64) -> Result<Vec<InboundRecord>, StoreError> {
        let rows = self.rows.lock().unwrap();
        let found = rows.iter().rev().filter(|r| r.record.state == state).take(limit.max(0) as usize);
        Ok(found.map(|r| r.record.clone()).collect())
    }

    async fn route_held(&self, id: i64, org: &OrgSlug, by: &str, at: i64) -> Result<bool, StoreError> {
        let mut rows = self.rows.lock().unwrap();
        let Some(held) = rows.iter_mut().find(|r| r.record.id == id && r.record.state == MailState::Held) else {
            return Ok(false);
        };
        held.record.routed_to = Some(org.clone());
        held.record.state = MailState::Pending;
        held.outcome = None;
        held.leased_until = None;
        Ok(true)
    }

    async fn ticket_of_messages(&self, message_ids: &[String]) -> Result<Option<TicketId>, StoreError> {
        let links = self.links.lock().unwrap();
        let named = |l: &&(i64, TicketId, Option<String>)| l.2.as_ref().is_some_and(|m| message_ids.contains(m));
        Ok(links.iter().find(named).map(|l| l.1.clone()))
    }

    async fn suppress(&self, address: &str, reason: &str, at: i64) -> Result<(), StoreError> {
        self.suppressed.lock().unwrap().push(address.into());
        Ok(())
    }

    async fn suppressed(&self, address: &str) -> Result<Option<String>, StoreError> {
        let stopped = self.suppressed.lock().unwrap().iter().any(|a| a == address);
        Ok(stopped.then(|| "a bounce".to_string()))
    }

    async fn unsuppress(&self, address: &str) -> Result<bool, StoreError> {
        let mut suppressed = self.suppressed.lock().unwrap();
        let before = suppressed.len();
        suppressed.retain(|a| a != address);
        Ok(suppressed.len() < before)
    }

    async fn mailed(&self, delivery: &str, address: &str) -> Result<bool, StoreError> {
        Ok(self.mailed.lock().unwrap().iter().any(|(d, a)| d == delivery && a == address))
    }

    async fn mail_updates(&self, user: &UserRecord) -> Result<Vec<Inform>, StoreError> {
        Err(absent("mail_updates"))
    }

    async fn set_mail_updates(&self, user: &UserRecord, updates: &[Inform]) -> Result<(), StoreError> {
        Err(absent("set_mail_updates"))
    }

    async fn sender_orgs(&self, email: &str) -> Result<Vec<OrgSlug>, StoreError> {
        let users = self.world.users.lock().unwrap();
        let active = users.iter().filter(|u| u.email.eq_ignore_ascii_case(email) && u.deactivated_at.is_none());
        Ok(active.filter_map(|u| u.org.clone()).collect())
    }

    async fn mail_policy(&self, org: &OrgSlug) -> Result<OrgMailPolicy, StoreError> {
        Ok(self.policies.lock().unwrap().get(org).cloned().unwrap_or_default())
    }

    async fn set_mail_policy(&self, org: &OrgSlug, policy: OrgMailPolicy) -> Result<(), StoreError> {
        self.policies.lock().unwrap().insert(org.clone(), policy);
        Ok(())
    }
}

/// What the MIME reader and mail authentication make of each raw message, as the test
/// wrote it: the raw message is its place here.
#[derive(Default)]
pub struct Post {
    letters: Mutex<Vec<(Letter, MailAuth)>>,
}

impl Post {
    /// Writes a letter with what its authentication proves; answers its raw bytes.
    pub fn write(&self, letter: Letter, auth: MailAuth) -> Vec<u8> {
        let mut letters = self.letters.lock().unwrap();
        letters.push((letter, auth));
        (letters.len() - 1).to_string().into_bytes()
    }

    fn of(&self, raw: &[u8]) -> Option<(Letter, MailAuth)> {
        let place: usize = std::str::from_utf8(raw).ok()?.parse().ok()?;
        self.letters.lock().unwrap().get(place).cloned()
    }
}

impl LetterReader for Post {
    fn read(&self, raw: &[u8]) -> Letter {
        self.of(raw).map(|(letter, _)| letter).unwrap_or_default()
    }
}

#[async_trait]
impl SenderCheck for Post {
    async fn check(&self, message: &InboundRecord) -> MailAuth {
        self.of(&message.raw).map(|(_, auth)| auth).unwrap_or_default()
    }
}
