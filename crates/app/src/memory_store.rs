//! An in-memory [`Store`]: the simulator's adapter. Same contract as the SQL stores (atomic
//! changes, version checks, ordered timers), no durability.

use crate::store::{Change, Store, StoreError, StoredTicket, Timer};
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Mutex;
use stringer_core::event::{Event, Notice, TimerKind, TimerOp, apply_timer_ops};
use stringer_core::ids::{Deployment, OrgSlug, TicketId, UserRole};
use stringer_core::oncall::Schedule;
use stringer_core::routing::{Roster, StaffMember};
use stringer_core::ticket::{OrgProfile, Ticket};

/// One entry of a ticket's append-only timeline.
#[derive(Clone, Debug, PartialEq)]
pub enum TimelineEntry {
    /// Something that happened.
    Event(Event),
    /// Something the rules decided.
    Notice(Notice),
}

/// An org's people: its TAM and named engineers.
#[derive(Clone, Debug, Default)]
struct OrgPeople {
    tam: Option<String>,
    named_engineers: Vec<String>,
}

#[derive(Default)]
struct Inner {
    orgs: HashMap<OrgSlug, OrgProfile>,
    people: HashMap<OrgSlug, OrgPeople>,
    schedules: Vec<(Option<OrgSlug>, Schedule)>,
    staff: Vec<StaffMember>,
    tickets: HashMap<TicketId, (Ticket, u64)>,
    /// Every pending timer, earliest first: what the sweep claims from.
    timers: BTreeSet<(Timestamp, TicketId, TimerKind)>,
    /// Each ticket's pending timers, kept by [`apply_timer_ops`].
    pending: HashMap<TicketId, BTreeMap<TimerKind, Timestamp>>,
    claimed_until: HashMap<(TicketId, TimerKind), Timestamp>,
    timelines: HashMap<TicketId, Vec<TimelineEntry>>,
    /// The receipts of the inbox items changes applied.
    applied: HashSet<String>,
    /// Tickets the caller is done with, kept until their last timer has run.
    finished: HashSet<TicketId>,
}

/// The in-memory store.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    /// Whether tickets' timelines are kept (the simulator, which prints notices as they come,
    /// reads none).
    no_timelines: bool,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// An empty store that keeps no timeline: [`MemoryStore::timeline`] is always empty.
    pub fn without_timelines() -> MemoryStore {
        MemoryStore { no_timelines: true, ..MemoryStore::default() }
    }

    /// A ticket's timeline, oldest first.
    pub fn timeline(&self, ticket: &TicketId) -> Vec<TimelineEntry> {
        self.lock().timelines.get(ticket).cloned().unwrap_or_default()
    }

    /// A ticket's pending timers: when each kind fires.
    pub fn timers(&self, ticket: &TicketId) -> BTreeMap<TimerKind, Timestamp> {
        self.lock().pending.get(ticket).cloned().unwrap_or_default()
    }

    /// Sets an org's TAM and named engineers.
    pub fn set_org_people(&self, org: &OrgSlug, tam: Option<String>, named_engineers: Vec<String>) {
        self.lock().people.insert(org.clone(), OrgPeople { tam, named_engineers });
    }

    /// Adds (or replaces, by id) a staff member.
    pub fn add_staff(&self, member: StaffMember) {
        let mut inner = self.lock();
        inner.staff.retain(|m| m.id != member.id);
        inner.staff.push(member);
    }

    /// The caller will name this ticket no more (the simulator has played its last event):
    /// the ticket, its timeline and its claims go once none of its timers is pending — now,
    /// or when the change that ends its last timer commits.
    pub fn finish(&self, ticket: &TicketId) {
        let mut inner = self.lock();
        if inner.pending.contains_key(ticket) {
            inner.finished.insert(ticket.clone());
        } else {
            inner.forget(ticket);
        }
    }

    /// Adds an on-call schedule: of an org, or platform-wide (`None`).
    pub fn add_schedule(&self, org: Option<OrgSlug>, schedule: Schedule) {
        self.lock().schedules.push((org, schedule));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Inner {
    /// Drops a finished ticket without pending timers.
    fn forget(&mut self, ticket: &TicketId) {
        self.finished.remove(ticket);
        self.tickets.remove(ticket);
        self.timelines.remove(ticket);
        self.claimed_until.retain(|(t, _), _| t != ticket);
    }

    /// Applies a change's timer ops to its ticket: the last op on a kind wins; every kind
    /// an op names is free to be claimed again.
    fn change_timers(&mut self, ticket: &TicketId, ops: &[TimerOp]) {
        if ops.is_empty() {
            return;
        }
        let pending = self.pending.entry(ticket.clone()).or_default();
        let before = pending.clone();
        apply_timer_ops(pending, ops);
        for op in ops {
            let key = (ticket.clone(), op.kind().clone());
            self.claimed_until.remove(&key);
            if let Some(old) = before.get(&key.1) {
                self.timers.remove(&(*old, key.0.clone(), key.1.clone()));
            }
            if let Some(at) = pending.get(&key.1) {
                self.timers.insert((*at, key.0, key.1));
            }
        }
        if pending.is_empty() {
            self.pending.remove(ticket);
        }
    }
}

impl Store for MemoryStore {
    async fn put_org(&self, org: OrgProfile) -> Result<(), StoreError> {
        self.lock().orgs.insert(org.slug.clone(), org);
        Ok(())
    }

    async fn org(&self, slug: &OrgSlug) -> Result<Option<OrgProfile>, StoreError> {
        Ok(self.lock().orgs.get(slug).cloned())
    }

    async fn ticket(&self, id: &TicketId) -> Result<Option<StoredTicket>, StoreError> {
        Ok(self
            .lock()
            .tickets
            .get(id)
            .map(|(ticket, version)| StoredTicket { ticket: ticket.clone(), version: *version }))
    }

    async fn tickets(&self, ids: &[TicketId]) -> Result<Vec<StoredTicket>, StoreError> {
        let inner = self.lock();
        Ok(ids
            .iter()
            .filter_map(|id| inner.tickets.get(id))
            .map(|(ticket, version)| StoredTicket { ticket: ticket.clone(), version: *version })
            .collect())
    }

    async fn commit_all(&self, changes: Vec<Change>) -> Vec<Result<(), StoreError>> {
        let mut out = Vec::with_capacity(changes.len());
        for change in changes {
            out.push(self.commit(change).await);
        }
        out
    }

    async fn commit(&self, change: Change) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let id = change.ticket.id.clone();
        let current = inner.tickets.get(&id).map(|(_, v)| *v);
        if let Some(receipt) = change.extras.applies.as_ref().filter(|r| inner.applied.contains(*r)) {
            return Err(StoreError::Applied(receipt.clone()));
        }
        if current != change.expected_version {
            return Err(StoreError::Conflict(id));
        }
        if let Some(receipt) = change.extras.applies {
            inner.applied.insert(receipt);
        }
        inner.change_timers(&id, &change.timers);
        if !self.no_timelines {
            let timeline = inner.timelines.entry(id.clone()).or_default();
            timeline.extend(change.events.into_iter().map(TimelineEntry::Event));
            timeline.extend(change.notices.into_iter().map(TimelineEntry::Notice));
        }
        if inner.finished.contains(&id) && !inner.pending.contains_key(&id) {
            inner.forget(&id);
        } else {
            inner.tickets.insert(id, (change.ticket, current.map_or(1, |v| v + 1)));
        }
        Ok(())
    }

    async fn claim_due_timers(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<Timer>, StoreError> {
        let mut inner = self.lock();
        let free = |claims: &HashMap<(TicketId, TimerKind), Timestamp>, ticket: &TicketId, kind: &TimerKind| {
            claims.get(&(ticket.clone(), kind.clone())).is_none_or(|until| *until <= now)
        };
        let due: Vec<Timer> = inner
            .timers
            .iter()
            .take_while(|(at, _, _)| *at <= now)
            .filter(|(_, ticket, kind)| free(&inner.claimed_until, ticket, kind))
            .take(limit)
            .map(|(at, ticket, kind)| Timer { ticket: ticket.clone(), kind: kind.clone(), at: *at })
            .collect();
        for t in &due {
            inner.claimed_until.insert((t.ticket.clone(), t.kind.clone()), lease_until);
        }
        Ok(due)
    }

    async fn release_timer(&self, timer: &Timer) -> Result<(), StoreError> {
        self.lock().claimed_until.remove(&(timer.ticket.clone(), timer.kind.clone()));
        Ok(())
    }

    async fn next_timer(&self) -> Result<Option<Timer>, StoreError> {
        Ok(self.lock().timers.first().map(|(at, ticket, kind)| Timer {
            ticket: ticket.clone(),
            kind: kind.clone(),
            at: *at,
        }))
    }

    async fn roster(&self, org: &OrgSlug) -> Result<Roster, StoreError> {
        let inner = self.lock();
        let profile = inner.orgs.get(org).ok_or_else(|| StoreError::Missing(format!("org {org}")))?;
        let people = inner.people.get(org).cloned().unwrap_or_default();
        // The org's TAM and named engineers are staff who serve it (the server refuses anyone
        // who may not), unless the scenario says otherwise with a staff line.
        let mut staff = inner.staff.clone();
        let serves = profile.deployment == Deployment::Federal;
        let implicit = people
            .tam
            .iter()
            .map(|t| (t, UserRole::Tam))
            .chain(people.named_engineers.iter().map(|e| (e, UserRole::Engineer)));
        for (id, role) in implicit {
            if !staff.iter().any(|m| &m.id == id) {
                staff.push(StaffMember { id: id.clone(), role, federal_cleared: serves });
            }
        }
        let own = inner.schedules.iter().filter(|(o, _)| o.as_ref() == Some(org));
        let platform = inner.schedules.iter().filter(|(o, _)| o.is_none());
        Ok(Roster {
            org: org.clone(),
            deployment: profile.deployment,
            tam: people.tam,
            named_engineers: people.named_engineers,
            schedules: own.chain(platform).map(|(_, s)| s.clone()).collect(),
            staff,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::run_timers;
    use crate::{Desk, VirtualClock};
    use std::sync::Arc;
    use stringer_core::contract::Contract;
    use stringer_core::ids::Tier;

    fn event(json: &str) -> Event {
        serde_json::from_str(json).expect("a well-formed event")
    }

    async fn desk() -> Desk<MemoryStore, VirtualClock> {
        let opened_at = "2026-11-24T10:00:00Z".parse().unwrap();
        let desk = Desk::new(Arc::new(Contract::default_contract()), MemoryStore::new(), VirtualClock::new(opened_at));
        let org = OrgProfile { slug: OrgSlug::from("acme"), tier: Tier::from("pro"), deployment: Deployment::Shared };
        desk.put_org(org).await.unwrap();
        desk
    }

    const OPENED: &str =
        r#"{"at":"2026-11-24T10:00:00Z","kind":"ticket.opened","ticket":"T1","org":"acme","severity":"P3"}"#;

    #[tokio::test]
    async fn a_finished_ticket_stays_until_its_last_timer_has_run() {
        let desk = desk().await;
        let id = TicketId::from("T1");
        desk.record(event(OPENED)).await.unwrap();
        assert!(!desk.store().timers(&id).is_empty(), "an open P3 has its response target pending");
        desk.store().finish(&id);
        assert!(desk.store().ticket(&id).await.unwrap().is_some(), "kept while a timer is pending");
        let mut notices = Vec::new();
        run_timers(&desk, |_| true, &mut |n| notices.extend(n)).await.unwrap();
        assert!(notices.iter().any(|n| n.body.kind() == "sla.breached"), "its timers ran: {notices:?}");
        assert!(desk.store().ticket(&id).await.unwrap().is_none(), "gone with its last timer");
        assert!(desk.store().timeline(&id).is_empty() && desk.store().timers(&id).is_empty());
    }

    #[tokio::test]
    async fn a_finished_ticket_without_timers_goes_at_once_and_others_stay() {
        let desk = desk().await;
        desk.record(event(OPENED)).await.unwrap();
        desk.record(event(&OPENED.replace("T1", "T2"))).await.unwrap();
        desk.record(event(r#"{"at":"2026-11-24T10:05:00Z","kind":"ticket.resolved","ticket":"T1"}"#)).await.unwrap();
        let (t1, t2) = (TicketId::from("T1"), TicketId::from("T2"));
        assert!(desk.store().timers(&t1).is_empty(), "a resolved ticket has no timer left");
        desk.store().finish(&t1);
        assert!(desk.store().ticket(&t1).await.unwrap().is_none(), "gone at once");
        assert!(desk.store().ticket(&t2).await.unwrap().is_some(), "the other ticket is untouched");
        assert_eq!(desk.next_timer_at().await.unwrap(), desk.store().timers(&t2).values().min().copied());
    }
}
