//! `due` on the Pro calendar (UTC, Mon–Fri) and on a time-zoned calendar with holidays.
//! Run: `cargo bench -p stringer-core --bench due`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
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

fn bench(c: &mut Criterion) {
    let contract = Contract::default_contract();
    let pro = contract.calendar("pro_coverage").clone();
    let tz = Contract::from_toml(
        &contract.source().replace(
            "[calendars.business_week]\n",
            "[calendars.new_york]\ntime_zone = \"America/New_York\"\nwindows = [{ days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"], from = \"09:00\", to = \"17:00\" }]\nholidays = [\"2026-01-01\", \"2026-01-19\", \"2026-02-16\", \"2026-05-25\", \"2026-07-03\", \"2026-09-07\", \"2026-11-26\", \"2026-11-27\", \"2026-12-24\", \"2026-12-25\", \"2027-01-01\", \"2027-05-31\", \"2027-07-05\", \"2027-09-06\", \"2027-11-25\", \"2027-12-24\"]\n\n[calendars.business_week]\n",
        ),
        "bench",
    )
    .expect("bench contract is valid")
    .calendar("new_york")
    .clone();
    let data = inputs(1024);
    let mut group = c.benchmark_group("due");
    group.bench_function("pro_calendar", |b| {
        let mut i = 0;
        b.iter(|| {
            let (s, d) = data[i & 1023];
            i += 1;
            black_box(pro.due_secs(black_box(s), black_box(d)))
        })
    });
    group.bench_function("new_york_with_holidays", |b| {
        let mut i = 0;
        b.iter(|| {
            let (s, d) = data[i & 1023];
            i += 1;
            black_box(tz.due_secs(black_box(s), black_box(d)))
        })
    });
    group.bench_function("new_york_10_business_days", |b| {
        let mut i = 0;
        b.iter(|| {
            let (s, _) = data[i & 1023];
            i += 1;
            black_box(tz.due_secs(black_box(s), black_box(10 * 8 * 3600)))
        })
    });
    group.bench_function("new_york_1_hour", |b| {
        let mut i = 0;
        b.iter(|| {
            let (s, _) = data[i & 1023];
            i += 1;
            black_box(tz.due_secs(black_box(s), black_box(3600)))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
