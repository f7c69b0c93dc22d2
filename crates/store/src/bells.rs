//! Doorbells: the store rings one when a commit of this process left work for a background
//! cycle — outbox records for the dispatcher, received mail for the mailroom, monitoring
//! signals and channel messages for their intakes — so that cycle starts at once instead of
//! on its next poll. Work stored by another instance is still found by the cycles' polls;
//! the bells only make this instance's own work prompt and let an idle server poll rarely.

use std::sync::Arc;
use tokio::sync::Notify;

/// The store's doorbells (see the module docs). Cloning shares them.
#[derive(Clone, Debug, Default)]
pub struct Bells {
    /// A ticket change committed outbox records (pages, settle jobs, customer letters).
    pub outbox: Arc<Notify>,
    /// Received mail was stored.
    pub mail: Arc<Notify>,
    /// Monitoring signals were stored.
    pub signals: Arc<Notify>,
    /// A message from an org's shared channel was stored.
    pub chat: Arc<Notify>,
}
