//! Status pages' rules: a component's status kept as intervals, so that history is exact, and
//! its uptime per day computed from them.
//!
//! - **Status** uses Statuspage's values. Where intervals overlap (two incidents on one
//!   component, maintenance during an outage), the worst status holds, in the order
//!   `major_outage` > `partial_outage` > `degraded_performance` > `under_maintenance` >
//!   `operational`. A component is operational wherever no interval says otherwise.
//! - **Uptime** of a day is the share of the day's observed time (from the component's
//!   creation, up to now) that was not down, where down time is weighted as Statuspage
//!   weights it: a major outage counts fully, a partial outage at 30 %, degraded performance
//!   and maintenance not at all. Days run midnight to midnight in the page's time zone (23 or
//!   25 hours on DST change days). Weighted time is counted in milliseconds of integers
//!   (`1000 × seconds × weight`), so results are exact and reproducible.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// A component's status, as Statuspage names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    /// Working.
    Operational,
    /// In planned maintenance.
    UnderMaintenance,
    /// Slow or erratic.
    DegradedPerformance,
    /// Down for some.
    PartialOutage,
    /// Down.
    MajorOutage,
}

impl ComponentStatus {
    /// Every status, best first (the order `max` picks the worst by).
    pub const ALL: [ComponentStatus; 5] = [
        ComponentStatus::Operational,
        ComponentStatus::UnderMaintenance,
        ComponentStatus::DegradedPerformance,
        ComponentStatus::PartialOutage,
        ComponentStatus::MajorOutage,
    ];

    /// How much of a second in this status counts as down, in thousandths.
    pub fn down_weight(self) -> i64 {
        match self {
            ComponentStatus::MajorOutage => 1000,
            ComponentStatus::PartialOutage => 300,
            _ => 0,
        }
    }

    /// The name as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "operational",
            ComponentStatus::UnderMaintenance => "under_maintenance",
            ComponentStatus::DegradedPerformance => "degraded_performance",
            ComponentStatus::PartialOutage => "partial_outage",
            ComponentStatus::MajorOutage => "major_outage",
        }
    }
}

/// A span of a component's history in one status: from `from` until `until` (open while
/// `None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusInterval {
    /// When it began (Unix seconds).
    pub from: i64,
    /// When it ended (Unix seconds); `None` while it lasts.
    pub until: Option<i64>,
    /// The status.
    pub status: ComponentStatus,
}

/// One day of a component's uptime bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayUptime {
    /// The day, in the page's zone.
    pub date: Date,
    /// The worst status of the day's observed time; `None` when nothing of the day was
    /// observed (before the component existed, or after now).
    pub worst: Option<ComponentStatus>,
    /// Seconds of the day observed.
    pub observed: i64,
    /// Weighted down time, in thousandths of a second ([`ComponentStatus::down_weight`]).
    pub down_millis: i64,
}

impl DayUptime {
    /// The uptime percentage (100 when nothing was observed).
    pub fn percent(&self) -> f64 {
        if self.observed == 0 {
            100.0
        } else {
            100.0 * (1.0 - self.down_millis as f64 / (self.observed as f64 * 1000.0))
        }
    }
}

/// The uptime of each of `days` days ending with `last` (in `zone`), for a component created
/// at `created` whose history is `intervals` (any order, possibly overlapping), observed up
/// to `now`. Cost: O(n log n) in the intervals plus O(days).
pub fn uptime_days(
    intervals: &[StatusInterval],
    created: i64,
    now: i64,
    zone: &TimeZone,
    last: Date,
    days: usize,
) -> Vec<DayUptime> {
    let first = last.checked_sub(jiff::Span::new().days(days.saturating_sub(1) as i64)).unwrap_or(last);
    let bounds: Vec<(Date, i64)> = std::iter::successors(Some(first), |d| d.tomorrow().ok())
        .take(days + 1)
        .map(|d| (d, day_start(zone, d)))
        .collect();
    let mut out: Vec<DayUptime> = bounds
        .windows(2)
        .map(|w| {
            let (from, until) = (w[0].1.max(created), w[1].1.min(now));
            DayUptime { date: w[0].0, worst: None, observed: (until - from).max(0), down_millis: 0 }
        })
        .collect();
    let Some(&(_, window_start)) = bounds.first() else { return out };
    let window_end = bounds.last().map_or(window_start, |b| b.1);
    let (lo, hi) = (window_start.max(created), window_end.min(now));
    if lo >= hi {
        return out;
    }
    // Sweep the intervals' edges within [lo, hi), keeping a count per status: between two
    // edges the worst status with a count holds.
    let mut edges: Vec<(i64, usize, i32)> = Vec::with_capacity(2 * intervals.len());
    for i in intervals {
        let (from, until) = (i.from.max(lo), i.until.unwrap_or(i64::MAX).min(hi));
        if from < until {
            let s = i.status as usize;
            edges.push((from, s, 1));
            edges.push((until, s, -1));
        }
    }
    edges.sort_unstable();
    let mut counts = [0i32; 5];
    let mut at = lo;
    let mut day = 0usize;
    let mut apply = |from: i64, until: i64, counts: &[i32; 5], day: &mut usize| {
        let status =
            (0..5).rev().find(|&s| counts[s] > 0).map_or(ComponentStatus::Operational, |s| ComponentStatus::ALL[s]);
        let mut t = from;
        while t < until {
            while bounds[*day + 1].1 <= t {
                *day += 1;
            }
            let end = until.min(bounds[*day + 1].1);
            let d = &mut out[*day];
            d.worst = Some(d.worst.map_or(status, |w| w.max(status)));
            d.down_millis += (end - t) * status.down_weight();
            t = end;
        }
    };
    for (t, s, delta) in edges {
        if t > at {
            apply(at, t, &counts, &mut day);
            at = t;
        }
        counts[s] += delta;
    }
    if at < hi {
        apply(at, hi, &counts, &mut day);
    }
    out
}

/// The instant a date begins in `zone` (Unix seconds).
pub fn day_start(zone: &TimeZone, date: Date) -> i64 {
    date.to_zoned(zone.clone()).and_then(|z| z.start_of_day()).map_or(0, |z| z.timestamp().as_second())
}

/// Today's date in `zone` at `now`.
pub fn today(zone: &TimeZone, now: Timestamp) -> Date {
    now.to_zoned(zone.clone()).date()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ComponentStatus::*;
    use jiff::civil::date;

    fn utc() -> TimeZone {
        TimeZone::UTC
    }

    fn at(d: Date, h: i64, m: i64) -> i64 {
        day_start(&utc(), d) + h * 3600 + m * 60
    }

    #[test]
    fn a_partial_outage_counts_at_thirty_percent_and_maintenance_not_at_all() {
        let d = date(2026, 11, 10);
        let intervals = [
            StatusInterval { from: at(d, 1, 0), until: Some(at(d, 2, 0)), status: MajorOutage },
            StatusInterval { from: at(d, 3, 0), until: Some(at(d, 5, 0)), status: PartialOutage },
            StatusInterval { from: at(d, 6, 0), until: Some(at(d, 9, 0)), status: UnderMaintenance },
        ];
        let [day] = uptime_days(&intervals, 0, at(d, 24, 0), &utc(), d, 1)[..] else { panic!() };
        assert_eq!(day.worst, Some(MajorOutage));
        assert_eq!(day.down_millis, (3600 + 2 * 3600 * 3 / 10) * 1000);
        assert!((day.percent() - (100.0 - 100.0 * 5760.0 / 86400.0)).abs() < 1e-9);
    }

    #[test]
    fn overlaps_take_the_worst_and_days_split_at_midnight() {
        let d = date(2026, 11, 10);
        let intervals = [
            // A partial outage from 23:00 into the next day, and a major one inside it.
            StatusInterval { from: at(d, 23, 0), until: Some(at(d, 26, 0)), status: PartialOutage },
            StatusInterval { from: at(d, 23, 30), until: Some(at(d, 24, 30)), status: MajorOutage },
        ];
        let days = uptime_days(&intervals, 0, at(d, 48, 0), &utc(), d.tomorrow().unwrap(), 2);
        assert_eq!(days[0].down_millis, 1800 * 300 + 1800 * 1000);
        assert_eq!(days[1].down_millis, 1800 * 1000 + 5400 * 300);
        assert_eq!((days[0].worst, days[1].worst), (Some(MajorOutage), Some(MajorOutage)));
    }

    #[test]
    fn only_observed_time_counts() {
        let d = date(2026, 11, 10);
        let open = [StatusInterval { from: at(d, 10, 0), until: None, status: MajorOutage }];
        // Created at 06:00, now is 12:00: 6 hours observed, 2 of them down.
        let days = uptime_days(&open, at(d, 6, 0), at(d, 12, 0), &utc(), d.tomorrow().unwrap(), 3);
        assert_eq!((days[0].observed, days[0].worst), (0, None));
        assert_eq!((days[1].observed, days[1].down_millis), (6 * 3600, 2 * 3600 * 1000));
        assert_eq!((days[2].observed, days[2].worst, days[2].percent()), (0, None, 100.0));
    }

    #[test]
    fn a_fall_back_day_has_twenty_five_hours() {
        let ny = TimeZone::get("America/New_York").unwrap();
        let d = date(2026, 11, 1);
        let [day] = uptime_days(&[], 0, i64::MAX / 2, &ny, d, 1)[..] else { panic!() };
        assert_eq!((day.observed, day.worst), (25 * 3600, Some(Operational)));
    }
}
