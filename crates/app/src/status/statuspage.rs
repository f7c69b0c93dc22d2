//! Statuspage's public v2 documents (`/api/v2/…`) and webhook payloads from a page's view: the same paths, field
//! names, value sets and nesting as Atlassian Statuspage, so its clients, exporters and
//! widgets read Stringer's pages unchanged.

use super::{ComponentRecord, IncidentRecord, PageView, UpdateRecord};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::{Value, json};
use stringer_core::status::Impact;

/// An instant as Statuspage writes it: ISO 8601 with milliseconds, in the page's zone.
pub fn iso(at: i64, zone: &TimeZone) -> String {
    let zoned = Timestamp::from_second(at).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(zone.clone());
    zoned.strftime("%Y-%m-%dT%H:%M:%S.000%:z").to_string()
}

/// An incident's or maintenance's status in words, as Statuspage's pages and mails write
/// them ("Investigating", "In progress").
pub fn phase_words(p: stringer_core::status::Phase) -> String {
    let name = p.as_str().replace('_', " ");
    let mut chars = name.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The links a page's documents carry, from where the page is served.
#[derive(Clone, Debug)]
pub struct Urls {
    /// The page's address (`https://host/status`, `…/status/acme`, or a bound host's root).
    pub page: String,
}

impl Urls {
    /// An incident's own page.
    pub fn incident(&self, id: &str) -> String {
        format!("{}/incidents/{id}", self.page)
    }
}

fn page(view: &PageView, urls: &Urls, zone: &TimeZone) -> Value {
    json!({
        "id": view.page.id,
        "name": view.page.name,
        "url": urls.page,
        "time_zone": view.page.time_zone,
        "updated_at": iso(view.updated_at(), zone),
    })
}

fn component(c: &ComponentRecord, view: &PageView, zone: &TimeZone) -> Value {
    let start = Timestamp::from_second(c.created_at).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(zone.clone()).date();
    let mut v = json!({
        "id": c.id,
        "name": c.name,
        "status": c.status.as_str(),
        "created_at": iso(c.created_at, zone),
        "updated_at": iso(c.updated_at, zone),
        "position": c.position,
        "description": c.description,
        "showcase": c.showcase,
        "start_date": start.to_string(),
        "group_id": c.group_id,
        "page_id": c.page_id,
        "group": c.group,
        "only_show_if_degraded": c.only_show_if_degraded,
    });
    if c.group {
        let members: Vec<&str> =
            view.components.iter().filter(|m| m.group_id.as_deref() == Some(&c.id)).map(|m| m.id.as_str()).collect();
        v["components"] = json!(members);
    }
    v
}

fn update(u: &UpdateRecord, zone: &TimeZone) -> Value {
    json!({
        "id": u.id,
        "status": u.phase.as_str(),
        "body": u.body,
        "incident_id": u.incident_id,
        "created_at": iso(u.created_at, zone),
        "updated_at": iso(u.created_at, zone),
        "display_at": iso(u.created_at, zone),
        "affected_components": u.affected,
        "deliver_notifications": true,
        "custom_tweet": null,
        "tweet_id": null,
    })
}

/// An incident's impact as Statuspage writes it: a maintenance without a stronger impact
/// says `maintenance`.
pub fn impact(i: &IncidentRecord) -> &'static str {
    match (i.phase.is_maintenance(), i.impact) {
        (true, Impact::None) => "maintenance",
        (_, impact) => impact.as_str(),
    }
}

/// An incident or maintenance, with its updates (newest first) and its components.
pub fn incident(i: &IncidentRecord, view: &PageView, urls: &Urls, zone: &TimeZone) -> Value {
    let components: Vec<Value> =
        view.components.iter().filter(|c| i.components.contains(&c.id)).map(|c| component(c, view, zone)).collect();
    let mut v = json!({
        "id": i.id,
        "name": i.name,
        "status": i.phase.as_str(),
        "created_at": iso(i.created_at, zone),
        "updated_at": iso(i.updated_at, zone),
        "monitoring_at": i.monitoring_at.map(|t| iso(t, zone)),
        "resolved_at": i.resolved_at.map(|t| iso(t, zone)),
        "impact": impact(i),
        "shortlink": urls.incident(&i.id),
        "started_at": iso(i.started_at, zone),
        "page_id": i.page_id,
        "incident_updates": i.updates.iter().map(|u| update(u, zone)).collect::<Vec<_>>(),
        "components": components,
    });
    if i.phase.is_maintenance() {
        v["scheduled_for"] = json!(i.scheduled_for.map(|t| iso(t, zone)));
        v["scheduled_until"] = json!(i.scheduled_until.map(|t| iso(t, zone)));
    }
    v
}

fn status(view: &PageView) -> Value {
    json!({ "indicator": view.indicator, "description": view.indicator.description() })
}

/// The documents of a page, by their path under `api/v2/`; `None` for another path.
pub fn document(path: &str, view: &PageView, urls: &Urls) -> Option<Value> {
    let zone = view.zone();
    let zone = &zone;
    let list = |items: &mut dyn Iterator<Item = &IncidentRecord>| -> Vec<Value> {
        items.map(|i| incident(i, view, urls, zone)).collect()
    };
    let components = || view.components.iter().map(|c| component(c, view, zone)).collect::<Vec<_>>();
    let head = page(view, urls, zone);
    Some(match path {
        "summary.json" => {
            let scheduled: Vec<&IncidentRecord> =
                view.maintenances.iter().filter(|m| m.phase.is_active()).chain(view.upcoming()).collect();
            json!({
                "page": head,
                "components": components(),
                "incidents": list(&mut view.unresolved()),
                "scheduled_maintenances": list(&mut scheduled.into_iter()),
                "status": status(view),
            })
        }
        "status.json" => json!({ "page": head, "status": status(view) }),
        "components.json" => json!({ "page": head, "components": components() }),
        "incidents.json" => json!({ "page": head, "incidents": list(&mut view.incidents.iter()) }),
        "incidents/unresolved.json" => json!({ "page": head, "incidents": list(&mut view.unresolved()) }),
        "scheduled-maintenances.json" => {
            json!({ "page": head, "scheduled_maintenances": list(&mut view.maintenances.iter()) })
        }
        "scheduled-maintenances/upcoming.json" => {
            json!({ "page": head, "scheduled_maintenances": list(&mut view.upcoming().into_iter()) })
        }
        "scheduled-maintenances/active.json" => {
            json!({ "page": head, "scheduled_maintenances": list(&mut view.active_maintenances()) })
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_carry_milliseconds_and_the_page_zone_offset() {
        assert_eq!(iso(0, &TimeZone::UTC), "1970-01-01T00:00:00.000+00:00");
        let chicago = TimeZone::get("America/Chicago").unwrap();
        assert_eq!(iso(1_749_736_800, &chicago), "2025-06-12T09:00:00.000-05:00");
    }
}
