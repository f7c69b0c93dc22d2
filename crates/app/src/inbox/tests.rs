//! The intake round's decisions, without SQL: an in-memory inbox with leases, and a way in
//! that logs what it processes and fails or waits where a test says.

use super::*;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Barrier;

/// A stored message of the test way in: its order key and its words.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Message {
    id: i64,
    attempts: i64,
    key: String,
}

impl Stored for Message {
    fn id(&self) -> i64 {
        self.id
    }

    fn attempts(&self) -> i64 {
        self.attempts
    }
}

/// One row of the in-memory inbox.
#[derive(Debug)]
struct Row {
    message: Message,
    claimed_until: Option<i64>,
    settled: bool,
}

/// The inbox as the store keeps it: pending rows claimed in id order with a lease.
#[derive(Default)]
struct MemoryInbox {
    rows: Mutex<Vec<Row>>,
}

#[async_trait]
impl Inbox<Message> for MemoryInbox {
    async fn claim(&self, now: i64, lease_until: i64, limit: i64) -> Result<Vec<Message>, StoreError> {
        let mut rows = self.rows.lock().unwrap();
        let claimable = rows.iter_mut().filter(|r| !r.settled && r.claimed_until.is_none_or(|until| until <= now));
        Ok(claimable
            .take(limit as usize)
            .map(|r| {
                r.claimed_until = Some(lease_until);
                r.message.attempts += 1;
                r.message.clone()
            })
            .collect())
    }
}

impl MemoryInbox {
    fn store(&self, key: &str) -> i64 {
        let mut rows = self.rows.lock().unwrap();
        let id = rows.len() as i64 + 1;
        rows.push(Row { message: Message { id, attempts: 0, key: key.into() }, claimed_until: None, settled: false });
        id
    }
}

/// A way in that logs each message it processes, fails the ids in `failing` once each, and
/// makes the first message of every key in `meet` wait until all of them have begun.
#[derive(Default)]
struct Logged {
    inbox: MemoryInbox,
    processed: Mutex<Vec<i64>>,
    failing: Mutex<HashSet<i64>>,
    meet: Option<(Barrier, HashSet<String>)>,
    refuse_settle: Mutex<bool>,
}

#[async_trait]
impl WayIn for Logged {
    type Item = Message;
    type Key = Vec<i64>;
    type Outcome = String;

    async fn claim(&self, now: i64, lease_until: i64, limit: i64) -> Result<Vec<Message>, AppError> {
        Ok(self.inbox.claim(now, lease_until, limit).await?)
    }

    fn order_key(&self, item: &Message) -> String {
        item.key.clone()
    }

    async fn begin(&self, firsts: &[&Message]) -> Result<Vec<Vec<i64>>, AppError> {
        Ok(vec![Vec::new(); firsts.len()])
    }

    async fn process(&self, seen: &mut Vec<i64>, item: &Message) -> Result<String, AppError> {
        if let Some((barrier, keys)) = &self.meet
            && keys.contains(&item.key)
            && seen.is_empty()
        {
            let met = tokio::time::timeout(Duration::from_secs(5), barrier.wait()).await;
            assert!(met.is_ok(), "keys {keys:?} were not processed at once");
        }
        seen.push(item.id);
        self.processed.lock().unwrap().push(item.id);
        if self.failing.lock().unwrap().remove(&item.id) {
            return Err(AppError::Store(StoreError::Backend(format!("message {} failed", item.id))));
        }
        Ok(format!("{} done", item.id))
    }

    async fn settle(&self, done: &[Done<Logged>]) -> Result<(), AppError> {
        if *self.refuse_settle.lock().unwrap() {
            return Err(AppError::Store(StoreError::Backend("the settle write failed".into())));
        }
        let ids: HashSet<i64> = done.iter().flat_map(|d| &d.settled).map(|(m, _)| m.id).collect();
        let mut rows = self.inbox.rows.lock().unwrap();
        for row in rows.iter_mut().filter(|r| ids.contains(&r.message.id)) {
            row.settled = true;
            row.claimed_until = None;
        }
        Ok(())
    }
}

/// Runs each key's work as a task of the test's runtime.
struct Spawn;

impl Runner for Spawn {
    fn run<T: Send + 'static>(&self, work: Work<T>) -> Work<Option<T>> {
        let task = tokio::spawn(work);
        Box::pin(async move { task.await.ok() })
    }
}

const LEASE: i64 = 15;

async fn round_at(way: &Arc<Logged>, now: i64) -> Report<Logged> {
    round(way, &Spawn, now, now + LEASE, 100).await
}

fn settled_ids(report: &Report<Logged>) -> Vec<i64> {
    let mut ids: Vec<i64> = report.done.iter().flat_map(|d| &d.settled).map(|(m, _)| m.id).collect();
    ids.sort_unstable();
    ids
}

/// The ids processed so far, sorted (different keys' run at once, in any order).
fn processed(way: &Logged) -> Vec<i64> {
    let mut ids = way.processed.lock().unwrap().clone();
    ids.sort_unstable();
    ids
}

/// What each key's processing saw, by key.
fn seen_by_key(report: &Report<Logged>) -> HashMap<String, Vec<i64>> {
    report.done.iter().filter_map(|d| Some((d.settled.first()?.0.key.clone(), d.key.clone()))).collect()
}

#[tokio::test]
async fn one_keys_messages_are_processed_in_the_order_stored() {
    let way = Arc::new(Logged::default());
    for key in ["alice", "bob", "alice", "alice", "bob", "carol"] {
        way.inbox.store(key);
    }
    let report = round_at(&way, 100).await;
    assert_eq!(report.claimed, 6);
    assert!(report.error.is_none());
    let seen = seen_by_key(&report);
    assert_eq!(seen["alice"], [1, 3, 4]);
    assert_eq!(seen["bob"], [2, 5]);
    assert_eq!(seen["carol"], [6]);
    assert_eq!(report.done.len(), 3, "one piece of work per key");
    assert_eq!(settled_ids(&report), [1, 2, 3, 4, 5, 6]);
    assert_eq!(report.settled().count(), 6);
}

#[tokio::test]
async fn different_keys_are_processed_at_once() {
    // Each key's first message waits until the other two keys' have begun: processed one
    // key after another, the round would time out.
    let keys: HashSet<String> = ["alice", "bob", "carol"].map(String::from).into();
    let way = Arc::new(Logged { meet: Some((Barrier::new(3), keys)), ..Logged::default() });
    for key in ["alice", "bob", "carol", "alice"] {
        way.inbox.store(key);
    }
    let report = round_at(&way, 100).await;
    assert_eq!(settled_ids(&report), [1, 2, 3, 4]);
    assert_eq!(report.lost, 0);
}

#[tokio::test]
async fn a_failed_message_stays_claimed_until_its_lease_ends_and_then_comes_back() {
    let way = Arc::new(Logged::default());
    let first = way.inbox.store("alice");
    way.inbox.store("bob");
    way.inbox.store("alice");
    way.failing.lock().unwrap().insert(first);

    let report = round_at(&way, 100).await;
    assert_eq!(report.failures().map(|(id, _)| *id).collect::<Vec<_>>(), [first]);
    assert_eq!(settled_ids(&report), [2], "bob's message is settled; alice's wait");
    assert_eq!(processed(&way), [1, 2], "alice's second message waits behind her first");

    // Within the lease nothing comes back: the failed message and the one behind it are
    // still claimed, and the settled one is done.
    assert_eq!(round_at(&way, 100 + LEASE - 1).await.claimed, 0);

    // Once the lease ends, the failed message comes back (a second attempt), in order.
    let report = round_at(&way, 100 + LEASE).await;
    assert_eq!(report.claimed, 2);
    assert_eq!(settled_ids(&report), [1, 3]);
    assert_eq!(seen_by_key(&report)["alice"], [1, 3]);
    assert_eq!(report.done[0].settled[0].0.attempts, 2);

    // Settled messages never come back.
    assert_eq!(round_at(&way, 10_000).await.claimed, 0);
}

#[tokio::test]
async fn a_settled_message_is_not_claimed_again() {
    let way = Arc::new(Logged::default());
    way.inbox.store("alice");
    assert_eq!(settled_ids(&round_at(&way, 100).await), [1]);
    for now in [100, 100 + LEASE, 10_000] {
        assert_eq!(round_at(&way, now).await.claimed, 0);
    }
    assert_eq!(*way.processed.lock().unwrap(), [1], "processed once");
}

#[tokio::test]
async fn when_settling_fails_the_whole_round_comes_back_after_its_lease() {
    let way = Arc::new(Logged::default());
    way.inbox.store("alice");
    way.inbox.store("bob");
    *way.refuse_settle.lock().unwrap() = true;
    let report = round_at(&way, 100).await;
    assert!(report.error.is_some());
    assert_eq!(report.settled().count(), 0, "nothing counts as settled");
    assert_eq!(round_at(&way, 101).await.claimed, 0, "still leased");

    *way.refuse_settle.lock().unwrap() = false;
    let report = round_at(&way, 100 + LEASE).await;
    assert_eq!(settled_ids(&report), [1, 2]);
    assert_eq!(processed(&way), [1, 1, 2, 2], "processed again: ids derived from them make it harmless");
}

#[tokio::test]
async fn an_empty_inbox_makes_an_empty_round() {
    let way = Arc::new(Logged::default());
    let report = round_at(&way, 100).await;
    assert_eq!((report.claimed, report.done.len(), report.lost), (0, 0, 0));
    assert!(report.error.is_none());
}

/// A way in whose every message acknowledges one ticket through the real [`crate::Desk`]
/// (over memory), each change carrying its message's receipt; its settle fails while
/// `refuse_settle` is set, as a server stopped between a change and the round's settle.
struct Acknowledging {
    inbox: MemoryInbox,
    world: Arc<crate::fakes::World>,
    ticket: stringer_core::ids::TicketId,
    refuse_settle: Mutex<bool>,
}

#[async_trait]
impl WayIn for Acknowledging {
    type Item = Message;
    type Key = ();
    type Outcome = &'static str;

    async fn claim(&self, now: i64, lease_until: i64, limit: i64) -> Result<Vec<Message>, AppError> {
        Ok(self.inbox.claim(now, lease_until, limit).await?)
    }

    fn order_key(&self, m: &Message) -> String {
        m.key.clone()
    }

    async fn begin(&self, firsts: &[&Message]) -> Result<Vec<()>, AppError> {
        Ok(vec![(); firsts.len()])
    }

    async fn process(&self, _: &mut (), m: &Message) -> Result<&'static str, AppError> {
        use crate::ports::Commands;
        use stringer_core::event::{Event, EventKind};
        let ack = Event::new(self.world.now(), self.ticket.clone(), EventKind::Acknowledged { by: m.key.clone() });
        let extras = crate::store::Extras { applies: Some(format!("msg:{}", m.id)), ..Default::default() };
        Ok(match once(self.world.record(vec![ack], extras).await)? {
            Some(_) => "acknowledged",
            None => "acknowledged before",
        })
    }

    async fn settle(&self, done: &[Done<Acknowledging>]) -> Result<(), AppError> {
        if *self.refuse_settle.lock().unwrap() {
            return Err(AppError::Store(StoreError::Backend("the server stopped".into())));
        }
        let ids: HashSet<i64> = done.iter().flat_map(|d| &d.settled).map(|(m, _)| m.id).collect();
        for row in self.inbox.rows.lock().unwrap().iter_mut().filter(|r| ids.contains(&r.message.id)) {
            row.settled = true;
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_message_processed_again_after_its_change_committed_changes_its_ticket_once() {
    use crate::ports::Commands;
    use crate::store::Extras;
    use stringer_core::event::{Event, EventKind};
    use stringer_core::ids::{Intake, OrgSlug, Severity, TicketId};
    let world = crate::fakes::World::new(
        stringer_core::contract::Contract::default_contract(),
        "2026-03-02T10:00:00Z".parse().unwrap(),
    );
    world.add_org(crate::fakes::org("acme", "enterprise")).await;
    let ticket = TicketId::from("tkt_1");
    let opened = EventKind::Opened {
        org: OrgSlug::from("acme"),
        severity: Severity::from("P1"),
        intake: Some(Intake::Alert),
        security: false,
    };
    world.record(vec![Event::new(world.now(), ticket.clone(), opened)], Extras::default()).await.unwrap();
    let way = Arc::new(Acknowledging {
        inbox: MemoryInbox::default(),
        world: world.clone(),
        ticket: ticket.clone(),
        refuse_settle: Mutex::new(true),
    });
    way.inbox.store("monitor");
    let acknowledgements = || {
        let timeline = world.desk.store().timeline(&ticket);
        timeline
            .iter()
            .filter(|e| {
                matches!(e, crate::memory_store::TimelineEntry::Event(ev) if matches!(ev.kind, EventKind::Acknowledged { .. }))
            })
            .count()
    };

    // The change commits, then the server stops before the round settles the message.
    let report = round(&way, &Spawn, 100, 100 + LEASE, 100).await;
    assert!(report.error.is_some(), "not settled");
    assert_eq!(acknowledgements(), 1);

    // After its lease the message comes back and is processed again: its receipt committed
    // with the change, so the ticket is not acknowledged a second time.
    *way.refuse_settle.lock().unwrap() = false;
    let report = round(&way, &Spawn, 100 + LEASE, 100 + 2 * LEASE, 100).await;
    assert!(report.error.is_none());
    assert_eq!(report.settled().copied().collect::<Vec<_>>(), ["acknowledged before"]);
    assert_eq!(acknowledgements(), 1, "applied once");
    assert_eq!(round(&way, &Spawn, 10_000, 10_000 + LEASE, 100).await.claimed, 0, "settled");
}
