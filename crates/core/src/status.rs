//! Status pages' rules: a component's status kept as intervals, so that history is exact, and
//! its uptime per day computed from them.
//!
//! - **Status** uses Statuspage's values. Where intervals overlap (two incidents on one
//!   component, maintenance during an outage), the worst status holds, in the order
//!   `major_outage` > `partial_outage` > `degraded_performance` > `under_maintenance` >
//!   `operational`. A component is operational wherever no interval says otherwise.
//! - **Uptime** of a day is the share of the day's observed time (from the component's
//!   creation, up to now) that was not down, where down time is weighted as Statuspage
//!   weights it: a major outage counts fully, a partial outage at 30 %, degraded performance
//!   and maintenance not at all. Days run midnight to midnight in the page's time zone (23 or
//!   25 hours on DST change days). Weighted time is counted in milliseconds of integers
//!   (`1000 × seconds × weight`), so results are exact and reproducible.
//! - **Incidents and maintenance** use Statuspage's value sets, and the page's overall state
//!   ([`page_indicator`]) is the worst of what its unresolved incidents' impact and its
//!   components' statuses say, `maintenance` when only maintenance is under way. A scheduled
//!   maintenance starts and completes on time by itself ([`maintenance_due`]) and reminds
//!   subscribers an hour before it starts ([`REMINDER_BEFORE`]).

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// A component's status, as Statuspage names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    /// Working.
    Operational,
    /// In planned maintenance.
    UnderMaintenance,
    /// Slow or erratic.
    DegradedPerformance,
    /// Down for some.
    PartialOutage,
    /// Down.
    MajorOutage,
}

impl ComponentStatus {
    /// The status in words, as readers and staff see it ("Partial outage").
    pub fn words(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "Operational",
            ComponentStatus::UnderMaintenance => "Under maintenance",
            ComponentStatus::DegradedPerformance => "Degraded performance",
            ComponentStatus::PartialOutage => "Partial outage",
            ComponentStatus::MajorOutage => "Major outage",
        }
    }

    /// The status of that name.
    pub fn parse(name: &str) -> Option<ComponentStatus> {
        ComponentStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Every status, best first (the order `max` picks the worst by).
    pub const ALL: [ComponentStatus; 5] = [
        ComponentStatus::Operational,
        ComponentStatus::UnderMaintenance,
        ComponentStatus::DegradedPerformance,
        ComponentStatus::PartialOutage,
        ComponentStatus::MajorOutage,
    ];

    /// How much of a second in this status counts as down, in thousandths.
    pub fn down_weight(self) -> i64 {
        match self {
            ComponentStatus::MajorOutage => 1000,
            ComponentStatus::PartialOutage => 300,
            _ => 0,
        }
    }

    /// The name as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "operational",
            ComponentStatus::UnderMaintenance => "under_maintenance",
            ComponentStatus::DegradedPerformance => "degraded_performance",
            ComponentStatus::PartialOutage => "partial_outage",
            ComponentStatus::MajorOutage => "major_outage",
        }
    }
}

/// An incident's status, as Statuspage names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Being looked into.
    Investigating,
    /// The cause is known.
    Identified,
    /// A fix is in; watching.
    Monitoring,
    /// Over.
    Resolved,
    /// Over, and its report is published.
    Postmortem,
}

impl IncidentStatus {
    /// Every status, in the order an incident usually moves through them.
    pub const ALL: [IncidentStatus; 5] = [
        IncidentStatus::Investigating,
        IncidentStatus::Identified,
        IncidentStatus::Monitoring,
        IncidentStatus::Resolved,
        IncidentStatus::Postmortem,
    ];

    /// Whether the incident is over (it no longer counts towards the page's state).
    pub fn is_over(self) -> bool {
        matches!(self, IncidentStatus::Resolved | IncidentStatus::Postmortem)
    }

    /// The name as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Investigating => "investigating",
            IncidentStatus::Identified => "identified",
            IncidentStatus::Monitoring => "monitoring",
            IncidentStatus::Resolved => "resolved",
            IncidentStatus::Postmortem => "postmortem",
        }
    }
}

/// How bad an incident is (Statuspage's `impact`), least first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    /// No impact.
    None,
    /// Minor.
    Minor,
    /// Major.
    Major,
    /// Critical.
    Critical,
}

impl Impact {
    /// The impact in words ("Major").
    pub fn words(self) -> &'static str {
        match self {
            Impact::None => "None",
            Impact::Minor => "Minor",
            Impact::Major => "Major",
            Impact::Critical => "Critical",
        }
    }

    /// Every impact, least first.
    pub const ALL: [Impact; 4] = [Impact::None, Impact::Minor, Impact::Major, Impact::Critical];

    /// The name as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Impact::None => "none",
            Impact::Minor => "minor",
            Impact::Major => "major",
            Impact::Critical => "critical",
        }
    }

    /// The impact of that name.
    pub fn parse(name: &str) -> Option<Impact> {
        Impact::ALL.into_iter().find(|i| i.as_str() == name)
    }
}

/// A scheduled maintenance's status, as Statuspage names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaintenanceStatus {
    /// Announced, not begun.
    Scheduled,
    /// Under way.
    InProgress,
    /// Done, being checked.
    Verifying,
    /// Over.
    Completed,
}

impl MaintenanceStatus {
    /// Every status, in order.
    pub const ALL: [MaintenanceStatus; 4] = [
        MaintenanceStatus::Scheduled,
        MaintenanceStatus::InProgress,
        MaintenanceStatus::Verifying,
        MaintenanceStatus::Completed,
    ];

    /// The name as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            MaintenanceStatus::Scheduled => "scheduled",
            MaintenanceStatus::InProgress => "in_progress",
            MaintenanceStatus::Verifying => "verifying",
            MaintenanceStatus::Completed => "completed",
        }
    }
}

/// Where an incident or a maintenance stands: Statuspage keeps both in one `status` field,
/// whose values depend on which of the two it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// An incident's status.
    Incident(IncidentStatus),
    /// A scheduled maintenance's status.
    Maintenance(MaintenanceStatus),
}

impl Phase {
    /// The name as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Incident(s) => s.as_str(),
            Phase::Maintenance(s) => s.as_str(),
        }
    }

    /// The phase of that name, for an incident (`maintenance: false`) or a maintenance.
    pub fn parse(maintenance: bool, name: &str) -> Option<Phase> {
        if maintenance {
            MaintenanceStatus::ALL.into_iter().find(|s| s.as_str() == name).map(Phase::Maintenance)
        } else {
            IncidentStatus::ALL.into_iter().find(|s| s.as_str() == name).map(Phase::Incident)
        }
    }

    /// Whether it is a maintenance.
    pub fn is_maintenance(self) -> bool {
        matches!(self, Phase::Maintenance(_))
    }

    /// Whether it is over: resolved, post-mortem, completed.
    pub fn is_over(self) -> bool {
        match self {
            Phase::Incident(s) => s.is_over(),
            Phase::Maintenance(s) => s == MaintenanceStatus::Completed,
        }
    }

    /// Whether it is under way now: an incident not over, a maintenance in progress or
    /// being verified.
    pub fn is_active(self) -> bool {
        match self {
            Phase::Incident(s) => !s.is_over(),
            Phase::Maintenance(s) => matches!(s, MaintenanceStatus::InProgress | MaintenanceStatus::Verifying),
        }
    }

    /// The status its components take by themselves when it moves to this phase and the
    /// update names none: a maintenance in progress puts them under maintenance, and
    /// whatever is over gives them back as operational (Statuspage's defaults).
    pub fn component_status(self) -> Option<ComponentStatus> {
        match self {
            Phase::Maintenance(MaintenanceStatus::InProgress) => Some(ComponentStatus::UnderMaintenance),
            p if p.is_over() => Some(ComponentStatus::Operational),
            _ => None,
        }
    }

    /// Whether an update in this phase leaves its components as they are, whatever statuses
    /// it names: a scheduled maintenance has not started, so its components change when it
    /// does (they go under maintenance then: [`Phase::component_status`]), as Statuspage's
    /// scheduled maintenances do.
    pub fn holds_components(self) -> bool {
        self == Phase::Maintenance(MaintenanceStatus::Scheduled)
    }

    /// The words an update written by the clock says (a maintenance starting or completing
    /// on time).
    pub fn automatic_body(self) -> &'static str {
        match self {
            Phase::Maintenance(MaintenanceStatus::InProgress) => "Scheduled maintenance is currently in progress.",
            Phase::Maintenance(MaintenanceStatus::Completed) => "The scheduled maintenance has been completed.",
            _ => "",
        }
    }
}

/// The status a component bound to an alert takes when the alert is triggered at `level`
/// (critical: a major outage; error: a partial outage; warning: degraded performance; info:
/// none), or, when `level` is `None`, resolved (operational).
pub fn alert_status(level: Option<crate::alert::AlertLevel>) -> Option<ComponentStatus> {
    use crate::alert::AlertLevel;
    match level {
        None => Some(ComponentStatus::Operational),
        Some(AlertLevel::Critical) => Some(ComponentStatus::MajorOutage),
        Some(AlertLevel::Error) => Some(ComponentStatus::PartialOutage),
        Some(AlertLevel::Warning) => Some(ComponentStatus::DegradedPerformance),
        Some(AlertLevel::Info) => None,
    }
}

/// How long before a maintenance starts its subscribers are reminded.
pub const REMINDER_BEFORE: i64 = 3600;

/// The status a scheduled maintenance moves to by itself at `now`, if any: it starts at
/// `scheduled_for` and completes at `scheduled_until`, unless people moved it on already
/// (a maintenance being verified is completed by people, not by the clock).
pub fn maintenance_due(
    status: MaintenanceStatus,
    scheduled_for: i64,
    scheduled_until: i64,
    now: i64,
) -> Option<MaintenanceStatus> {
    match status {
        MaintenanceStatus::Scheduled if now >= scheduled_until => Some(MaintenanceStatus::Completed),
        MaintenanceStatus::Scheduled if now >= scheduled_for => Some(MaintenanceStatus::InProgress),
        MaintenanceStatus::InProgress if now >= scheduled_until => Some(MaintenanceStatus::Completed),
        _ => None,
    }
}

/// A page's overall state (Statuspage's `status.indicator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    /// All operational.
    None,
    /// Under maintenance, nothing worse.
    Maintenance,
    /// Minor trouble.
    Minor,
    /// Major trouble.
    Major,
    /// Critical trouble.
    Critical,
}

impl Indicator {
    /// The words Statuspage shows for it.
    pub fn description(self) -> &'static str {
        match self {
            Indicator::None => "All Systems Operational",
            Indicator::Maintenance => "Service Under Maintenance",
            Indicator::Minor => "Minor Service Outage",
            Indicator::Major => "Partial System Outage",
            Indicator::Critical => "Major System Outage",
        }
    }
}

/// A page's overall state: the worst of its unresolved incidents' impacts (`minor`, `major`,
/// `critical`) and of its components' statuses (degraded performance → `minor`, partial
/// outage → `major`, major outage → `critical`); else `maintenance` when a maintenance is in
/// progress or a component is under maintenance; else `none`.
pub fn page_indicator(
    unresolved_impacts: impl IntoIterator<Item = Impact>,
    components: impl IntoIterator<Item = ComponentStatus>,
    maintenance_in_progress: bool,
) -> Indicator {
    let from_incidents = unresolved_impacts.into_iter().map(|i| match i {
        Impact::None => Indicator::None,
        Impact::Minor => Indicator::Minor,
        Impact::Major => Indicator::Major,
        Impact::Critical => Indicator::Critical,
    });
    let from_components = components.into_iter().map(|c| match c {
        ComponentStatus::Operational => Indicator::None,
        ComponentStatus::UnderMaintenance => Indicator::Maintenance,
        ComponentStatus::DegradedPerformance => Indicator::Minor,
        ComponentStatus::PartialOutage => Indicator::Major,
        ComponentStatus::MajorOutage => Indicator::Critical,
    });
    let maintenance = maintenance_in_progress.then_some(Indicator::Maintenance);
    from_incidents.chain(from_components).chain(maintenance).max().unwrap_or(Indicator::None)
}

/// A span of a component's history in one status: from `from` until `until` (open while
/// `None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusInterval {
    /// When it began (Unix seconds).
    pub from: i64,
    /// When it ended (Unix seconds); `None` while it lasts.
    pub until: Option<i64>,
    /// The status.
    pub status: ComponentStatus,
}

/// One day of a component's uptime bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayUptime {
    /// The day, in the page's zone.
    pub date: Date,
    /// The worst status of the day's observed time; `None` when nothing of the day was
    /// observed (before the component existed, or after now).
    pub worst: Option<ComponentStatus>,
    /// Seconds of the day observed.
    pub observed: i64,
    /// Weighted down time, in thousandths of a second ([`ComponentStatus::down_weight`]).
    pub down_millis: i64,
}

impl DayUptime {
    /// The uptime percentage (100 when nothing was observed).
    pub fn percent(&self) -> f64 {
        if self.observed == 0 {
            100.0
        } else {
            100.0 * (1.0 - self.down_millis as f64 / (self.observed as f64 * 1000.0))
        }
    }
}

/// The uptime of each of `days` days ending with `last` (in `zone`), for a component created
/// at `created` whose history is `intervals` (any order, possibly overlapping), observed up
/// to `now`. Cost: O(n log n) in the intervals plus O(days).
pub fn uptime_days(
    intervals: &[StatusInterval],
    created: i64,
    now: i64,
    zone: &TimeZone,
    last: Date,
    days: usize,
) -> Vec<DayUptime> {
    let first = last.checked_sub(jiff::Span::new().days(days.saturating_sub(1) as i64)).unwrap_or(last);
    let bounds: Vec<(Date, i64)> = std::iter::successors(Some(first), |d| d.tomorrow().ok())
        .take(days + 1)
        .map(|d| (d, day_start(zone, d)))
        .collect();
    let mut out: Vec<DayUptime> = bounds
        .windows(2)
        .map(|w| {
            let (from, until) = (w[0].1.max(created), w[1].1.min(now));
            DayUptime { date: w[0].0, worst: None, observed: (until - from).max(0), down_millis: 0 }
        })
        .collect();
    let Some(&(_, window_start)) = bounds.first() else { return out };
    let window_end = bounds.last().map_or(window_start, |b| b.1);
    let (lo, hi) = (window_start.max(created), window_end.min(now));
    if lo >= hi {
        return out;
    }
    // Sweep the intervals' edges within [lo, hi), keeping a count per status: between two
    // edges the worst status with a count holds.
    let mut edges: Vec<(i64, usize, i32)> = Vec::with_capacity(2 * intervals.len());
    for i in intervals {
        let (from, until) = (i.from.max(lo), i.until.unwrap_or(i64::MAX).min(hi));
        if from < until {
            let s = i.status as usize;
            edges.push((from, s, 1));
            edges.push((until, s, -1));
        }
    }
    edges.sort_unstable();
    let mut counts = [0i32; 5];
    let mut at = lo;
    let mut day = 0usize;
    let mut apply = |from: i64, until: i64, counts: &[i32; 5], day: &mut usize| {
        let status =
            (0..5).rev().find(|&s| counts[s] > 0).map_or(ComponentStatus::Operational, |s| ComponentStatus::ALL[s]);
        let mut t = from;
        while t < until {
            while bounds[*day + 1].1 <= t {
                *day += 1;
            }
            let end = until.min(bounds[*day + 1].1);
            let d = &mut out[*day];
            d.worst = Some(d.worst.map_or(status, |w| w.max(status)));
            d.down_millis += (end - t) * status.down_weight();
            t = end;
        }
    };
    for (t, s, delta) in edges {
        if t > at {
            apply(at, t, &counts, &mut day);
            at = t;
        }
        counts[s] += delta;
    }
    if at < hi {
        apply(at, hi, &counts, &mut day);
    }
    out
}

/// The instant a date begins in `zone` (Unix seconds).
pub fn day_start(zone: &TimeZone, date: Date) -> i64 {
    date.to_zoned(zone.clone()).and_then(|z| z.start_of_day()).map_or(0, |z| z.timestamp().as_second())
}

/// Today's date in `zone` at `now`.
pub fn today(zone: &TimeZone, now: Timestamp) -> Date {
    now.to_zoned(zone.clone()).date()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ComponentStatus::*;
    use jiff::civil::date;

    fn utc() -> TimeZone {
        TimeZone::UTC
    }

    fn at(d: Date, h: i64, m: i64) -> i64 {
        day_start(&utc(), d) + h * 3600 + m * 60
    }

    #[test]
    fn phases_read_their_own_value_set_and_move_components_by_themselves() {
        assert_eq!(Phase::parse(false, "monitoring"), Some(Phase::Incident(IncidentStatus::Monitoring)));
        assert_eq!(Phase::parse(false, "in_progress"), None);
        assert_eq!(Phase::parse(true, "in_progress"), Some(Phase::Maintenance(MaintenanceStatus::InProgress)));
        assert_eq!(Phase::parse(true, "resolved"), None);
        for s in MaintenanceStatus::ALL {
            assert_eq!(Phase::parse(true, s.as_str()), Some(Phase::Maintenance(s)));
        }
        for s in IncidentStatus::ALL {
            assert_eq!(Phase::parse(false, s.as_str()), Some(Phase::Incident(s)));
        }
        let table = [
            ("investigating", false, None, true),
            ("resolved", false, Some(Operational), false),
            ("postmortem", false, Some(Operational), false),
            ("scheduled", true, None, false),
            ("in_progress", true, Some(UnderMaintenance), true),
            ("verifying", true, None, true),
            ("completed", true, Some(Operational), false),
        ];
        for (name, maintenance, status, active) in table {
            let phase = Phase::parse(maintenance, name).unwrap();
            assert_eq!((phase.component_status(), phase.is_active()), (status, active), "{name}");
            assert_eq!(phase.holds_components(), name == "scheduled", "{name}: only a maintenance not started waits");
        }
        assert_eq!(ComponentStatus::parse("partial_outage"), Some(PartialOutage));
        use crate::alert::AlertLevel;
        let levels = [
            (Some(AlertLevel::Critical), Some(MajorOutage)),
            (Some(AlertLevel::Error), Some(PartialOutage)),
            (Some(AlertLevel::Warning), Some(DegradedPerformance)),
            (Some(AlertLevel::Info), None),
            (None, Some(Operational)),
        ];
        for (level, status) in levels {
            assert_eq!(alert_status(level), status, "{level:?}");
        }
        assert_eq!(Impact::parse("critical"), Some(Impact::Critical));
        assert_eq!(Impact::parse("maintenance"), None);
    }

    #[test]
    fn a_partial_outage_counts_at_thirty_percent_and_maintenance_not_at_all() {
        let d = date(2026, 11, 10);
        let intervals = [
            StatusInterval { from: at(d, 1, 0), until: Some(at(d, 2, 0)), status: MajorOutage },
            StatusInterval { from: at(d, 3, 0), until: Some(at(d, 5, 0)), status: PartialOutage },
            StatusInterval { from: at(d, 6, 0), until: Some(at(d, 9, 0)), status: UnderMaintenance },
        ];
        let [day] = uptime_days(&intervals, 0, at(d, 24, 0), &utc(), d, 1)[..] else { panic!() };
        assert_eq!(day.worst, Some(MajorOutage));
        assert_eq!(day.down_millis, (3600 + 2 * 3600 * 3 / 10) * 1000);
        assert!((day.percent() - (100.0 - 100.0 * 5760.0 / 86400.0)).abs() < 1e-9);
    }

    #[test]
    fn overlaps_take_the_worst_and_days_split_at_midnight() {
        let d = date(2026, 11, 10);
        let intervals = [
            // A partial outage from 23:00 into the next day, and a major one inside it.
            StatusInterval { from: at(d, 23, 0), until: Some(at(d, 26, 0)), status: PartialOutage },
            StatusInterval { from: at(d, 23, 30), until: Some(at(d, 24, 30)), status: MajorOutage },
        ];
        let days = uptime_days(&intervals, 0, at(d, 48, 0), &utc(), d.tomorrow().unwrap(), 2);
        assert_eq!(days[0].down_millis, 1800 * 300 + 1800 * 1000);
        assert_eq!(days[1].down_millis, 1800 * 1000 + 5400 * 300);
        assert_eq!((days[0].worst, days[1].worst), (Some(MajorOutage), Some(MajorOutage)));
    }

    #[test]
    fn only_observed_time_counts() {
        let d = date(2026, 11, 10);
        let open = [StatusInterval { from: at(d, 10, 0), until: None, status: MajorOutage }];
        // Created at 06:00, now is 12:00: 6 hours observed, 2 of them down.
        let days = uptime_days(&open, at(d, 6, 0), at(d, 12, 0), &utc(), d.tomorrow().unwrap(), 3);
        assert_eq!((days[0].observed, days[0].worst), (0, None));
        assert_eq!((days[1].observed, days[1].down_millis), (6 * 3600, 2 * 3600 * 1000));
        assert_eq!((days[2].observed, days[2].worst, days[2].percent()), (0, None, 100.0));
    }

    #[test]
    fn the_page_shows_the_worst_of_incidents_and_components() {
        let table = [
            (vec![], vec![Operational, Operational], false, Indicator::None, "All Systems Operational"),
            (vec![Impact::None], vec![Operational], false, Indicator::None, "All Systems Operational"),
            (vec![], vec![Operational], true, Indicator::Maintenance, "Service Under Maintenance"),
            (vec![], vec![UnderMaintenance], false, Indicator::Maintenance, "Service Under Maintenance"),
            (vec![Impact::Minor], vec![Operational], true, Indicator::Minor, "Minor Service Outage"),
            (vec![], vec![DegradedPerformance], false, Indicator::Minor, "Minor Service Outage"),
            (vec![Impact::Minor], vec![PartialOutage], false, Indicator::Major, "Partial System Outage"),
            (vec![Impact::Major, Impact::Minor], vec![Operational], false, Indicator::Major, "Partial System Outage"),
            (vec![Impact::Minor], vec![MajorOutage], false, Indicator::Critical, "Major System Outage"),
            (vec![Impact::Critical], vec![Operational], false, Indicator::Critical, "Major System Outage"),
        ];
        for (impacts, components, maintenance, want, words) in table {
            let got = page_indicator(impacts.clone(), components.clone(), maintenance);
            assert_eq!((got, got.description()), (want, words), "{impacts:?} {components:?} {maintenance}");
        }
    }

    #[test]
    fn maintenance_starts_and_completes_on_time() {
        use MaintenanceStatus::*;
        let (start, end) = (1_000, 5_000);
        let table = [
            (Scheduled, 999, None),
            (Scheduled, 1_000, Some(InProgress)),
            (Scheduled, 5_000, Some(Completed)),
            (InProgress, 4_999, None),
            (InProgress, 5_000, Some(Completed)),
            (Verifying, 9_000, None),
            (Completed, 9_000, None),
        ];
        for (status, now, want) in table {
            assert_eq!(maintenance_due(status, start, end, now), want, "{status:?} at {now}");
        }
    }

    proptest::proptest! {
        #[test]
        fn maintenance_only_moves_forward_and_settles(start in 0i64..10_000, length in 0i64..10_000, steps in proptest::collection::vec(0i64..30_000, 1..20)) {
            let mut status = MaintenanceStatus::Scheduled;
            let mut now = 0;
            for step in steps {
                now += step;
                if let Some(next) = maintenance_due(status, start, start + length, now) {
                    proptest::prop_assert!(next > status);
                    status = next;
                }
                // Applying the rule again at the same instant changes nothing more.
                proptest::prop_assert_eq!(maintenance_due(status, start, start + length, now), None);
            }
            if now >= start + length {
                proptest::prop_assert_eq!(status, MaintenanceStatus::Completed);
            }
        }
    }

    #[test]
    fn a_fall_back_day_has_twenty_five_hours() {
        let ny = TimeZone::get("America/New_York").unwrap();
        let d = date(2026, 11, 1);
        let [day] = uptime_days(&[], 0, i64::MAX / 2, &ny, d, 1)[..] else { panic!() };
        assert_eq!((day.observed, day.worst), (25 * 3600, Some(Operational)));
    }
}
