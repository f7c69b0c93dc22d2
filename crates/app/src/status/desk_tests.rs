//! The status desk's decisions over in-memory ports: what a page shows (a tenant's page the
//! platform's components first, a group as bad as its worst member, the overall state) and
//! how the clock moves a scheduled maintenance (its components under maintenance while it
//! runs, operational once it is over).

use super::*;
use crate::fakes::{Pages, component, page};
use std::sync::Mutex;

/// 2026-03-02T10:00:00Z.
const NOW: i64 = 1_772_445_600;

/// The platform page `pub` (components `api`, and the group `edge` of `cdn` and `dns`) and
/// Fedco's page `fed` (component `vault`), each at `statuses`.
fn pages(statuses: &[(&str, ComponentStatus)]) -> Arc<Pages> {
    let group = ComponentRecord { group: true, position: 2, ..component("edge", "pub") };
    let member =
        |id: &str, position| ComponentRecord { group_id: Some("edge".into()), position, ..component(id, "pub") };
    let mut components = vec![
        ComponentRecord { position: 1, ..component("api", "pub") },
        group,
        member("cdn", 3),
        member("dns", 4),
        ComponentRecord { position: 1, ..component("vault", "fed") },
    ];
    for c in &mut components {
        if let Some((_, s)) = statuses.iter().find(|(id, _)| *id == c.id) {
            c.status = *s;
        }
    }
    Arc::new(Pages {
        pages: vec![page("pub", None), page("fed", Some("fedco"))],
        components: Mutex::new(components),
        ..Pages::default()
    })
}

#[tokio::test]
async fn a_page_shows_the_platforms_components_then_its_own_and_a_group_as_its_worst() {
    use ComponentStatus::{DegradedPerformance, MajorOutage, Operational, PartialOutage};
    let cases = [
        // (why, page, statuses, components shown with their statuses, the page's state)
        (
            "all well on the platform page",
            "pub",
            vec![],
            vec!["api operational", "edge operational", "cdn operational", "dns operational"],
            Indicator::None,
        ),
        (
            "a group is as bad as its worst member",
            "pub",
            vec![("cdn", DegradedPerformance), ("dns", PartialOutage)],
            vec!["api operational", "edge partial_outage", "cdn degraded_performance", "dns partial_outage"],
            Indicator::Major,
        ),
        (
            "a tenant's page shows the platform's components first",
            "fed",
            vec![("vault", MajorOutage)],
            vec!["api operational", "edge operational", "cdn operational", "dns operational", "vault major_outage"],
            Indicator::Critical,
        ),
        (
            "the platform's trouble shows on a tenant's page",
            "fed",
            vec![("api", PartialOutage), ("vault", Operational)],
            vec!["api partial_outage", "edge operational", "cdn operational", "dns operational", "vault operational"],
            Indicator::Major,
        ),
        (
            "a tenant's trouble stays off the platform page",
            "pub",
            vec![("vault", MajorOutage)],
            vec!["api operational", "edge operational", "cdn operational", "dns operational"],
            Indicator::None,
        ),
    ];
    for (why, id, statuses, shown, indicator) in cases {
        let pages = pages(&statuses);
        let desk = StatusDesk { pages: pages.clone() };
        let p = pages.page(id).await.unwrap().expect("a page");
        let view = desk.view(p, NOW).await.unwrap();
        let got: Vec<String> = view.components.iter().map(|c| format!("{} {}", c.id, c.status.as_str())).collect();
        assert_eq!(got, shown, "{why}");
        let positions: Vec<i64> = view.components.iter().map(|c| c.position).collect();
        assert_eq!(positions, (1..=shown.len() as i64).collect::<Vec<_>>(), "{why}: numbered once, in order");
        assert_eq!(view.indicator, indicator, "{why}");
    }
}

#[tokio::test]
async fn the_clock_starts_and_completes_a_scheduled_maintenance_in_its_window() {
    let hour = 3600;
    let cases = [
        // (why, when the clock runs, how many it moves, the maintenance's status, api's status)
        ("before its window", NOW - 1, 0, "scheduled", "operational"),
        ("at its start", NOW, 1, "in_progress", "under_maintenance"),
        ("at its end", NOW + 2 * hour, 1, "completed", "operational"),
        ("long after, never started", NOW + 9 * hour, 1, "completed", "operational"),
    ];
    for (why, at, moved, status, api) in cases {
        let pages = pages(&[]);
        let desk = StatusDesk { pages: pages.clone() };
        let platform = pages.page("pub").await.unwrap().unwrap();
        let maintenance = NewIncident {
            id: "sti_1".into(),
            update_id: "stu_1".into(),
            name: "Database upgrade".into(),
            phase: Phase::Maintenance(MaintenanceStatus::Scheduled),
            impact: Impact::None,
            body: "We upgrade the database.".into(),
            components: vec![("api".into(), Some(ComponentStatus::UnderMaintenance))],
            window: Some((NOW, NOW + 2 * hour)),
            ticket: None,
        };
        desk.open(&platform, maintenance, NOW - hour).await.unwrap();
        assert_eq!(
            pages.statuses()[0],
            ("api".to_string(), "operational"),
            "{why}: a scheduled one holds its components"
        );
        assert_eq!(desk.run_due(at).await.unwrap(), moved, "{why}");
        let m = pages.incident("sti_1").await.unwrap().expect("stored");
        assert_eq!(m.phase.as_str(), status, "{why}");
        assert_eq!(pages.statuses()[0], ("api".to_string(), api), "{why}");
        assert_eq!(desk.run_due(at).await.unwrap(), 0, "{why}: moved once");
    }
}
