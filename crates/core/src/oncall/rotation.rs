//! Rotations: members taking turns in shifts that follow the local wall clock.
//!
//! Shift `k` begins at the local civil date-time `start + k × shift_days` days at `handoff`,
//! converted to an instant in the rotation's zone with jiff's *compatible* disambiguation (a
//! hand-off inside a spring-forward gap happens at the same wall-clock distance after the gap,
//! e.g. 02:30 → 03:30; one inside a fall-back fold happens at its first occurrence). A daily
//! shift across a DST change therefore lasts 23 or 25 hours, and the hand-off stays at the
//! same local time.
//!
//! Cost: the shift containing an instant is found from the local date difference to `start`
//! (a division), then corrected by at most a step or two for zones whose local date runs
//! backwards at a transition. Nothing iterates over the history since `start`.

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

/// A checked rotation, ready for queries. Built from a [`RotationSpec`](super::RotationSpec).
#[derive(Clone, Debug)]
pub struct Rotation {
    pub(super) name: String,
    pub(super) time_zone_name: String,
    pub(super) time_zone: TimeZone,
    pub(super) members: Vec<String>,
    pub(super) shift_days: i64,
    pub(super) handoff: Time,
    pub(super) start: Date,
}

/// One shift of a rotation: its number, who holds it, and when it begins and ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RotationShift<'a> {
    /// Shift number: 0 is the first shift, which begins at `start` + `handoff`.
    pub index: i64,
    /// The member on call: `members[index mod members.len()]`.
    pub member: &'a str,
    /// The hand-off that begins the shift.
    pub start: Timestamp,
    /// The next hand-off, which ends it; [`Timestamp::MAX`] when that falls beyond the
    /// instants jiff can represent.
    pub end: Timestamp,
}

impl Rotation {
    /// The rotation's name, for people.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The IANA name of the zone whose wall clock the hand-offs follow.
    pub fn time_zone_name(&self) -> &str {
        &self.time_zone_name
    }

    /// The zone whose wall clock the hand-offs follow.
    pub fn time_zone(&self) -> &TimeZone {
        &self.time_zone
    }

    /// The members in turn order; never empty.
    pub fn members(&self) -> &[String] {
        &self.members
    }

    /// Days per shift: 1 for a daily rotation, 7 for a weekly one.
    pub fn shift_days(&self) -> i64 {
        self.shift_days
    }

    /// Local wall-clock time of every hand-off.
    pub fn handoff(&self) -> Time {
        self.handoff
    }

    /// Local date of the first hand-off.
    pub fn start(&self) -> Date {
        self.start
    }

    /// Days after which the same member is on call again at the same local time:
    /// `members × shift_days`.
    pub fn cycle_days(&self) -> i64 {
        self.members.len() as i64 * self.shift_days
    }

    /// The member holding shift `index` (taken modulo the number of members).
    pub fn member(&self, index: i64) -> &str {
        &self.members[index.rem_euclid(self.members.len() as i64) as usize]
    }

    /// The instant shift `index` begins; `None` before the first shift (a negative index) or
    /// beyond the instants jiff can represent.
    pub fn shift_start(&self, index: i64) -> Option<Timestamp> {
        if index < 0 {
            return None;
        }
        let days = index.checked_mul(self.shift_days)?;
        let date = self.start.checked_add(jiff::Span::new().try_days(days).ok()?).ok()?;
        self.time_zone.to_ambiguous_timestamp(date.to_datetime(self.handoff)).compatible().ok()
    }

    /// Whether shift `index` begins after `t`; an unrepresentable hand-off lies after every instant.
    fn begins_after(&self, index: i64, t: Timestamp) -> bool {
        self.shift_start(index).is_none_or(|s| s > t)
    }

    /// The number of the shift containing `t`; `None` before the first hand-off.
    pub fn shift_index_at(&self, t: Timestamp) -> Option<i64> {
        let local = self.time_zone.to_datetime(t).date();
        let days = local.duration_since(self.start).as_secs().div_euclid(86_400);
        // The shift whose hand-off date is the latest on or before the local date of `t`. Hand-off
        // instants never decrease with the index, so stepping corrects the rare case where `t`
        // precedes its own date's hand-off or local dates run backwards across a transition.
        let mut index = days.div_euclid(self.shift_days).max(-1);
        while index >= 0 && self.begins_after(index, t) {
            index -= 1;
        }
        while !self.begins_after(index + 1, t) {
            index += 1;
        }
        (index >= 0).then_some(index)
    }

    /// The shift containing `t`; `None` before the first hand-off.
    pub fn shift_at(&self, t: Timestamp) -> Option<RotationShift<'_>> {
        let index = self.shift_index_at(t)?;
        Some(RotationShift {
            index,
            member: self.member(index),
            start: self.shift_start(index).expect("a shift containing an instant has a representable start"),
            end: self.shift_start(index + 1).unwrap_or(Timestamp::MAX),
        })
    }

    /// Who is on call at `t` in this rotation alone; `None` before the first hand-off.
    pub fn member_at(&self, t: Timestamp) -> Option<&str> {
        self.shift_index_at(t).map(|i| self.member(i))
    }

    /// Where `t` lies: the member on call (if the rotation has begun) and the next hand-off
    /// after `t` (`None` when unrepresentable).
    pub(super) fn position(&self, t: Timestamp) -> (Option<&str>, Option<Timestamp>) {
        match self.shift_index_at(t) {
            Some(i) => (Some(self.member(i)), self.shift_start(i + 1)),
            None => (None, self.shift_start(0)),
        }
    }
}
