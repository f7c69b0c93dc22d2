//! Rate limits on login, token creation and customer pages: a fixed number of attempts per
//! key per window, counted in the database, so several instances share one budget and a
//! restart does not reset it.

use stringer_app::StoreError;
use stringer_app::ports::Safeguards;

/// Attempts allowed per key per window.
#[derive(Clone, Copy, Debug)]
pub struct RateLimit {
    /// Attempts allowed in one window.
    pub limit: i64,
    /// The window, in seconds; the same for every key.
    pub window: i64,
}

impl RateLimit {
    /// Counts an attempt under `key` at `now` (Unix seconds): `None` when allowed, else the
    /// seconds to wait until the key's window ends.
    pub async fn check(&self, store: &dyn Safeguards, key: &str, now: i64) -> Result<Option<i64>, StoreError> {
        let (start, attempts) = store.count_attempt(key, now, self.window).await?;
        Ok((attempts > self.limit).then(|| (start + self.window - now).max(1)))
    }
}
