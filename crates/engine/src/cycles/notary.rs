//! The **notary**: signs the ledger's tree head (docs/ledger.md §6.2) at least once a minute
//! while the log grows, and never while it does not — an idle server stays idle. When a head
//! is due is the application's decision (`stringer_app::ledger::notary::due`); this cycle only
//! asks every [`NOTARY_PERIOD`].

use crate::cycle::{Cycle, Step};
use crate::pacing::Pacing;
use crate::supervisor::Pulse;
use std::sync::Arc;
use std::time::Duration;
use stringer_app::ledger::Notary;

/// How often the notary asks whether a head is due; with the application's spacing between
/// heads, a new entry is under a signed head within a minute.
const NOTARY_PERIOD: Duration = Duration::from_secs(15);

/// Signs a head whenever one is due.
pub(crate) struct NotaryCycle {
    pub(crate) notary: Arc<Notary>,
}

impl Cycle for NotaryCycle {
    fn name(&self) -> &'static str {
        "notary"
    }

    fn pacing(&self) -> Pacing {
        Pacing::new(NOTARY_PERIOD, NOTARY_PERIOD)
    }

    async fn step(&mut self, _pulse: &Pulse) -> Step {
        match self.notary.sign_due().await {
            Ok(Some(head)) => {
                tracing::info!(tree_size = head.head.tree_size, "signed the ledger's tree head");
                Step::of(1, 2)
            }
            Ok(None) => Step::empty(),
            Err(e) => {
                tracing::warn!(error = %e, "signing the ledger's tree head failed");
                Step::failed()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use jiff::Timestamp;
    use std::collections::{BTreeMap, HashMap};
    use std::sync::Mutex;
    use stringer_app::ledger::notary::HEAD_SPACING_SECONDS;
    use stringer_app::ledger::{LeafRow, LedgerBook, LogKey, LogState};
    use stringer_app::{StoreError, VirtualClock};
    use stringer_core::ids::TicketId;
    use stringer_ledger::Hash;
    use stringer_ledger::head::{SignedHead, SigningKey};
    use stringer_ledger::tree::Node;

    /// A log whose size the test sets, with its keys and heads in memory.
    #[derive(Default)]
    struct Book {
        size: Mutex<u64>,
        keys: Mutex<Vec<LogKey>>,
        heads: Mutex<BTreeMap<u64, SignedHead>>,
    }

    #[async_trait]
    impl LedgerBook for Book {
        async fn log_state(&self) -> Result<LogState, StoreError> {
            let size = *self.size.lock().unwrap();
            Ok(LogState { log_id: [1; 32], size, root: [size as u8; 32] })
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
        ) -> Result<Vec<(stringer_app::ledger_sources::PublicationRow, u64, stringer_ledger::encode::Secret)>, StoreError>
        {
            Ok(Vec::new())
        }
        async fn review_leaf(
            &self,
            _: &str,
            _: &str,
        ) -> Result<Option<(stringer_app::ledger_sources::FiguresRow, u64, stringer_ledger::encode::Secret)>, StoreError>
        {
            Ok(None)
        }
        async fn log_keys(&self) -> Result<Vec<LogKey>, StoreError> {
            Ok(self.keys.lock().unwrap().clone())
        }
        async fn add_log_key(&self, position: u64, key: &LogKey) -> Result<bool, StoreError> {
            let mut keys = self.keys.lock().unwrap();
            let free = keys.len() as u64 == position;
            if free {
                keys.push(key.clone());
            }
            Ok(free)
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

    /// Stepped, not slept: the clock is moved by hand between steps.
    #[tokio::test]
    async fn the_notary_signs_only_when_the_log_grew() {
        let book = Arc::new(Book::default());
        let start = Timestamp::from_second(1_767_225_600).unwrap();
        let clock = Arc::new(VirtualClock::new(start));
        let notary = Notary::open(book.clone(), SigningKey::from_bytes(&[9; 32]), clock.clone()).await.unwrap();
        let mut cycle = NotaryCycle { notary: Arc::new(notary) };
        let pulse = Pulse::new("notary", Duration::from_secs(60));
        let sizes = |book: &Book| book.heads.lock().unwrap().keys().copied().collect::<Vec<_>>();
        assert_eq!(cycle.step(&pulse).await.items, 1, "the empty log's first head");
        let later = |s: u64| Timestamp::from_second(start.as_second() + s as i64).unwrap();
        // An idle log: a step an hour later signs nothing.
        clock.set(later(3600));
        let idle = cycle.step(&pulse).await;
        assert_eq!((idle.items, idle.errors), (0, 0));
        assert_eq!(sizes(&book), [0]);
        // The log grew: the next step signs its head, and the one after does not.
        *book.size.lock().unwrap() = 5;
        assert_eq!(cycle.step(&pulse).await.items, 1);
        assert_eq!(cycle.step(&pulse).await.items, 0);
        // Grown again within the spacing: signed only once the spacing has passed.
        *book.size.lock().unwrap() = 8;
        clock.set(later(3600 + HEAD_SPACING_SECONDS - 1));
        assert_eq!(cycle.step(&pulse).await.items, 0);
        clock.set(later(3600 + HEAD_SPACING_SECONDS));
        assert_eq!(cycle.step(&pulse).await.items, 1);
        assert_eq!(sizes(&book), [0, 5, 8]);
    }
}
