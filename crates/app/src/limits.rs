//! Budgets of attempts: a fixed number per key per window, counted in the database
//! ([`Safeguards::count_attempt`]), so several instances share one budget and a restart does
//! not reset it. Sign-ins, codes asked for, "Contact us" messages and the API's new tokens
//! are counted so.

use crate::ports::Safeguards;
use crate::store::StoreError;

/// Attempts allowed per key per window.
#[derive(Clone, Copy, Debug)]
pub struct RateLimit {
    /// Attempts allowed in one window.
    pub limit: i64,
    /// The window, in seconds; the same for every key.
    pub window: i64,
}

/// A spent budget: what was refused, and the seconds until the key's window ends.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what}; try again in {wait} s")]
pub struct Spent {
    /// What was refused, e.g. "too many sign-in attempts from this address".
    pub what: String,
    /// Seconds to wait.
    pub wait: i64,
}

impl RateLimit {
    /// Counts an attempt under `key` at `now` (Unix seconds): `Some` once the key's budget is
    /// spent, saying `what` was refused.
    pub async fn check(
        &self,
        store: &dyn Safeguards,
        key: &str,
        now: i64,
        what: &str,
    ) -> Result<Option<Spent>, StoreError> {
        let (start, attempts) = store.count_attempt(key, now, self.window).await?;
        let wait = (start + self.window - now).max(1);
        Ok((attempts > self.limit).then(|| Spent { what: what.to_string(), wait }))
    }
}
