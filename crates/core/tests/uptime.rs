//! Uptime per day against an independent computation: random status intervals (overlapping,
//! open-ended, crossing midnight and the DST change days of several zones), scanned minute by
//! minute — every edge is on a whole minute, so a minute has one status — with the worst
//! status of the intervals covering it, weighted as the status page documents.

use jiff::civil::{Date, date};
use jiff::tz::TimeZone;
use proptest::prelude::*;
use stringer_core::status::{ComponentStatus, StatusInterval, uptime_days};

/// Zones and a day whose neighbourhood has a DST change (or none, for UTC).
const PLACES: [(&str, (i16, i8, i8)); 5] = [
    ("UTC", (2026, 6, 1)),
    ("America/New_York", (2026, 11, 1)),
    ("Europe/London", (2026, 3, 29)),
    ("Australia/Lord_Howe", (2026, 4, 5)),
    ("Pacific/Chatham", (2026, 9, 27)),
];

fn start(zone: &TimeZone, d: Date) -> i64 {
    d.to_zoned(zone.clone()).unwrap().start_of_day().unwrap().timestamp().as_second()
}

/// The reference: minute by minute.
fn reference(
    intervals: &[StatusInterval],
    created: i64,
    now: i64,
    zone: &TimeZone,
    first: Date,
    days: usize,
) -> Vec<(Option<ComponentStatus>, i64, i64)> {
    let mut out = Vec::new();
    let mut d = first;
    for _ in 0..days {
        let (from, until) = (start(zone, d).max(created), start(zone, d.tomorrow().unwrap()).min(now));
        let mut worst = None;
        let mut down = 0;
        let mut t = from;
        while t < until {
            let status = intervals
                .iter()
                .filter(|i| i.from <= t && i.until.is_none_or(|u| t < u))
                .map(|i| i.status)
                .max()
                .unwrap_or(ComponentStatus::Operational);
            worst = Some(worst.map_or(status, |w: ComponentStatus| w.max(status)));
            down += 60 * status.down_weight();
            t += 60;
        }
        out.push((worst, (until - from).max(0), down));
        d = d.tomorrow().unwrap();
    }
    out
}

fn status() -> impl Strategy<Value = ComponentStatus> {
    prop::sample::select(ComponentStatus::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn uptime_agrees_with_a_minute_by_minute_scan(
        place in 0..PLACES.len(),
        raw in prop::collection::vec((0i64..6 * 1440, 0i64..2 * 1440, status(), any::<bool>()), 0..8),
        created in 0i64..3 * 1440,
        now in 2 * 1440i64..7 * 1440,
    ) {
        let (name, (y, m, d)) = PLACES[place];
        let zone = TimeZone::get(name).unwrap();
        let first = date(y, m, d).yesterday().unwrap();
        let origin = start(&zone, first) - 1440 * 60;
        let intervals: Vec<StatusInterval> = raw
            .iter()
            .map(|&(from, length, status, open)| StatusInterval {
                from: origin + from * 60,
                until: (!open).then_some(origin + (from + length) * 60),
                status,
            })
            .collect();
        let (created, now) = (origin + created * 60, origin + now * 60);
        let days = 4;
        let last = first.checked_add(jiff::Span::new().days(days as i64 - 1)).unwrap();
        let got: Vec<_> = uptime_days(&intervals, created, now, &zone, last, days)
            .into_iter()
            .map(|d| (d.worst, d.observed, d.down_millis))
            .collect();
        prop_assert_eq!(got, reference(&intervals, created, now, &zone, first, days));
    }
}
