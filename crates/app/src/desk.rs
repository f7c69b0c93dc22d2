//! The use cases: record events on a ticket, run the timers that fell due. This is the one
//! place that turns events into committed state changes, timers and notices; the server and
//! `stringer simulate` both run it, differing only in their Store and Clock. What a change
//! does is the core's to decide ([`decide_events`], [`decide_timers`]), the same functions
//! the what-if replay (`stringer_core::replay`) decides with; the desk reads, commits and
//! retries. Notices that ask for people (pages, overdue-report alerts) are routed here
//! ([`route_notices`]), before they are committed, so the timeline names who was paged and
//! delivery sends to exactly them.

use crate::clock::Clock;
use crate::keyed::CurrentKey;
use crate::outcome::MAX_ATTEMPTS;
pub use crate::outcome::{AppError, Recorded};
use crate::ports::Commands;
use crate::store::{Change, Extras, NewComment, PagingEnded, Store, StoreError, StoredTicket, ThreadNote, Timer};
use async_trait::async_trait;
use jiff::Timestamp;
use std::collections::HashMap;
use std::sync::Arc;
use stringer_core::calendar::SUPPORTED_RANGE;
use stringer_core::contract::Contract;
use stringer_core::event::{Decision, Event, EventKind, Notice};
use stringer_core::ids::{OrgSlug, Severity, TicketId, Tier, UserId};
use stringer_core::routing::{Roster, route_notices};
use stringer_core::ticket::inform::{Inform, informs};
use stringer_core::ticket::{Before, Ticket, decide_events, decide_timers};

/// A timer that ran, with what it caused.
#[derive(Clone, Debug)]
pub struct Fired {
    /// The timer (its `at` is when it was due).
    pub timer: Timer,
    /// The notices it caused (often none: the state had moved on).
    pub notices: Vec<Notice>,
}

/// How long a sweep holds the timers it claimed before another may take them. Short, since
/// the version check on commit already stops a timer from running twice; the lease only
/// saves duplicate work, and a crashed sweep's timers are back this soon.
const TIMER_LEASE_SECONDS: i64 = 10;
/// Timers read per batch by [`Desk::tick`].
const TIMER_BATCH: usize = 256;

/// The support desk: contract, store and clock.
pub struct Desk<S, C> {
    contract: Arc<Contract>,
    store: S,
    clock: C,
    informing: bool,
    keyed: CurrentKey,
}

impl<S: Store, C: Clock> Desk<S, C> {
    /// A desk keeping `contract`'s promises with `store`, reading time from `clock`.
    pub fn new(contract: Arc<Contract>, store: S, clock: C) -> Self {
        Desk { contract, store, clock, informing: false, keyed: crate::keyed::never }
    }

    /// A desk whose changes carry the `Idempotency-Key` of the request that made them, as
    /// `current` tells it (the web front's), so the key's outcome commits with the change.
    pub fn keyed_by(mut self, current: CurrentKey) -> Self {
        self.keyed = current;
        self
    }

    /// A desk that also records what customers are to be told (the letters worker mails
    /// them): for a server with a mail domain. Without it, nothing would read those records.
    pub fn informing(mut self) -> Self {
        self.informing = true;
        self
    }

    fn informs(&self, events: &[Event], notices: &[Notice]) -> Vec<Inform> {
        if self.informing { informs(events, notices) } else { Vec::new() }
    }

    /// The contract in force.
    pub fn contract(&self) -> &Contract {
        &self.contract
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Adds or replaces an org; its tier must be one of the contract's.
    pub async fn put_org(&self, org: stringer_core::ticket::OrgProfile) -> Result<(), AppError> {
        if self.contract.tier(org.tier.as_str()).is_none() {
            let tiers: Vec<&str> = self.contract.tiers.keys().map(|t| t.as_str()).collect();
            return Err(AppError::Rejected(format!(
                "unknown tier {:?}; tiers are {}",
                org.tier.as_str(),
                tiers.join(", ")
            )));
        }
        Ok(self.store.put_org(org).await?)
    }

    fn check_event(&self, event: &Event) -> Result<(), AppError> {
        let at = event.at.as_second();
        if at < SUPPORTED_RANGE.0 || at >= SUPPORTED_RANGE.1 {
            return Err(AppError::Rejected(format!("instant {} is outside the years 1900–2199", event.at)));
        }
        if let EventKind::Opened { severity, .. } | EventKind::SeverityChanged { severity } = &event.kind
            && self.contract.severity(severity.as_str()).is_none()
        {
            let list: Vec<&str> = self.contract.severities.keys().map(|s| s.as_str()).collect();
            return Err(AppError::Rejected(format!(
                "unknown severity {:?}; severities are {}",
                severity.as_str(),
                list.join(", ")
            )));
        }
        Ok(())
    }

    /// Records an event on its ticket (opening it for `ticket.opened`) and returns the notices
    /// it caused. Rejected events write nothing.
    pub async fn record(&self, event: Event) -> Result<Vec<Notice>, AppError> {
        Ok(self.record_with(vec![event], Extras::default()).await?.notices)
    }

    /// Records events on one ticket as one change, with who did it, a new ticket's fields or
    /// a comment: every event applies, in order, or nothing is written. A `ticket.opened`
    /// may only come first; it opens the ticket without reading it first (the insert refuses
    /// an existing id).
    pub async fn record_with(&self, events: Vec<Event>, extras: Extras) -> Result<Recorded, AppError> {
        self.record_on(None, events, extras).await
    }

    /// [`Desk::record_with`], trying first on `read`, the ticket as the caller read it for
    /// this request (so the change costs no second read); if it changed since, the version
    /// check refuses the commit and the ticket is read afresh, as `record_with` does.
    async fn record_on(
        &self,
        mut read: Option<StoredTicket>,
        events: Vec<Event>,
        extras: Extras,
    ) -> Result<Recorded, AppError> {
        let Some(first) = events.first() else {
            return Err(AppError::Rejected("no event to record".into()));
        };
        let id = first.ticket.clone();
        for (i, event) in events.iter().enumerate() {
            self.check_event(event)?;
            if event.ticket != id {
                return Err(AppError::Rejected("one change records events of one ticket".into()));
            }
            if i > 0 && matches!(event.kind, EventKind::Opened { .. }) {
                return Err(AppError::Rejected(format!("ticket {id} is already open")));
            }
        }
        if let EventKind::Opened { org, .. } = &first.kind {
            let org = self.store.org(org).await?.ok_or_else(|| AppError::UnknownOrg(org.to_string()))?;
            let (ticket, decision) = decide_events(&self.contract, Before::New(&org), &events)?;
            return match self.commit(&events, None, ticket, None, decision, extras).await {
                Err(AppError::Store(StoreError::Conflict(_))) => {
                    Err(AppError::Rejected(format!("ticket {id} already exists")))
                }
                other => other,
            };
        }
        for _ in 0..MAX_ATTEMPTS {
            let stored = match read.take().filter(|r| r.ticket.id == id) {
                Some(read) => read,
                None => self.store.ticket(&id).await?.ok_or_else(|| AppError::UnknownTicket(id.to_string()))?,
            };
            let (ticket, decision) = decide_events(&self.contract, Before::Existing(&stored.ticket), &events)?;
            match self
                .commit(&events, Some(&stored.ticket), ticket, Some(stored.version), decision, extras.clone())
                .await
            {
                Err(AppError::Store(StoreError::Conflict(_))) => continue,
                other => return other,
            }
        }
        Err(AppError::Busy(id))
    }

    async fn commit(
        &self,
        events: &[Event],
        before: Option<&Ticket>,
        ticket: Ticket,
        expected_version: Option<u64>,
        mut decision: Decision,
        extras: Extras,
    ) -> Result<Recorded, AppError> {
        let mut rosters = HashMap::new();
        self.route(&mut decision.notices, &ticket.org, &mut rosters).await?;
        let roster = rosters.remove(&ticket.org);
        let paging_ended = before.and_then(|b| paging_ended(b, &ticket, events, extras.actor.as_ref()));
        let change = Change {
            at: events.last().map_or_else(|| self.clock.now(), |e| e.at),
            ticket: ticket.clone(),
            expected_version,
            events: events.to_vec(),
            informs: self.informs(events, &decision.notices),
            thread_notes: thread_notes(events, extras.comment.as_ref()),
            notices: decision.notices.clone(),
            timers: decision.timers,
            paging_ended,
            extras,
            keyed: (self.keyed)(),
            roster,
        };
        self.store.commit(change).await?;
        Ok(Recorded { ticket, version: expected_version.map_or(1, |v| v + 1), notices: decision.notices })
    }

    /// Names the people each notice that asks for people reaches ([`route_notices`]),
    /// reading an org's roster once per call site, and only when a notice asks for someone.
    async fn route(
        &self,
        notices: &mut [Notice],
        org: &OrgSlug,
        rosters: &mut HashMap<OrgSlug, Arc<Roster>>,
    ) -> Result<(), StoreError> {
        if !asks_for_people(notices) {
            return Ok(());
        }
        if !rosters.contains_key(org) {
            rosters.insert(org.clone(), Arc::new(self.store.roster(org).await?));
        }
        route_notices(&rosters[org], notices);
        Ok(())
    }

    /// Runs every timer due at the clock's current instant, earliest first, and returns the
    /// notices they caused. A timer whose ticket changed under it is read again next round.
    pub async fn tick(&self) -> Result<Vec<Notice>, AppError> {
        let mut out = Vec::new();
        loop {
            let fired = self.run_due_batch().await?;
            if fired.is_empty() {
                return Ok(out);
            }
            out.extend(fired.into_iter().flat_map(|f| f.notices));
        }
    }

    /// One round of [`Desk::tick`]: claims a batch of due timers, runs them, commits their
    /// tickets' changes together and reports each timer run with the notices it caused (the
    /// engine measures escalation lag from it). Empty when nothing was due. Timers of one
    /// ticket run in order within one change.
    pub async fn run_due_batch(&self) -> Result<Vec<Fired>, AppError> {
        let now = self.clock.now();
        let lease = now + jiff::SignedDuration::from_secs(TIMER_LEASE_SECONDS);
        let due = self.store.claim_due_timers(now, lease, TIMER_BATCH).await?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let mut per_ticket: Vec<(TicketId, Vec<Timer>)> = Vec::new();
        let mut slot: HashMap<TicketId, usize> = HashMap::new();
        for timer in due {
            let i = *slot.entry(timer.ticket.clone()).or_insert_with(|| {
                per_ticket.push((timer.ticket.clone(), Vec::new()));
                per_ticket.len() - 1
            });
            per_ticket[i].1.push(timer);
        }
        let ids: Vec<TicketId> = per_ticket.iter().map(|(id, _)| id.clone()).collect();
        let mut stored: HashMap<TicketId, StoredTicket> =
            self.store.tickets(&ids).await?.into_iter().map(|s| (s.ticket.id.clone(), s)).collect();
        let mut rosters = HashMap::new();
        let mut changes = Vec::new();
        let mut runs = Vec::new();
        for (id, timers) in per_ticket {
            let Some(stored) = stored.remove(&id) else { continue };
            let mut ticket = stored.ticket;
            let decided = decide_timers(&self.contract, &mut ticket, timers.iter().map(|t| &t.kind), now);
            let mut ops = Vec::new();
            let mut fired = Vec::new();
            for (timer, mut run) in timers.into_iter().zip(decided) {
                if let Some(uncovered) = run.dropped {
                    // The ticket is left as it was, and the timer dropped rather than
                    // claimed again every second; the log names what the contract lacks.
                    tracing::error!(
                        ticket = %ticket.id, org = %ticket.org, tier = %ticket.tier, severity = %ticket.severity,
                        timer = ?timer.kind, "timer dropped: {uncovered}, so the ticket's rules cannot run"
                    );
                }
                self.route(&mut run.notices, &ticket.org, &mut rosters).await?;
                ops.extend(run.ops);
                fired.push(Fired { timer, notices: run.notices });
            }
            let notices: Vec<Notice> = fired.iter().flat_map(|f| f.notices.iter().cloned()).collect();
            let roster = rosters.get(&ticket.org).filter(|_| asks_for_people(&notices)).cloned();
            changes.push(Change {
                at: now,
                ticket,
                expected_version: Some(stored.version),
                events: Vec::new(),
                informs: self.informs(&[], &notices),
                thread_notes: Vec::new(),
                keyed: None,
                notices,
                timers: ops,
                paging_ended: None,
                extras: Extras::default(),
                roster,
            });
            runs.push(fired);
        }
        let mut out = Vec::new();
        for (outcome, fired) in self.store.commit_all(changes).await.into_iter().zip(runs) {
            match outcome {
                Ok(()) => out.extend(fired),
                Err(StoreError::Conflict(_)) => {
                    for f in &fired {
                        self.store.release_timer(&f.timer).await?;
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        out.sort_by(|a, b| {
            (a.timer.at, &a.timer.ticket, &a.timer.kind).cmp(&(b.timer.at, &b.timer.ticket, &b.timer.kind))
        });
        Ok(out)
    }

    /// The instant of the earliest pending timer.
    pub async fn next_timer_at(&self) -> Result<Option<Timestamp>, AppError> {
        Ok(self.store.next_timer().await?.map(|t| t.at))
    }
}

/// Whether one of these notices asks for people (a page, an escalation step, an alert), so
/// that routing them reads the org's roster and the change carries it.
fn asks_for_people(notices: &[Notice]) -> bool {
    notices.iter().any(|n| !n.body.roles().is_empty())
}

/// How paging ended with these events, if it was going on before them and is over after.
fn paging_ended(before: &Ticket, after: &Ticket, events: &[Event], actor: Option<&UserId>) -> Option<PagingEnded> {
    if before.paging_over() || !after.paging_over() {
        return None;
    }
    let by = actor.cloned();
    events.iter().rev().find_map(|e| match &e.kind {
        EventKind::Acknowledged { by: who } => Some(PagingEnded::Acknowledged { by: Some(UserId(who.clone())) }),
        EventKind::Resolved { .. } => Some(PagingEnded::Resolved { by: by.clone() }),
        EventKind::SeverityChanged { severity } => {
            Some(PagingEnded::SeverityLowered { severity: severity.clone(), by: by.clone() })
        }
        _ => None,
    })
}

#[async_trait]
impl<S: Store + 'static, C: Clock + 'static> Commands for Desk<S, C> {
    fn contract(&self) -> &Contract {
        &self.contract
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn now_precise(&self) -> Timestamp {
        self.clock.now_precise()
    }

    async fn record(&self, events: Vec<Event>, extras: Extras) -> Result<Recorded, AppError> {
        self.record_with(events, extras).await
    }

    async fn record_read(&self, read: StoredTicket, events: Vec<Event>, extras: Extras) -> Result<Recorded, AppError> {
        self.record_on(Some(read), events, extras).await
    }

    async fn on_call(&self, org: &OrgSlug, at: Timestamp) -> Result<Vec<UserId>, AppError> {
        let roster = self.store.roster(org).await?;
        Ok(roster.route(stringer_core::ids::Role::Oncall, at).into_iter().map(UserId).collect())
    }

    async fn dial_order(
        &self,
        org: &OrgSlug,
        tier: &Tier,
        severity: &Severity,
        at: Timestamp,
    ) -> Result<Vec<UserId>, AppError> {
        let roster = self.store.roster(org).await?;
        let policy = self.contract.escalation(tier)?;
        Ok(stringer_core::phone::dial_order(&roster, policy, severity, at).into_iter().map(UserId).collect())
    }
}

/// What a ticket's thread is told of a change made of `events` with `comment`: its changes
/// of state in order (acknowledged, waiting on the customer, severity, resolved, reopened),
/// then its comment when public and not written in the thread itself.
pub fn thread_notes(events: &[Event], comment: Option<&NewComment>) -> Vec<ThreadNote> {
    let mut notes: Vec<ThreadNote> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Acknowledged { .. } => Some(ThreadNote::Acknowledged),
            EventKind::WaitingOnCustomer => Some(ThreadNote::WaitingOnCustomer),
            EventKind::SeverityChanged { severity } => Some(ThreadNote::SeverityChanged { severity: severity.clone() }),
            EventKind::Resolved { .. } => Some(ThreadNote::Resolved),
            EventKind::Reopened => Some(ThreadNote::Reopened),
            _ => None,
        })
        .collect();
    if let Some(c) = comment.filter(|c| c.public && !c.in_thread) {
        notes.push(ThreadNote::Comment { author: c.author.clone(), body: c.body.clone() });
    }
    notes
}
