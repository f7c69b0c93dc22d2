//! Business-time calendars: weekly open windows in an IANA time zone, minus holidays and
//! one-off closures.
//!
//! Semantics (docs/contract.md): every window is one unbroken stretch of time. A window on a
//! local date opens at the first instant at which that date's wall clock reads its start time
//! or later, and closes at the first instant at which it reads its end time or later; a repeated
//! time (fall-back) means its first occurrence, a skipped time (spring-forward) the instant the
//! clock jumps past it. Holidays (whole local days) and closures are read the same way. The
//! engine gets this by reading windows on a local clock that never runs backwards: after a
//! fall-back it *holds* at the last local second already shown until the wall clock passes it
//! again (a `Reading` per segment of the timeline). A calendar is open at `t` when that
//! clock's reading lies in one of the weekly windows, its date is not a holiday, and it is not
//! in a closure. Business time is real elapsed seconds while open, so a 00:00–24:00 window on a
//! 23-hour DST day yields 23 hours, on a 25-hour day 25 hours, and a window containing the
//! repeated hour gains it. `due(a, d)` is the *last* instant at which no more than `d` of
//! business time has passed since `a`: a target used up exactly at a close is due at the next
//! opening.
//!
//! Cost: the timeline is cut into *pieces* at clock changes (UTC offset changes, and the end of
//! a hold) and at the edges of closed days. Inside a piece the clock either runs at one offset,
//! so the open set is periodic with period one week and business time over any span of it is
//! computed arithmetically from per-week prefix sums, or it holds, so the piece is open
//! throughout or not at all. Every query therefore costs O(pieces crossed × log windows),
//! independent of how many days or weeks it spans.

mod spec;

pub use spec::{CalendarSpec, Closure, SpecError, Weekday, Window};

use jiff::Timestamp;

const WEEK: i64 = 7 * 86_400;
/// The Unix epoch was a Thursday; shifting by three days makes week positions start on Monday.
const MONDAY_SHIFT: i64 = 3 * 86_400;

/// Instants the calendar engine supports, in Unix seconds: years 1900 through 2199. Time-zone
/// transitions are precomputed over this range; instants outside it are refused at the edges.
pub const SUPPORTED_RANGE: (i64, i64) = (-2_208_988_800, 7_258_118_400);

/// A compiled calendar, ready for fast queries. Built from a [`CalendarSpec`].
#[derive(Clone, Debug)]
pub struct Calendar {
    /// Open windows as seconds since local Monday 00:00, sorted, merged, non-empty.
    windows: Vec<(i64, i64)>,
    /// Open seconds in the week before each window starts.
    prefix: Vec<i64>,
    /// Open seconds in one whole week.
    week_open: i64,
    /// Local clock segments: each (first instant, how the clock reads from then on); the first
    /// starts at `i64::MIN`, and readings never decrease from one second to the next.
    clock: Vec<(i64, Reading)>,
    /// Closed spans (holidays and closures) as half-open instant ranges, sorted and merged.
    closed: Vec<(i64, i64)>,
}

/// How the calendar's local clock reads during a segment of the timeline. Local seconds count
/// from 1970-01-01 00:00 on the wall clock (a civil date-time read as if it were UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reading {
    /// The wall clock: the local second is the instant plus this UTC offset in seconds.
    Offset(i64),
    /// After a fall-back, while the wall clock shows times it has already shown: the clock holds
    /// at this local second, the last one shown before the fall-back, so no window opens twice.
    /// A held segment is always followed by an `Offset` one, when the wall clock passes it.
    Held(i64),
}

impl Reading {
    /// The local second this reading gives at instant `t`.
    fn at(self, t: i64) -> i64 {
        match self {
            Reading::Offset(offset) => t + offset,
            Reading::Held(local) => local,
        }
    }
}

/// The piece of the timeline containing an instant: where it ends and how it is treated.
struct Piece {
    /// How the local clock reads throughout the piece.
    reading: Reading,
    /// `Some(end)` when the instant lies in a closed span ending at `end`.
    closed_until: Option<i64>,
    /// The next instant at which the clock's segment changes or a closed span begins.
    next_boundary: Option<i64>,
}

impl Calendar {
    /// Builds the engine from open windows (seconds since local Monday 00:00, half-open,
    /// possibly unsorted), the local clock's segments and closed instant ranges.
    fn build(mut windows: Vec<(i64, i64)>, clock: Vec<(i64, Reading)>, mut closed: Vec<(i64, i64)>) -> Calendar {
        windows.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::with_capacity(windows.len());
        for (s, e) in windows {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        let mut prefix = Vec::with_capacity(merged.len());
        let mut acc = 0;
        for (s, e) in &merged {
            prefix.push(acc);
            acc += e - s;
        }
        closed.sort_unstable();
        let mut closed_merged: Vec<(i64, i64)> = Vec::with_capacity(closed.len());
        for (s, e) in closed {
            match closed_merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => closed_merged.push((s, e)),
            }
        }
        Calendar { windows: merged, prefix, week_open: acc, clock, closed: closed_merged }
    }

    /// Open seconds per ordinary week (no holidays, no DST change).
    pub fn week_open_seconds(&self) -> i64 {
        self.week_open
    }

    /// True when the calendar is open every second of every week and has no closed days:
    /// its business time is clock time.
    pub fn is_always_open(&self) -> bool {
        self.week_open == WEEK && self.closed.is_empty()
    }

    /// Cumulative open seconds of the periodic weekly pattern up to local second `l`.
    fn cumulative(&self, l: i64) -> i64 {
        let shifted = l + MONDAY_SHIFT;
        let week = shifted.div_euclid(WEEK);
        let pos = shifted.rem_euclid(WEEK);
        let i = self.windows.partition_point(|w| w.0 <= pos);
        let within = if i == 0 {
            0
        } else {
            let (s, e) = self.windows[i - 1];
            self.prefix[i - 1] + pos.min(e) - s
        };
        week * self.week_open + within
    }

    /// The earliest local second `l` with `cumulative(l) >= v`.
    fn cumulative_inverse(&self, v: i64) -> i64 {
        let week = (v - 1).div_euclid(self.week_open);
        let rem = v - week * self.week_open; // in 1..=week_open
        let i = self.prefix.partition_point(|p| *p < rem) - 1;
        week * WEEK - MONDAY_SHIFT + self.windows[i].0 + (rem - self.prefix[i])
    }

    /// Open seconds in `[t, e)`, both inside one piece that is not closed.
    fn open_within(&self, reading: Reading, t: i64, e: i64) -> i64 {
        match reading {
            Reading::Offset(offset) => self.cumulative(e + offset) - self.cumulative(t + offset),
            Reading::Held(local) if self.in_window(local) => e - t,
            Reading::Held(_) => 0,
        }
    }

    /// Whether local second `l` lies in a weekly window.
    fn in_window(&self, l: i64) -> bool {
        self.next_window_local(l) == l
    }

    /// The first local second at or after `l` that lies in a weekly window.
    fn next_window_local(&self, l: i64) -> i64 {
        let pos = (l + MONDAY_SHIFT).rem_euclid(WEEK);
        let i = self.windows.partition_point(|w| w.1 <= pos);
        match self.windows.get(i) {
            Some(&(s, _)) if s <= pos => l,
            Some(&(s, _)) => l + (s - pos),
            None => l + (WEEK - pos) + self.windows[0].0,
        }
    }

    fn piece(&self, t: i64) -> Piece {
        let si = self.clock.partition_point(|c| c.0 <= t) - 1;
        let reading = self.clock[si].1;
        let next_segment = self.clock.get(si + 1).map(|c| c.0);
        let ci = self.closed.partition_point(|c| c.0 <= t);
        let closed_until = (ci > 0 && self.closed[ci - 1].1 > t).then(|| self.closed[ci - 1].1);
        let next_closed = self.closed.get(ci).map(|c| c.0);
        let next_boundary = match (next_segment, next_closed) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Piece { reading, closed_until, next_boundary }
    }

    /// Whether the calendar is open at `t` (windows are half-open: open at their start,
    /// closed at their end; each is one unbroken stretch, see the module documentation).
    pub fn is_open(&self, t: Timestamp) -> bool {
        self.is_open_secs(t.as_second())
    }

    fn is_open_secs(&self, t: i64) -> bool {
        let p = self.piece(t);
        p.closed_until.is_none() && self.in_window(p.reading.at(t))
    }

    /// `t` when open, else the next instant at which the calendar opens.
    pub fn next_open(&self, t: Timestamp) -> Timestamp {
        secs(self.next_open_secs(t.as_second()))
    }

    fn next_open_secs(&self, mut t: i64) -> i64 {
        loop {
            let p = self.piece(t);
            if let Some(end) = p.closed_until {
                t = end;
                continue;
            }
            let candidate = match p.reading {
                Reading::Offset(offset) => self.next_window_local(t + offset) - offset,
                Reading::Held(local) if self.in_window(local) => t,
                // Closed for the whole hold, and a hold always ends at a boundary.
                Reading::Held(_) => i64::MAX,
            };
            match p.next_boundary {
                Some(b) if candidate >= b => t = b,
                _ => return candidate,
            }
        }
    }

    /// Business seconds between `a` and `b`; negative when `b` is before `a`.
    pub fn between(&self, a: Timestamp, b: Timestamp) -> i64 {
        self.between_secs(a.as_second(), b.as_second())
    }

    /// Business seconds between two instants given as Unix seconds.
    pub fn between_secs(&self, a: i64, b: i64) -> i64 {
        if b < a {
            return -self.between_secs(b, a);
        }
        let mut t = a;
        let mut total = 0;
        while t < b {
            let p = self.piece(t);
            if let Some(end) = p.closed_until {
                t = end.min(b);
                continue;
            }
            let e = p.next_boundary.map_or(b, |nb| nb.min(b));
            total += self.open_within(p.reading, t, e);
            t = e;
        }
        total
    }

    /// The due instant of a target of `business_seconds` started at `start`: the last instant
    /// at which at most that much business time has passed. `due(a, 0)` is `a` when open, else
    /// the next opening.
    pub fn due(&self, start: Timestamp, business_seconds: i64) -> Timestamp {
        secs(self.due_secs(start.as_second(), business_seconds))
    }

    /// [`Calendar::due`] on Unix seconds.
    pub fn due_secs(&self, start: i64, business_seconds: i64) -> i64 {
        self.next_open_secs(self.used_up_secs(start, business_seconds.max(0)))
    }

    /// The earliest instant at which `d` business seconds have passed since `start`.
    fn used_up_secs(&self, start: i64, d: i64) -> i64 {
        if d == 0 {
            return start;
        }
        let mut t = start;
        let mut left = d;
        loop {
            let p = self.piece(t);
            if let Some(end) = p.closed_until {
                t = end;
                continue;
            }
            match p.reading {
                Reading::Offset(offset) => {
                    let base = self.cumulative(t + offset);
                    if let Some(b) = p.next_boundary {
                        let available = self.cumulative(b + offset) - base;
                        if available < left {
                            left -= available;
                            t = b;
                            continue;
                        }
                    }
                    return self.cumulative_inverse(base + left) - offset;
                }
                // Open throughout or not at all; a hold always ends at a boundary.
                Reading::Held(local) => {
                    let open = self.in_window(local);
                    match p.next_boundary {
                        Some(b) if !open || b - t < left => {
                            if open {
                                left -= b - t;
                            }
                            t = b;
                        }
                        _ => return t + left,
                    }
                }
            }
        }
    }
}

fn secs(s: i64) -> Timestamp {
    Timestamp::from_second(s).expect("calendar instants stay within the supported range")
}

#[cfg(test)]
mod tests;
