//! On-call schedules as the spec describes them: rotations whose hand-offs follow the local wall
//! clock (through DST), layers restricted to office hours over a 24/7 base, overrides, and the
//! final timeline. 2026-03-02 is a Monday.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use stringer_core::calendar::{Weekday, Window};
use stringer_core::oncall::{
    LayerSpec, Override, OverrideError, RotationSpec, Schedule, ScheduleSpec, Shift, Source, WindowError,
};

fn rotation(tz: &str, members: &[&str], shift_days: u32, handoff: &str, start: &str) -> RotationSpec {
    RotationSpec {
        name: "primary".into(),
        time_zone: tz.into(),
        members: members.iter().map(|m| m.to_string()).collect(),
        shift_days,
        handoff: handoff.into(),
        start: start.into(),
    }
}

fn always(rotation: RotationSpec) -> LayerSpec {
    LayerSpec { rotation, restriction: None }
}

fn restricted(rotation: RotationSpec, windows: &[(&[Weekday], &str, &str)]) -> LayerSpec {
    let windows =
        windows.iter().map(|(d, f, t)| Window { days: d.to_vec(), from: (*f).into(), to: (*t).into() }).collect();
    LayerSpec { rotation, restriction: Some(windows) }
}

fn schedule(layers: Vec<LayerSpec>) -> Schedule {
    Schedule::compile(&ScheduleSpec { name: "platform".into(), layers, overrides: vec![] }).unwrap()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn ovr(id: &str, from: &str, to: &str, user: &str) -> Override {
    Override { id: id.into(), from: ts(from), to: ts(to), user: user.into() }
}

fn shift(start: &str, end: &str, user: &str, source: Source) -> Shift {
    Shift { start: ts(start), end: ts(end), user: user.into(), source }
}

fn hours(a: Timestamp, b: Timestamp) -> i64 {
    b.duration_since(a).as_secs() / 3600
}

use Source::{Layer, Override as Ovr};
use Weekday::*;
const WEEKDAYS: &[Weekday] = &[Mon, Tue, Wed, Thu, Fri];

#[test]
fn daily_rotation_hands_off_every_day_at_the_handoff_time() {
    let s = schedule(vec![always(rotation("UTC", &["ann", "bob", "cy"], 1, "09:00", "2026-03-02"))]);
    // (instant, on call, why)
    let cases = [
        ("2026-03-02T08:59:59Z", None, "before the first hand-off: nobody"),
        ("2026-03-02T09:00:00Z", Some("ann"), "the first shift begins at start + hand-off"),
        ("2026-03-03T08:59:59Z", Some("ann"), "a shift runs until the next hand-off"),
        ("2026-03-03T09:00:00Z", Some("bob"), "hand-off at 09:00 the next day"),
        ("2026-03-04T23:00:00Z", Some("cy"), ""),
        ("2026-03-05T09:00:00Z", Some("ann"), "members wrap around"),
        ("2027-03-02T09:00:00Z", Some("cy"), "365 hand-offs later: 365 mod 3 = 2"),
        ("2126-03-02T09:00:00Z", Some("cy"), "36524 days later, computed without walking them"),
    ];
    for (at, expected, why) in cases {
        assert_eq!(s.on_call_at(ts(at)), expected, "{at}: {why}");
    }
}

#[test]
fn weekly_rotation_hands_off_on_monday_at_nine() {
    let s = schedule(vec![always(rotation("America/New_York", &["ann", "bob"], 7, "09:00", "2026-01-05"))]);
    let cases = [
        ("2026-01-05T13:59:59Z", None, "Monday 08:59:59 EST, before the first hand-off"),
        ("2026-01-05T14:00:00Z", Some("ann"), "Monday 09:00 EST"),
        ("2026-01-12T04:00:00Z", Some("ann"), "Sunday 23:00 EST"),
        ("2026-01-12T13:59:59Z", Some("ann"), "the next Monday, one second before the hand-off"),
        ("2026-01-12T14:00:00Z", Some("bob"), "the next Monday 09:00"),
        ("2026-01-19T14:00:00Z", Some("ann"), "two weeks in: back to the first member"),
    ];
    for (at, expected, why) in cases {
        assert_eq!(s.on_call_at(ts(at)), expected, "{at}: {why}");
    }
    let shift = s.layers()[0].rotation().shift_at(ts("2026-01-14T12:00:00Z")).unwrap();
    assert_eq!((shift.index, shift.member), (1, "bob"));
    assert_eq!((shift.start, shift.end), (ts("2026-01-12T14:00:00Z"), ts("2026-01-19T14:00:00Z")));
}

#[test]
fn handoffs_stay_at_local_time_across_dst() {
    // (zone, shift days, hand-off, start, an instant in the shift, shift start, shift end, hours)
    let cases = [
        (
            "America/New_York",
            1,
            "09:00",
            "2026-03-01",
            "2026-03-08T01:00:00Z",
            "2026-03-07T14:00:00Z",
            "2026-03-08T13:00:00Z",
            23,
        ),
        (
            "America/New_York",
            1,
            "09:00",
            "2026-03-01",
            "2026-03-08T20:00:00Z",
            "2026-03-08T13:00:00Z",
            "2026-03-09T13:00:00Z",
            24,
        ),
        (
            "America/New_York",
            1,
            "09:00",
            "2026-03-01",
            "2026-11-01T01:00:00Z",
            "2026-10-31T13:00:00Z",
            "2026-11-01T14:00:00Z",
            25,
        ),
        (
            "America/New_York",
            7,
            "09:00",
            "2026-03-02",
            "2026-03-08T12:00:00Z",
            "2026-03-02T14:00:00Z",
            "2026-03-09T13:00:00Z",
            7 * 24 - 1,
        ),
        (
            "Europe/Berlin",
            1,
            "09:00",
            "2026-03-02",
            "2026-03-29T00:00:00Z",
            "2026-03-28T08:00:00Z",
            "2026-03-29T07:00:00Z",
            23,
        ),
        (
            "Europe/Berlin",
            1,
            "09:00",
            "2026-03-02",
            "2026-10-25T00:00:00Z",
            "2026-10-24T07:00:00Z",
            "2026-10-25T08:00:00Z",
            25,
        ),
        (
            "Europe/Berlin",
            7,
            "09:00",
            "2026-03-02",
            "2026-10-25T12:00:00Z",
            "2026-10-19T07:00:00Z",
            "2026-10-26T08:00:00Z",
            7 * 24 + 1,
        ),
    ];
    for (zone, days, handoff, start, at, from, to, length) in cases {
        let s = schedule(vec![always(rotation(zone, &["ann", "bob"], days, handoff, start))]);
        let rotation = s.layers()[0].rotation();
        let shift = rotation.shift_at(ts(at)).unwrap();
        assert_eq!((shift.start, shift.end), (ts(from), ts(to)), "{zone} shift containing {at}");
        assert_eq!(hours(shift.start, shift.end), length, "{zone} shift containing {at}");
        let tz = TimeZone::get(zone).unwrap();
        for edge in [shift.start, shift.end] {
            let local = tz.to_datetime(edge);
            assert_eq!((local.hour(), local.minute()), (9, 0), "{zone}: the hand-off at {edge} stays at 09:00 local");
        }
        let timeline = s.shifts(shift.start, shift.end).unwrap();
        assert_eq!(timeline.len(), 1, "one shift, however long the day");
        assert_eq!(hours(timeline[0].start, timeline[0].end), length);
    }
}

#[test]
fn a_handoff_in_a_dst_gap_or_fold_uses_compatible_disambiguation() {
    // New York: 2026-03-08 02:00 EST jumps to 03:00 EDT; 2026-11-01 02:00 EDT falls back to 01:00 EST.
    // (hand-off, shift start local date, shift start, shift end, why)
    let cases = [
        ("02:30", "2026-03-07", "2026-03-07T07:30:00Z", "2026-03-08T07:30:00Z", "the next hand-off is in the gap"),
        ("02:30", "2026-03-08", "2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z", "02:30 does not exist: 03:30 EDT"),
        ("01:30", "2026-10-31", "2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "01:30 happens twice: the first (EDT)"),
        ("01:30", "2026-11-01", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z", "so the fall-back shift is 25 h"),
    ];
    for (handoff, date, from, to, why) in cases {
        let s = schedule(vec![always(rotation("America/New_York", &["ann", "bob"], 1, handoff, "2026-03-01"))]);
        let rotation = s.layers()[0].rotation();
        let index = date.parse::<Date>().unwrap().duration_since(rotation.start()).as_hours() / 24;
        assert_eq!(rotation.shift_start(index), Some(ts(from)), "{handoff} on {date}: {why}");
        assert_eq!(rotation.shift_start(index + 1), Some(ts(to)), "{handoff} on {date}: {why}");
        assert_eq!(rotation.shift_index_at(ts(from)), Some(index));
    }
}

#[test]
fn office_hours_layer_covers_the_24_7_base_only_inside_its_windows() {
    // Berlin in March is UTC+1. Base: weekly, Monday 08:00. Desk: daily 09:00, weekdays 09:00–17:00.
    let s = schedule(vec![
        always(rotation("Europe/Berlin", &["nora", "omar"], 7, "08:00", "2026-03-02")),
        restricted(
            rotation("Europe/Berlin", &["ann", "bob"], 1, "09:00", "2026-03-02"),
            &[(WEEKDAYS, "09:00", "17:00")],
        ),
    ]);
    let cases = [
        ("2026-03-06T07:59:59Z", Some("nora"), "Friday 08:59 local: the desk has not opened"),
        ("2026-03-06T08:00:00Z", Some("ann"), "Friday 09:00: the desk layer takes precedence"),
        ("2026-03-06T15:59:59Z", Some("ann"), ""),
        ("2026-03-06T16:00:00Z", Some("nora"), "Friday 17:00: back to the base"),
        ("2026-03-07T12:00:00Z", Some("nora"), "Saturday: the desk does not apply"),
        ("2026-03-09T07:30:00Z", Some("omar"), "Monday 08:30: the base handed off at 08:00"),
        ("2026-03-09T08:00:00Z", Some("bob"), "Monday 09:00: the desk again"),
    ];
    for (at, expected, why) in cases {
        assert_eq!(s.on_call_at(ts(at)), expected, "{at}: {why}");
    }
    let timeline = s.shifts(ts("2026-03-05T23:00:00Z"), ts("2026-03-09T11:00:00Z")).unwrap();
    assert_eq!(
        timeline,
        vec![
            shift("2026-03-05T23:00:00Z", "2026-03-06T08:00:00Z", "nora", Layer(0)),
            shift("2026-03-06T08:00:00Z", "2026-03-06T16:00:00Z", "ann", Layer(1)),
            shift("2026-03-06T16:00:00Z", "2026-03-09T07:00:00Z", "nora", Layer(0)),
            shift("2026-03-09T07:00:00Z", "2026-03-09T08:00:00Z", "omar", Layer(0)),
            shift("2026-03-09T08:00:00Z", "2026-03-09T11:00:00Z", "bob", Layer(1)),
        ]
    );
}

#[test]
fn a_restricted_layer_that_has_not_started_leaves_the_base_on_call() {
    let s = schedule(vec![
        always(rotation("UTC", &["nora"], 7, "00:00", "2026-03-02")),
        restricted(rotation("UTC", &["ann"], 1, "09:00", "2026-03-04"), &[(WEEKDAYS, "09:00", "17:00")]),
    ]);
    assert_eq!(s.on_call_at(ts("2026-03-03T10:00:00Z")), Some("nora"), "Tuesday: the desk rotation starts Wednesday");
    assert_eq!(s.on_call_at(ts("2026-03-04T10:00:00Z")), Some("ann"));
    // Single-member rotations: one shift per source, however many hand-offs lie inside it.
    let timeline = s.shifts(ts("2026-03-02T00:00:00Z"), ts("2026-03-05T00:00:00Z")).unwrap();
    assert_eq!(
        timeline,
        vec![
            shift("2026-03-02T00:00:00Z", "2026-03-04T09:00:00Z", "nora", Layer(0)),
            shift("2026-03-04T09:00:00Z", "2026-03-04T17:00:00Z", "ann", Layer(1)),
            shift("2026-03-04T17:00:00Z", "2026-03-05T00:00:00Z", "nora", Layer(0)),
        ]
    );
}

#[test]
fn a_restriction_open_for_weeks_on_end_is_followed_exactly() {
    // Closed only Sunday 02:00–02:30 New York time, which does not exist on 2026-03-08
    // (spring forward): the desk layer then applies for two weeks without a break.
    let s = schedule(vec![
        always(rotation("America/New_York", &["nora"], 7, "00:00", "2026-02-01")),
        restricted(
            rotation("America/New_York", &["ann"], 7, "00:00", "2026-02-01"),
            &[
                (&[Mon, Tue, Wed, Thu, Fri, Sat], "00:00", "24:00"),
                (&[Sun], "00:00", "02:00"),
                (&[Sun], "02:30", "24:00"),
            ],
        ),
    ]);
    assert_eq!(
        s.shifts(ts("2026-02-28T00:00:00Z"), ts("2026-03-20T00:00:00Z")).unwrap(),
        vec![
            shift("2026-02-28T00:00:00Z", "2026-03-01T07:00:00Z", "ann", Layer(1)),
            shift("2026-03-01T07:00:00Z", "2026-03-01T07:30:00Z", "nora", Layer(0)),
            shift("2026-03-01T07:30:00Z", "2026-03-15T06:00:00Z", "ann", Layer(1)),
            shift("2026-03-15T06:00:00Z", "2026-03-15T06:30:00Z", "nora", Layer(0)),
            shift("2026-03-15T06:30:00Z", "2026-03-20T00:00:00Z", "ann", Layer(1)),
        ]
    );
}

#[test]
fn a_restriction_window_is_one_unbroken_stretch_on_the_fall_back_night() {
    // New York, Sunday 2026-11-01: 02:00 EDT falls back to 01:00 EST at 06:00Z, so 01:00–02:00
    // happens twice. A window opens at the first instant the clock reads its start (or later)
    // and closes at the first instant it reads its end (or later), as the calendar's do.
    let s = schedule(vec![
        always(rotation("America/New_York", &["nora"], 7, "00:00", "2026-10-04")),
        restricted(rotation("America/New_York", &["ann"], 7, "00:00", "2026-10-04"), &[(&[Sun], "01:45", "04:30")]),
        restricted(rotation("America/New_York", &["bob"], 7, "00:00", "2026-10-04"), &[(&[Sun], "00:00", "01:30")]),
    ]);
    assert_eq!(
        s.shifts(ts("2026-11-01T03:00:00Z"), ts("2026-11-01T10:00:00Z")).unwrap(),
        vec![
            shift("2026-11-01T03:00:00Z", "2026-11-01T04:00:00Z", "nora", Layer(0)),
            // 00:00–01:30 EDT, and not again when the clock reads 01:00–01:30 EST.
            shift("2026-11-01T04:00:00Z", "2026-11-01T05:30:00Z", "bob", Layer(2)),
            shift("2026-11-01T05:30:00Z", "2026-11-01T05:45:00Z", "nora", Layer(0)),
            // From 01:45 EDT to 04:30 EST without a gap while the clock reads 01:00–01:45 again.
            shift("2026-11-01T05:45:00Z", "2026-11-01T09:30:00Z", "ann", Layer(1)),
            shift("2026-11-01T09:30:00Z", "2026-11-01T10:00:00Z", "nora", Layer(0)),
        ]
    );
    for (at, expected) in
        [("2026-11-01T06:10:00Z", "ann"), ("2026-11-01T06:30:00Z", "ann"), ("2026-11-01T06:44:59Z", "ann")]
    {
        assert_eq!(s.on_call_at(ts(at)), Some(expected), "{at}");
    }
    // Lord Howe, Sunday 2026-04-05: 02:00 (+11:00) falls back to 01:30 (+10:30) at 15:00Z.
    let s = schedule(vec![
        always(rotation("Australia/Lord_Howe", &["nora"], 7, "00:00", "2026-03-01")),
        restricted(rotation("Australia/Lord_Howe", &["bob"], 7, "00:00", "2026-03-01"), &[(&[Sun], "00:00", "01:45")]),
    ]);
    assert_eq!(
        s.shifts(ts("2026-04-04T12:00:00Z"), ts("2026-04-04T16:00:00Z")).unwrap(),
        vec![
            shift("2026-04-04T12:00:00Z", "2026-04-04T13:00:00Z", "nora", Layer(0)),
            shift("2026-04-04T13:00:00Z", "2026-04-04T14:45:00Z", "bob", Layer(1)),
            shift("2026-04-04T14:45:00Z", "2026-04-04T16:00:00Z", "nora", Layer(0)),
        ]
    );
}

#[test]
fn before_the_first_handoff_nobody_is_on_call() {
    let s = schedule(vec![always(rotation("Europe/Berlin", &["ann", "bob"], 1, "09:00", "2026-03-02"))]);
    for at in ["1990-01-01T00:00:00Z", "2026-03-01T12:00:00Z", "2026-03-02T07:59:59Z"] {
        assert_eq!(s.on_call_at(ts(at)), None, "{at}");
        assert_eq!(s.layers()[0].rotation().shift_at(ts(at)), None, "{at}");
    }
    let timeline = s.shifts(ts("2026-03-01T00:00:00Z"), ts("2026-03-03T00:00:00Z")).unwrap();
    assert_eq!(
        timeline,
        vec![shift("2026-03-02T08:00:00Z", "2026-03-03T00:00:00Z", "ann", Layer(0)),],
        "the timeline begins at the first hand-off"
    );
}

#[test]
fn instants_at_the_edges_of_time_never_panic() {
    let s = schedule(vec![
        always(rotation("Pacific/Kiritimati", &["ann", "bob"], 365, "23:59", "2199-12-31")),
        restricted(rotation("America/Santiago", &["cy"], 1, "00:00", "1900-01-01"), &[(WEEKDAYS, "00:00", "24:00")]),
    ]);
    for t in [Timestamp::MIN, Timestamp::MAX, ts("1900-01-01T00:00:00Z"), ts("2200-01-01T00:00:00Z")] {
        let _ = s.on_call_at(t);
        for layer in s.layers() {
            let _ = layer.rotation().shift_at(t);
        }
    }
    assert_eq!(s.on_call_at(Timestamp::MIN), None);
}

#[test]
fn overrides_replace_whoever_is_on_call() {
    let mut s = schedule(vec![always(rotation("UTC", &["ann", "bob"], 1, "09:00", "2026-03-02"))]);
    s.add_override(ovr("o1", "2026-03-03T12:00:00Z", "2026-03-03T18:00:00Z", "cy")).unwrap();
    assert_eq!(s.on_call_at(ts("2026-03-03T11:59:59Z")), Some("bob"));
    assert_eq!(s.on_call_at(ts("2026-03-03T12:00:00Z")), Some("cy"), "an override starts at its from");
    assert_eq!(s.on_call_at(ts("2026-03-03T18:00:00Z")), Some("bob"), "and ends at its to");

    // (override, expected error, why)
    let rejected = [
        (
            ovr("o2", "2026-03-03T17:00:00Z", "2026-03-03T20:00:00Z", "dan"),
            OverrideError::Conflict { id: "o2".into(), conflict: "o1".into() },
            "overlaps o1's last hour",
        ),
        (
            ovr("o2", "2026-03-01T00:00:00Z", "2026-03-05T00:00:00Z", "dan"),
            OverrideError::Conflict { id: "o2".into(), conflict: "o1".into() },
            "contains o1",
        ),
        (
            ovr("o2", "2026-03-03T18:00:00Z", "2026-03-03T18:00:00Z", "dan"),
            OverrideError::EndsBeforeStart { id: "o2".into() },
            "empty span",
        ),
        (
            ovr("o2", "2026-03-04T00:00:00Z", "2026-03-03T20:00:00Z", "dan"),
            OverrideError::EndsBeforeStart { id: "o2".into() },
            "reversed span",
        ),
        (
            ovr("o2", "2026-04-01T00:00:00Z", "2026-06-30T00:00:01Z", "dan"),
            OverrideError::TooLong { id: "o2".into() },
            "90 days and a second",
        ),
        (
            ovr("o1", "2026-03-10T00:00:00Z", "2026-03-11T00:00:00Z", "dan"),
            OverrideError::DuplicateId("o1".into()),
            "ids are unique",
        ),
        (
            ovr("o2", "2026-03-10T00:00:00Z", "2026-03-11T00:00:00Z", " "),
            OverrideError::MissingUser { id: "o2".into() },
            "someone must be on call",
        ),
    ];
    for (o, expected, why) in rejected {
        assert_eq!(s.add_override(o), Err(expected.clone()), "{why}");
        if let OverrideError::Conflict { .. } = expected {
            assert!(expected.to_string().contains("\"o1\""), "the message names the conflicting override");
        }
    }
    assert_eq!(s.overrides().len(), 1, "rejected overrides change nothing");

    s.add_override(ovr("o3", "2026-03-03T18:00:00Z", "2026-03-03T20:00:00Z", "dan")).unwrap();
    s.add_override(ovr("long", "2026-04-01T00:00:00Z", "2026-06-30T00:00:00Z", "eve")).unwrap();
    assert_eq!(
        s.shifts(ts("2026-03-03T00:00:00Z"), ts("2026-03-04T00:00:00Z")).unwrap(),
        vec![
            shift("2026-03-03T00:00:00Z", "2026-03-03T09:00:00Z", "ann", Layer(0)),
            shift("2026-03-03T09:00:00Z", "2026-03-03T12:00:00Z", "bob", Layer(0)),
            shift("2026-03-03T12:00:00Z", "2026-03-03T18:00:00Z", "cy", Ovr("o1".into())),
            shift("2026-03-03T18:00:00Z", "2026-03-03T20:00:00Z", "dan", Ovr("o3".into())),
            shift("2026-03-03T20:00:00Z", "2026-03-04T00:00:00Z", "bob", Layer(0)),
        ],
        "touching overrides do not conflict and are not merged"
    );

    s.replace_override("o1", "eve").unwrap();
    assert_eq!(s.on_call_at(ts("2026-03-03T13:00:00Z")), Some("eve"));
    assert_eq!(s.replace_override("nope", "eve"), Err(OverrideError::Unknown("nope".into())));

    let removed = s.remove_override("o1").unwrap();
    assert_eq!((removed.id.as_str(), removed.user.as_str()), ("o1", "eve"));
    assert_eq!(s.on_call_at(ts("2026-03-03T13:00:00Z")), Some("bob"), "the rotation is back");
    assert_eq!(s.remove_override("o1"), Err(OverrideError::Unknown("o1".into())));
    s.add_override(ovr("o2", "2026-03-03T17:00:00Z", "2026-03-03T18:00:00Z", "dan")).unwrap();
}

#[test]
fn an_override_puts_its_user_on_call_where_nobody_is() {
    let mut s = schedule(vec![restricted(
        rotation("UTC", &["ann"], 1, "09:00", "2026-03-02"),
        &[(WEEKDAYS, "09:00", "17:00")],
    )]);
    s.add_override(ovr("night", "2026-03-01T20:00:00Z", "2026-03-02T10:00:00Z", "cy")).unwrap();
    assert_eq!(
        s.shifts(ts("2026-03-01T00:00:00Z"), ts("2026-03-03T00:00:00Z")).unwrap(),
        vec![
            shift("2026-03-01T20:00:00Z", "2026-03-02T10:00:00Z", "cy", Ovr("night".into())),
            shift("2026-03-02T10:00:00Z", "2026-03-02T17:00:00Z", "ann", Layer(0)),
        ],
        "before the rotation starts and outside its windows the override alone is on call"
    );
}

fn valid_spec() -> ScheduleSpec {
    ScheduleSpec {
        name: "platform".into(),
        layers: vec![
            always(rotation("Europe/Berlin", &["nora", "omar"], 7, "08:00", "2026-03-02")),
            restricted(
                rotation("Europe/Berlin", &["ann", "bob"], 1, "09:00", "2026-03-02"),
                &[(WEEKDAYS, "09:00", "17:00")],
            ),
        ],
        overrides: vec![ovr("o1", "2026-03-03T12:00:00Z", "2026-03-03T18:00:00Z", "cy")],
    }
}

#[test]
fn compiling_a_bad_spec_names_the_key_path() {
    type Mutation = fn(&mut ScheduleSpec);
    let base: Mutation = |s| s.layers[0].rotation.time_zone = "Mars/Olympus".into();
    // (mutation, key path)
    let cases: [(Mutation, &str); 21] = [
        (base, "layers.0.rotation.time_zone"),
        (|s| s.layers.clear(), "layers"),
        (|s| s.layers[0].rotation.members.clear(), "layers.0.rotation.members"),
        (|s| s.layers[1].rotation.members.push(String::new()), "layers.1.rotation.members.2"),
        (|s| s.layers[0].rotation.shift_days = 0, "layers.0.rotation.shift_days"),
        (|s| s.layers[0].rotation.shift_days = 366, "layers.0.rotation.shift_days"),
        (|s| s.layers[0].rotation.handoff = "9:00".into(), "layers.0.rotation.handoff"),
        (|s| s.layers[0].rotation.handoff = "24:00".into(), "layers.0.rotation.handoff"),
        (|s| s.layers[0].rotation.handoff = "09:60".into(), "layers.0.rotation.handoff"),
        (|s| s.layers[0].rotation.handoff = "09:00:00".into(), "layers.0.rotation.handoff"),
        (|s| s.layers[0].rotation.start = "2026-3-2".into(), "layers.0.rotation.start"),
        (|s| s.layers[0].rotation.start = "2026-02-30".into(), "layers.0.rotation.start"),
        (|s| s.layers[0].rotation.start = "2026-03-02T09:00".into(), "layers.0.rotation.start"),
        (|s| s.layers[0].rotation.start = "1899-12-31".into(), "layers.0.rotation.start"),
        (|s| s.layers[1].restriction = Some(vec![]), "layers.1.restriction"),
        (|s| s.layers[1].restriction.as_mut().unwrap()[0].to = "08:00".into(), "layers.1.restriction.0.to"),
        (|s| s.layers[1].restriction.as_mut().unwrap()[0].days.clear(), "layers.1.restriction.0.days"),
        (
            |s| {
                let w = Window { days: vec![Fri], from: "16:00".into(), to: "18:00".into() };
                s.layers[1].restriction.as_mut().unwrap().push(w);
            },
            "layers.1.restriction.1",
        ),
        (|s| s.overrides[0].to = s.overrides[0].from, "overrides.0.to"),
        (|s| s.overrides.push(s.overrides[0].clone()), "overrides.1.id"),
        (|s| s.overrides.push(ovr("o2", "2026-03-03T17:00:00Z", "2026-03-03T19:00:00Z", "dan")), "overrides.1"),
    ];
    assert!(Schedule::compile(&valid_spec()).is_ok());
    for (mutate, path) in cases {
        let mut spec = valid_spec();
        mutate(&mut spec);
        let err = Schedule::compile(&spec).unwrap_err();
        assert_eq!(err.path.join("."), path, "{err}");
        assert!(err.to_string().starts_with(path), "the message leads with the path: {err}");
    }
    let mut spec = valid_spec();
    spec.overrides.push(ovr("o2", "2026-03-03T17:00:00Z", "2026-03-03T19:00:00Z", "dan"));
    assert!(Schedule::compile(&spec).unwrap_err().message.contains("\"o1\""), "names the conflicting override");
}

#[test]
fn the_written_form_reads_from_toml_and_round_trips() {
    let text = r#"
        name = "platform"

        [[layers]]
        rotation = { name = "base", time_zone = "Europe/Berlin", members = ["nora", "omar"], shift_days = 7, handoff = "08:00", start = "2026-03-02" }

        [[layers]]
        rotation = { name = "desk", time_zone = "Europe/Berlin", members = ["ann", "bob"], shift_days = 1, handoff = "09:00", start = "2026-03-02" }
        restriction = [{ days = ["mon", "tue", "wed", "thu", "fri"], from = "09:00", to = "17:00" }]

        [[overrides]]
        id = "o1"
        from = "2026-03-03T12:00:00Z"
        to = "2026-03-03T18:00:00Z"
        user = "cy"
    "#;
    let spec: ScheduleSpec = toml::from_str(text).unwrap();
    let s = Schedule::compile(&spec).unwrap();
    assert_eq!(s.on_call_at(ts("2026-03-03T13:00:00Z")), Some("cy"));
    assert_eq!(s.on_call_at(ts("2026-03-03T17:00:00Z")), Some("cy"));
    assert_eq!(s.on_call_at(ts("2026-03-03T19:00:00Z")), Some("nora"));

    let json = serde_json::to_string(&s.to_spec()).unwrap();
    let again = Schedule::compile(&serde_json::from_str(&json).unwrap()).unwrap();
    let (a, b) = (ts("2026-03-01T00:00:00Z"), ts("2026-05-01T00:00:00Z"));
    assert_eq!(again.shifts(a, b).unwrap(), s.shifts(a, b).unwrap());
    assert!(toml::from_str::<ScheduleSpec>(&text.replace("shift_days = 7", "shift_days = 7, color = 1")).is_err());
}

#[test]
fn shifts_answers_windows_up_to_366_days() {
    let s = schedule(vec![always(rotation("UTC", &["ann", "bob"], 1, "09:00", "2026-01-01"))]);
    let from = ts("2026-01-01T09:00:00Z");
    let year = s.shifts(from, from + SignedDuration::from_hours(366 * 24)).unwrap();
    assert_eq!(year.len(), 366);
    assert_eq!(
        s.shifts(from, from + SignedDuration::from_hours(366 * 24 + 1)),
        Err(WindowError::TooLong),
        "longer windows are asked for in parts"
    );
    assert_eq!(s.shifts(from, ts("2025-01-01T00:00:00Z")), Err(WindowError::Reversed));
    assert_eq!(s.shifts(from, from), Ok(vec![]));
    assert_eq!(s.shifts(ts("2199-12-31T00:00:00Z"), ts("2200-01-02T00:00:00Z")), Err(WindowError::OutOfRange));
    // Far from the start, a window still costs its own shifts only.
    let far = ts("2199-06-01T00:00:00Z");
    assert_eq!(s.shifts(far, far + SignedDuration::from_hours(48)).unwrap().len(), 3);
}

// ---- Properties ----------------------------------------------------------------------------

const ZONES: &[&str] = &[
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "America/Santiago",
    "America/Havana",
    "Asia/Kolkata",
];

fn arb_rotation() -> impl Strategy<Value = RotationSpec> {
    let members = prop::collection::vec(prop::sample::select(vec!["ann", "bob", "cy", "dan", "eve"]), 1..5);
    (prop::sample::select(ZONES), members, 1u32..15, 0i8..24, prop::sample::select(vec![0i8, 15, 30, 45]), 0i64..900)
        .prop_map(|(zone, members, days, h, m, start)| {
            let start = Date::constant(2024, 1, 1).checked_add(jiff::Span::new().days(start)).unwrap();
            rotation(zone, &members, days, &format!("{h:02}:{m:02}"), &start.to_string())
        })
}

fn arb_windows() -> impl Strategy<Value = Option<Vec<Window>>> {
    let days = [Mon, Tue, Wed, Thu, Fri, Sat, Sun];
    let window = (0usize..7, 0i64..47, 1i64..16).prop_map(move |(d, a, len)| {
        let fmt = |half: i64| {
            if half == 48 { "24:00".to_string() } else { format!("{:02}:{:02}", half / 2, (half % 2) * 30) }
        };
        Window { days: vec![days[d]], from: fmt(a), to: fmt((a + len).min(48)) }
    });
    prop::option::of(prop::collection::vec(window, 1..4))
}

fn arb_instant() -> impl Strategy<Value = Timestamp> {
    // 2024-01-01 .. 2028-06-01, whole seconds.
    (1_704_067_200i64..1_843_603_200).prop_map(|s| Timestamp::from_second(s).unwrap())
}

fn arb_schedule() -> impl Strategy<Value = Schedule> {
    let layers = prop::collection::vec((arb_rotation(), arb_windows()), 1..4);
    let overrides =
        prop::collection::vec((arb_instant(), 1i64..(20 * 86_400), prop::sample::select(vec!["xi", "yu"])), 0..6);
    (layers, overrides).prop_filter_map("overlapping restriction windows", |(layers, overrides)| {
        let layers = layers.into_iter().map(|(rotation, restriction)| LayerSpec { rotation, restriction }).collect();
        let mut s = Schedule::compile(&ScheduleSpec { name: "p".into(), layers, overrides: vec![] }).ok()?;
        for (i, (from, len, user)) in overrides.into_iter().enumerate() {
            let o =
                Override { id: format!("o{i}"), from, to: from + SignedDuration::from_secs(len), user: user.into() };
            let _ = s.add_override(o); // overlapping ones are rejected; the rest stay
        }
        Some(s)
    })
}

/// Independent slow oracle: walk the local dates from `start`, count the hand-offs (every
/// `shift_days`-th date at the hand-off time, via jiff's compatible conversion) at or before `t`.
fn walk_oracle(spec: &RotationSpec, t: Timestamp) -> Option<String> {
    let tz = TimeZone::get(&spec.time_zone).unwrap();
    let handoff: jiff::civil::Time = spec.handoff.parse().unwrap();
    let start: Date = spec.start.parse().unwrap();
    let last = tz.to_datetime(t).date().checked_add(jiff::Span::new().days(2)).unwrap();
    let (mut date, mut day, mut handoffs) = (start, 0u32, 0usize);
    while date <= last {
        if day % spec.shift_days == 0 && date.to_datetime(handoff).to_zoned(tz.clone()).unwrap().timestamp() <= t {
            handoffs += 1;
        }
        date = date.tomorrow().unwrap();
        day += 1;
    }
    handoffs.checked_sub(1).map(|index| spec.members[index % spec.members.len()].clone())
}

fn shifted(spec: &RotationSpec, days: i64) -> RotationSpec {
    let start: Date = spec.start.parse().unwrap();
    RotationSpec { start: start.checked_add(jiff::Span::new().days(days)).unwrap().to_string(), ..spec.clone() }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn a_pure_rotation_agrees_with_walking_the_days(spec in arb_rotation(), days_after in -30i64..1100, secs in 0i64..86_400) {
        let start: Date = spec.start.parse().unwrap();
        let t = start.to_zoned(TimeZone::UTC).unwrap().timestamp() + SignedDuration::from_secs(days_after * 86_400 + secs);
        let s = schedule(vec![always(spec.clone())]);
        prop_assert_eq!(s.on_call_at(t).map(str::to_string), walk_oracle(&spec, t));
        if let Some(shift) = s.layers()[0].rotation().shift_at(t) {
            prop_assert!(shift.start <= t && t < shift.end);
            prop_assert_eq!(s.layers()[0].rotation().shift_index_at(shift.start), Some(shift.index));
        }
    }

    #[test]
    fn shifting_start_by_a_whole_cycle_changes_nothing(spec in arb_rotation(), cycles in 1i64..4, days_after in 0i64..400, secs in 0i64..86_400) {
        let original = schedule(vec![always(spec.clone())]);
        let cycle = original.layers()[0].rotation().cycle_days();
        let earlier = schedule(vec![always(shifted(&spec, -cycles * cycle))]);
        let later_spec = shifted(&spec, cycles * cycle);
        let later = schedule(vec![always(later_spec)]);
        // From the later start on, all three agree.
        let from = later.layers()[0].rotation().shift_start(0).unwrap() + SignedDuration::from_secs(days_after * 86_400 + secs);
        prop_assert_eq!(original.on_call_at(from), later.on_call_at(from));
        prop_assert_eq!(original.on_call_at(from), earlier.on_call_at(from));
        let to = from + SignedDuration::from_hours(40 * 24);
        let timeline = original.shifts(from, to).unwrap();
        prop_assert_eq!(&timeline, &earlier.shifts(from, to).unwrap());
        prop_assert_eq!(&timeline, &later.shifts(from, to).unwrap());
    }

    #[test]
    fn shifts_tile_the_window_and_agree_with_on_call_at(
        s in arb_schedule(),
        a in arb_instant(),
        length in 0i64..(120 * 86_400),
        samples in prop::collection::vec(0.0f64..1.0, 20),
    ) {
        let b = a + SignedDuration::from_secs(length);
        let timeline = s.shifts(a, b).unwrap();
        for (i, shift) in timeline.iter().enumerate() {
            prop_assert!(a <= shift.start && shift.start < shift.end && shift.end <= b, "inside the window: {:?}", shift);
            prop_assert_eq!(s.assignment_at(shift.start), Some((shift.user.as_str(), shift.source.clone())));
            let last_second = shift.end - SignedDuration::from_secs(1);
            prop_assert_eq!(s.assignment_at(last_second), Some((shift.user.as_str(), shift.source.clone())));
            if let Some(next) = timeline.get(i + 1) {
                prop_assert!(shift.end <= next.start, "in order, no overlap");
                if shift.end == next.start {
                    prop_assert!(shift.user != next.user || shift.source != next.source, "adjacent equal shifts merge");
                } else {
                    prop_assert_eq!(s.on_call_at(shift.end), None, "a gap means nobody is on call");
                }
            }
        }
        if let Some(first) = timeline.first().filter(|f| f.start > a) {
            prop_assert_eq!(s.on_call_at(a), None, "nobody before the first shift {:?}", first);
        }
        for f in samples {
            let t = a + SignedDuration::from_secs((length as f64 * f) as i64);
            if t >= b { continue; }
            let covering = timeline.iter().find(|x| x.start <= t && t < x.end);
            prop_assert_eq!(s.on_call_at(t), covering.map(|x| x.user.as_str()), "at {}", t);
        }
        // Split anywhere, the two halves give the same timeline.
        let m = a + SignedDuration::from_secs(length / 3);
        let mut halves = s.shifts(a, m).unwrap();
        for shift in s.shifts(m, b).unwrap() {
            match halves.last_mut() {
                Some(last) if last.end == shift.start && last.user == shift.user && last.source == shift.source => last.end = shift.end,
                _ => halves.push(shift),
            }
        }
        prop_assert_eq!(halves, timeline);
    }
}
