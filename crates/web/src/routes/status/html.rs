//! A page as people read it, server-rendered without JavaScript: the overall state, active
//! incidents and maintenance, components with their 90-day uptime bars (each day's worst
//! status and uptime on hover and on keyboard focus), scheduled maintenance, and the
//! incident history, each incident with a page of its own; the footer names the ledger's
//! latest signed head.

use crate::error::ApiError;
use askama::Template;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use stringer_app::ledger::Cover;
use stringer_app::status::statuspage::{impact, phase_words};
use stringer_app::status::{IncidentRecord, PageView, UPTIME_DAYS};
use stringer_core::status::{ComponentStatus, DayUptime};

/// The pages' media type.
pub const TYPE: &str = "text/html; charset=utf-8";

fn when(at: i64, zone: &TimeZone) -> String {
    Timestamp::from_second(at)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned(zone.clone())
        .strftime("%b %-d, %Y %H:%M %Z")
        .to_string()
}

struct UpdateRow {
    status: String,
    body: String,
    when: String,
    iso: String,
}

struct IncidentRow {
    id: String,
    name: String,
    href: String,
    impact: &'static str,
    window: String,
    updates: Vec<UpdateRow>,
}

impl IncidentRow {
    fn of(i: &IncidentRecord, base: &str, zone: &TimeZone) -> IncidentRow {
        let window = match (i.scheduled_for, i.scheduled_until) {
            (Some(from), Some(until)) => format!("Scheduled for {} – {}", when(from, zone), when(until, zone)),
            _ => String::new(),
        };
        IncidentRow {
            id: i.id.clone(),
            name: i.name.clone(),
            href: format!("{base}/incidents/{}", i.id),
            impact: impact(i),
            window,
            updates: i
                .updates
                .iter()
                .map(|u| UpdateRow {
                    status: phase_words(u.phase),
                    body: u.body.clone(),
                    when: when(u.created_at, zone),
                    iso: stringer_app::status::statuspage::iso(u.created_at, zone),
                })
                .collect(),
        }
    }
}

struct DayCell {
    class: &'static str,
    tip: String,
}

impl DayCell {
    fn of(d: &DayUptime) -> DayCell {
        match d.worst {
            None => DayCell { class: "none", tip: format!("{}: no data", d.date.strftime("%b %-d, %Y")) },
            Some(worst) => DayCell {
                class: worst.as_str(),
                tip: format!("{}: {:.2} % uptime, {}", d.date.strftime("%b %-d, %Y"), d.percent(), worst.words()),
            },
        }
    }
}

struct ComponentRow {
    id: String,
    name: String,
    description: Option<String>,
    status: &'static str,
    status_words: &'static str,
    in_group: bool,
    uptime: String,
    days: Vec<DayCell>,
}

/// The uptime of a run of days (100 when none was observed).
pub fn total_uptime(days: &[DayUptime]) -> f64 {
    let observed: i64 = days.iter().map(|d| d.observed).sum();
    let down: i64 = days.iter().map(|d| d.down_millis).sum();
    if observed == 0 { 100.0 } else { 100.0 * (1.0 - down as f64 / (observed as f64 * 1000.0)) }
}

#[derive(Template)]
#[template(path = "status_page.html")]
struct StatusPageHtml {
    name: String,
    base: String,
    indicator: &'static str,
    description: &'static str,
    days: usize,
    active: Vec<IncidentRow>,
    components: Vec<ComponentRow>,
    upcoming: Vec<IncidentRow>,
    history: Vec<IncidentRow>,
    ledger: Option<LedgerLine>,
}

/// The footer's line on the ledger's latest signed head.
struct LedgerLine {
    tree_size: u64,
    root: String,
    signed_at: String,
    fingerprint: String,
}

fn render_error(e: askama::Error) -> ApiError {
    tracing::error!("a status page failed to render: {e}");
    ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "the status page failed to render")
}

/// The page, with the ledger's latest signed head in its footer.
pub fn page(view: &PageView, base: &str, ledger_head: Option<&Cover>) -> Result<String, ApiError> {
    let zone = view.zone();
    let row = |i: &IncidentRecord| IncidentRow::of(i, base, &zone);
    let indicator = serde_json::to_value(view.indicator).ok().and_then(|v| v.as_str().map(str::to_string));
    let components = view
        .components
        .iter()
        .filter(|c| !c.only_show_if_degraded || c.status != ComponentStatus::Operational)
        .map(|c| {
            let days = view.uptime.get(&c.id).map_or(&[][..], Vec::as_slice);
            ComponentRow {
                id: c.id.clone(),
                name: c.name.clone(),
                description: c.description.clone(),
                status: c.status.as_str(),
                status_words: c.status.words(),
                in_group: c.group_id.is_some(),
                uptime: format!("{:.2}", total_uptime(days)),
                days: days.iter().map(DayCell::of).collect(),
            }
        })
        .collect();
    let active = view.unresolved().chain(view.active_maintenances()).map(row).collect();
    let page = StatusPageHtml {
        name: view.page.name.clone(),
        base: base.to_string(),
        indicator: match indicator.as_deref() {
            Some("minor") => "minor",
            Some("major") => "major",
            Some("critical") => "critical",
            Some("maintenance") => "maintenance",
            _ => "none",
        },
        description: view.indicator.description(),
        days: UPTIME_DAYS,
        active,
        components,
        upcoming: view.upcoming().into_iter().map(row).collect(),
        history: view.incidents.iter().filter(|i| i.phase.is_over()).map(row).collect(),
        ledger: ledger_head.map(|c| LedgerLine {
            tree_size: c.tree_size(),
            root: c.root_prefix(),
            signed_at: c.signed_at(),
            fingerprint: c.fingerprint.clone(),
        }),
    };
    page.render().map_err(render_error)
}

#[derive(Template)]
#[template(path = "status_incident.html")]
struct IncidentHtml {
    name: String,
    base: String,
    incident: IncidentRow,
    maintenance: bool,
    affected: String,
}

/// An incident's or maintenance's own page.
pub fn incident(view: &PageView, base: &str, i: &IncidentRecord) -> Result<String, ApiError> {
    let zone = view.zone();
    let names: Vec<&str> =
        view.components.iter().filter(|c| i.components.contains(&c.id)).map(|c| c.name.as_str()).collect();
    let page = IncidentHtml {
        name: view.page.name.clone(),
        base: base.to_string(),
        incident: IncidentRow::of(i, base, &zone),
        maintenance: i.phase.is_maintenance(),
        affected: names.join(", "),
    };
    page.render().map_err(render_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_day_tells_its_worst_status_and_uptime() {
        let day = DayUptime {
            date: date(2026, 11, 3),
            worst: Some(ComponentStatus::PartialOutage),
            observed: 86_400,
            down_millis: 3_600 * 300,
        };
        let cell = DayCell::of(&day);
        assert_eq!(cell.class, "partial_outage");
        assert_eq!(cell.tip, "Nov 3, 2026: 98.75 % uptime, Partial outage");
        assert!((total_uptime(&[day, DayUptime { down_millis: 0, ..day }]) - 99.375).abs() < 1e-9);
        assert_eq!(
            phase_words(stringer_core::status::Phase::Maintenance(
                stringer_core::status::MaintenanceStatus::InProgress
            )),
            "In progress"
        );
    }
}
