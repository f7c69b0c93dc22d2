//! Rate limits on login, token creation, customer pages, codes and forms: a fixed number of
//! attempts per key per window, counted in the database (the application's [`RateLimit`]),
//! answered 429 once spent.

use crate::AppState;
use crate::error::ApiError;
pub use stringer_app::limits::RateLimit;

/// Counts an attempt against a budget; 429 once it is spent.
pub async fn spend(state: &AppState, limit: RateLimit, key: String, what: &str) -> Result<(), ApiError> {
    match limit.check(state.ports.safeguards.as_ref(), &key, state.now().as_second(), what).await? {
        Some(spent) => Err(spent.into()),
        None => Ok(()),
    }
}
