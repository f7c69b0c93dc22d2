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
}
