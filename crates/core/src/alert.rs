//! Alerts from monitoring as a way in: what an event from an integration key does to the
//! ticket its deduplication key names, and which severity an alert's level maps to.
//!
//! The rules follow PagerDuty's Events API v2, which monitoring tools already speak:
//! - a `trigger` with a deduplication key that has no open alert opens a ticket; while the
//!   alert is open, more triggers with that key are counted on it and open nothing;
//! - `acknowledge` acknowledges the open alert's ticket (paging stops), and is ignored when no
//!   alert with that key is open;
//! - `resolve` resolves the open alert's ticket (or, where the key says so, only notes that
//!   the monitor saw the problem end, leaving the ticket to people), and is ignored when none
//!   is open;
//! - once the ticket is resolved, by the monitor or by a person, the alert is over and the
//!   next trigger with its key opens a new ticket.

use crate::contract::Contract;
use crate::ids::Severity;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a monitoring event asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertAction {
    /// Something is wrong (again).
    Trigger,
    /// Someone is on it: stop paging.
    Acknowledge,
    /// It is over.
    Resolve,
}

impl AlertAction {
    /// Every action, as the Events API names them.
    pub const ALL: [AlertAction; 3] = [AlertAction::Trigger, AlertAction::Acknowledge, AlertAction::Resolve];

    /// The Events API's name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertAction::Trigger => "trigger",
            AlertAction::Acknowledge => "acknowledge",
            AlertAction::Resolve => "resolve",
        }
    }

    /// The action of that name.
    pub fn parse(name: &str) -> Option<AlertAction> {
        AlertAction::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

/// How bad a monitor says a problem is: the Events API's four levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertLevel {
    /// Down or about to be.
    Critical,
    /// Broken for some.
    Error,
    /// Degraded or at risk.
    Warning,
    /// Worth knowing.
    Info,
}

impl AlertLevel {
    /// Every level, worst first.
    pub const ALL: [AlertLevel; 4] = [AlertLevel::Critical, AlertLevel::Error, AlertLevel::Warning, AlertLevel::Info];

    /// The Events API's name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertLevel::Critical => "critical",
            AlertLevel::Error => "error",
            AlertLevel::Warning => "warning",
            AlertLevel::Info => "info",
        }
    }

    /// The level of that name (the Events API's four).
    pub fn parse(name: &str) -> Option<AlertLevel> {
        AlertLevel::ALL.into_iter().find(|l| l.as_str() == name)
    }

    /// The level a Prometheus-style `severity` label names: the Events API's four, and the
    /// spellings rule files commonly use (`page` and `fatal` are critical, `major` and
    /// `high` error, `minor`, `medium` and `warn` warning, `low`, `none` and `informational`
    /// info), ignoring case; `None` for any other word.
    pub fn from_label(label: &str) -> Option<AlertLevel> {
        let label = label.trim().to_ascii_lowercase();
        AlertLevel::parse(&label).or(match label.as_str() {
            "page" | "fatal" | "emergency" | "alert" => Some(AlertLevel::Critical),
            "major" | "high" | "err" => Some(AlertLevel::Error),
            "minor" | "medium" | "warn" => Some(AlertLevel::Warning),
            "low" | "none" | "informational" | "notice" => Some(AlertLevel::Info),
            _ => None,
        })
    }

    fn rank(self) -> usize {
        AlertLevel::ALL.iter().position(|l| *l == self).unwrap_or(0)
    }
}

impl fmt::Display for AlertLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which of the contract's severities each alert level opens a ticket at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityMap {
    /// For `critical`.
    pub critical: Severity,
    /// For `error`.
    pub error: Severity,
    /// For `warning`.
    pub warning: Severity,
    /// For `info`.
    pub info: Severity,
}

impl SeverityMap {
    /// The documented default: the levels, worst first, take the contract's severities in
    /// its order, most severe first (`critical` → the first, `error` → the second, `warning`
    /// → the third, `info` → the fourth; a contract with fewer severities gives the rest its
    /// least severe one). With the seed's contract: P1, P2, P3, P4.
    pub fn default_for(contract: &Contract) -> SeverityMap {
        let names: Vec<&Severity> = contract.severities.keys().collect();
        let at = |level: AlertLevel| names[level.rank().min(names.len() - 1)].clone();
        SeverityMap {
            critical: at(AlertLevel::Critical),
            error: at(AlertLevel::Error),
            warning: at(AlertLevel::Warning),
            info: at(AlertLevel::Info),
        }
    }

    /// The severity a level opens at.
    pub fn severity(&self, level: AlertLevel) -> &Severity {
        match level {
            AlertLevel::Critical => &self.critical,
            AlertLevel::Error => &self.error,
            AlertLevel::Warning => &self.warning,
            AlertLevel::Info => &self.info,
        }
    }

    /// The first severity in this map that the contract does not define.
    pub fn unknown_in(&self, contract: &Contract) -> Option<&Severity> {
        AlertLevel::ALL.into_iter().map(|l| self.severity(l)).find(|s| !contract.severities.contains_key(*s))
    }
}

/// What a `resolve` from the monitor does to a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnResolve {
    /// Resolves it (the Events API's behaviour).
    Resolve,
    /// Only notes on its timeline that the monitor saw the problem end; people resolve it.
    Note,
}

impl OnResolve {
    /// The name used in JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            OnResolve::Resolve => "resolve",
            OnResolve::Note => "note",
        }
    }

    /// The setting of that name.
    pub fn parse(name: &str) -> Option<OnResolve> {
        [OnResolve::Resolve, OnResolve::Note].into_iter().find(|o| o.as_str() == name)
    }
}

/// The alert a deduplication key names, as far as the rules need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlertState {
    /// The monitor has not resolved it and its ticket is not resolved.
    pub open: bool,
    /// Its ticket has been acknowledged.
    pub acknowledged: bool,
}

/// What an event does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Open a ticket for a new alert.
    Open,
    /// Count a repeated trigger on the open alert; its ticket is unchanged.
    Repeat,
    /// Acknowledge the open alert's ticket.
    Acknowledge,
    /// Resolve the open alert's ticket.
    Resolve,
    /// Close the alert and note on its ticket that the monitor saw the problem end; the
    /// ticket stays as it is.
    NoteResolved,
    /// Nothing to do, for this reason.
    Ignore(&'static str),
}

/// What `action` does to the alert `state` names (`None`: no alert was ever raised with the
/// key).
pub fn decide(state: Option<AlertState>, action: AlertAction, on_resolve: OnResolve) -> Effect {
    let open = state.filter(|s| s.open);
    match (action, open) {
        (AlertAction::Trigger, None) => Effect::Open,
        (AlertAction::Trigger, Some(_)) => Effect::Repeat,
        (AlertAction::Acknowledge, None) => Effect::Ignore("no open alert has this deduplication key"),
        (AlertAction::Acknowledge, Some(s)) if s.acknowledged => Effect::Ignore("already acknowledged"),
        (AlertAction::Acknowledge, Some(_)) => Effect::Acknowledge,
        (AlertAction::Resolve, None) => Effect::Ignore("no open alert has this deduplication key"),
        (AlertAction::Resolve, Some(_)) => match on_resolve {
            OnResolve::Resolve => Effect::Resolve,
            OnResolve::Note => Effect::NoteResolved,
        },
    }
}

/// The alert's state after `effect`, from `state` before it.
pub fn after(state: Option<AlertState>, effect: Effect) -> Option<AlertState> {
    match effect {
        Effect::Open => Some(AlertState { open: true, acknowledged: false }),
        Effect::Acknowledge => state.map(|s| AlertState { acknowledged: true, ..s }),
        Effect::Resolve | Effect::NoteResolved => state.map(|s| AlertState { open: false, ..s }),
        Effect::Repeat | Effect::Ignore(_) => state,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN: Option<AlertState> = Some(AlertState { open: true, acknowledged: false });
    const ACKED: Option<AlertState> = Some(AlertState { open: true, acknowledged: true });
    const OVER: Option<AlertState> = Some(AlertState { open: false, acknowledged: true });

    #[test]
    fn events_follow_the_events_api() {
        use AlertAction::{Acknowledge, Trigger};
        use Effect::{Ignore, NoteResolved, Open, Repeat};
        let ignored = Ignore("no open alert has this deduplication key");
        let table: &[(Option<AlertState>, AlertAction, OnResolve, Effect)] = &[
            (None, Trigger, OnResolve::Resolve, Open),
            (OPEN, Trigger, OnResolve::Resolve, Repeat),
            (ACKED, Trigger, OnResolve::Resolve, Repeat),
            (OVER, Trigger, OnResolve::Resolve, Open),
            (None, Acknowledge, OnResolve::Resolve, ignored),
            (OPEN, Acknowledge, OnResolve::Resolve, Effect::Acknowledge),
            (ACKED, Acknowledge, OnResolve::Resolve, Ignore("already acknowledged")),
            (OVER, Acknowledge, OnResolve::Resolve, ignored),
            (None, AlertAction::Resolve, OnResolve::Resolve, ignored),
            (OPEN, AlertAction::Resolve, OnResolve::Resolve, Effect::Resolve),
            (ACKED, AlertAction::Resolve, OnResolve::Note, NoteResolved),
            (OVER, AlertAction::Resolve, OnResolve::Resolve, ignored),
        ];
        for (state, action, on_resolve, expected) in table {
            assert_eq!(decide(*state, *action, *on_resolve), *expected, "{state:?} {action:?} {on_resolve:?}");
        }
    }

    #[test]
    fn a_resolved_alert_opens_anew_on_the_next_trigger() {
        let mut state = None;
        let mut effects = Vec::new();
        for action in [AlertAction::Trigger, AlertAction::Trigger, AlertAction::Resolve, AlertAction::Trigger] {
            let effect = decide(state, action, OnResolve::Resolve);
            state = after(state, effect);
            effects.push(effect);
        }
        assert_eq!(effects, [Effect::Open, Effect::Repeat, Effect::Resolve, Effect::Open]);
        assert_eq!(state, OPEN);
    }

    #[test]
    fn levels_take_the_contracts_severities_in_order() {
        let contract = Contract::default_contract();
        let map = SeverityMap::default_for(&contract);
        let names: Vec<&str> = AlertLevel::ALL.into_iter().map(|l| map.severity(l).as_str()).collect();
        assert_eq!(names, ["P1", "P2", "P3", "P4"]);
        assert_eq!(map.unknown_in(&contract), None);
        let odd = SeverityMap { info: Severity("P9".into()), ..map };
        assert_eq!(odd.unknown_in(&contract).map(|s| s.as_str()), Some("P9"));
    }

    #[test]
    fn severity_labels_read_as_levels() {
        for (label, level) in [
            ("critical", Some(AlertLevel::Critical)),
            ("Page", Some(AlertLevel::Critical)),
            ("ERROR", Some(AlertLevel::Error)),
            ("major", Some(AlertLevel::Error)),
            ("warning", Some(AlertLevel::Warning)),
            ("warn", Some(AlertLevel::Warning)),
            ("info", Some(AlertLevel::Info)),
            ("none", Some(AlertLevel::Info)),
            ("sev1", None),
            ("", None),
        ] {
            assert_eq!(AlertLevel::from_label(label), level, "{label:?}");
        }
    }
}
