//! Identifiers: a type prefix and a ULID (48-bit millisecond time, 80 random bits, Crockford
//! base32), so ids sort by creation (to the millisecond) and cursor pagination can compare
//! them. The time is the desk's clock's to the millisecond (`Clock::now_precise`), not its
//! whole seconds: ids made within one second still sort in the order they were made.

use rand::RngCore;

pub use stringer_app::ids::is_id;
use stringer_app::ids::ulid;

/// A new id `PREFIX_` + 26 characters, created at `at` (the front's handlers make them with
/// [`crate::Front::new_id`]).
pub fn new_id(prefix: &str, at: jiff::Timestamp) -> String {
    id_at(prefix, at.as_millisecond().max(0) as u64)
}

/// A new id created at `millis` since the Unix epoch.
fn id_at(prefix: &str, millis: u64) -> String {
    let mut random = [0u8; 10];
    rand::rng().fill_bytes(&mut random);
    ulid(prefix, millis, random)
}

/// An RFC 3339 instant, strictly: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` with an offset
/// within ±23:59 (jiff alone also takes other ISO 8601 forms and offsets up to ±25:59).
pub fn parse_instant(s: &str) -> Option<jiff::Timestamp> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r.clone()).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &fraction[n..];
    }
    let offset_ok = match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            let hours = (h1 - b'0') * 10 + (h2 - b'0');
            let minutes = (m1 - b'0') * 10 + (m2 - b'0');
            [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit()) && hours <= 23 && minutes <= 59
        }
        _ => false,
    };
    if !offset_ok {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time_and_have_their_shape() {
        let a = id_at("tkt", 1_000);
        let b = id_at("tkt", 1_001);
        assert!(a < b);
        assert!(is_id("tkt", &a));
        assert!(!is_id("usr", &a));
        for bad in
            ["tkt_", "tkt_123", "tkt_0123456789ABCDEFGHJKMNPQRU", "tkt_0123456789abcdefghjkmnpqrs", "../etc/passwd"]
        {
            assert!(!is_id("tkt", bad), "{bad}");
        }
    }

    #[test]
    fn instants_are_rfc_3339_only() {
        for good in ["2026-11-27T09:00:00Z", "2026-11-27T09:00:00.5+01:00", "2026-11-27t09:00:00-23:59"] {
            assert!(parse_instant(good).is_some(), "{good}");
        }
        for bad in [
            "2026-11-27T09:00:00+25:00",
            "2026-11-27T09:00:00+24:00",
            "2026-11-27T09:00:00+01:60",
            "2026-11-27T09:00:00+0100",
            "2026-11-27T09:00:00",
            "2026-11-27 09:00:00Z",
            "2026-11-27T09:00:00.Z",
            "2026-13-27T09:00:00Z",
            "",
        ] {
            assert!(parse_instant(bad).is_none(), "{bad}");
        }
    }
}
