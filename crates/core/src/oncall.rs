//! On-call schedules: who gets paged at a given instant.
//!
//! A [`Schedule`] stacks [`Layer`]s, each a [`Rotation`] of members taking turns in shifts of
//! whole local days, optionally restricted to weekly windows (e.g. office hours). Overrides put
//! a named user on call for a span, whatever the layers say.
//!
//! Semantics:
//! - **Shifts follow the wall clock.** Shift `k` begins at local `start + k × shift_days` days at
//!   `handoff`, converted with jiff's compatible disambiguation: a hand-off in a spring-forward
//!   gap moves later by the gap's length (02:30 → 03:30), one in a fall-back fold happens at
//!   the first occurrence. Across DST a daily shift lasts 23 or 25 hours. Before the first
//!   hand-off the rotation has nobody on call.
//! - **Layers:** a layer applies at `t` when it has no restriction or its restriction calendar
//!   (the windows in the rotation's zone) is open at `t`. Each restriction window is one unbroken
//!   stretch, as a calendar's: it opens at the first instant its date's wall clock reads its
//!   start (or later) and closes at the first instant it reads its end (or later), so on a
//!   fall-back night it neither splits nor opens twice. The *last* layer that applies and has
//!   someone on call wins, as in PagerDuty: a restricted layer covers the base layer only
//!   inside its windows and only once its rotation has started.
//! - **Overrides** replace whoever is on call in `[from, to)`, including nobody: an override
//!   puts its user on call even where no layer does. Overrides never overlap one another,
//!   last at most 90 days, and are named by an id.
//!
//! Cost: [`Schedule::on_call_at`] is O(layers + log overrides) and independent of how long
//! ago rotations started. [`Schedule::shifts`] sweeps its window from boundary to boundary
//! (hand-offs, restriction edges, override edges), each found directly, so it costs in
//! proportion to the number of those boundaries inside the window.

mod rotation;
mod spec;

pub use rotation::{Rotation, RotationShift};
pub use spec::{LayerSpec, MAX_SHIFT_DAYS, RotationSpec, ScheduleSpec, SpecError};

use crate::calendar::{Calendar, SUPPORTED_RANGE, Window};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// The longest override accepted. Longer replacements belong in the rotation itself.
pub const MAX_OVERRIDE: SignedDuration = SignedDuration::from_hours(90 * 24);

/// The longest window [`Schedule::shifts`] answers; ask for longer timelines in parts.
pub const MAX_WINDOW: SignedDuration = SignedDuration::from_hours(366 * 24);

/// How far a restriction edge is searched for in one step. An open run is normally shorter
/// than a week, but a DST gap can swallow a short weekly closure; the sweep then simply looks
/// again from here.
const RESTRICTION_PROBE_SECONDS: i64 = 8 * 86_400;

/// A checked layer: a rotation and the weekly windows during which it applies.
#[derive(Clone, Debug)]
pub struct Layer {
    rotation: Rotation,
    /// The restriction compiled as a calendar in the rotation's zone; `None` = always applies.
    restriction: Option<Calendar>,
    /// The restriction as written, kept for [`Schedule::to_spec`].
    windows: Option<Vec<Window>>,
}

impl Layer {
    /// The rotation taking turns in this layer.
    pub fn rotation(&self) -> &Rotation {
        &self.rotation
    }

    /// The restriction windows as written; `None` when the layer always applies.
    pub fn restriction(&self) -> Option<&[Window]> {
        self.windows.as_deref()
    }

    /// Whether the layer applies at `t`: unrestricted, or inside one of its windows.
    pub fn applies_at(&self, t: Timestamp) -> bool {
        self.restriction.as_ref().is_none_or(|c| c.is_open(t))
    }

    /// Who this layer alone puts on call at `t`: nobody outside its windows or before its
    /// rotation's first hand-off.
    pub fn on_call_at(&self, t: Timestamp) -> Option<&str> {
        if self.applies_at(t) { self.rotation.member_at(t) } else { None }
    }

    /// Whether the layer applies at `t`, and the next instant at which that may change
    /// (`None`: never).
    fn applies_span(&self, t: Timestamp) -> (bool, Option<Timestamp>) {
        match &self.restriction {
            None => (true, None),
            Some(calendar) => restriction_span(calendar, t),
        }
    }
}

/// Whether `calendar` is open at `t`, and an instant after `t` up to which that holds (the
/// next opening or closing, or a point to look again from). Whole seconds, as the calendar.
fn restriction_span(calendar: &Calendar, t: Timestamp) -> (bool, Option<Timestamp>) {
    if calendar.is_always_open() {
        return (true, None);
    }
    if !calendar.is_open(t) {
        return (false, Some(calendar.next_open(t)));
    }
    // Open now: find the first closed second by bisection on "all of [s, y) is open".
    let s = t.as_second();
    let open_until = |y: i64| calendar.between_secs(s, y) == y - s;
    let mut hi = s + RESTRICTION_PROBE_SECONDS;
    if open_until(hi) {
        return (true, Some(second(hi)));
    }
    let mut lo = s + 1;
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if open_until(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (true, Some(second(lo)))
}

fn second(s: i64) -> Timestamp {
    Timestamp::from_second(s).expect("sweep instants stay within the calendar's supported range")
}

/// A span in which a named user replaces whoever the layers put on call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// Names the override for removal and replacement; unique within a schedule.
    pub id: String,
    /// Start (inclusive).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub from: Timestamp,
    /// End (exclusive); after `from`, at most [`MAX_OVERRIDE`] later.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub to: Timestamp,
    /// The user on call throughout.
    pub user: String,
}

/// Why an override cannot be added, removed or changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OverrideError {
    /// The id is empty.
    #[error("an override needs an id")]
    MissingId,
    /// The user is empty.
    #[error("override {id:?} needs a user")]
    MissingUser {
        /// The override's id.
        id: String,
    },
    /// `from` is not before `to`.
    #[error("override {id:?} must end after it starts")]
    EndsBeforeStart {
        /// The override's id.
        id: String,
    },
    /// Longer than [`MAX_OVERRIDE`].
    #[error("override {id:?} is longer than 90 days; split it or change the rotation")]
    TooLong {
        /// The override's id.
        id: String,
    },
    /// Another override already has this id.
    #[error("an override with id {0:?} already exists")]
    DuplicateId(String),
    /// It overlaps an existing override.
    #[error("override {id:?} overlaps override {conflict:?}; remove or shorten that one first")]
    Conflict {
        /// The rejected override's id.
        id: String,
        /// The id of the (earliest) existing override it overlaps.
        conflict: String,
    },
    /// No override has this id.
    #[error("no override with id {0:?}")]
    Unknown(String),
}

/// Why [`Schedule::shifts`] cannot answer a window.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    /// `to` is before `from`.
    #[error("the window ends before it starts")]
    Reversed,
    /// Longer than [`MAX_WINDOW`].
    #[error("the window is longer than 366 days; ask for it in parts")]
    TooLong,
    /// Outside the years the calendar engine supports.
    #[error("the window must lie in the years 1900 to 2199")]
    OutOfRange,
}

/// What put someone on call.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The layer at this index in [`Schedule::layers`].
    Layer(usize),
    /// The override with this id.
    Override(String),
}

/// A stretch of the final on-call timeline: one user, one source, no gap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shift {
    /// Start (inclusive).
    pub start: Timestamp,
    /// End (exclusive).
    pub end: Timestamp,
    /// The user on call.
    pub user: String,
    /// What put them on call.
    pub source: Source,
}

/// A checked schedule: layers and overrides, ready for queries. Built by
/// [`Schedule::compile`]; overrides change through [`Schedule::add_override`] and friends.
/// It serializes as its written form ([`Schedule::to_spec`]) and deserializes by compiling it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(into = "ScheduleSpec", try_from = "ScheduleSpec")]
pub struct Schedule {
    name: String,
    layers: Vec<Layer>,
    /// Sorted by `from`; pairwise disjoint, so also sorted by `to`.
    overrides: Vec<Override>,
}

impl Schedule {
    /// The schedule's name, for people.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The layers, lowest precedence first.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The overrides in time order.
    pub fn overrides(&self) -> &[Override] {
        &self.overrides
    }

    /// Adds an override. Rejects an empty id or user, `from >= to`, spans longer than
    /// [`MAX_OVERRIDE`], a duplicate id, and any overlap with an existing override (the error
    /// names the earliest one it overlaps). Touching end to start is not an overlap.
    pub fn add_override(&mut self, o: Override) -> Result<(), OverrideError> {
        if o.id.trim().is_empty() {
            return Err(OverrideError::MissingId);
        }
        if o.user.trim().is_empty() {
            return Err(OverrideError::MissingUser { id: o.id });
        }
        if o.from >= o.to {
            return Err(OverrideError::EndsBeforeStart { id: o.id });
        }
        if o.to.duration_since(o.from) > MAX_OVERRIDE {
            return Err(OverrideError::TooLong { id: o.id });
        }
        if self.overrides.iter().any(|x| x.id == o.id) {
            return Err(OverrideError::DuplicateId(o.id));
        }
        let at = self.overrides.partition_point(|x| x.to <= o.from);
        if let Some(x) = self.overrides.get(at).filter(|x| x.from < o.to) {
            return Err(OverrideError::Conflict { id: o.id, conflict: x.id.clone() });
        }
        self.overrides.insert(at, o);
        Ok(())
    }

    /// Removes the override with this id and returns it.
    pub fn remove_override(&mut self, id: &str) -> Result<Override, OverrideError> {
        let i = self.override_index(id)?;
        Ok(self.overrides.remove(i))
    }

    /// Puts another user on call for the override with this id; its span stays.
    pub fn replace_override(&mut self, id: &str, user: &str) -> Result<(), OverrideError> {
        let i = self.override_index(id)?;
        if user.trim().is_empty() {
            return Err(OverrideError::MissingUser { id: id.to_string() });
        }
        self.overrides[i].user = user.to_string();
        Ok(())
    }

    fn override_index(&self, id: &str) -> Result<usize, OverrideError> {
        self.overrides.iter().position(|o| o.id == id).ok_or_else(|| OverrideError::Unknown(id.to_string()))
    }

    /// The override in force at `t`, if any.
    fn override_at(&self, t: Timestamp) -> Option<&Override> {
        let i = self.overrides.partition_point(|o| o.from <= t);
        i.checked_sub(1).map(|i| &self.overrides[i]).filter(|o| t < o.to)
    }

    /// Who is on call at `t` and why: the override in force, else the last layer that applies
    /// and has someone on call, else nobody.
    pub fn assignment_at(&self, t: Timestamp) -> Option<(&str, Source)> {
        if let Some(o) = self.override_at(t) {
            return Some((&o.user, Source::Override(o.id.clone())));
        }
        self.layers.iter().enumerate().rev().find_map(|(i, l)| l.on_call_at(t).map(|u| (u, Source::Layer(i))))
    }

    /// The user id on call at `t`; `None` when nobody is.
    pub fn on_call_at(&self, t: Timestamp) -> Option<&str> {
        self.assignment_at(t).map(|(user, _)| user)
    }

    /// The final on-call timeline in `[from, to)`: shifts in time order, clipped to the window,
    /// adjacent ones with the same user and source merged. Times when nobody is on call are
    /// gaps. The window is at most [`MAX_WINDOW`] long and lies in the calendar's supported
    /// years; an empty window gives no shifts.
    pub fn shifts(&self, from: Timestamp, to: Timestamp) -> Result<Vec<Shift>, WindowError> {
        if to < from {
            return Err(WindowError::Reversed);
        }
        if to.duration_since(from) > MAX_WINDOW {
            return Err(WindowError::TooLong);
        }
        if from.as_second() < SUPPORTED_RANGE.0 || to.as_second() > SUPPORTED_RANGE.1 {
            return Err(WindowError::OutOfRange);
        }
        let mut sweep = Sweep { shifts: Vec::new(), cursors: self.layers.iter().map(Cursor::new).collect() };
        let mut next_override = self.overrides.partition_point(|o| o.to <= from);
        let mut t = from;
        while t < to {
            if let Some(o) = self.overrides.get(next_override).filter(|o| o.from <= t) {
                let end = o.to.min(to);
                sweep.push(t, end, &o.user, Source::Override(o.id.clone()));
                next_override += 1;
                t = end;
                continue;
            }
            let mut end = self.overrides.get(next_override).map_or(to, |o| o.from.min(to));
            for cursor in &mut sweep.cursors {
                cursor.advance(t);
                end = cursor.valid_until.map_or(end, |u| u.min(end));
            }
            let top = sweep.cursors.iter().enumerate().rev().find_map(|(i, c)| c.on_call().map(|u| (i, u)));
            if let Some((i, user)) = top {
                sweep.push(t, end, user, Source::Layer(i));
            }
            t = end;
        }
        Ok(sweep.shifts)
    }
}

/// The state of a [`Schedule::shifts`] sweep: the timeline so far and one cursor per layer.
struct Sweep<'a> {
    shifts: Vec<Shift>,
    cursors: Vec<Cursor<'a>>,
}

impl Sweep<'_> {
    /// Appends a stretch, extending the last shift when it continues it.
    fn push(&mut self, start: Timestamp, end: Timestamp, user: &str, source: Source) {
        if let Some(last) = self.shifts.last_mut()
            && last.end == start
            && last.user == user
            && last.source == source
        {
            last.end = end;
            return;
        }
        self.shifts.push(Shift { start, end, user: user.to_string(), source });
    }
}

/// One layer's state during a sweep: who its rotation has on call and whether it applies,
/// each with the instant up to which that is known to hold.
struct Cursor<'a> {
    layer: &'a Layer,
    /// `None` until first positioned.
    member: Option<Option<&'a str>>,
    member_until: Option<Timestamp>,
    applies: bool,
    applies_until: Option<Timestamp>,
    /// The earlier of the two bounds; `None` when neither changes again.
    valid_until: Option<Timestamp>,
}

impl<'a> Cursor<'a> {
    fn new(layer: &'a Layer) -> Cursor<'a> {
        Cursor { layer, member: None, member_until: None, applies: false, applies_until: None, valid_until: None }
    }

    /// Brings the cursor to `t`, recomputing (directly, not step by step) whatever expired.
    fn advance(&mut self, t: Timestamp) {
        let fresh = self.member.is_none();
        if fresh || self.member_until.is_some_and(|u| u <= t) {
            let (member, until) = self.layer.rotation.position(t);
            self.member = Some(member);
            self.member_until = until;
        }
        if fresh || self.applies_until.is_some_and(|u| u <= t) {
            (self.applies, self.applies_until) = self.layer.applies_span(t);
        }
        self.valid_until = match (self.member_until, self.applies_until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    /// Who this layer puts on call at the cursor's instant.
    fn on_call(&self) -> Option<&'a str> {
        if self.applies { self.member.flatten() } else { None }
    }
}
