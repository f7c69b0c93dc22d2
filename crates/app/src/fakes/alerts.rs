//! Monitoring's way in, in memory: integration keys, stored signals and alerts; and a
//! runner for intake rounds on the test's own task.

// The stubs answer the same error whatever they are asked.
#![allow(unused_variables)]

use super::{World, absent};
use crate::alerts::{AlertRecord, Alerts, ChangeRecord, IntegrationKey, Signal, SignalOutcome, SignalRecord};
use crate::inbox::{Inbox, Runner, Work};
use crate::store::StoreError;
use async_trait::async_trait;
use std::sync::{Arc, Mutex};
use stringer_core::ids::{OrgSlug, TicketId};

/// Runs each key's work of an intake round in turn, on the test's own task.
pub struct Inline;

impl Runner for Inline {
    fn run<T: Send + 'static>(&self, work: Work<T>) -> Work<Option<T>> {
        Box::pin(async move { Some(work.await) })
    }
}

/// One stored signal: the record as claimed, its lease, and what it came to once settled.
struct SignalRow {
    record: SignalRecord,
    leased_until: Option<i64>,
    outcome: Option<SignalOutcome>,
}

/// Integration keys, stored signals and alerts in memory; an alert's ticket is resolved as
/// the [`World`] says.
pub struct MemoryAlerts {
    world: Arc<World>,
    /// The keys.
    pub keys: Mutex<Vec<IntegrationKey>>,
    signals: Mutex<Vec<SignalRow>>,
    /// The alerts, as last finished.
    pub alerts: Mutex<Vec<AlertRecord>>,
}

impl MemoryAlerts {
    /// No keys, signals or alerts; tickets as `world` has them.
    pub fn new(world: Arc<World>) -> MemoryAlerts {
        MemoryAlerts { world, keys: Mutex::default(), signals: Mutex::default(), alerts: Mutex::default() }
    }

    /// What each settled signal came to, in the order stored (`None`: not settled).
    pub fn outcomes(&self) -> Vec<Option<SignalOutcome>> {
        self.signals.lock().unwrap().iter().map(|r| r.outcome.clone()).collect()
    }
}

#[async_trait]
impl Inbox<SignalRecord> for MemoryAlerts {
    async fn claim(&self, now: i64, lease_until: i64, limit: i64) -> Result<Vec<SignalRecord>, StoreError> {
        let mut rows = self.signals.lock().unwrap();
        let rows = rows.iter_mut().map(|r| (&mut r.leased_until, r.outcome.is_some(), &mut r.record));
        Ok(super::claim_held(rows, (now, lease_until, limit), |r| &mut r.attempts))
    }
}

#[async_trait]
impl Alerts for MemoryAlerts {
    async fn insert_key(&self, key: &IntegrationKey) -> Result<(), StoreError> {
        self.keys.lock().unwrap().push(key.clone());
        Ok(())
    }

    async fn key(&self, id: &str) -> Result<Option<IntegrationKey>, StoreError> {
        Ok(self.keys.lock().unwrap().iter().find(|k| k.id == id).cloned())
    }

    async fn key_by_hash(&self, secret_hash: &str) -> Result<Option<IntegrationKey>, StoreError> {
        Ok(self.keys.lock().unwrap().iter().find(|k| k.secret_hash == secret_hash).cloned())
    }

    async fn keys(&self, org: &OrgSlug) -> Result<Vec<IntegrationKey>, StoreError> {
        Ok(self.keys.lock().unwrap().iter().rev().filter(|k| &k.org == org).cloned().collect())
    }

    async fn revoke_key(&self, id: &str, at: i64) -> Result<bool, StoreError> {
        let mut keys = self.keys.lock().unwrap();
        let Some(live) = keys.iter_mut().find(|k| k.id == id && k.revoked_at.is_none()) else { return Ok(false) };
        live.revoked_at = Some(at);
        Ok(true)
    }

    async fn accept_signal(&self, signal: &Signal) -> Result<i64, StoreError> {
        let mut rows = self.signals.lock().unwrap();
        let id = rows.len() as i64 + 1;
        let record = SignalRecord { id, signal: signal.clone(), attempts: 0 };
        rows.push(SignalRow { record, leased_until: None, outcome: None });
        Ok(id)
    }

    async fn finish(
        &self,
        settled: &[(i64, SignalOutcome)],
        alerts: &[AlertRecord],
        at: i64,
    ) -> Result<(), StoreError> {
        let mut rows = self.signals.lock().unwrap();
        for (id, outcome) in settled {
            if let Some(row) = rows.iter_mut().find(|r| r.record.id == *id) {
                row.outcome = Some(outcome.clone());
            }
        }
        let mut stored = self.alerts.lock().unwrap();
        for a in alerts {
            stored.retain(|s| (&s.key, &s.dedup_key) != (&a.key, &a.dedup_key));
            stored.push(a.clone());
        }
        Ok(())
    }

    async fn keys_by_id(&self, ids: &[String]) -> Result<Vec<IntegrationKey>, StoreError> {
        Ok(self.keys.lock().unwrap().iter().filter(|k| ids.contains(&k.id)).cloned().collect())
    }

    async fn alerts_of(&self, ids: &[(String, String)]) -> Result<Vec<(AlertRecord, bool)>, StoreError> {
        let named: Vec<AlertRecord> = self
            .alerts
            .lock()
            .unwrap()
            .iter()
            .filter(|a| ids.iter().any(|(k, d)| (k, d) == (&a.key, &a.dedup_key)))
            .cloned()
            .collect();
        let mut found = Vec::new();
        for a in named {
            let stored = crate::Store::ticket(self.world.desk.store(), &a.ticket).await?;
            let resolved = stored.is_some_and(|t| t.ticket.status == stringer_core::ticket::Status::Resolved);
            found.push((a, resolved));
        }
        Ok(found)
    }

    async fn insert_change(&self, change: &ChangeRecord) -> Result<i64, StoreError> {
        Err(absent("insert_change"))
    }

    async fn changes(&self, org: &OrgSlug, from: i64, to: i64, limit: i64) -> Result<Vec<ChangeRecord>, StoreError> {
        Err(absent("changes"))
    }

    async fn alerts_of_ticket(&self, ticket: &TicketId) -> Result<Vec<AlertRecord>, StoreError> {
        Ok(self.alerts.lock().unwrap().iter().filter(|a| &a.ticket == ticket).cloned().collect())
    }
}
