//! The ledger's audit (issue 28, docs/ledger.md "Audit"): every leaf recomputed from the
//! timeline row it stands for and its stored secret, the tree rebuilt from the leaves and
//! held to the stored subtrees and the stored frontier. Tampering with a stored event (its
//! instant, its content, its place among its ticket's rows) or deleting one is found and
//! named the way a bundle's verifier names an event:
//! `<ticket key> seq <seq> <kind> at <instant> (leaf N): <problem>`.
//!
//! The checks are pure ([`Walk`], [`check_leaf`]) over pages the store answers through the
//! [`LedgerAudit`] port, so memory stays bounded by a page (and, for the per-ticket order,
//! one number per ticket). Two callers: [`audit`], the whole log at once (`stringer ledger
//! audit`), and [`Auditor`], the engine's incremental walk, which extends a verified prefix
//! and slowly re-reads what it verified before.
//!
//! What the audit cannot see: a rewrite by someone who recomputes every leaf, subtree and the
//! frontier consistently (they hold the database, so they hold the secrets). Only a signed
//! head published before, or a bundle a reader kept, catches that; [`LedgerAudit::signed_heads`]
//! is where the store's signed heads come in.

use crate::StoreError;
use crate::act::Principal;
use crate::ledger::LogKey;
use async_trait::async_trait;
use serde_json::Value;
use std::collections::HashMap;
use stringer_core::access::{self, Action, Object};
use stringer_core::ids::{OrgSlug, TicketKey};
use stringer_ledger::Hash;
use stringer_ledger::encode::{EncodeError, Secret, TimelineEntry};
use stringer_ledger::head::{PublicKey, SignedHead};
use stringer_ledger::tree::{Frontier, Node};

/// The `source` of a leaf that stands for a timeline row.
pub const TIMELINE: &str = "timeline";

/// A timeline row as stored, with its ticket's org and number: the source of its leaf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRow {
    /// The row's id: the entry's `seq` in its ticket's timeline.
    pub id: i64,
    /// The ticket's id (`tkt_…`).
    pub ticket: String,
    /// The ticket's org.
    pub org: String,
    /// The ticket's number in its org (its key is `ORG-number`).
    pub number: i64,
    /// The ticket version the change that wrote the row made.
    pub version: Option<i64>,
    /// When, in Unix seconds.
    pub at: i64,
    /// The entry's kind.
    pub kind: String,
    /// Who acted.
    pub actor: Option<String>,
    /// The body as stored (JSON text).
    pub body: String,
    /// The leaf the row claims (its `leaf` column), if any.
    pub leaf: Option<u64>,
}

impl SourceRow {
    /// The stored body, parsed.
    pub fn body(&self) -> Result<Value, EncodeError> {
        serde_json::from_str(&self.body).map_err(|_| EncodeError::BodyNotObject)
    }

    /// The entry this row stands for (docs/ledger.md §1), given its parsed [`Self::body`]: the
    /// one mapping from a stored row to a leaf's fields, for the backfill and the audit alike.
    pub fn entry<'a>(&'a self, body: &'a Value) -> TimelineEntry<'a> {
        TimelineEntry {
            org: &self.org,
            ticket: &self.ticket,
            version: self.version,
            at: self.at,
            kind: &self.kind,
            actor: self.actor.as_deref(),
            body,
        }
    }

    /// The row's leaf hash under `secret`.
    pub fn leaf_hash(&self, secret: &Secret) -> Result<Hash, EncodeError> {
        Ok(self.entry(&self.body()?).leaf(secret)?.hash())
    }

    /// The event as the timeline shows it: `ACME-42 seq 7 ticket.acknowledged at
    /// 2026-01-01T00:01:00Z`.
    pub fn event(&self) -> String {
        let key = TicketKey { org: OrgSlug::from(self.org.as_str()), number: self.number };
        let at = jiff::Timestamp::from_second(self.at).map_or_else(|_| format!("{}s", self.at), |t| t.to_string());
        format!("{key} seq {} {} at {at}", self.id, self.kind)
    }
}

/// A stored leaf and the row it names (the timeline row whose id is its `source_id`), if
/// any.
#[derive(Clone, Debug)]
pub struct AuditLeaf {
    /// Its index.
    pub index: u64,
    /// Its stored hash.
    pub hash: Hash,
    /// Its stored secret.
    pub secret: Secret,
    /// What it stands for (`timeline`).
    pub source: String,
    /// The id of the row it stands for.
    pub source_id: i64,
    /// The row it names.
    pub row: Option<SourceRow>,
    /// For a leaf of another source (a status update, a report publication, a review's
    /// figures: [`crate::ledger_sources`]), the row that claims it.
    pub other: Option<crate::ledger_sources::OtherRow>,
}

/// What the auditor keeps between its steps (migration 44).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditProgress {
    /// The frontier of the verified prefix (its size is the prefix's length).
    pub frontier: Frontier,
    /// Where the re-check of the verified prefix goes on.
    pub rolling_from: u64,
    /// The first mismatch found, if any.
    pub finding: Option<Finding>,
}

/// A mismatch: what the audit prints and the admin pages show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The leaf it is about, if one.
    pub leaf: Option<u64>,
    /// The message, naming the event.
    pub message: String,
}

impl Finding {
    fn at_leaf(leaf: u64, what: String, problem: impl std::fmt::Display) -> Finding {
        Finding { leaf: Some(leaf), message: format!("{what} (leaf {leaf}): {problem}") }
    }

    fn of_log(leaf: Option<u64>, problem: impl std::fmt::Display) -> Finding {
        Finding { leaf, message: format!("the ledger: {problem}") }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// What the audit reads from the store.
#[async_trait]
pub trait LedgerAudit: Send + Sync {
    /// The stored frontier (`ledger_state`): the log's size and root.
    async fn ledger_frontier(&self) -> Result<Frontier, StoreError>;
    /// Up to `limit` stored leaves from index `from` on, in index order, each with the row
    /// it names (reached through the row's key, never by searching the rows' `leaf`).
    async fn audit_leaves(&self, from: u64, limit: u64) -> Result<Vec<AuditLeaf>, StoreError>;
    /// The lowest level of the complete subtrees the store keeps.
    fn stored_level(&self) -> u8;
    /// The stored subtrees that the leaves in `[from, to)` completed (each one's last leaf is
    /// in the range).
    async fn stored_nodes(&self, from: u64, to: u64) -> Result<Vec<(Node, Hash)>, StoreError>;
    /// Whether the rows written before the ledger have been appended (a row without a leaf
    /// is then a finding).
    async fn backfilled(&self) -> Result<bool, StoreError>;
    /// The timeline rows counted in one pass: see [`RowCensus`].
    async fn row_census(&self, below: u64, beyond: u64) -> Result<RowCensus, StoreError>;
    /// The first status update or published report (the other sources) that is in no leaf,
    /// named as [`crate::ledger_sources::OtherRow::event`] names it.
    async fn unappended_other(&self) -> Result<Option<String>, StoreError>;
    /// The timeline row with this id.
    async fn source_row(&self, id: i64) -> Result<Option<SourceRow>, StoreError>;
    /// The first timeline row (by id) that claims a leaf below `below` which does not name
    /// it (another row's or another source's).
    async fn row_claiming_another(&self, below: u64) -> Result<Option<SourceRow>, StoreError>;
    /// The signed heads of sizes in `(from, to]`, by size.
    async fn signed_heads(&self, from: u64, to: u64) -> Result<Vec<SignedHead>, StoreError>;
    /// The log's keys in the order they signed, each later one with its endorsement by the
    /// one before (see [`trusted_keys`]).
    async fn log_keys(&self) -> Result<Vec<LogKey>, StoreError>;
    /// The auditor's progress.
    async fn audit_progress(&self) -> Result<AuditProgress, StoreError>;
    /// Records the auditor's progress, unless another instance moved it on from `was` (the
    /// verified size this step started from); a finding already stored is kept. `now` in
    /// Unix seconds.
    async fn save_audit_progress(&self, was: u64, progress: &AuditProgress, now: i64) -> Result<(), StoreError>;
}

/// The timeline rows as one pass over them sees them: what the audit holds against the leaves
/// it walked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RowCensus {
    /// Rows claiming a leaf below the size audited.
    pub claiming: u64,
    /// The first row (by id) claiming no leaf.
    pub unappended: Option<i64>,
    /// The first row (by id) claiming a leaf beyond the log's size when the census began.
    pub beyond: Option<i64>,
}

/// Checks one leaf against the row it names: the row exists, claims this leaf, and
/// recomputes to the stored hash under the stored secret.
pub fn check_leaf(leaf: &AuditLeaf) -> Result<(), Finding> {
    if leaf.source != TIMELINE {
        return check_other(leaf);
    }
    let Some(row) = &leaf.row else {
        return Err(Finding::at_leaf(leaf.index, format!("timeline row {}", leaf.source_id), "missing"));
    };
    if row.leaf != Some(leaf.index) {
        let claims = row.leaf.map_or_else(|| "no leaf".to_owned(), |l| format!("leaf {l}"));
        return Err(Finding::at_leaf(leaf.index, row.event(), format!("the row claims {claims}, not this one")));
    }
    match row.leaf_hash(&leaf.secret) {
        Ok(hash) if hash == leaf.hash => Ok(()),
        Ok(_) => Err(Finding::at_leaf(leaf.index, row.event(), "does not match its leaf")),
        Err(e) => Err(Finding::at_leaf(leaf.index, row.event(), format!("can no longer be encoded: {e}"))),
    }
}

/// Checks a leaf of another source than the timeline against the row that claims it (the
/// store reads it into [`AuditLeaf::other`]): the row exists, is of the leaf's source and the
/// one it names, and recomputes to the stored hash under the stored secret.
pub fn check_other(leaf: &AuditLeaf) -> Result<(), Finding> {
    let at_leaf = |what: String, problem: String| Finding {
        leaf: Some(leaf.index),
        message: format!("{what} (leaf {}): {problem}", leaf.index),
    };
    let noun = match leaf.source.as_str() {
        crate::ledger_sources::STATUS_UPDATE => "status update",
        crate::ledger_sources::REPORT => "report publication",
        crate::ledger_sources::REVIEW => "review figures",
        other => {
            return Err(Finding {
                leaf: Some(leaf.index),
                message: format!("the ledger: leaf {} has the unknown source {other:?}", leaf.index),
            });
        }
    };
    let Some(row) = &leaf.other else {
        return Err(at_leaf(format!("{noun} {}", leaf.source_id), "missing".into()));
    };
    if row.source() != leaf.source || row.source_id(leaf.index) != leaf.source_id {
        return Err(at_leaf(row.event(), format!("its leaf stands for {noun} {}, not this one", leaf.source_id)));
    }
    match row.leaf_hash(&leaf.secret) {
        Ok(hash) if hash == leaf.hash => Ok(()),
        Ok(_) => Err(at_leaf(row.event(), "does not match its leaf".into())),
        Err(e) => Err(at_leaf(row.event(), format!("can no longer be encoded: {e}"))),
    }
}

/// A walk along the leaves in index order: each leaf checked ([`check_leaf`]) and folded into
/// the frontier; the complete subtrees it completes collected for comparison with the stored
/// ones; and, when asked, each ticket's rows held to leaf order (a row's id must rise with its
/// leaf, which swapped ids break).
#[derive(Debug)]
pub struct Walk {
    frontier: Frontier,
    stored_level: u8,
    /// The last row id seen of each ticket, when the per-ticket order is checked.
    last_row: Option<HashMap<String, i64>>,
    /// Complete subtrees of the stored levels, computed since the last [`Walk::take_nodes`].
    nodes: Vec<(Node, Hash)>,
}

impl Walk {
    /// A walk going on from `frontier` (the empty one for the whole log), checking the
    /// per-ticket order when `order` (which needs the walk to start at leaf 0).
    pub fn new(frontier: Frontier, stored_level: u8, order: bool) -> Walk {
        Walk { frontier, stored_level, last_row: order.then(HashMap::new), nodes: Vec::new() }
    }

    /// The frontier of the leaves walked.
    pub fn frontier(&self) -> &Frontier {
        &self.frontier
    }

    /// Checks the next leaf and folds it in.
    pub fn leaf(&mut self, leaf: &AuditLeaf) -> Result<(), Finding> {
        self.leaf_checked(leaf, check_leaf(leaf))
    }

    /// Folds in the next leaf, whose [`check_leaf`] answered `checked` (computed elsewhere,
    /// e.g. on another thread).
    pub fn leaf_checked(&mut self, leaf: &AuditLeaf, checked: Result<(), Finding>) -> Result<(), Finding> {
        let expected = self.frontier.size();
        if leaf.index != expected {
            let problem = match leaf.index < expected {
                true => format!("two rows claim leaf {}", leaf.index),
                false => format!("leaf {expected} is missing (the next stored leaf is {})", leaf.index),
            };
            return Err(Finding::of_log(Some(expected), problem));
        }
        checked?;
        if let (Some(last_row), Some(row)) = (&mut self.last_row, &leaf.row) {
            match last_row.get_mut(&row.ticket) {
                Some(last) if *last > row.id => {
                    let problem = format!("out of order: its leaf follows seq {last}'s, its row precedes it");
                    return Err(Finding::at_leaf(leaf.index, row.event(), problem));
                }
                Some(last) => *last = row.id,
                None => {
                    last_row.insert(row.ticket.clone(), row.id);
                }
            }
        }
        let completed = self.frontier.push(leaf.hash).map_err(|e| Finding::of_log(Some(leaf.index), e))?;
        self.nodes.extend(completed.into_iter().filter(|(node, _)| node.level >= self.stored_level));
        Ok(())
    }

    /// The complete subtrees of the stored levels computed since the last call.
    pub fn take_nodes(&mut self) -> Vec<(Node, Hash)> {
        std::mem::take(&mut self.nodes)
    }
}

/// Compares the subtrees a walk computed with the stored ones: each must be stored, with the
/// same hash.
pub async fn check_nodes(
    port: &dyn LedgerAudit,
    computed: Vec<(Node, Hash)>,
) -> Result<Result<(), Finding>, StoreError> {
    let last_leaves = || computed.iter().filter_map(|(node, _)| node.last_leaf());
    let (Some(from), Some(to)) = (last_leaves().min(), last_leaves().max()) else {
        return Ok(Ok(()));
    };
    let stored: HashMap<Node, Hash> = port.stored_nodes(from, to.saturating_add(1)).await?.into_iter().collect();
    for (node, hash) in computed {
        let first = node.index << node.level;
        let leaves = format!("leaves {first} to {}", first + (1u64 << node.level) - 1);
        match stored.get(&node) {
            Some(h) if *h == hash => {}
            Some(_) => {
                let problem = format!("the stored subtree of {leaves} differs from the hash of those leaves");
                return Ok(Err(Finding::of_log(Some(first), problem)));
            }
            None => {
                return Ok(Err(Finding::of_log(Some(first), format!("the subtree of {leaves} is not stored"))));
            }
        }
    }
    Ok(Ok(()))
}

/// What a whole audit found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audit {
    /// Every leaf matches its row and the tree its leaves.
    Clean {
        /// Leaves checked.
        leaves: u64,
        /// The root they give (equal to the stored one).
        root: Hash,
        /// Signed heads checked.
        heads: usize,
    },
    /// The first mismatch.
    Mismatch(Finding),
}

/// The finding the engine's auditor stored, for whoever may see the ledger's audit (the
/// admin pages' banner); `None` when there is none, or for anyone else.
pub async fn stored_finding(port: &dyn LedgerAudit, who: &Principal) -> Result<Option<Finding>, StoreError> {
    if !access::decide(&who.actor(), Action::AuditLedger, Some(Object::Ledger)).allowed() {
        return Ok(None);
    }
    Ok(port.audit_progress().await?.finding)
}

/// A page's leaves and what [`check_leaf`] answered for each.
type Checked = (Vec<AuditLeaf>, Vec<Result<(), Finding>>);

/// How many leaves a page of the whole audit reads.
pub const AUDIT_PAGE: u64 = 10_000;

/// Audits the whole log: the leaves in index order against their rows (per-ticket order
/// included), the stored subtrees and the stored frontier against the leaves, the signed
/// heads (their roots, and their signatures under `key` or the store's key), and then the
/// rows: none without a leaf once the backfill is done, none beyond the log's size.
pub async fn audit(port: &dyn LedgerAudit, key: Option<&PublicKey>) -> Result<Audit, StoreError> {
    let stored = port.ledger_frontier().await?;
    let size = stored.size();
    let keys = match trusted_keys(&port.log_keys().await?, key) {
        Ok(keys) => keys,
        Err(finding) => return Ok(Audit::Mismatch(finding)),
    };
    let mut heads = port.signed_heads(0, size).await?.into_iter().peekable();
    let mut heads_checked = 0;
    let mut walk = Walk::new(Frontier::new(), port.stored_level(), true);
    // Leaves of other sources than the timeline (`ledger_sources`): no timeline row claims them.
    let mut others = 0;
    // Each page's leaves are recomputed on a thread of their own while the next page is read.
    let mut checking: Option<std::thread::JoinHandle<Checked>> = None;
    let mut from = 0;
    loop {
        let page = match from < size {
            true => port.audit_leaves(from, AUDIT_PAGE.min(size - from)).await?,
            false => Vec::new(),
        };
        if let Some(checked) = checking.take() {
            let (leaves, checks) =
                checked.join().map_err(|_| StoreError::Backend("the audit's checks stopped".into()))?;
            for (leaf, checked) in leaves.iter().zip(checks) {
                // A head of the size walked so far (the empty tree's included) covers these leaves.
                while let Some(head) = heads.next_if(|h| h.head.tree_size <= walk.frontier().size()) {
                    if let Err(finding) = check_head(&head, walk.frontier(), &keys) {
                        return Ok(Audit::Mismatch(finding));
                    }
                    heads_checked += 1;
                }
                if let Err(finding) = walk.leaf_checked(leaf, checked) {
                    return Ok(Audit::Mismatch(finding));
                }
                others += u64::from(leaf.source != TIMELINE);
            }
            if let Err(finding) = check_nodes(port, walk.take_nodes()).await? {
                return Ok(Audit::Mismatch(finding));
            }
        }
        if from >= size {
            break;
        }
        let Some(last) = page.last() else {
            return Ok(Audit::Mismatch(Finding::of_log(
                Some(from),
                format!("leaves {from} to {} are missing", size - 1),
            )));
        };
        from = last.index + 1;
        checking = Some(std::thread::spawn(move || {
            let checks = page.iter().map(check_leaf).collect();
            (page, checks)
        }));
    }
    while let Some(head) = heads.next_if(|h| h.head.tree_size <= walk.frontier().size()) {
        if let Err(finding) = check_head(&head, walk.frontier(), &keys) {
            return Ok(Audit::Mismatch(finding));
        }
        heads_checked += 1;
    }
    if walk.frontier() != &stored {
        return Ok(Audit::Mismatch(Finding::of_log(None, "the stored frontier is not the one its leaves give")));
    }
    if let Some(finding) = check_rows(port, size, walk.frontier().size() - others).await? {
        return Ok(Audit::Mismatch(finding));
    }
    Ok(Audit::Clean { leaves: size, root: stored.root(), heads: heads_checked })
}

/// The checks of the rows themselves, after a walk of the first `size` leaves found each
/// naming a row that claims it (`verified` of them): no other row claims one of them, none
/// is without a leaf once the backfill is done, and neither a leaf nor a row is beyond the
/// log (its size read again, as a running server appends meanwhile).
async fn check_rows(port: &dyn LedgerAudit, size: u64, verified: u64) -> Result<Option<Finding>, StoreError> {
    let now = port.ledger_frontier().await?.size();
    if let Some(leaf) = port.audit_leaves(now, 1).await?.first() {
        let what = leaf.row.as_ref().map_or_else(|| format!("timeline row {}", leaf.source_id), SourceRow::event);
        return Ok(Some(Finding::at_leaf(leaf.index, what, format!("beyond the ledger's size {now}"))));
    }
    let census = port.row_census(size, now).await?;
    let named = |id: i64| async move {
        Ok::<_, StoreError>(port.source_row(id).await?.map_or_else(|| format!("timeline row {id}"), |r| r.event()))
    };
    if port.backfilled().await? {
        if let Some(id) = census.unappended {
            return Ok(Some(Finding {
                leaf: None,
                message: format!("{} (no leaf): not in the ledger", named(id).await?),
            }));
        }
        if let Some(event) = port.unappended_other().await? {
            return Ok(Some(Finding { leaf: None, message: format!("{event} (no leaf): not in the ledger") }));
        }
    }
    if let Some(id) = census.beyond
        && let Some(row) = port.source_row(id).await?
    {
        let leaf = row.leaf.unwrap_or(now);
        return Ok(Some(Finding::at_leaf(leaf, row.event(), format!("beyond the ledger's size {now}"))));
    }
    if census.claiming != verified
        && let Some(row) = port.row_claiming_another(size).await?
    {
        let leaf = row.leaf.unwrap_or(size);
        return Ok(Some(Finding::at_leaf(leaf, row.event(), "claims a leaf that stands for another row")));
    }
    Ok(None)
}

/// The keys a head may be signed by: the log's keys from `pin` on (all of them without a
/// pin), each later one endorsed by the one before it. A key that is not endorsed by its
/// predecessor, or a pin that is not one of the log's keys, is a finding: whoever rewrote the
/// tables could add a key of their own, but not the retiring key's endorsement of it.
pub fn trusted_keys(keys: &[LogKey], pin: Option<&PublicKey>) -> Result<Vec<PublicKey>, Finding> {
    for (n, pair) in keys.windows(2).enumerate() {
        let endorsed = pair[1]
            .rotation
            .as_ref()
            .is_some_and(|r| r.old_key == pair[0].public_key && r.new_key == pair[1].public_key && r.verify().is_ok());
        if !endorsed {
            return Err(Finding::of_log(
                None,
                format!("the log's key {} ({}) is not endorsed by the key before it", n + 1, pair[1].public_key),
            ));
        }
    }
    let chain: Vec<PublicKey> = keys.iter().map(|k| k.public_key).collect();
    match pin {
        None => Ok(chain),
        Some(pin) => match chain.iter().position(|k| k == pin) {
            Some(at) => Ok(chain[at..].to_vec()),
            None => Err(Finding::of_log(None, format!("the pinned key {pin} is not one of the log's keys"))),
        },
    }
}

/// A signed head checked against the walk at its size: its root, and its signature under
/// the trusted key it names.
fn check_head(head: &SignedHead, walked: &Frontier, keys: &[PublicKey]) -> Result<(), Finding> {
    let size = head.head.tree_size;
    if walked.size() != size || walked.root() != head.head.root_hash {
        return Err(Finding::of_log(
            size.checked_sub(1),
            format!("the signed head of size {size} is not the root of the first {size} leaves"),
        ));
    }
    let Some(key) = keys.iter().find(|k| k.key_id() == head.key_id) else {
        return Err(Finding::of_log(
            size.checked_sub(1),
            format!(
                "the signed head of size {size} is signed by key {}, which is not trusted",
                hex::encode(head.key_id)
            ),
        ));
    };
    head.verify(key).map_err(|e| Finding::of_log(size.checked_sub(1), format!("the signed head of size {size}: {e}")))
}

/// The engine's incremental audit: each step extends the verified prefix by up to `extend`
/// leaves (folding them into the stored frontier, comparing subtrees and, once it reaches the
/// log's size, the stored frontier) and re-checks `recheck` leaves of the prefix against their
/// rows, going round the prefix, so a row edited after it was verified is found too.
#[derive(Clone)]
pub struct Auditor {
    /// The store.
    pub port: std::sync::Arc<dyn LedgerAudit>,
    /// Leaves verified anew per step, at most.
    pub extend: u64,
    /// Leaves of the verified prefix re-checked per step.
    pub recheck: u64,
}

/// What one step of the [`Auditor`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stepped {
    /// New leaves verified.
    pub extended: u64,
    /// Old leaves re-checked.
    pub rechecked: u64,
    /// Leaves of the log still to verify after this step (appended faster than verified).
    pub behind: u64,
    /// The finding, stored (found now or before).
    pub finding: Option<Finding>,
    /// Whether this step found it.
    pub found_now: bool,
}

impl Auditor {
    /// One step at `now` (Unix seconds, for the finding's record). Once a finding is stored
    /// the auditor does nothing more but report it.
    pub async fn step(&self, now: i64) -> Result<Stepped, StoreError> {
        let mut progress = self.port.audit_progress().await?;
        if progress.finding.is_some() {
            return Ok(Stepped { extended: 0, rechecked: 0, behind: 0, finding: progress.finding, found_now: false });
        }
        let was = progress.frontier.size();
        let (outcome, extended, size) = self.extend(&mut progress).await?;
        let outcome = match outcome {
            Ok(()) => self.recheck(&mut progress).await?,
            Err(finding) => Err(finding),
        };
        let rechecked = match &outcome {
            Ok(n) => *n,
            Err(_) => 0,
        };
        progress.finding = outcome.err();
        self.port.save_audit_progress(was, &progress, now).await?;
        let found_now = progress.finding.is_some();
        let behind = size.saturating_sub(progress.frontier.size());
        Ok(Stepped { extended, rechecked, behind, finding: progress.finding, found_now })
    }

    /// Extends the verified prefix: answers the outcome, the leaves verified and the log's size.
    async fn extend(&self, progress: &mut AuditProgress) -> Result<(Result<(), Finding>, u64, u64), StoreError> {
        let stored = self.port.ledger_frontier().await?;
        let (from, size) = (progress.frontier.size(), stored.size());
        if from > size {
            return Ok((Err(Finding::of_log(None, format!("the log shrank from {from} leaves to {size}"))), 0, size));
        }
        let want = self.extend.min(size - from);
        if want == 0 {
            return Ok((Ok(()), 0, size));
        }
        let mut walk = Walk::new(progress.frontier.clone(), self.port.stored_level(), false);
        let mut heads = self.port.signed_heads(from, from + want).await?.into_iter().peekable();
        let keys = match trusted_keys(&self.port.log_keys().await?, None) {
            Ok(keys) => keys,
            Err(finding) => return Ok((Err(finding), 0, size)),
        };
        for leaf in self.port.audit_leaves(from, want).await? {
            if let Err(finding) = walk.leaf(&leaf) {
                return Ok((Err(finding), 0, size));
            }
            while let Some(head) = heads.next_if(|h| h.head.tree_size <= walk.frontier().size()) {
                if let Err(finding) = check_head(&head, walk.frontier(), &keys) {
                    return Ok((Err(finding), 0, size));
                }
            }
        }
        if let Err(finding) = check_nodes(&*self.port, walk.take_nodes()).await? {
            return Ok((Err(finding), 0, size));
        }
        let done = walk.frontier().size();
        if done < from + want {
            return Ok((Err(Finding::of_log(Some(done), format!("leaf {done} is missing"))), 0, size));
        }
        if done == size && walk.frontier() != &stored {
            return Ok((Err(Finding::of_log(None, "the stored frontier is not the one its leaves give")), 0, size));
        }
        progress.frontier = walk.frontier().clone();
        Ok((Ok(()), done - from, size))
    }

    /// Re-checks leaves of the verified prefix from where the last step left off; answers how
    /// many.
    async fn recheck(&self, progress: &mut AuditProgress) -> Result<Result<u64, Finding>, StoreError> {
        let audited = progress.frontier.size();
        if audited == 0 || self.recheck == 0 {
            return Ok(Ok(0));
        }
        let from = if progress.rolling_from >= audited { 0 } else { progress.rolling_from };
        let want = self.recheck.min(audited - from);
        let leaves = self.port.audit_leaves(from, want).await?;
        for (leaf, index) in leaves.iter().zip(from..) {
            if leaf.index != index {
                return Ok(Err(Finding::of_log(Some(index), format!("leaf {index} is missing"))));
            }
            if let Err(finding) = check_leaf(leaf) {
                return Ok(Err(finding));
            }
        }
        if (leaves.len() as u64) < want {
            let index = from + leaves.len() as u64;
            return Ok(Err(Finding::of_log(Some(index), format!("leaf {index} is missing"))));
        }
        progress.rolling_from = from + want;
        Ok(Ok(want))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, ticket: &str, at: i64, kind: &str) -> SourceRow {
        SourceRow {
            id,
            ticket: ticket.into(),
            org: "acme".into(),
            number: 42,
            version: Some(id),
            at,
            kind: kind.into(),
            actor: None,
            body: format!(r#"{{"at":"{}"}}"#, jiff::Timestamp::from_second(at).unwrap()),
            leaf: None,
        }
    }

    /// Leaves for rows, appended in the order given, each under its own secret.
    fn leaves(rows: Vec<SourceRow>) -> Vec<AuditLeaf> {
        rows.into_iter()
            .zip(0..)
            .map(|(mut row, index)| {
                row.leaf = Some(index);
                let secret = [index as u8 + 1; 32];
                AuditLeaf {
                    index,
                    hash: row.leaf_hash(&secret).unwrap(),
                    secret,
                    source: TIMELINE.into(),
                    source_id: row.id,
                    row: Some(row),
                    other: None,
                }
            })
            .collect()
    }

    fn walk(leaves: &[AuditLeaf]) -> Result<Frontier, Finding> {
        let mut walk = Walk::new(Frontier::new(), 4, true);
        for leaf in leaves {
            walk.leaf(leaf)?;
        }
        Ok(walk.frontier().clone())
    }

    fn day() -> Vec<AuditLeaf> {
        leaves(vec![
            row(1, "tkt_a", 1_767_225_600, "ticket.opened"),
            row(2, "tkt_b", 1_767_225_610, "ticket.opened"),
            row(3, "tkt_a", 1_767_225_660, "ticket.acknowledged"),
        ])
    }

    #[test]
    fn a_clean_walk_gives_the_root_of_its_leaves() {
        let leaves = day();
        let frontier = walk(&leaves).unwrap();
        let hashes: Vec<Hash> = leaves.iter().map(|l| l.hash).collect();
        assert_eq!(frontier.root(), stringer_ledger::tree::mth(&hashes));
    }

    #[test]
    fn an_edited_row_is_named_as_the_timeline_shows_it() {
        let mut leaves = day();
        leaves[2].row.as_mut().unwrap().at += 60;
        let finding = walk(&leaves).unwrap_err();
        assert_eq!(
            finding.message,
            "ACME-42 seq 3 ticket.acknowledged at 2026-01-01T00:02:00Z (leaf 2): does not match its leaf"
        );
        assert_eq!(finding.leaf, Some(2));
    }

    #[test]
    fn a_missing_row_a_gap_and_another_rows_leaf_are_findings() {
        let mut missing = day();
        missing[1].row = None;
        assert_eq!(walk(&missing).unwrap_err().message, "timeline row 2 (leaf 1): missing");
        let mut gap = day();
        gap.remove(1);
        assert_eq!(walk(&gap).unwrap_err().message, "the ledger: leaf 1 is missing (the next stored leaf is 2)");
        let mut other = day();
        other[0].row.as_mut().unwrap().leaf = Some(9);
        assert!(walk(&other).unwrap_err().message.ends_with("(leaf 0): the row claims leaf 9, not this one"));
        let mut none = day();
        none[0].row.as_mut().unwrap().leaf = None;
        assert!(walk(&none).unwrap_err().message.ends_with("(leaf 0): the row claims no leaf, not this one"));
    }

    #[test]
    fn a_ticket_whose_rows_run_against_its_leaves_is_out_of_order() {
        // Rows 3 and 1 of ticket a: ids swapped with their leaves' sources, each leaf intact.
        let mut rows = vec![
            row(1, "tkt_a", 1_767_225_600, "ticket.opened"),
            row(2, "tkt_b", 1_767_225_610, "ticket.opened"),
            row(3, "tkt_a", 1_767_225_660, "ticket.acknowledged"),
        ];
        rows.swap(0, 2);
        let finding = walk(&leaves(rows)).unwrap_err();
        assert_eq!(
            finding.message,
            "ACME-42 seq 1 ticket.opened at 2026-01-01T00:00:00Z (leaf 2): out of order: its leaf follows seq 3's, its row precedes it"
        );
    }

    #[test]
    fn a_float_in_a_stored_body_cannot_be_encoded() {
        let mut leaves = day();
        leaves[0].row.as_mut().unwrap().body = r#"{"x":1.5}"#.into();
        assert!(
            walk(&leaves).unwrap_err().message.contains("(leaf 0): can no longer be encoded: 1.5 is not an integer")
        );
    }
}
