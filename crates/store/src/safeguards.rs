//! The shared counters and one-time records that protect the doors, shared by every
//! instance on the database: settings, rate-limit windows, the replay guard of signed
//! requests, failed-sign-in back-off and idempotency keys — the [`Safeguards`] port.

use crate::rows::RowExt;
use crate::{SqlStore, backend_err};
use async_trait::async_trait;
use stringer_app::StoreError;
use stringer_app::keyed::{Replay, Written};
use stringer_app::ports::{Backoff, Safeguards};
use stringer_app::records::KeyClaim;
use stringer_core::ids::UserId;

#[async_trait]
impl Safeguards for SqlStore {
    async fn setting_or_init(&self, key: &str, proposed: &str) -> Result<String, StoreError> {
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
        row.col("value")
    }

    async fn count_attempt(&self, key: &str, now: i64, window: i64) -> Result<(i64, i64), StoreError> {
        let row = sqlx::query(
            "INSERT INTO rate_limits (key, window_start, attempts) VALUES ($1, $2, 1) ON CONFLICT (key) DO UPDATE SET attempts = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.attempts + 1 END, window_start = CASE WHEN rate_limits.window_start <= $3 THEN excluded.window_start ELSE rate_limits.window_start END RETURNING window_start, attempts",
        )
        .bind(key)
        .bind(now)
        .bind(now - window)
        .fetch_one(&self.write)
        .await
        .map_err(backend_err)?;
        let (start, attempts): (i64, i64) = (row.col("window_start")?, row.col("attempts")?);
        if attempts == 1 {
            sqlx::query("DELETE FROM rate_limits WHERE window_start <= $1")
                .bind(now - window)
                .execute(&self.write)
                .await
                .map_err(backend_err)?;
        }
        Ok((start, attempts))
    }

    async fn first_sighting(&self, key: &str, now: i64, expires_at: i64) -> Result<bool, StoreError> {
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

    async fn login_locked_until(&self, key: &str, now: i64) -> Result<Option<i64>, StoreError> {
        let read = sqlx::query("SELECT locked_until FROM login_failures WHERE key = $1 AND locked_until > $2");
        self.row(read.bind(key).bind(now), |r| r.col("locked_until")).await
    }

    async fn record_login_failure(
        &self,
        key: &str,
        now: i64,
        forget_after: i64,
        backoff: Backoff,
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
        let failures: i64 = row.col("failures")?;
        sqlx::query("UPDATE login_failures SET locked_until = $1 WHERE key = $2")
            .bind(now + backoff(failures))
            .bind(key)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(failures)
    }

    async fn clear_login_failures(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE key = $1")
            .bind(key)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn claim_idempotent(
        &self,
        user: &UserId,
        key: &str,
        request_hash: &str,
        claim: &str,
        now: i64,
        lease: i64,
        expiry: i64,
    ) -> Result<KeyClaim, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, created_at, claim) VALUES ($1, $2, $3, 0, '', $4, $5) ON CONFLICT (user_id, key) DO NOTHING",
        )
        .bind(user.as_str())
        .bind(key)
        .bind(request_hash)
        .bind(now)
        .bind(claim)
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        if inserted.rows_affected() == 1 {
            return Ok(KeyClaim::New { claim: claim.to_string() });
        }
        // An abandoned claim (nothing written, past its lease) or an expired key is taken over;
        // a key whose write committed is not.
        let taken_over = sqlx::query(
            "UPDATE idempotency_keys SET created_at = $3, request_hash = $4, status = 0, body = '', redacted = 0, claim = $7, written_as = '', written_kind = '', written_id = '', written_status = 0 WHERE user_id = $1 AND key = $2 AND ((status = 0 AND written_as = '' AND created_at <= $5 AND request_hash = $4) OR ((status <> 0 OR written_as <> '') AND created_at <= $6))",
        )
        .bind(user.as_str())
        .bind(key)
        .bind(now)
        .bind(request_hash)
        .bind(now - lease)
        .bind(now - expiry)
        .bind(claim)
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        if taken_over.rows_affected() == 1 {
            return Ok(KeyClaim::New { claim: claim.to_string() });
        }
        let row = sqlx::query(
            "SELECT request_hash, status, body, redacted, written_as, written_kind, written_id, written_status FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        )
        .bind(user.as_str())
        .bind(key)
        .fetch_one(&self.write)
        .await
        .map_err(backend_err)?;
        let seen_hash: String = row.col("request_hash")?;
        let status: i64 = row.col("status")?;
        let written: String = row.col("written_as")?;
        Ok(if seen_hash != request_hash {
            KeyClaim::OtherRequest
        } else if status != 0 {
            KeyClaim::Done { status, body: row.col("body")?, redacted: row.flag("redacted")? }
        } else if let Some(replay) = Replay::parse(&written) {
            KeyClaim::Written(Written {
                replay,
                kind: row.col("written_kind")?,
                id: row.col("written_id")?,
                status: row.col("written_status")?,
            })
        } else {
            KeyClaim::InProgress
        })
    }

    async fn finish_idempotent(
        &self,
        user: &UserId,
        key: &str,
        claim: &str,
        status: i64,
        body: &str,
        redacted: bool,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE idempotency_keys SET status = $1, body = $2, redacted = $3 WHERE user_id = $4 AND key = $5 AND claim = $6",
        )
        .bind(status)
        .bind(body)
        .bind(i64::from(redacted))
        .bind(user.as_str())
        .bind(key)
        .bind(claim)
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn release_idempotent(&self, user: &UserId, key: &str, claim: &str, refused: bool) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND claim = $3 AND status = 0 \
             AND ($4 OR written_as = '')",
        )
        .bind(user.as_str())
        .bind(key)
        .bind(claim)
        .bind(refused)
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn purge_idempotency_keys(&self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at <= $1")
            .bind(before)
            .execute(&self.write)
            .await
            .map_err(backend_err)?;
        Ok(done.rows_affected())
    }
}
