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
