//! What the doors hand in (received mail, monitoring signals, channel messages): stored in
//! batches — whatever arrived while the previous transaction ran goes into the next one (up
//! to 256 items), so many senders share a commit, and each door answers only once its item is
//! committed — and claimed for processing with a lease, pending rows in the order stored
//! (the one [`Inbox`] claim for every kind), and settled.
//! An item handed in by a keyed request marks the request's `Idempotency-Key` in its batch's
//! transaction (see [`crate::keyed`]), or is left out of it when its claim is gone.

use crate::keyed::Mark;
use crate::rows::RowExt;
use crate::{Backend, SqlStore, backend_err};
use async_trait::async_trait;
use sqlx::any::AnyArguments;
use sqlx::any::AnyRow;
use sqlx::query::Query;
use sqlx::{Any, AnyPool};
use std::sync::Arc;
use stringer_app::StoreError;
use stringer_app::inbox::Inbox;
use stringer_app::keyed::{KeyedWrite, Written};
use tokio::sync::{Notify, mpsc, oneshot};

/// Something a door hands in, inserted as one row of a table with an ascending `id`.
pub(crate) trait Droppable: Send + Sync + 'static {
    /// `INSERT INTO table (columns…)`, without `VALUES`.
    const INSERT: &'static str;
    /// How many values a row binds.
    const VALUES: usize;
    /// What a keyed request that hands one in wrote, for its key (answered 202).
    const KIND: &'static str;
    /// Binds this row's values, in the order of [`Droppable::INSERT`]'s columns.
    fn bind<'q>(&'q self, query: Query<'q, Any, AnyArguments<'q>>) -> Query<'q, Any, AnyArguments<'q>>;
}

/// One item waiting to be stored, the key of the request that handed it in, and who waits
/// for its id.
type Dropped<T> = (T, Option<KeyedWrite>, oneshot::Sender<Result<i64, StoreError>>);

/// The queue to the task that stores items of one kind.
#[derive(Debug)]
pub(crate) struct DropBox<T> {
    queue: mpsc::UnboundedSender<Dropped<T>>,
}

impl<T> Clone for DropBox<T> {
    fn clone(&self) -> Self {
        DropBox { queue: self.queue.clone() }
    }
}

impl<T: Droppable> DropBox<T> {
    /// Starts the task that writes through `pool`, ringing `bell` after each batch committed.
    pub(crate) fn start(pool: AnyPool, backend: Backend, bell: Arc<Notify>) -> DropBox<T> {
        let (queue, rx) = mpsc::unbounded_channel();
        tokio::spawn(store_all(pool, backend, rx, bell));
        DropBox { queue }
    }

    /// Stores `item`, handed in under `keyed`; answers its sequence number once committed.
    pub(crate) async fn put(&self, item: T, keyed: Option<KeyedWrite>) -> Result<i64, StoreError> {
        let (done, id) = oneshot::channel();
        self.queue.send((item, keyed, done)).map_err(|_| StoreError::Backend("the store is closed".into()))?;
        id.await.map_err(|_| StoreError::Backend("the store is closed".into()))?
    }
}

async fn store_all<T: Droppable>(
    pool: AnyPool,
    backend: Backend,
    mut rx: mpsc::UnboundedReceiver<Dropped<T>>,
    bell: Arc<Notify>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 256 {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        match insert_all(&pool, backend, &batch).await {
            Ok(ids) => {
                bell.notify_one();
                for ((_, _, done), id) in batch.into_iter().zip(ids) {
                    let _ = done.send(id);
                }
            }
            Err(e) => {
                let why = e.to_string();
                for (_, _, done) in batch {
                    let _ = done.send(Err(StoreError::Backend(why.clone())));
                }
            }
        }
    }
}

/// Inserts the batch as one multi-row statement, in one transaction with the marks of the
/// keys its items were handed in under (a batch with no keyed item, as the doors' are, is the
/// statement alone); answers each item's id (or why it was left out: its key was taken over),
/// in batch order.
async fn insert_all<T: Droppable>(
    pool: &AnyPool,
    backend: Backend,
    batch: &[Dropped<T>],
) -> Result<Vec<Result<i64, StoreError>>, StoreError> {
    if batch.iter().all(|(_, keyed, _)| keyed.is_none()) {
        let items: Vec<&T> = batch.iter().map(|(item, _, _)| item).collect();
        return Ok(insert_rows(pool, backend, &items).await?.into_iter().map(Ok).collect());
    }
    let mut tx = pool.begin().await.map_err(backend_err)?;
    let mut marks = Vec::with_capacity(batch.len());
    for (_, keyed, _) in batch {
        marks.push(match keyed {
            Some(keyed) => {
                crate::keyed::mark(&mut tx, keyed, &Written::done(T::KIND, "", 202)).await.map_err(backend_err)?
            }
            None => Mark::Kept,
        });
    }
    let stored: Vec<&T> =
        batch.iter().zip(&marks).filter(|(_, m)| **m != Mark::Gone).map(|((item, _, _), _)| item).collect();
    let mut ids = insert_rows(&mut *tx, backend, &stored).await?.into_iter();
    let mut answers = Vec::with_capacity(batch.len());
    for ((_, keyed, _), mark) in batch.iter().zip(marks) {
        answers.push(match (mark, keyed) {
            (Mark::Gone, _) => Err(StoreError::KeyTakenOver),
            (Mark::Set, Some(keyed)) => {
                let id = ids.next().unwrap_or_default();
                crate::keyed::name_written(&mut tx, keyed, &id.to_string()).await.map_err(backend_err)?;
                Ok(id)
            }
            _ => Ok(ids.next().unwrap_or_default()),
        });
    }
    tx.commit().await.map_err(backend_err)?;
    Ok(answers)
}

/// Inserts `items` as one multi-row statement (none when there are none); answers their ids
/// in order. Both backends number the rows of one `INSERT … VALUES` in the order of its rows
/// (SQLite with its single writer, PostgreSQL's sequence row by row), so the ids returned,
/// sorted, are the items' in order.
async fn insert_rows<'e, T: Droppable>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    backend: Backend,
    items: &[&T],
) -> Result<Vec<i64>, StoreError> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("{} VALUES {} RETURNING id", T::INSERT, backend.value_rows(items.len(), T::VALUES, 1));
    let mut query = sqlx::query(&sql);
    for item in items {
        query = item.bind(query);
    }
    let returned = query.fetch_all(executor).await.map_err(backend_err)?;
    let mut ids = returned.iter().map(|r| r.col::<i64>("id")).collect::<Result<Vec<_>, _>>()?;
    if ids.len() != items.len() {
        return Err(StoreError::Backend(format!("stored {} of {} items", ids.len(), items.len())));
    }
    ids.sort_unstable();
    Ok(ids)
}

/// A kind of stored item the inbox claims: its table (with an ascending `id`, a `state` that
/// is `'pending'` until settled, `attempts` and `claimed_until`), the columns a claim reads,
/// and how a row reads.
pub trait Pending: Sized + Send + Sync + 'static {
    /// The table.
    const TABLE: &'static str;
    /// The columns a claim answers (`id` among them).
    const COLUMNS: &'static str;
    /// When two rows `e` and `t` share an order key (their items are processed in the order
    /// stored), as SQL over those two aliases.
    const SAME_KEY: &'static str;
    /// Reads one claimed row.
    fn from_row(row: &AnyRow) -> Result<Self, StoreError>;
}

/// The one claim of the inbox, for every kind of item.
#[async_trait]
impl<T: Pending> Inbox<T> for SqlStore {
    /// Claims up to `limit` pending rows whose lease ran out (or never began), in id order,
    /// leasing them until `lease_until` and counting the attempt, in one statement. A row
    /// waits while an earlier row of its order key is still leased (a crashed instance's
    /// claim, an item whose processing failed), so one key's items are processed in the order
    /// stored whatever happened to the instance that claimed them first. On PostgreSQL, rows
    /// another instance is claiming are skipped.
    async fn claim(&self, now: i64, lease_until: i64, limit: i64) -> Result<Vec<T>, StoreError> {
        let lock = if self.backend == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let (table, columns, same_key) = (T::TABLE, T::COLUMNS, T::SAME_KEY);
        let sql = format!(
            "UPDATE {table} SET claimed_until = $1, attempts = attempts + 1 WHERE id IN (SELECT t.id FROM {table} t \
             WHERE t.state = 'pending' AND (t.claimed_until IS NULL OR t.claimed_until <= $2) \
             AND NOT EXISTS (SELECT 1 FROM {table} e WHERE e.state = 'pending' AND e.claimed_until > $2 \
             AND e.id < t.id AND {same_key}) ORDER BY t.id LIMIT $3{lock}) RETURNING {columns}"
        );
        let mut rows = sqlx::query(&sql)
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.write)
            .await
            .map_err(backend_err)?;
        rows.sort_by_cached_key(|r| r.col::<i64>("id").unwrap_or(i64::MAX));
        rows.iter().map(T::from_row).collect()
    }
}

impl SqlStore {
    /// Settles processed rows of `table` in one statement: each `(id, outcome, ticket)` is
    /// done, with what it came to in words and the ticket it opened or acted on, at `at`.
    pub(crate) async fn settle_done<'e>(
        &self,
        executor: impl sqlx::Executor<'e, Database = Any>,
        table: &str,
        settled: &[(i64, &str, Option<&str>)],
        at: i64,
    ) -> Result<(), StoreError> {
        if settled.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "UPDATE {table} SET state = 'done', outcome = v.column2, ticket_id = v.column3, settled_at = {}, \
             claimed_until = NULL FROM (VALUES {}) AS v WHERE {table}.id = v.column1",
            self.backend.mark(1),
            self.backend.value_rows(settled.len(), 3, 2)
        );
        let mut query = sqlx::query(&sql).bind(at);
        for (id, outcome, ticket) in settled {
            query = query.bind(*id).bind(*outcome).bind(*ticket);
        }
        query.execute(executor).await.map_err(backend_err)?;
        Ok(())
    }
}
