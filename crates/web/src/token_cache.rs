//! A short-lived, in-process cache of authenticated bearer tokens, so a busy client's every
//! request does not cost a database round trip before the work it asked for. An entry lives
//! [`TOKEN_CACHE_TTL`] at most: revoking a token clears this instance's cache at once, and
//! other instances stop accepting it within that time. Expiry is checked on every request.

use crate::auth::Caller;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an authenticated token is trusted without asking the database again.
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(1);
/// The most tokens cached; past it, stale entries go, and if none is stale, all.
const MAX_ENTRIES: usize = 10_000;

struct Entry {
    fetched: Instant,
    /// The token's expiry (Unix seconds), re-checked on each use.
    expires_at: Option<i64>,
    caller: Caller,
}

/// Token hash → the caller it authenticated.
#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl TokenCache {
    /// The caller of a token authenticated less than [`TOKEN_CACHE_TTL`] ago and not expired
    /// at `now_unix`.
    pub fn get(&self, secret_hash: &str, now: Instant, now_unix: i64) -> Option<Caller> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let e = entries.get(secret_hash)?;
        let fresh = now.duration_since(e.fetched) < TOKEN_CACHE_TTL && e.expires_at.is_none_or(|x| x > now_unix);
        fresh.then(|| e.caller.clone())
    }

    /// Remembers a token the database has just authenticated.
    pub fn put(&self, secret_hash: String, expires_at: Option<i64>, caller: Caller, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| now.duration_since(e.fetched) < TOKEN_CACHE_TTL);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(secret_hash, Entry { fetched: now, expires_at, caller });
    }

    /// Forgets every token (after a revocation).
    pub fn clear(&self) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stringer_app::records::UserRecord;

    fn caller() -> Caller {
        let user = UserRecord {
            id: "usr_1".into(),
            email: "a@b.example".into(),
            name: "a".into(),
            role: stringer_core::ids::UserRole::Engineer,
            org: None,
            federal_cleared: false,
            password_hash: None,
            created_at: 0,
            time_zone: None,
            deactivated_at: None,
        };
        let scopes = stringer_core::access::Scopes::of(&[stringer_core::access::Scope::Read]);
        Caller::new(user, scopes, stringer_app::act::Proof::Token).unwrap()
    }

    #[test]
    fn entries_expire_with_the_ttl_the_token_and_a_clear() {
        let cache = TokenCache::default();
        let t0 = Instant::now();
        cache.put("h".into(), Some(1_000), caller(), t0);
        assert!(cache.get("h", t0, 999).is_some());
        assert!(cache.get("other", t0, 999).is_none());
        assert!(cache.get("h", t0, 1_000).is_none(), "the token expired");
        assert!(cache.get("h", t0 + TOKEN_CACHE_TTL, 999).is_none(), "the entry is stale");
        cache.clear();
        assert!(cache.get("h", t0, 999).is_none(), "cleared");
    }
}
