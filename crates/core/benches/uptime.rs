//! A status page's uptime bars: 90 days × 50 components, each with 40 status intervals
//! (overlapping outages, maintenance) in a zone with DST (target: under 5 ms for the page).
//! Run: `cargo bench -p stringer-core --bench uptime`.

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::civil::date;
use jiff::tz::TimeZone;
use std::hint::black_box;
use stringer_core::status::{ComponentStatus, StatusInterval, day_start, uptime_days};

fn components(zone: &TimeZone, n: usize, per: usize) -> Vec<Vec<StatusInterval>> {
    let origin = day_start(zone, date(2026, 8, 1));
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|_| {
            (0..per)
                .map(|_| {
                    let from = origin + (next() % (95 * 86_400)) as i64;
                    StatusInterval {
                        from,
                        until: Some(from + 60 + (next() % (6 * 3600)) as i64),
                        status: ComponentStatus::ALL[1 + (next() % 4) as usize],
                    }
                })
                .collect()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let zone = TimeZone::get("America/New_York").unwrap();
    let page = components(&zone, 50, 40);
    let now = day_start(&zone, date(2026, 11, 29)) + 12 * 3600;
    let created = day_start(&zone, date(2026, 1, 1));
    c.bench_function("uptime: 90 days x 50 components, 40 intervals each", |b| {
        b.iter(|| {
            for intervals in &page {
                black_box(uptime_days(black_box(intervals), created, now, &zone, date(2026, 11, 29), 90));
            }
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
