use super::*;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use proptest::prelude::*;

fn spec(tz: &str, windows: &[(&[Weekday], &str, &str)], holidays: &[&str]) -> Calendar {
    CalendarSpec {
        name: None,
        description: None,
        time_zone: tz.into(),
        windows: windows
            .iter()
            .map(|(d, f, t)| Window { days: d.to_vec(), from: (*f).into(), to: (*t).into() })
            .collect(),
        holidays: holidays.iter().map(|h| h.to_string()).collect(),
        closures: vec![],
    }
    .compile()
    .unwrap()
}

use Weekday::*;
const WEEKDAYS: &[Weekday] = &[Mon, Tue, Wed, Thu, Fri];
const ALL: &[Weekday] = &[Mon, Tue, Wed, Thu, Fri, Sat, Sun];

fn pro() -> Calendar {
    spec("UTC", &[(WEEKDAYS, "00:00", "24:00")], &[])
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

const H: i64 = 3600;

#[test]
fn contract_examples_on_the_pro_calendar() {
    // (opened, target, due) — docs/contract.md "Response targets"; 2026-11-26 is a Thursday.
    let cases = [
        ("2026-11-26T15:00:00Z", 24 * H, "2026-11-27T15:00:00Z"), // P3 Thursday → Friday
        ("2026-11-27T15:00:00Z", 24 * H, "2026-11-30T15:00:00Z"), // P3 Friday → Monday
        ("2026-11-28T10:00:00Z", 24 * H, "2026-12-01T00:00:00Z"), // P3 Saturday → Tuesday 00:00
        ("2026-11-27T16:00:00Z", 8 * H, "2026-11-30T00:00:00Z"),  // P2 used up at Friday 24:00 → Monday 00:00
        ("2026-11-27T20:00:00Z", 8 * H, "2026-11-30T04:00:00Z"),  // P2 across the weekend
        ("2026-11-28T12:00:00Z", 0, "2026-11-30T00:00:00Z"),      // zero target while closed → next opening
        ("2026-11-26T12:00:00Z", 0, "2026-11-26T12:00:00Z"),      // zero target while open → now
    ];
    let cal = pro();
    for (opened, target, due) in cases {
        assert_eq!(cal.due(ts(opened), target), ts(due), "opened {opened}, target {target}s");
    }
}

#[test]
fn windows_are_half_open_and_adjacent_days_merge() {
    let cal = pro();
    assert!(cal.is_open(ts("2026-11-30T00:00:00Z")), "Monday 00:00 opens");
    assert!(cal.is_open(ts("2026-11-27T23:59:59Z")));
    assert!(!cal.is_open(ts("2026-11-28T00:00:00Z")), "Friday 24:00 is closed");
    // Tuesday 00:00 is not a close: a target used up then is due then.
    assert_eq!(cal.due(ts("2026-11-30T00:00:00Z"), 24 * H), ts("2026-12-01T00:00:00Z"));
    assert_eq!(cal.next_open(ts("2026-11-29T23:59:59Z")), ts("2026-11-30T00:00:00Z"));
}

#[test]
fn local_windows_keep_wall_clock_across_dst() {
    let ny = spec("America/New_York", &[(ALL, "09:00", "17:00")], &[]);
    // 2026-03-08 is the spring-forward Sunday in New York: 9–17 is still 8 hours.
    assert_eq!(ny.between(ts("2026-03-08T00:00:00Z"), ts("2026-03-09T00:00:00Z")), 8 * H);
    assert!(ny.is_open(ts("2026-03-08T13:00:00Z")), "09:00 EDT");
    assert!(!ny.is_open(ts("2026-03-07T13:00:00Z")), "08:00 EST");
    let days = spec("America/New_York", &[(ALL, "00:00", "24:00")], &[]);
    // A 00:00–24:00 window on the 23-hour day is 23 hours; on the 25-hour day 25 hours.
    assert_eq!(days.between(ts("2026-03-08T05:00:00Z"), ts("2026-03-09T04:00:00Z")), 23 * H);
    assert_eq!(days.between(ts("2026-11-01T04:00:00Z"), ts("2026-11-02T05:00:00Z")), 25 * H);
    // Across the spring-forward night: 17:00 EST Saturday + 1 h → Sunday 10:00 EDT;
    // 16:00 EST + 1 h is used up at the close → due at Sunday's opening, 09:00 EDT.
    assert_eq!(ny.due(ts("2026-03-07T22:00:00Z"), H), ts("2026-03-08T14:00:00Z"));
    assert_eq!(ny.due(ts("2026-03-07T21:00:00Z"), H), ts("2026-03-08T13:00:00Z"));
}

/// A Sunday window on a night the clocks change: where the rule puts it (the first instants at
/// which that date's wall clock reads its start and its end or later), and when a target
/// started at its opening is due. Instants computed independently with Python's zoneinfo.
struct Night {
    zone: &'static str,
    from: &'static str,
    to: &'static str,
    opens: &'static str,
    closes: &'static str,
    target: i64,
    due: &'static str,
}

const NIGHTS: &[Night] = &[
    // Fall-back nights: the repeated span is read at its first occurrence, never again.
    // New York 2026-11-01: 02:00 EDT → 01:00 EST at 06:00Z, 01:00–02:00 twice.
    Night {
        zone: "America/New_York",
        from: "01:45",
        to: "04:30",
        opens: "2026-11-01T05:45:00Z",
        closes: "2026-11-01T09:30:00Z",
        target: H,
        due: "2026-11-01T06:45:00Z",
    },
    Night {
        zone: "America/New_York",
        from: "00:00",
        to: "01:30",
        opens: "2026-11-01T04:00:00Z",
        closes: "2026-11-01T05:30:00Z",
        target: 2 * H,
        due: "2026-11-08T05:30:00Z",
    },
    Night {
        zone: "America/New_York",
        from: "01:15",
        to: "01:45",
        opens: "2026-11-01T05:15:00Z",
        closes: "2026-11-01T05:45:00Z",
        target: H,
        due: "2026-11-15T06:15:00Z",
    },
    // London 2026-10-25: 02:00 BST → 01:00 GMT at 01:00Z.
    Night {
        zone: "Europe/London",
        from: "01:45",
        to: "04:30",
        opens: "2026-10-25T00:45:00Z",
        closes: "2026-10-25T04:30:00Z",
        target: H,
        due: "2026-10-25T01:45:00Z",
    },
    Night {
        zone: "Europe/London",
        from: "00:00",
        to: "01:30",
        opens: "2026-10-24T23:00:00Z",
        closes: "2026-10-25T00:30:00Z",
        target: 2 * H,
        due: "2026-11-01T00:30:00Z",
    },
    // Sydney 2026-04-05: 03:00 AEDT → 02:00 AEST at 16:00Z the day before.
    Night {
        zone: "Australia/Sydney",
        from: "02:45",
        to: "05:30",
        opens: "2026-04-04T15:45:00Z",
        closes: "2026-04-04T19:30:00Z",
        target: H,
        due: "2026-04-04T16:45:00Z",
    },
    Night {
        zone: "Australia/Sydney",
        from: "00:00",
        to: "02:30",
        opens: "2026-04-04T13:00:00Z",
        closes: "2026-04-04T15:30:00Z",
        target: 3 * H,
        due: "2026-04-11T14:30:00Z",
    },
    // Lord Howe 2026-04-05: 02:00 (+11:00) → 01:30 (+10:30) at 15:00Z, a 30-minute fold.
    Night {
        zone: "Australia/Lord_Howe",
        from: "01:45",
        to: "04:30",
        opens: "2026-04-04T14:45:00Z",
        closes: "2026-04-04T18:00:00Z",
        target: H,
        due: "2026-04-04T15:45:00Z",
    },
    Night {
        zone: "Australia/Lord_Howe",
        from: "00:00",
        to: "01:45",
        opens: "2026-04-04T13:00:00Z",
        closes: "2026-04-04T14:45:00Z",
        target: 2 * H,
        due: "2026-04-11T13:45:00Z",
    },
    // Chatham 2026-04-05: 03:45 (+13:45) → 02:45 (+12:45) at 14:00Z.
    Night {
        zone: "Pacific/Chatham",
        from: "03:15",
        to: "06:00",
        opens: "2026-04-04T13:30:00Z",
        closes: "2026-04-04T17:15:00Z",
        target: H,
        due: "2026-04-04T14:30:00Z",
    },
    Night {
        zone: "Pacific/Chatham",
        from: "00:00",
        to: "03:15",
        opens: "2026-04-04T10:15:00Z",
        closes: "2026-04-04T13:30:00Z",
        target: 4 * H,
        due: "2026-04-11T12:00:00Z",
    },
    // St. John's 2026-11-01: 02:00 NDT (−2:30) → 01:00 NST (−3:30) at 04:30Z.
    Night {
        zone: "America/St_Johns",
        from: "01:45",
        to: "04:30",
        opens: "2026-11-01T04:15:00Z",
        closes: "2026-11-01T08:00:00Z",
        target: H,
        due: "2026-11-01T05:15:00Z",
    },
    Night {
        zone: "America/St_Johns",
        from: "00:00",
        to: "01:30",
        opens: "2026-11-01T02:30:00Z",
        closes: "2026-11-01T04:00:00Z",
        target: 2 * H,
        due: "2026-11-08T04:00:00Z",
    },
    // Spring-forward nights: a skipped start or end is the instant the clock jumps past it.
    // Berlin 2027-03-28: 02:00 CET → 03:00 CEST at 01:00Z.
    Night {
        zone: "Europe/Berlin",
        from: "02:30",
        to: "05:00",
        opens: "2027-03-28T01:00:00Z",
        closes: "2027-03-28T03:00:00Z",
        target: H,
        due: "2027-03-28T02:00:00Z",
    },
    // Lord Howe 2026-10-04: 02:00 (+10:30) → 02:30 (+11:00) at 15:30Z.
    Night {
        zone: "Australia/Lord_Howe",
        from: "02:15",
        to: "03:00",
        opens: "2026-10-03T15:30:00Z",
        closes: "2026-10-03T16:00:00Z",
        target: H / 2,
        due: "2026-10-10T15:15:00Z",
    },
    // Chatham 2026-09-27: 02:45 (+12:45) → 03:45 (+13:45) at 14:00Z; 03:00 and 04:00 both skip-adjacent.
    Night {
        zone: "Pacific/Chatham",
        from: "03:00",
        to: "04:00",
        opens: "2026-09-26T14:00:00Z",
        closes: "2026-09-26T14:15:00Z",
        target: H / 2,
        due: "2026-10-03T13:30:00Z",
    },
];

#[test]
fn a_window_is_one_unbroken_stretch_on_the_night_the_clocks_change() {
    for n in NIGHTS {
        let case = format!("{} sun {}–{}", n.zone, n.from, n.to);
        let cal = spec(n.zone, &[(&[Sun], n.from, n.to)], &[]);
        let (opens, closes) = (ts(n.opens), ts(n.closes));
        let day = jiff::SignedDuration::from_hours(24);
        let second = jiff::SignedDuration::from_secs(1);
        let length = closes.as_second() - opens.as_second();
        assert_eq!(cal.next_open(opens - day), opens, "{case}: opens");
        assert_eq!(cal.between(opens - day, opens + day), length, "{case}: one stretch of {length} s that day");
        assert!(!cal.is_open(opens - second), "{case}: closed before it opens");
        assert!(!cal.is_open(closes), "{case}: closed at its close");
        // Open every minute from opening to close, and closed for the two hours after it
        // (which take in any repeated time of the window).
        for m in 0..length / 60 {
            let t = opens + jiff::SignedDuration::from_mins(m);
            assert!(cal.is_open(t), "{case}: open at {t}");
            assert_eq!(cal.between(opens, t), m * 60, "{case}: no gap before {t}");
        }
        for m in 0..120 {
            let t = closes + jiff::SignedDuration::from_mins(m);
            assert!(!cal.is_open(t), "{case}: closed for good at {t}");
        }
        assert_eq!(cal.due(opens, n.target), ts(n.due), "{case}: target {} s opened at {opens}", n.target);
    }
}

#[test]
fn closures_are_placed_by_the_same_rule() {
    let berlin = CalendarSpec {
        name: None,
        description: None,
        time_zone: "Europe/Berlin".into(),
        windows: vec![Window { days: ALL.to_vec(), from: "00:00".into(), to: "24:00".into() }],
        holidays: vec![],
        closures: vec![Closure { from: "2027-03-28T02:30".into(), to: "2027-03-28T04:00".into(), reason: None }],
    }
    .compile()
    .unwrap();
    // 02:30 is skipped: the closure starts at the jump (01:00Z, when the clock reads 03:00).
    assert!(!berlin.is_open(ts("2027-03-28T01:00:00Z")));
    assert_eq!(berlin.next_open(ts("2027-03-28T01:00:00Z")), ts("2027-03-28T02:00:00Z"));
    assert_eq!(berlin.between(ts("2027-03-28T00:00:00Z"), ts("2027-03-28T03:00:00Z")), 2 * H);
    let new_york = CalendarSpec {
        name: None,
        description: None,
        time_zone: "America/New_York".into(),
        windows: vec![Window { days: ALL.to_vec(), from: "00:00".into(), to: "24:00".into() }],
        holidays: vec![],
        closures: vec![Closure { from: "2026-11-01T00:00".into(), to: "2026-11-01T01:30".into(), reason: None }],
    }
    .compile()
    .unwrap();
    // 01:30 is repeated: the closure ends at its first occurrence (05:30Z) and does not close
    // again when the clock reads 01:00–01:30 a second time.
    assert_eq!(new_york.next_open(ts("2026-11-01T04:00:00Z")), ts("2026-11-01T05:30:00Z"));
    assert_eq!(new_york.between(ts("2026-11-01T04:00:00Z"), ts("2026-11-01T07:00:00Z")), 90 * 60);
}

#[test]
fn holidays_close_whole_local_days() {
    let cal = spec("Europe/Berlin", &[(WEEKDAYS, "09:00", "17:00")], &["2026-12-24", "2026-12-25"]);
    // Wednesday 23 Dec 16:00 CET + 2 h: 1 h that day, then Thursday and Friday are holidays → Monday 10:00 CET.
    assert_eq!(cal.due(ts("2026-12-23T15:00:00Z"), 2 * H), ts("2026-12-28T09:00:00Z"));
    assert!(!cal.is_open(ts("2026-12-24T10:00:00Z")));
    assert_eq!(cal.between(ts("2026-12-21T00:00:00Z"), ts("2026-12-28T00:00:00Z")), 3 * 8 * H);
}

#[test]
fn two_week_holiday_is_skipped_in_one_step() {
    let holidays: Vec<String> = (0..14).map(|d| format!("2026-12-{:02}", 14 + d)).collect();
    let refs: Vec<&str> = holidays.iter().map(String::as_str).collect();
    let cal = spec("UTC", &[(WEEKDAYS, "09:00", "17:00")], &refs);
    // Merged into one closed span: 10 business days after Friday 11 Dec 17:00 ends on Monday 11 Jan 17:00.
    assert_eq!(cal.closed.len(), 1);
    assert_eq!(cal.due(ts("2026-12-11T17:00:00Z"), 10 * 8 * H), ts("2027-01-11T09:00:00Z"));
}

#[test]
fn closures_and_overlaps() {
    let mut s = CalendarSpec {
        name: None,
        description: None,
        time_zone: "UTC".into(),
        windows: vec![Window { days: vec![Mon], from: "09:00".into(), to: "17:00".into() }],
        holidays: vec![],
        closures: vec![Closure { from: "2026-11-30T12:00".into(), to: "2026-11-30T13:00".into(), reason: None }],
    };
    let cal = s.compile().unwrap();
    assert_eq!(cal.between(ts("2026-11-30T00:00:00Z"), ts("2026-12-01T00:00:00Z")), 7 * H);
    assert_eq!(
        cal.due(ts("2026-11-30T11:00:00Z"), H),
        ts("2026-11-30T13:00:00Z"),
        "used up at the closure start → due at its end"
    );
    s.windows.push(Window { days: vec![Mon], from: "16:00".into(), to: "18:00".into() });
    assert_eq!(s.compile().unwrap_err().path, vec!["windows", "1"]);
    s.windows.pop();
    s.windows[0].to = "08:00".into();
    assert!(s.compile().unwrap_err().message.contains("overnight"));
    s.windows[0].to = "24:01".into();
    assert!(s.compile().is_err());
    s.windows[0].to = "17:00".into();
    s.time_zone = "Mars/Olympus".into();
    assert_eq!(s.compile().unwrap_err().path, vec!["time_zone"]);
}

fn arb_calendar() -> impl Strategy<Value = Calendar> {
    let zone =
        prop::sample::select(vec!["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata"]);
    let window = (prop::collection::vec(0usize..7, 1..4), 0i64..47, 1i64..48);
    let holidays = prop::collection::vec(0i64..800, 0..6);
    (zone, prop::collection::vec(window, 1..4), holidays).prop_filter_map("overlapping windows", |(zone, ws, hs)| {
        let days = [Mon, Tue, Wed, Thu, Fri, Sat, Sun];
        let windows = ws
            .into_iter()
            .map(|(d, a, len)| {
                let end = (a + len).min(48);
                let fmt = |half: i64| format!("{:02}:{:02}", half / 2, (half % 2) * 30);
                let mut ds: Vec<Weekday> = d.into_iter().map(|i| days[i]).collect();
                ds.sort_by_key(|d| *d as u8);
                ds.dedup();
                Window { days: ds, from: fmt(a), to: fmt(end.max(a + 1)) }
            })
            .collect();
        let base: jiff::civil::Date = "2026-01-01".parse().unwrap();
        let holidays =
            hs.into_iter().map(|h| base.checked_add(jiff::Span::new().days(h)).unwrap().to_string()).collect();
        CalendarSpec { name: None, description: None, time_zone: zone.into(), windows, holidays, closures: vec![] }
            .compile()
            .ok()
    })
}

fn arb_instant() -> impl Strategy<Value = Timestamp> {
    // 2025-12-01 .. 2028-06-01, whole seconds.
    (1_764_547_200i64..1_843_603_200).prop_map(|s| Timestamp::from_second(s).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn between_of_due_is_the_target(cal in arb_calendar(), a in arb_instant(), d in 0i64..(40 * 86_400)) {
        prop_assert_eq!(cal.between(a, cal.due(a, d)), d);
    }

    #[test]
    fn due_is_the_last_instant_within_target(cal in arb_calendar(), a in arb_instant(), d in 0i64..(20 * 86_400)) {
        let due = cal.due(a, d);
        prop_assert!(cal.is_open(due), "due lands on an open instant");
        prop_assert!(cal.between(a, due + jiff::SignedDuration::from_secs(1)) > d, "one second later is past the target");
    }

    #[test]
    fn due_is_monotone(cal in arb_calendar(), a in arb_instant(), b in arb_instant(), d in 0i64..(20 * 86_400), e in 0i64..(20 * 86_400)) {
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        let (d, e) = if d <= e { (d, e) } else { (e, d) };
        prop_assert!(cal.due(a, d) <= cal.due(b, d));
        prop_assert!(cal.due(a, d) <= cal.due(a, e));
    }

    #[test]
    fn due_of_zero_is_now_or_next_opening(cal in arb_calendar(), a in arb_instant()) {
        let expected = if cal.is_open(a) { a } else { cal.next_open(a) };
        prop_assert_eq!(cal.due(a, 0), expected);
        prop_assert!(cal.is_open(cal.next_open(a)));
    }

    #[test]
    fn between_is_additive(cal in arb_calendar(), a in arb_instant(), b in arb_instant(), c in arb_instant()) {
        prop_assert_eq!(cal.between(a, b) + cal.between(b, c), cal.between(a, c));
    }

    #[test]
    fn between_agrees_with_counting_hour_by_hour(cal in arb_calendar(), a in arb_instant(), hours in 0i64..400) {
        // Independent slow oracle: sample whole 30-minute steps aligned to the window grid.
        let start = a.as_second() - a.as_second().rem_euclid(1800);
        let mut expected = 0;
        for step in 0..hours * 2 {
            let t = Timestamp::from_second(start + step * 1800).unwrap();
            if cal.is_open(t) { expected += 1800; }
        }
        let a = Timestamp::from_second(start).unwrap();
        let b = Timestamp::from_second(start + hours * 3600).unwrap();
        prop_assert_eq!(cal.between(a, b), expected);
    }
}

/// Zones whose clocks change, with 30- and 45-minute offsets and a 30-minute fold among them.
const DST_ZONES: &[&str] = &[
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/St_Johns",
];

/// How far either side of a clock change the property looks, in seconds.
const AROUND: i64 = 36 * 3600;

/// Random windows on the date of one of a zone's clock changes in 2026–2027.
#[derive(Debug)]
struct ChangeNight {
    zone: TimeZone,
    /// The instant the clock changes.
    change: i64,
    /// The local date it changes on (read just before the change).
    date: jiff::civil::Date,
    /// (weekdays as Monday = 0, from, to) in minutes after local midnight.
    windows: Vec<(Vec<i64>, i64, i64)>,
    cal: Calendar,
}

fn arb_change_night() -> impl Strategy<Value = ChangeNight> {
    // (days, on the night, from: near the change?, from, offset from the change, length,
    // to: near the change?, offset from the change), all in minutes.
    let window = (
        prop::collection::vec(0i64..7, 0..3),
        any::<bool>(),
        any::<bool>(),
        0i64..1440,
        -90i64..90,
        1i64..600,
        any::<bool>(),
        -90i64..90,
    );
    (prop::sample::select(DST_ZONES), 0usize..4, prop::collection::vec(window, 1..4)).prop_filter_map(
        "overlapping windows",
        |(zone, nth, raw)| {
            let tz = TimeZone::get(zone).unwrap();
            let from_2026 = ts("2026-01-01T00:00:00Z");
            let change = tz.following(from_2026).nth(nth).unwrap().timestamp().as_second();
            // The date and the minute (on the clock before the change) at which it happens.
            let before = tz.to_datetime(secs(change - 1));
            let (date, at) = (before.date(), i64::from(before.hour()) * 60 + i64::from(before.minute()) + 1);
            let weekday = i64::from(date.weekday().to_monday_zero_offset());
            let windows: Vec<(Vec<i64>, i64, i64)> = raw
                .into_iter()
                .enumerate()
                .map(|(i, (mut days, on_the_night, near_from, from, df, len, near_to, dt))| {
                    if i == 0 || on_the_night {
                        days.push(weekday);
                    }
                    days.sort_unstable();
                    days.dedup();
                    let from = if near_from { (at + df).clamp(0, 1439) } else { from };
                    let to = if near_to { (at + dt).clamp(from + 1, 1440) } else { (from + len).min(1440) };
                    (days, from, to)
                })
                .collect();
            let days = [Mon, Tue, Wed, Thu, Fri, Sat, Sun];
            let hhmm = |m: i64| format!("{:02}:{:02}", m / 60, m % 60);
            let spec = CalendarSpec {
                name: None,
                description: None,
                time_zone: zone.into(),
                windows: windows
                    .iter()
                    .map(|(d, f, t)| Window {
                        days: d.iter().map(|i| days[*i as usize]).collect(),
                        from: hhmm(*f),
                        to: hhmm(*t),
                    })
                    .collect(),
                holidays: vec![],
                closures: vec![],
            };
            let cal = spec.compile().ok()?;
            Some(ChangeNight { zone: tz, change, date, windows, cal })
        },
    )
}

/// The rule, literally and slowly: the first whole minute at or after `from` at which the
/// zone's wall clock reads `local` or later. Every offset and change of these zones is a whole
/// number of minutes, so the first such instant is a whole minute.
fn first_minute_reading(tz: &TimeZone, local: DateTime, from: i64) -> i64 {
    let mut t = from - from.rem_euclid(60);
    while tz.to_datetime(secs(t)) < local {
        t += 60;
    }
    t
}

/// One window on one date, by the rule: (opens, closes, window index, date).
type Occurrence = (i64, i64, usize, jiff::civil::Date);

/// Every window on the dates from two days before the night to nine days after, by the rule:
/// enough for the probes' targets to be met on dates they cover.
fn occurrences(night: &ChangeNight) -> Vec<Occurrence> {
    // No wall clock reads a time more than 14 hours ahead of UTC: the scan for a local time
    // starts there.
    let earliest = |local: DateTime| local.to_zoned(TimeZone::UTC).unwrap().timestamp().as_second() - 14 * 3600;
    let mut out = Vec::new();
    for day in -2..=9 {
        let date = night.date.checked_add(jiff::Span::new().days(day)).unwrap();
        let midnight = date.to_datetime(jiff::civil::Time::midnight());
        let weekday = i64::from(date.weekday().to_monday_zero_offset());
        for (i, (days, from, to)) in night.windows.iter().enumerate() {
            if !days.contains(&weekday) {
                continue;
            }
            let at = |m: i64| midnight.checked_add(jiff::SignedDuration::from_mins(m)).unwrap();
            let opens = first_minute_reading(&night.zone, at(*from), earliest(at(*from)));
            let closes = first_minute_reading(&night.zone, at(*to), opens);
            if opens < closes {
                out.push((opens, closes, i, date));
            }
        }
    }
    out.sort_unstable();
    out
}

fn reference_open(occ: &[Occurrence], t: i64) -> bool {
    occ.iter().any(|o| o.0 <= t && t < o.1)
}

fn reference_between(occ: &[Occurrence], a: i64, b: i64) -> i64 {
    occ.iter().map(|o| (o.1.min(b) - o.0.max(a)).max(0)).sum()
}

/// The last instant at which no more than `d` has passed since `a`; `None` when the
/// occurrences computed do not reach that far (a target used up at the last close).
fn reference_due(occ: &[Occurrence], a: i64, d: i64) -> Option<i64> {
    let mut left = d;
    let mut t = a;
    for o in occ.iter().filter(|o| o.1 > a) {
        let start = o.0.max(t);
        if o.1 - start > left {
            return Some(start + left);
        }
        left -= o.1 - start;
        t = o.1;
    }
    None
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn windows_on_dst_nights_follow_the_rule(
        night in arb_change_night(),
        // (a, b, share of the business time ahead in thousandths, which close to use up a target at: 3 = none)
        probes in prop::collection::vec((0..2 * AROUND, 0..2 * AROUND, 0i64..=1000, 0usize..4), 8),
    ) {
        let occ = occurrences(&night);
        let cal = &night.cal;
        let start = night.change - AROUND;
        // Open exactly where the rule says, minute by minute (every edge is a whole minute).
        let mut was_open = cal.is_open_secs(start - 60);
        let mut openings = Vec::new();
        for m in 0..(2 * AROUND / 60) {
            let t = start + m * 60;
            let open = cal.is_open_secs(t);
            prop_assert_eq!(open, reference_open(&occ, t), "is_open at {}", secs(t));
            if open && !was_open {
                openings.push(t);
            }
            was_open = open;
        }
        // No window opens twice on one local date: no two openings find the wall clock reading
        // a time of the same window on the same date.
        for o in &occ {
            let (_, from, to) = &night.windows[o.2];
            let midnight = o.3.to_datetime(jiff::civil::Time::midnight());
            let range = midnight.checked_add(jiff::SignedDuration::from_mins(*from)).unwrap()
                ..midnight.checked_add(jiff::SignedDuration::from_mins(*to)).unwrap();
            let entered = openings.iter().filter(|t| range.contains(&night.zone.to_datetime(secs(**t)))).count();
            prop_assert!(entered <= 1, "window {} on {} opened {} times", o.2, o.3, entered);
        }
        let covered = occ.last().unwrap().1;
        for (a, b, permille, close) in probes {
            let (a, b) = (start + a.min(b), start + a.max(b));
            // A target used up exactly at one of the next closes, or a share of all the business
            // time the occurrences cover after `a`.
            let d = match occ.iter().filter(|o| o.1 > a).nth(close) {
                Some(o) if close < 3 => reference_between(&occ, a, o.1),
                _ => reference_between(&occ, a, covered) * permille / 1000,
            };
            prop_assert_eq!(cal.is_open_secs(a), reference_open(&occ, a), "is_open at {}", secs(a));
            prop_assert_eq!(Some(cal.next_open_secs(a)), reference_due(&occ, a, 0), "next_open after {}", secs(a));
            prop_assert_eq!(cal.between_secs(a, b), reference_between(&occ, a, b), "between {} and {}", secs(a), secs(b));
            if let Some(due) = reference_due(&occ, a, d) {
                prop_assert_eq!(cal.due_secs(a, d), due, "due {} s after {}", d, secs(a));
            }
        }
    }
}
