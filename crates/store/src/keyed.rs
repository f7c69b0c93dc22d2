//! The one place a write marks the running request's `Idempotency-Key` with what it wrote,
//! in the write's own transaction (see [`stringer_app::keyed`]): the ticket committer does it
//! for keyed [`stringer_app::Change`]s, the drop box for what the doors hand in (received
//! mail), every other write a keyed request answers with through [`SqlStore::mark_key`]. A
//! mark that finds its claim gone (a retry took the key over) refuses the write, which is
//! rolled back.

use crate::{SqlStore, backend_err};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, Transaction};
use stringer_app::StoreError;
use stringer_app::keyed::{KeyedWrite, Written};

/// `query` with the request's claim on its key bound as its last three parameters (user,
/// key, claim): the row every mark names.
fn on_claim<'q>(query: Query<'q, Any, AnyArguments<'q>>, keyed: &'q KeyedWrite) -> Query<'q, Any, AnyArguments<'q>> {
    query.bind(keyed.user.as_str()).bind(&keyed.key).bind(&keyed.claim)
}

/// What marking a key found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mark {
    /// The key now records this write.
    Set,
    /// An earlier write of the same request marked it already: the request answers with
    /// that one (its first write is what it made; what follows is a consequence of it).
    Kept,
    /// The claim is gone (a retry took the key over): the write must not happen.
    Gone,
}

/// Records `written` on `keyed`'s key in `tx`, unless an earlier write of the same request
/// did (see [`Mark`]).
pub(crate) async fn mark(
    tx: &mut Transaction<'_, Any>,
    keyed: &KeyedWrite,
    written: &Written,
) -> Result<Mark, sqlx::Error> {
    let marked = on_claim(
        sqlx::query(
            "UPDATE idempotency_keys SET written_as = $1, written_kind = $2, written_id = $3, written_status = $4 WHERE user_id = $5 AND key = $6 AND claim = $7 AND status = 0 AND written_as = ''",
        )
        .bind(written.replay.as_str())
        .bind(&written.kind)
        .bind(&written.id)
        .bind(written.status),
        keyed,
    )
    .execute(&mut **tx)
    .await?;
    if marked.rows_affected() == 1 {
        return Ok(Mark::Set);
    }
    let held = on_claim(
        sqlx::query(
            "SELECT status FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND claim = $3 AND status = 0",
        ),
        keyed,
    )
    .fetch_optional(&mut **tx)
    .await?;
    Ok(if held.is_some() { Mark::Kept } else { Mark::Gone })
}

/// Takes back a mark this write [set](Mark::Set) in `tx`: the write it recorded was refused
/// after all (a ticket that moved on: the request decides again and writes under the same
/// key).
pub(crate) async fn unmark(tx: &mut Transaction<'_, Any>, keyed: &KeyedWrite) -> Result<(), sqlx::Error> {
    on_claim(
        sqlx::query(
            "UPDATE idempotency_keys SET written_as = '', written_kind = '', written_id = '', written_status = 0 WHERE user_id = $1 AND key = $2 AND claim = $3 AND status = 0",
        ),
        keyed,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Names in `tx` what a write [marked](Mark::Set) before it knew its id (a row numbered by
/// the database): `id`.
pub(crate) async fn name_written(
    tx: &mut Transaction<'_, Any>,
    keyed: &KeyedWrite,
    id: &str,
) -> Result<(), sqlx::Error> {
    on_claim(
        sqlx::query(
            "UPDATE idempotency_keys SET written_id = $1 WHERE user_id = $2 AND key = $3 AND claim = $4 AND status = 0",
        )
        .bind(id),
        keyed,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl SqlStore {
    /// The key of the request running now, if it sent one.
    pub(crate) fn current_key(&self) -> Option<KeyedWrite> {
        (self.keyed)()
    }

    /// Marks the running request's key, if it runs under one, with `written`, in the write's
    /// transaction `tx`; [`StoreError::KeyTakenOver`] when a retry took the key over, and the
    /// caller then drops `tx` (the write is rolled back).
    pub(crate) async fn mark_key(&self, tx: &mut Transaction<'_, Any>, written: Written) -> Result<(), StoreError> {
        let Some(keyed) = self.current_key() else {
            return Ok(());
        };
        match mark(tx, &keyed, &written).await.map_err(backend_err)? {
            Mark::Set | Mark::Kept => Ok(()),
            Mark::Gone => Err(StoreError::KeyTakenOver),
        }
    }
}
