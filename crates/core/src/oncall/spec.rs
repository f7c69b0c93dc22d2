//! The written form of a schedule (as stored or sent over the API) and its checked compilation.

use super::{Layer, Override, OverrideError, Rotation, Schedule};
use crate::calendar::{self, CalendarSpec, Window};
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// The longest shift accepted, in days. Longer turns are not a rotation anyone keeps; the bound
/// also keeps hand-off arithmetic far from the edges of the representable dates.
pub const MAX_SHIFT_DAYS: u32 = 365;
// The OpenAPI attribute on `RotationSpec::shift_days` takes only a literal: keep them equal.
const _: () = assert!(MAX_SHIFT_DAYS == 365);

/// A rotation as written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RotationSpec {
    /// What the rotation is, for people, e.g. "primary".
    pub name: String,
    /// IANA time zone whose wall clock the hand-offs follow.
    pub time_zone: String,
    /// User ids in turn order; at least one. A user may appear more than once.
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub members: Vec<String>,
    /// Days per shift, 1 to 365 ([`MAX_SHIFT_DAYS`]): 1 is daily, 7 weekly.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 365))]
    pub shift_days: u32,
    /// Local hand-off time, "HH:MM".
    #[cfg_attr(feature = "openapi", schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    pub handoff: String,
    /// Local date of the first hand-off, "YYYY-MM-DD", in the years 1900 to 2199.
    #[cfg_attr(feature = "openapi", schema(format = Date, pattern = "^(19[0-9]{2}|2[01][0-9]{2})-[0-9]{2}-[0-9]{2}$"))]
    pub start: String,
}

/// A layer as written: a rotation, and optionally the weekly windows during which it applies.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LayerSpec {
    /// Who takes turns, and when they hand off.
    pub rotation: RotationSpec,
    /// Weekly windows in the rotation's zone during which the layer applies, each one unbroken
    /// stretch even on a fall-back night, as a calendar's windows; absent means always.
    /// Present, it needs at least one window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub restriction: Option<Vec<Window>>,
}

/// A schedule as written.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// What the schedule is, for people, e.g. "platform".
    pub name: String,
    /// Layers from lowest to highest precedence; at least one.
    pub layers: Vec<LayerSpec>,
    /// Spans in which a named user replaces whoever the layers put on call; they must not
    /// overlap one another.
    #[serde(default)]
    pub overrides: Vec<Override>,
}

/// A schedule or rotation that cannot be compiled: where in the spec, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {}", .path.join("."), .message)]
pub struct SpecError {
    /// Key path inside the spec, e.g. `["layers", "1", "rotation", "handoff"]`.
    pub path: Vec<String>,
    /// What is wrong.
    pub message: String,
}

impl SpecError {
    fn at(path: &[&str], message: impl Into<String>) -> SpecError {
        SpecError { path: path.iter().map(|s| s.to_string()).collect(), message: message.into() }
    }

    /// The same error, located under `prefix`.
    fn under(mut self, prefix: &[&str]) -> SpecError {
        self.path.splice(0..0, prefix.iter().map(|s| s.to_string()));
        self
    }
}

/// Parses "HH:MM" (00:00 to 23:59) strictly.
fn parse_handoff(text: &str) -> Option<Time> {
    let (h, m) = text.split_once(':')?;
    let two_digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(h) || !two_digits(m) {
        return None;
    }
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

/// Parses "YYYY-MM-DD" strictly, within the years the calendar engine supports.
fn parse_start(text: &str) -> Option<Date> {
    let shape = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    let date: Date = text.parse().ok().filter(|_| shape)?;
    (1900..=2199).contains(&date.year()).then_some(date)
}

impl RotationSpec {
    /// Checks the spec and builds the rotation. Error paths are relative to the rotation.
    pub fn compile(&self) -> Result<Rotation, SpecError> {
        let time_zone = TimeZone::get(&self.time_zone).map_err(|_| {
            SpecError::at(
                &["time_zone"],
                format!(
                    "unknown time zone {:?}; use an IANA name such as \"UTC\" or \"America/New_York\"",
                    self.time_zone
                ),
            )
        })?;
        if self.members.is_empty() {
            return Err(SpecError::at(&["members"], "a rotation needs at least one member"));
        }
        if let Some(i) = self.members.iter().position(|m| m.trim().is_empty()) {
            return Err(SpecError::at(&["members", &i.to_string()], "a member needs a user id"));
        }
        if !(1..=MAX_SHIFT_DAYS).contains(&self.shift_days) {
            return Err(SpecError::at(
                &["shift_days"],
                format!("shift_days must be 1 to {MAX_SHIFT_DAYS} (1 = daily, 7 = weekly), not {}", self.shift_days),
            ));
        }
        let handoff = parse_handoff(&self.handoff).ok_or_else(|| {
            SpecError::at(&["handoff"], format!("invalid time {:?}; write \"HH:MM\" from 00:00 to 23:59", self.handoff))
        })?;
        let start = parse_start(&self.start).ok_or_else(|| {
            SpecError::at(
                &["start"],
                format!("invalid date {:?}; write \"YYYY-MM-DD\" in the years 1900 to 2199", self.start),
            )
        })?;
        Ok(Rotation {
            name: self.name.clone(),
            time_zone_name: self.time_zone.clone(),
            time_zone,
            members: self.members.clone(),
            shift_days: i64::from(self.shift_days),
            handoff,
            start,
        })
    }
}

impl Rotation {
    /// The written form this rotation was compiled from.
    pub fn to_spec(&self) -> RotationSpec {
        RotationSpec {
            name: self.name.clone(),
            time_zone: self.time_zone_name.clone(),
            members: self.members.clone(),
            shift_days: u32::try_from(self.shift_days).expect("checked at compile"),
            handoff: format!("{:02}:{:02}", self.handoff.hour(), self.handoff.minute()),
            start: self.start.to_string(),
        }
    }
}

impl LayerSpec {
    /// Checks the spec and builds the layer. Error paths are relative to the layer.
    pub fn compile(&self) -> Result<Layer, SpecError> {
        let rotation = self.rotation.compile().map_err(|e| e.under(&["rotation"]))?;
        let restriction = match &self.restriction {
            None => None,
            Some(windows) if windows.is_empty() => {
                return Err(SpecError::at(
                    &["restriction"],
                    "a restriction needs at least one window; leave it out for a layer that always applies",
                ));
            }
            Some(windows) => Some(restriction_calendar(&rotation, windows)?),
        };
        Ok(Layer { rotation, restriction, windows: self.restriction.clone() })
    }
}

/// Compiles restriction windows as a calendar in the rotation's zone, locating errors under
/// `restriction` rather than the calendar's `windows`.
fn restriction_calendar(rotation: &Rotation, windows: &[Window]) -> Result<calendar::Calendar, SpecError> {
    let spec = CalendarSpec {
        name: None,
        description: None,
        time_zone: rotation.time_zone_name.clone(),
        windows: windows.to_vec(),
        holidays: vec![],
        closures: vec![],
    };
    spec.compile().map_err(|e| {
        let rest = e.path.iter().skip_while(|p| *p == "windows").map(String::as_str);
        let path: Vec<&str> = std::iter::once("restriction").chain(rest).collect();
        SpecError::at(&path, e.message)
    })
}

impl From<Schedule> for ScheduleSpec {
    fn from(schedule: Schedule) -> ScheduleSpec {
        schedule.to_spec()
    }
}

impl TryFrom<ScheduleSpec> for Schedule {
    type Error = SpecError;

    fn try_from(spec: ScheduleSpec) -> Result<Schedule, SpecError> {
        Schedule::compile(&spec)
    }
}

impl Schedule {
    /// Checks the written form and builds the schedule: every layer compiles, and the
    /// overrides are valid and disjoint (as [`Schedule::add_override`] would accept them, in
    /// order). Errors name the key path, e.g. `layers.0.rotation.time_zone`.
    pub fn compile(spec: &ScheduleSpec) -> Result<Schedule, SpecError> {
        if spec.layers.is_empty() {
            return Err(SpecError::at(&["layers"], "a schedule needs at least one layer"));
        }
        let mut layers = Vec::with_capacity(spec.layers.len());
        for (i, layer) in spec.layers.iter().enumerate() {
            layers.push(layer.compile().map_err(|e| e.under(&["layers", &i.to_string()]))?);
        }
        let mut schedule = Schedule { name: spec.name.clone(), layers, overrides: Vec::new() };
        for (i, o) in spec.overrides.iter().enumerate() {
            schedule.add_override(o.clone()).map_err(|e| {
                let field = match e {
                    OverrideError::MissingId | OverrideError::DuplicateId(_) => Some("id"),
                    OverrideError::MissingUser { .. } => Some("user"),
                    OverrideError::EndsBeforeStart { .. } | OverrideError::TooLong { .. } => Some("to"),
                    _ => None,
                };
                let idx = i.to_string();
                let path: Vec<&str> = ["overrides", idx.as_str()].into_iter().chain(field).collect();
                SpecError::at(&path, e.to_string())
            })?;
        }
        Ok(schedule)
    }

    /// The written form of the schedule as it stands now, overrides in time order.
    pub fn to_spec(&self) -> ScheduleSpec {
        ScheduleSpec {
            name: self.name.clone(),
            layers: self
                .layers
                .iter()
                .map(|l| LayerSpec { rotation: l.rotation.to_spec(), restriction: l.windows.clone() })
                .collect(),
            overrides: self.overrides.clone(),
        }
    }
}
