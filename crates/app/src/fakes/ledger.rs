//! The ledger's book in memory: a log whose size the test sets, with its keys and heads.

use crate::ledger::{LeafRow, LedgerBook, LogKey, LogState};
use crate::store::StoreError;
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use stringer_core::ids::TicketId;
use stringer_ledger::Hash;
use stringer_ledger::head::SignedHead;
use stringer_ledger::tree::Node;

/// A log of `size` leaves (root and id made up) with its keys and heads in memory.
#[derive(Default)]
pub struct MemoryLedger {
    /// Leaves appended.
    pub size: Mutex<u64>,
    /// The log's keys, oldest first.
    pub keys: Mutex<Vec<LogKey>>,
    /// Signed heads by tree size.
    pub heads: Mutex<BTreeMap<u64, SignedHead>>,
}

#[async_trait]
impl LedgerBook for MemoryLedger {
    async fn log_state(&self) -> Result<LogState, StoreError> {
        let size = *self.size.lock().unwrap();
        Ok(LogState { log_id: [7; 32], size, root: [size as u8; 32] })
    }
    async fn subtrees(&self, _: &[Node]) -> Result<HashMap<Node, Hash>, StoreError> {
        Ok(HashMap::new())
    }
    async fn ticket_leaves(&self, _: &TicketId) -> Result<Vec<LeafRow>, StoreError> {
        Ok(Vec::new())
    }
    async fn report_leaves(
        &self,
        _: &TicketId,
    ) -> Result<Vec<(crate::ledger_sources::PublicationRow, u64, stringer_ledger::encode::Secret)>, StoreError> {
        Ok(Vec::new())
    }
    async fn review_leaf(
        &self,
        _: &str,
        _: &str,
    ) -> Result<Option<(crate::ledger_sources::FiguresRow, u64, stringer_ledger::encode::Secret)>, StoreError> {
        Ok(None)
    }
    async fn log_keys(&self) -> Result<Vec<LogKey>, StoreError> {
        Ok(self.keys.lock().unwrap().clone())
    }
    async fn add_log_key(&self, position: u64, key: &LogKey) -> Result<bool, StoreError> {
        let mut keys = self.keys.lock().unwrap();
        if keys.len() as u64 != position {
            return Ok(false);
        }
        keys.push(key.clone());
        Ok(true)
    }
    async fn latest_head(&self) -> Result<Option<SignedHead>, StoreError> {
        Ok(self.heads.lock().unwrap().values().last().copied())
    }
    async fn head_signed_by(&self, at: u64) -> Result<Option<SignedHead>, StoreError> {
        Ok(self.heads.lock().unwrap().values().rev().find(|h| h.head.timestamp <= at).copied())
    }
    async fn heads_after(&self, after: Option<u64>, limit: u64) -> Result<Vec<SignedHead>, StoreError> {
        Ok(self
            .heads
            .lock()
            .unwrap()
            .range(after.map_or(0, |a| a + 1)..)
            .take(limit as usize)
            .map(|(_, h)| *h)
            .collect())
    }
    async fn record_head(&self, head: &SignedHead) -> Result<(), StoreError> {
        self.heads.lock().unwrap().entry(head.head.tree_size).or_insert(*head);
        Ok(())
    }
}
