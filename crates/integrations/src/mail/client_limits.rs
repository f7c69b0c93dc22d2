//! What one SMTP client may hold of the listener: so many sessions at once and so many
//! messages a minute, counted per client address (an IPv6 client by its /64, the block one
//! host is usually given), so that one client can neither lock everyone else out nor flood
//! the mailroom.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The per-client limits and the short wait for a client that has not started a message.
#[derive(Clone, Copy, Debug)]
pub struct SmtpLimits {
    /// Sessions one client may hold open at once; more are answered `421` and closed.
    pub sessions_per_client: usize,
    /// Messages one client may start a minute (bursts of a minute's worth); past it, `MAIL`
    /// is answered `451` and the client tries again later.
    pub messages_per_minute: u32,
    /// How long a session may sit idle before its first `MAIL FROM` (after it, the usual
    /// five minutes of RFC 5321).
    pub idle_before_mail: Duration,
}

impl Default for SmtpLimits {
    fn default() -> SmtpLimits {
        SmtpLimits { sessions_per_client: 20, messages_per_minute: 120, idle_before_mail: Duration::from_secs(30) }
    }
}

/// Clients with nothing open are forgotten once their budget is whole again, looked at when
/// this many are known.
const PRUNE_AT: usize = 4096;

/// Every client's open sessions and message budget.
pub struct Clients {
    limits: SmtpLimits,
    known: Mutex<HashMap<IpAddr, Client>>,
}

struct Client {
    sessions: usize,
    /// Messages it may still start (a token bucket refilled at the per-minute rate).
    budget: f64,
    refilled: Instant,
}

impl Client {
    fn refill(&mut self, per_minute: u32, now: Instant) {
        let earned = now.duration_since(self.refilled).as_secs_f64() * f64::from(per_minute) / 60.0;
        self.budget = (self.budget + earned).min(f64::from(per_minute));
        self.refilled = now;
    }
}

/// One open session of a client; closing it (dropping this) frees its place.
pub struct Session {
    clients: Arc<Clients>,
    client: IpAddr,
}

impl Drop for Session {
    fn drop(&mut self) {
        let mut known = self.clients.known.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = known.get_mut(&self.client) {
            c.sessions = c.sessions.saturating_sub(1);
        }
    }
}

/// The address limits are counted by: an IPv4 address (also one mapped into IPv6) itself,
/// an IPv6 address by its /64.
fn client_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

impl Clients {
    /// No client known yet.
    pub fn new(limits: SmtpLimits) -> Arc<Clients> {
        Arc::new(Clients { limits, known: Mutex::new(HashMap::new()) })
    }

    /// The limits counted.
    pub fn limits(&self) -> SmtpLimits {
        self.limits
    }

    /// A place for a new session of the client at `ip`, or `None` when it holds its limit.
    pub fn open(self: &Arc<Self>, ip: IpAddr) -> Option<Session> {
        let client = client_of(ip);
        let now = Instant::now();
        let per_minute = self.limits.messages_per_minute;
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if known.len() >= PRUNE_AT {
            known.retain(|_, c| {
                c.refill(per_minute, now);
                c.sessions > 0 || c.budget < f64::from(per_minute)
            });
        }
        let entry = known.entry(client).or_insert(Client { sessions: 0, budget: f64::from(per_minute), refilled: now });
        if entry.sessions >= self.limits.sessions_per_client {
            return None;
        }
        entry.sessions += 1;
        Some(Session { clients: self.clone(), client })
    }

    /// Whether the client of `session` may start another message now (taking it from its
    /// budget).
    pub fn take_message(&self, session: &Session) -> bool {
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        let Some(c) = known.get_mut(&session.client) else { return false };
        c.refill(self.limits.messages_per_minute, Instant::now());
        if c.budget >= 1.0 {
            c.budget -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(sessions: usize, per_minute: u32) -> SmtpLimits {
        SmtpLimits { sessions_per_client: sessions, messages_per_minute: per_minute, ..SmtpLimits::default() }
    }

    #[test]
    fn sessions_are_counted_per_client_and_freed_on_close() {
        let clients = Clients::new(limits(2, 10));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let first = clients.open(a).unwrap();
        let _second = clients.open(a).unwrap();
        assert!(clients.open(a).is_none());
        assert!(clients.open("192.0.2.2".parse().unwrap()).is_some(), "another client still gets in");
        drop(first);
        assert!(clients.open(a).is_some());
    }

    #[test]
    fn an_ipv6_client_is_its_64_and_a_mapped_ipv4_client_its_address() {
        let clients = Clients::new(limits(1, 10));
        let _one = clients.open("2001:db8:1:2::1".parse().unwrap()).unwrap();
        assert!(clients.open("2001:db8:1:2:ffff::9".parse().unwrap()).is_none());
        assert!(clients.open("2001:db8:1:3::1".parse().unwrap()).is_some());
        let _v4 = clients.open("192.0.2.7".parse().unwrap()).unwrap();
        assert!(clients.open("::ffff:192.0.2.7".parse().unwrap()).is_none());
    }

    #[test]
    fn messages_are_limited_per_client_across_sessions() {
        let clients = Clients::new(limits(5, 3));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let (one, two) = (clients.open(a).unwrap(), clients.open(a).unwrap());
        assert!(clients.take_message(&one) && clients.take_message(&two) && clients.take_message(&one));
        assert!(!clients.take_message(&two));
        let other = clients.open("192.0.2.9".parse().unwrap()).unwrap();
        assert!(clients.take_message(&other));
    }
}
