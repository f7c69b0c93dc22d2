//! The use cases: record an event on a ticket, run the timers that fell due. This is the one
//! place that turns events into state changes, timers and notices; the server and
//! `stringer simulate` both run it, differing only in their Store and Clock.

use crate::clock::Clock;
use crate::store::{Change, Extras, Store, StoreError, Timer};
use jiff::Timestamp;
use std::sync::Arc;
use stringer_core::calendar::SUPPORTED_RANGE;
use stringer_core::contract::Contract;
use stringer_core::event::{Event, Notice, TimerOp};
use stringer_core::ticket::{OrgProfile, Rejected, Ticket};

/// Why a use case did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The event does not apply (bad name, wrong state); nothing was written.
    #[error("{0}")]
    Rejected(String),
    /// No such ticket.
    #[error("unknown ticket {0}")]
    UnknownTicket(String),
    /// No such org.
    #[error("unknown org {0}")]
    UnknownOrg(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Rejected> for AppError {
    fn from(r: Rejected) -> Self {
        AppError::Rejected(r.0)
    }
}

/// A timer that ran, with what it caused.
#[derive(Clone, Debug)]
pub struct Fired {
    /// The timer (its `at` is when it was due).
    pub timer: Timer,
    /// The notices it caused (often none: the state had moved on).
    pub notices: Vec<Notice>,
}

/// How many times a change is retried when another writer got there first.
const MAX_ATTEMPTS: usize = 8;
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
}

impl<S: Store, C: Clock> Desk<S, C> {
    /// A desk keeping `contract`'s promises with `store`, reading time from `clock`.
    pub fn new(contract: Arc<Contract>, store: S, clock: C) -> Self {
        Desk { contract, store, clock }
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
    pub async fn put_org(&self, org: OrgProfile) -> Result<(), AppError> {
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
        let at = event.at().as_second();
        if at < SUPPORTED_RANGE.0 || at >= SUPPORTED_RANGE.1 {
            return Err(AppError::Rejected(format!("instant {} is outside the years 1900–2199", event.at())));
        }
        if let Event::Opened { severity, .. } | Event::SeverityChanged { severity, .. } = event
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
        self.record_with(event, Extras::default()).await
    }

    /// [`Desk::record`] with who did it, a new ticket's fields or a comment, committed in the
    /// same change.
    pub async fn record_with(&self, event: Event, extras: Extras) -> Result<Vec<Notice>, AppError> {
        self.check_event(&event)?;
        for _ in 0..MAX_ATTEMPTS {
            let stored = self.store.ticket(event.ticket()).await?;
            let (ticket, expected_version, decision) = match (&event, stored) {
                (Event::Opened { org, .. }, None) => {
                    let org = self.store.org(org).await?.ok_or_else(|| AppError::UnknownOrg(org.to_string()))?;
                    let (ticket, decision) = Ticket::open(&self.contract, &org, &event)?;
                    (ticket, None, decision)
                }
                (Event::Opened { ticket, .. }, Some(_)) => {
                    return Err(AppError::Rejected(format!("ticket {ticket} already exists")));
                }
                (_, None) => return Err(AppError::UnknownTicket(event.ticket().to_string())),
                (_, Some(stored)) => {
                    let org = self
                        .store
                        .org(&stored.ticket.org)
                        .await?
                        .ok_or_else(|| AppError::UnknownOrg(stored.ticket.org.to_string()))?;
                    let mut ticket = stored.ticket;
                    let decision = ticket.apply(&self.contract, &org, &event)?;
                    (ticket, Some(stored.version), decision)
                }
            };
            let notices = decision.notices.clone();
            let change = Change {
                at: event.at(),
                ticket,
                expected_version,
                event: Some(event.clone()),
                notices: decision.notices,
                timers: decision.timers,
                extras: extras.clone(),
            };
            match self.store.commit(change).await {
                Ok(()) => return Ok(notices),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Backend(format!(
            "ticket {} kept changing; gave up after {MAX_ATTEMPTS} attempts",
            event.ticket()
        ))
        .into())
    }

    /// Runs every timer due at the clock's current instant, earliest first, and returns the
    /// notices they caused. A timer whose ticket changed under it is read again next round.
    pub async fn tick(&self) -> Result<Vec<Notice>, AppError> {
        Ok(self.run_due().await?.into_iter().flat_map(|f| f.notices).collect())
    }

    /// [`Desk::tick`], reporting each timer run with the notices it caused (the server
    /// measures escalation lag from it).
    pub async fn run_due(&self) -> Result<Vec<Fired>, AppError> {
        let now = self.clock.now();
        let mut out = Vec::new();
        loop {
            let lease = now + jiff::SignedDuration::from_secs(TIMER_LEASE_SECONDS);
            let due = self.store.claim_due_timers(now, lease, TIMER_BATCH).await?;
            if due.is_empty() {
                return Ok(out);
            }
            for timer in due {
                let Some(stored) = self.store.ticket(&timer.ticket).await? else { continue };
                let org = self
                    .store
                    .org(&stored.ticket.org)
                    .await?
                    .ok_or_else(|| AppError::UnknownOrg(stored.ticket.org.to_string()))?;
                let mut ticket = stored.ticket;
                let decision = ticket.on_timer(&self.contract, &org, &timer.kind, now);
                let mut timers = vec![TimerOp::Cancel { kind: timer.kind.clone() }];
                timers.extend(decision.timers);
                let notices = decision.notices.clone();
                let change = Change {
                    at: now,
                    ticket,
                    expected_version: Some(stored.version),
                    event: None,
                    notices: decision.notices,
                    timers,
                    extras: Extras::default(),
                };
                match self.store.commit(change).await {
                    Ok(()) => out.push(Fired { timer, notices }),
                    Err(StoreError::Conflict(_)) => self.store.release_timer(&timer).await?,
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }

    /// The instant of the earliest pending timer.
    pub async fn next_timer_at(&self) -> Result<Option<Timestamp>, AppError> {
        Ok(self.store.next_timer().await?.map(|t| t.at))
    }
}
