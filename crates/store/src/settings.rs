//! Server-wide settings and rate-limit counters, shared by every instance on the database.

use crate::{SqlStore, backend_err};
use sqlx::Row;
use stringer_app::StoreError;

impl SqlStore {
    /// The setting `key`, storing `proposed` first if it has none (every instance then agrees
    /// on the first value written).
    pub async fn setting_or_init(&self, key: &str, proposed: &str) -> Result<String, StoreError> {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(proposed)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_one(&self.write)
            .await
            .map_err(backend_err)?;
        row.try_get("value").map_err(backend_err)
    }

    /// Counts an attempt under `key` in a fixed window of `window` seconds and answers
    /// (window start, attempts in it including this one). A key whose window has passed
    /// starts a new one at `now`; a new window also clears every other passed window, so the
    /// table holds only live keys. One statement, so concurrent instances count exactly.
    pub async fn count_attempt(&self, key: &str, now: i64, window: i64) -> Result<(i64, i64), StoreError> {
        let row = sqlx::query(
            "INSERT INTO rate_limits (key, window_start, attempts) VALUES ($1, $2, 1) ON CONFLICT (key) DO UPDATE SET attempts = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.attempts + 1 END, window_start = CASE WHEN rate_limits.window_start <= $3 THEN excluded.window_start ELSE rate_limits.window_start END RETURNING window_start, attempts",
        )
        .bind(key)
        .bind(now)
        .bind(now - window)
        .fetch_one(&self.write)
        .await
        .map_err(backend_err)?;
        let (start, attempts): (i64, i64) =
            (row.try_get("window_start").map_err(backend_err)?, row.try_get("attempts").map_err(backend_err)?);
        if attempts == 1 {
            sqlx::query("DELETE FROM rate_limits WHERE window_start <= $1")
                .bind(now - window)
                .execute(&self.write)
                .await
                .map_err(backend_err)?;
        }
        Ok((start, attempts))
    }

    /// Records a signed request as seen until `expires_at` (Unix seconds); false when it was
    /// seen already (a replay). Also forgets requests that expired before `now`.
    pub async fn first_sighting(&self, key: &str, now: i64, expires_at: i64) -> Result<bool, StoreError> {
        sqlx::query("DELETE FROM seen_requests WHERE expires_at < $1")
            .bind(now)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        let inserted =
            sqlx::query("INSERT INTO seen_requests (key, expires_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
                .bind(key)
                .bind(expires_at)
                .execute(&self.write)
                .await
                .map_err(backend_err)?;
        Ok(inserted.rows_affected() == 1)
    }

    /// Until when (Unix seconds) sign-ins under `key` are held back; `None` when they are not.
    pub async fn login_locked_until(&self, key: &str, now: i64) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT locked_until FROM login_failures WHERE key = $1 AND locked_until > $2")
            .bind(key)
            .bind(now)
            .fetch_optional(&self.read)
            .await
            .map_err(backend_err)?;
        row.map(|r| r.try_get("locked_until").map_err(backend_err)).transpose()
    }

    /// Counts a failed sign-in under `key`; `backoff(failures)` says how many seconds the key
    /// is then held back. Failures older than `forget_after` seconds are forgotten first.
    pub async fn record_login_failure(
        &self,
        key: &str,
        now: i64,
        forget_after: i64,
        backoff: impl Fn(i64) -> i64,
    ) -> Result<i64, StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE last_at <= $1")
            .bind(now - forget_after)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        let row = sqlx::query(
            "INSERT INTO login_failures (key, failures, locked_until, last_at) VALUES ($1, 1, $2, $2) ON CONFLICT (key) DO UPDATE SET failures = login_failures.failures + 1, last_at = excluded.last_at RETURNING failures",
        )
        .bind(key)
        .bind(now)
        .fetch_one(&self.write)
        .await
        .map_err(backend_err)?;
        let failures: i64 = row.try_get("failures").map_err(backend_err)?;
        sqlx::query("UPDATE login_failures SET locked_until = $1 WHERE key = $2")
            .bind(now + backoff(failures))
            .bind(key)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(failures)
    }

    /// Forgets the failed sign-ins under `key` (after a successful one).
    pub async fn clear_login_failures(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE key = $1")
            .bind(key)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(())
    }
}
