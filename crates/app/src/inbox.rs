//! One way in for what the doors hand over — received mail, monitoring signals, channel
//! messages. Each door stores its item before it answers (a 2xx or an SMTP 250 means it is
//! stored durably); [`round`] then takes the stored items from there, the same for every kind:
//!
//! 1. **claim** a batch with a lease ([`Inbox::claim`]): the items are hidden from other
//!    rounds (and instances) until the lease ends, and each claim counts an attempt;
//! 2. **order**: group the batch by each item's order key ([`WayIn::order_key`]: a sender's
//!    mail, an alert's signals, a channel's messages); one key's items are processed one
//!    after the other in the order stored, different keys' at once (each on the [`Runner`]);
//! 3. **settle** what was processed, for every key in one write ([`WayIn::settle`]): a
//!    settled item is never claimed again.
//!
//! An item whose processing failed is not settled: it stays claimed until its lease ends and
//! comes back in a later round, and the items after it under its key wait with it, so the
//! order holds. Processing an item twice (a crash between processing and settling, a lease
//! that ran out) is harmless: every id processing makes is derived from the stored item (a
//! ticket opened or a comment written is found under it), and a ticket change with no such
//! id (a monitoring signal's acknowledgement or resolution) carries its item's receipt
//! ([`crate::store::Extras::applies`]), which commits in the change's transaction — an item
//! processed again after its change committed finds its receipt and changes nothing
//! ([`once`]), while what processing carries from one item to the next (an alert's state) is
//! decided again the same way and settled with it.

use crate::desk::AppError;
use crate::outcome::Recorded;
use crate::store::StoreError;
use async_trait::async_trait;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// What recording an item's ticket change came to, a change its item applied before counted
/// as done (`None`): the item was processed again after its change committed, since the server
/// stopped before settling it or its lease ran out.
pub fn once(recorded: Result<Recorded, AppError>) -> Result<Option<Recorded>, AppError> {
    match recorded {
        Ok(recorded) => Ok(Some(recorded)),
        Err(AppError::Store(StoreError::Applied(_))) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A stored item, as claimed.
pub trait Stored: Send + Sync + 'static {
    /// Its sequence number: the order the doors stored it in.
    fn id(&self) -> i64;
    /// Processing attempts so far, this one included.
    fn attempts(&self) -> i64;
}

/// Where one kind of item waits once a door stored it.
#[async_trait]
pub trait Inbox<T>: Send + Sync {
    /// Claims up to `limit` pending items whose lease ran out (or never began), in the order
    /// stored, hiding them from other claims until `lease_until` (Unix seconds) and counting
    /// an attempt on each.
    async fn claim(&self, now: i64, lease_until: i64, limit: i64) -> Result<Vec<T>, StoreError>;
}

/// Work that may run on another thread.
pub type Work<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Runs one key's work beside the others' (the engine spawns it on its runtime, so a slow
/// key delays no other).
pub trait Runner: Send + Sync {
    /// Starts `work` at once; answers what it came to, or `None` when it ended without
    /// finishing (a panic: the runner counts it, and its items come back by their lease).
    fn run<T: Send + 'static>(&self, work: Work<T>) -> Work<Option<T>>;
}

/// One way in: how its stored items are claimed, ordered, processed and settled.
#[async_trait]
pub trait WayIn: Send + Sync + 'static {
    /// A claimed item as processing takes it (mail: with its letter read).
    type Item: Stored;
    /// What processing one key's items carries from one item to the next (an alert's key
    /// and state; nothing for mail and channel messages).
    type Key: Send + 'static;
    /// What processing one item came to.
    type Outcome: Send + 'static;

    /// Claims up to `limit` items from its [`Inbox`], leased until `lease_until`, read for
    /// processing.
    async fn claim(&self, now: i64, lease_until: i64, limit: i64) -> Result<Vec<Self::Item>, AppError>;
    /// The key whose items are processed one after the other, in the order stored.
    fn order_key(&self, item: &Self::Item) -> String;
    /// What each key's processing starts from, for a whole round at once (so a kind that
    /// needs to read something per key reads it for all keys in one go): `firsts` holds each
    /// key's first item; the answer has one entry per key, in the same order.
    async fn begin(&self, firsts: &[&Self::Item]) -> Result<Vec<Self::Key>, AppError>;
    /// Processes one item. An error leaves it unsettled (it comes back once its lease ends)
    /// and stops its key's later items for this round.
    async fn process(&self, key: &mut Self::Key, item: &Self::Item) -> Result<Self::Outcome, AppError>;
    /// Records what the round's keys came to, in one write: each processed item's outcome
    /// (it is not claimed again) and each key's state.
    async fn settle(&self, done: &[Done<Self>]) -> Result<(), AppError>;
}

/// What processing one key's items came to.
pub struct Done<I: WayIn + ?Sized> {
    /// The key's state after its items.
    pub key: I::Key,
    /// The items processed, each with what it came to, in order.
    pub settled: Vec<(I::Item, I::Outcome)>,
    /// The item whose processing failed (its id) and why; it and the key's later items come
    /// back.
    pub failed: Option<(i64, AppError)>,
}

/// What one round did.
pub struct Report<I: WayIn> {
    /// How many items it claimed.
    pub claimed: usize,
    /// What each key's processing came to.
    pub done: Vec<Done<I>>,
    /// Keys whose work ended without finishing (their items come back).
    pub lost: usize,
    /// Why the round stopped before settling (claiming, beginning or settling failed):
    /// nothing of it is settled, and its items come back.
    pub error: Option<AppError>,
}

impl<I: WayIn> Report<I> {
    /// The outcomes the round settled (none when settling failed).
    pub fn settled(&self) -> impl Iterator<Item = &I::Outcome> {
        let kept = self.error.is_none();
        self.done.iter().filter(move |_| kept).flat_map(|d| d.settled.iter().map(|(_, outcome)| outcome))
    }

    /// The items whose processing failed, with why.
    pub fn failures(&self) -> impl Iterator<Item = &(i64, AppError)> {
        self.done.iter().filter_map(|d| d.failed.as_ref())
    }
}

/// One round of an intake: claims up to `limit` items leased until `lease_until`, processes
/// each key's in order and different keys' at once on `runner`, and settles what was
/// processed in one write (see the module's description).
pub async fn round<I: WayIn, R: Runner>(
    intake: &Arc<I>,
    runner: &R,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> Report<I> {
    let mut report = Report { claimed: 0, done: Vec::new(), lost: 0, error: None };
    let claimed = match intake.claim(now, lease_until, limit).await {
        Ok(claimed) => claimed,
        Err(e) => {
            report.error = Some(e);
            return report;
        }
    };
    report.claimed = claimed.len();
    let groups = by_key(claimed, |item| intake.order_key(item));
    if groups.is_empty() {
        return report;
    }
    let firsts: Vec<&I::Item> = groups.iter().map(|items| &items[0]).collect();
    let keys = match intake.begin(&firsts).await {
        Ok(keys) if keys.len() == groups.len() => keys,
        Ok(keys) => {
            let why = format!("{} keys began for {} keys", keys.len(), groups.len());
            report.error = Some(AppError::Store(StoreError::Backend(why)));
            return report;
        }
        Err(e) => {
            report.error = Some(e);
            return report;
        }
    };
    let running: Vec<_> = keys
        .into_iter()
        .zip(groups)
        .map(|(key, items)| runner.run(Box::pin(process_key(intake.clone(), key, items))))
        .collect();
    for work in running {
        match work.await {
            Some(done) => report.done.push(done),
            None => report.lost += 1,
        }
    }
    if report.done.iter().any(|d| !d.settled.is_empty())
        && let Err(e) = intake.settle(&report.done).await
    {
        report.error = Some(e);
    }
    report
}

/// Processes one key's items in order, stopping at the first that fails.
async fn process_key<I: WayIn>(intake: Arc<I>, mut key: I::Key, items: Vec<I::Item>) -> Done<I> {
    let mut settled = Vec::with_capacity(items.len());
    for item in items {
        match intake.process(&mut key, &item).await {
            Ok(outcome) => settled.push((item, outcome)),
            Err(e) => return Done { key, settled, failed: Some((item.id(), e)) },
        }
    }
    Done { key, settled, failed: None }
}

/// The items grouped by key, the groups in the order of their first items, each group in
/// the order of the batch.
fn by_key<T>(items: Vec<T>, key: impl Fn(&T) -> String) -> Vec<Vec<T>> {
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut groups: Vec<Vec<T>> = Vec::new();
    for item in items {
        let k = key(&item);
        match index.get(&k) {
            Some(&i) => groups[i].push(item),
            None => {
                index.insert(k, groups.len());
                groups.push(vec![item]);
            }
        }
    }
    groups
}

#[cfg(test)]
mod tests;
