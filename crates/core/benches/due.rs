//! `due` on the Pro calendar (UTC, Mon–Fri), on a time-zoned calendar with holidays, and a
//! 10-business-day target across a two-week holiday against a 1-hour one.
//! Run: `cargo bench -p stringer-core --bench due`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use stringer_core::calendar::{Calendar, CalendarSpec, Weekday, Window};
use stringer_core::contract::Contract;

/// Deterministic pseudo-random (start, target) pairs over 2026–2027, whole seconds.
fn inputs(n: usize) -> Vec<(i64, i64)> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let start = 1_767_225_600 + (x % (2 * 365 * 86_400)) as i64;
            let target = 60 + ((x >> 32) % (2 * 86_400)) as i64;
            (start, target)
        })
        .collect()
}

fn office(zone: &str, holidays: Vec<String>) -> Calendar {
    use Weekday::*;
    let windows = vec![Window { days: vec![Mon, Tue, Wed, Thu, Fri], from: "09:00".into(), to: "17:00".into() }];
    CalendarSpec { name: None, description: None, time_zone: zone.into(), windows, holidays, closures: vec![] }
        .compile()
        .expect("bench calendar is valid")
}

fn bench(c: &mut Criterion) {
    let pro = Contract::default_contract().calendar("pro_coverage").clone();
    let us_holidays = [
        "2026-01-01",
        "2026-01-19",
        "2026-02-16",
        "2026-05-25",
        "2026-07-03",
        "2026-09-07",
        "2026-11-26",
        "2026-11-27",
        "2026-12-24",
        "2026-12-25",
        "2027-01-01",
        "2027-05-31",
        "2027-07-05",
        "2027-09-06",
        "2027-11-25",
        "2027-12-24",
    ];
    let new_york = office("America/New_York", us_holidays.iter().map(|d| d.to_string()).collect());
    let fortnight = office("UTC", (14..28).map(|d| format!("2026-12-{d:02}")).collect());
    let data = inputs(1024);

    let mut group = c.benchmark_group("due");
    for (name, cal) in [("pro_calendar", &pro), ("new_york_with_holidays", &new_york)] {
        group.bench_function(name, |b| {
            let mut i = 0;
            b.iter(|| {
                let (s, d) = data[i & 1023];
                i += 1;
                black_box(cal.due_secs(black_box(s), black_box(d)))
            })
        });
    }
    // Friday 11 Dec 2026 16:00 UTC, just before 14 consecutive holiday dates.
    let before_holiday = 1_797_004_800;
    for (name, target) in [("fortnight_holiday_1_hour", 3600), ("fortnight_holiday_10_business_days", 10 * 8 * 3600)] {
        group.bench_function(name, |b| {
            b.iter(|| black_box(fortnight.due_secs(black_box(before_holiday), black_box(target))))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
