//! Stores what a door received in batches: whatever arrived while the previous transaction
//! ran goes into the next one (up to 256 items), so many senders share a commit, and each
//! door answers only once its item is committed (received mail, monitoring signals).

use crate::backend_err;
use async_trait::async_trait;
use sqlx::{Any, AnyPool, Transaction};
use stringer_app::StoreError;
use tokio::sync::{mpsc, oneshot};

/// Something a door hands in, inserted as one row.
#[async_trait]
pub(crate) trait Droppable: Send + Sync + 'static {
    /// Inserts it; answers its row's sequence number.
    async fn insert(&self, tx: &mut Transaction<'static, Any>) -> Result<i64, StoreError>;
}

/// One item waiting to be stored, and who waits for its id.
type Dropped<T> = (T, oneshot::Sender<Result<i64, StoreError>>);

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
    /// Starts the task that writes through `pool`.
    pub(crate) fn start(pool: AnyPool) -> DropBox<T> {
        let (queue, rx) = mpsc::unbounded_channel();
        tokio::spawn(store_all(pool, rx));
        DropBox { queue }
    }

    /// Stores `item`; answers its sequence number once committed.
    pub(crate) async fn put(&self, item: T) -> Result<i64, StoreError> {
        let (done, id) = oneshot::channel();
        self.queue.send((item, done)).map_err(|_| StoreError::Backend("the store is closed".into()))?;
        id.await.map_err(|_| StoreError::Backend("the store is closed".into()))?
    }
}

async fn store_all<T: Droppable>(pool: AnyPool, mut rx: mpsc::UnboundedReceiver<Dropped<T>>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 256 {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        match insert_all(&pool, &batch).await {
            Ok(ids) => {
                for ((_, done), id) in batch.into_iter().zip(ids) {
                    let _ = done.send(Ok(id));
                }
            }
            Err(e) => {
                let why = e.to_string();
                for (_, done) in batch {
                    let _ = done.send(Err(StoreError::Backend(why.clone())));
                }
            }
        }
    }
}

async fn insert_all<T: Droppable>(pool: &AnyPool, batch: &[Dropped<T>]) -> Result<Vec<i64>, StoreError> {
    let mut tx = pool.begin().await.map_err(backend_err)?;
    let mut ids = Vec::with_capacity(batch.len());
    for (item, _) in batch {
        ids.push(item.insert(&mut tx).await?);
    }
    tx.commit().await.map_err(backend_err)?;
    Ok(ids)
}
