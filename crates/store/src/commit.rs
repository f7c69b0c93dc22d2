//! Group commit of ticket changes. Every [`Change`] goes to one committer task, which takes
//! whatever has queued up while the previous transaction ran and commits it as one
//! transaction with multi-row statements: a burst of N new tickets costs a handful of
//! statements instead of ten per ticket, which is what bounds an embedded SQLite's single
//! writer. Each change is still all-or-nothing and version-checked on its own: a change whose
//! ticket moved on is answered [`StoreError::Conflict`] and leaves no row, while the rest of
//! its batch commits; so is a change that applies an inbox item whose receipt a change
//! committed before ([`StoreError::Applied`]). A caller is answered only after its
//! transaction committed.

use crate::backend_err;
use crate::keyed::Mark;
use crate::ledger::{self, NewLeaf};
use sqlx::Row as _;
use sqlx::any::AnyArguments;
use sqlx::{Any, AnyPool};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use stringer_app::delivery::dispatched;
use stringer_app::mail::Inform;
use stringer_app::{Change, StoreError};
use stringer_core::event::{NoticeBody, TimerKind, TimerOp};
use stringer_core::ids::{OrgSlug, TicketId};
use stringer_core::routing::Roster;
use stringer_core::sla::ClockState;
use stringer_core::ticket::{Status, Ticket};
use stringer_ledger::Hash;
use stringer_ledger::encode::{EncodeError, TimelineEntry};
use stringer_ledger::tree::Frontier;
use tokio::sync::{Notify, Semaphore, mpsc, oneshot};

/// The most changes committed in one transaction.
const MAX_BATCH: usize = 256;
/// The most rows in one multi-row statement (keeps binds far below both backends' limits).
const ROWS_PER_STATEMENT: usize = 100;

/// A change waiting for its transaction, with its timeline rows and their leaves (computed
/// when it was queued) and where to send the outcome.
struct Pending {
    change: Change,
    timeline: Vec<Entry>,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// The handle the store keeps: sends changes to the committer task.
#[derive(Clone, Debug)]
pub(crate) struct Committer {
    queue: mpsc::UnboundedSender<Pending>,
}

impl Committer {
    /// Starts the committer task on the current runtime. `lanes` transactions may run at once
    /// (1 for SQLite's single writer; more for PostgreSQL). `outbox` is rung after each
    /// transaction that wrote outbox records.
    pub(crate) fn start(pool: AnyPool, lanes: usize, outbox: Arc<Notify>) -> Committer {
        let (queue, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(pool, rx, lanes, outbox));
        Committer { queue }
    }

    /// Commits the changes, each atomically on its own; outcomes in the same order.
    pub(crate) async fn commit_all(&self, changes: Vec<Change>) -> Vec<Result<(), StoreError>> {
        let mut waiting = Vec::with_capacity(changes.len());
        for change in changes {
            let (done, outcome) = oneshot::channel();
            // The leaves are hashed here, on the caller's task, beside other callers: not in
            // the committer's transaction, which on SQLite is the one writer.
            let sent = match timeline_of(&change) {
                Ok(timeline) => self.queue.send(Pending { change, timeline, done }).is_ok(),
                Err(e) => done.send(Err(StoreError::Backend(format!("not a ledger entry: {e}")))).is_ok(),
            };
            waiting.push((sent, outcome));
        }
        let mut out = Vec::with_capacity(waiting.len());
        for (sent, outcome) in waiting {
            out.push(match (sent, outcome.await) {
                (true, Ok(result)) => result,
                _ => Err(StoreError::Backend("the store is closed".into())),
            });
        }
        out
    }
}

async fn run(pool: AnyPool, mut rx: mpsc::UnboundedReceiver<Pending>, lanes: usize, outbox: Arc<Notify>) {
    let lanes = Arc::new(Semaphore::new(lanes.max(1)));
    let known = Arc::new(Known::default());
    loop {
        // Wait for a lane first: while the previous transaction runs, changes queue up and
        // all go into the next one.
        let Ok(lane) = lanes.clone().acquire_owned().await else { return };
        let Some(first) = rx.recv().await else { return };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let (pool, outbox, known) = (pool.clone(), outbox.clone(), known.clone());
        tokio::spawn(async move {
            if commit_batch(&pool, batch, &known).await {
                outbox.notify_one();
            }
            drop(lane);
        });
    }
}

/// Commits a batch; when the batch as a whole fails (a backend error, not a version
/// conflict), commits its changes one by one so each caller gets its own outcome. Answers
/// whether a committed change wrote outbox records.
async fn commit_batch(pool: &AnyPool, mut batch: Vec<Pending>, known: &Known) -> bool {
    // Row locks are taken in ticket order, so concurrent lanes cannot deadlock.
    batch.sort_by(|a, b| a.change.ticket.id.cmp(&b.change.ticket.id));
    let pending: Vec<&Pending> = batch.iter().collect();
    let outcomes = match write(pool, &pending, known).await {
        Ok(outcomes) => outcomes,
        Err(e) if batch.len() == 1 => vec![Err(single_error(e, &batch[0].change.ticket.id))],
        Err(_) => {
            let mut outcomes = Vec::with_capacity(batch.len());
            for one in &pending {
                outcomes.push(match write(pool, &[one], known).await {
                    Ok(mut one) => one.pop().unwrap_or(Ok(())),
                    Err(e) => Err(single_error(e, &one.change.ticket.id)),
                });
            }
            outcomes
        }
    };
    let mut owed = false;
    for (pending, outcome) in batch.into_iter().zip(outcomes) {
        owed |= outcome.is_ok() && owes_outbox(&pending.change);
        let _ = pending.done.send(outcome);
    }
    owed
}

/// Whether a change writes outbox records (what [`FollowUps::of`] puts there).
fn owes_outbox(change: &Change) -> bool {
    change.notices.iter().any(|n| dispatched(&n.body)) || change.paging_ended.is_some() || !change.informs.is_empty()
}

fn single_error(e: sqlx::Error, id: &TicketId) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::Missing(format!("ticket {id}")),
        _ => backend_err(e),
    }
}

/// One transaction for the changes: per change `Ok` or `Conflict`; `Err` when the transaction
/// failed and nothing was written.
async fn write(
    pool: &AnyPool,
    pending: &[&Pending],
    known: &Known,
) -> Result<Vec<Result<(), StoreError>>, sqlx::Error> {
    let mut hint = known.get();
    loop {
        match write_once(pool, pending, hint.take()).await? {
            (outcomes, Appended::Grown(tip)) => {
                known.keep(tip);
                return Ok(outcomes);
            }
            (outcomes, Appended::Nothing) => return Ok(outcomes),
            // Rolled back: the ledger moved on since the hint; again, reading its state.
            (_, Appended::Stale) => {}
        }
    }
}

/// [`write`] in one transaction, appending with the `hint` of the ledger's state; when the
/// hint was stale the transaction is rolled back ([`Appended::Stale`]).
async fn write_once(
    pool: &AnyPool,
    pending: &[&Pending],
    hint: Option<Tip>,
) -> Result<(Vec<Result<(), StoreError>>, Appended), sqlx::Error> {
    let changes: Vec<&Change> = pending.iter().map(|p| &p.change).collect();
    let changes = changes.as_slice();
    let mut tx = pool.begin().await?;
    let held = hold_keys(&mut tx, changes).await?;
    let fresh = hold_receipts(&mut tx, changes).await?;
    let writable = |i: &usize| held[*i] != Mark::Gone && fresh[*i];
    let guarded: Vec<&Change> = (0..changes.len()).filter(writable).map(|i| changes[i]).collect();
    let mut guarded_outcomes = guard_tickets(&mut tx, &guarded).await?.into_iter();
    let outcomes: Vec<Result<(), StoreError>> = changes
        .iter()
        .enumerate()
        .map(|(i, c)| match (held[i], &c.extras.applies) {
            (Mark::Gone, _) => Err(StoreError::KeyTakenOver),
            (_, Some(receipt)) if !fresh[i] => Err(StoreError::Applied(receipt.clone())),
            _ => guarded_outcomes.next().unwrap_or(Ok(())),
        })
        .collect();
    let refused: Vec<&Change> = changes
        .iter()
        .zip(held.iter().zip(&outcomes))
        .filter(|(_, (h, o))| **h == Mark::Set && o.is_err())
        .map(|(c, _)| *c)
        .collect();
    forget_written(&mut tx, &refused).await?;
    let unapplied: Vec<&str> = changes
        .iter()
        .zip(fresh.iter().zip(&outcomes))
        .filter(|(_, (f, o))| **f && o.is_err())
        .filter_map(|(c, _)| c.extras.applies.as_deref())
        .collect();
    forget_receipts(&mut tx, &unapplied).await?;
    let applied: Vec<&Change> = changes.iter().zip(&outcomes).filter(|(_, o)| o.is_ok()).map(|(c, _)| *c).collect();
    let timeline: Vec<&Entry> =
        pending.iter().zip(&outcomes).filter(|(_, o)| o.is_ok()).flat_map(|(p, _)| &p.timeline).collect();
    let rows = FollowUps::of(&applied);
    insert_rows(&mut tx, "outbox", &["ticket_id", "at", "kind", "body", "created_at"], &rows.outbox).await?;
    insert_rows(&mut tx, "comments", &["id", "ticket_id", "author", "public", "body", "created_at"], &rows.comments)
        .await?;
    insert_rows(&mut tx, "ticket_search", &["ticket_id", "public", "body"], &rows.search).await?;
    owe_thread_posts(&mut tx, &rows.thread_posts).await?;
    set_timers(&mut tx, &rows.timer_sets).await?;
    cancel_timers(&mut tx, &rows.timer_cancels).await?;
    owe_reports(&mut tx, &rows.reports).await?;
    record_rosters(&mut tx, &applied).await?;
    // Last: the ledger's lock, held until the commit (see `append_timeline`).
    let appended = append_timeline(&mut tx, &timeline, hint).await?;
    if !matches!(appended, Appended::Stale) {
        tx.commit().await?;
    }
    Ok((outcomes, appended))
}

/// The ledger's state after a commit: the frontier (and so the size) and, on SQLite, the
/// timeline's last row id.
#[derive(Clone)]
pub(crate) struct Tip {
    frontier: Frontier,
    last_row: Option<i64>,
}

/// The ledger's state as this committer last committed it ([`Tip`]). With it, an append
/// reserves its leaves and stores the grown frontier in one statement (PostgreSQL, see
/// [`reserve`]), or appends in one statement list (SQLite, see [`append_known`]); it is a
/// hint, checked against the stored state under the ledger's lock.
#[derive(Default)]
pub(crate) struct Known(std::sync::Mutex<Option<Tip>>);

impl Known {
    fn get(&self) -> Option<Tip> {
        self.0.lock().ok().and_then(|known| known.clone())
    }

    /// Keeps the state a transaction committed.
    fn keep(&self, committed: Tip) {
        if let Ok(mut known) = self.0.lock() {
            *known = Some(committed);
        }
    }
}

/// What [`append_timeline`] did.
enum Appended {
    /// No rows to append.
    Nothing,
    /// Appended: the ledger's state after it.
    Grown(Tip),
    /// Nothing may be committed: the hint was stale (SQLite), roll back and write again.
    Stale,
}

/// Inserts the timeline rows with their leaves (the invariant: no timeline row without its
/// leaf, no leaf without its row), through the one append: [`reserve`] takes the ledger's
/// lock and the indices, [`write_leaves`] writes the leaves — or on SQLite, with a hint,
/// [`append_known`] all at once. Answers the ledger's state after it.
async fn append_timeline(
    tx: &mut sqlx::Transaction<'_, Any>,
    entries: &[&Entry],
    hint: Option<Tip>,
) -> Result<Appended, sqlx::Error> {
    if entries.is_empty() {
        return Ok(Appended::Nothing);
    }
    let hashes: Vec<Hash> = entries.iter().map(|e| e.leaf.hash).collect();
    let hint = match hint {
        Some(Tip { frontier, last_row: Some(last_row) }) => {
            return append_known(tx, entries, &hashes, frontier, last_row).await;
        }
        hint => hint.map(|tip| tip.frontier),
    };
    let (growth, last_row) = reserve(tx, &hashes, hint, true).await?;
    let first = growth.first;
    let rows = timeline_rows(entries, first);
    let mut row_ids = HashMap::with_capacity(rows.len());
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let insert = format!("INSERT INTO timeline ({TIMELINE_COLUMNS}) VALUES {}", placeholders(chunk));
        match last_row {
            // SQLite: the rows are numbered on from the last id, in order (see `reserve`);
            // reading each back (RETURNING) crossed to the driver's thread once per row.
            Some(_) => {
                bind(sqlx::query(&insert), chunk).execute(&mut **tx).await?;
            }
            None => {
                let sql = format!("{insert} RETURNING id, leaf");
                for row in bind(sqlx::query(&sql), chunk).fetch_all(&mut **tx).await? {
                    row_ids.insert(row.try_get::<i64, _>("leaf")?, row.try_get::<i64, _>("id")?);
                }
            }
        }
    }
    if let Some(last) = last_row {
        row_ids.extend((first..).zip(last + 1..).take(rows.len()));
    }
    let mut leaves = Vec::with_capacity(entries.len());
    for (entry, index) in entries.iter().zip(first..) {
        leaves.push((&entry.leaf, row_ids.get(&index).copied().ok_or(sqlx::Error::RowNotFound)?));
    }
    write_leaves(tx, &growth, ledger::TIMELINE, &leaves).await?;
    let last_row = last_row.map(|last| last + rows.len() as i64);
    Ok(Appended::Grown(Tip { frontier: growth.frontier, last_row }))
}

/// The timeline columns an append writes, in [`Entry`]'s row order and then the leaf.
const TIMELINE_COLUMNS: &str = "ticket_id, at, kind, actor, body, version, leaf";

/// The timeline rows of the entries, in [`TIMELINE_COLUMNS`]' order, with the leaves reserved
/// from `first` on.
fn timeline_rows(entries: &[&Entry], first: i64) -> Vec<Row> {
    entries.iter().zip(first..).map(|(e, leaf)| e.row.clone().bigint(leaf)).collect()
}

/// The append on SQLite with the state this committer last committed (`frontier` and the
/// timeline's `last_row` id): one statement list, so one crossing to the driver's thread —
/// the state row moved on to the grown frontier if it still is that state (size, frontier and
/// last row id compared under the lock), the timeline rows (numbered on from that id, see
/// [`reserve`]) and their leaves. Should the state have moved (another writer appended), the
/// update changes nothing and a leaf may collide (`OR IGNORE`): fewer rows change than the
/// list writes, and the caller rolls the transaction back ([`Appended::Stale`]).
async fn append_known(
    tx: &mut sqlx::Transaction<'_, Any>,
    entries: &[&Entry],
    hashes: &[Hash],
    frontier: Frontier,
    last_row: i64,
) -> Result<Appended, sqlx::Error> {
    let (was, size) = (frontier.to_bytes(), frontier.size() as i64);
    let mut growth = Growth::of(frontier, hashes)?;
    growth.saved = true;
    let count = entries.len() as i64;
    let state =
        Row::new().bigint(size + count).blob(growth.frontier.to_bytes()).bigint(size).blob(was).bigint(last_row);
    let mut sql = String::from(
        "UPDATE ledger_state SET size = ?, frontier = ? WHERE id = 1 AND size = ? AND frontier = ? \
         AND COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'timeline'), 0) = ?;",
    );
    let rows = timeline_rows(entries, growth.first);
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        sql += &format!("INSERT INTO timeline ({TIMELINE_COLUMNS}) VALUES {};", anonymous_placeholders(chunk));
    }
    let leaves: Vec<(&NewLeaf, i64)> = entries.iter().map(|e| &e.leaf).zip(last_row + 1..).collect();
    let leaf_rows = leaf_rows(&growth, ledger::TIMELINE, &leaves);
    for chunk in leaf_rows.chunks(ROWS_PER_STATEMENT) {
        let (columns, values) = (LEAF_COLUMNS.join(", "), anonymous_placeholders(chunk));
        sql += &format!("INSERT OR IGNORE INTO ledger_leaves ({columns}) VALUES {values};");
    }
    let list: Vec<Row> = std::iter::once(state).chain(rows).chain(leaf_rows).collect();
    let changed = bind(sqlx::query(&sql), &list).execute(&mut **tx).await?.rows_affected();
    Ok(match changed == 1 + 2 * count as u64 {
        true => Appended::Grown(Tip { frontier: growth.frontier, last_row: Some(last_row + count) }),
        false => Appended::Stale,
    })
}

/// Appends timeline rows written before the ledger (the backfill), in the order given, in one
/// transaction through the same append as a change's rows: each row gets its leaf unless it
/// got one meanwhile, in which case nothing is written and `false` is answered (read again).
pub(crate) async fn append_existing(pool: &AnyPool, rows: &[(i64, NewLeaf)]) -> Result<bool, sqlx::Error> {
    if rows.is_empty() {
        return Ok(true);
    }
    let mut tx = pool.begin().await?;
    let hashes: Vec<Hash> = rows.iter().map(|(_, leaf)| leaf.hash).collect();
    let growth = reserve_leaves(&mut tx, &hashes).await?;
    let pointers: Vec<Row> =
        rows.iter().zip(growth.first..).map(|((id, _), leaf)| Row::new().bigint(*id).bigint(leaf)).collect();
    for chunk in pointers.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "WITH v (id, leaf) AS (VALUES {}) UPDATE timeline SET leaf = (SELECT v.leaf FROM v WHERE v.id = timeline.id) \
             WHERE id IN (SELECT id FROM v) AND leaf IS NULL",
            placeholders(chunk)
        );
        if bind(sqlx::query(&sql), chunk).execute(&mut *tx).await?.rows_affected() != chunk.len() as u64 {
            return Ok(false);
        }
    }
    let leaves: Vec<(&NewLeaf, i64)> = rows.iter().map(|(id, leaf)| (leaf, *id)).collect();
    write_leaves(&mut tx, &growth, ledger::TIMELINE, &leaves).await?;
    tx.commit().await?;
    Ok(true)
}

/// The leaves an append reserved: the first index, what each leaf's row keeps of the subtrees
/// it completes (`ledger::completed_nodes`), the frontier after them, and whether that
/// frontier is stored already.
pub(crate) struct Growth {
    /// The index of the first leaf reserved.
    pub(crate) first: i64,
    nodes: Vec<Option<Vec<u8>>>,
    frontier: Frontier,
    saved: bool,
}

impl Growth {
    /// `frontier` grown by the leaf hashes, not yet stored.
    fn of(mut frontier: Frontier, hashes: &[Hash]) -> Result<Growth, sqlx::Error> {
        let first = frontier.size() as i64;
        let mut nodes = Vec::with_capacity(hashes.len());
        for hash in hashes {
            nodes.push(ledger::completed_nodes(&frontier.push(*hash).map_err(ledger::encode_err)?));
        }
        Ok(Growth { first, nodes, frontier, saved: false })
    }
}

/// Locks `ledger_state` — the last lock any transaction takes, after its org, ticket and
/// receipt rows, so lanes cannot deadlock — and reserves a leaf index for each hash, the
/// indices `size .. size + count`, gapless and unique. This serializes appends in commit
/// order, and a transaction that rolls back takes its increment with it.
pub(crate) async fn reserve_leaves(
    tx: &mut sqlx::Transaction<'_, Any>,
    hashes: &[Hash],
) -> Result<Growth, sqlx::Error> {
    Ok(reserve(tx, hashes, None, false).await?.0)
}

/// [`reserve_leaves`], in one statement with storing the grown frontier when the stored state
/// is still the `known` one (size and frontier compared under the lock); else the stored
/// frontier is read under the lock and grown, to be stored with the leaves. For `timeline`
/// rows on SQLite also answers the timeline's last row id (0 before the first): SQLite has
/// one writer and numbers an AUTOINCREMENT table's new rows on from the largest id ever
/// (`sqlite_sequence`), in a statement's VALUES order, so the rows this transaction inserts
/// are the ids after it. PostgreSQL's sequence promises no such thing under concurrent
/// writers (`None`: the rows say their ids).
async fn reserve(
    tx: &mut sqlx::Transaction<'_, Any>,
    hashes: &[Hash],
    known: Option<Frontier>,
    timeline: bool,
) -> Result<(Growth, Option<i64>), sqlx::Error> {
    let count = hashes.len() as i64;
    let sqlite = timeline && tx.backend_name() == "SQLite";
    let last_row = match sqlite {
        true => ", COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'timeline'), 0) AS last_row",
        false => "",
    };
    let read_last_row = |state: &sqlx::any::AnyRow| match sqlite {
        true => state.try_get::<i64, _>("last_row").map(Some),
        false => Ok(None),
    };
    if let Some(known) = known {
        let was = known.to_bytes();
        let was_size = known.size() as i64;
        let mut growth = Growth::of(known, hashes)?;
        let sql = format!(
            "UPDATE ledger_state SET size = $1, frontier = $2 WHERE id = 1 AND size = $3 AND frontier = $4 \
             RETURNING size{last_row}"
        );
        let state = sqlx::query(&sql)
            .bind(was_size + count)
            .bind(growth.frontier.to_bytes())
            .bind(was_size)
            .bind(was)
            .fetch_optional(&mut **tx)
            .await?;
        if let Some(state) = state {
            growth.saved = true;
            return Ok((growth, read_last_row(&state)?));
        }
    }
    let sql = format!("UPDATE ledger_state SET size = size + $1 WHERE id = 1 RETURNING size, frontier{last_row}");
    let state = sqlx::query(&sql).bind(count).fetch_one(&mut **tx).await?;
    let first = state.try_get::<i64, _>("size")? - count;
    let frontier =
        Frontier::from_bytes(first as u64, &state.try_get::<Vec<u8>, _>("frontier")?).map_err(ledger::encode_err)?;
    Ok((Growth::of(frontier, hashes)?, read_last_row(&state)?))
}

/// Writes the leaves [`reserve`] reserved, standing for rows of `source` (each with its
/// source row's id, in the order of the reserved hashes), each with the subtrees it completes,
/// and the grown frontier unless the reservation stored it.
pub(crate) async fn write_leaves(
    tx: &mut sqlx::Transaction<'_, Any>,
    growth: &Growth,
    source: &str,
    leaves: &[(&NewLeaf, i64)],
) -> Result<(), sqlx::Error> {
    insert_rows(tx, "ledger_leaves", &LEAF_COLUMNS, &leaf_rows(growth, source, leaves)).await?;
    if !growth.saved {
        sqlx::query("UPDATE ledger_state SET frontier = $1 WHERE id = 1")
            .bind(growth.frontier.to_bytes())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The columns of a `ledger_leaves` row, in [`leaf_rows`]' order.
const LEAF_COLUMNS: [&str; 6] = ["idx", "hash", "secret", "source", "source_id", "nodes"];

/// The `ledger_leaves` rows of the leaves `growth` reserved, standing for rows of `source`
/// (each with its source row's id), each with the subtrees it completes.
fn leaf_rows(growth: &Growth, source: &str, leaves: &[(&NewLeaf, i64)]) -> Vec<Row> {
    leaves
        .iter()
        .zip(&growth.nodes)
        .zip(growth.first..)
        .map(|(((leaf, row_id), nodes), index)| {
            Row::new()
                .bigint(index)
                .blob(leaf.hash.to_vec())
                .blob(leaf.secret.to_vec())
                .text(source)
                .bigint(*row_id)
                .opt_blob(nodes.clone())
        })
        .collect()
}

/// Records the rosters the changes routed their notices with, each when it differs from its
/// org's last one recorded (the roster history a replay routes with; migration 40), at the
/// instant of the first change of the batch that used it.
async fn record_rosters(tx: &mut sqlx::Transaction<'_, Any>, changes: &[&Change]) -> Result<(), sqlx::Error> {
    let mut used: Vec<(i64, &Roster)> =
        changes.iter().filter_map(|c| Some((c.at.as_second(), c.roster.as_deref()?))).collect();
    used.sort_by_key(|(at, _)| *at);
    let mut seen: Vec<&OrgSlug> = Vec::new();
    for (at, roster) in used {
        if seen.contains(&&roster.org) {
            continue;
        }
        seen.push(&roster.org);
        let text = serde_json::to_string(roster).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        sqlx::query(
            "INSERT INTO roster_history (org, at, roster) SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM \
             roster_history WHERE id = (SELECT MAX(id) FROM roster_history WHERE org = $1) AND roster = $3)",
        )
        .bind(roster.org.as_str())
        .bind(at)
        .bind(text)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Records, for each keyed change, what it writes on its `Idempotency-Key`, in the change's
/// transaction: a crash after the commit leaves the key "written", and a retry replays it.
/// Answers per change what marking found (a change without a key is held and sets nothing);
/// a change whose key a retry took over must not be written.
async fn hold_keys(tx: &mut sqlx::Transaction<'_, Any>, changes: &[&Change]) -> Result<Vec<Mark>, sqlx::Error> {
    let mut held = Vec::with_capacity(changes.len());
    for change in changes {
        held.push(match &change.keyed {
            Some(keyed) => crate::keyed::mark(tx, keyed, &change.written()).await?,
            None => Mark::Kept,
        });
    }
    Ok(held)
}

/// Takes back what [`hold_keys`] set for keyed changes that were not written after all
/// (their ticket moved on: the request decides again and writes under the same key).
async fn forget_written(tx: &mut sqlx::Transaction<'_, Any>, refused: &[&Change]) -> Result<(), sqlx::Error> {
    for keyed in refused.iter().filter_map(|c| c.keyed.as_ref()) {
        crate::keyed::unmark(tx, keyed).await?;
    }
    Ok(())
}

/// Records, for each change that applies an inbox item, the item's receipt in the change's
/// transaction (see `stringer_app::inbox`): a crash after the commit leaves the receipt, and
/// the item processed again finds it. Answers per change whether it may be written — false
/// when its receipt was stored before (its item was applied); a change without one may.
async fn hold_receipts(tx: &mut sqlx::Transaction<'_, Any>, changes: &[&Change]) -> Result<Vec<bool>, sqlx::Error> {
    let mut fresh = Vec::with_capacity(changes.len());
    for change in changes {
        fresh.push(match &change.extras.applies {
            Some(receipt) => sqlx::query(
                "INSERT INTO inbox_applied (receipt, at) VALUES ($1, $2) ON CONFLICT (receipt) DO NOTHING \
                 RETURNING receipt",
            )
            .bind(receipt.as_str())
            .bind(change.at.as_second())
            .fetch_optional(&mut **tx)
            .await?
            .is_some(),
            None => true,
        });
    }
    Ok(fresh)
}

/// Takes back the receipts [`hold_receipts`] stored for changes that were not written after
/// all (their ticket moved on: the item decides again and applies under the same receipt).
async fn forget_receipts(tx: &mut sqlx::Transaction<'_, Any>, receipts: &[&str]) -> Result<(), sqlx::Error> {
    for receipt in receipts {
        sqlx::query("DELETE FROM inbox_applied WHERE receipt = $1").bind(*receipt).execute(&mut **tx).await?;
    }
    Ok(())
}

/// The guards: new tickets inserted unless their id exists; changed ones updated only at
/// the version their change was decided on. Changes of one ticket go in rounds (its first
/// change in the first round, …), so they meet the database in their order. Answers each
/// change's outcome.
async fn guard_tickets(
    tx: &mut sqlx::Transaction<'_, Any>,
    changes: &[&Change],
) -> Result<Vec<Result<(), StoreError>>, sqlx::Error> {
    let mut outcomes: Vec<Result<(), StoreError>> = changes.iter().map(|_| Ok(())).collect();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut rounds: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        let n = seen.entry(c.ticket.id.as_str()).or_insert(0);
        if rounds.len() <= *n {
            rounds.push(Default::default());
        }
        let (inserts, updates) = &mut rounds[*n];
        if c.expected_version.is_none() {
            inserts.push(i)
        } else {
            updates.push(i)
        }
        *n += 1;
    }
    for (inserts, updates) in &rounds {
        let mut written = HashSet::new();
        let numbers = take_numbers(tx, changes, inserts).await?;
        for chunk in inserts.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<Row> = chunk.iter().map(|&i| new_ticket_row(changes[i], numbers.get(&i).copied())).collect();
            let sql = format!(
                "INSERT INTO tickets ({}) VALUES {} ON CONFLICT (id) DO NOTHING RETURNING id",
                NEW_TICKET_COLUMNS.join(", "),
                placeholders(&rows)
            );
            for row in bind(sqlx::query(&sql), &rows).fetch_all(&mut **tx).await? {
                written.insert(row.try_get::<String, _>("id")?);
            }
        }
        for chunk in updates.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<Row> = chunk.iter().map(|&i| changed_ticket_row(changes[i])).collect();
            let sql = format!(
                "WITH v ({}) AS (VALUES {}) UPDATE tickets SET severity = v.severity, status = v.status, next_due = v.next_due, sla_state = v.sla_state, assignee = v.assignee, queue_key = v.queue_key, state = v.state, version = tickets.version + 1, updated_at = v.updated_at FROM v WHERE tickets.id = v.id AND tickets.version = v.expected_version RETURNING tickets.id AS id",
                CHANGED_TICKET_COLUMNS.join(", "),
                placeholders(&rows)
            );
            for row in bind(sqlx::query(&sql), &rows).fetch_all(&mut **tx).await? {
                written.insert(row.try_get::<String, _>("id")?);
            }
        }
        for &i in inserts.iter().chain(updates) {
            if !written.contains(changes[i].ticket.id.as_str()) {
                outcomes[i] = Err(StoreError::Conflict(changes[i].ticket.id.clone()));
            }
        }
    }
    Ok(outcomes)
}

/// Numbers for new tickets, per org in their order, from each org's counter (orgs locked in
/// slug order, before any ticket row, so concurrent lanes cannot deadlock), keyed by the
/// change's position in `changes`. A ticket whose org does not exist gets none (its insert
/// then fails on the org's foreign key).
async fn take_numbers(
    tx: &mut sqlx::Transaction<'_, Any>,
    changes: &[&Change],
    inserts: &[usize],
) -> Result<HashMap<usize, i64>, sqlx::Error> {
    let mut by_org: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for &i in inserts {
        by_org.entry(changes[i].ticket.org.as_str()).or_default().push(i);
    }
    let mut numbers = HashMap::new();
    for (org, positions) in by_org {
        let n = positions.len() as i64;
        let last: Option<i64> =
            sqlx::query_scalar("UPDATE orgs SET ticket_seq = ticket_seq + $1 WHERE slug = $2 RETURNING ticket_seq")
                .bind(n)
                .bind(org)
                .fetch_optional(&mut **tx)
                .await?;
        if let Some(last) = last {
            for (k, i) in positions.into_iter().enumerate() {
                numbers.insert(i, last - n + 1 + k as i64);
            }
        }
    }
    Ok(numbers)
}

/// What the applied changes bring along, in their order: outbox records
/// (the notices the dispatcher hands on, the settle job of a change that ended paging, and
/// what the customer is to be told), what the ticket's thread is to be told, comments, full-text search
/// rows (a new ticket's subject and description, each comment), and the net effect
/// on each (ticket, timer kind) — the last operation wins. (Timeline rows are computed when a
/// change is queued: [`timeline_of`].)
#[derive(Default)]
struct FollowUps {
    outbox: Vec<Row>,
    comments: Vec<Row>,
    search: Vec<Row>,
    timer_sets: Vec<Row>,
    timer_cancels: Vec<Row>,
    reports: Vec<Row>,
    thread_posts: Vec<Row>,
}

impl FollowUps {
    fn of(applied: &[&Change]) -> FollowUps {
        let mut rows = FollowUps::default();
        let mut timer_ops: HashMap<(&str, String), Option<i64>> = HashMap::new();
        let mut timer_order = Vec::new();
        for c in applied {
            let id = c.ticket.id.as_str();
            let at = c.at.as_second();
            let actor = c.extras.actor.as_ref().map(|a| a.to_string());
            // The version this change makes the ticket: it groups the change's rows.
            let version = c.expected_version.map_or(1, |v| v + 1);
            for n in &c.notices {
                if let NoticeBody::ReportDue { due } = n.body {
                    let security = i64::from(c.ticket.security);
                    rows.reports.push(
                        Row::new()
                            .text(id)
                            .text(c.ticket.org.as_str())
                            .int(security)
                            .int(due.as_second())
                            .int(at)
                            .int(at),
                    );
                }
                let (when, kind) = (n.at.as_second(), n.body.kind());
                // Only what the dispatcher hands on is owed: a row nothing settles would stay
                // pending forever (and be walked by every poll).
                if dispatched(&n.body) {
                    rows.outbox.push(Row::new().text(id).int(when).text(kind).text(json(n)).int(at));
                }
            }
            if let Some(ended) = &c.paging_ended {
                rows.outbox.push(Row::new().text(id).int(at).text(PAGING_ENDED).text(json(ended)).int(at));
            }
            for inform in &c.informs {
                let comment = c.extras.comment.as_ref().filter(|cm| cm.public && *inform == Inform::Replied);
                let body = serde_json::json!({ "inform": inform, "comment": comment.map(|cm| &cm.id) }).to_string();
                rows.outbox.push(Row::new().text(id).int(at).text(CUSTOMER_INFORM).text(body).int(at));
            }
            // Each note's id: the ticket, the version this change makes it, the note's place.
            for (n, note) in c.thread_notes.iter().enumerate() {
                rows.thread_posts.push(
                    Row::new()
                        .text(format!("{id}.{version:010}.{n}"))
                        .text(id)
                        .opt_text(actor.clone())
                        .text(json(note))
                        .bigint(at),
                );
            }
            if let Some(details) = c.expected_version.is_none().then_some(c.extras.details.as_ref()).flatten() {
                let text = format!("{} {}", details.subject, details.description);
                rows.search.push(Row::new().text(id).int(1).text(text));
            }
            if let Some(cm) = &c.extras.comment {
                rows.search.push(Row::new().text(id).int(i64::from(cm.public)).text(cm.body.clone()));
                rows.comments.push(
                    Row::new()
                        .text(cm.id.clone())
                        .text(id)
                        .text(cm.author.to_string())
                        .int(i64::from(cm.public))
                        .text(cm.body.clone())
                        .int(at),
                );
            }
            for op in &c.timers {
                let (kind, when) = match op {
                    TimerOp::Set { kind, at } => (kind, Some(at.as_second())),
                    TimerOp::Cancel { kind } => (kind, None),
                };
                let key = (id, timer_key(kind));
                if timer_ops.insert(key.clone(), when).is_none() {
                    timer_order.push(key);
                }
            }
        }
        for key in timer_order {
            match timer_ops[&key] {
                Some(at) => rows.timer_sets.push(Row::new().text(key.0).text(key.1).int(at)),
                None => rows.timer_cancels.push(Row::new().text(key.0).text(key.1)),
            }
        }
        rows
    }
}

/// A timeline row a change writes (its leaf index is appended under the ledger's lock) and
/// its leaf.
struct Entry {
    row: Row,
    leaf: NewLeaf,
}

/// The timeline rows of a change, in order — its events, then its notices — each with its
/// leaf (docs/ledger.md §1: the fields the timeline shows, and the version the change makes
/// the ticket). Refused for a value the ledger cannot encode (a float).
fn timeline_of(c: &Change) -> Result<Vec<Entry>, EncodeError> {
    let (org, ticket) = (c.ticket.org.as_str(), c.ticket.id.as_str());
    let actor = c.extras.actor.as_ref().map(|a| a.to_string());
    let version = c.expected_version.map_or(1, |v| v + 1) as i64;
    // An event's row holds its JSON value; a notice's keeps the text the outbox gets too.
    let events = c.events.iter().map(|e| {
        let body = serde_json::to_value(e).expect("events serialize");
        (e.at.as_second(), e.name(), actor.clone(), body.to_string(), body)
    });
    let notices = c
        .notices
        .iter()
        .map(|n| (n.at.as_second(), n.body.kind(), None, json(n), serde_json::to_value(n).expect("notices serialize")));
    events
        .chain(notices)
        .map(|(at, kind, actor, text, body)| {
            let entry =
                TimelineEntry { org, ticket, version: Some(version), at, kind, actor: actor.as_deref(), body: &body };
            let leaf = NewLeaf::timeline(&entry)?;
            let row = Row::new().text(ticket).int(at).text(kind).opt_text(actor).text(text).bigint(version);
            Ok(Entry { row, leaf })
        })
        .collect()
}

/// The outbox kind of a settle job (see `stringer_app::settle`).
pub(crate) const PAGING_ENDED: &str = "paging.ended";

/// The outbox kind of a customer update (see `stringer_app::mail::letters`).
pub(crate) const CUSTOMER_INFORM: &str = "customer.inform";

/// The thread posts the changes owe, for the tickets that have a thread in their org's
/// shared channel (one thread each; a ticket without one is told nothing, and a ticket
/// whose thread is bound later only of what changes after).
async fn owe_thread_posts(tx: &mut sqlx::Transaction<'_, Any>, rows: &[Row]) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "WITH v (id, ticket_id, actor, note, created_at) AS (VALUES {}) \
             INSERT INTO thread_posts (id, ticket_id, channel, thread, actor, note, created_at, attempts, next_attempt_at) \
             SELECT v.id, v.ticket_id, t.channel, t.thread, v.actor, v.note, v.created_at, 0, v.created_at \
             FROM v JOIN chat_threads t ON t.ticket_id = v.ticket_id WHERE true ON CONFLICT (id) DO NOTHING",
            placeholders(chunk)
        );
        bind(sqlx::query(&sql), chunk).execute(&mut **tx).await?;
    }
    Ok(())
}

async fn set_timers(tx: &mut sqlx::Transaction<'_, Any>, rows: &[Row]) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO timers (ticket_id, kind, at) VALUES {} ON CONFLICT (ticket_id, kind) DO UPDATE SET at = excluded.at, claimed_until = NULL",
            placeholders(chunk)
        );
        bind(sqlx::query(&sql), chunk).execute(&mut **tx).await?;
    }
    Ok(())
}

/// The draft of each report a change made owed (a report is owed when its ticket is
/// resolved): a new draft, or an unpublished report's new due time after a reopening.
async fn owe_reports(tx: &mut sqlx::Transaction<'_, Any>, rows: &[Row]) -> Result<(), sqlx::Error> {
    for row in rows {
        bind(sqlx::query(
            "INSERT INTO reports (ticket_id, org, security, state, due, revision, text_version, created_at, updated_at) \
             VALUES ($1, $2, $3, 'draft', $4, 0, 0, $5, $6) ON CONFLICT (ticket_id) DO UPDATE SET due = excluded.due, \
             updated_at = excluded.updated_at WHERE reports.state <> 'published'",
        ), std::slice::from_ref(row))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn cancel_timers(tx: &mut sqlx::Transaction<'_, Any>, rows: &[Row]) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let pairs: Vec<String> =
            (0..chunk.len()).map(|r| format!("(ticket_id = ${} AND kind = ${})", 2 * r + 1, 2 * r + 2)).collect();
        let sql = format!("DELETE FROM timers WHERE {}", pairs.join(" OR "));
        bind(sqlx::query(&sql), chunk).execute(&mut **tx).await?;
    }
    Ok(())
}

/// A value bound into a multi-row statement.
#[derive(Clone)]
enum Value {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    Blob(Vec<u8>),
    OptBlob(Option<Vec<u8>>),
}

/// One row of a multi-row statement: its values in column order, each with the SQL type it
/// is cast to (PostgreSQL cannot infer the type of a bare parameter inside `VALUES`).
#[derive(Clone, Default)]
struct Row(Vec<(Value, Option<&'static str>)>);

impl Row {
    fn new() -> Row {
        Row::default()
    }

    fn text(mut self, s: impl Into<String>) -> Row {
        self.0.push((Value::Text(s.into()), None));
        self
    }

    fn opt_text(mut self, s: Option<String>) -> Row {
        self.0.push((Value::OptText(s), None));
        self
    }

    fn int(mut self, i: i64) -> Row {
        self.0.push((Value::Int(i), None));
        self
    }

    /// An integer cast to BIGINT (for `VALUES` lists read by name).
    fn bigint(mut self, i: i64) -> Row {
        self.0.push((Value::Int(i), Some("BIGINT")));
        self
    }

    fn opt_bigint(mut self, i: Option<i64>) -> Row {
        self.0.push((Value::OptInt(i), Some("BIGINT")));
        self
    }

    /// Bytes (a hash, a secret), inserted into a BLOB or BYTEA column.
    fn blob(mut self, b: Vec<u8>) -> Row {
        self.0.push((Value::Blob(b), None));
        self
    }

    fn opt_blob(mut self, b: Option<Vec<u8>>) -> Row {
        self.0.push((Value::OptBlob(b), None));
        self
    }
}

fn bind<'q>(
    mut q: sqlx::query::Query<'q, Any, AnyArguments<'q>>,
    rows: &[Row],
) -> sqlx::query::Query<'q, Any, AnyArguments<'q>> {
    for row in rows {
        for (v, _) in &row.0 {
            q = match v.clone() {
                Value::Text(s) => q.bind(s),
                Value::OptText(s) => q.bind(s),
                Value::Int(i) => q.bind(i),
                Value::OptInt(i) => q.bind(i),
                Value::Blob(b) => q.bind(b),
                Value::OptBlob(b) => q.bind(b),
            };
        }
    }
    q
}

/// `($1, $2, $3), ($4, $5, $6), …` for the rows, with their casts.
fn placeholders(rows: &[Row]) -> String {
    let mut n = 0;
    values_list(rows, || {
        n += 1;
        format!("${n}")
    })
}

/// `(?, ?, ?), (?, ?, ?), …` for the rows, with their casts: SQLite's anonymous parameters,
/// bound in order, across the statements of a statement list too.
fn anonymous_placeholders(rows: &[Row]) -> String {
    values_list(rows, || "?".to_owned())
}

/// The rows' `VALUES` tuples, each parameter named by `param` and cast as its row says.
fn values_list(rows: &[Row], mut param: impl FnMut() -> String) -> String {
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .0
                .iter()
                .map(|(_, cast)| match cast {
                    Some(t) => format!("CAST({} AS {t})", param()),
                    None => param(),
                })
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn insert_rows(
    tx: &mut sqlx::Transaction<'_, Any>,
    table: &str,
    columns: &[&str],
    rows: &[Row],
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = format!("INSERT INTO {table} ({}) VALUES {}", columns.join(", "), placeholders(chunk));
        bind(sqlx::query(&sql), chunk).execute(&mut **tx).await?;
    }
    Ok(())
}

/// The columns of a new ticket's row, in [`new_ticket_row`]'s order.
const NEW_TICKET_COLUMNS: [&str; 19] = [
    "id",
    "org",
    "tier",
    "number",
    "requester",
    "subject",
    "description",
    "severity",
    "status",
    "security",
    "channel",
    "opened_at",
    "next_due",
    "sla_state",
    "assignee",
    "queue_key",
    "state",
    "version",
    "updated_at",
];

fn new_ticket_row(c: &Change, number: Option<i64>) -> Row {
    let t = &c.ticket;
    let details = c.extras.details.clone().unwrap_or_default();
    Row::new()
        .text(t.id.as_str())
        .text(t.org.as_str())
        .text(t.tier.as_str())
        .opt_bigint(number)
        .opt_text(details.requester.map(|r| r.to_string()))
        .text(details.subject)
        .text(details.description)
        .text(t.severity.as_str())
        .text(status_name(t.status))
        .int(i64::from(t.security))
        .opt_text(t.intake.map(|ch| json(&ch).trim_matches('"').to_string()))
        .int(t.opened_at.as_second())
        .opt_bigint(next_due(t))
        .text(sla_state(t))
        .opt_text(t.assignee.clone())
        .bigint(queue_key(t))
        .text(json(t))
        .int(1)
        .int(c.at.as_second())
}

/// The columns of a changed ticket's `VALUES` row, in [`changed_ticket_row`]'s order.
const CHANGED_TICKET_COLUMNS: [&str; 10] = [
    "id",
    "expected_version",
    "severity",
    "status",
    "next_due",
    "sla_state",
    "assignee",
    "queue_key",
    "state",
    "updated_at",
];

fn changed_ticket_row(c: &Change) -> Row {
    let t = &c.ticket;
    Row::new()
        .text(t.id.as_str())
        .bigint(c.expected_version.unwrap_or_default() as i64)
        .text(t.severity.as_str())
        .text(status_name(t.status))
        .opt_bigint(next_due(t))
        .text(sla_state(t))
        .opt_text(t.assignee.clone())
        .bigint(queue_key(t))
        .text(json(t))
        .bigint(c.at.as_second())
}

fn timer_key(kind: &TimerKind) -> String {
    json(kind)
}

pub(crate) fn status_name(s: Status) -> &'static str {
    match s {
        Status::Open => "open",
        Status::WaitingOnCustomer => "waiting_on_customer",
        Status::Resolved => "resolved",
    }
}

/// The ticket's worst clock state, for counting: breached, running, paused, met, withdrawn
/// (or `none`).
fn sla_state(t: &Ticket) -> &'static str {
    let has = |state| t.clocks.iter().any(|c| c.state == state);
    if has(ClockState::Breached) {
        "breached"
    } else if has(ClockState::Running) {
        "running"
    } else if has(ClockState::Paused) {
        "paused"
    } else if has(ClockState::Met) {
        "met"
    } else if has(ClockState::Withdrawn) {
        "withdrawn"
    } else {
        "none"
    }
}

/// The earliest due time among the ticket's running clocks.
fn next_due(t: &Ticket) -> Option<i64> {
    t.clocks.iter().filter(|c| c.state == ClockState::Running).filter_map(|c| c.due).map(|d| d.as_second()).min()
}

/// The console queue's order as one integer, so that the queue is one index range: breached
/// tickets first (longest breached first), then running ones by their earliest due time,
/// then the rest by opening. `band << 34 | (instant + 2^32)`; instants fit until 2378.
fn queue_key(t: &Ticket) -> i64 {
    const OFFSET: i64 = 1 << 32;
    let breached = t.clocks.iter().filter(|c| c.state == ClockState::Breached).filter_map(|c| c.breached_at.or(c.due));
    let (band, at) = match (breached.map(|d| d.as_second()).min(), next_due(t)) {
        (Some(at), _) => (0, at),
        (None, Some(due)) => (1, due),
        (None, None) => (2, t.opened_at.as_second()),
    };
    (band << 34) | (at + OFFSET).clamp(0, (1 << 34) - 1)
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("domain values serialize")
}
