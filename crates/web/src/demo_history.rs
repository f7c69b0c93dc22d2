//! The demo desk's past, so that a newcomer sees a desk that has been working: the previous
//! quarter and the current one so far, with tickets opened, acknowledged (mostly in time,
//! some late) and resolved, through the same application call as every other change; and
//! the public status page's last 90 days (components, three incidents, a completed
//! maintenance, one scheduled ahead), written by the application's status desk at the
//! instants they happened; and the P1 behind the status page's worst incident, with its
//! post-incident report written by the TAM, approved by the support lead and published.
//! The quarterly review, the console's closed tickets, the uptime bars and the reports
//! list then have something to show.

use crate::AppState;
use jiff::{SignedDuration, Timestamp};
use stringer_app::postmortem::StepRequest;
use stringer_app::status::{ComponentRecord, NewIncident, NewUpdate, StatusDesk};
use stringer_app::{AppError, Extras, StoreError, TicketDetails};
use stringer_core::event::{Event, EventKind};
use stringer_core::ids::{Intake, OrgSlug, Severity, TicketId, UserId};
use stringer_core::postmortem::{self, ActionItem, ItemState, Sections};
use stringer_core::review::Quarter;
use stringer_core::status::{ComponentStatus, Impact, IncidentStatus, MaintenanceStatus, Phase};

/// Tickets per org and quarter.
const PER_QUARTER: u64 = 24;

const SUBJECTS: [&str; 16] = [
    "Checkout API answers 502 for some EU customers",
    "Webhook deliveries arrive out of order",
    "Dashboard export drops the last row",
    "SSO login loops back to the sign-in page",
    "Search results miss documents added today",
    "Nightly sync job stalls at 80 %",
    "Rate limit headers missing on bulk endpoint",
    "How do we rotate our API keys?",
    "Invoices PDF shows the wrong time zone",
    "Mobile SDK crashes on Android 15 at launch",
    "Audit log export times out for a year of data",
    "Latency spikes on the EU read replicas",
    "Request to raise the attachment size limit",
    "Password reset mails land in spam",
    "Scheduled reports not sent on Mondays",
    "GraphQL schema change broke our client",
];

/// A small deterministic generator (xorshift64*), so the demo is the same on every machine.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A whole number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Seeds the previous quarter and the current one up to two days ago for `orgs`, as
/// (org, requester) pairs, worked by `engineers`.
pub async fn seed(state: &AppState, orgs: &[(&str, UserId)], engineers: &[UserId]) -> Result<usize, StoreError> {
    let now = state.now();
    let current = Quarter::of(now);
    let mut dice = Dice(0x5EED_DE11_0000_0001);
    let mut made = 0;
    for quarter in [current.previous(), current] {
        let start = quarter.start().as_second();
        let end = quarter.end().min(now - SignedDuration::from_hours(48)).as_second();
        if end <= start {
            continue;
        }
        for (org, requester) in orgs {
            for _ in 0..PER_QUARTER {
                let opened = Timestamp::from_second(start + dice.below((end - start) as u64) as i64)
                    .map_err(|e| StoreError::Backend(e.to_string()))?;
                let severity = match dice.below(20) {
                    0 => "P1",
                    1..=4 => "P2",
                    5..=13 => "P3",
                    _ => "P4",
                };
                // Most acknowledgements come well within the hour; one in eight takes most of a day.
                let ack_minutes = if dice.below(8) == 0 { 60 * (4 + dice.below(20)) } else { 3 + dice.below(50) };
                let resolve_minutes = ack_minutes + 30 + dice.below(60 * 48);
                let engineer = engineers[dice.below(engineers.len() as u64) as usize].clone();
                let intake = [Intake::Portal, Intake::Email, Intake::Slack, Intake::Phone][dice.below(4) as usize];
                let subject = SUBJECTS[dice.below(SUBJECTS.len() as u64) as usize];
                let id = TicketId(state.new_id("tkt"));
                let at = |minutes: u64| opened + SignedDuration::from_mins(minutes as i64);
                let events = vec![
                    Event::new(
                        opened,
                        id.clone(),
                        EventKind::Opened {
                            org: OrgSlug::from(*org),
                            severity: Severity::from(severity),
                            intake: Some(intake),
                            security: false,
                        },
                    ),
                    Event::new(at(ack_minutes), id.clone(), EventKind::Acknowledged { by: engineer.to_string() }),
                    Event::new(at(resolve_minutes).min(now), id.clone(), EventKind::Resolved { by_customer: false }),
                ];
                let extras = Extras {
                    actor: Some(engineer),
                    details: Some(TicketDetails {
                        subject: subject.into(),
                        description: format!("{subject}. (demo history)"),
                        requester: Some(requester.clone()),
                    }),
                    comment: None,
                    applies: None,
                };
                state.record(events, extras).await.map_err(|e| StoreError::Backend(e.to_string()))?;
                made += 1;
            }
        }
    }
    Ok(made)
}

const DAY: i64 = 86_400;
const MINUTE: i64 = 60;

fn store(e: AppError) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// One past incident: when (days ago, minute of that day in UTC), what, which components
/// at which status, and its updates (minutes after the start, phase, words).
struct Past {
    days_ago: i64,
    at_minute: i64,
    name: &'static str,
    impact: Impact,
    hit: &'static [(usize, ComponentStatus)],
    updates: &'static [(i64, IncidentStatus, &'static str)],
}

const COMPONENTS: [&str; 5] = ["API", "Dashboard", "Webhooks", "Email delivery", "Search"];

const PAST: [Past; 3] = [
    Past {
        days_ago: 63,
        at_minute: 14 * 60 + 10,
        name: "Elevated API error rates",
        impact: Impact::Major,
        hit: &[(0, ComponentStatus::PartialOutage)],
        updates: &[
            (0, IncidentStatus::Investigating, "We are investigating elevated 5xx rates on the API."),
            (25, IncidentStatus::Identified, "A bad configuration push to the EU load balancers; rolling back."),
            (50, IncidentStatus::Monitoring, "The rollback is complete; error rates are back to normal."),
            (95, IncidentStatus::Resolved, "Resolved. A post-incident report follows within 5 business days."),
        ],
    },
    Past {
        days_ago: 41,
        at_minute: 9 * 60 + 30,
        name: "Webhook deliveries delayed",
        impact: Impact::Minor,
        hit: &[(2, ComponentStatus::DegradedPerformance)],
        updates: &[
            (0, IncidentStatus::Investigating, "Webhook deliveries are delayed by up to 20 minutes."),
            (70, IncidentStatus::Monitoring, "The backlog is draining after adding workers."),
            (180, IncidentStatus::Resolved, "All delayed webhooks have been delivered."),
        ],
    },
    Past {
        days_ago: 12,
        at_minute: 7 * 60 + 45,
        name: "Dashboard unavailable for some EU users",
        impact: Impact::Major,
        hit: &[(1, ComponentStatus::MajorOutage)],
        updates: &[
            (0, IncidentStatus::Investigating, "Some EU users cannot load the dashboard."),
            (20, IncidentStatus::Identified, "An expired certificate on one CDN edge; replacing it."),
            (40, IncidentStatus::Resolved, "The certificate was replaced; the dashboard loads everywhere."),
        ],
    },
];

/// Seeds the public status page's last 90 days (see the module documentation).
pub async fn seed_status(state: &AppState) -> Result<(), StoreError> {
    let desk = StatusDesk { pages: state.ports.status.clone() };
    let now = state.now().as_second();
    let today = now - now.rem_euclid(DAY);
    let began = today - 91 * DAY;
    let page = desk.platform_page(&state.contract().name, began).await.map_err(store)?;
    let mut ids = Vec::new();
    for (position, name) in COMPONENTS.into_iter().enumerate() {
        let component = ComponentRecord {
            id: state.new_id("stc"),
            page_id: page.id.clone(),
            group_id: None,
            name: name.into(),
            description: None,
            position: position as i64,
            group: false,
            only_show_if_degraded: false,
            showcase: true,
            status: ComponentStatus::Operational,
            alert_key: None,
            created_at: began,
            updated_at: began,
        };
        ids.push(desk.add_component(&page, component, began).await.map_err(store)?.id);
    }
    // A maintenance 27 days ago, announced three days before; and one a week ahead.
    let maintenance = |from: i64, until: i64, name: &str| NewIncident {
        id: state.new_id("sti"),
        update_id: state.new_id("stu"),
        name: name.into(),
        phase: Phase::Maintenance(MaintenanceStatus::Scheduled),
        impact: Impact::None,
        body: "The API and webhooks may answer slowly for a few minutes during the window.".into(),
        components: vec![
            (ids[0].clone(), Some(ComponentStatus::UnderMaintenance)),
            (ids[2].clone(), Some(ComponentStatus::UnderMaintenance)),
        ],
        window: Some((from, until)),
        ticket: None,
    };
    let step = |phase, body: &str| NewUpdate {
        id: state.new_id("stu"),
        phase: Phase::Maintenance(phase),
        body: body.into(),
        components: Vec::new(),
        impact: None,
    };
    let (from, until) = (today - 27 * DAY + 2 * 60 * MINUTE, today - 27 * DAY + 3 * 60 * MINUTE);
    let done = desk.open(&page, maintenance(from, until, "Database upgrade"), from - 3 * DAY).await.map_err(store)?;
    let mut events: Vec<(i64, Step)> = vec![
        (from, Step::Maintenance(done.id.clone(), MaintenanceStatus::InProgress, "The upgrade has begun.")),
        (until, Step::Maintenance(done.id.clone(), MaintenanceStatus::Completed, "The upgrade is complete.")),
    ];
    for past in &PAST {
        let start = today - past.days_ago * DAY + past.at_minute * MINUTE;
        events.push((start, Step::Open(past)));
    }
    events.sort_by_key(|(at, _)| *at);
    for (at, what) in events {
        match what {
            Step::Maintenance(id, phase, body) => {
                desk.update(&page, &id, step(phase, body), at).await.map_err(store)?;
            }
            Step::Open(past) => {
                let (first, rest) = past.updates.split_first().expect("every past incident has updates");
                let opened = NewIncident {
                    id: state.new_id("sti"),
                    update_id: state.new_id("stu"),
                    name: past.name.into(),
                    phase: Phase::Incident(first.1),
                    impact: past.impact,
                    body: first.2.into(),
                    components: past.hit.iter().map(|(i, s)| (ids[*i].clone(), Some(*s))).collect(),
                    window: None,
                    ticket: None,
                };
                let incident = desk.open(&page, opened, at).await.map_err(store)?;
                for (minutes, phase, body) in rest {
                    let over = *phase == IncidentStatus::Resolved;
                    let update = NewUpdate {
                        id: state.new_id("stu"),
                        phase: Phase::Incident(*phase),
                        body: (*body).into(),
                        components: if over {
                            past.hit.iter().map(|(i, _)| (ids[*i].clone(), ComponentStatus::Operational)).collect()
                        } else {
                            Vec::new()
                        },
                        impact: None,
                    };
                    desk.update(&page, &incident.id, update, at + minutes * MINUTE).await.map_err(store)?;
                }
            }
        }
    }
    let (from, until) = (today + 6 * DAY + 2 * 60 * MINUTE, today + 6 * DAY + 4 * 60 * MINUTE);
    desk.open(&page, maintenance(from, until, "API gateway upgrade"), now).await.map_err(store)?;
    Ok(())
}

/// What happens at an instant of the status page's past.
enum Step {
    Maintenance(String, MaintenanceStatus, &'static str),
    Open(&'static Past),
}

/// The P1 at `org` behind the status page's first past incident (same instant), worked in
/// minutes, and its post-incident report: written by `tam`, approved and published by
/// `lead`, with an action item owned by `engineer`.
pub async fn seed_report(
    state: &AppState,
    (org, requester): (&str, UserId),
    engineer: UserId,
    tam: UserId,
    lead: UserId,
) -> Result<(), StoreError> {
    let now = state.now().as_second();
    let today = now - now.rem_euclid(DAY);
    let story = &PAST[0];
    let opened = Timestamp::from_second(today - story.days_ago * DAY + story.at_minute * MINUTE)
        .map_err(|e| StoreError::Backend(e.to_string()))?;
    let id = TicketId(state.new_id("tkt"));
    let at = |minutes: i64| opened + SignedDuration::from_mins(minutes);
    let events = vec![
        Event::new(
            opened,
            id.clone(),
            EventKind::Opened {
                org: OrgSlug::from(org),
                severity: Severity::from("P1"),
                intake: Some(Intake::Phone),
                security: false,
            },
        ),
        Event::new(at(4), id.clone(), EventKind::Acknowledged { by: engineer.to_string() }),
        Event::new(at(95), id.clone(), EventKind::Resolved { by_customer: false }),
    ];
    let extras = Extras {
        actor: Some(engineer.clone()),
        details: Some(TicketDetails {
            subject: "Checkout API answers 502 for EU customers".into(),
            description: "Since 14:05 UTC most EU checkout calls fail with 502 Bad Gateway.".into(),
            requester: Some(requester),
        }),
        comment: None,
        applies: None,
    };
    state.record(events, extras).await.map_err(|e| StoreError::Backend(e.to_string()))?;
    let (ticket, _) = state.ports.queries.ticket(&id).await?.ok_or_else(|| StoreError::Backend("lost".into()))?;
    let reports = state.reports();
    let report = |e: stringer_app::postmortem::ReportError| StoreError::Backend(e.to_string());
    let draft = reports.start(&ticket, now).await.map_err(report)?;
    let sections = Sections {
        summary: "For 95 minutes most EU calls to the checkout API failed with 502.".into(),
        impact: "About 60 % of EU checkout requests failed between 14:10 and 15:45 UTC; US traffic was not affected."
            .into(),
        root_cause: "A configuration push removed the connection limit of the EU load balancer pool, which then \
                     exhausted the upstream connections."
            .into(),
        resolution: "The configuration was rolled back at 14:35 UTC; error rates were normal by 15:00 UTC.".into(),
        remediation: "Connection limits are now checked in CI before any load balancer change.".into(),
        lessons: "A configuration change is a deploy: it needs the same canary.".into(),
        action_items: vec![ActionItem {
            what: "Check load balancer limits in CI".into(),
            owner: engineer.to_string(),
            due: Some(opened.to_zoned(jiff::tz::TimeZone::UTC).date() + jiff::Span::new().days(14)),
            state: ItemState::Done,
        }],
        timeline_edits: Vec::new(),
    };
    let step = |step, revision, sections| StepRequest { step, revision, sections, comment: None };
    let submitted = reports
        .step(&ticket, &tam, step(postmortem::Step::Submit, draft.record.revision, Some(sections)))
        .await
        .map_err(report)?;
    let approved = reports
        .step(&ticket, &lead, step(postmortem::Step::Approve, submitted.record.revision, None))
        .await
        .map_err(report)?;
    reports
        .step(&ticket, &lead, step(postmortem::Step::Publish, approved.record.revision, None))
        .await
        .map_err(report)?;
    Ok(())
}
