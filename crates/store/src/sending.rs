//! The tables of messages sent with a lease and retries (status notices, report
//! announcements): a row is due while `next_attempt_at` has passed; claiming pushes it to the
//! lease's end so no other instance takes it; a send ends it (`sent_at`, or the error it was
//! given up with) or puts it back for later.

use crate::{SqlStore, backend_err};
use sqlx::any::AnyRow;
use stringer_app::StoreError;

impl SqlStore {
    /// Claims up to `limit` rows of `table` due at `now` until `lease_until`, oldest first,
    /// answering `returning` of each (PostgreSQL skips rows another instance is claiming).
    pub(crate) async fn claim_due(
        &self,
        table: &str,
        returning: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<AnyRow>, StoreError> {
        let lock = if self.backend == crate::Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = format!(
            "UPDATE {table} SET next_attempt_at = $1 WHERE id IN (SELECT id FROM {table} \
             WHERE next_attempt_at <= $2 ORDER BY next_attempt_at, id LIMIT $3{lock}) RETURNING {returning}"
        );
        sqlx::query(&sql).bind(lease_until).bind(now).bind(limit).fetch_all(&self.write).await.map_err(backend_err)
    }

    /// A row of `table` sent at `at` (`error: None`) or given up with `error`.
    pub(crate) async fn send_done(
        &self,
        table: &str,
        id: &str,
        at: i64,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE {table} SET next_attempt_at = NULL, sent_at = $1, error = $2, attempts = attempts + 1 WHERE id = $3"
        );
        sqlx::query(&sql)
            .bind(error.is_none().then_some(at))
            .bind(error)
            .bind(id)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    /// A row of `table` that failed for now: tried again at `next` (`None`: given up).
    pub(crate) async fn send_later(
        &self,
        table: &str,
        id: &str,
        next: Option<i64>,
        error: &str,
    ) -> Result<(), StoreError> {
        let sql = format!("UPDATE {table} SET next_attempt_at = $1, error = $2, attempts = attempts + 1 WHERE id = $3");
        sqlx::query(&sql).bind(next).bind(error).bind(id).execute(&self.write).await.map_err(backend_err)?;
        Ok(())
    }
}
