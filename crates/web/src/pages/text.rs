//! How the pages put instants, durations and SLA clocks into words: instants in the reader's
//! time zone with the contract's UTC instant beside them, durations as "3 h 12 min", and a
//! clock as "due in 3 h 12 min of business time — Mon 08:00 UTC".

use jiff::Timestamp;
use jiff::tz::TimeZone;
use stringer_core::contract::{Contract, Measure};
use stringer_core::sla::{ClockState, SlaClock};

/// A reader's time zone: theirs when set and known, else UTC.
pub fn zone(name: Option<&str>) -> TimeZone {
    name.and_then(|n| TimeZone::get(n).ok()).unwrap_or(TimeZone::UTC)
}

/// "Mon 30 Nov 14:05 CET (13:05 UTC)"; UTC alone when the reader reads UTC.
pub fn instant(at: Timestamp, tz: &TimeZone) -> String {
    let utc = at.to_zoned(TimeZone::UTC);
    let local = at.to_zoned(tz.clone());
    if local.offset() == utc.offset() && tz.iana_name().is_none_or(|n| n == "UTC") {
        return utc.strftime("%a %-d %b %H:%M UTC").to_string();
    }
    format!("{} ({} UTC)", local.strftime("%a %-d %b %H:%M %Z"), utc.strftime("%H:%M"))
}

/// A length of time in words, to the minute: "2 d 3 h", "3 h 12 min", "12 min", "under a minute".
pub fn duration(seconds: i64) -> String {
    let s = seconds.abs();
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => "under a minute".into(),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// One SLA clock in words, and how urgent it looks (`ok`, `soon`, `breached`, `done`).
pub struct ClockWords {
    /// The contract's target name, e.g. "response".
    pub target: String,
    /// The target as the contract writes it, e.g. "1 hour".
    pub within: String,
    /// The sentence.
    pub words: String,
    /// For the stylesheet.
    pub tone: &'static str,
}

/// Puts a clock into words at `now` for a reader in `tz`. Business time is named by its
/// calendar's display name; while that calendar is closed the words say when it opens and
/// what is promised by when ("Support hours resume Mon 08:00 UTC; we will respond by Mon
/// 16:00 UTC (8 h of Pro support hours)").
pub fn clock(contract: &Contract, c: &SlaClock, now: Timestamp, tz: &TimeZone) -> ClockWords {
    let hours = c.cell.calendar.as_deref().map(|key| (contract.calendar(key), contract.calendar_name(key)));
    let of_hours = |left: i64| match &hours {
        Some((_, name)) => format!("{} of {name}", duration(left)),
        None => duration(left),
    };
    let promise = match c.measures {
        Measure::FirstResponse => "we will respond by",
        Measure::NextReply => "we will reply by",
        Measure::Resolution => "due by",
    };
    let (words, tone) = match c.state {
        ClockState::Running => {
            let left = c.remaining(contract, now);
            let tone = if left < c.cell.within.seconds / 4 { "soon" } else { "ok" };
            let closed_until = hours
                .as_ref()
                .filter(|(calendar, _)| !calendar.is_open(now))
                .map(|(calendar, _)| calendar.next_open(now))
                .filter(|opens| Some(*opens) <= c.due);
            let words = match (closed_until, c.due) {
                (Some(opens), Some(due)) => format!(
                    "Support hours resume {}; {promise} {} ({})",
                    instant(opens, tz),
                    instant(due, tz),
                    of_hours(left)
                ),
                (_, Some(due)) => format!("due in {} — {}", of_hours(left), instant(due, tz)),
                (_, None) => format!("due in {}", of_hours(left)),
            };
            (words, tone)
        }
        ClockState::Paused => {
            let left = c.remaining(contract, now);
            (format!("paused, waiting on the customer — {} left", of_hours(left)), "ok")
        }
        ClockState::Breached => {
            let at = c.breached_at.or(c.due).unwrap_or(now);
            (format!("breached {} ago — {}", duration(now.as_second() - at.as_second()), instant(at, tz)), "breached")
        }
        ClockState::Met => {
            let at = c.stopped_at.map(|d| format!(" — {}", instant(d, tz))).unwrap_or_default();
            (format!("met{at}"), "done")
        }
        ClockState::Withdrawn => {
            let at = c.stopped_at.map(|d| format!(" — {}", instant(d, tz))).unwrap_or_default();
            (format!("withdrawn: the customer resolved the ticket before a response{at}"), "done")
        }
    };
    ClockWords { target: c.target.clone(), within: c.cell.within.to_string(), words, tone }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_people_write_them() {
        for (secs, words) in [
            (0, "under a minute"),
            (59, "under a minute"),
            (60, "1 min"),
            (3600, "1 h"),
            (3 * 3600 + 12 * 60 + 5, "3 h 12 min"),
            (86_400, "1 d"),
            (2 * 86_400 + 3 * 3600 + 60, "2 d 3 h"),
            (-90, "1 min"),
        ] {
            assert_eq!(duration(secs), words, "{secs}");
        }
    }

    #[test]
    fn instants_show_the_readers_zone_and_utc() {
        let at: Timestamp = "2026-11-30T13:05:00Z".parse().unwrap();
        assert_eq!(instant(at, &TimeZone::UTC), "Mon 30 Nov 13:05 UTC");
        assert_eq!(instant(at, &zone(Some("Europe/Berlin"))), "Mon 30 Nov 14:05 CET (13:05 UTC)");
        assert_eq!(instant(at, &zone(Some("Not/AZone"))), "Mon 30 Nov 13:05 UTC");
    }

    #[test]
    fn a_clock_in_closed_hours_says_when_support_resumes() {
        let contract = Contract::default_contract();
        let cell = contract.targets["response"].tiers.iter().find(|(t, _)| t.as_str() == "pro").unwrap().1
            [&contract.severity("P2").unwrap()]
            .clone();
        // Opened Saturday noon: Pro support hours are closed until Monday 00:00 UTC.
        let opened: Timestamp = "2026-12-05T12:00:00Z".parse().unwrap();
        let clock = SlaClock::start(&contract, "response", Measure::FirstResponse, true, cell, opened);
        let words = super::clock(&contract, &clock, opened, &TimeZone::UTC);
        assert_eq!(
            words.words,
            "Support hours resume Mon 7 Dec 00:00 UTC; we will respond by Mon 7 Dec 08:00 UTC (8 h of Pro support hours)"
        );
        let monday: Timestamp = "2026-12-07T05:00:00Z".parse().unwrap();
        let words = super::clock(&contract, &clock, monday, &TimeZone::UTC);
        assert_eq!(words.words, "due in 3 h of Pro support hours — Mon 7 Dec 08:00 UTC");
    }
}
