//! The outbox's tables (status notices, report announcements, letters, channel kickoffs,
//! account mail, thread posts; deliveries and settle jobs, claimed their own way, are in `deliveries`),
//! one SQL for all of them behind the one port [`Sendings`]: a row is due while
//! `next_attempt_at` has passed; claiming pushes it to the lease's end so no other instance
//! takes it; a send ends it (`sent_at`, or the error it was given up with) or puts it back
//! for later.

use crate::{SqlStore, backend_err};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use stringer_app::StoreError;
use stringer_app::accounts::letter::AccountLetter;
use stringer_app::chat::{OwedKickoff, ThreadPost};
use stringer_app::letters::Letter;
use stringer_app::outbox::{Room, Sendings};
use stringer_app::postmortem::Announcement;
use stringer_app::status::subscribers::NoticeRecord;

/// [`Sendings`] of `$item` over `$table`, claimed by `$claim` (which reads each kind's row).
macro_rules! sendings {
    ($item:ty, $table:literal, $claim:ident) => {
        #[async_trait]
        impl Sendings<$item> for SqlStore {
            async fn claim(&self, now: i64, lease_until: i64, room: &Room) -> Result<Vec<$item>, StoreError> {
                self.$claim(now, lease_until, room.limit).await
            }
            async fn sent(&self, id: &str, at: i64, _receipt: Option<&str>) -> Result<(), StoreError> {
                self.send_done($table, id, at, None).await
            }
            async fn later(&self, id: &str, _at: i64, next: i64, why: &str) -> Result<(), StoreError> {
                self.send_later($table, id, next, why).await
            }
            async fn given_up(&self, id: &str, at: i64, why: &str) -> Result<(), StoreError> {
                self.send_done($table, id, at, Some(why)).await
            }
        }
    };
}

sendings!(NoticeRecord, "status_notices", claim_notices);
sendings!(Announcement, "report_announcements", claim_announcements);
sendings!(Letter, "org_letters", claim_letters);
sendings!(OwedKickoff, "channel_kickoffs", claim_kickoffs);
sendings!(AccountLetter, "account_mail", claim_account_mail);
sendings!(ThreadPost, "thread_posts", claim_thread_posts);

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
    async fn send_done(&self, table: &str, id: &str, at: i64, error: Option<&str>) -> Result<(), StoreError> {
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

    /// A row of `table` that failed for now: tried again at `next`.
    async fn send_later(&self, table: &str, id: &str, next: i64, error: &str) -> Result<(), StoreError> {
        let sql = format!("UPDATE {table} SET next_attempt_at = $1, error = $2, attempts = attempts + 1 WHERE id = $3");
        sqlx::query(&sql).bind(next).bind(error).bind(id).execute(&self.write).await.map_err(backend_err)?;
        Ok(())
    }
}
