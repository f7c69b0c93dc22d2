//! What a replay of history reads ([`HistoryReads`]): each ticket's record with its timeline
//! rows as written, change by change, and the contracts the server ran under
//! ([`ContractHistory`]). `stringer serve` records the contract it starts with when it
//! differs from the last one recorded, so a what-if replay compares a proposed contract with
//! the one the tickets really ran under, not with whatever file is at hand.

use crate::records::TicketRecord;
use crate::store::StoreError;
use async_trait::async_trait;
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use stringer_core::contract::Contract;
use stringer_core::ids::{OrgSlug, TicketId, TicketKey, Tier};
use stringer_core::routing::RosterHistory;

/// One timeline row as written: an event (what someone did) or a notice (what the rules
/// decided), with the version of the ticket the change that wrote it made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryRow {
    /// Unix seconds.
    pub at: i64,
    /// `ticket.opened`, `page`, `sla.breached` …
    pub kind: String,
    /// The ticket's version after the change that wrote it; `None` for rows written before
    /// the store kept it (the replay then infers where one change ends).
    pub version: Option<i64>,
    /// The event or notice as JSON, undecoded (a replay decodes only what it uses).
    pub body: String,
}

/// A ticket with its whole timeline, in commit order: what a check compares a replay with.
#[derive(Clone, Debug)]
pub struct TicketHistory {
    /// The ticket as it is now.
    pub ticket: TicketRecord,
    /// Its timeline rows, the notices too, in the order written.
    pub rows: Vec<HistoryRow>,
}

/// A ticket as a comparison replays it: its event rows (what people did, about half its
/// rows) and, of its record, only what the replay reads, so that a read of a million
/// tickets decodes no ticket's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventHistory {
    /// The ticket.
    pub id: TicketId,
    /// Its org and number, as a report names it.
    pub key: TicketKey,
    /// The tier it was opened at (its state's).
    pub tier: Tier,
    /// When it was opened.
    pub opened_at: Timestamp,
    /// Its place in the order a comparison lists tickets in: the orgs as asked, then each
    /// org's tickets by opening instant and id, counted from 0.
    pub order: u64,
    /// Its event rows, in the order written.
    pub rows: EventRows,
}

/// A ticket's event rows as a comparison reads them, packed: their bodies (the events as JSON,
/// undecoded) one after another in one text, and for each row the version of the change that
/// wrote it (see [`HistoryRow::version`]) and where its body ends. A read of a million tickets
/// so allocates (and its replay frees) a text a ticket, not two a row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventRows {
    bodies: String,
    rows: Vec<(Option<i64>, usize)>,
}

impl EventRows {
    /// Adds a row after the others.
    pub fn push(&mut self, version: Option<i64>, body: &str) {
        self.bodies.push_str(body);
        self.rows.push((version, self.bodies.len()));
    }

    /// The rows in the order written: each one's version and body.
    pub fn iter(&self) -> impl Iterator<Item = (Option<i64>, &str)> {
        let starts = std::iter::once(0).chain(self.rows.iter().map(|&(_, end)| end));
        self.rows.iter().zip(starts).map(|(&(version, end), start)| (version, &self.bodies[start..end]))
    }
}

impl<'r> FromIterator<(Option<i64>, &'r str)> for EventRows {
    fn from_iter<I: IntoIterator<Item = (Option<i64>, &'r str)>>(rows: I) -> EventRows {
        let mut packed = EventRows::default();
        for (version, body) in rows {
            packed.push(version, body);
        }
        packed
    }
}

/// Reads tickets with their history, for a replay.
#[async_trait]
pub trait HistoryReads: ContractHistory {
    /// Up to `limit` of `org`'s tickets opened in `[from, until)` (Unix seconds), in the order
    /// (opening instant, id), after the ticket `after` names in that order, each with its
    /// whole timeline.
    async fn histories(
        &self,
        org: &OrgSlug,
        from: i64,
        until: i64,
        after: Option<(i64, TicketId)>,
        limit: i64,
    ) -> Result<Vec<TicketHistory>, StoreError>;
    /// Every ticket of `orgs` opened in `[from, until)` (Unix seconds) with its event rows,
    /// handed to `each` in batches. The timeline is read once, in the order written, and a
    /// ticket is handed over as soon as its last row is read: tickets come in the order of
    /// their last rows, not in [`EventHistory::order`], and the read holds only the tickets
    /// whose rows are still being read. Stops early when `each` answers false.
    async fn event_histories(
        &self,
        orgs: &[OrgSlug],
        from: i64,
        until: i64,
        each: &mut (dyn FnMut(Vec<EventHistory>) -> bool + Send),
    ) -> Result<(), StoreError>;
    /// The instant of the last row written to any timeline (Unix seconds), if any: what a
    /// check replays up to, as every timer due by then has fired on the server.
    async fn last_recorded(&self) -> Result<Option<i64>, StoreError>;
    /// Whom `org`'s notices were routed to over time: every roster recorded (migration 40) with
    /// the instant it was first used, and the roster as it is now.
    async fn rosters(&self, org: &OrgSlug) -> Result<RosterHistory, StoreError>;
}

/// A contract the server ran under from `at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractRecord {
    /// When the server started under it (Unix seconds).
    pub at: i64,
    /// The contract's name.
    pub name: String,
    /// The contract's version label ("" when it has none).
    pub version: String,
    /// SHA-256 of its text, in hex: what tells two contracts apart.
    pub sha256: String,
    /// Its TOML text, as read.
    pub source: String,
    /// The version of Stringer whose rules applied it.
    pub stringer_version: String,
}

impl ContractRecord {
    /// The record of `contract` in force from `at` under Stringer `stringer_version`.
    pub fn of(contract: &Contract, at: i64, stringer_version: &str) -> ContractRecord {
        ContractRecord {
            at,
            name: contract.name.clone(),
            version: contract.version.clone().unwrap_or_default(),
            sha256: hex::encode(Sha256::digest(contract.source().as_bytes())),
            source: contract.source().to_string(),
            stringer_version: stringer_version.to_string(),
        }
    }
}

/// The contracts the server ran under, in the order they came into force.
#[async_trait]
pub trait ContractHistory: Send + Sync {
    /// Records `record` unless the last contract recorded has the same text and Stringer
    /// version; answers whether it was recorded.
    async fn record_contract(&self, record: &ContractRecord) -> Result<bool, StoreError>;
    /// Every contract recorded, oldest first.
    async fn contracts(&self) -> Result<Vec<ContractRecord>, StoreError>;
}
