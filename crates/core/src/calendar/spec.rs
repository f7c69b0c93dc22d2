//! The written form of a calendar (as in a contract file) and its compilation into a
//! [`Calendar`].

use super::{Calendar, Reading, SUPPORTED_RANGE, WEEK};
use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// A day of the week, written as its three-letter English abbreviation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    fn index(self) -> i64 {
        self as i64
    }
}

/// An open window on some weekdays, in local wall-clock time. `to` may be "24:00" (end of day).
/// On each of its dates it is one unbroken stretch: it opens at the first instant at which that
/// date's wall clock reads `from` or later and closes at the first instant at which it reads `to`
/// or later, so a time the clock repeats counts at its first occurrence and a time it skips at
/// the jump.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// The weekdays this window is open on.
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub days: Vec<Weekday>,
    /// Local opening time, "HH:MM" or "HH:MM:SS".
    #[cfg_attr(feature = "openapi", schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"))]
    pub from: String,
    /// Local closing time, "HH:MM" or "HH:MM:SS", up to "24:00"; later than `from`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^(([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?|24:00(:00)?)$"))]
    pub to: String,
}

/// A one-off closure between two local date-times (e.g. a company event), each placed as a
/// window's edges are: at the first instant the wall clock reads it or later.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Closure {
    /// Local start, "YYYY-MM-DDTHH:MM".
    pub from: String,
    /// Local end (exclusive), "YYYY-MM-DDTHH:MM".
    pub to: String,
    /// Why coverage is closed; shown to people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A calendar as written in a contract file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSpec {
    /// What people call it ("Pro support hours"): the pages say this, never the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What the calendar is, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// IANA time zone name the windows, holidays and closures are written in.
    pub time_zone: String,
    /// Weekly open windows.
    pub windows: Vec<Window>,
    /// Whole local days on which the calendar is closed, "YYYY-MM-DD".
    #[serde(default)]
    pub holidays: Vec<String>,
    /// One-off closures.
    #[serde(default)]
    pub closures: Vec<Closure>,
}

/// A calendar that cannot be compiled: where in the spec, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// Key path inside the calendar, e.g. `["windows", "1", "to"]`.
    pub path: Vec<String>,
    /// What is wrong.
    pub message: String,
}

fn err(path: &[&str], message: impl Into<String>) -> SpecError {
    SpecError { path: path.iter().map(|s| s.to_string()).collect(), message: message.into() }
}

/// Parses "HH:MM" or "HH:MM:SS" into seconds since midnight, allowing "24:00" exactly.
fn parse_time_of_day(text: &str) -> Option<i64> {
    let parts: Vec<&str> = text.split(':').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let n: Vec<i64> = parts.iter().map(|p| p.parse().expect("two ASCII digits")).collect();
    let (h, m, s) = (n[0], n[1], n.get(2).copied().unwrap_or(0));
    let total = h * 3600 + m * 60 + s;
    (m < 60 && s < 60 && total <= 86_400).then_some(total)
}

impl CalendarSpec {
    /// Checks the spec and builds the query engine.
    pub fn compile(&self) -> Result<Calendar, SpecError> {
        let tz = TimeZone::get(&self.time_zone).map_err(|_| {
            err(
                &["time_zone"],
                format!(
                    "unknown time zone {:?}; use an IANA name such as \"UTC\" or \"America/New_York\"",
                    self.time_zone
                ),
            )
        })?;
        if self.windows.is_empty() {
            return Err(err(&["windows"], "a calendar needs at least one open window"));
        }
        let mut spans: Vec<(i64, i64, usize)> = Vec::new();
        for (i, w) in self.windows.iter().enumerate() {
            let idx = i.to_string();
            let from = parse_time_of_day(&w.from).filter(|s| *s < 86_400).ok_or_else(|| {
                err(
                    &["windows", &idx, "from"],
                    format!("invalid time {:?}; write \"HH:MM\" from 00:00 to 23:59", w.from),
                )
            })?;
            let to = parse_time_of_day(&w.to).ok_or_else(|| {
                err(&["windows", &idx, "to"], format!("invalid time {:?}; write \"HH:MM\" up to 24:00", w.to))
            })?;
            if to <= from {
                return Err(err(
                    &["windows", &idx, "to"],
                    format!(
                        "window closes ({}) at or before it opens ({}); split an overnight window into two windows",
                        w.to, w.from
                    ),
                ));
            }
            if w.days.is_empty() {
                return Err(err(&["windows", &idx, "days"], "a window needs at least one day"));
            }
            for d in &w.days {
                let base = d.index() * 86_400;
                spans.push((base + from, base + to, i));
            }
        }
        spans.sort_unstable();
        for pair in spans.windows(2) {
            let ((_, e1, i1), (s2, _, i2)) = (pair[0], pair[1]);
            if s2 < e1 {
                let (a, b) = (i1.min(i2), i1.max(i2));
                let what = if a == b {
                    format!("window {a} lists a day twice")
                } else {
                    format!("windows {a} and {b} overlap")
                };
                return Err(err(&["windows", &b.to_string()], what));
            }
        }
        debug_assert!(spans.iter().all(|s| s.1 <= WEEK));

        // Holidays and closures are local spans, placed on the timeline by the windows' rule.
        let clock = clock_segments(&tz);
        let mut closed = Vec::new();
        for (i, h) in self.holidays.iter().enumerate() {
            let idx = i.to_string();
            let date: Date =
                h.parse().map_err(|_| err(&["holidays", &idx], format!("invalid date {h:?}; write \"YYYY-MM-DD\"")))?;
            let start = local_second(date.to_datetime(Time::midnight()));
            closed.push((first_reading(&clock, start), first_reading(&clock, start + 86_400)));
        }
        for (i, c) in self.closures.iter().enumerate() {
            let idx = i.to_string();
            let from = local_date_time(&c.from).ok_or_else(|| {
                err(
                    &["closures", &idx, "from"],
                    format!("invalid local date-time {:?}; write \"YYYY-MM-DDTHH:MM\"", c.from),
                )
            })?;
            let to = local_date_time(&c.to).ok_or_else(|| {
                err(
                    &["closures", &idx, "to"],
                    format!("invalid local date-time {:?}; write \"YYYY-MM-DDTHH:MM\"", c.to),
                )
            })?;
            if to <= from {
                return Err(err(&["closures", &idx, "to"], "a closure must end after it starts"));
            }
            closed.push((first_reading(&clock, from), first_reading(&clock, to)));
        }
        for (s, e) in &closed {
            if *s < SUPPORTED_RANGE.0 || *e > SUPPORTED_RANGE.1 {
                return Err(err(&["holidays"], "holidays and closures must fall in the years 1900 to 2199"));
            }
        }
        closed.retain(|(s, e)| s < e);
        let weekly = spans.into_iter().map(|(s, e, _)| (s, e)).collect();
        Ok(Calendar::build(weekly, clock, closed))
    }
}

/// A civil date-time as local seconds (see [`Reading`]).
fn local_second(dt: DateTime) -> i64 {
    dt.duration_since(DateTime::constant(1970, 1, 1, 0, 0, 0, 0)).as_secs()
}

fn local_date_time(text: &str) -> Option<i64> {
    text.parse().ok().map(local_second)
}

/// The zone's UTC offsets over the supported range, as (first instant, offset) segments.
fn offset_segments(tz: &TimeZone) -> Vec<(i64, i64)> {
    let start = Timestamp::from_second(SUPPORTED_RANGE.0).expect("supported range is valid");
    let mut segments = vec![(i64::MIN, i64::from(tz.to_offset(start).seconds()))];
    for transition in tz.following(start) {
        let at = transition.timestamp().as_second();
        if at >= SUPPORTED_RANGE.1 {
            break;
        }
        let offset = i64::from(transition.offset().seconds());
        if segments.last().is_some_and(|s| s.1 != offset) {
            segments.push((at, offset));
        }
    }
    segments
}

/// The calendar's local clock over the supported range: the zone's wall clock, except that
/// after a fall-back it holds at the last local second already shown until the wall clock
/// reads past it again. Readings therefore never decrease, and a local time "happens" at the
/// first instant the wall clock reads it or later: its first occurrence when repeated, the
/// jump when skipped.
fn clock_segments(tz: &TimeZone) -> Vec<(i64, Reading)> {
    let offsets = offset_segments(tz);
    let mut clock = Vec::with_capacity(offsets.len() * 3 / 2);
    // The latest local second shown before the current offset segment.
    let mut shown: Option<i64> = None;
    for (i, &(from, offset)) in offsets.iter().enumerate() {
        let until = offsets.get(i + 1).map(|o| o.0);
        match shown {
            // The wall clock reads a time already shown: hold until it reads `last + 1`.
            Some(last) if from + offset <= last => {
                if clock.last().is_none_or(|c: &(i64, Reading)| c.1 != Reading::Held(last)) {
                    clock.push((from, Reading::Held(last)));
                }
                let resume = last + 1 - offset;
                if until.is_none_or(|u| resume < u) {
                    clock.push((resume, Reading::Offset(offset)));
                }
            }
            _ => clock.push((from, Reading::Offset(offset))),
        }
        if let Some(u) = until {
            shown = Some(shown.map_or(u - 1 + offset, |last| last.max(u - 1 + offset)));
        }
    }
    clock
}

/// The first instant at which the clock (segments from [`clock_segments`]) reads local second
/// `l` or later: where the local time `l` "happens" by the windows' rule.
fn first_reading(clock: &[(i64, Reading)], l: i64) -> i64 {
    // Binary search for the first segment whose last reading (the second before the next
    // segment starts) is `l` or later; the last segment reads on forever.
    let (mut lo, mut hi) = (0, clock.len() - 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if clock[mid].1.at(clock[mid + 1].0 - 1) < l {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let (start, reading) = clock[lo];
    match reading {
        Reading::Offset(offset) => start.max(l - offset),
        Reading::Held(_) => start,
    }
}
