//! A schedule layer's form on the console's schedule pages: its fields as typed (or as
//! stored), the layer they describe, and where a refusal belongs among them.

use super::PageError;
use crate::error::ApiError;
use stringer_app::accounts::AccountError;
use stringer_app::schedules::ScheduleError;
use stringer_core::calendar::{Weekday, Window};
use stringer_core::oncall::{LayerSpec, RotationSpec};

/// The days a restriction may name: (form value, name).
pub(super) const DAYS: [(&str, &str); 7] = [
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
];

/// A form's raw fields, as sent (members and days repeat).
pub(super) type Fields = Vec<(String, String)>;

/// The value of the field `key` (trimmed), empty when absent.
pub(super) fn one<'a>(fields: &'a Fields, key: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.trim())
}

/// Every value of the repeated field `key`.
fn all(fields: &Fields, key: &str) -> Vec<String> {
    fields.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect()
}

/// A layer's form: its values as strings (what was typed, or the layer as stored) and the
/// refusal to show beside one of its fields.
pub struct LayerForm {
    /// `l0`, `l1`, … for a layer, `new` for a new one: the prefix of its fields' ids.
    pub prefix: String,
    /// "Layer 2: Office hours", or "A new layer".
    pub title: String,
    /// The rotation's name.
    pub(super) rotation: String,
    /// The members' user ids, in turn order.
    pub(super) members: Vec<String>,
    /// Shift length in days.
    pub(super) shift_days: String,
    /// Hand-off time, HH:MM local.
    pub(super) handoff: String,
    /// The rotation's IANA zone.
    pub(super) time_zone: String,
    /// First hand-off date, YYYY-MM-DD.
    pub(super) start: String,
    /// The restriction's days (mon…sun).
    pub(super) days: Vec<String>,
    /// The restriction's start, HH:MM local.
    pub(super) from: String,
    /// The restriction's end, HH:MM local.
    pub(super) to: String,
    /// (field, message).
    pub(super) error: Option<(String, String)>,
}

impl LayerForm {
    /// A new layer's form, with the usual values.
    pub(super) fn empty(prefix: &str, title: &str) -> LayerForm {
        LayerForm {
            prefix: prefix.into(),
            title: title.into(),
            rotation: String::new(),
            members: vec![],
            shift_days: "7".into(),
            handoff: "09:00".into(),
            time_zone: "UTC".into(),
            start: String::new(),
            days: vec![],
            from: String::new(),
            to: String::new(),
            error: None,
        }
    }

    /// The form of layer `i` as stored.
    pub(super) fn of(i: usize, l: &LayerSpec) -> LayerForm {
        let window = l.restriction.as_ref().and_then(|w| w.first());
        LayerForm {
            prefix: format!("l{i}"),
            title: format!("Layer {}: {}", i + 1, l.rotation.name),
            rotation: l.rotation.name.clone(),
            members: l.rotation.members.clone(),
            shift_days: l.rotation.shift_days.to_string(),
            handoff: l.rotation.handoff.clone(),
            time_zone: l.rotation.time_zone.clone(),
            start: l.rotation.start.clone(),
            days: window.map(|w| w.days.iter().map(|d| day_value(*d).to_string()).collect()).unwrap_or_default(),
            from: window.map(|w| w.from.clone()).unwrap_or_default(),
            to: window.map(|w| w.to.clone()).unwrap_or_default(),
            error: None,
        }
    }

    /// The form as it was sent.
    pub(super) fn sent(prefix: &str, title: String, f: &Fields) -> LayerForm {
        LayerForm {
            prefix: prefix.into(),
            title,
            rotation: one(f, "rotation").into(),
            members: all(f, "member"),
            shift_days: one(f, "shift_days").into(),
            handoff: one(f, "handoff").into(),
            time_zone: one(f, "time_zone").into(),
            start: one(f, "start").into(),
            days: all(f, "day"),
            from: one(f, "from").into(),
            to: one(f, "to").into(),
            error: None,
        }
    }

    /// A text field's value, by its name.
    pub fn value(&self, field: &str) -> &str {
        match field {
            "rotation" => &self.rotation,
            "shift_days" => &self.shift_days,
            "handoff" => &self.handoff,
            "time_zone" => &self.time_zone,
            "start" => &self.start,
            "from" => &self.from,
            "to" => &self.to,
            _ => "",
        }
    }

    /// Whether `id` is one of the members.
    pub fn has_member(&self, id: &str) -> bool {
        self.members.iter().any(|m| m == id)
    }

    /// Whether the restriction names `day`.
    pub fn has_day(&self, day: &str) -> bool {
        self.days.iter().any(|d| d == day)
    }

    /// The refusal to show beside `field`.
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.error.as_ref().filter(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }

    /// The layer it describes, or the field it refuses.
    pub(super) fn spec(&self) -> Result<LayerSpec, (String, String)> {
        let refuse = |field: &str, message: &str| (field.to_string(), message.to_string());
        let shift_days = self.shift_days.parse::<u32>().map_err(|_| {
            refuse("shift_days", &format!("whole days from 1 to {}", stringer_core::oncall::MAX_SHIFT_DAYS))
        })?;
        let mut days = Vec::new();
        for d in &self.days {
            days.push(day_of(d).ok_or_else(|| refuse("days", "choose days of the week"))?);
        }
        let restriction = match (days.is_empty(), self.from.is_empty() && self.to.is_empty()) {
            (true, true) => None,
            (false, false) => Some(vec![Window { days, from: self.from.clone(), to: self.to.clone() }]),
            (true, false) => return Err(refuse("days", "choose the days the hours apply on")),
            (false, true) => return Err(refuse("from", "the hours the layer applies, such as 09:00 to 17:00")),
        };
        Ok(LayerSpec {
            rotation: RotationSpec {
                name: self.rotation.clone(),
                time_zone: self.time_zone.clone(),
                members: self.members.clone(),
                shift_days,
                handoff: self.handoff.clone(),
                start: self.start.clone(),
            },
            restriction,
        })
    }
}

fn day_value(d: Weekday) -> &'static str {
    DAYS[d as usize].0
}

fn day_of(value: &str) -> Option<Weekday> {
    serde_json::from_value(serde_json::Value::String(value.to_string())).ok()
}

/// "Mon, Tue, Wed, Thu, Fri 09:00–17:00", or "always".
pub(super) fn restriction_words(l: &LayerSpec) -> String {
    match &l.restriction {
        None => "always".into(),
        Some(windows) => windows
            .iter()
            .map(|w| {
                let days: Vec<String> =
                    w.days.iter().map(|d| day_value(*d)[..1].to_uppercase() + &day_value(*d)[1..]).collect();
                format!("{} {}–{}", days.join(", "), w.from, w.to)
            })
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// Where a refusal of the schedule as a whole belongs in a layer's form.
pub(super) fn located(e: ScheduleError) -> Result<(String, String), PageError> {
    match e {
        ScheduleError::Spec(e) => {
            let field = if e.path.iter().any(|p| p == "restriction") {
                "from"
            } else {
                match e.path.last().map(String::as_str) {
                    Some("name") if e.path.len() > 2 => "rotation",
                    Some(f @ ("time_zone" | "members" | "shift_days" | "handoff" | "start")) => f,
                    _ if e.path.iter().any(|p| p == "members") => "members",
                    _ => "rotation",
                }
            };
            Ok((field.into(), e.message))
        }
        ScheduleError::Account(AccountError::Invalid(why)) => Ok(("members".into(), why)),
        e => Err(ApiError::from(e).into()),
    }
}
