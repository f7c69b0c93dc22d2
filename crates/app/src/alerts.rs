//! Alerts from monitoring: integration keys (per org, stored as SHA-256 hashes, revocable),
//! the [`Alerts`] port (signals stored before a door answers; each deduplication key's
//! alert), and [`AlertDesk`], which turns stored signals into ticket events by the core's
//! rules ([`stringer_core::alert`]) through the one intake round ([`crate::inbox`]).
//!
//! The doors (the Events API v2 endpoint, the Alertmanager receiver) only check a signal's
//! shape and its key, store it and answer; processing happens afterwards, so a burst of
//! events costs one batched insert each and the tickets follow within a cycle.

use crate::desk::AppError;
use crate::ids::ulid;
use crate::inbox::{Done, Inbox, Stored, WayIn, once};
use crate::ports::{Commands, Queries};
use crate::status::StatusPages;
use crate::store::{Extras, NewComment, StoreError, TicketDetails};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use stringer_core::access;
use stringer_core::alert::{self, AlertAction, AlertLevel, AlertState, Effect, OnResolve, SeverityMap};
use stringer_core::event::{Event, EventKind};
use stringer_core::ids::{Intake, OrgSlug, TicketId, UserId};

/// How many times a signal is tried before it is settled as failed.
pub const MAX_PROCESS_ATTEMPTS: i64 = 5;

/// What speaks through a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// PagerDuty's Events API v2 (`POST /v2/enqueue`): the key is the `routing_key`.
    EventsV2,
    /// Prometheus Alertmanager's webhook (payload version 4).
    Alertmanager,
}

impl KeyKind {
    /// The name used in JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::EventsV2 => "events_v2",
            KeyKind::Alertmanager => "alertmanager",
        }
    }

    /// The kind of that name.
    pub fn parse(name: &str) -> Option<KeyKind> {
        [KeyKind::EventsV2, KeyKind::Alertmanager].into_iter().find(|k| k.as_str() == name)
    }
}

/// An integration key: what a monitoring tool raises alerts with, for one org.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntegrationKey {
    /// Identifier (`ink_…`), not the secret.
    pub id: String,
    /// The org its alerts open tickets for.
    pub org: OrgSlug,
    /// What people call it ("Prometheus production").
    pub name: String,
    /// Which door it is for.
    pub kind: KeyKind,
    /// Its own level → severity table; `None`: the contract's default.
    pub severity: Option<SeverityMap>,
    /// What the monitor's `resolve` does.
    pub on_resolve: OnResolve,
    /// The SHA-256 (hex) of the secret; the secret itself is shown once and never stored.
    pub secret_hash: String,
    /// The admin who created it.
    pub created_by: UserId,
    /// Unix seconds.
    pub created_at: i64,
    /// When it was revoked (Unix seconds); a revoked key is refused.
    pub revoked_at: Option<i64>,
}

impl IntegrationKey {
    /// The name it acts under on tickets' timelines.
    pub fn actor_name(&self) -> String {
        format!("integration {} ({})", self.name, self.id)
    }
}

/// The SHA-256 (hex) a key's secret is stored and looked up by.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// One monitoring event as a door read it, before processing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signal {
    /// The key it came with.
    pub key: String,
    /// What it asks for.
    pub action: AlertAction,
    /// The alert it is about.
    pub dedup_key: String,
    /// One line: what is wrong.
    pub summary: String,
    /// Where (host, service).
    pub source: String,
    /// How bad; `None` for acknowledge and resolve.
    pub level: Option<AlertLevel>,
    /// Everything else the monitor sent, as JSON text, shown on the ticket.
    pub details: String,
    /// When it was received (Unix milliseconds).
    pub received_at_ms: i64,
}

/// A stored signal, claimed for processing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignalRecord {
    /// Its sequence number (also the order of processing).
    pub id: i64,
    /// The signal.
    pub signal: Signal,
    /// Processing attempts so far, this one included.
    pub attempts: i64,
}

/// What became of a signal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignalOutcome {
    /// In words ("opened", "counted on the open alert", "ignored: …").
    pub what: String,
    /// The ticket it opened or acted on.
    pub ticket: Option<TicketId>,
}

/// The alert a key's deduplication key names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertRecord {
    /// The key.
    pub key: String,
    /// The deduplication key.
    pub dedup_key: String,
    /// The ticket its latest opening opened.
    pub ticket: TicketId,
    /// Not resolved by the monitor (the ticket may have been resolved by a person since).
    pub open: bool,
    /// The monitor acknowledged it.
    pub acknowledged: bool,
    /// Triggers counted while open, the first included.
    pub count: i64,
    /// The latest trigger's summary.
    pub summary: String,
    /// Unix seconds of the opening and of the latest signal.
    pub opened_at: i64,
    /// Unix seconds of the latest signal.
    pub last_at: i64,
}

/// A change event: something changed that is not a problem (a deploy, a configuration
/// change), shown beside the org's tickets of that time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRecord {
    /// Its sequence number (0 before it is stored).
    pub id: i64,
    /// The key it came with.
    pub key: String,
    /// The key's org.
    pub org: OrgSlug,
    /// What changed.
    pub summary: String,
    /// Where.
    pub source: String,
    /// When it happened (Unix seconds): the tool's timestamp, else when it was received.
    pub at: i64,
    /// The rest, as JSON text.
    pub details: String,
    /// When it was received (Unix seconds).
    pub received_at: i64,
}

/// Integration keys, stored signals (claimed through the [`Inbox`] every way in shares) and
/// alerts.
#[async_trait]
pub trait Alerts: Inbox<SignalRecord> + Send + Sync {
    /// Stores a new key.
    async fn insert_key(&self, key: &IntegrationKey) -> Result<(), StoreError>;
    /// A key by id.
    async fn key(&self, id: &str) -> Result<Option<IntegrationKey>, StoreError>;
    /// The key whose secret hashes to `secret_hash` (revoked or not).
    async fn key_by_hash(&self, secret_hash: &str) -> Result<Option<IntegrationKey>, StoreError>;
    /// An org's keys, newest first.
    async fn keys(&self, org: &OrgSlug) -> Result<Vec<IntegrationKey>, StoreError>;
    /// Revokes a live key at `at`; false when there is none.
    async fn revoke_key(&self, id: &str, at: i64) -> Result<bool, StoreError>;
    /// Stores a signal for processing; answers its sequence number once it is committed.
    async fn accept_signal(&self, signal: &Signal) -> Result<i64, StoreError>;
    /// Records, in one transaction, what became of signals (they are not claimed again) and
    /// the alerts they changed (insert or replace).
    async fn finish(&self, settled: &[(i64, SignalOutcome)], alerts: &[AlertRecord], at: i64)
    -> Result<(), StoreError>;
    /// The keys of these ids (those that exist), in one read.
    async fn keys_by_id(&self, ids: &[String]) -> Result<Vec<IntegrationKey>, StoreError>;
    /// The alerts these (key, deduplication key) pairs name (those that exist), each with
    /// whether its ticket is resolved, in one read.
    async fn alerts_of(&self, ids: &[(String, String)]) -> Result<Vec<(AlertRecord, bool)>, StoreError>;
    /// Stores a change event; answers its sequence number.
    async fn insert_change(&self, change: &ChangeRecord) -> Result<i64, StoreError>;
    /// An org's change events that happened in `[from, to]` (Unix seconds), newest first,
    /// at most `limit`.
    async fn changes(&self, org: &OrgSlug, from: i64, to: i64, limit: i64) -> Result<Vec<ChangeRecord>, StoreError>;
    /// The alerts whose latest opening opened this ticket.
    async fn alerts_of_ticket(&self, ticket: &TicketId) -> Result<Vec<AlertRecord>, StoreError>;
}

/// What the alert desk reads and changes: the alerts' store, the tickets they open and
/// the status pages they move.
#[derive(Clone)]
pub struct AlertPorts {
    /// Changes tickets (and tells the time and the contract).
    pub commands: Arc<dyn Commands>,
    /// The read port: tickets, comments, timelines.
    pub queries: Arc<dyn Queries>,
    /// Integration keys, alerts from monitoring and their signals.
    pub alerts: Arc<dyn Alerts>,
    /// Status pages, their components, incidents and maintenance.
    pub status: Arc<dyn StatusPages>,
}

/// Turns stored signals into ticket events.
pub struct AlertDesk {
    /// The application's ports.
    pub ports: AlertPorts,
}

/// One alert (key and deduplication key) while a round processes its signals: its key
/// (`None`: gone), the alert so far, its state and whether it changed.
#[derive(Clone, Debug)]
pub struct Working {
    key: Option<IntegrationKey>,
    record: Option<AlertRecord>,
    state: Option<AlertState>,
    changed: bool,
}

impl Stored for SignalRecord {
    fn id(&self) -> i64 {
        self.id
    }

    fn attempts(&self) -> i64 {
        self.attempts
    }
}

/// Monitoring signals through the one intake round ([`crate::inbox::round`]): one alert's
/// signals in the order received, different alerts' at once (so the group committer batches
/// their tickets); a round's outcomes and changed alerts written in one transaction. A signal
/// processed again after its change committed (the server stopped before the round settled
/// it) decides the same again, for its alert's state, and changes its ticket once: an opening
/// is found under the ticket id derived from the signal, and every other change carries the
/// signal's receipt.
#[async_trait]
impl WayIn for AlertDesk {
    type Item = SignalRecord;
    type Key = Working;
    type Outcome = SignalOutcome;

    async fn claim(&self, now: i64, lease_until: i64, limit: i64) -> Result<Vec<SignalRecord>, AppError> {
        Ok(self.ports.alerts.claim(now, lease_until, limit).await?)
    }

    fn order_key(&self, s: &SignalRecord) -> String {
        format!("{}:{}:{}", s.signal.key.len(), s.signal.key, s.signal.dedup_key)
    }

    /// Each alert's key and stored alert (with whether its ticket is resolved), read in two
    /// queries for the whole round.
    async fn begin(&self, firsts: &[&SignalRecord]) -> Result<Vec<Working>, AppError> {
        let ids: Vec<(String, String)> =
            firsts.iter().map(|s| (s.signal.key.clone(), s.signal.dedup_key.clone())).collect();
        let mut key_ids: Vec<String> = ids.iter().map(|(k, _)| k.clone()).collect();
        key_ids.sort();
        key_ids.dedup();
        let keys: HashMap<String, IntegrationKey> =
            self.ports.alerts.keys_by_id(&key_ids).await?.into_iter().map(|k| (k.id.clone(), k)).collect();
        let mut alerts: HashMap<(String, String), (AlertRecord, bool)> = self
            .ports
            .alerts
            .alerts_of(&ids)
            .await?
            .into_iter()
            .map(|(a, resolved)| ((a.key.clone(), a.dedup_key.clone()), (a, resolved)))
            .collect();
        Ok(ids
            .into_iter()
            .map(|id| {
                let alert = alerts.remove(&id);
                // Open only while the monitor has not resolved it and its ticket is not resolved.
                let state = alert.as_ref().map(|(r, ticket_resolved)| AlertState {
                    open: r.open && !ticket_resolved,
                    acknowledged: r.acknowledged,
                });
                Working { key: keys.get(&id.0).cloned(), record: alert.map(|(r, _)| r), state, changed: false }
            })
            .collect())
    }

    /// Processes one signal of its alert. A store failure stops the alert's remaining
    /// signals, which come back at the next claim (until [`MAX_PROCESS_ATTEMPTS`]; then the
    /// signal is settled as failed).
    async fn process(&self, w: &mut Working, s: &SignalRecord) -> Result<SignalOutcome, AppError> {
        let Some(key) = w.key.clone() else {
            return Ok(SignalOutcome { what: "ignored: the integration key is gone".into(), ticket: None });
        };
        match self.apply(w, &key, s).await {
            Ok(outcome) => Ok(outcome),
            Err(e @ (AppError::Store(_) | AppError::Busy(_))) if s.attempts < MAX_PROCESS_ATTEMPTS => Err(e),
            Err(e) => Ok(SignalOutcome { what: format!("failed: {e}"), ticket: None }),
        }
    }

    /// Writes each settled signal's outcome and each changed alert, in one transaction.
    async fn settle(&self, done: &[Done<AlertDesk>]) -> Result<(), AppError> {
        let settled: Vec<(i64, SignalOutcome)> =
            done.iter().flat_map(|d| &d.settled).map(|(s, outcome)| (s.id, outcome.clone())).collect();
        let alerts: Vec<AlertRecord> =
            done.iter().filter(|d| d.key.changed).filter_map(|d| d.key.record.clone()).collect();
        self.ports.alerts.finish(&settled, &alerts, self.ports.commands.now().as_second()).await?;
        Ok(())
    }
}

impl AlertDesk {
    /// Sets the status page components bound to the signal's alert (their alert key is its
    /// dedup key): a trigger by its level, a resolve back to operational — on the pages whose
    /// owner let the key ([`access::alert_sets_status`]).
    async fn mark_components(&self, key: &IntegrationKey, signal: &Signal, at: i64) -> Result<(), AppError> {
        let level = match signal.action {
            AlertAction::Trigger => Some(signal.level.unwrap_or(AlertLevel::Error)),
            AlertAction::Resolve => None,
            AlertAction::Acknowledge => return Ok(()),
        };
        let Some(status) = stringer_core::status::alert_status(level) else { return Ok(()) };
        let bound = self.ports.status.components_by_alert_key(&signal.dedup_key).await?;
        if bound.is_empty() {
            return Ok(());
        }
        let desk = crate::status::StatusDesk { pages: self.ports.status.clone() };
        for component in bound.into_iter().filter(|c| !c.group) {
            let Some(page) = self.ports.status.page(&component.page_id).await? else { continue };
            let own = page.org.as_ref().map(|org| org.as_str());
            let granted =
                own != Some(key.org.as_str()) && self.ports.status.alert_key_granted(&page.id, &key.id).await?;
            if !access::alert_sets_status(own, key.org.as_str(), granted) {
                continue;
            }
            desk.set_statuses(&page, vec![(component.id, status)], at).await?;
        }
        Ok(())
    }

    async fn apply(&self, w: &mut Working, key: &IntegrationKey, s: &SignalRecord) -> Result<SignalOutcome, AppError> {
        let signal = &s.signal;
        let at = signal.received_at_ms.div_euclid(1000);
        let effect = alert::decide(w.state, signal.action, key.on_resolve);
        if !matches!(effect, Effect::Ignore(_)) {
            self.mark_components(key, signal, at).await?;
        }
        let ticket = w.record.as_ref().map(|r| r.ticket.clone());
        let what = match effect {
            Effect::Open => {
                let id = self.open(key, s).await?;
                w.record = Some(AlertRecord {
                    key: key.id.clone(),
                    dedup_key: signal.dedup_key.clone(),
                    ticket: id.clone(),
                    open: true,
                    acknowledged: false,
                    count: 1,
                    summary: signal.summary.clone(),
                    opened_at: at,
                    last_at: at,
                });
                w.state = alert::after(w.state, effect);
                w.changed = true;
                return Ok(SignalOutcome { what: "opened a ticket".into(), ticket: Some(id) });
            }
            Effect::Repeat => "counted on the open alert".to_string(),
            Effect::Acknowledge => {
                let by = key.actor_name();
                self.event(s, ticket.as_ref(), EventKind::Acknowledged { by }, None).await?;
                "acknowledged its ticket".to_string()
            }
            Effect::Resolve => {
                self.event(s, ticket.as_ref(), EventKind::Resolved { by_customer: false }, None).await?;
                "resolved its ticket".to_string()
            }
            Effect::NoteResolved => {
                let body = format!("{} reports the problem resolved: {}", key.actor_name(), signal.summary);
                let comment = NewComment {
                    id: signal_id("cmt", s),
                    author: UserId(format!("integration:{}", key.id)),
                    public: false,
                    body,
                    in_thread: false,
                };
                let kind = EventKind::Replied { by: key.actor_name(), public: false };
                self.event(s, ticket.as_ref(), kind, Some(comment)).await?;
                "noted on its ticket".to_string()
            }
            Effect::Ignore(why) => return Ok(SignalOutcome { what: format!("ignored: {why}"), ticket }),
        };
        if let Some(r) = w.record.as_mut() {
            if effect == Effect::Repeat {
                r.count += 1;
                r.summary = signal.summary.clone();
            }
            if matches!(effect, Effect::Resolve | Effect::NoteResolved) {
                r.open = false;
            }
            if effect == Effect::Acknowledge {
                r.acknowledged = true;
            }
            r.last_at = r.last_at.max(at);
            w.changed = true;
        }
        w.state = alert::after(w.state, effect);
        Ok(SignalOutcome { what, ticket })
    }

    /// Opens the ticket of a new alert; its id is derived from the signal, so a retry finds
    /// what the first try wrote (the insert refuses an existing id: no read first).
    async fn open(&self, key: &IntegrationKey, s: &SignalRecord) -> Result<TicketId, AppError> {
        let id = TicketId(signal_id("tkt", s));
        let contract = self.ports.commands.contract();
        let map = key.severity.clone().unwrap_or_else(|| SeverityMap::default_for(contract));
        let level = s.signal.level.unwrap_or(AlertLevel::Warning);
        let severity = map.severity(level).clone();
        let kind = EventKind::Opened { org: key.org.clone(), severity, intake: Some(Intake::Alert), security: false };
        let summary: String = s.signal.summary.chars().take(200).collect();
        let description = format!(
            "Raised by {} from {} (deduplication key {}, level {level}).\n\n{}",
            key.actor_name(),
            s.signal.source,
            s.signal.dedup_key,
            s.signal.details
        );
        let details = TicketDetails { subject: summary, description, requester: None };
        let extras = Extras { actor: None, details: Some(details), comment: None, applies: None };
        let now = self.ports.commands.now();
        if let Err(e) = self.ports.commands.record(vec![Event::new(now, id.clone(), kind)], extras).await {
            if self.ports.queries.ticket(&id).await?.is_some() {
                return Ok(id);
            }
            return Err(e);
        }
        Ok(id)
    }

    /// Records one event on an alert's ticket, with the signal's receipt; a ticket already in
    /// that state (a person got there first) or a signal applied before (processed again
    /// after its change committed) is not an error.
    async fn event(
        &self,
        s: &SignalRecord,
        ticket: Option<&TicketId>,
        kind: EventKind,
        comment: Option<NewComment>,
    ) -> Result<(), AppError> {
        let Some(ticket) = ticket else { return Ok(()) };
        let now = self.ports.commands.now();
        let extras = Extras { actor: None, details: None, comment, applies: Some(signal_id("apl", s)) };
        match once(self.ports.commands.record(vec![Event::new(now, ticket.clone(), kind)], extras).await) {
            Ok(_) | Err(AppError::Rejected(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// An id derived from a stored signal: sorts as the signals arrived, the same on every try.
fn signal_id(prefix: &str, s: &SignalRecord) -> String {
    let digest = Sha256::digest(format!("{prefix}|{}|{}", s.id, s.signal.received_at_ms).as_bytes());
    let mut random = [0u8; 10];
    random[..8].copy_from_slice(&(s.id.max(0) as u64).to_be_bytes());
    random[8..].copy_from_slice(&digest[..2]);
    ulid(prefix, s.signal.received_at_ms.max(0) as u64, random)
}

#[cfg(test)]
mod tests;
