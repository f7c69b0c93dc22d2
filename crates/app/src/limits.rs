//! Budgets of attempts: a fixed number per key per window, counted in the database
//! ([`Safeguards::count_attempt`]), so several instances share one budget and a restart does
//! not reset it. Sign-ins, codes asked for, "Contact us" messages and the API's new tokens
//! are counted so. A client address is counted by [`client_key`]: an IPv6 client by its /64.

use crate::ports::Safeguards;
use crate::store::StoreError;
use std::net::IpAddr;

/// The key a client address is counted under: an IPv4 address as it is; an IPv6 address by
/// its /64, the smallest block a network hands one subscriber, so a client cannot hop through
/// the 2^64 addresses it holds for fresh budgets (an IPv4-mapped address is its IPv4 address);
/// anything that is no address, as given.
pub fn client_key(ip: &str) -> String {
    match ip.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => ip.to_string(),
    }
}

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

#[cfg(test)]
mod tests {
    use super::client_key;

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let one = client_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd");
        assert_eq!(one, "2001:db8:1:2::/64");
        assert_eq!(client_key("2001:db8:1:2::1"), one, "another address of the same /64 shares the budget");
        assert_ne!(client_key("2001:db8:1:3::1"), one, "the next /64 is another client");
    }

    #[test]
    fn ipv4_clients_count_by_address() {
        assert_eq!(client_key("192.0.2.7"), "192.0.2.7");
        assert_ne!(client_key("192.0.2.8"), client_key("192.0.2.7"));
        assert_eq!(client_key("::ffff:192.0.2.7"), "192.0.2.7", "a mapped IPv4 address is that address");
        assert_eq!(client_key("not an address"), "not an address");
    }
}
